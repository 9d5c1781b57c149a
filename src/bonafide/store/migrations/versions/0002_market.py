"""Market platform: accounts, server secrets, seller profiles and bonds, listings, idempotency keys.

Revision ID: 0002_market
Revises: 0001_ledger
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0002_market"
down_revision = "0001_ledger"
branch_labels = None
depends_on = None

ID = 40

# A frozen copy of store.base.BigInt: migrations must not change when the models do.
BigInt = (
    sa.BigInteger()
    .with_variant(sqlite.INTEGER(), "sqlite")
    .with_variant(postgresql.BIGINT(), "postgresql")
)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("handle", sa.String(32), nullable=False),
        sa.Column("roles", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        _ts("created_at"),
        sa.CheckConstraint(
            "status IN ('active', 'suspended')", name="ck_accounts_status_known"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("handle", name="uq_accounts_handle"),
        sa.UniqueConstraint("key_prefix", name="uq_accounts_key_prefix"),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("name", name="pk_server_secrets"),
    )
    op.create_table(
        "seller_profiles",
        sa.Column("seller_id", sa.String(ID), nullable=False),
        sa.Column("about", sa.Text(), nullable=False),
        sa.Column("shipping_policy", sa.Text(), nullable=False),
        sa.Column("returns_policy", sa.Text(), nullable=False),
        sa.Column("claims_json", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name="fk_seller_profiles_seller_id_accounts"
        ),
        sa.PrimaryKeyConstraint("seller_id", name="pk_seller_profiles"),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("seller_id", sa.String(ID), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_value", BigInt, nullable=False),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("stock >= 0", name="ck_listings_stock_not_negative"),
        sa.CheckConstraint("price_value > 0", name="ck_listings_price_positive"),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name="fk_listings_seller_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_listings"),
    )
    op.create_index("ix_listings_seller_id_id", "listings", ["seller_id", "id"])
    op.create_table(
        "seller_bonds",
        sa.Column("seller_id", sa.String(ID), nullable=False),
        sa.Column("amount_value", BigInt, nullable=False),
        sa.Column("covered_value", BigInt, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("placed_at"),
        _ts("returned_at", nullable=True),
        sa.CheckConstraint(
            "covered_value >= 0 AND covered_value <= amount_value",
            name="ck_seller_bonds_covered_in_range",
        ),
        sa.CheckConstraint(
            "status IN ('held', 'returned')", name="ck_seller_bonds_status_known"
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name="fk_seller_bonds_seller_id_accounts"
        ),
        sa.PrimaryKeyConstraint("seller_id", name="pk_seller_bonds"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("seller_bonds")
    op.drop_index("ix_listings_seller_id_id", table_name="listings")
    op.drop_table("listings")
    op.drop_table("seller_profiles")
    op.drop_table("server_secrets")
    op.drop_table("accounts")
