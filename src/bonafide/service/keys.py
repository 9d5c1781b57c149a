"""The market's signing key and keyring, kept in two files beside each other.

Owns: generating the key on first use, reading it back, rotating it, and the keyring document
served at ``/.well-known/bonafide-market.json``. Imports: ``bonafide.attest``, ``bonafide.ids``,
``bonafide.settings`` and ``bonafide.errors``; the standard library for file I/O. No database.

Files (``settings.key_path``, by default ``var/market.key``):

``market.key``
    ``{"algorithm": "ed25519", "key_id": ..., "seed": "<base64 of 32 bytes>"}``, created with
    owner-only permissions (0600) and refused if anyone else may read it (as ssh does).
``market.keyring.json``
    The public keyring document: the market id and name, the current key and every retired key
    with its validity period. It is what ``/.well-known/bonafide-market.json`` serves.

Rotation writes a new key file and a new keyring; the retired private key is not kept, so a
leaked old key file cannot sign documents claiming a time after its retirement (``key_expired``).
Writers take an exclusive ``flock`` on ``market.key.lock``, so two processes starting at once make
one key, not two; every file is replaced by an atomic rename.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bonafide.attest.keys import (
    SEED_BYTES,
    IssuerKind,
    Keyring,
    KeyringError,
    SigningKey,
    b64decode,
    b64encode,
    new_keyring,
)
from bonafide.errors import Conflict, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.settings import Settings

KEY_FILE_MODE = 0o600
KEY_FILE_BYTES_MAX = 4_096
KEYRING_FILE_BYTES_MAX = 256 * 1024


@dataclass(frozen=True, slots=True, repr=False)
class MarketIdentity:
    """Who this market is when it signs: its keyring and the private key of its current key."""

    keyring: Keyring
    signing_key: SigningKey

    @property
    def market_id(self) -> str:
        return self.keyring.issuer_id

    @property
    def name(self) -> str:
        return self.keyring.name

    def __repr__(self) -> str:
        return f"MarketIdentity({self.market_id!r}, key_id={self.signing_key.key_id!r})"


def keyring_path(settings: Settings) -> Path:
    return settings.key_path.with_name(settings.key_path.stem + ".keyring.json")


def _lock_path(settings: Settings) -> Path:
    return settings.key_path.with_name(settings.key_path.name + ".lock")


@contextmanager
def _exclusive(settings: Settings) -> Iterator[None]:
    path = _lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, KEY_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(temporary, mode)  # the umask may have narrowed or (for 0644) not applied
    os.replace(temporary, path)


def _read_limited(path: Path, limit: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Rejected("key_file_too_large", f"{path} is larger than {limit} bytes")
    return data


def _read_key(path: Path) -> SigningKey:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise Rejected(
            "key_file_permissions_too_open",
            f"{path} may be read by others (mode {stat.S_IMODE(mode):o}); chmod 600 it",
        )
    try:
        data: Any = json.loads(_read_limited(path, KEY_FILE_BYTES_MAX))
        if not isinstance(data, dict) or data.get("algorithm") != "ed25519":
            raise ValueError("not an ed25519 key file")
        key = SigningKey(b64decode(data.get("seed"), length=SEED_BYTES, what="seed"))
    except (ValueError, KeyringError) as error:
        raise Rejected("key_file_unreadable", f"{path}: {error}") from None
    if data.get("key_id") != key.key_id:
        raise Rejected("key_file_unreadable", f"{path}: key_id does not match the seed")
    return key


def _key_file_bytes(key: SigningKey) -> bytes:
    body = {"algorithm": "ed25519", "key_id": key.key_id, "seed": b64encode(key.seed)}
    return (json.dumps(body, indent=2) + "\n").encode()


def _keyring_file_bytes(keyring: Keyring) -> bytes:
    return (json.dumps(keyring.to_document(), indent=2, ensure_ascii=False) + "\n").encode()


def _read_keyring(path: Path) -> Keyring:
    try:
        return Keyring.from_document(json.loads(_read_limited(path, KEYRING_FILE_BYTES_MAX)))
    except (ValueError, KeyringError) as error:
        raise Rejected("keyring_file_unreadable", f"{path}: {error}") from None


def _check_pair(settings: Settings, keyring: Keyring, key: SigningKey) -> MarketIdentity:
    current = keyring.current()
    if current is None or current.key_id != key.key_id:
        raise Conflict(
            "market_key_mismatch",
            f"{settings.key_path} holds key {key.key_id}, but the keyring's current key is "
            f"{None if current is None else current.key_id}",
        )
    if settings.market_id and settings.market_id != keyring.issuer_id:
        raise Conflict(
            "market_id_mismatch",
            f"BONAFIDE_MARKET_ID is {settings.market_id!r} but the keyring belongs to "
            f"{keyring.issuer_id!r}",
        )
    return MarketIdentity(keyring, key)


def load(settings: Settings) -> MarketIdentity:
    """The market's identity from its files; ``NotFound(market_key_missing)`` if there is none."""
    path = settings.key_path
    if not path.exists():
        raise NotFound("market_key_missing", f"no market key at {path}; run `bonafide keys init`")
    ring_path = keyring_path(settings)
    if not ring_path.exists():
        raise NotFound("market_keyring_missing", f"{path} has no keyring beside it ({ring_path})")
    return _check_pair(settings, _read_keyring(ring_path), _read_key(path))


def load_or_create(
    settings: Settings, *, now: datetime, kind: IssuerKind = "market"
) -> MarketIdentity:
    """The market's identity, generating the key and keyring on first use.

    ``kind="verifier"`` makes a third-party verifier's keyring instead (``bonafide attest
    verifier-init``: a lab signing claim verifications keeps its key the same way).
    """
    if settings.key_path.exists():
        return load(settings)
    with _exclusive(settings):
        if settings.key_path.exists():  # another process made it while we waited
            return load(settings)
        key = SigningKey(secrets.token_bytes(SEED_BYTES))
        market_id = settings.market_id or new_id("mkt", now=now)
        keyring = new_keyring(
            issuer_id=market_id, name=settings.market_name, public_key=key.public_key, now=now,
            kind=kind,
        )
        # Keyring first: a key file without its keyring would be refused on the next start,
        # whereas a keyring without its key file is simply replaced by this branch.
        _write_atomically(keyring_path(settings), _keyring_file_bytes(keyring), mode=0o644)
        _write_atomically(settings.key_path, _key_file_bytes(key), mode=KEY_FILE_MODE)
        return MarketIdentity(keyring, key)


def rotate(settings: Settings, *, now: datetime) -> MarketIdentity:
    """Retire the current key now and make a fresh one current; old public keys stay listed."""
    with _exclusive(settings):
        old = load(settings)
        key = SigningKey(secrets.token_bytes(SEED_BYTES))
        try:
            keyring = old.keyring.rotate(key.public_key, now=now)
        except KeyringError as error:
            raise Conflict(error.reason, error.detail) from None
        # The new key file goes first: a crash between the two renames leaves a key that the
        # keyring does not list as current, which ``load`` refuses loudly (market_key_mismatch)
        # rather than signing with a retired key.
        _write_atomically(settings.key_path, _key_file_bytes(key), mode=KEY_FILE_MODE)
        _write_atomically(keyring_path(settings), _keyring_file_bytes(keyring), mode=0o644)
        return MarketIdentity(keyring, key)


def well_known(settings: Settings, *, now: datetime) -> dict[str, Any]:
    """The document served at ``/.well-known/bonafide-market.json``."""
    return load_or_create(settings, now=now).keyring.to_document()
