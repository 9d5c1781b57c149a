"""Behavioural fraud signals computed from edge arrays: bursts, reviewers for hire, links.

Owns: ``burst_suspicion``, ``hired_suspicion``, ``ring_suspicion``, ``linked_ratings``.
Imports: NumPy, SciPy (sparse) and ``reputation.graph``. Each signal is a score in [0, 1];
higher means more suspicious.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from bonafide.reputation.graph import BoolArray, FloatArray, RatingGraph
from bonafide.reputation.kernels import (
    EdgeChunk,
    burst_edges,
    first_rating_partial,
    hired_like_edges,
    orient_small_pairs,
    pair_degree_partial,
    positive_pair_keys,
    ring_finish,
    triangles_partial,
)

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
    ts = graph.timestamp - float(graph.timestamp.min())
    # The per-edge kernel is shared with the chunked (Dask) engine; see ``kernels.burst_edges``.
    return burst_edges(graph.ratee, ts, n, windows_seconds=windows_seconds,
                       count_min=count_min, ratio_min=ratio_min)

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
    count = np.bincount(graph.rater, weights=hired.astype(np.float64), minlength=n)
    degree = np.bincount(graph.rater, minlength=n).astype(np.float64)
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
    chunk = EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp)
    (first,) = first_rating_partial(chunk, graph.n_accounts)
    return hired_like_edges(chunk, first, young_seconds=young_seconds, extreme_min=extreme_min)

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
    link_key = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(pairs[:, 0], pairs[:, 1])
    edge_key = (np.minimum(graph.rater, graph.ratee) * n
                + np.maximum(graph.rater, graph.ratee))
    linked: BoolArray = np.isin(edge_key, link_key)
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
    # triangle counted once from wedges oriented up the degree order (integers: exact).
    keys = positive_pair_keys(EdgeChunk(graph.rater, graph.ratee, graph.rating, None), n)
    (degree,) = pair_degree_partial(keys, n)
    oriented = orient_small_pairs(keys, degree, n, degree_max)
    (triangles,) = triangles_partial(oriented, 0, n)
    return ring_finish(triangles, oriented.degree, pairs_prior=pairs_prior)

