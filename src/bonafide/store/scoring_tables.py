"""Tables of batch scoring: the scores a cluster run computed, loaded back per account.

Owns: ``fraud_scores`` (migration ``0006_scores`` creates exactly this). Imports: SQLAlchemy and
``bonafide.store.base``.

- ``fraud_scores``: one row per account, the latest imported run's ``fraud_score`` in [0, 1] (for
  accounts that rated someone) and,
  for accounts that were rated, its ``reputation`` in [0, 1]; ``run_id`` names the import (all
  rows of one import share it) and ``imported_at`` says when. An import replaces the rows of the
  accounts it carries and leaves the others as they were.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, Float, ForeignKey, String, Table

from bonafide.store.base import metadata

ID = 40
"""Width of a public id column (as in ``market_tables``)."""

fraud_scores = Table(
    "fraud_scores",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    Column("fraud_score", Float, nullable=True),
    Column("reputation", Float, nullable=True),
    Column("run_id", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("fraud_score IS NULL OR (fraud_score >= 0 AND fraud_score <= 1)",
                    name="fraud_score_in_range"),
    CheckConstraint("reputation IS NULL OR (reputation >= 0 AND reputation <= 1)",
                    name="reputation_in_range"),
)
