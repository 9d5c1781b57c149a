"""Order-flow tables: orders and their history, disputes and messages, reviews, reports,
moderation actions and appeals.

Owns: these tables' definitions (migration ``0003_orders``). Imports: SQLAlchemy and
``bonafide.store.base``; the foreign keys name the platform's ``accounts`` and ``listings``.

Times are timezone-aware timestamps (UTC; SQLite drops the zone, the repository puts it back).
Money is integer minor units beside the order's ``currency``. The state columns carry CHECK
constraints with the domain's names, so a bad write fails in the database too.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bonafide.store.base import BigInt, metadata

ID = 40
"""Width of a public id column (same as the platform's)."""

orders = Table(
    "orders",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("buyer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("seller_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("listing_id", String(ID), ForeignKey("listings.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_value", BigInt, nullable=False),
    Column("quote", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("ship_by", DateTime(timezone=True), nullable=True),
    Column("shipped_at", DateTime(timezone=True), nullable=True),
    Column("release_by", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("tracking", String(500), nullable=True),
    # The escrow hold: a pending ledger transfer buyer wallet -> escrow "order:<id>". A
    # replacement shipment renews it (void + new pending), hence the counter in its id.
    Column("hold_transfer_id", String(128), nullable=False),
    Column("hold_number", Integer, nullable=False),
    Column("hold_expires_at", DateTime(timezone=True), nullable=False),
    Column("refund_value", BigInt, nullable=False),
    Column("seller_value", BigInt, nullable=False),
    Column("fee_value", BigInt, nullable=False),
    Column("was_disputed", Boolean, nullable=False),
    CheckConstraint(
        "state IN ('funded', 'shipped', 'completed', 'cancelled', 'disputed', 'resolved', "
        "'auto-released')",
        name="state_known",
    ),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("total_value > 0", name="total_positive"),
    CheckConstraint(
        "refund_value >= 0 AND seller_value >= 0 AND fee_value >= 0 "
        "AND refund_value + seller_value + fee_value <= total_value",
        name="settlement_within_total",
    ),
    Index("ix_orders_buyer_id_id", "buyer_id", "id"),
    Index("ix_orders_seller_id_id", "seller_id", "id"),
    Index("ix_orders_state_ship_by", "state", "ship_by"),
    Index("ix_orders_state_release_by", "state", "release_by"),
    Index("ix_orders_state_hold_expires_at", "state", "hold_expires_at"),
)

order_history = Table(
    "order_history",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    # An account id, or "system" for the scheduler's transitions.
    Column("actor", String(ID), nullable=False),
    Column("reason", Text, nullable=False),
    Index("ix_order_history_order_id_id", "order_id", "id"),
)

disputes = Table(
    "disputes",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("opened_by", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(ID), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("refund_value", BigInt, nullable=True),
    Column("total_value", BigInt, nullable=False),
    Column("currency", String(3), nullable=False),
    CheckConstraint("state IN ('open', 'closed')", name="state_known"),
    Index("ix_disputes_order_id", "order_id"),
    Index("ix_disputes_state_opened_at", "state", "opened_at"),
    Index("ix_disputes_closed_by", "closed_by"),
)

dispute_messages = Table(
    "dispute_messages",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("dispute_id", String(ID), ForeignKey("disputes.id"), nullable=False),
    Column("author_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("body", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_dispute_messages_dispute_id_id", "dispute_id", "id"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=False),
    Column("author_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("subject_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("role", String(8), nullable=False),
    Column("overall", SmallInteger, nullable=False),
    Column("item_as_described", SmallInteger, nullable=True),
    Column("communication", SmallInteger, nullable=True),
    Column("shipping_speed", SmallInteger, nullable=True),
    Column("text", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("revealed_at", DateTime(timezone=True), nullable=True),
    Column("hidden", Boolean, nullable=False),
    Column("reply", Text, nullable=True),
    Column("replied_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("order_id", "author_id"),
    CheckConstraint("role IN ('buyer', 'seller')", name="role_known"),
    CheckConstraint("overall BETWEEN 1 AND 5", name="overall_in_range"),
    Index("ix_reviews_subject_id_revealed_at", "subject_id", "revealed_at"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", String(ID), primary_key=True),
    # An account id, or a system actor such as ``system:fraud-engine`` (hence no foreign key;
    # migration 0007 dropped it).
    Column("reporter_id", String(ID), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_id", String(ID), nullable=False),
    Column("reason", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=True),
    Column("handled_by", String(ID), nullable=True),
    Column("action_id", String(ID), nullable=True),
    CheckConstraint("target_kind IN ('listing', 'review', 'account')", name="target_kind_known"),
    CheckConstraint("state IN ('open', 'actioned', 'dismissed')", name="state_known"),
    Index("ix_reports_state_created_at", "state", "created_at"),
)

moderation_actions = Table(
    "moderation_actions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("moderator_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target_kind", String(16), nullable=True),
    Column("target_id", String(ID), nullable=True),
    Column("affected_account_id", String(ID), nullable=True),
    Column("report_id", String(ID), nullable=True),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reversed_at", DateTime(timezone=True), nullable=True),
    Index("ix_moderation_actions_affected_account_id", "affected_account_id"),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", String(ID), primary_key=True),
    # Unique: the affected account may appeal an action once.
    Column("action_id", String(ID), ForeignKey("moderation_actions.id"), nullable=False),
    Column("appellant_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decided_by", String(ID), nullable=True),
    Column("decision_reason", Text, nullable=True),
    UniqueConstraint("action_id"),
    CheckConstraint("state IN ('open', 'upheld', 'overturned')", name="state_known"),
    Index("ix_appeals_state_created_at", "state", "created_at"),
)
