"""REV2 with behavioural priors and rater weights agrees with a slow twin of its formulas.

``test_rev2.py`` checks the plain parameters against ``reputation_reference.rev2_slow``; this
file checks the optional inputs against the same twin (suspicion of raters, ratees and ratings;
rater weights, including zero) and the selection median of the fast loop.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest
from reputation_graphs import edges_of, random_graph
from reputation_reference import assert_rev2_matches, rev2_slow

from bonafide.reputation import RatingGraph, Rev2Params, rev2

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
    slow = rev2_slow(
        edges_of(graph), dataclasses.astuple(params), b_rater=list(b_rater),
        b_ratee=list(b_ratee), b_rating=list(b_rating), weight=list(weight), tolerance=1e-12,
        iterations_max=5000)
    assert_rev2_matches(fast, slow)


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
