"""Behaviour signals: bursts, reviewers for hire, rings and links agree with their slow twins."""

from __future__ import annotations

import numpy as np
import pytest
from reputation_graphs import DAY, edges_of, random_graph
from reputation_reference import burst_slow, hired_slow, linked_slow, ring_slow

from bonafide.reputation import (
    RatingGraph,
    burst_suspicion,
    hired_suspicion,
    linked_ratings,
    ring_suspicion,
)


@pytest.mark.parametrize("seed", range(8))
def test_burst_matches_its_slow_twin(seed: int) -> None:
    graph = random_graph(seed, accounts=6, ratings=80, days=20 + 30 * seed)
    np.testing.assert_allclose(burst_suspicion(graph), burst_slow(edges_of(graph)), atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_hired_matches_its_slow_twin(seed: int) -> None:
    graph = random_graph(seed, accounts=15, ratings=70, days=200)
    slow = hired_slow(edges_of(graph), graph.n_accounts)
    np.testing.assert_allclose(hired_suspicion(graph), slow, atol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_ring_matches_its_slow_twin(seed: int) -> None:
    graph = random_graph(seed, accounts=12, ratings=50)
    slow = ring_slow(edges_of(graph), graph.n_accounts, degree_max=6)
    np.testing.assert_allclose(ring_suspicion(graph, degree_max=6), slow, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_links_match_their_slow_twin(seed: int) -> None:
    graph = random_graph(seed)
    rng = np.random.default_rng(seed)
    links = [(int(a), int(b)) for a, b in rng.integers(0, graph.n_accounts, (6, 2))]
    assert linked_ratings(graph, links).tolist() == linked_slow(edges_of(graph), links)


def test_a_burst_on_a_quiet_ratee_is_flagged_and_its_history_is_not() -> None:
    history = [i * 60 * DAY for i in range(6)]
    burst = [400 * DAY + 600 * i for i in range(30)]
    graph = RatingGraph.from_ids([f"u{i}" for i in range(36)], ["s"] * 36, [1.0] * 36,
                                 timestamp=[*history, *burst])
    score = burst_suspicion(graph)
    assert score[:6].max() == 0.0
    # Outside the burst the ratee has 6 ratings over the span (400 days and 29 * 600 s) less the
    # bin; the one-day window is the sharpest: expected 6 * 1 / (span_days - 1), 30 in the bin.
    span_days = (400 * DAY + 600 * 29) / DAY
    assert score[6:].min() == pytest.approx(1 - (2 * 6 / (span_days - 1) + 5) / 30, abs=1e-9)


def test_a_window_needs_three_of_its_length_of_history() -> None:
    # 30 ratings over 35 days: the 30-day bin holds most of them, but there is no history to
    # call that unusual; the same pattern within 30 hours of a long history is a burst.
    short = [i * 35 * DAY / 29 for i in range(30)]
    graph = RatingGraph.from_ids([f"u{i}" for i in range(30)], ["s"] * 30, [1.0] * 30,
                                 timestamp=short)
    assert burst_suspicion(graph).max() == 0.0
    long = [i * 60 * DAY for i in range(4)] + [400 * DAY + i * 3600.0 for i in range(30)]
    graph = RatingGraph.from_ids([f"u{i}" for i in range(34)], ["s"] * 34, [1.0] * 34,
                                 timestamp=long)
    assert burst_suspicion(graph)[4:].min() > 0.5


def test_steady_ratings_are_not_a_burst() -> None:
    times = [i * DAY for i in range(200)]
    graph = RatingGraph.from_ids([f"u{i}" for i in range(200)], ["s"] * 200, [1.0] * 200,
                                 timestamp=times)
    assert burst_suspicion(graph).max() == 0.0


def test_signals_without_timestamps_are_zero() -> None:
    graph = RatingGraph.from_ids(["a", "b"], ["b", "a"], [1.0, 1.0])
    assert burst_suspicion(graph).tolist() == [0.0, 0.0]
    assert hired_suspicion(graph).tolist() == [0.0, 0.0]


def test_a_reviewer_for_hire_scores_high_and_a_regular_buyer_zero() -> None:
    raters = ["h"] * 12 + ["b"] * 12
    ratees = [f"new{i}" for i in range(12)] + ["old"] * 12
    ts = [i * 40 * DAY for i in range(12)] + [i * 30 * DAY + 1 for i in range(12)]
    graph = RatingGraph.from_ids(raters, ratees, [1.0] * 24, timestamp=ts)
    score = hired_suspicion(graph)
    h, b = graph.index_of(["h", "b"])
    assert score[h] == pytest.approx(12 / 13 * (1 - np.exp(-4)), abs=1e-12)
    assert score[b] == pytest.approx(1 / 13 * (1 - np.exp(-1 / 3)), abs=1e-12)  # first rating


def test_a_closed_ring_scores_high_and_a_bipartite_market_zero() -> None:
    ring = [(a, b) for a in "abcde" for b in "abcde" if a != b]
    market = [(f"buyer{i}", f"seller{i % 3}") for i in range(30)]
    market += [(f"seller{i % 3}", f"buyer{i}") for i in range(30)]
    raters, ratees = zip(*(ring + market), strict=True)
    graph = RatingGraph.from_ids(raters, ratees, [1.0] * len(raters))
    score = ring_suspicion(graph)
    members = graph.index_of(list("abcde"))
    assert score[members] == pytest.approx(12 / 14)  # 4 neighbours: 12 ordered pairs, all closed
    others = np.setdiff1d(np.arange(graph.n_accounts), members)
    assert score[others].max() == 0.0
