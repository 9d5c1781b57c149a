"""The baseline seller reputation: a Bayesian average of verified ratings, with outcome rates.

Owns: the prior, the shrinkage of small samples and the breakdown of what raised or lowered a
score. Imports: the standard library only. Pure. The fraud engine (DESIGN.md §5) replaces it
later behind ``service.reputation.seller_reputation``.

Model
-----
``rating`` is the Bayesian average of the revealed, visible overall ratings (1-5) of completed
orders, with ``PRIOR_WEIGHT`` imaginary reviews at ``PRIOR_MEAN``::

    rating = (PRIOR_MEAN * PRIOR_WEIGHT + sum(stars)) / (PRIOR_WEIGHT + n)

``dispute_rate`` and ``refund_rate`` are shrunk the same way towards ``PRIOR_RATE`` with
``RATE_PRIOR_WEIGHT`` imaginary orders. The score in [0, 1] is the rating rescaled to [0, 1],
minus half of each rate::

    score = clamp((rating - 1) / 4 - DISPUTE_PENALTY * dispute_rate - REFUND_PENALTY * refund_rate)

Uncertainty: the rating's standard error pools the sample's spread with ``PRIOR_SPREAD`` stars
worth ``PRIOR_WEIGHT`` reviews, ``se = sqrt(var / (PRIOR_WEIGHT + n))``; the score's 95 % interval
is ``score -/+ 1.96 * se / 4`` (clamped to [0, 1]), narrowing as verified reviews accumulate.

Worked example: 3 reviews of 5, 5 and 2 stars, 10 finished orders, 1 disputed, 0 refunded::

    rating       = (4.0 * 5 + 12) / (5 + 3)           = 4.0
    dispute_rate = (0.05 * 10 + 1) / (10 + 10)        = 0.075
    refund_rate  = (0.05 * 10 + 0) / (10 + 10)        = 0.025
    score        = 0.75 - 0.5 * 0.075 - 0.5 * 0.025   = 0.70
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

PRIOR_MEAN = 4.0
"""Where an unknown seller's rating starts: a little below the typical (inflated) 5 stars."""
PRIOR_WEIGHT = 5.0
"""How many reviews the prior counts as."""
PRIOR_RATE = 0.05
"""Where an unknown seller's dispute and refund rates start."""
PRIOR_SPREAD = 1.0
"""The standard deviation of stars assumed before any review (one star either way)."""
RATE_PRIOR_WEIGHT = 10.0
DISPUTE_PENALTY = 0.5
REFUND_PENALTY = 0.5


@dataclass(frozen=True, slots=True)
class Factor:
    """One line of the breakdown: a named input, its value and its effect on the score."""

    name: str
    value: float
    effect: float
    explanation: str


@dataclass(frozen=True, slots=True)
class BaselineReputation:
    score: float
    rating: float
    verified_reviews: int
    orders_finished: int
    dispute_rate: float
    refund_rate: float
    breakdown: tuple[Factor, ...]
    score_low: float
    score_high: float
    """A 95 % interval around ``score`` from the rating's uncertainty (the rates' is ignored)."""
    method: str = "baseline_bayesian_average"


def _shrunk_rate(events: int, trials: int) -> float:
    return (PRIOR_RATE * RATE_PRIOR_WEIGHT + events) / (RATE_PRIOR_WEIGHT + trials)


def baseline_reputation(
    *, stars: Sequence[int], orders_finished: int, orders_disputed: int, orders_refunded: int
) -> BaselineReputation:
    """Score a seller from their verified ratings and order outcomes (see the module docstring).

    >>> r = baseline_reputation(stars=[5, 5, 2], orders_finished=10, orders_disputed=1,
    ...                         orders_refunded=0)
    >>> round(r.rating, 3), round(r.score, 3)
    (4.0, 0.7)
    """
    assert all(1 <= s <= 5 for s in stars)
    assert 0 <= orders_disputed <= orders_finished and 0 <= orders_refunded <= orders_finished
    n = len(stars)
    rating = (PRIOR_MEAN * PRIOR_WEIGHT + sum(stars)) / (PRIOR_WEIGHT + n)
    dispute_rate = _shrunk_rate(orders_disputed, orders_finished)
    refund_rate = _shrunk_rate(orders_refunded, orders_finished)
    rating_part = (rating - 1.0) / 4.0
    prior_part = (PRIOR_MEAN - 1.0) / 4.0
    dispute_effect = -DISPUTE_PENALTY * dispute_rate
    refund_effect = -REFUND_PENALTY * refund_rate
    score = min(1.0, max(0.0, rating_part + dispute_effect + refund_effect))
    spread = PRIOR_WEIGHT * PRIOR_SPREAD**2 + sum((s - rating) ** 2 for s in stars)
    standard_error = math.sqrt(spread / (PRIOR_WEIGHT + n) / (PRIOR_WEIGHT + n))
    half_width = 1.96 * standard_error / 4.0
    breakdown = (
        Factor(
            "prior",
            PRIOR_MEAN,
            prior_part,
            f"an unknown seller starts at {PRIOR_MEAN} stars, worth {PRIOR_WEIGHT:g} reviews",
        ),
        Factor(
            "verified_reviews",
            float(n),
            rating_part - prior_part,
            f"{n} verified reviews move the average from {PRIOR_MEAN} to {rating:.2f} stars",
        ),
        Factor(
            "dispute_rate",
            dispute_rate,
            dispute_effect,
            f"{orders_disputed} of {orders_finished} finished orders were disputed",
        ),
        Factor(
            "refund_rate",
            refund_rate,
            refund_effect,
            f"{orders_refunded} of {orders_finished} finished orders were refunded",
        ),
    )
    return BaselineReputation(
        score=score,
        rating=rating,
        verified_reviews=n,
        orders_finished=orders_finished,
        dispute_rate=dispute_rate,
        refund_rate=refund_rate,
        breakdown=breakdown,
        score_low=max(0.0, score - half_width),
        score_high=min(1.0, score + half_width),
    )
