"""How customer-service figures move a seller's reputation (DESIGN.md §6: they feed reputation).

Owns: the two service steps of the reputation breakdown. Imports: ``bonafide.market``'s
``service_figures`` and ``reputation_baseline`` (for ``Factor``); pure, no clock.

A seller who answers is the norm, so the steps are asymmetric: poor service can lower the score by
up to ``RESPONSE_WEIGHT * RESPONSE_NORM + CSAT_WEIGHT * (CSAT_NORM - 1) / 4`` (0.1275), good service
raises it by at most 0.0225. Both figures are shrunk towards their norm with a prior worth a few
threads, so one unanswered message or one angry rating cannot swing a score:

- responsiveness: the share of threads answered within 24 hours (wall clock, as buyers live it),
  shrunk with ``RESPONSE_PRIOR_THREADS`` threads at ``RESPONSE_NORM``; effect
  ``RESPONSE_WEIGHT * (shrunk share - RESPONSE_NORM)``;
- satisfaction: the mean CSAT (1-5), shrunk with ``CSAT_PRIOR_RATINGS`` ratings at ``CSAT_NORM``;
  effect ``CSAT_WEIGHT * (shrunk mean - CSAT_NORM) / 4``.

A seller with no threads and no CSAT gets two zero steps: no evidence, no effect.
"""

from __future__ import annotations

from bonafide.market.reputation_baseline import Factor
from bonafide.market.service_figures import ServiceFigures

RESPONSE_NORM = 0.9
RESPONSE_PRIOR_THREADS = 5
RESPONSE_WEIGHT = 0.1
CSAT_NORM = 4.0
CSAT_PRIOR_RATINGS = 5
CSAT_WEIGHT = 0.05


def service_steps(figures: ServiceFigures) -> tuple[Factor, Factor]:
    """The responsiveness and satisfaction steps for ``figures`` (effects add to the score).

    Examples
    --------
    Five threads, none answered within 24 h: the share shrinks to (0 + 5 * 0.9) / 10 = 0.45, so
    the effect is 0.1 * (0.45 - 0.9) = -0.045. Three CSAT ratings of 1: the mean shrinks to
    (3 + 5 * 4) / 8 = 2.875, so the effect is 0.05 * (2.875 - 4) / 4 = -0.0140625.
    """
    answered = figures.answered_within_24h
    share = (answered.numerator + RESPONSE_PRIOR_THREADS * RESPONSE_NORM) / (
        answered.denominator + RESPONSE_PRIOR_THREADS
    )
    response = Factor(
        "service_response",
        share,
        RESPONSE_WEIGHT * (share - RESPONSE_NORM),
        f"{answered.numerator} of {answered.denominator} conversations answered within 24 h in "
        f"90 days (shrunk towards {RESPONSE_NORM:.0%} with {RESPONSE_PRIOR_THREADS} threads)",
    )
    csat = figures.csat
    mean = (csat.total + CSAT_PRIOR_RATINGS * CSAT_NORM) / (csat.count + CSAT_PRIOR_RATINGS)
    satisfaction = Factor(
        "service_satisfaction",
        mean,
        CSAT_WEIGHT * (mean - CSAT_NORM) / 4.0,
        f"{csat.count} support ratings (1-5) in 90 days, mean shrunk to {mean:.2f} "
        f"(towards {CSAT_NORM:g} with {CSAT_PRIOR_RATINGS} ratings)",
    )
    return response, satisfaction
