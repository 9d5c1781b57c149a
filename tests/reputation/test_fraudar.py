"""FRAUDAR-style peeling: agrees with its slow twin, finds planted blocks through camouflage."""

from __future__ import annotations

import numpy as np
import pytest
from reputation_graphs import edges_of, random_graph
from reputation_reference import fraudar_slow

from bonafide.reputation import ConvergenceError, RatingGraph, fraudar


@pytest.mark.parametrize("seed", range(10))
def test_fraudar_matches_its_slow_twin_on_random_graphs(seed: int) -> None:
    graph = random_graph(seed, accounts=14, ratings=60 + seed * 5)
    fast = fraudar(graph, blocks_max=3)
    slow = fraudar_slow(edges_of(graph), blocks_max=3)
    assert len(fast) == len(slow)
    for block, (rows, cols, density, density_graph) in zip(fast, slow, strict=True):
        assert set(np.flatnonzero(block.raters)) == rows
        assert set(np.flatnonzero(block.ratees)) == cols
        assert block.density == pytest.approx(density, abs=1e-9)
        assert block.density_graph == pytest.approx(density_graph, abs=1e-9)


def _planted(camouflage: int, seed: int = 0) -> tuple[RatingGraph, set[int]]:
    """80 honest raters rating 40 ratees sparsely, plus a 6 x 6 block of fraudsters."""
    rng = np.random.default_rng(seed)
    honest_rater = rng.integers(0, 80, 240)
    honest_ratee = 100 + rng.integers(0, 40, 240)
    fraud = np.arange(200, 206)
    targets = np.arange(300, 306)
    fr, ft = (a.ravel() for a in np.meshgrid(fraud, targets, indexing="ij"))
    # Camouflage: each fraudster also praises popular honest ratees.
    cr = np.repeat(fraud, camouflage)
    ct = 100 + rng.integers(0, 5, cr.shape[0])
    rater = np.concatenate([honest_rater, fr, cr])
    ratee = np.concatenate([honest_ratee, ft, ct])
    graph = RatingGraph.from_indices(rater, ratee, np.ones(rater.shape[0]), n_accounts=310)
    return graph, set(fraud.tolist()) | set(targets.tolist())


@pytest.mark.parametrize("camouflage", [0, 5, 20])
def test_fraudar_finds_a_planted_block_even_behind_camouflage(camouflage: int) -> None:
    graph, planted = _planted(camouflage)
    block = fraudar(graph, blocks_max=1, epsilon=0.01)[0]
    found = set(np.flatnonzero(block.raters)) | set(np.flatnonzero(block.ratees))
    assert planted <= found
    assert found - planted <= set(range(100, 105))  # only the popular ratees camouflage praises
    assert block.density > 1.3 * block.density_graph


def test_fraudar_with_coarse_batches_still_contains_the_planted_block() -> None:
    graph, planted = _planted(20)
    block = fraudar(graph, blocks_max=1, epsilon=0.1)[0]
    found = set(np.flatnonzero(block.raters)) | set(np.flatnonzero(block.ratees))
    assert planted <= found and len(found) <= len(planted) + 10


def test_fraudar_finds_several_blocks_one_after_another() -> None:
    edges = [(a, b) for a in range(5) for b in range(10, 15)]
    edges += [(a, b) for a in range(20, 24) for b in range(30, 34)]
    rater, ratee = zip(*edges, strict=True)
    graph = RatingGraph.from_indices(rater, ratee, np.ones(len(edges)), n_accounts=40)
    # Fine batches: with epsilon 0.1 both blocks fall under the first cut and merge into one.
    blocks = fraudar(graph, blocks_max=3, epsilon=0.01)
    assert len(blocks) == 2  # the graph is exhausted after two
    found = sorted(tuple(np.flatnonzero(b.raters)) for b in blocks)
    assert found == [(0, 1, 2, 3, 4), (20, 21, 22, 23)]
    assert [int(b.edges.sum()) for b in blocks] == [25, 16]


def test_fraudar_ignores_negative_ratings_and_counts_repeat_pairs_once() -> None:
    graph = RatingGraph.from_indices([0, 0, 0, 1], [1, 1, 1, 0], [1.0, 1.0, 1.0, -1.0])
    (block,) = fraudar(graph, blocks_max=2)
    assert block.density == pytest.approx(1 / np.log(1 + 5.0) / 2)
    assert block.edges.tolist() == [True, True, True, False]


def test_fraudar_raises_did_not_converge_past_its_round_limit() -> None:
    graph = random_graph(1, accounts=30, ratings=200)
    with pytest.raises(ConvergenceError):
        fraudar(graph, blocks_max=1, rounds_max=1)
