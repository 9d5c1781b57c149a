"""Ledger tables: accounts with their balances, the journal, open holds and the chain head.

Owns: the ledger's schema (migration ``0001_ledger`` creates exactly this). Imports: SQLAlchemy
and ``bonafide.store.base``.

- ``ledger_accounts``: one row per account; the four counters are stored for speed and re-derived
  from the journal by ``ledger verify``. ``key`` makes ``account_for`` a get-or-create.
- ``ledger_journal``: append-only, one row per transfer. ``sequence`` orders all entries (a
  PostgreSQL sequence, drawn after the accounts are locked, so an entry that depends on another
  always comes later; a transaction that fails after drawing leaves a gap). Entries are
  hash-chained in *lanes*: ``(lane, lane_sequence)`` numbers each lane without gaps, and each
  entry's ``prev_hash`` is the hash of the previous entry of its lane. ``pending_id`` is unique,
  so the database itself refuses a second resolution of the same pending transfer. Times are
  integer microseconds since 1970 UTC (what is hashed is exactly what is stored).
- ``ledger_holds``: the pending transfers not yet resolved, with their expiry, so the expiry sweep
  reads an index rather than the journal.
- ``ledger_chain``: one row per lane, its head (last lane sequence and hash). Appending locks one
  lane row, which numbers the lane without gaps; the heads also let ``verify`` notice entries
  removed from the end of a lane.

Why lanes: a single chain head would be locked by every transfer until its commit, fsync
included, so a durable PostgreSQL could commit only one transfer per disk flush. With
``LANES`` heads, up to that many transactions flush together (group commit), and each lane is
still a gap-free, tamper-evident chain. SQLite serialises writers anyway and uses lane 0 only.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Table,
    UniqueConstraint,
)

from bonafide.store.base import BigInt, metadata

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("owner_id", String(64), nullable=True),
    Column("name", String(200), nullable=True),
    Column("debits_pending", BigInt, nullable=False),
    Column("debits_posted", BigInt, nullable=False),
    Column("credits_pending", BigInt, nullable=False),
    Column("credits_posted", BigInt, nullable=False),
    UniqueConstraint("key"),
    CheckConstraint(
        "kind IN ('wallet', 'escrow', 'fees', 'promotions', 'external')", name="kind_known"
    ),
    CheckConstraint(
        "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
        "AND credits_posted >= 0",
        name="counters_not_negative",
    ),
    # The last line of defence for the no-negative rule; the ledger checks it before writing.
    CheckConstraint(
        "kind = 'external' OR credits_posted - debits_posted - debits_pending >= 0",
        name="available_not_negative",
    ),
    Index("ix_ledger_accounts_owner_id", "owner_id"),
)

LANES = 16
"""Number of hash-chain lanes (rows of ``ledger_chain``, seeded by migration 0001)."""

ledger_journal_sequence = Sequence("ledger_journal_sequence", metadata=metadata)

ledger_journal = Table(
    "ledger_journal",
    metadata,
    # Column order is the canonical order of bonafide.ledger.journal.JournalEntry.
    Column("sequence", BigInt, primary_key=True, autoincrement=False),
    Column("lane", Integer, nullable=False),
    Column("lane_sequence", BigInt, nullable=False),
    Column("id", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column(
        "debit_account_id", BigInt, ForeignKey("ledger_accounts.id"), nullable=False
    ),
    Column(
        "credit_account_id", BigInt, ForeignKey("ledger_accounts.id"), nullable=False
    ),
    Column("amount", BigInt, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("pending_id", String(200), nullable=True),
    Column("expires_at_us", BigInt, nullable=True),
    Column("memo", String(500), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at_us", BigInt, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("id"),
    UniqueConstraint("pending_id"),
    UniqueConstraint("lane", "lane_sequence"),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
)

ledger_holds = Table(
    "ledger_holds",
    metadata,
    Column("transfer_id", String(200), primary_key=True),
    Column("expires_at_us", BigInt, nullable=True),
    Index("ix_ledger_holds_expires_at_us", "expires_at_us"),
)

ledger_chain = Table(
    "ledger_chain",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sequence", BigInt, nullable=False),
    Column("hash", String(64), nullable=False),
    CheckConstraint("id >= 0 AND id < 64", name="lane_in_range"),
)
