"""The escrow ledger: accounts, the hash-chained journal, open holds and the lanes' heads.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

# A frozen copy of store.base.BigInt: migrations must not change when the models do.
BigInt = sa.BigInteger().with_variant(sqlite.INTEGER(), "sqlite").with_variant(
    postgresql.BIGINT(), "postgresql"
)
GENESIS_HASH = "0" * 64
LANES = 16


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", BigInt, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("debits_pending", BigInt, nullable=False),
        sa.Column("debits_posted", BigInt, nullable=False),
        sa.Column("credits_pending", BigInt, nullable=False),
        sa.Column("credits_posted", BigInt, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_accounts"),
        sa.UniqueConstraint("key", name="uq_ledger_accounts_key"),
        sa.CheckConstraint(
            "kind IN ('wallet', 'escrow', 'fees', 'promotions', 'external')",
            name="ck_ledger_accounts_kind_known",
        ),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0",
            name="ck_ledger_accounts_counters_not_negative",
        ),
        sa.CheckConstraint(
            "kind = 'external' OR credits_posted - debits_posted - debits_pending >= 0",
            name="ck_ledger_accounts_available_not_negative",
        ),
    )
    op.create_index("ix_ledger_accounts_owner_id", "ledger_accounts", ["owner_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.CreateSequence(sa.Sequence("ledger_journal_sequence")))
    op.create_table(
        "ledger_journal",
        sa.Column("sequence", BigInt, autoincrement=False, nullable=False),
        sa.Column("lane", sa.Integer, nullable=False),
        sa.Column("lane_sequence", BigInt, nullable=False),
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("debit_account_id", BigInt, nullable=False),
        sa.Column("credit_account_id", BigInt, nullable=False),
        sa.Column("amount", BigInt, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("pending_id", sa.String(200), nullable=True),
        sa.Column("expires_at_us", BigInt, nullable=True),
        sa.Column("memo", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at_us", BigInt, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_ledger_journal"),
        sa.UniqueConstraint("id", name="uq_ledger_journal_id"),
        sa.UniqueConstraint("pending_id", name="uq_ledger_journal_pending_id"),
        sa.UniqueConstraint(
            "lane", "lane_sequence", name="uq_ledger_journal_lane_lane_sequence"
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"], ["ledger_accounts.id"],
            name="fk_ledger_journal_debit_account_id_ledger_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"], ["ledger_accounts.id"],
            name="fk_ledger_journal_credit_account_id_ledger_accounts",
        ),
        sa.CheckConstraint("amount >= 0", name="ck_ledger_journal_amount_not_negative"),
    )
    op.create_table(
        "ledger_holds",
        sa.Column("transfer_id", sa.String(200), nullable=False),
        sa.Column("expires_at_us", BigInt, nullable=True),
        sa.PrimaryKeyConstraint("transfer_id", name="pk_ledger_holds"),
    )
    op.create_index("ix_ledger_holds_expires_at_us", "ledger_holds", ["expires_at_us"])
    chain = op.create_table(
        "ledger_chain",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("sequence", BigInt, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_chain"),
        sa.CheckConstraint("id >= 0 AND id < 64", name="ck_ledger_chain_lane_in_range"),
    )
    op.bulk_insert(
        chain, [{"id": lane, "sequence": 0, "hash": GENESIS_HASH} for lane in range(LANES)]
    )


def downgrade() -> None:
    op.drop_table("ledger_chain")
    op.drop_index("ix_ledger_holds_expires_at_us", table_name="ledger_holds")
    op.drop_table("ledger_holds")
    op.drop_table("ledger_journal")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.schema.DropSequence(sa.Sequence("ledger_journal_sequence")))
    op.drop_index("ix_ledger_accounts_owner_id", table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
