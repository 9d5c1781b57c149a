"""Seller reputation: ``GET /v1/sellers/{id}/reputation`` (anyone), a score with its breakdown.

Today the transparent baseline (Bayesian average of verified ratings, dispute and refund rates);
the fraud engine replaces the internals behind ``service.reputation.seller_reputation``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from bonafide.api.deps import ContainerDep
from bonafide.api.problems import problem_responses
from bonafide.api.routes.orders import ID_PATTERN
from bonafide.service import reputation as service

router = APIRouter(prefix="/v1", tags=["reputation"], responses=problem_responses(400, 422, 429))


class FactorOut(BaseModel):
    name: str
    value: float
    effect: float = Field(description="What this factor adds to (or takes from) the score")
    explanation: str


class ReputationOut(BaseModel):
    seller_id: str
    method: str
    score: float = Field(description="0 to 1: how likely a good outcome is with this seller")
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
)
def seller_reputation(
    seller_id: Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)],
    container: ContainerDep,
) -> ReputationOut:
    """The seller's reputation and what raised or lowered it."""
    found = service.seller_reputation(
        container.uow(read_only=True), seller_id=seller_id, now=container.clock.now()
    )
    return ReputationOut(
        seller_id=seller_id,
        method=found.method,
        score=found.score,
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
