"""The fraud engine inside the service: scoring_runs; reports may come from a system actor.

Revision ID: 0007_fraud_engine
Revises: 0006_scores

``reports.reporter_id`` loses its foreign key to ``accounts``: the fraud engine files reports as
the system actor ``system:fraud-engine``, which is not an account (as the order history's
``system`` actor is not). ``service.moderation.file_report`` still takes a signed-in account for
people's reports, so every other reporter id remains an account id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_fraud_engine"
down_revision = "0006_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scoring_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inputs_key", sa.String(64), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("scores_written", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("reports_filed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scoring_runs"),
    )
    op.create_index("ix_scoring_runs_ran_at", "scoring_runs", ["ran_at"])
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint("fk_reports_reporter_id_accounts", type_="foreignkey")


def downgrade() -> None:
    # Reports filed by a system actor would break the restored key: they go first.
    op.execute("DELETE FROM reports WHERE reporter_id LIKE 'system:%'")
    with op.batch_alter_table("reports") as batch:
        batch.create_foreign_key("fk_reports_reporter_id_accounts", "accounts",
                                 ["reporter_id"], ["id"])
    op.drop_index("ix_scoring_runs_ran_at", table_name="scoring_runs")
    op.drop_table("scoring_runs")
