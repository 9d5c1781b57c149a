"""Promotion tables: promotions with their usage counters, quotes, what each order used, and
loyalty-point lots.

Owns: these tables' definitions (migration ``0005_support_promotions``). Imports: SQLAlchemy and
``bonafide.store.base``. Money is integer minor units beside a currency; points are whole ``XLP``.

Concurrency: ``promotions.used`` and ``promotion_buyer_uses.used`` only ever change through a
conditional ``UPDATE ... WHERE used < cap`` (``promotion_repo``), and the CHECK constraints hold
the caps in the database as well, so an offer is never oversold however many buyers race for it.
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
    String,
    Table,
)

from bonafide.store.base import BigInt, metadata

ID = 40

promotions = Table(
    "promotions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("funder", String(16), nullable=False),
    Column("created_by", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("seller_id", String(ID), ForeignKey("accounts.id"), nullable=True),
    Column("listing_id", String(ID), ForeignKey("listings.id"), nullable=True),
    Column("name", String(100), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=True),
    Column("basis_points", Integer, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("amount_off_value", BigInt, nullable=True),
    Column("cap_total", Integer, nullable=True),
    Column("cap_per_buyer", Integer, nullable=True),
    Column("used", Integer, nullable=False),
    # Quantity tiers [{"quantity_min", "unit_price"}] or {"buy", "get"}.
    Column("rule", JSON, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('offer', 'quantity_tiers', 'buy_x_get_y')", name="kind_known"),
    CheckConstraint("funder IN ('seller', 'operator')", name="funder_known"),
    CheckConstraint("used >= 0 AND (cap_total IS NULL OR used <= cap_total)", name="within_cap"),
    CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="window_forward"),
    Index("ix_promotions_seller_id_starts_at", "seller_id", "starts_at"),
    Index("ix_promotions_funder_starts_at", "funder", "starts_at"),
)

promotion_buyer_uses = Table(
    "promotion_buyer_uses",
    metadata,
    Column("promotion_id", String(ID), ForeignKey("promotions.id"), primary_key=True),
    Column("buyer_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("used", Integer, nullable=False),
    CheckConstraint("used >= 0", name="used_not_negative"),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("buyer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("listing_id", String(ID), ForeignKey("listings.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("points_requested", BigInt, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_value", BigInt, nullable=False),
    Column("priced", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # Set once, by a conditional UPDATE: a quote buys one order.
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=True, unique=True),
    Index("ix_quotes_buyer_id_created_at", "buyer_id", "created_at"),
)

order_promotions = Table(
    "order_promotions",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("buyer_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("operator_funded_value", BigInt, nullable=False),
    Column("points_spent", BigInt, nullable=False),
    Column("points_to_earn", BigInt, nullable=True),
    Column("points_awarded", BigInt, nullable=False),
    Column("applied", JSON, nullable=False),
    # funded (order open) -> released (order settled) | reversed (refunded in full, cancelled)
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("state IN ('funded', 'released', 'reversed')", name="state_known"),
    CheckConstraint(
        "operator_funded_value >= 0 AND points_spent >= 0 AND points_awarded >= 0",
        name="amounts_not_negative",
    ),
)

points_lots = Table(
    "points_lots",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("order_id", String(ID), ForeignKey("orders.id"), nullable=True),
    Column("earned_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("amount", BigInt, nullable=False),
    Column("remaining", BigInt, nullable=False),
    Column("clawed_back", BigInt, nullable=False),
    CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
    CheckConstraint("clawed_back >= 0 AND clawed_back <= amount", name="clawback_within_amount"),
    Index("ix_points_lots_account_id_expires_at", "account_id", "expires_at"),
)

points_lot_uses = Table(
    "points_lot_uses",
    metadata,
    Column("order_id", String(ID), ForeignKey("orders.id"), primary_key=True),
    Column("lot_id", String(ID), ForeignKey("points_lots.id"), primary_key=True),
    Column("points", BigInt, nullable=False),
    CheckConstraint("points > 0", name="points_positive"),
)
