"""Dense-block detection in the rater × ratee graph, in the manner of FRAUDAR.

Owns: ``fraudar`` and ``Block``. Imports: NumPy, ``reputation.graph``, ``reputation.sweep`` and
the chunked engine's ``peel_step`` finish.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bonafide.reputation.graph import (
    BoolArray,
    ConvergenceError,
    EdgeIndexArray,
    FloatArray,
    RatingArray,
    RatingGraph,
)
from bonafide.reputation.kernels import peel_step
from bonafide.reputation.sweep import add_by, count_by, edge_slices


@dataclass(frozen=True, eq=False)
class Block:
    """One dense block: the raters and ratees in it and its weighted density.

    ``density`` is FRAUDAR's g(S) = (sum of edge weights inside) / (raters + ratees);
    ``density_graph`` is g of the whole (remaining) graph it was peeled from, so
    ``density / density_graph`` says how unusual the block is.
    """

    raters: BoolArray
    ratees: BoolArray
    density: float
    density_graph: float
    edges: BoolArray


def fraudar(
    graph: RatingGraph,
    *,
    blocks_max: int = 3,
    column_offset: float = 5.0,
    epsilon: float = 0.1,
    positive_only: bool = True,
    rounds_max: int = 100_000,
) -> list[Block]:
    r"""Find up to ``blocks_max`` dense rater × ratee blocks by greedy peeling.

    Hooi, Song, Beutel, Shah, Shin, Faloutsos, "FRAUDAR: Bounding Graph Fraud in the Face of
    Camouflage", KDD 2016. Raters and ratees are the two sides of a bipartite graph (an account
    that does both appears once on each side). Each edge into ratee ``j`` weighs
    :math:`1 / \log(d_j + c)` with :math:`d_j` its in-degree and :math:`c` = ``column_offset``
    (the paper's column weighting: camouflage edges to popular ratees weigh little, so they
    cannot hide a block). The objective is :math:`g(S) = f(S) / |S|`, the edge weight inside the
    node set ``S`` per node.

    The paper peels one node at a time with a priority queue. This version peels in batches, as
    Bahmani, Kumar, Vassilvitskii ("Densest subgraph in streaming and MapReduce", VLDB 2012): each
    round removes every node whose weighted degree is at most :math:`(1 + \epsilon)` times the
    average, and the densest set seen is kept. That is a :math:`2(1 + \epsilon)` approximation (the
    exact greedy is a 2 approximation), needs only :math:`O(\log_{1+\epsilon} n)` rounds of
    ``np.bincount`` over the edges, and finds planted blocks as well in our tests. After a block is
    found its edges are removed and the search repeats.

    Parameters
    ----------
    graph : RatingGraph
    blocks_max : int
        How many blocks to find at most.
    column_offset : float
        ``c`` in the column weight; the paper uses 5.
    epsilon : float
        Batch tolerance, > 0; smaller is closer to one-at-a-time peeling but needs more rounds.
    positive_only : bool
        Use only positive ratings (a boosting ring gives praise). Repeat ratings of one
        (rater, ratee) pair count as one edge, the first in array order.
    rounds_max : int
        Limit on peeling rounds per block.

    Returns
    -------
    list of Block
        In the order found; empty when there are no (selected) edges.

    Raises
    ------
    ConvergenceError
        ``did_not_converge`` when peeling exceeds ``rounds_max`` rounds.

    Examples
    --------
    Four accounts that all rate each other, and eight honest raters of a popular ``z``:

    >>> ring = [(a, b) for a in "abcd" for b in "abcd" if a != b]
    >>> rest = [(u, "z") for u in "efghijkl"]
    >>> raters, ratees = zip(*(ring + rest))
    >>> g = RatingGraph.from_ids(raters, ratees, [1.0] * len(raters))
    >>> block = fraudar(g, blocks_max=1)[0]
    >>> sorted(g.accounts[block.raters]), sorted(g.accounts[block.ratees])
    (['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd'])
    """
    assert epsilon > 0 and blocks_max >= 0 and column_offset > 1.0
    n = graph.n_accounts
    # The adjacency is binary: repeat ratings of the same pair (repeat orders) count once.
    selected = _first_of_pairs(graph, positive_only)
    # The peeling reads the selected edges only, compacted (in their original order, so every
    # sum adds the same numbers in the same order as over all edges with zeros elsewhere).
    rater, ratee = graph.rater[selected], graph.ratee[selected]
    del selected
    column = 1.0 / np.log(count_by(ratee, n) + column_offset)  # per ratee: its edges' weight
    remaining = np.ones(rater.shape[0], dtype=bool)
    blocks: list[Block] = []
    for _ in range(blocks_max):
        if not remaining.any():
            break
        raters, ratees, density, density_graph = _peel(
            rater, ratee, column, remaining, n, epsilon=epsilon, rounds_max=rounds_max)
        inside = np.empty(graph.n_ratings, dtype=bool)
        for part in edge_slices(rater.shape[0]):
            remaining[part] &= ~(raters[rater[part]] & ratees[ratee[part]])
        # Report every rating inside the block, repeats of a pair included.
        for part in edge_slices(graph.n_ratings):
            inside[part] = (raters[graph.rater[part]] & ratees[graph.ratee[part]]
                            & _eligible(graph.rating[part], positive_only))
        blocks.append(Block(raters, ratees, density, density_graph, inside))
    return blocks


PAIR_GROUP_EDGES = 8_000_000


def _eligible(rating: RatingArray, positive_only: bool) -> BoolArray:
    return rating > 0 if positive_only else np.ones(rating.shape[0], dtype=bool)


def _first_of_pairs(graph: RatingGraph, positive_only: bool) -> BoolArray:
    """Per rating: eligible and the first eligible rating (in array order) of its pair.

    A pair has one ratee, so the ratees are taken in groups (``ratee % groups``) of about
    ``PAIR_GROUP_EDGES`` ratings, with temporaries of one group only.
    """
    n, m = graph.n_accounts, graph.n_ratings
    groups = -(-m // PAIR_GROUP_EDGES)
    group_of = np.empty(m, dtype=np.int16 if groups < 2**15 else np.int64)
    for part in edge_slices(m):
        group_of[part] = np.where(_eligible(graph.rating[part], positive_only),
                                  graph.ratee[part] % groups, -1)
    selected = np.zeros(m, dtype=bool)
    for group in range(groups):
        rows = np.flatnonzero(group_of == group)
        pair = graph.rater[rows].astype(np.int64) * n + graph.ratee[rows]
        # An unstable sort (SIMD, several times faster than a stable one) groups equal pairs;
        # the first rating of a pair is then the smallest position within its run.
        order = np.argsort(pair)
        ordered = pair[order]
        start = np.ones(ordered.shape[0], dtype=bool)
        np.not_equal(ordered[1:], ordered[:-1], out=start[1:])
        if order.size:
            selected[rows[np.minimum.reduceat(order, np.flatnonzero(start))]] = True
    return selected


def _peel(
    rater: EdgeIndexArray,
    ratee: EdgeIndexArray,
    column: FloatArray,
    remaining: BoolArray,
    n: int,
    *,
    epsilon: float,
    rounds_max: int,
) -> tuple[BoolArray, BoolArray, float, float]:
    """Batch-peel the ``remaining`` edges; the densest node set seen, its and the start density.

    Each round keeps only the edges whose both ends are still alive, so the work of all rounds
    together is a small multiple of the edges (most nodes go in the first rounds).
    """
    # The first round reads the remaining edges in place (a mask), later ones compact copies.
    live_rater, live_ratee = rater, ratee
    mask: BoolArray | None = None if remaining.all() else remaining
    alive_rater, alive_ratee = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for part in edge_slices(rater.shape[0]):
        inside = slice(None) if mask is None else mask[part]
        alive_rater[rater[part][inside]] = True
        alive_ratee[ratee[part][inside]] = True
    density_graph = -1.0
    best = (-1.0, alive_rater.copy(), alive_ratee.copy())
    for _ in range(rounds_max):
        size = int(alive_rater.sum() + alive_ratee.sum())
        if size == 0:
            return best[1], best[2], best[0], density_graph
        degree_rater, degree_ratee = _weighted_degrees(live_rater, live_ratee, column, n, mask)
        density, next_rater, next_ratee = peel_step(degree_rater, degree_ratee, alive_rater,
                                                    alive_ratee, epsilon=epsilon)
        if density_graph < 0:
            density_graph = density
        if density > best[0]:
            best = (density, alive_rater.copy(), alive_ratee.copy())
        alive_rater, alive_ratee = next_rater, next_ratee
        live = alive_rater[live_rater] & alive_ratee[live_ratee]
        if mask is not None:
            live &= mask
            mask = None
        live_rater, live_ratee = live_rater[live], live_ratee[live]
    raise ConvergenceError("fraudar", iterations=rounds_max, delta=float("nan"), tolerance=0.0)


WHOLE_SUM_EDGES = 1 << 24


def _weighted_degrees(rater: EdgeIndexArray, ratee: EdgeIndexArray, column: FloatArray,
                      n: int, mask: BoolArray | None) -> tuple[FloatArray, FloatArray]:
    """Sums of the edge weights ``column[ratee]`` (0 outside ``mask``) per rater and per
    ratee, in edge order.

    Up to ``WHOLE_SUM_EDGES`` edges in one ``np.bincount`` each (it releases the GIL, so the
    thread computing the behavioural signals runs meanwhile), beyond that slice by slice into
    the same sums (``np.add.at``: the same values, temporaries of one slice). Edges outside
    ``mask`` add 0, as they did when every round read every edge.
    """
    if rater.shape[0] <= WHOLE_SUM_EDGES:
        weight = column[ratee]
        if mask is not None:
            weight *= mask
        return (np.bincount(rater, weights=weight, minlength=n).astype(np.float64, copy=False),
                np.bincount(ratee, weights=weight, minlength=n).astype(np.float64, copy=False))
    degree_rater, degree_ratee = np.zeros(n), np.zeros(n)
    for part in edge_slices(rater.shape[0]):
        weight = column[ratee[part]]
        if mask is not None:
            weight *= mask[part]
        add_by(degree_rater, rater[part], weight)
        add_by(degree_ratee, ratee[part], weight)
    return degree_rater, degree_ratee
