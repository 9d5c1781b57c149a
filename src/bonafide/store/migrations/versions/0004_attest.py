"""Proof of liabilities and attestations: snapshots, roots, leaves, reserves, trusted issuers,
imported attestations and claim verifications.

Revision ID: 0004_attest
Revises: 0003_orders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0004_attest"
down_revision = "0003_orders"
branch_labels = None
depends_on = None

ID = 40
ISSUER = 128

# A frozen copy of store.base.BigInt: migrations must not change when the models do.
BigInt = (
    sa.BigInteger()
    .with_variant(sqlite.INTEGER(), "sqlite")
    .with_variant(postgresql.BIGINT(), "postgresql")
)


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "liability_snapshots",
        sa.Column("id", sa.String(ID), nullable=False),
        _ts("taken_at"),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("ledger_sequence", BigInt, nullable=False),
        sa.Column("ledger_head", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_liability_snapshots"),
    )
    op.create_index("ix_liability_snapshots_taken_at", "liability_snapshots", ["taken_at"])
    op.create_table(
        "liability_roots",
        sa.Column("snapshot_id", sa.String(ID), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("total", BigInt, nullable=False),
        sa.Column("leaf_count", BigInt, nullable=False),
        sa.CheckConstraint(
            "total >= 0 AND leaf_count > 0", name="ck_liability_roots_figures_positive"
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["liability_snapshots.id"],
            name="fk_liability_roots_snapshot_id_liability_snapshots",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "currency", name="pk_liability_roots"),
    )
    op.create_table(
        "liability_leaves",
        sa.Column("snapshot_id", sa.String(ID), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("account", sa.String(256), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("balance", BigInt, nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_liability_leaves_balance_not_negative"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["liability_snapshots.id"],
            name="fk_liability_leaves_snapshot_id_liability_snapshots",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "currency", "account", name="pk_liability_leaves"),
    )
    op.create_index(
        "ix_liability_leaves_snapshot_owner", "liability_leaves", ["snapshot_id", "owner_id"]
    )
    op.create_table(
        "liability_reserves",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", BigInt, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        _ts("declared_at"),
        sa.Column("declared_by", sa.String(ID), nullable=False),
        sa.CheckConstraint("amount >= 0", name="ck_liability_reserves_amount_not_negative"),
        sa.PrimaryKeyConstraint("id", name="pk_liability_reserves"),
    )
    op.create_index(
        "ix_liability_reserves_currency_id", "liability_reserves", ["currency", "id"]
    )
    op.create_table(
        "trusted_issuers",
        sa.Column("issuer_id", sa.String(ISSUER), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("keyring", sa.Text(), nullable=False),
        _ts("added_at"),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.CheckConstraint("kind IN ('market', 'verifier')", name="ck_trusted_issuers_kind_known"),
        sa.PrimaryKeyConstraint("issuer_id", name="pk_trusted_issuers"),
    )
    op.create_table(
        "imported_attestations",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("seller_id", sa.String(ID), nullable=False),
        sa.Column("issuer_id", sa.String(ISSUER), nullable=False),
        sa.Column("issuer_name", sa.String(200), nullable=False),
        sa.Column("attestation_id", sa.String(128), nullable=False),
        sa.Column("verified_orders", BigInt, nullable=False),
        sa.Column("disputes", BigInt, nullable=False),
        sa.Column("refunds", BigInt, nullable=False),
        sa.Column("score_bp", sa.Integer(), nullable=False),
        sa.Column("weight_bp", sa.Integer(), nullable=False),
        _ts("issued_at"),
        _ts("expires_at"),
        sa.Column("document", sa.Text(), nullable=False),
        _ts("imported_at"),
        sa.Column("imported_by", sa.String(ID), nullable=False),
        sa.CheckConstraint(
            "weight_bp >= 0 AND weight_bp <= 10000",
            name="ck_imported_attestations_weight_in_range",
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name="fk_imported_attestations_seller_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_imported_attestations"),
        sa.UniqueConstraint(
            "issuer_id", "attestation_id", name="uq_imported_attestations_issuer_id_attestation_id"
        ),
    )
    op.create_index(
        "ix_imported_attestations_seller_id", "imported_attestations", ["seller_id"]
    )
    op.create_table(
        "claim_verifications",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("listing_id", sa.String(ID), nullable=False),
        sa.Column("issuer_id", sa.String(ISSUER), nullable=False),
        sa.Column("issuer_name", sa.String(200), nullable=False),
        sa.Column("attestation_id", sa.String(128), nullable=False),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
        sa.Column("evidence_description", sa.Text(), nullable=False),
        _ts("issued_at"),
        _ts("expires_at"),
        sa.Column("document", sa.Text(), nullable=False),
        _ts("attached_at"),
        sa.Column("attached_by", sa.String(ID), nullable=False),
        sa.CheckConstraint(
            "verdict IN ('confirmed', 'refuted', 'inconclusive')",
            name="ck_claim_verifications_verdict_known",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name="fk_claim_verifications_listing_id_listings"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claim_verifications"),
        sa.UniqueConstraint(
            "issuer_id", "attestation_id", name="uq_claim_verifications_issuer_id_attestation_id"
        ),
    )
    op.create_index("ix_claim_verifications_listing_id", "claim_verifications", ["listing_id"])


def downgrade() -> None:
    op.drop_index("ix_claim_verifications_listing_id", table_name="claim_verifications")
    op.drop_table("claim_verifications")
    op.drop_index("ix_imported_attestations_seller_id", table_name="imported_attestations")
    op.drop_table("imported_attestations")
    op.drop_table("trusted_issuers")
    op.drop_index("ix_liability_reserves_currency_id", table_name="liability_reserves")
    op.drop_table("liability_reserves")
    op.drop_index("ix_liability_leaves_snapshot_owner", table_name="liability_leaves")
    op.drop_table("liability_leaves")
    op.drop_table("liability_roots")
    op.drop_index("ix_liability_snapshots_taken_at", table_name="liability_snapshots")
    op.drop_table("liability_snapshots")
