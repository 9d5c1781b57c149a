"""Dense-block detection in the rater × ratee graph, in the manner of FRAUDAR.

Owns: ``fraudar`` and ``Block``. Imports: NumPy and ``reputation.graph``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bonafide.reputation.graph import BoolArray, ConvergenceError, FloatArray, RatingGraph
from bonafide.reputation.kernels import EdgeChunk, peel_partial, peel_step


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
    eligible = graph.rating > 0 if positive_only else np.ones(graph.n_ratings, dtype=bool)
    selected = eligible
    # The adjacency is binary: repeat ratings of the same pair (repeat orders) count once.
    candidates = np.flatnonzero(selected)
    pair = graph.rater[candidates] * n + graph.ratee[candidates]
    order = np.argsort(pair, kind="stable")  # stable: the first rating of a pair is kept
    ordered = pair[order]
    first = np.ones(ordered.shape[0], dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    selected = np.zeros(graph.n_ratings, dtype=bool)
    selected[candidates[order[first]]] = True
    del candidates, pair, order, ordered, first  # 33 bytes per edge, not needed while peeling
    degree_in = np.bincount(graph.ratee[selected], minlength=n)
    weight = np.where(selected, 1.0 / np.log(degree_in[graph.ratee] + column_offset), 0.0)
    remaining = selected.copy()
    blocks: list[Block] = []
    for _ in range(blocks_max):
        if not remaining.any():
            break
        block = _peel(graph, weight, remaining, epsilon=epsilon, rounds_max=rounds_max)
        remaining &= ~block.edges
        # Report every rating inside the block, repeats of a pair included.
        inside = block.raters[graph.rater] & block.ratees[graph.ratee] & eligible
        blocks.append(Block(block.raters, block.ratees, block.density, block.density_graph,
                            inside))
    return blocks


def _peel(
    graph: RatingGraph,
    weight: FloatArray,
    remaining: BoolArray,
    *,
    epsilon: float,
    rounds_max: int,
) -> Block:
    n = graph.n_accounts
    rater, ratee = graph.rater, graph.ratee
    # The peeling rounds' edge work is the chunked (Dask) engine's kernel, over one chunk.
    chunk = EdgeChunk(rater, ratee, graph.rating, None,
                      {"peel_weight": weight, "remaining": remaining})
    alive_rater = np.bincount(rater[remaining], minlength=n) > 0
    alive_ratee = np.bincount(ratee[remaining], minlength=n) > 0
    density_graph = -1.0
    best = (-1.0, alive_rater.copy(), alive_ratee.copy())
    for _ in range(rounds_max):
        size = int(alive_rater.sum() + alive_ratee.sum())
        if size == 0:
            inside = best[1][rater] & best[2][ratee] & remaining
            return Block(best[1], best[2], best[0], density_graph, inside)
        degree_rater, degree_ratee = peel_partial(chunk, alive_rater, alive_ratee, n)
        density, next_rater, next_ratee = peel_step(degree_rater, degree_ratee, alive_rater,
                                                    alive_ratee, epsilon=epsilon)
        if density_graph < 0:
            density_graph = density
        if density > best[0]:
            best = (density, alive_rater.copy(), alive_ratee.copy())
        alive_rater, alive_ratee = next_rater, next_ratee
    raise ConvergenceError("fraudar", iterations=rounds_max, delta=float("nan"), tolerance=0.0)
