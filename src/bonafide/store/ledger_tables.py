"""Ledger tables: accounts with their balances, the journal, open holds and the chain head.

Owns: the ledger's schema (migration ``0001_ledger`` creates exactly this). Imports: SQLAlchemy
and ``bonafide.store.base``.

- ``ledger_accounts``: one row per account; the four counters are stored for speed and re-derived
  from the journal by ``ledger verify``. ``key`` makes ``account_for`` a get-or-create.
- ``ledger_journal``: append-only, one row per transfer, numbered without gaps by ``sequence`` and
  hash-chained. ``pending_id`` is unique, so the database itself refuses a second resolution of
  the same pending transfer. Times are integer microseconds since 1970 UTC (what is hashed is
  exactly what is stored).
- ``ledger_holds``: the pending transfers not yet resolved, with their expiry, so the expiry sweep
  reads an index rather than the journal.
- ``ledger_chain``: one row, the journal's head (last sequence and hash). Appending locks it, which
  numbers entries without gaps; it also lets ``verify`` notice entries removed from the end.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
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

ledger_journal = Table(
    "ledger_journal",
    metadata,
    # Column order is the canonical order of bonafide.ledger.journal.JournalEntry.
    Column("sequence", BigInt, primary_key=True, autoincrement=False),
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
    CheckConstraint("id = 1", name="single_row"),
)
