"""Tables of the fraud engine's runs inside the service (issue 4, part 5).

Owns: ``scoring_runs`` (migration ``0007_fraud_engine`` creates exactly this). Imports:
SQLAlchemy and ``bonafide.store.base``.

- ``scoring_runs``: one row per run of the engine by ``service.fraud.refresh_scores``: when it
  ran, a digest of its inputs (revealed reviews, fingerprint links, moderators' labels), so the
  next refresh can tell whether anything changed, and what it did (scores written, accounts
  flagged, reports filed). The scores themselves go to ``fraud_scores`` with ``run_id`` =
  ``scoring_runs.id`` (``engine:<iso time>``), beside the imports of a cluster run.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table

from bonafide.store.base import metadata

scoring_runs = Table(
    "scoring_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("inputs_key", String(64), nullable=False),
    Column("method", String(64), nullable=False),
    Column("reviews", Integer, nullable=False),
    Column("scores_written", Integer, nullable=False),
    Column("flagged", Integer, nullable=False),
    Column("reports_filed", Integer, nullable=False),
    Index("ix_scoring_runs_ran_at", "ran_at"),
)
