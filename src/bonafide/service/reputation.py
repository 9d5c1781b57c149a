"""Seller reputation as the API serves it: the fraud engine's score, interval and reasons, with
the transparent baseline of ``market.reputation_baseline`` kept beside it.

Owns: ``seller_reputation``, the seam. Imports: ``bonafide.market``, ``bonafide.store``,
``bonafide.service.accounts``, ``bonafide.service.trust`` (the engine's read model) and SciPy
(the prior's interval when the engine has no ratings of the seller).

How the score is made (DESIGN.md §4)
    1. Start from the engine (``service.trust``): the seller's reputation over revealed ratings,
       each weighted by its rater's trust and the order's value, decayed and shrunk to the
       market's prior, with its 90 % interval. A seller nobody has rated yet (or a market whose
       engine run did not converge) starts from the baseline's prior instead: the Bayesian
       average rescaled to [0, 1], with the interval of a Beta prior worth ``PRIOR_WEIGHT``
       ratings.
    2. Fold in imported evidence (DESIGN.md §7), which the engine leaves out: each unexpired
       attestation from another market counts as ``effective_orders`` (its orders times its
       weight, 25 % by default) ratings at its score, mixed with this market's evidence
       (the seller's verified reviews plus the prior's ``PRIOR_WEIGHT``).
    3. Subtract the baseline's dispute and refund penalties (half of each shrunk rate), which the
       engine leaves out too; the score and both ends of the interval move alike, then are clamped
       to [0, 1].
    4. Add the customer-service steps of ``market.service_reputation`` (responsiveness and
       satisfaction over the last 90 days, shrunk towards their norms), shifted like step 3.
    The ``breakdown`` lists these steps as effects that add up to the score; ``reasons`` are the
    engine's own (what raised or lowered its reputation, and the fraud signals that fired).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scipy import stats

from bonafide.errors import NotFound
from bonafide.market.accounts import Role
from bonafide.market.reputation_baseline import (
    DISPUTE_PENALTY,
    PRIOR_WEIGHT,
    REFUND_PENALTY,
    BaselineReputation,
    Factor,
    baseline_reputation,
)
from bonafide.market.service_reputation import service_steps
from bonafide.service import trust
from bonafide.service.accounts import principal_of
from bonafide.service.service_figures import figures_in
from bonafide.store.attest_repo import AttestationRepository
from bonafide.store.order_repo import OrderRepository, ReviewRepository
from bonafide.store.uow import UnitOfWork

BASIS_POINTS = 10_000
IMPORTED_MAX = 100
"""The most imported attestations one score reads."""
INTERVAL_LEVEL = 0.9


@dataclass(frozen=True, slots=True)
class Reason:
    """One of the engine's reasons; ``applies_to`` is ``reputation`` or ``fraud_score``."""

    code: str
    effect: float
    detail: str
    applies_to: str


@dataclass(frozen=True, slots=True)
class SellerReputation:
    """The served score (``score`` within ``low``..``high``) and what it is made of."""

    score: float
    low: float
    high: float
    method: str
    breakdown: tuple[Factor, ...]
    reasons: tuple[Reason, ...]
    engine_score: float | None
    fraud_score: float | None
    imported_orders: int
    baseline: BaselineReputation

    @property
    def rating(self) -> float:
        return self.baseline.rating

    @property
    def verified_reviews(self) -> int:
        return self.baseline.verified_reviews

    @property
    def orders_finished(self) -> int:
        return self.baseline.orders_finished

    @property
    def dispute_rate(self) -> float:
        return self.baseline.dispute_rate

    @property
    def refund_rate(self) -> float:
        return self.baseline.refund_rate


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))


def _prior_interval(mean: float, strength: float) -> tuple[float, float]:
    m = min(max(mean, 0.01), 0.99)
    tail = (1.0 - INTERVAL_LEVEL) / 2.0
    low = float(stats.beta.ppf(tail, strength * m, strength * (1 - m)))
    high = float(stats.beta.ppf(1.0 - tail, strength * m, strength * (1 - m)))
    return min(low, mean), max(high, mean)


def _reasons(report: trust.TrustReport, seller_id: str) -> tuple[Reason, ...]:
    found = tuple(
        Reason(f.code, f.effect, f.detail,
               "fraud_score" if f.code.startswith(("fraud_signal_", "trust_")) else "reputation")
        for f in report.breakdown.get(seller_id, ())
    )
    risk = report.accounts.get(seller_id)
    flags: tuple[Reason, ...] = ()
    if risk is not None and risk.fraud_score >= trust.FLAG_THRESHOLD:
        flags = tuple(Reason("flagged", risk.fraud_score, text, "fraud_score")
                      for text in risk.reasons)
    return flags + found


def seller_reputation(
    uow: UnitOfWork, *, seller_id: str, now: datetime, report: trust.TrustReport | None = None
) -> SellerReputation:
    """The seller's score with its interval, breakdown and reasons (see the module docstring).

    ``report`` is the engine's view when the caller has it already (see ``seller_trust``)."""
    with uow:
        try:
            seller = principal_of(uow, seller_id)
        except NotFound:
            seller = None
        if seller is None or not seller.has_role(Role.seller):
            raise NotFound("seller_not_found", f"no seller {seller_id}")
        stars = uow.repo(ReviewRepository).revealed_stars_about(seller_id)
        finished, disputed, refunded = uow.repo(OrderRepository).seller_outcomes(seller_id)
        imported = uow.repo(AttestationRepository).imported_of(seller_id, limit=IMPORTED_MAX)
        service = service_steps(figures_in(uow, seller_id=seller_id, now=now))
    baseline = baseline_reputation(stars=stars, orders_finished=finished,
                                   orders_disputed=disputed, orders_refunded=refunded)
    if report is None:
        report = trust.trust_report(uow, now=now)
    engine = report.reputation.get(seller_id)
    reasons = _reasons(report, seller_id)
    if engine is not None:
        start, low, high = engine
        method = f"engine_{report.method}"
        start_text = (f"the fraud engine's reputation over {baseline.verified_reviews} verified "
                      f"ratings, weighted by each rater's trust and the order's value")
    else:
        start = (baseline.rating - 1.0) / 4.0
        low, high = _prior_interval(start, PRIOR_WEIGHT + baseline.verified_reviews)
        method = baseline.method
        start_text = ("no revealed ratings reach the engine yet: the baseline's Bayesian "
                      f"average ({baseline.rating:.2f} stars) rescaled to 0..1")
        unrated = Reason("no_engine_score", 0.0, f"engine: {report.method}; {start_text}",
                         "reputation")
        reasons = (unrated, *reasons)
    valid = [row for row in imported if now < row["expires_at"]]
    weight = [int(row["verified_orders"]) * int(row["weight_bp"]) // BASIS_POINTS for row in valid]
    imported_orders = sum(weight)
    own = PRIOR_WEIGHT + baseline.verified_reviews
    praise = float(sum(w * int(row["score_bp"]) for w, row in zip(weight, valid, strict=True)))
    praise /= BASIS_POINTS

    def mixed(x: float) -> float:
        return (own * x + praise) / (own + imported_orders)

    penalty_dispute = -DISPUTE_PENALTY * baseline.dispute_rate
    penalty_refund = -REFUND_PENALTY * baseline.refund_rate
    shift = penalty_dispute + penalty_refund + sum(step.effect for step in service)
    raw = mixed(start) + shift
    score = _clamp(raw)
    breakdown = [
        Factor("engine_reputation", start, start, start_text),
        Factor("imported_evidence", float(imported_orders), mixed(start) - start,
               f"{len(valid)} attestations from other markets count as {imported_orders} "
               f"ratings beside this market's {own:g}"),
        Factor("dispute_rate", baseline.dispute_rate, penalty_dispute,
               f"{disputed} of {finished} finished orders were disputed"),
        Factor("refund_rate", baseline.refund_rate, penalty_refund,
               f"{refunded} of {finished} finished orders were refunded"),
        *service,
    ]
    if score != raw:
        breakdown.append(Factor("clamped_to_range", raw, score - raw, "kept within 0..1"))
    risk = report.accounts.get(seller_id)
    return SellerReputation(
        score=score,
        low=min(_clamp(mixed(low) + shift), score),
        high=max(_clamp(mixed(high) + shift), score),
        method=method,
        breakdown=tuple(breakdown),
        reasons=reasons,
        engine_score=None if engine is None else engine[0],
        fraud_score=None if risk is None else risk.fraud_score,
        imported_orders=imported_orders,
        baseline=baseline,
    )
