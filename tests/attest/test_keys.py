"""Market keys and keyrings: rotation keeps old keys listed with their periods."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from bonafide.attest.keys import (
    Keyring,
    KeyringError,
    SigningKey,
    format_time,
    key_id_of,
    new_keyring,
    parse_time,
    signature_valid,
)

T0 = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


def test_a_signing_key_signs_and_its_public_key_verifies() -> None:
    k = key(1)
    signature = k.sign(b"hello")
    assert signature_valid(public_key=k.public_key, message=b"hello", signature=signature)
    assert not signature_valid(public_key=k.public_key, message=b"hellO", signature=signature)
    assert not signature_valid(public_key=key(2).public_key, message=b"hello",
                               signature=signature)
    assert not signature_valid(public_key=k.public_key, message=b"hello", signature=b"short")
    assert k.key_id == key_id_of(k.public_key) and len(k.key_id) == 24


def test_the_seed_never_appears_in_a_repr() -> None:
    assert bytes([1]).hex() * 4 not in repr(key(1))
    assert "SigningKey(key_id=" in repr(key(1))


def test_rotation_retires_the_current_key_and_lists_both() -> None:
    ring = new_keyring(issuer_id="mkt_a", name="A", public_key=key(1).public_key, now=T0)
    later = T0 + timedelta(days=30)
    rotated = ring.rotate(key(2).public_key, now=later)
    old, new = rotated.keys
    assert old.key_id == key(1).key_id and new.key_id == key(2).key_id
    assert old.valid_from == T0.replace(microsecond=0)
    assert old.valid_until == new.valid_from == later.replace(microsecond=0)
    assert rotated.current() == new and new.valid_until is None
    assert old.covers(T0 + timedelta(days=1)) and not old.covers(later)
    assert new.covers(later) and not new.covers(later - timedelta(seconds=1))


def test_rotation_refuses_a_listed_key_and_a_second_rotation_in_the_same_second() -> None:
    ring = new_keyring(issuer_id="mkt_a", name="A", public_key=key(1).public_key, now=T0)
    with pytest.raises(KeyringError, match="key_already_listed"):
        ring.rotate(key(1).public_key, now=T0 + timedelta(days=1))
    with pytest.raises(KeyringError, match="rotation_too_soon"):
        ring.rotate(key(2).public_key, now=T0)


def test_the_keyring_document_round_trips() -> None:
    ring = new_keyring(issuer_id="mkt_a", name="A market", public_key=key(1).public_key, now=T0)
    ring = ring.rotate(key(2).public_key, now=T0 + timedelta(days=1))
    document = ring.to_document()
    assert document["market_id"] == "mkt_a" and document["type"] == "bonafide.keyring"
    assert document["keys"][0]["valid_until"] == "2026-01-02T12:00:00Z"
    assert Keyring.from_document(document) == ring


def test_a_verifier_keyring_uses_verifier_id() -> None:
    ring = new_keyring(issuer_id="lab.example", name="Lab", public_key=key(3).public_key, now=T0,
                       kind="verifier")
    document = ring.to_document()
    assert "verifier_id" in document and "market_id" not in document
    assert Keyring.from_document(document).kind == "verifier"


def _mangle(path: str, value: object) -> dict[str, object]:
    ring = new_keyring(issuer_id="mkt_a", name="A", public_key=key(1).public_key, now=T0)
    document = copy.deepcopy(ring.to_document())
    target: dict[str, object] = document
    *parents, last = path.split(".")
    for part in parents:
        target = target[part] if not part.isdigit() else target[int(part)]  # type: ignore
    target[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("keys.0.key_id", "0" * 24, "key_id_mismatch"),
        ("keys.0.public_key", "AAAA", "public_key_unreadable"),
        ("keys.0.public_key", "not base64!", "public_key_unreadable"),
        ("keys.0.valid_from", "2026-01-01 12:00:00", "time_unreadable"),
        ("keys.0.valid_until", "2025-01-01T00:00:00Z", "key_period_empty"),
        ("version", 2, "keyring_version_unsupported"),
        ("keys", [], "keyring_invalid"),
        ("market_id", "has spaces", "keyring_invalid"),
        ("verifier_id", "x", "keyring_invalid"),
        ("extra", 1, "keyring_invalid"),
    ],
)
def test_a_malformed_keyring_is_refused_with_a_named_reason(
    path: str, value: object, reason: str
) -> None:
    with pytest.raises(KeyringError) as caught:
        Keyring.from_document(_mangle(path, value))
    assert caught.value.reason == reason


def test_times_are_whole_seconds_in_utc() -> None:
    assert format_time(T0) == "2026-01-01T12:00:00Z"
    assert parse_time("2026-01-01T12:00:00Z") == T0.replace(microsecond=0)
    for bad in ("2026-02-30T00:00:00Z", "2026-01-01T12:00:00+00:00", 1767268800):
        with pytest.raises(KeyringError, match="time_unreadable"):
            parse_time(bad)
