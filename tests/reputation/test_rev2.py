"""REV2: the vectorised fixed point agrees with its slow twin and with hand-worked answers."""

from __future__ import annotations

import numpy as np
import pytest
from reputation_graphs import edges_of, random_graph
from reputation_reference import assert_rev2_matches, rev2_slow

from bonafide.reputation import ConvergenceError, RatingGraph, Rev2Params, rev2

PARAM_SETS = [(1, 1, 1, 1, 1, 1, 1), (0, 0, 0, 0, 1, 1, 0), (2, 0.5, 0, 3, 1, 2, 0.5)]


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("seed", range(8))
def test_rev2_matches_its_slow_twin_on_random_graphs(seed: int, params: tuple[float, ...]) -> None:
    graph = random_graph(seed, accounts=10 + seed, ratings=30 + 5 * seed)
    fast = rev2(graph, params=Rev2Params(*params), tolerance=1e-12, iterations_max=2000)
    slow = rev2_slow(edges_of(graph), params, tolerance=1e-12, iterations_max=2000)  # type: ignore[arg-type]
    assert_rev2_matches(fast, slow)


def test_rev2_finds_the_hand_worked_fixed_point_of_a_lone_dissenter() -> None:
    # With one rating each F = R and R = 1 - |s - G| / 2; G = (R1 + R2 - R3) / 3 gives G = 1/3.
    graph = RatingGraph.from_ids(["u1", "u2", "u3"], ["p", "p", "p"], [1.0, 1.0, -1.0])
    result = rev2(graph, params=Rev2Params(0, 0, 0, 0, 1, 1, 0), tolerance=1e-13)
    u1, u2, u3, p = graph.index_of(["u1", "u2", "u3", "p"])
    assert result.goodness[p] == pytest.approx(1 / 3, abs=1e-9)
    assert result.fairness[[u1, u2, u3]] == pytest.approx([2 / 3, 2 / 3, 1 / 3], abs=1e-9)
    assert np.isnan(result.fairness[p]) and np.isnan(result.goodness[u1])


def test_rev2_with_full_smoothing_keeps_unanimous_raters_fair() -> None:
    graph = RatingGraph.from_ids(["a", "b"], ["p", "p"], [1.0, 1.0])
    result = rev2(graph)
    assert result.fairness[graph.index_of(["a", "b"])] == pytest.approx([1.0, 1.0])
    assert result.goodness[graph.index_of(["p"])[0]] == pytest.approx(1.0)


def test_rev2_raises_did_not_converge_when_its_iteration_limit_is_too_low() -> None:
    graph = random_graph(3)
    with pytest.raises(ConvergenceError) as caught:
        rev2(graph, iterations_max=1)
    assert caught.value.code == "did_not_converge"
    assert caught.value.iterations == 1


def test_rev2_does_not_change_when_accounts_are_relabelled() -> None:
    graph = random_graph(5, accounts=15, ratings=60)
    permutation = np.random.default_rng(1).permutation(graph.n_accounts)
    before = rev2(graph, tolerance=1e-12)
    after = rev2(graph.relabel(permutation), tolerance=1e-12)
    np.testing.assert_allclose(after.fairness[permutation], before.fairness, atol=1e-9)
    np.testing.assert_allclose(after.goodness[permutation], before.goodness, atol=1e-9)
    np.testing.assert_allclose(after.reliability, before.reliability, atol=1e-9)


def test_rev2_ignores_ratings_from_raters_weighted_zero() -> None:
    graph = RatingGraph.from_ids(["a", "b", "x"], ["p", "p", "p"], [1.0, 1.0, -1.0])
    weight = np.ones(graph.n_accounts)
    weight[graph.index_of(["x"])[0]] = 0.0
    result = rev2(graph, params=Rev2Params(0, 0, 0, 0, 1, 1, 0), rater_weight=weight)
    assert result.goodness[graph.index_of(["p"])[0]] == pytest.approx(1.0)
