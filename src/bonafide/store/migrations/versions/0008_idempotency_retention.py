"""Idempotency keys are kept for a retention period: an index on their creation time.

Revision ID: 0008_idempotency_retention
Revises: 0007_fraud_engine

The scheduler deletes keys older than ``BONAFIDE_IDEMPOTENCY_RETENTION`` a batch at a time, oldest
first (``service.idempotency.purge_expired``); the index keeps that a range scan.
"""

from __future__ import annotations

from alembic import op

revision = "0008_idempotency_retention"
down_revision = "0007_fraud_engine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
