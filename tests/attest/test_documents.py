"""Signed attestations: tampered, truncated, re-ordered or re-signed documents fail, by name."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bonafide.attest.canonical import dumps, loads
from bonafide.attest.documents import (
    CLAIM_VERIFICATION,
    LIFETIME_MAX,
    SELLER_REPUTATION,
    CurrencyRoot,
    Reason,
    SchemaError,
    check_payload,
    claim_verification_payload,
    liabilities_root_payload,
    read_roots,
    seller_reputation_payload,
    sign_document,
    verify_document,
)
from bonafide.attest.keys import Keyring, SigningKey, b64encode, new_keyring

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEY_A = SigningKey(b"\x01" * 32)
KEY_A2 = SigningKey(b"\x02" * 32)
KEY_B = SigningKey(b"\x03" * 32)
KEY_LAB = SigningKey(b"\x04" * 32)
RING_A = new_keyring(issuer_id="mkt_a", name="Market A", public_key=KEY_A.public_key,
                     now=T0 - timedelta(days=365))
RING_B = new_keyring(issuer_id="mkt_b", name="Market B", public_key=KEY_B.public_key,
                     now=T0 - timedelta(days=365))
RING_LAB = new_keyring(issuer_id="lab.example", name="Example Lab",
                       public_key=KEY_LAB.public_key, now=T0 - timedelta(days=365),
                       kind="verifier")
ALL = [RING_A, RING_B, RING_LAB]


def reputation(issued_at: datetime = T0, *, days: int = 90, issuer: str = "mkt_a") -> dict:
    return seller_reputation_payload(
        issuer_id=issuer, issuer_name="Market A", attestation_id="att_1", seller_id="acc_seller",
        handle="honest_hana", period_from=issued_at - timedelta(days=365),
        period_until=issued_at, verified_orders=120, disputes=3, refunds=5, score_bp=9_340,
        verified_reviews=88, method="baseline", issued_at=issued_at,
        expires_at=issued_at + timedelta(days=days),
    )


def claim() -> dict:
    return claim_verification_payload(
        issuer_id="lab.example", issuer_name="Example Lab", attestation_id="lab_77",
        market_id="mkt_a", listing_id="lst_1", claim="Contains at least 99% pure olive oil",
        evidence_sha256="ab" * 32, evidence_description="GC-MS report 2026-118",
        verdict="confirmed", issued_at=T0, expires_at=T0 + timedelta(days=180),
    )


def verify(data: bytes, *, now: datetime = T0 + timedelta(days=1), rings=ALL, **kw):  # type: ignore
    return verify_document(data, keyrings=rings, now=now, **kw)


def test_a_signed_reputation_summary_verifies_offline() -> None:
    data = sign_document(reputation(), key=KEY_A)
    result = verify(data)
    assert result.ok, result
    assert result.payload is not None and result.payload["subject"]["seller_id"] == "acc_seller"
    assert result.payload["dispute_rate_bp"] == 250 and result.payload["refund_rate_bp"] == 416
    assert result.key is not None and result.key.key_id == KEY_A.key_id
    assert verify(data + b"\n").ok, "one trailing newline is tolerated"


def test_a_third_party_claim_verification_verifies_against_the_labs_keyring() -> None:
    result = verify(sign_document(claim(), key=KEY_LAB), expected_type=CLAIM_VERIFICATION)
    assert result.ok and result.issuer is not None and result.issuer.kind == "verifier"


def test_a_document_of_another_type_is_refused_when_a_type_is_expected() -> None:
    result = verify(sign_document(claim(), key=KEY_LAB), expected_type=SELLER_REPUTATION)
    assert result.reason is Reason.document_type_unexpected


def test_a_changed_field_breaks_the_signature() -> None:
    document = loads(sign_document(reputation(), key=KEY_A))
    assert isinstance(document, dict)
    document["payload"]["verified_orders"] = 1200
    assert verify(dumps(document)).reason is Reason.signature_invalid


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_changed_byte_fails_with_a_named_reason(data: st.DataObject) -> None:
    signed = sign_document(reputation(), key=KEY_A)
    at = data.draw(st.integers(0, len(signed) - 1))
    new_byte = data.draw(st.integers(0, 255).filter(lambda b: b != signed[at]))
    tampered = signed[:at] + bytes([new_byte]) + signed[at + 1:]
    result = verify(tampered)
    assert not result.ok
    assert result.reason in set(Reason) - {Reason.ok}


def test_every_truncation_reports_document_truncated() -> None:
    signed = sign_document(reputation(), key=KEY_A)
    for cut in range(0, len(signed), 7):
        assert verify(signed[:cut]).reason is Reason.document_truncated, cut


def test_reordered_or_reindented_documents_are_not_canonical() -> None:
    signed = sign_document(reputation(), key=KEY_A)
    value = json.loads(signed)
    reordered = json.dumps(
        {"signature": value["signature"],
         "payload": dict(reversed(list(value["payload"].items())))},
        separators=(",", ":"), ensure_ascii=False,
    ).encode()
    assert loads(reordered) == loads(signed), "same meaning"
    assert verify(reordered).reason is Reason.document_not_canonical
    pretty = json.dumps(value, indent=2, sort_keys=True).encode()
    assert verify(pretty).reason is Reason.document_not_canonical


def test_a_document_resigned_with_a_key_the_verifier_does_not_know_is_refused() -> None:
    payload = reputation()
    payload["score"]["value_bp"] = 10_000
    forged = sign_document(payload, key=SigningKey(b"\x09" * 32))
    assert verify(forged).reason is Reason.key_unknown


def test_a_document_resigned_with_another_key_but_the_real_key_id_is_refused() -> None:
    payload = reputation()
    payload["verified_orders"] = 999
    forged = loads(sign_document(payload, key=KEY_B))
    assert isinstance(forged, dict)
    forged["signature"]["key_id"] = KEY_A.key_id
    assert verify(dumps(forged)).reason is Reason.signature_invalid


def test_a_document_signed_by_another_market_in_this_ones_name_is_refused() -> None:
    forged = sign_document(reputation(), key=KEY_B)  # issuer says mkt_a, key is mkt_b's
    assert verify(forged).reason is Reason.issuer_mismatch


def test_an_unknown_issuer_is_refused() -> None:
    assert verify(sign_document(reputation(), key=KEY_A), rings=[RING_B]).reason is (
        Reason.key_unknown
    )


def test_expiry_and_key_periods_are_enforced() -> None:
    signed = sign_document(reputation(days=30), key=KEY_A)
    assert verify(signed, now=T0 + timedelta(days=30)).reason is Reason.attestation_expired
    assert verify(signed, now=T0 - timedelta(hours=1)).reason is (
        Reason.attestation_not_yet_valid
    )
    rotated = RING_A.rotate(KEY_A2.public_key, now=T0 - timedelta(days=10))
    # Signed with the retired key after its retirement: refused.
    assert verify(signed, rings=[rotated]).reason is Reason.key_expired
    # Signed with the retired key before its retirement: still good after the rotation.
    old = sign_document(reputation(T0 - timedelta(days=20)), key=KEY_A)
    assert verify(old, rings=[rotated], now=T0).ok
    # Signed with the new key at a time before its period began: refused.
    early = sign_document(reputation(T0 - timedelta(days=20)), key=KEY_A2)
    assert verify(early, rings=[rotated], now=T0).reason is Reason.key_not_yet_valid


def test_an_attestation_claiming_too_long_a_life_is_refused() -> None:
    signed = sign_document(reputation(days=LIFETIME_MAX.days + 1), key=KEY_A)
    assert verify(signed).reason is Reason.attestation_lifetime_too_long


def test_floats_and_schema_breaks_are_named() -> None:
    signed = sign_document(reputation(), key=KEY_A).decode()
    with_float = signed.replace('"verified_orders":120', '"verified_orders":120.0').encode()
    assert verify(with_float).reason is Reason.document_has_float
    assert verify(b"[1,2]").reason is Reason.document_schema_invalid
    assert verify(b'{"payload":{}}').reason is Reason.document_schema_invalid
    document = loads(signed.encode())
    assert isinstance(document, dict)
    document["signature"]["algorithm"] = "rsa"
    assert verify(dumps(document)).reason is Reason.algorithm_unsupported
    document["signature"]["algorithm"] = "ed25519"
    document["signature"]["value"] = b64encode(b"x" * 63)
    assert verify(dumps(document)).reason is Reason.signature_invalid
    assert verify(b"\xff\xfe").reason is Reason.document_malformed
    assert verify(b"{" * 2_000_000).reason is Reason.document_too_large


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(disputes=500), "disputes and refunds"),
        (lambda p: p.update(dispute_rate_bp=10_001), "dispute_rate_bp"),
        (lambda p: p["score"].update(value_bp=-1), "score.value_bp"),
        (lambda p: p.update(expires_at=p["issued_at"]), "expires_at"),
        (lambda p: p.update(version=2), "version"),
        (lambda p: p.update(type={"not": "hashable"}), "type is one of"),
        (lambda p: p.update(issuer=[1]), "issuer is an object"),
        (lambda p: p.update(extra=1), "exactly the fields"),
        (lambda p: p["issuer"].update(id=""), "issuer"),
        (lambda p: p.update(audience={"market_id": "m"}), "audience"),
        (lambda p: p["score"].update(method=""), "score.method"),
    ],
)
def test_payload_shapes_are_checked_when_building(change, message: str) -> None:  # type: ignore
    payload = reputation()
    change(payload)
    with pytest.raises(SchemaError, match=message):
        check_payload(payload)


def test_a_liabilities_root_has_no_expiry_and_reads_back() -> None:
    payload = liabilities_root_payload(
        issuer_id="mkt_a", issuer_name="Market A", snapshot_id="snp_1",
        accounts=["wallet", "escrow"], tree="bonafide.merkle_sum_sha256/1",
        roots=[CurrencyRoot("USD", "cd" * 32, 5, 1), CurrencyRoot("EUR", "ab" * 32, 1700, 3)],
        ledger_heads=[(0, 40, "ef" * 32), (1, 2, "ab" * 32)], issued_at=T0,
    )
    signed = sign_document(payload, key=KEY_A)
    result = verify(signed, now=T0 + timedelta(days=3_000))
    assert result.ok and result.payload is not None
    assert [r["currency"] for r in result.payload["roots"]] == ["EUR", "USD"]
    assert read_roots(result.payload)["EUR"] == CurrencyRoot("EUR", "ab" * 32, 1700, 3)


def test_keyrings_from_documents_verify_the_same() -> None:
    ring = Keyring.from_document(json.loads(json.dumps(RING_A.to_document())))
    assert verify(sign_document(reputation(), key=KEY_A), rings=[ring]).ok


def _reorder(value: object, rng: random.Random) -> object:
    if isinstance(value, dict):
        items = [(k, _reorder(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [_reorder(v, rng) for v in value]
    return value


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32))
def test_any_reordering_of_keys_fails_as_not_canonical(seed: int) -> None:
    signed = sign_document(reputation(), key=KEY_A)
    shuffled = json.dumps(_reorder(json.loads(signed), random.Random(seed)),
                          separators=(",", ":"), ensure_ascii=False).encode()
    result = verify(shuffled)
    assert result.ok == (shuffled == signed)
    if shuffled != signed:
        assert result.reason is Reason.document_not_canonical
