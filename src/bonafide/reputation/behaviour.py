"""Behavioural fraud signals computed from edge arrays: bursts, reviewers for hire, links.

Owns: ``burst_suspicion``, ``hired_suspicion``, ``ring_suspicion``, ``linked_ratings``.
Imports: NumPy, ``reputation.graph``, the chunked engine's ``reputation.kernels`` and
``reputation.sweep``. Each signal is a score in [0, 1]; higher means more suspicious. The
in-process versions here run the kernels over groups of ratees or slices of edges, so their
temporaries stay small at 10^8 ratings; the values are the kernels' own.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bonafide.reputation.graph import BoolArray, FloatArray, IndexArray, RatingGraph
from bonafide.reputation.kernels import (
    EdgeChunk,
    burst_edges,
    first_rating_partial,
    hired_like_edges,
    link_keys,
    linked_edges,
    orient_small_pairs,
    pair_degree_partial,
    positive_pair_keys,
    ring_finish,
    small_pairs,
    triangles_partial,
)
from bonafide.reputation.sweep import count_by, edge_slices

DAY_SECONDS = 86_400.0
BURST_WINDOWS_SECONDS = (DAY_SECONDS, 7 * DAY_SECONDS, 30 * DAY_SECONDS)


def burst_suspicion(
    graph: RatingGraph,
    *,
    windows_seconds: tuple[float, ...] = BURST_WINDOWS_SECONDS,
    count_min: float = 5.0,
    ratio_min: float = 2.0,
) -> FloatArray:
    r"""Per rating: how far its ratee's ratings in the same time window exceed its usual rate.

    A burst detector in the spirit of the rating-burst features of Fei, Mukherjee, Liu, Hsu,
    Castellanos, Ghosh, "Exploiting Burstiness in Reviews for Review Spammer Detection", ICWSM
    2013. For a window length :math:`W`, the ratings a ratee ``p`` receives are binned (twice,
    with bins offset by :math:`W/2`). For a rating that falls in a bin holding :math:`k` ratings,
    the rate expected from the rest of ``p``'s history (the time outside the bin) is
    :math:`e = (d_p - k) \cdot W / \max(T_p - W, W)`, with :math:`d_p` the ratee's ratings and
    :math:`T_p` the span of their timestamps, and the suspicion is
    :math:`\mathrm{clip}(1 - (r e + k_0) / k, 0, 1)` with :math:`r` = ``ratio_min`` and
    :math:`k_0` = ``count_min``: zero unless the bin holds more than :math:`k_0` ratings and
    :math:`r` times the expected count, and near 1 when the ratee's history is mostly the burst.
    A window counts only when :math:`T_p \ge 3 W` (``kernels.BURST_HISTORY_WINDOWS``): a shorter
    history has no baseline, and a seller's first busy month is not a burst of its own month.
    The largest value over windows and offsets is returned. Without timestamps all are 0.

    Examples
    --------
    Twenty ratings of ``s`` within an hour, after four spread over a year:

    >>> ts = [i * 90 * 86400.0 for i in range(4)] + [400 * 86400.0 + 60 * i for i in range(20)]
    >>> g = RatingGraph.from_ids([f"u{i}" for i in range(24)], ["s"] * 24, [1.0] * 24,
    ...                          timestamp=ts)
    >>> s = burst_suspicion(g)
    >>> float(s[:4].max()), round(float(s[4:].min()), 3)
    (0.0, 0.749)
    """
    m, n = graph.n_ratings, graph.n_accounts
    if graph.timestamp is None or m == 0:
        return np.zeros(m)
    start = float(graph.timestamp.min())
    groups = -(-m // BURST_GROUP_EDGES)
    if groups == 1:
        # The per-edge kernel is shared with the chunked (Dask) engine: ``kernels.burst_edges``.
        return burst_edges(graph.ratee, graph.timestamp - start, n,
                           windows_seconds=windows_seconds, count_min=count_min,
                           ratio_min=ratio_min)
    # Everything is per ratee, so groups of ratees (``ratee % groups``) go one at a time, with
    # temporaries (about 100 bytes per edge) for one group only. Within group g a ratee's local
    # id ``ratee // groups`` is one-to-one and keeps the ratees' order: the same values.
    result = np.empty(m)
    bucket = np.empty(m, dtype=np.int16 if groups < 2**15 else np.int64)
    for part in edge_slices(m):
        bucket[part] = graph.ratee[part] % groups
    for group in range(groups):
        rows = np.flatnonzero(bucket == group)
        result[rows] = burst_edges(graph.ratee[rows] // groups, graph.timestamp[rows] - start,
                                   n // groups + 1, windows_seconds=windows_seconds,
                                   count_min=count_min, ratio_min=ratio_min)
    return result


BURST_GROUP_EDGES = 2_000_000

def hired_suspicion(
    graph: RatingGraph,
    *,
    young_seconds: float = 30 * DAY_SECONDS,
    extreme_min: float = 0.99,
    count_prior: float = 1.0,
    ratees_scale: float = 3.0,
) -> FloatArray:
    r"""Per account: how much it rates like a reviewer for hire.

    A reviewer for hire gives extreme ratings to many young ratees (sellers buying their first
    reviews), as described for "opinion spam" by Jindal and Liu, "Opinion Spam and Analysis",
    WSDM 2008, and for paid reviewers by Mukherjee, Liu, Glance, "Spotting Fake Reviewer Groups",
    WWW 2012. A rating is *hired-like* when it is extreme (:math:`|s| \ge` ``extreme_min``) and its
    ratee is young: its first rating came less than ``young_seconds`` before. With :math:`h_u`
    hired-like ratings among :math:`d_u` given,

    .. math:: H(u) = \frac{h_u}{d_u + k_0} \left(1 - e^{-h_u / \lambda}\right)

    with :math:`k_0` = ``count_prior`` (one-off raters stay low) and :math:`\lambda` =
    ``ratees_scale`` (many ratees are needed to be sure). Without timestamps all are 0.

    Examples
    --------
    ``h`` gives 5 stars to ten sellers on each one's first day; ``b`` rates one of them later:

    >>> raters = ["h"] * 10 + ["b"]
    >>> ratees = [f"s{i}" for i in range(10)] + ["s0"]
    >>> ts = [i * 86400.0 * 100 for i in range(10)] + [200 * 86400.0]
    >>> g = RatingGraph.from_ids(raters, ratees, [1.0] * 11, timestamp=ts)
    >>> h = hired_suspicion(g)
    >>> round(float(h[g.index_of(["h"])[0]]), 3), float(h[g.index_of(["b"])[0]])
    (0.877, 0.0)
    """
    n = graph.n_accounts
    if graph.timestamp is None or graph.n_ratings == 0:
        return np.zeros(n)
    hired = hired_like_ratings(graph, young_seconds=young_seconds, extreme_min=extreme_min)
    # Counts of whole ratings: the same in any order, so slice by slice.
    count = count_by(graph.rater[hired], n).astype(np.float64)
    degree = count_by(graph.rater, n).astype(np.float64)
    result: FloatArray = count / (degree + count_prior) * (1.0 - np.exp(-count / ratees_scale))
    return result


def hired_like_ratings(
    graph: RatingGraph, *, young_seconds: float = 30 * DAY_SECONDS, extreme_min: float = 0.99
) -> BoolArray:
    """Per rating: extreme and given to a ratee whose first rating is under ``young_seconds`` old.

    Examples
    --------
    >>> g = RatingGraph.from_ids(["a", "b", "c"], ["s", "s", "s"], [1.0, 1.0, 0.5],
    ...                          timestamp=[0.0, 40 * 86400.0, 1.0])
    >>> hired_like_ratings(g).tolist()
    [True, False, False]
    """
    if graph.timestamp is None:
        return np.zeros(graph.n_ratings, dtype=bool)
    # The chunked engine's kernels over one slice of edges at a time (a minimum and an edge
    # map: the same values whatever the slicing).
    first = np.full(graph.n_accounts, np.inf)
    parts = edge_slices(graph.n_ratings)
    for part in parts:
        np.minimum(first, first_rating_partial(_slice(graph, part), graph.n_accounts)[0],
                   out=first)
    result = np.empty(graph.n_ratings, dtype=bool)
    for part in parts:
        result[part] = hired_like_edges(_slice(graph, part), first, young_seconds=young_seconds,
                                        extreme_min=extreme_min)
    return result


def _slice(graph: RatingGraph, part: slice) -> EdgeChunk:
    """The edges of ``part`` as a chunk (views, no copies)."""
    ts = None if graph.timestamp is None else graph.timestamp[part]
    return EdgeChunk(graph.rater[part], graph.ratee[part], graph.rating[part], ts)

def linked_ratings(graph: RatingGraph, links: ArrayLike | None) -> BoolArray:
    """Per rating: whether rater and ratee are linked accounts (self-dealing).

    ``links`` is an integer array of shape (k, 2) of account index pairs that share a payment
    instrument, device or address fingerprint; order within a pair does not matter.

    Examples
    --------
    >>> g = RatingGraph.from_indices([0, 1, 2], [1, 2, 0], [1.0, 1.0, 1.0])
    >>> linked_ratings(g, [[2, 1]]).tolist()
    [False, True, False]
    """
    if links is None:
        return np.zeros(graph.n_ratings, dtype=bool)
    pairs = np.asarray(links, dtype=np.int64).reshape(-1, 2)
    n = graph.n_accounts
    assert pairs.size == 0 or (pairs.min() >= 0 and pairs.max() < n), "link index out of range"
    link_key = link_keys(pairs, n)
    linked = np.zeros(graph.n_ratings, dtype=bool)
    if link_key.size:
        for part in edge_slices(graph.n_ratings):
            linked[part] = linked_edges(graph.rater[part], graph.ratee[part], link_key, n)
    return linked


def ring_suspicion(
    graph: RatingGraph,
    *,
    degree_max: int = 50,
    pairs_prior: float = 2.0,
) -> FloatArray:
    r"""Per account: how closed its circle of praise is (local clustering of positive ratings).

    Members of a review ring all praise each other, so the accounts an account is linked to by
    positive ratings (either direction) are also linked among themselves. The local clustering
    coefficient (Watts, Strogatz, "Collective dynamics of small-world networks", Nature 1998)
    measures exactly that; group review spam shows it (Mukherjee, Liu, Glance, WWW 2012). On a
    market where buyers rate sellers and sellers rate buyers the honest graph is bipartite and has
    no triangles at all, so honest accounts score 0. With :math:`t_u` the triangles through
    ``u`` and :math:`d_u` its positive neighbours,

    .. math:: C(u) = \frac{2 t_u}{d_u (d_u - 1) + k_0}

    with :math:`k_0` = ``pairs_prior``. Accounts with more than ``degree_max`` neighbours are
    left out (as hubs they would make the count costly, and a ring member is not a hub;
    camouflage ratings on popular hubs therefore do not hide a ring either).

    Examples
    --------
    A triangle of mutual praise and a buyer ``d`` who rates ``a``:

    >>> raters, ratees = ["a", "b", "c", "d"], ["b", "c", "a", "a"]
    >>> g = RatingGraph.from_ids(raters, ratees, [1.0] * 4)
    >>> [round(float(x), 3) for x in ring_suspicion(g)]
    [0.25, 0.5, 0.5, 0.0]
    """
    n = graph.n_accounts
    # Shared with the chunked (Dask) engine: distinct positive pairs, hubs dropped, then each
    # triangle counted once from wedges oriented up the degree order (integers: exact). The
    # pair keys are gathered and filtered slice by slice: 8 bytes per positive rating at once.
    keys = _positive_pair_keys(graph)
    degree = np.zeros(n)
    for part in edge_slices(keys.shape[0]):
        degree += pair_degree_partial(keys[part], n)[0]
    kept = np.concatenate([small_pairs(keys[part], degree, n, degree_max)
                           for part in edge_slices(keys.shape[0])])
    del keys
    oriented = orient_small_pairs(kept, degree, n, degree_max)
    (triangles,) = triangles_partial(oriented, 0, n)
    return ring_finish(triangles, oriented.degree, pairs_prior=pairs_prior)


def _positive_pair_keys(graph: RatingGraph) -> IndexArray:
    """``kernels.positive_pair_keys`` of the whole graph in one array of 8 bytes per positive
    rating: filled slice by slice, sorted in place, its distinct values moved to its front."""
    n = graph.n_accounts
    parts = edge_slices(graph.n_ratings)
    sizes = [int(np.count_nonzero((graph.rating[part] > 0)
                                  & (graph.rater[part] != graph.ratee[part]))) for part in parts]
    keys = np.empty(sum(sizes), dtype=np.int64)
    filled = 0
    for part in parts:
        # A slice's distinct keys: at most its positive ratings between two accounts.
        values = positive_pair_keys(_slice(graph, part), n)
        keys[filled:filled + values.shape[0]] = values
        filled += values.shape[0]
    keys = keys[:filled]
    keys.sort()
    # Distinct values (as ``kernels.distinct_sorted``), written forward over the sorted keys:
    # a slice's distinct values never outnumber the positions already read.
    kept = 0
    for part in edge_slices(filled):
        chunk = keys[part]
        new = np.empty(chunk.shape[0], dtype=bool)
        np.not_equal(chunk[1:], chunk[:-1], out=new[1:])
        new[:1] = part.start == 0 or keys[part.start - 1] != chunk[0]
        values = chunk[new]
        keys[kept:kept + values.shape[0]] = values
        kept += values.shape[0]
    return keys[:kept]

