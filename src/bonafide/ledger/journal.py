"""The journal: append-only, hash-chained entries, one per transfer.

Owns: ``JournalEntry`` (the stored form of a transfer), its canonical bytes and hash, ``seal``
(which numbers and chains new transfers after a lane's head) and the conversions between
entries and ``Transfer``. Imports: the standard library and ``bonafide.ledger.model``.

Every entry has a ``sequence`` that orders the whole journal (an entry that depends on another,
through an account or a pending transfer, always has the larger one) and a place in one *lane*:
``lane_sequence`` numbers each lane 1, 2, 3, ... without gaps, and ``prev_hash`` is the hash of
the lane's previous entry (``GENESIS_HASH`` for its first). Several lanes let several
transactions commit at once while each lane stays a chain; with one lane (SQLite) it is the
classic single chain.

Each entry's ``hash`` is SHA-256 over the canonical bytes of its own fields, ``prev_hash``
included. Changing any stored field, or removing an entry, breaks its lane at that entry
(``bonafide.ledger.audit`` names it). Times are stored as integer microseconds since 1970 (UTC)
so that what is hashed is exactly what is stored, on every database.

Canonical bytes are compact JSON of the field list in the order of ``JournalEntry`` (without the
hash): JSON escapes every string unambiguously, and the C encoder is fast enough to verify a
million entries in a few seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from bonafide.ledger.model import (
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferState,
)
from bonafide.money import Money

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry of every lane."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_sha256 = hashlib.sha256


def to_micros(moment: datetime) -> int:
    assert moment.tzinfo is not None, "the journal stores aware UTC datetimes"
    return (moment - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class JournalEntry(NamedTuple):
    """One stored journal row, fields in canonical order (the row order of the journal table)."""

    sequence: int
    lane: int
    lane_sequence: int
    id: str
    kind: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    currency: str
    pending_id: str | None
    expires_at_us: int | None
    memo: str
    actor: str
    created_at_us: int
    prev_hash: str
    hash: str


_HASHED_FIELDS = 15  # every field of JournalEntry but the hash itself


def entry_hash(entry: Sequence[object]) -> str:
    """SHA-256 (hex) of the canonical bytes of ``entry``'s fields, ``prev_hash`` included.

    ``entry`` is a ``JournalEntry`` or any sequence with its fields in that order; the final
    ``hash`` field, when present, is left out.
    """
    # JSON writes a tuple as an array, the same bytes as a list.
    return _sha256(_encode(tuple(entry[:_HASHED_FIELDS])).encode()).hexdigest()


def seal(
    transfers: Sequence[Transfer],
    *,
    sequences: Sequence[int],
    lane: int,
    lane_sequence: int,
    lane_hash: str,
) -> tuple[list[JournalEntry], list[Transfer]]:
    """Chain ``transfers`` onto ``lane`` after its head (``lane_sequence``, ``lane_hash``),
    numbering them with ``sequences`` (ascending, one each); return entries and sequenced forms."""
    assert len(sequences) == len(transfers)
    assert all(a < b for a, b in itertools.pairwise(sequences))
    entries: list[JournalEntry] = []
    sealed: list[Transfer] = []
    prev = lane_hash
    micros: dict[datetime, int] = {}  # a batch shares one created_at; convert it once
    for t, sequence in zip(transfers, sequences, strict=True):
        lane_sequence += 1
        created_us = micros.get(t.created_at)
        if created_us is None:
            created_us = micros[t.created_at] = to_micros(t.created_at)
        fields = (
            sequence,
            lane,
            lane_sequence,
            t.id,
            str(t.kind),
            int(t.debit_account_id),
            int(t.credit_account_id),
            t.amount.value,
            t.amount.currency,
            t.pending_id,
            None if t.expires_at is None else to_micros(t.expires_at),
            t.memo,
            t.actor,
            created_us,
            prev,
        )
        prev = _sha256(_encode(fields).encode()).hexdigest()  # entry_hash, inlined
        entries.append(JournalEntry(*fields, prev))
        sealed.append(_with_sequence(t, sequence))
    return entries, sealed


def _with_sequence(t: Transfer, sequence: int) -> Transfer:
    # Positional: this runs once per transfer of every batch.
    return Transfer(t.id, t.debit_account_id, t.credit_account_id, t.amount, t.kind,
                    t.pending_id, t.expires_at, t.memo, t.actor, t.created_at, sequence, t.state)


def to_transfer(entry: JournalEntry, *, state: TransferState | None = None) -> Transfer:
    """The ``Transfer`` an entry records; ``state`` is needed for pending transfers only."""
    kind = TransferKind(entry.kind)
    if state is None:
        assert kind is not TransferKind.PENDING, "a pending transfer's state is not in its entry"
        state = TransferState.VOIDED if kind is TransferKind.VOID_PENDING else TransferState.POSTED
    return Transfer(
        id=entry.id,
        debit_account_id=LedgerAccountId(entry.debit_account_id),
        credit_account_id=LedgerAccountId(entry.credit_account_id),
        amount=Money(entry.amount, entry.currency),
        kind=kind,
        pending_id=entry.pending_id,
        expires_at=None if entry.expires_at_us is None else from_micros(entry.expires_at_us),
        memo=entry.memo,
        actor=entry.actor,
        created_at=from_micros(entry.created_at_us),
        sequence=entry.sequence,
        state=state,
    )
