"""The fraud engine wired into the service: scores refreshed, stored, and flags queued.

Owns: ``refresh_scores``, the use case the scheduler runs on each tick (issue 4, part 5).
Imports: ``bonafide.service.trust`` (the engine's inputs and run: this module builds no graph of
its own), ``bonafide.market.moderation`` (reports), ``bonafide.store`` (``fraud_repo``,
``scoring_repo``, ``order_repo``'s moderation repository, the unit of work).

When it runs
    ``refresh_scores`` re-runs the engine when its inputs changed since the last run (a batch of
    reviews revealed, a review hidden, a fingerprint added, a moderator's decision: the cheap
    digest ``FraudRepository.watermark`` differs from the one stored with the last run), when
    ``settings.score_interval`` has passed since the last run (evidence decays with time), or
    when forced. Otherwise it does nothing and says so (``RefreshReport.ran`` is false).
What it stores
    Every account of the rating graph gets a row in ``fraud_scores`` (its fraud score, and its
    reputation if it was rated) with ``run_id`` = ``engine:<iso time>``; a cluster import
    (``service.scoring.import_scores``) writes the same table, and the latest run of either kind
    wins per account. The run itself is a ``scoring_runs`` row with the inputs' digest.
The moderation queue
    Each account at or above ``settings.fraud_flag_threshold`` gets one open report against it,
    filed by the system actor ``SYSTEM_REPORTER`` with the engine's reasons as its text, unless
    it already has an open one from the engine, is suspended, or a moderator already decided
    about it (its label then fixes its score at 0 or 1). The run, its scores and its reports
    commit together, so a crash half-way files nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bonafide.ids import new_id
from bonafide.market.moderation import REASON_MAX, Report, ReportState, TargetKind
from bonafide.service import trust
from bonafide.settings import Settings
from bonafide.store.fraud_repo import FraudRepository, RunRow
from bonafide.store.order_repo import ModerationRepository
from bonafide.store.scoring_repo import ScoreRow, ScoringRepository
from bonafide.store.uow import UnitOfWork

SYSTEM_REPORTER = "system:fraud-engine"
"""The reporter id of the reports the engine files (not an account; see migration 0007)."""
REPORTS_PER_RUN_MAX = 200
"""The most reports one run files (highest scores first); the rest wait for the next run."""
RUN_PREFIX = "engine:"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What one call did. ``why`` is ``forced``, ``first_run``, ``inputs_changed``,
    ``interval_elapsed`` when it ran, and ``up_to_date`` (or ``ran_elsewhere``: another
    scheduler stored a run meanwhile) when it did not."""

    ran: bool
    why: str
    run_id: str | None
    method: str | None
    reviews: int
    scores_written: int
    flagged: int
    reports_filed: int


def _why(last: RunRow | None, *, key: str, settings: Settings, now: datetime,
         force: bool) -> str | None:
    if force:
        return "forced"
    if last is None:
        return "first_run"
    if last.inputs_key != key:
        return "inputs_changed"
    if now - last.ran_at >= settings.score_interval:
        return "interval_elapsed"
    return None


def _score_rows(report: trust.TrustReport, *, run_id: str, now: datetime) -> list[ScoreRow]:
    return [
        ScoreRow(account, risk.fraud_score,
                 report.reputation[account][0] if account in report.reputation else None,
                 run_id, now)
        for account, risk in sorted(report.accounts.items())
    ]


def report_reason(risk: trust.AccountRisk, *, threshold: float) -> str:
    """The text of the report the engine files: its score, then its reasons, most telling first."""
    head = (f"fraud engine: score {risk.fraud_score:.2f} (flagged from {threshold:.2f}); "
            f"{risk.ratings_given} ratings given, {risk.ratings_received} received")
    if risk.linked_handles:
        head += f"; shares a fingerprint with {', '.join(risk.linked_handles[:10])}"
    reasons = "; ".join(risk.reasons) or "several weak signals together, none decisive alone"
    text = f"{head}. Reasons: {reasons}."
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def _to_report(risk: trust.AccountRisk, *, threshold: float, now: datetime) -> Report:
    return Report(
        id=new_id("rpt", now=now),
        reporter_id=SYSTEM_REPORTER,
        target_kind=TargetKind.ACCOUNT,
        target_id=risk.account_id,
        reason=report_reason(risk, threshold=threshold),
        state=ReportState.OPEN,
        created_at=now,
        handled_at=None,
        handled_by=None,
        action_id=None,
    )


def refresh_scores(
    new_uow: Callable[[], UnitOfWork], *, settings: Settings, now: datetime, force: bool = False
) -> RefreshReport:
    """Run the engine if its inputs changed or its interval passed; store scores, queue flags."""
    with new_uow() as uow:
        runs = uow.repo(FraudRepository)
        key = runs.watermark()
        last = runs.last_run()
    why = _why(last, key=key, settings=settings, now=now, force=force)
    if why is None:
        return RefreshReport(False, "up_to_date", None, None, 0, 0, 0, 0)
    # The run reads the inputs after ``key`` was taken: if they moved meanwhile, the stored key
    # is the older one and the next tick simply runs again; no change can be missed.
    report = trust.trust_report(new_uow(), now=now, refresh=True)
    threshold = settings.fraud_flag_threshold
    flagged = sorted((r for r in report.accounts.values() if r.fraud_score >= threshold),
                     key=lambda r: (-r.fraud_score, r.account_id))
    with new_uow() as uow:
        runs = uow.repo(FraudRepository)
        runs.lock_runs()
        landed = runs.last_run()
        if landed != last:
            # Another scheduler stored a run while this one scored: its scores and reports stand.
            return RefreshReport(False, "ran_elsewhere", None, report.method, report.reviews,
                                 0, len(flagged), 0)
        run_id = f"{RUN_PREFIX}{now.isoformat()}"
        if last is not None and last.id.startswith(run_id):
            run_id = f"{run_id}#{runs.run_count()}"  # forced twice at one instant
        rows = _score_rows(report, run_id=run_id, now=now)
        uow.repo(ScoringRepository).replace_scores(rows)
        already = runs.open_account_reports_by(SYSTEM_REPORTER)
        decided = runs.decision_labels()
        fresh = [r for r in flagged if r.account_id not in already and not r.suspended
                 and r.account_id not in decided][:REPORTS_PER_RUN_MAX]
        moderation = uow.repo(ModerationRepository)
        for risk in fresh:
            moderation.add_report(_to_report(risk, threshold=threshold, now=now))
        runs.add_run(RunRow(run_id, now, key, report.method[:64], report.reviews, len(rows),
                            len(flagged), len(fresh)))
        uow.commit()
    if report.method.startswith("unavailable"):
        log.warning("fraud engine run %s stored no scores: %s", run_id, report.method)
    return RefreshReport(True, why, run_id, report.method, report.reviews, len(rows),
                         len(flagged), len(fresh))


def last_run(uow: UnitOfWork) -> RunRow | None:
    """The latest run of the engine inside the service, if any."""
    with uow:
        return uow.repo(FraudRepository).last_run()
