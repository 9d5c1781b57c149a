"""Market tables of the HTTP platform: accounts, server secrets, seller profiles and bonds,
listings, and idempotency keys.

Owns: these tables' definitions (migration ``0002_market``). Imports: SQLAlchemy and
``bonafide.store.base``. Orders, disputes and reviews keep their own tables in their own modules.

Times are stored as timezone-aware timestamps; ids are the public string ids of ``bonafide.ids``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from bonafide.store.base import BigInt, metadata

ID = 40
"""Width of a public id column: an 8-letter prefix, ``_`` and 26 characters."""

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("handle", String(32), nullable=False, unique=True),
    Column("roles", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    # The API key's public lookup prefix; the key itself is stored only as HMAC-SHA256 under the
    # server's pepper, compared in constant time.
    Column("key_prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

seller_profiles = Table(
    "seller_profiles",
    metadata,
    Column("seller_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("about", Text, nullable=False),
    Column("shipping_policy", Text, nullable=False),
    Column("returns_policy", Text, nullable=False),
    Column("claims_json", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

listings = Table(
    "listings",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("seller_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("price_value", BigInt, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("stock", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The stock reservation is a conditional UPDATE; this is the database's own guard.
    CheckConstraint("stock >= 0", name="stock_not_negative"),
    CheckConstraint("price_value > 0", name="price_positive"),
    Index("ix_listings_seller_id_id", "seller_id", "id"),
)

seller_bonds = Table(
    "seller_bonds",
    metadata,
    Column("seller_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("amount_value", BigInt, nullable=False),
    Column("covered_value", BigInt, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("returned_at", DateTime(timezone=True), nullable=True),
    CheckConstraint(
        "covered_value >= 0 AND covered_value <= amount_value", name="covered_in_range"
    ),
    CheckConstraint("status IN ('held', 'returned')", name="status_known"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", String(ID), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response_json", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
    # Migration 0008: the retention purge deletes the oldest keys first.
    Index("ix_idempotency_keys_created_at", "created_at"),
)
