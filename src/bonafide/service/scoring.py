"""Batch scoring use cases: the market's rating graph out, a cluster's scores back in.

Owns: ``export_ratings`` (revealed reviews as rating batches, read in one read-only transaction)
and ``import_scores`` (per-account fraud scores and reputations, written in one transaction).
Imports: ``bonafide.store`` (the scoring repository) and ``bonafide.errors``. What happens in
between — writing Parquet, scoring on Dask, reading CSV — is the interfaces' and the engine's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bonafide.errors import Rejected
from bonafide.store.scoring_repo import PAGE_ROWS_MAX, ScoreRow, ScoringRepository
from bonafide.store.uow import UnitOfWork

SCORES_MAX = 20_000_000
"""Limit on the accounts one import may carry."""


@dataclass
class RatingBatch:
    """Columns of up to one page of ratings (``rating`` in stars 1..5, ``timestamp`` in Unix
    seconds, ``value`` the order's total in minor units of ``currency``)."""

    rater: list[str] = field(default_factory=list)
    ratee: list[str] = field(default_factory=list)
    rating: list[int] = field(default_factory=list)
    timestamp: list[float] = field(default_factory=list)
    value: list[int] = field(default_factory=list)
    currency: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rater)


def export_ratings(uow: UnitOfWork, *, page_rows: int = 50_000) -> Iterator[RatingBatch]:
    """Yield every revealed review as ratings, page by page, from one consistent snapshot.

    The unit of work stays open (read-only) until the iterator is exhausted or closed, so a
    long export sees one state of the database.
    """
    if not 0 < page_rows <= PAGE_ROWS_MAX:
        raise Rejected("page_size_out_of_range", f"page_rows must be in 1..{PAGE_ROWS_MAX}")
    with uow:
        repo = uow.repo(ScoringRepository)
        after: str | None = None
        while True:
            rows = repo.ratings_page(after=after, limit=page_rows)
            if not rows:
                return
            batch = RatingBatch()
            for row in rows:
                batch.rater.append(row.rater)
                batch.ratee.append(row.ratee)
                batch.rating.append(row.rating)
                batch.timestamp.append(row.submitted_at.timestamp())
                batch.value.append(row.order_value)
                batch.currency.append(row.currency)
            yield batch
            after = rows[-1].review_id


@dataclass(frozen=True)
class ImportedScore:
    """One account's scores from a scoring run; either may be missing (not a rater / ratee)."""

    account_id: str
    fraud_score: float | None
    reputation: float | None


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows written, and ids that name no account here (skipped)."""

    run_id: str
    imported: int
    unknown_accounts: int


def import_scores(
    uow: UnitOfWork, *, scores: Sequence[ImportedScore], run_id: str, now: datetime
) -> ImportReport:
    """Store ``scores``, replacing earlier scores of the same accounts; all or nothing.

    Raises ``Rejected`` (``score_outside_range``) for a score that is not a number in [0, 1],
    ``scores_over_limit`` past ``SCORES_MAX`` rows, and ``scores_name_no_known_account`` when
    not one id is an account of this market (the wrong file, most likely).
    """
    if len(scores) > SCORES_MAX:
        raise Rejected("scores_over_limit", f"at most {SCORES_MAX:,} accounts per import")
    if not scores:
        raise Rejected("scores_empty", "no scores to import")
    seen: set[str] = set()
    for score in scores:
        for value in (score.fraud_score, score.reputation):
            if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise Rejected("score_outside_range",
                               f"{score.account_id}: scores must be numbers in [0, 1]")
        if score.account_id in seen:
            raise Rejected("account_listed_twice", f"{score.account_id} appears twice")
        seen.add(score.account_id)
    with uow:
        repo = uow.repo(ScoringRepository)
        known = repo.known_accounts([s.account_id for s in scores])
        if not known:
            raise Rejected("scores_name_no_known_account",
                           "no account in the file belongs to this market")
        rows = [ScoreRow(s.account_id, s.fraud_score, s.reputation, run_id, now)
                for s in scores if s.account_id in known]
        repo.replace_scores(rows)
        uow.commit()
    return ImportReport(run_id, len(rows), len(scores) - len(rows))


def imported_score(uow: UnitOfWork, *, account_id: str) -> ScoreRow | None:
    """The latest imported scores of one account, if any."""
    with uow:
        return uow.repo(ScoringRepository).score_of(account_id)
