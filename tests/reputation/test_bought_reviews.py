"""The "bought reviews" signal: a seller that bought reviews stays suspect when diluted."""

from __future__ import annotations

import numpy as np
import pytest

from bonafide.reputation import RatingGraph, ScoreParams, score_graph
from bonafide.reputation.behaviour import hired_like_ratings

DAY = 86_400.0


def market_with_a_reviewer_for_hire() -> RatingGraph:
    """``h`` praises ten sellers on their first day; later six buyers praise ``s0`` honestly."""
    raters = ["h"] * 10 + [f"b{i}" for i in range(6)]
    ratees = [f"s{i}" for i in range(10)] + ["s0"] * 6
    ts = [i * 100 * DAY for i in range(10)] + [(40 + i) * DAY for i in range(6)]
    return RatingGraph.from_ids(raters, ratees, [1.0] * 16, timestamp=ts)


def test_bought_is_the_chance_that_any_received_rating_was_bought() -> None:
    graph = market_with_a_reviewer_for_hire()
    result = score_graph(graph, params=ScoreParams(bought_reviews=True))
    hired = result.signals["hired"]
    edge = hired[graph.rater] * hired_like_ratings(graph)
    h, s0, b0 = graph.index_of(["h", "s0", "b0"])
    assert hired[h] > 0.5  # ten extreme ratings, each to a seller on its first day
    praise = graph.rating > 0
    expected = 1.0 - np.array([np.prod(1.0 - edge[(graph.ratee == v) & praise])
                               for v in range(graph.n_accounts)])
    np.testing.assert_allclose(result.signals["bought"], expected, atol=1e-12)
    assert result.signals["bought"][s0] == pytest.approx(hired[h])
    assert result.signals["bought"][b0] == 0.0


def test_a_bad_rating_from_a_reviewer_for_hire_is_not_a_bought_review() -> None:
    # ``h`` also gives ``x`` one star on its first day: a rival may pay for that, ``x`` did not.
    base = market_with_a_reviewer_for_hire()
    graph = RatingGraph.from_ids(
        [*base.accounts[base.rater], "h"], [*base.accounts[base.ratee], "x"],
        [*base.rating, -1.0], timestamp=[*(base.timestamp if base.timestamp is not None else []),
                                          950 * DAY])
    result = score_graph(graph)
    h, x, s9 = graph.index_of(["h", "x", "s9"])
    assert hired_like_ratings(graph)[-1]  # extreme, and x's first rating
    assert result.signals["hired"][h] > 0.5
    assert result.signals["bought"][x] == 0.0
    assert result.signals["bought"][s9] > 0.5


def test_bought_reviews_raise_the_fraud_score_by_the_product_rule() -> None:
    graph = market_with_a_reviewer_for_hire()
    off = score_graph(graph, params=ScoreParams(bought_reviews=False))
    on = score_graph(graph, params=ScoreParams(bought_reviews=True))
    bought = on.signals["bought"]
    np.testing.assert_allclose(1.0 - on.fraud_score, (1.0 - off.fraud_score) * (1.0 - bought),
                               atol=1e-12)
    s0, s1 = graph.index_of(["s0", "s1"])
    # s0's six honest ratings dilute the benefit share, not the chance that it bought one.
    assert off.signals["benefit"][s0] < off.signals["benefit"][s1]
    assert bought[s0] == pytest.approx(bought[s1])
    assert on.fraud_score[s0] > off.fraud_score[s0] + 0.3


def test_bought_reviews_are_on_by_default_and_off_leaves_no_trace() -> None:
    graph = market_with_a_reviewer_for_hire()
    default = score_graph(graph)
    on = score_graph(graph, params=ScoreParams(bought_reviews=True))
    off = score_graph(graph, params=ScoreParams(bought_reviews=False))
    np.testing.assert_array_equal(default.fraud_score, on.fraud_score)
    assert "bought" in default.signals and "bought" not in off.signals
    s0 = int(graph.index_of(["s0"])[0])
    assert any(r.code == "fraud_signal_bought" for r in default.reasons(s0))
    assert all(r.code != "fraud_signal_bought" for r in off.reasons(s0))
