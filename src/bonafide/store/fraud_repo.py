"""Repository of the fraud engine's runs and of the moderators' decisions read as labels.

Owns: every SQL statement on ``scoring_runs``, and the read of ``moderation_actions`` and
``reports`` (the order engineer's tables) that turns decisions into known-bad / known-good
labels for ``service.trust``. Imports: SQLAlchemy and ``bonafide.store`` tables. Never commits.

Decisions as labels (issue 4, part 5): an enforcement action that affected an account (hide one
of its listings or reviews, suspend it) makes it known bad from the action's time; the action
being reversed (an appeal granted) makes it known good from the reversal; a report against an
account dismissed without action makes it known good from the dismissal. The latest decision
about an account wins. Suspended accounts are labelled bad by ``service.trust`` whatever this
says.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, insert, select, text
from sqlalchemy.orm import Session

from bonafide.store.fraud_tables import scoring_runs
from bonafide.store.market_tables import server_secrets
from bonafide.store.order_tables import moderation_actions, reports, reviews
from bonafide.store.trust_repo import FINGERPRINT_PREFIX

RUNS_LOCK_KEY = 0x626F6E61_66726175
"""PostgreSQL advisory lock taken while a run is written, so two schedulers never both write."""
DECISIONS_MAX = 1_000_000
"""The most moderation actions (and, separately, dismissed reports) one read of labels takes."""

ENFORCEMENT_KINDS = ("hide_listing", "hide_review", "suspend_account")
"""Action kinds that mean a moderator found against the affected account."""

LABEL_BAD = 1
LABEL_GOOD = 0


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run of the engine inside the service."""

    id: str
    ran_at: datetime
    inputs_key: str
    method: str
    reviews: int
    scores_written: int
    flagged: int
    reports_filed: int


class FraudRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- runs ----------------------------------------------------------------------------------
    def lock_runs(self) -> None:
        """Serialise writers of runs until the transaction ends. SQLite needs nothing: every
        read-write transaction there begins IMMEDIATE, one writer at a time."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": RUNS_LOCK_KEY})

    def last_run(self) -> RunRow | None:
        row = self.session.execute(
            select(scoring_runs).order_by(scoring_runs.c.ran_at.desc(), scoring_runs.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return RunRow(row.id, _utc(row.ran_at), row.inputs_key, row.method, int(row.reviews),
                      int(row.scores_written), int(row.flagged), int(row.reports_filed))

    def run_count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(scoring_runs))
                   .scalar_one())

    def add_run(self, run: RunRow) -> None:
        self.session.execute(insert(scoring_runs).values(
            id=run.id, ran_at=run.ran_at, inputs_key=run.inputs_key, method=run.method,
            reviews=run.reviews, scores_written=run.scores_written, flagged=run.flagged,
            reports_filed=run.reports_filed,
        ))

    def watermark(self) -> str:
        """A cheap digest of the engine's inputs, from counts and latest times only.

        It changes when a review is revealed, hidden or shown again, a fingerprint is stored, or
        a moderator acts, reverses an action or dismisses a report: all of them add rows or
        move a count, since reviews, actions and fingerprints are never deleted. The scheduler
        checks it every tick, so it must not read the whole graph as ``trust.engine_inputs`` does.
        """
        r, a = reviews.c, moderation_actions.c
        parts = [
            self.session.execute(
                select(func.count(), func.sum(case((r.hidden, 1), else_=0)),
                       func.max(r.revealed_at)).where(r.revealed_at.is_not(None))
            ).one(),
            self.session.execute(
                select(func.count()).select_from(server_secrets)
                .where(server_secrets.c.name.startswith(FINGERPRINT_PREFIX, autoescape=True))
            ).one(),
            self.session.execute(
                select(func.count(), func.count(a.reversed_at), func.max(a.at),
                       func.max(a.reversed_at))
            ).one(),
            self.session.execute(
                select(func.count(), func.max(reports.c.handled_at))
                .where(reports.c.state == "dismissed")
            ).one(),
        ]
        text_form = "|".join(",".join(str(v) for v in row) for row in parts)
        return hashlib.sha256(text_form.encode()).hexdigest()

    # --- reports the engine files --------------------------------------------------------------
    def open_account_reports_by(self, reporter_id: str) -> set[str]:
        """Accounts with an open report filed by ``reporter_id`` (to never file a second)."""
        return set(self.session.scalars(
            select(reports.c.target_id).where(
                reports.c.reporter_id == reporter_id,
                reports.c.target_kind == "account",
                reports.c.state == "open",
            )
        ))

    # --- decisions as labels -------------------------------------------------------------------
    def decision_labels(self) -> dict[str, int]:
        """Account id → ``LABEL_BAD`` or ``LABEL_GOOD`` from the latest decision about it."""
        a = moderation_actions.c
        events: list[tuple[datetime, int, str, int]] = []
        actions = self.session.execute(
            select(a.affected_account_id, a.at, a.reversed_at)
            .where(a.kind.in_(ENFORCEMENT_KINDS), a.affected_account_id.is_not(None))
            .order_by(a.at, a.id).limit(DECISIONS_MAX)
        ).all()
        for row in actions:
            # At the same instant a reversal is later than its action; a dismissal ties last.
            events.append((_utc(row.at), 0, row.affected_account_id, LABEL_BAD))
            if row.reversed_at is not None:
                events.append((_utc(row.reversed_at), 1, row.affected_account_id, LABEL_GOOD))
        dismissed = self.session.execute(
            select(reports.c.target_id, reports.c.handled_at).where(
                reports.c.target_kind == "account",
                reports.c.state == "dismissed",
                reports.c.handled_at.is_not(None),
            ).order_by(reports.c.handled_at, reports.c.id).limit(DECISIONS_MAX)
        ).all()
        events.extend((_utc(r.handled_at), 2, r.target_id, LABEL_GOOD) for r in dismissed)
        events.sort(key=lambda e: (e[0], e[1]))
        return {account: label for _, _, account, label in events}
