"""Customer service (business hours, threads, messages, read markers) and promotions (offers,
multi-buy, quotes, what each order used, loyalty-point lots).

Revision ID: 0005_support_promotions
Revises: 0004_attest
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0005_support_promotions"
down_revision = "0004_attest"
branch_labels = None
depends_on = None

# A frozen copy of store.base.BigInt: migrations must not change when the models do.
BigInt = (
    sa.BigInteger()
    .with_variant(sqlite.INTEGER(), "sqlite")
    .with_variant(postgresql.BIGINT(), "postgresql")
)


def upgrade() -> None:
    op.create_table(
        "business_hours",
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name=op.f("fk_business_hours_seller_id_accounts")
        ),
        sa.PrimaryKeyConstraint("seller_id", name=op.f("pk_business_hours")),
    )
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("funder", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=True),
        sa.Column("listing_id", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("basis_points", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("amount_off_value", BigInt, nullable=True),
        sa.Column("cap_total", sa.Integer(), nullable=True),
        sa.Column("cap_per_buyer", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "funder IN ('seller', 'operator')", name=op.f("ck_promotions_funder_known")
        ),
        sa.CheckConstraint(
            "kind IN ('offer', 'quantity_tiers', 'buy_x_get_y')",
            name=op.f("ck_promotions_kind_known"),
        ),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_promotions_window_forward")
        ),
        sa.CheckConstraint(
            "used >= 0 AND (cap_total IS NULL OR used <= cap_total)",
            name=op.f("ck_promotions_within_cap"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_promotions_created_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_promotions_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name=op.f("fk_promotions_seller_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    op.create_index(
        "ix_promotions_funder_starts_at", "promotions", ["funder", "starts_at"], unique=False
    )
    op.create_index(
        "ix_promotions_seller_id_starts_at", "promotions", ["seller_id", "starts_at"], unique=False
    )
    op.create_table(
        "order_promotions",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("operator_funded_value", BigInt, nullable=False),
        sa.Column("points_spent", BigInt, nullable=False),
        sa.Column("points_to_earn", BigInt, nullable=True),
        sa.Column("points_awarded", BigInt, nullable=False),
        sa.Column("applied", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('funded', 'released', 'reversed')",
            name=op.f("ck_order_promotions_state_known"),
        ),
        sa.CheckConstraint(
            "operator_funded_value >= 0 AND points_spent >= 0 AND points_awarded >= 0",
            name=op.f("ck_order_promotions_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["accounts.id"], name=op.f("fk_order_promotions_buyer_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_promotions_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_promotions")),
    )
    op.create_table(
        "points_lots",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", BigInt, nullable=False),
        sa.Column("remaining", BigInt, nullable=False),
        sa.Column("clawed_back", BigInt, nullable=False),
        sa.CheckConstraint(
            "clawed_back >= 0 AND clawed_back <= amount",
            name=op.f("ck_points_lots_clawback_within_amount"),
        ),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= amount",
            name=op.f("ck_points_lots_remaining_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_points_lots_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_points_lots_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lots")),
    )
    op.create_index(
        "ix_points_lots_account_id_expires_at",
        "points_lots",
        ["account_id", "expires_at"],
        unique=False,
    )
    op.create_table(
        "promotion_buyer_uses",
        sa.Column("promotion_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_promotion_buyer_uses_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["accounts.id"], name=op.f("fk_promotion_buyer_uses_buyer_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_buyer_uses_promotion_id_promotions"),
        ),
        sa.PrimaryKeyConstraint("promotion_id", "buyer_id", name=op.f("pk_promotion_buyer_uses")),
    )
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("listing_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points_requested", BigInt, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_value", BigInt, nullable=False),
        sa.Column("priced", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["accounts.id"], name=op.f("fk_quotes_buyer_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name=op.f("fk_quotes_listing_id_listings")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_quotes_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
        sa.UniqueConstraint("order_id", name=op.f("uq_quotes_order_id")),
    )
    op.create_index(
        "ix_quotes_buyer_id_created_at", "quotes", ["buyer_id", "created_at"], unique=False
    )
    op.create_table(
        "support_threads",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("csat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moderator_id", sa.String(length=40), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'order') = (order_id IS NOT NULL)",
            name=op.f("ck_support_threads_order_thread_has_order"),
        ),
        sa.CheckConstraint(
            "kind IN ('order', 'seller')", name=op.f("ck_support_threads_kind_known")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'closed')", name=op.f("ck_support_threads_state_known")
        ),
        sa.CheckConstraint(
            "csat IS NULL OR (csat >= 1 AND csat <= 5)",
            name=op.f("ck_support_threads_csat_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["accounts.id"], name=op.f("fk_support_threads_buyer_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"], ["accounts.id"], name=op.f("fk_support_threads_moderator_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_support_threads_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name=op.f("fk_support_threads_seller_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_threads")),
        sa.UniqueConstraint("order_id", name=op.f("uq_support_threads_order_id")),
    )
    op.create_index(
        "ix_support_threads_buyer_id_opened_at",
        "support_threads",
        ["buyer_id", "opened_at"],
        unique=False,
    )
    op.create_index(
        "ix_support_threads_seller_id_opened_at",
        "support_threads",
        ["seller_id", "opened_at"],
        unique=False,
    )
    op.create_table(
        "points_lot_uses",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("lot_id", sa.String(length=40), nullable=False),
        sa.Column("points", BigInt, nullable=False),
        sa.CheckConstraint("points > 0", name=op.f("ck_points_lot_uses_points_positive")),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_lots.id"], name=op.f("fk_points_lot_uses_lot_id_points_lots")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_points_lot_uses_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "lot_id", name=op.f("pk_points_lot_uses")),
    )
    op.create_table(
        "support_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("thread_id", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.String(length=40), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "automatic = (role = 'system')",
            name=op.f("ck_support_messages_only_system_is_automatic"),
        ),
        sa.CheckConstraint(
            "role IN ('buyer', 'seller', 'moderator', 'system')",
            name=op.f("ck_support_messages_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["accounts.id"], name=op.f("fk_support_messages_author_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["support_threads.id"],
            name=op.f("fk_support_messages_thread_id_support_threads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_messages")),
    )
    op.create_index(
        "ix_support_messages_thread_id_sent_at",
        "support_messages",
        ["thread_id", "sent_at"],
        unique=False,
    )
    op.create_table(
        "support_read_markers",
        sa.Column("thread_id", sa.String(length=40), nullable=False),
        sa.Column("reader_id", sa.String(length=40), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reader_id"], ["accounts.id"], name=op.f("fk_support_read_markers_reader_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["support_threads.id"],
            name=op.f("fk_support_read_markers_thread_id_support_threads"),
        ),
        sa.PrimaryKeyConstraint("thread_id", "reader_id", name=op.f("pk_support_read_markers")),
    )


def downgrade() -> None:
    op.drop_table("support_read_markers")
    op.drop_index("ix_support_messages_thread_id_sent_at", table_name="support_messages")
    op.drop_table("support_messages")
    op.drop_table("points_lot_uses")
    op.drop_index("ix_support_threads_seller_id_opened_at", table_name="support_threads")
    op.drop_index("ix_support_threads_buyer_id_opened_at", table_name="support_threads")
    op.drop_table("support_threads")
    op.drop_index("ix_quotes_buyer_id_created_at", table_name="quotes")
    op.drop_table("quotes")
    op.drop_table("promotion_buyer_uses")
    op.drop_index("ix_points_lots_account_id_expires_at", table_name="points_lots")
    op.drop_table("points_lots")
    op.drop_table("order_promotions")
    op.drop_index("ix_promotions_seller_id_starts_at", table_name="promotions")
    op.drop_index("ix_promotions_funder_starts_at", table_name="promotions")
    op.drop_table("promotions")
    op.drop_table("business_hours")
