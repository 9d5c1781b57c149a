"""Seller reputation: ``GET /v1/sellers/{id}/reputation`` (anyone): the fraud engine's score
with its interval, breakdown and reasons, and the transparent baseline beside it.

How the parts combine is ``service.reputation``'s docstring, summarised in ``DESCRIPTION``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from bonafide.api.deps import ContainerDep
from bonafide.api.problems import problem_responses
from bonafide.api.routes.orders import ID_PATTERN
from bonafide.service import reputation as service

DESCRIPTION = """The seller's reputation: how likely a good outcome is, in 0..1, with a 90 %
interval (`low` ≤ `score` ≤ `high`) and the reasons behind it.

`score` starts from the fraud engine's reputation (verified ratings weighted by each rater's
trust and the order's value, older ones decayed, few ones shrunk to the market's prior; a seller
nobody has rated yet starts from the baseline's prior). Evidence imported from other markets'
attestations is then mixed in at its reduced weight, and half of the dispute and of the refund
rate is subtracted; the interval moves with the score. `breakdown` lists those steps as effects
that add up to `score`; `reasons` are the engine's (reputation parts and fraud signals, and the
fraud flags when the seller is flagged). `rating`, `dispute_rate`, `refund_rate` and
`baseline_score` are the baseline Bayesian average's figures, kept for transparency."""

router = APIRouter(prefix="/v1", tags=["reputation"], responses=problem_responses(400, 422, 429))


class FactorOut(BaseModel):
    name: str
    value: float
    effect: float = Field(description="What this factor adds to (or takes from) the score")
    explanation: str


class ReasonOut(BaseModel):
    code: str
    effect: float = Field(description="Signed change this part makes to `applies_to`")
    detail: str
    applies_to: str = Field(description="`reputation` or `fraud_score`")


class ReputationOut(BaseModel):
    seller_id: str
    method: str
    score: float = Field(description="0 to 1: how likely a good outcome is with this seller")
    low: float = Field(description="Lower end of the 90 % interval of `score`")
    high: float = Field(description="Upper end of the 90 % interval of `score`")
    reasons: list[ReasonOut]
    engine_score: float | None = Field(description="The engine's reputation before the "
                                       "outcome rates and imported evidence; null if unrated")
    fraud_score: float | None = Field(description="The engine's fraud score of this seller")
    imported_orders: int = Field(description="Ratings that imported evidence counts as")
    baseline_score: float = Field(description="The baseline Bayesian average's score, 0 to 1")
    rating: float = Field(description="Bayesian average of verified overall ratings, 1 to 5")
    verified_reviews: int
    orders_finished: int
    dispute_rate: float
    refund_rate: float
    breakdown: list[FactorOut]


@router.get(
    "/sellers/{seller_id}/reputation",
    response_model=ReputationOut,
    responses=problem_responses(404),
    description=DESCRIPTION,
)
def seller_reputation(
    seller_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)],
    container: ContainerDep,
) -> ReputationOut:
    """The seller's reputation, its interval, and what raised or lowered it."""
    found = service.seller_reputation(
        container.uow(read_only=True), seller_id=seller_id, now=container.clock.now()
    )
    return ReputationOut(
        seller_id=seller_id,
        method=found.method,
        score=found.score,
        low=found.low,
        high=found.high,
        reasons=[ReasonOut(code=r.code, effect=r.effect, detail=r.detail, applies_to=r.applies_to)
                 for r in found.reasons],
        engine_score=found.engine_score,
        fraud_score=found.fraud_score,
        imported_orders=found.imported_orders,
        baseline_score=found.baseline.score,
        rating=found.rating,
        verified_reviews=found.verified_reviews,
        orders_finished=found.orders_finished,
        dispute_rate=found.dispute_rate,
        refund_rate=found.refund_rate,
        breakdown=[
            FactorOut(name=f.name, value=f.value, effect=f.effect, explanation=f.explanation)
            for f in found.breakdown
        ],
    )
