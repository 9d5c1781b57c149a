"""Tables of proof of liabilities and attestations.

Owns: these tables' definitions (migration ``0004_attest`` creates exactly this). Imports:
SQLAlchemy and ``bonafide.store.base``.

- ``liability_snapshots``: one row per published snapshot: the signed root document as issued
  (canonical JSON), the ledger position it was read at (``ledger_sequence``: the number of
  journal entries it saw; ``ledger_head``: SHA-256 of the chains' heads, which the document
  lists), and the snapshot's salt. The salt is secret to the market; each owner receives it with
  their own proof.
- ``liability_roots``: per snapshot and currency, the root hash, total and leaf count (the same
  figures the signed document states, kept as columns to compare with declared reserves).
- ``liability_leaves``: the snapshot's liabilities, one row per account and currency, so an
  owner's proof can be rebuilt at any time after publication. ``account`` is the label the leaf
  commits to (``wallet:<owner id>``, ``escrow:<name>``).
- ``liability_reserves``: the operator's declarations of reserves held, newest per currency wins.
- ``trusted_issuers``: keyrings of other markets and third-party verifiers whose signatures this
  market accepts.
- ``imported_attestations``: seller reputation attestations from other markets, kept as prior
  evidence with the weight they were given.
- ``claim_verifications``: third parties' signed verifications of a listing's claims.

Times are timezone-aware timestamps; documents are stored byte for byte as they were signed.
"""

from __future__ import annotations

from sqlalchemy import (
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
    UniqueConstraint,
)

from bonafide.store.base import BigInt, metadata

ID = 40
"""Width of a public id column (as in ``market_tables``)."""
ISSUER = 128
"""Width of an issuer id (a market's or verifier's id in its keyring document)."""

liability_snapshots = Table(
    "liability_snapshots",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("taken_at", DateTime(timezone=True), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("ledger_sequence", BigInt, nullable=False),
    Column("ledger_head", String(128), nullable=False),
    Column("document", Text, nullable=False),
    Column("published_by", String(200), nullable=False),
    Index("ix_liability_snapshots_taken_at", "taken_at"),
)

liability_roots = Table(
    "liability_roots",
    metadata,
    Column("snapshot_id", String(ID), ForeignKey("liability_snapshots.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("total", BigInt, nullable=False),
    Column("leaf_count", BigInt, nullable=False),
    PrimaryKeyConstraint("snapshot_id", "currency"),
    CheckConstraint("total >= 0 AND leaf_count > 0", name="figures_positive"),
)

liability_leaves = Table(
    "liability_leaves",
    metadata,
    Column("snapshot_id", String(ID), ForeignKey("liability_snapshots.id"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("account", String(256), nullable=False),
    Column("owner_id", String(64), nullable=True),
    Column("balance", BigInt, nullable=False),
    PrimaryKeyConstraint("snapshot_id", "currency", "account"),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    Index("ix_liability_leaves_snapshot_owner", "snapshot_id", "owner_id"),
)

liability_reserves = Table(
    "liability_reserves",
    metadata,
    Column("id", BigInt, primary_key=True, autoincrement=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInt, nullable=False),
    Column("note", String(500), nullable=False),
    Column("declared_at", DateTime(timezone=True), nullable=False),
    Column("declared_by", String(ID), nullable=False),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
    Index("ix_liability_reserves_currency_id", "currency", "id"),
)

trusted_issuers = Table(
    "trusted_issuers",
    metadata,
    Column("issuer_id", String(ISSUER), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("keyring", Text, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(200), nullable=False),
    CheckConstraint("kind IN ('market', 'verifier')", name="kind_known"),
)

imported_attestations = Table(
    "imported_attestations",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("seller_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("issuer_id", String(ISSUER), nullable=False),
    Column("issuer_name", String(200), nullable=False),
    Column("attestation_id", String(128), nullable=False),
    Column("verified_orders", BigInt, nullable=False),
    Column("disputes", BigInt, nullable=False),
    Column("refunds", BigInt, nullable=False),
    Column("score_bp", Integer, nullable=False),
    Column("weight_bp", Integer, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", String(ID), nullable=False),
    UniqueConstraint("issuer_id", "attestation_id"),
    CheckConstraint("weight_bp >= 0 AND weight_bp <= 10000", name="weight_in_range"),
    Index("ix_imported_attestations_seller_id", "seller_id"),
)

claim_verifications = Table(
    "claim_verifications",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("listing_id", String(ID), ForeignKey("listings.id"), nullable=False),
    Column("issuer_id", String(ISSUER), nullable=False),
    Column("issuer_name", String(200), nullable=False),
    Column("attestation_id", String(128), nullable=False),
    Column("claim", Text, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("evidence_sha256", String(64), nullable=False),
    Column("evidence_description", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),
    Column("attached_at", DateTime(timezone=True), nullable=False),
    Column("attached_by", String(ID), nullable=False),
    UniqueConstraint("issuer_id", "attestation_id"),
    CheckConstraint(
        "verdict IN ('confirmed', 'refuted', 'inconclusive')", name="verdict_known"
    ),
    Index("ix_claim_verifications_listing_id", "listing_id"),
)
