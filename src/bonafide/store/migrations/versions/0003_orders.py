"""The order flow: orders and their history, disputes and messages, reviews, reports,
moderation actions and appeals.

Revision ID: 0003_orders
Revises: 0002_market
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

revision = "0003_orders"
down_revision = "0002_market"
branch_labels = None
depends_on = None

# A frozen copy of store.base.BigInt: migrations must not change when the models do.
BigInt = (
    sa.BigInteger()
    .with_variant(sqlite.INTEGER(), "sqlite")
    .with_variant(postgresql.BIGINT(), "postgresql")
)

ORDER_STATES = (
    "'funded', 'shipped', 'completed', 'cancelled', 'disputed', 'resolved', 'auto-released'"
)
SETTLEMENT = (
    "refund_value >= 0 AND seller_value >= 0 AND fee_value >= 0 "
    "AND refund_value + seller_value + fee_value <= total_value"
)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("buyer_id", sa.String(40), nullable=False),
        sa.Column("seller_id", sa.String(40), nullable=False),
        sa.Column("listing_id", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_value", BigInt, nullable=False),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ship_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tracking", sa.String(500), nullable=True),
        sa.Column("hold_transfer_id", sa.String(128), nullable=False),
        sa.Column("hold_number", sa.Integer(), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refund_value", BigInt, nullable=False),
        sa.Column("seller_value", BigInt, nullable=False),
        sa.Column("fee_value", BigInt, nullable=False),
        sa.Column("was_disputed", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "quantity > 0",
            name="ck_orders_quantity_positive",
        ),
        sa.CheckConstraint(
            SETTLEMENT,
            name="ck_orders_settlement_within_total",
        ),
        sa.CheckConstraint(
            f"state IN ({ORDER_STATES})",
            name="ck_orders_state_known",
        ),
        sa.CheckConstraint(
            "total_value > 0",
            name="ck_orders_total_positive",
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["accounts.id"], name="fk_orders_buyer_id_accounts"),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["listings.id"], name="fk_orders_listing_id_listings"
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["accounts.id"], name="fk_orders_seller_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index("ix_orders_buyer_id_id", "orders", ["buyer_id", "id"])
    op.create_index("ix_orders_seller_id_id", "orders", ["seller_id", "id"])
    op.create_index("ix_orders_state_hold_expires_at", "orders", ["state", "hold_expires_at"])
    op.create_index("ix_orders_state_release_by", "orders", ["state", "release_by"])
    op.create_index("ix_orders_state_ship_by", "orders", ["state", "ship_by"])
    op.create_table(
        "order_history",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_history_order_id_orders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_history"),
    )
    op.create_index("ix_order_history_order_id_id", "order_history", ["order_id", "id"])
    op.create_table(
        "disputes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("opened_by", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("refund_value", BigInt, nullable=True),
        sa.Column("total_value", BigInt, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.CheckConstraint(
            "state IN ('open', 'closed')",
            name="ck_disputes_state_known",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["accounts.id"], name="fk_disputes_opened_by_accounts"
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_disputes_order_id_orders"),
        sa.PrimaryKeyConstraint("id", name="pk_disputes"),
    )
    op.create_index("ix_disputes_closed_by", "disputes", ["closed_by"])
    op.create_index("ix_disputes_order_id", "disputes", ["order_id"])
    op.create_index("ix_disputes_state_opened_at", "disputes", ["state", "opened_at"])
    op.create_table(
        "dispute_messages",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("dispute_id", sa.String(40), nullable=False),
        sa.Column("author_id", sa.String(40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["accounts.id"], name="fk_dispute_messages_author_id_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"], ["disputes.id"], name="fk_dispute_messages_dispute_id_disputes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dispute_messages"),
    )
    op.create_index("ix_dispute_messages_dispute_id_id", "dispute_messages", ["dispute_id", "id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("author_id", sa.String(40), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("overall", sa.SmallInteger(), nullable=False),
        sa.Column("item_as_described", sa.SmallInteger(), nullable=True),
        sa.Column("communication", sa.SmallInteger(), nullable=True),
        sa.Column("shipping_speed", sa.SmallInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "overall BETWEEN 1 AND 5",
            name="ck_reviews_overall_in_range",
        ),
        sa.CheckConstraint(
            "role IN ('buyer', 'seller')",
            name="ck_reviews_role_known",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["accounts.id"], name="fk_reviews_author_id_accounts"
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_reviews_order_id_orders"),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["accounts.id"], name="fk_reviews_subject_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        sa.UniqueConstraint("order_id", "author_id", name="uq_reviews_order_id_author_id"),
    )
    op.create_index("ix_reviews_subject_id_revealed_at", "reviews", ["subject_id", "revealed_at"])
    op.create_table(
        "reports",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("reporter_id", sa.String(40), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by", sa.String(40), nullable=True),
        sa.Column("action_id", sa.String(40), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'actioned', 'dismissed')",
            name="ck_reports_state_known",
        ),
        sa.CheckConstraint(
            "target_kind IN ('listing', 'review', 'account')",
            name="ck_reports_target_kind_known",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["accounts.id"], name="fk_reports_reporter_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
    )
    op.create_index("ix_reports_state_created_at", "reports", ["state", "created_at"])
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("moderator_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=True),
        sa.Column("target_id", sa.String(40), nullable=True),
        sa.Column("affected_account_id", sa.String(40), nullable=True),
        sa.Column("report_id", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["moderator_id"], ["accounts.id"], name="fk_moderation_actions_moderator_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_moderation_actions"),
    )
    op.create_index(
        "ix_moderation_actions_affected_account_id", "moderation_actions", ["affected_account_id"]
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("action_id", sa.String(40), nullable=False),
        sa.Column("appellant_id", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'upheld', 'overturned')",
            name="ck_appeals_state_known",
        ),
        sa.ForeignKeyConstraint(
            ["action_id"], ["moderation_actions.id"], name="fk_appeals_action_id_moderation_actions"
        ),
        sa.ForeignKeyConstraint(
            ["appellant_id"], ["accounts.id"], name="fk_appeals_appellant_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_appeals"),
        sa.UniqueConstraint("action_id", name="uq_appeals_action_id"),
    )
    op.create_index("ix_appeals_state_created_at", "appeals", ["state", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_appeals_state_created_at", table_name="appeals")
    op.drop_table("appeals")
    op.drop_index("ix_moderation_actions_affected_account_id", table_name="moderation_actions")
    op.drop_table("moderation_actions")
    op.drop_index("ix_reports_state_created_at", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_reviews_subject_id_revealed_at", table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_dispute_messages_dispute_id_id", table_name="dispute_messages")
    op.drop_table("dispute_messages")
    op.drop_index("ix_disputes_closed_by", table_name="disputes")
    op.drop_index("ix_disputes_order_id", table_name="disputes")
    op.drop_index("ix_disputes_state_opened_at", table_name="disputes")
    op.drop_table("disputes")
    op.drop_index("ix_order_history_order_id_id", table_name="order_history")
    op.drop_table("order_history")
    op.drop_index("ix_orders_buyer_id_id", table_name="orders")
    op.drop_index("ix_orders_seller_id_id", table_name="orders")
    op.drop_index("ix_orders_state_hold_expires_at", table_name="orders")
    op.drop_index("ix_orders_state_release_by", table_name="orders")
    op.drop_index("ix_orders_state_ship_by", table_name="orders")
    op.drop_table("orders")
