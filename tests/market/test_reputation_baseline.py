"""The baseline reputation, against hand-worked numbers."""

from __future__ import annotations

import pytest

from bonafide.market.reputation_baseline import baseline_reputation


def test_the_worked_example_of_the_module_docstring() -> None:
    r = baseline_reputation(
        stars=[5, 5, 2], orders_finished=10, orders_disputed=1, orders_refunded=0
    )
    assert r.rating == pytest.approx(4.0)
    assert r.dispute_rate == pytest.approx(0.075)
    assert r.refund_rate == pytest.approx(0.025)
    assert r.score == pytest.approx(0.70)
    assert r.verified_reviews == 3


def test_a_new_seller_sits_at_the_prior() -> None:
    r = baseline_reputation(stars=[], orders_finished=0, orders_disputed=0, orders_refunded=0)
    # (4 - 1) / 4 - 0.5 * 0.05 - 0.5 * 0.05
    assert r.score == pytest.approx(0.70)
    assert r.rating == pytest.approx(4.0)


def test_the_breakdown_adds_up_to_the_score() -> None:
    r = baseline_reputation(
        stars=[1, 2, 5, 5, 5, 5], orders_finished=8, orders_disputed=3, orders_refunded=2
    )
    assert sum(f.effect for f in r.breakdown) == pytest.approx(r.score)
    assert [f.name for f in r.breakdown] == [
        "prior",
        "verified_reviews",
        "dispute_rate",
        "refund_rate",
    ]


def test_many_good_reviews_outweigh_the_prior_and_few_do_not() -> None:
    few = baseline_reputation(stars=[5], orders_finished=1, orders_disputed=0, orders_refunded=0)
    many = baseline_reputation(
        stars=[5] * 100, orders_finished=100, orders_disputed=0, orders_refunded=0
    )
    assert few.rating == pytest.approx((4 * 5 + 5) / 6)
    assert many.score > few.score


def test_disputes_and_refunds_lower_the_score() -> None:
    clean = baseline_reputation(
        stars=[5] * 10, orders_finished=10, orders_disputed=0, orders_refunded=0
    )
    messy = baseline_reputation(
        stars=[5] * 10, orders_finished=10, orders_disputed=5, orders_refunded=5
    )
    assert messy.score < clean.score


def test_the_interval_narrows_with_verified_reviews_by_hand() -> None:
    none = baseline_reputation(stars=[], orders_finished=0, orders_disputed=0, orders_refunded=0)
    # No reviews: se = sqrt(5 * 1 / 5 / 5) = 0.4472; half width = 1.96 * 0.4472 / 4 = 0.2191.
    assert none.score_high - none.score == pytest.approx(0.21913, abs=1e-4)
    assert none.score - none.score_low == pytest.approx(0.21913, abs=1e-4)
    many = baseline_reputation(
        stars=[5] * 95, orders_finished=95, orders_disputed=0, orders_refunded=0
    )
    assert many.score_low <= many.score <= many.score_high
    assert many.score_high - many.score_low < none.score_high - none.score_low
