"""Ed25519 keys and keyrings: who may sign for an issuer, and during which period.

Owns: ``SigningKey`` (a private seed and what it signs), ``PublicKey`` (one listed key with its
validity period), ``Keyring`` (an issuer's current key and retired keys) and the keyring document
that a market serves at ``/.well-known/bonafide-market.json``. Imports: PyNaCl, the standard
library and ``bonafide.attest.canonical``. Pure: the random seed and the time are passed in.

The keyring document (a market's; a third-party verifier such as a lab publishes the same shape
with ``verifier_id`` in place of ``market_id``)::

    {
      "type": "bonafide.keyring",
      "version": 1,
      "market_id": "mkt_01jd...",
      "name": "Example market",
      "keys": [
        {"key_id": "4f1c...", "public_key": "<base64 of 32 bytes>",
         "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2026-06-01T00:00:00Z"},
        {"key_id": "9a0b...", "public_key": "...",
         "valid_from": "2026-06-01T00:00:00Z", "valid_until": null}
      ]
    }

A key is valid for signatures whose claimed time lies in ``[valid_from, valid_until)``; the key
with ``valid_until: null`` is the current one. Rotation ends the current key's period now and
starts the new key's, so documents signed before a rotation keep verifying afterwards.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import nacl.exceptions
import nacl.signing

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEYS_MAX = 64
"""Limit on the keys one keyring lists (each rotation adds one)."""

IssuerKind = Literal["market", "verifier"]
_ID_FIELD: dict[str, IssuerKind] = {"market_id": "market", "verifier_id": "verifier"}
_ISSUER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class KeyringError(ValueError):
    """A keyring document or key that does not follow the rules above; ``reason`` names which."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# --- time in documents ----------------------------------------------------------------------
def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC to the second, ``2026-11-29T14:19:03Z``; documents hold time this way."""
    assert moment.tzinfo is not None, "documents speak aware UTC datetimes"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime:
    """Read a time written by ``format_time``; anything else raises ``KeyringError``."""
    if not isinstance(text, str) or not _TIME.match(text):
        raise KeyringError("time_unreadable", f"{text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise KeyringError("time_unreadable", f"{text!r} is not a calendar time") from None


def truncate_to_second(moment: datetime) -> datetime:
    """``moment`` without its microseconds: what survives a trip through a document."""
    return moment.replace(microsecond=0)


# --- keys -----------------------------------------------------------------------------------
def key_id_of(public_key: bytes) -> str:
    """A key's id: the first 12 bytes of SHA-256 of its public key, in hex (24 characters)."""
    assert len(public_key) == PUBLIC_KEY_BYTES
    return hashlib.sha256(public_key).digest()[:12].hex()


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, *, length: int, what: str) -> bytes:
    """Strict base64 of exactly ``length`` bytes, else ``KeyringError(<what>_unreadable)``."""
    if not isinstance(text, str):
        raise KeyringError(f"{what}_unreadable", f"{text!r} is not a base64 string")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyringError(f"{what}_unreadable", f"{text[:40]!r} is not base64") from None
    if len(data) != length or b64encode(data) != text:
        raise KeyringError(f"{what}_unreadable", f"expected {length} bytes in canonical base64")
    return data


@dataclass(frozen=True, slots=True, repr=False)
class SigningKey:
    """A private Ed25519 key, from a 32-byte seed the caller drew from a secure random source."""

    seed: bytes

    def __post_init__(self) -> None:
        assert len(self.seed) == SEED_BYTES, "an Ed25519 seed is 32 bytes"

    @property
    def public_key(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.seed).verify_key)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The detached 64-byte signature of ``message``."""
        return nacl.signing.SigningKey(self.seed).sign(message).signature

    def __repr__(self) -> str:  # never print the seed
        return f"SigningKey(key_id={self.key_id!r})"


def signature_valid(*, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One key of a keyring; it signs documents claiming a time in ``[valid_from, valid_until)``."""

    key_id: str
    public_key: bytes
    valid_from: datetime
    valid_until: datetime | None

    def __post_init__(self) -> None:
        assert len(self.public_key) == PUBLIC_KEY_BYTES
        assert self.key_id == key_id_of(self.public_key), "a key id is derived from its key"
        assert self.valid_until is None or self.valid_from < self.valid_until

    def covers(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_until is None or moment < self.valid_until)

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "public_key": b64encode(self.public_key),
            "valid_from": format_time(self.valid_from),
            "valid_until": None if self.valid_until is None else format_time(self.valid_until),
        }

    @classmethod
    def from_json(cls, data: object) -> PublicKey:
        if not isinstance(data, dict) or set(data) != {
            "key_id", "public_key", "valid_from", "valid_until"
        }:
            raise KeyringError("key_entry_invalid", "a key is {key_id, public_key, valid_from, "
                               "valid_until}")
        public_key = b64decode(data["public_key"], length=PUBLIC_KEY_BYTES, what="public_key")
        if data["key_id"] != key_id_of(public_key):
            raise KeyringError("key_id_mismatch", f"{data['key_id']!r} is not this key's id")
        valid_from = parse_time(data["valid_from"])
        valid_until = None if data["valid_until"] is None else parse_time(data["valid_until"])
        if valid_until is not None and valid_until <= valid_from:
            raise KeyringError("key_period_empty", f"key {data['key_id']} ends before it starts")
        return cls(data["key_id"], public_key, valid_from, valid_until)


@dataclass(frozen=True, slots=True)
class Keyring:
    """An issuer's keys: at most one current (``valid_until`` None), the rest retired."""

    issuer_id: str
    name: str
    keys: tuple[PublicKey, ...]
    kind: IssuerKind = "market"

    def __post_init__(self) -> None:
        assert _ISSUER_ID.match(self.issuer_id), f"issuer id {self.issuer_id!r}"
        assert len({k.key_id for k in self.keys}) == len(self.keys), "key ids are unique"
        assert sum(k.valid_until is None for k in self.keys) <= 1, "one current key at most"

    def find(self, key_id: str) -> PublicKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def current(self) -> PublicKey | None:
        return next((k for k in self.keys if k.valid_until is None), None)

    def rotate(self, new_public_key: bytes, *, now: datetime) -> Keyring:
        """Retire the current key at ``now`` (to the second) and make ``new_public_key`` current.

        Raises ``KeyringError(key_already_listed)`` for a key the ring already holds, and
        ``KeyringError(keyring_full)`` past ``KEYS_MAX`` keys.
        """
        moment = truncate_to_second(now)
        new_id = key_id_of(new_public_key)
        if self.find(new_id) is not None:
            raise KeyringError("key_already_listed", f"key {new_id} is already in the keyring")
        if len(self.keys) >= KEYS_MAX:
            raise KeyringError("keyring_full", f"a keyring lists at most {KEYS_MAX} keys")
        kept = []
        for key in self.keys:
            if key.valid_until is None:
                if key.valid_from >= moment:
                    raise KeyringError("rotation_too_soon", "the current key began this second")
                key = replace(key, valid_until=moment)
            kept.append(key)
        kept.append(PublicKey(new_id, new_public_key, moment, None))
        return replace(self, keys=tuple(kept))

    def to_document(self) -> dict[str, Any]:
        """The keyring document (``/.well-known/bonafide-market.json`` for a market)."""
        id_field = "market_id" if self.kind == "market" else "verifier_id"
        return {
            "type": "bonafide.keyring",
            "version": 1,
            id_field: self.issuer_id,
            "name": self.name,
            "keys": [k.to_json() for k in self.keys],
        }

    @classmethod
    def from_document(cls, data: object) -> Keyring:
        """Read a keyring document, refusing anything outside its shape with ``KeyringError``."""
        if not isinstance(data, dict):
            raise KeyringError("keyring_invalid", "a keyring document is a JSON object")
        id_fields = [f for f in _ID_FIELD if f in data]
        expected = {"type", "version", "name", "keys", *id_fields}
        if len(id_fields) != 1 or set(data) != expected:
            raise KeyringError(
                "keyring_invalid",
                "a keyring is {type, version, market_id | verifier_id, name, keys}",
            )
        if data["type"] != "bonafide.keyring" or data["version"] != 1:
            raise KeyringError(
                "keyring_version_unsupported", f"{data['type']!r} v{data['version']!r}"
            )
        issuer_id, name, keys = data[id_fields[0]], data["name"], data["keys"]
        if not isinstance(issuer_id, str) or not _ISSUER_ID.match(issuer_id):
            raise KeyringError("keyring_invalid", f"issuer id {issuer_id!r} is not an id")
        if not isinstance(name, str) or not 0 < len(name) <= 200:
            raise KeyringError("keyring_invalid", "name is 1 to 200 characters")
        if not isinstance(keys, list) or not 0 < len(keys) <= KEYS_MAX:
            raise KeyringError("keyring_invalid", f"keys is a list of 1 to {KEYS_MAX} keys")
        parsed = tuple(PublicKey.from_json(k) for k in keys)
        if len({k.key_id for k in parsed}) != len(parsed):
            raise KeyringError("keyring_invalid", "a key is listed twice")
        if sum(k.valid_until is None for k in parsed) > 1:
            raise KeyringError("keyring_invalid", "more than one key is current")
        return cls(issuer_id, name, parsed, _ID_FIELD[id_fields[0]])


def new_keyring(
    *, issuer_id: str, name: str, public_key: bytes, now: datetime, kind: IssuerKind = "market"
) -> Keyring:
    """A keyring holding one current key, valid from ``now`` (to the second)."""
    key = PublicKey(key_id_of(public_key), public_key, truncate_to_second(now), None)
    return Keyring(issuer_id, name, (key,), kind)
