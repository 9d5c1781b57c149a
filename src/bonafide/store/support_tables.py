"""Customer-service tables: business hours, threads, messages and read markers.

Owns: these tables' definitions (migration ``0005_support_promotions``). Imports: SQLAlchemy and
``bonafide.store.base``; the foreign keys name the platform's ``accounts`` and the order flow's
``orders``. Times are UTC (SQLite drops the zone; ``support_repo`` puts it back).
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
    SmallInteger,
    String,
    Table,
    Text,
)

from bonafide.store.base import metadata

ID = 40

business_hours = Table(
    "business_hours",
    metadata,
    Column("seller_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("time_zone", String(64), nullable=False),
    # BusinessHours.to_json(): {"time_zone", "weekly": {"mon": [{"start", "end"}]}, "holidays"}
    Column("schedule", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

support_threads = Table(
    "support_threads",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("buyer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("seller_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    # One thread per order: the unique key is what makes "open the order's thread" race-free.
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=True, unique=True),
    Column("subject", String(200), nullable=False),
    Column("state", String(8), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(16), nullable=True),
    Column("csat", SmallInteger, nullable=True),
    Column("csat_at", DateTime(timezone=True), nullable=True),
    Column("moderator_id", String(ID), ForeignKey("accounts.id"), nullable=True),
    Column("last_message_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("kind IN ('order', 'seller')", name="kind_known"),
    CheckConstraint("state IN ('open', 'closed')", name="state_known"),
    CheckConstraint("(kind = 'order') = (order_id IS NOT NULL)", name="order_thread_has_order"),
    CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="csat_in_range"),
    Index("ix_support_threads_seller_id_opened_at", "seller_id", "opened_at"),
    Index("ix_support_threads_buyer_id_opened_at", "buyer_id", "opened_at"),
)

support_messages = Table(
    "support_messages",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("thread_id", String(ID), ForeignKey("support_threads.id"), nullable=False),
    Column("author_id", String(ID), ForeignKey("accounts.id"), nullable=True),
    Column("role", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("automatic", Boolean, nullable=False),
    # The auto-acknowledgement's figures (next opening, typical reply, expected reply by).
    Column("meta", JSON, nullable=True),
    CheckConstraint("role IN ('buyer', 'seller', 'moderator', 'system')", name="role_known"),
    CheckConstraint("automatic = (role = 'system')", name="only_system_is_automatic"),
    Index("ix_support_messages_thread_id_sent_at", "thread_id", "sent_at"),
)

support_read_markers = Table(
    "support_read_markers",
    metadata,
    Column("thread_id", String(ID), ForeignKey("support_threads.id"), primary_key=True),
    Column("reader_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("read_at", DateTime(timezone=True), nullable=False),
)
