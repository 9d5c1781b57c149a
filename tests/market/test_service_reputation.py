"""Customer-service figures as reputation steps: hand-worked values, bounds, no evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bonafide.market.hours import BusinessHours
from bonafide.market.service_figures import Csat, Ratio, ServiceFigures, compute_figures
from bonafide.market.service_reputation import service_steps

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def figures(
    *, answered: tuple[int, int] = (0, 0), csat: tuple[int, int] = (0, 0)
) -> ServiceFigures:
    empty = compute_figures(threads=[], disputes=[], orders=[],
                            hours=BusinessHours.around_the_clock(), now=NOW)
    count, total = csat
    return replace(empty, answered_within_24h=Ratio(*answered),
                   csat=Csat(count=count, total=total, satisfied=0))


def test_no_threads_and_no_ratings_move_nothing() -> None:
    response, satisfaction = service_steps(figures())
    assert (response.effect, satisfaction.effect) == (pytest.approx(0.0), pytest.approx(0.0))


def test_hand_worked_poor_service_lowers_the_score() -> None:
    # Five threads, none answered: (0 + 5 * 0.9) / 10 = 0.45 -> 0.1 * (0.45 - 0.9) = -0.045.
    # Three CSAT ratings of 1: (3 + 20) / 8 = 2.875 -> 0.05 * (2.875 - 4) / 4 = -0.0140625.
    response, satisfaction = service_steps(figures(answered=(0, 5), csat=(3, 3)))
    assert response.value == pytest.approx(0.45)
    assert response.effect == pytest.approx(-0.045)
    assert satisfaction.value == pytest.approx(2.875)
    assert satisfaction.effect == pytest.approx(-0.0140625)


def test_one_bad_thread_barely_moves_a_seller_and_many_move_it_more() -> None:
    one, _ = service_steps(figures(answered=(0, 1)))
    many, _ = service_steps(figures(answered=(0, 100)))
    assert -0.02 < one.effect < 0 and many.effect < one.effect


def test_effects_stay_within_the_documented_bounds() -> None:
    worst = sum(s.effect for s in service_steps(figures(answered=(0, 10**6), csat=(10**6, 10**6))))
    best = sum(s.effect for s in service_steps(
        figures(answered=(10**6, 10**6), csat=(10**6, 5 * 10**6))))
    assert worst == pytest.approx(-0.1275, abs=1e-4)
    assert best == pytest.approx(0.0225, abs=1e-4)
