"""The default method: slow twin, invariances, manipulation bounds, labels, links, reasons."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from reputation_graphs import DAY, edges_of, random_graph
from reputation_reference import score_slow

from bonafide.errors import Rejected
from bonafide.reputation import (
    ConvergenceError,
    RatingGraph,
    ScoreParams,
    labels_from_ids,
    links_from_ids,
    score_graph,
)
from bonafide.sim import MarketConfig, simulate_market

# The most a ring of socks may lift its target's reputation over honest ratings alone.
SOCK_RING_LIFT_MAX = 0.05


def _with_structure(seed: int) -> RatingGraph:
    """A random graph plus a ring, a burst and a hired reviewer, so every signal fires."""
    base = random_graph(seed, accounts=20, ratings=60, days=300)
    rng = np.random.default_rng(seed)
    ring = [(a, b) for a in range(20, 25) for b in range(20, 25) if a != b]
    burst = [(30 + i, 3) for i in range(12)]
    hired = [(45, 46 + i) for i in range(6)]
    extra = ring + burst + hired
    t_ring = 1.7e9 + rng.uniform(0, 200 * DAY, len(ring))
    t_burst = 1.7e9 + 250 * DAY + rng.uniform(0, 3600, len(burst))
    t_hired = 1.7e9 + np.arange(6) * 10 * DAY
    assert base.timestamp is not None
    return RatingGraph.from_indices(
        np.concatenate([base.rater, [a for a, _ in extra]]),
        np.concatenate([base.ratee, [b for _, b in extra]]),
        np.concatenate([base.rating, np.ones(len(extra))]),
        n_accounts=52,
        timestamp=np.concatenate([base.timestamp, t_ring, t_burst, t_hired]),
    )


# The twin's thresholds follow ScoreParams' defaults, so it checks the method as shipped.
DEFAULTS = {"floor": ScoreParams().signal_floor, "ratio_min": ScoreParams().block_ratio_min}


@pytest.mark.parametrize("seed", range(6))
def test_default_method_matches_its_slow_twin(seed: int) -> None:
    graph = _with_structure(seed)
    rng = np.random.default_rng(seed)
    labels = np.full(graph.n_accounts, -1)
    labels[rng.choice(graph.n_accounts, 4, replace=False)] = [0, 1, 0, 1]
    links = [(int(a), int(b)) for a, b in rng.integers(0, 20, (4, 2))]
    now = 1.7e9 + 400 * DAY
    fast = score_graph(graph, labels=labels, links=links, now=now,
                       params=ScoreParams(tolerance=1e-12))
    slow = score_slow(edges_of(graph), graph.n_accounts, labels=labels.tolist(), links=links,
                      now=now, tolerance=1e-12, **DEFAULTS)
    np.testing.assert_allclose(fast.fraud_score, slow.fraud, atol=1e-9)
    np.testing.assert_allclose(fast.rating_weight, slow.weight, atol=1e-9)
    np.testing.assert_allclose(fast.reputation, slow.reputation, atol=1e-9)


def test_default_method_twin_agrees_on_plain_random_graphs() -> None:
    for seed in range(6):
        graph = random_graph(seed, accounts=10, ratings=35)
        fast = score_graph(graph, params=ScoreParams(tolerance=1e-12))
        slow = score_slow(edges_of(graph), graph.n_accounts, tolerance=1e-12, **DEFAULTS)
        np.testing.assert_allclose(fast.fraud_score, slow.fraud, atol=1e-9)
        np.testing.assert_allclose(fast.reputation, slow.reputation, atol=1e-9)


def test_hand_worked_reputation_of_a_seller_with_one_bad_outcome_in_four() -> None:
    # No timestamps, no values: every rater has trust 1/2 (nobody rates them), so each of the
    # four ratings of s weighs 1/2. Good = 3 * 1/2, bad = 1/2; the market share of good is 3/4,
    # so the prior is Beta(5 * 3/4, 5 * 1/4) and reputation = (3.75 + 1.5) / (5 + 2) = 0.75.
    graph = RatingGraph.from_ids(["a", "b", "c", "d"], ["s"] * 4, [1.0, 1.0, 1.0, -1.0])
    result = score_graph(graph)
    s = graph.index_of(["s"])[0]
    assert result.reputation[s] == pytest.approx(0.75, abs=1e-12)
    assert result.rating_weight == pytest.approx([0.5] * 4)
    assert result.fraud_score[graph.index_of(["a"])[0]] == pytest.approx(0.5)
    assert result.reputation_low[s] < 0.75 < result.reputation_high[s]


def test_relabelling_accounts_changes_nothing() -> None:
    graph = _with_structure(2)
    permutation = np.random.default_rng(7).permutation(graph.n_accounts)
    before = score_graph(graph)
    after = score_graph(graph.relabel(permutation))
    np.testing.assert_allclose(after.fraud_score[permutation], before.fraud_score, atol=1e-12)
    np.testing.assert_allclose(after.reputation[permutation], before.reputation, atol=1e-12)
    np.testing.assert_allclose(after.rating_weight, before.rating_weight, atol=1e-12)


def _add_sock_ring(graph: RatingGraph, target: int, size: int, spread_days: float,
                   seed: int) -> RatingGraph:
    assert graph.timestamp is not None and graph.value is not None
    socks = np.arange(graph.n_accounts, graph.n_accounts + size)
    pairs = [(a, b) for a in socks for b in socks if a != b] + [(a, target) for a in socks]
    rng = np.random.default_rng(seed)
    start = float(graph.timestamp.max()) - 200 * DAY
    return RatingGraph.from_indices(
        np.concatenate([graph.rater, [a for a, _ in pairs]]),
        np.concatenate([graph.ratee, [b for _, b in pairs]]),
        np.concatenate([graph.rating, np.ones(len(pairs))]),
        accounts=np.concatenate([graph.accounts, [f"sock{i}" for i in range(size)]]),
        timestamp=np.concatenate([graph.timestamp,
                                  start + rng.uniform(0, spread_days * DAY, len(pairs))]),
        value=np.concatenate([graph.value, np.full(len(pairs), graph.value.mean())]),
    )


HONEST = MarketConfig(buyers=400, sellers=40, orders=3000, sock_attacks=0, rings=0,
                      camouflage_rings=0, hired_reviewers=0, bursts=0, scammers=0)


@pytest.mark.parametrize("size", [2, 5, 30])
@pytest.mark.parametrize("spread_days", [0.1, 30.0, 180.0])
def test_a_sock_ring_lifts_its_target_by_at_most_the_stated_bound(
    size: int, spread_days: float
) -> None:
    market = simulate_market(HONEST, seed=1)
    graph = market.graph()
    assert graph.timestamp is not None
    now = float(graph.timestamp.max())
    honest = score_graph(graph, now=now)
    sellers = np.flatnonzero(market.role == "seller")
    for target in sellers[np.argsort(market.quality[sellers])][:3]:
        attacked = score_graph(_add_sock_ring(graph, int(target), size, spread_days, size),
                               now=now)
        lift = attacked.reputation[target] - honest.reputation[target]
        assert lift <= SOCK_RING_LIFT_MAX


def test_a_known_bad_rater_counts_for_nothing_and_a_known_good_one_fully() -> None:
    graph = RatingGraph.from_ids(["good", "bad", "x"], ["s", "s", "t"], [1.0, -1.0, 1.0])
    labels = labels_from_ids(graph, ["good", "bad"], [0, 1])
    result = score_graph(graph, labels=labels)
    good, bad = graph.index_of(["good", "bad"])
    assert result.fraud_score[good] == 0.0 and result.fraud_score[bad] == 1.0
    assert result.rating_weight[:2].tolist() == [1.0, 0.0]
    assert result.signals["trust"][graph.index_of(["s"])[0]] == pytest.approx(2 / 3)


def test_ratings_between_linked_accounts_weigh_nothing() -> None:
    graph = RatingGraph.from_ids(["a", "b", "c"], ["s", "s", "s"], [1.0, 1.0, 1.0])
    result = score_graph(graph, links=links_from_ids(graph, [("s", "b")]))
    assert result.rating_weight.tolist() == [0.5, 0.0, 0.5]
    assert result.signals["linked"][graph.index_of(["b"])[0]] == 1.0


def test_reasons_explain_what_raised_and_what_lowered_a_reputation() -> None:
    graph = RatingGraph.from_ids(["a", "b", "c", "d"], ["s"] * 4, [1.0, 1.0, 1.0, -1.0])
    result = score_graph(graph)
    listed = result.reasons(int(graph.index_of(["s"])[0]))
    reasons = {r.code: r.effect for r in listed}
    assert reasons["good_ratings_received"] > 0 > reasons["bad_ratings_received"]
    assert "ratings_discounted_for_low_trust" in reasons
    assert listed[-1].score == "fraud_score" and listed[0].score == "reputation"
    # s received 3 good and 1 bad rating at weight 1/2: trust (1 + 1.5) / (2 + 2) = 0.625.
    assert reasons["trust_from_ratings_received"] == pytest.approx(0.5 - 0.625)


def test_old_evidence_decays_towards_recent_ratings() -> None:
    year = 365.25 * DAY
    graph = RatingGraph.from_ids(["a", "b", "c", "d"], ["s"] * 4, [-1.0, -1.0, 1.0, 1.0],
                                 timestamp=[0.0, 1.0, 4 * year, 4 * year + 1])
    s = graph.index_of(["s"])[0]
    later = score_graph(graph, now=4 * year + 1).reputation[s]
    assert later > 0.5  # the two old bad ratings weigh a quarter of the two new good ones


def test_order_value_weights_the_evidence() -> None:
    graph = RatingGraph.from_ids(["a", "b"], ["s", "s"], [1.0, -1.0], value=[10.0, 1000.0])
    cheap_praise = score_graph(graph).reputation[graph.index_of(["s"])[0]]
    flipped = dataclasses.replace(graph, value=np.array([1000.0, 10.0]))
    dear_praise = score_graph(flipped).reputation[graph.index_of(["s"])[0]]
    assert dear_praise > cheap_praise


def test_trust_raises_did_not_converge_when_its_limit_is_too_low() -> None:
    with pytest.raises(ConvergenceError) as caught:
        score_graph(_with_structure(1), params=ScoreParams(iterations_max=1))
    assert caught.value.code == "did_not_converge"


def test_unknown_method_is_rejected() -> None:
    with pytest.raises(Rejected) as caught:
        score_graph(random_graph(0), method="pagerank")
    assert caught.value.code == "method_unknown"


def test_rev2_method_reports_unfairness_as_fraud() -> None:
    graph = RatingGraph.from_ids(["u1", "u2", "u3"], ["p", "p", "p"], [1.0, 1.0, -1.0])
    result = score_graph(graph, method="rev2")
    u1, u3 = graph.index_of(["u1", "u3"])
    assert result.fraud_score[u3] > result.fraud_score[u1]
    assert result.reputation.min() >= 0.0 and result.reputation.max() <= 1.0
