"""Repository of batch scoring: the rating graph read out of the reviews, the scores read in.

Owns: the read-only query over the order engineer's ``reviews`` and ``orders`` tables that exports
ratings, and every SQL statement on ``fraud_scores``. Imports: SQLAlchemy and ``bonafide.store``.
Repositories never commit; the unit of work does. SQLite stores timestamps without a zone;
everything written is UTC, so ``_utc`` puts the zone back on the way out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from bonafide.store.market_tables import accounts
from bonafide.store.order_tables import orders, reviews
from bonafide.store.scoring_tables import fraud_scores

PAGE_ROWS_MAX = 100_000
"""Limit on the ratings one page reads."""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RatingRow:
    """One revealed review as a rating: author → subject, 1..5 stars, when, the order's value."""

    review_id: str
    rater: str
    ratee: str
    rating: int
    submitted_at: datetime
    order_value: int
    currency: str


@dataclass(frozen=True)
class ScoreRow:
    """One account's imported scores."""

    account_id: str
    fraud_score: float | None
    reputation: float | None
    run_id: str
    imported_at: datetime


class ScoringRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def ratings_page(self, *, after: str | None, limit: int) -> list[RatingRow]:
        """Revealed reviews in id order after ``after`` (keyset paging), at most ``limit``.

        Hidden reviews are included: moderation hid them from buyers, but they are evidence for
        the fraud engine (a hidden fake review still says who wrote it for whom).
        """
        assert 0 < limit <= PAGE_ROWS_MAX
        query = (
            select(reviews.c.id, reviews.c.author_id, reviews.c.subject_id, reviews.c.overall,
                   reviews.c.submitted_at, orders.c.total_value, orders.c.currency)
            .join(orders, orders.c.id == reviews.c.order_id)
            .where(reviews.c.revealed_at.is_not(None))
            .order_by(reviews.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(reviews.c.id > after)
        return [
            RatingRow(r.id, r.author_id, r.subject_id, int(r.overall), _utc(r.submitted_at),
                      int(r.total_value), r.currency)
            for r in self.session.execute(query)
        ]

    def known_accounts(self, account_ids: Sequence[str]) -> set[str]:
        """Which of ``account_ids`` exist."""
        found: set[str] = set()
        for start in range(0, len(account_ids), 500):
            batch = list(account_ids[start:start + 500])
            found.update(self.session.scalars(select(accounts.c.id)
                                              .where(accounts.c.id.in_(batch))))
        return found

    def replace_scores(self, rows: Sequence[ScoreRow]) -> None:
        """Write ``rows``, replacing any earlier scores of the same accounts."""
        for start in range(0, len(rows), 500):
            batch = rows[start:start + 500]
            self.session.execute(delete(fraud_scores).where(
                fraud_scores.c.account_id.in_([r.account_id for r in batch])))
            self.session.execute(insert(fraud_scores), [
                {"account_id": r.account_id, "fraud_score": r.fraud_score,
                 "reputation": r.reputation, "run_id": r.run_id, "imported_at": r.imported_at}
                for r in batch
            ])

    def score_of(self, account_id: str) -> ScoreRow | None:
        """The account's imported scores, if any."""
        row = self.session.execute(
            select(fraud_scores).where(fraud_scores.c.account_id == account_id)).first()
        if row is None:
            return None
        return ScoreRow(row.account_id,
                        None if row.fraud_score is None else float(row.fraud_score),
                        None if row.reputation is None else float(row.reputation),
                        row.run_id, _utc(row.imported_at))
