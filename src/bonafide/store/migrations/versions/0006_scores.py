"""Batch scoring results: fraud_scores.

Revision ID: 0006_scores
Revises: 0005_support_promotions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_scores"
down_revision = "0005_support_promotions"
branch_labels = None
depends_on = None

ID = 40


def upgrade() -> None:
    op.create_table(
        "fraud_scores",
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("fraud_score", sa.Float(), nullable=True),
        sa.Column("reputation", sa.Float(), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("fraud_score IS NULL OR (fraud_score >= 0 AND fraud_score <= 1)",
                           name="ck_fraud_scores_fraud_score_in_range"),
        sa.CheckConstraint("reputation IS NULL OR (reputation >= 0 AND reputation <= 1)",
                           name="ck_fraud_scores_reputation_in_range"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name="fk_fraud_scores_account_id_accounts"),
        sa.PrimaryKeyConstraint("account_id", name="pk_fraud_scores"),
    )


def downgrade() -> None:
    op.drop_table("fraud_scores")
