"""REV2 with behavioural priors and rater weights agrees with a slow twin of its formulas.

``test_rev2.py`` checks the plain parameters against ``reputation_reference.rev2_slow``; this file
covers the optional inputs (suspicion of raters, ratees and ratings; rater weights, including
zero) and the selection median of the fast loop.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict

import numpy as np
import pytest
from reputation_graphs import random_graph

from bonafide.reputation import RatingGraph, Rev2Params, rev2


def rev2_with_priors_slow(
    graph: RatingGraph,
    params: Rev2Params,
    *,
    b_rater: list[float],
    b_ratee: list[float],
    b_rating: list[float],
    weight: list[float],
    tolerance: float,
) -> tuple[dict[int, float], dict[int, float], list[float], int]:
    """The formulas of ``rev2``'s docstring, one edge and one account at a time."""
    p = params
    edges = [(int(u), int(v), float(s)) for u, v, s in
             zip(graph.rater, graph.ratee, graph.rating, strict=True)]
    raters = sorted({u for u, _, _ in edges})
    ratees = sorted({v for _, v, _ in edges})
    out_edges: dict[int, list[int]] = defaultdict(list)
    in_edges: dict[int, list[int]] = defaultdict(list)
    for k, (u, v, _) in enumerate(edges):
        out_edges[u].append(k)
        in_edges[v].append(k)
    fairness = dict.fromkeys(raters, 1.0)
    goodness = dict.fromkeys(ratees, 1.0)
    reliability = [1.0] * len(edges)
    gamma = p.gamma1 + p.gamma2 + p.gamma3
    for iteration in range(1, 5001):
        mu_g = statistics.median(goodness.values())
        new_g = {}
        for v in ratees:
            total = sum(weight[edges[k][0]] * reliability[k] * edges[k][2] for k in in_edges[v])
            denominator = p.beta1 + p.beta2 + sum(weight[edges[k][0]] for k in in_edges[v])
            value = (p.beta1 * mu_g + p.beta2 * (1 - 2 * b_ratee[v]) + total) / denominator \
                if denominator > 0 else 1.0
            new_g[v] = min(1.0, max(-1.0, value))
        new_r = []
        for k, (u, v, s) in enumerate(edges):
            value = (p.gamma1 * fairness[u] + p.gamma2 * (1 - abs(s - new_g[v]) / 2)
                     + p.gamma3 * (1 - b_rating[k])) / gamma
            new_r.append(min(1.0, max(0.0, value)))
        mu_f = statistics.median(fairness.values())
        new_f = {}
        for u in raters:
            total = sum(new_r[k] for k in out_edges[u])
            value = (p.alpha1 * mu_f + p.alpha2 * (1 - b_rater[u]) + total) / (
                p.alpha1 + p.alpha2 + len(out_edges[u]))
            new_f[u] = min(1.0, max(0.0, value))
        delta = max(
            max(abs(new_g[v] - goodness[v]) for v in ratees),
            max(abs(a - b) for a, b in zip(new_r, reliability, strict=True)),
            max(abs(new_f[u] - fairness[u]) for u in raters),
        )
        fairness, goodness, reliability = new_f, new_g, new_r
        if delta <= tolerance:
            return fairness, goodness, reliability, iteration
    raise AssertionError("the slow twin did not converge")


PARAM_SETS = [Rev2Params(), Rev2Params(0, 0, 0, 0, 1, 1, 0), Rev2Params(0.5, 2, 1, 0, 2, 0, 1),
              Rev2Params(1, 1, 0, 0, 0, 1, 3)]


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("seed", range(5))
def test_rev2_with_suspicions_and_rater_weights_matches_its_slow_twin(
    seed: int, params: Rev2Params
) -> None:
    graph = random_graph(seed, accounts=12 + seed, ratings=40 + 7 * seed)
    rng = np.random.default_rng(seed)
    n, m = graph.n_accounts, graph.n_ratings
    b_rater, b_ratee, b_rating = rng.random(n), rng.random(n), rng.random(m)
    weight = rng.choice([0.0, 0.3, 1.0], size=n)
    fast = rev2(graph, params=params, suspicion_rater=b_rater, suspicion_ratee=b_ratee,
                suspicion_rating=b_rating, rater_weight=weight, tolerance=1e-12,
                iterations_max=5000)
    fairness, goodness, reliability, iterations = rev2_with_priors_slow(
        graph, params, b_rater=list(b_rater), b_ratee=list(b_ratee), b_rating=list(b_rating),
        weight=list(weight), tolerance=1e-12)
    assert fast.iterations == iterations
    for u, value in fairness.items():
        assert fast.fairness[u] == pytest.approx(value, abs=1e-9)
    for v, value in goodness.items():
        assert fast.goodness[v] == pytest.approx(value, abs=1e-9)
    np.testing.assert_allclose(fast.reliability, reliability, atol=1e-9, rtol=0)


def test_a_ratee_rated_only_by_zero_weight_raters_keeps_its_start_goodness_unsmoothed() -> None:
    graph = RatingGraph.from_ids(["x", "a"], ["p", "q"], [-1.0, 1.0])
    weight = np.ones(graph.n_accounts)
    weight[graph.index_of(["x"])[0]] = 0.0
    result = rev2(graph, params=Rev2Params(0, 0, 0, 0, 1, 1, 0), rater_weight=weight)
    p, q = graph.index_of(["p", "q"])
    assert result.goodness[p] == 1.0  # no evidence and no smoothing: 0/0 keeps the start value
    assert result.goodness[q] == pytest.approx(1.0)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 10, 101, 1000])
def test_the_loops_selection_median_equals_numpys_median(size: int) -> None:
    median = sys.modules["bonafide.reputation.rev2"]._median
    rng = np.random.default_rng(size)
    for values in (rng.random(size), rng.choice([0.0, 0.5, 1.0], size=size), np.ones(size)):
        scratch = np.empty(size)
        assert median(values, scratch) == np.median(values)
