"""Per-chunk kernels of the fraud engine: ``partial(chunk, node vectors) -> partial sums``.

Owns: ``EdgeChunk`` (a slice of the edge arrays plus per-edge state) and the pieces every
scoring stage is built from, in three kinds:

* **partials** read one chunk of edges and some per-account vectors and return sums (or minima)
  of length ``n_accounts``; partials of disjoint chunks combine by ``combine_sum`` /
  ``combine_min`` / ``combine_max``, in any grouping (a tree on a cluster, one chunk in-process);
* **edge maps** compute per-edge values from a chunk and per-account vectors (no reduction);
* **finishes** turn combined sums into the next per-account vectors (they run on the driver).

Some edge maps need a chunk that holds *every* rating of each of its ratees ("ratee-complete");
their docstrings say so. One chunk holding the whole graph is trivially ratee-complete, so the
in-process engine is the one-chunk case of the same code. Imports: NumPy only.

The REV2 step fuses the end of one iteration with the start of the next, so a cluster needs one
map and one reduction per iteration::

    R_t       = reliability(F_{t-1}, G_t)                    per edge, kept in the chunk
    F-sums_t  = bincount(rater, R_t)                         partial → combine → finish F_t
    G-sums_t+1 = bincount(ratee, w s R_t)                    partial → combine → finish G_t+1
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]
# A chunk's account indices: int32 while the accounts fit (half the memory), else int64.
ChunkIndex = NDArray[np.signedinteger[Any]]
# A chunk's ratings: float32 when that holds every value exactly (star ratings do), else
# float64. Kernels compute in float64 (``outcomes`` widens; comparisons with 0 are exact).
ChunkRating = NDArray[np.floating[Any]]
BoolArray = NDArray[np.bool_]
Partial = tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class EdgeChunk:
    """A slice of a rating graph's edges, with global account indices, and per-edge state.

    ``state`` holds per-edge arrays derived by earlier stages (e.g. ``reliability``,
    ``keep``); ``with_state`` returns a new chunk that shares every array it does not replace.
    ``touched``, when set, lists every account the edges name (so a partial sum of length n is
    zero elsewhere and can travel as just those entries).

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 1]), np.array([1, 2]), np.array([1.0, -1.0]), None)
    >>> c.with_state(keep=np.ones(2)).state["keep"].tolist(), c.n_ratings
    ([1.0, 1.0], 2)
    """

    rater: ChunkIndex
    ratee: ChunkIndex
    rating: ChunkRating
    timestamp: FloatArray | None
    state: dict[str, NDArray[Any]] = field(default_factory=dict)
    touched: IndexArray | None = None  # sorted accounts the chunk's edges name, when known
    local: tuple[NDArray[np.int32], NDArray[np.int32]] | None = None  # positions in touched
    peel: PeelState | None = None  # a FRAUDAR peel's live edges, between its rounds

    def __post_init__(self) -> None:
        m = self.rater.shape[0]
        assert self.ratee.shape == (m,) and self.rating.shape == (m,)
        assert self.timestamp is None or self.timestamp.shape == (m,)
        assert all(v.shape[0] == m for v in self.state.values()), "state is per edge"

    @property
    def n_ratings(self) -> int:
        """Number of ratings in this chunk."""
        return int(self.rater.shape[0])

    def with_state(self, **arrays: NDArray[Any]) -> EdgeChunk:
        """This chunk with per-edge ``arrays`` added or replaced."""
        return replace(self, state={**self.state, **arrays})

    def take(self, rows: IndexArray) -> EdgeChunk:
        """The chunk of the given rows, in that order (state included)."""
        ts = None if self.timestamp is None else self.timestamp[rows]
        return EdgeChunk(self.rater[rows], self.ratee[rows], self.rating[rows], ts,
                         {k: v[rows] for k, v in self.state.items()})


def concat_chunks(chunks: Sequence[EdgeChunk]) -> EdgeChunk:
    """One chunk holding ``chunks`` in order (their state keys must agree)."""
    assert chunks, "at least one chunk"
    keys = set(chunks[0].state)
    assert all(set(c.state) == keys for c in chunks)
    has_ts = chunks[0].timestamp is not None
    assert all((c.timestamp is not None) == has_ts for c in chunks)
    ts = np.concatenate([c.timestamp for c in chunks if c.timestamp is not None]) if has_ts \
        else None
    return EdgeChunk(
        np.concatenate([c.rater for c in chunks]),
        np.concatenate([c.ratee for c in chunks]),
        np.concatenate([c.rating for c in chunks]),
        ts,
        {k: np.concatenate([c.state[k] for c in chunks]) for k in keys},
    )


def split_by_ratee(chunk: EdgeChunk, parts: int) -> list[EdgeChunk]:
    """Split a chunk into ``parts`` by ``ratee % parts``, keeping each part's edges in order.

    Concatenating part ``j`` of every chunk (in chunk order) gives ratee-complete chunks whose
    edges of any one ratee are in their original relative order, so per-ratee sums are
    bit-for-bit those of the unsplit graph.

    Examples
    --------
    >>> c = EdgeChunk(np.arange(4), np.array([3, 0, 1, 2]), np.zeros(4), None)
    >>> [p.ratee.tolist() for p in split_by_ratee(c, 2)]
    [[0, 2], [3, 1]]
    """
    assert parts >= 1
    bucket = chunk.ratee % parts
    if parts <= 2**16:
        # A stable sort of 16-bit keys is a radix sort in NumPy, O(m): 5x faster than on int32.
        bucket = bucket.astype(np.uint16)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(parts + 1))
    return [chunk.take(order[bounds[j]:bounds[j + 1]]) for j in range(parts)]


# ---------------------------------------------------------------- combining partial results


def combine_sum(parts: Sequence[Partial]) -> Partial:
    """Element-wise sum of partial tuples (arrays or numbers).

    Examples
    --------
    >>> total, count = combine_sum([(np.array([1.0, 0.0]), 2.0), (np.array([0.5, 1.0]), 3.0)])
    >>> total.tolist(), float(count)
    ([1.5, 1.0], 5.0)
    """
    assert parts
    return tuple(_fold(values, np.add) for values in zip(*parts, strict=True))


def combine_min(parts: Sequence[Partial]) -> Partial:
    """Element-wise minimum of partial tuples."""
    return tuple(_fold(values, np.minimum) for values in zip(*parts, strict=True))


def combine_max(parts: Sequence[Partial]) -> Partial:
    """Element-wise maximum of partial tuples."""
    return tuple(_fold(values, np.maximum) for values in zip(*parts, strict=True))


def _fold(values: Sequence[Any], op: Any) -> Any:
    result = values[0]
    for value in values[1:]:
        result = op(result, value)
    return result


@dataclass(frozen=True, eq=False)
class SparsePart:
    """A partial vector of length ``size`` that is the combine's identity outside ``ids``."""

    ids: IndexArray
    values: FloatArray
    size: int


FOLD_BLOCK = 2**19  # accounts per block of a sparse fold: 4 MB of float64, in the L3 cache


def fold_sparse(values: Sequence[Any], fold: Any, identity: float, size: int,
                present: BoolArray | None = None) -> FloatArray:
    """``fold`` (``np.add``, ``np.minimum``, ...) over ``SparsePart``s and dense vectors of
    length ``size``, in their order, starting from ``identity``; marks the accounts any part
    names in ``present`` when given.

    Folding each part into a length-``size`` vector in turn costs a cache miss per entry once
    the vector outgrows the caches (10^7 accounts: 77 MB), and the parts of one worker's
    partitions together name every account many times over. So the accounts go in blocks of
    ``FOLD_BLOCK``, every part's slice of a block folded while the block is in the cache (parts
    hold sorted ids): each entry gets the same folds in the same order, 4x faster at 10^7.

    >>> a = SparsePart(np.array([1, 4]), np.array([1.0, 2.0]), 6)
    >>> fold_sparse([a, np.ones(6)], np.add, 0.0, 6).tolist()
    [1.0, 2.0, 1.0, 1.0, 3.0, 1.0]
    """
    total = np.full(size, identity)
    bounds = np.arange(0, size + FOLD_BLOCK, FOLD_BLOCK)
    cuts = [np.searchsorted(v.ids, bounds) if isinstance(v, SparsePart) else None
            for v in values]
    for block in range(bounds.shape[0] - 1):
        low, high = int(bounds[block]), int(min(bounds[block + 1], size))
        view = total[low:high]
        for value, cut in zip(values, cuts, strict=True):
            if cut is None:
                fold(view, value[low:high], out=view)
                continue
            start, stop = int(cut[block]), int(cut[block + 1])
            if stop > start:
                ids = value.ids[start:stop] - low
                # ids are distinct within one part, so a fancy-indexed update is exact.
                view[ids] = fold(view[ids], value.values[start:stop])
                if present is not None:
                    present[ids + low] = True
    return total


def with_local_positions(chunk: EdgeChunk) -> EdgeChunk:
    """The chunk with ``touched`` (its accounts, sorted) and each edge's positions in it, so its
    partials cost O(edges + touched) and travel as ``SparsePart`` instead of length-n vectors."""
    both = np.concatenate([chunk.rater, chunk.ratee])
    m = chunk.n_ratings
    shift = max(int(2 * m - 1).bit_length(), 1)
    if both.size == 0 or int(both.max()) >= 2 ** (62 - shift):
        touched = distinct_sorted(both)
        local = (np.searchsorted(touched, chunk.rater).astype(np.int32),
                 np.searchsorted(touched, chunk.ratee).astype(np.int32))
        return replace(chunk, touched=touched, local=local)
    # One sort of (account, row) keys gives the distinct accounts and every row's place among
    # them: binary searches of 2m random accounts into the sorted ones cost 3x as much.
    key = np.sort((both.astype(np.int64) << shift) | np.arange(2 * m, dtype=np.int64))
    account = key >> shift
    new = np.empty(2 * m, dtype=bool)
    new[:1] = True
    np.not_equal(account[1:], account[:-1], out=new[1:])
    position = np.empty(2 * m, dtype=np.int32)
    position[key & ((1 << shift) - 1)] = np.cumsum(new) - 1
    touched = account[new].astype(both.dtype)
    return replace(chunk, touched=touched, local=(position[:m], position[m:]))


def gather(values: NDArray[Any], chunk: EdgeChunk, side: str) -> NDArray[Any]:
    """``values[chunk.rater]`` (or ``ratee``, by ``side``): the same array, fetched through the
    chunk's local positions when it has them. A partition's accounts are a sorted slice of a
    length-n vector, read in order, and then the edges gather from that small copy, which
    stays in the cache: at 10^7 accounts half the time of gathering from the whole vector.

    >>> c = with_local_positions(EdgeChunk(np.array([5, 2]), np.array([2, 0]), np.ones(2), None))
    >>> gather(np.arange(10.0) * 10, c, "rater").tolist()
    [50.0, 20.0]
    """
    assert side in ("rater", "ratee")
    if chunk.touched is None or chunk.local is None:
        return np.take(values, chunk.rater if side == "rater" else chunk.ratee)
    return np.take(np.take(values, chunk.touched), chunk.local[0 if side == "rater" else 1])


def sum_by(chunk: EdgeChunk, side: str, n: int, weights: FloatArray | None = None,
           mask: BoolArray | None = None) -> Any:
    """Per-account sums of ``weights`` (counts when None) over the chunk's raters or ratees
    (``side``), optionally over the edges in ``mask`` only: a length-n vector, or a
    ``SparsePart`` over ``touched`` when the chunk has local positions. Same values, same order.

    >>> c = EdgeChunk(np.array([0, 0]), np.array([3, 1]), np.zeros(2), None)
    >>> sum_by(c, "ratee", 4).tolist()
    [0.0, 1.0, 0.0, 1.0]
    >>> part = sum_by(with_local_positions(c), "ratee", 4)
    >>> part.ids.tolist(), part.values.tolist()
    ([0, 1, 3], [0.0, 1.0, 1.0])
    """
    assert side in ("rater", "ratee")
    if chunk.touched is None or chunk.local is None:
        index: Any = chunk.rater if side == "rater" else chunk.ratee
        size = n
    else:
        index = chunk.local[0 if side == "rater" else 1]
        size = chunk.touched.shape[0]
    if mask is not None:
        index = index[mask]
        weights = None if weights is None else weights[mask]
    # bincount gives float64 already when weighted; only counts need converting (no copy else).
    sums = np.bincount(index, weights=weights, minlength=size).astype(np.float64, copy=False)
    if chunk.touched is None or chunk.local is None:
        return sums
    return SparsePart(chunk.touched, sums, n)


# ------------------------------------------------------------------------ counts and ranges


def degrees_partial(chunk: EdgeChunk, n: int) -> Partial:
    """(ratings given, ratings received) per account, as float64 counts of this chunk.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 0]), np.array([1, 2]), np.zeros(2), None)
    >>> [a.tolist() for a in degrees_partial(c, 3)]
    [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    return (
        sum_by(chunk, "rater", n),
        sum_by(chunk, "ratee", n),
    )


def time_range_partial(chunk: EdgeChunk) -> Partial:
    """(earliest, latest) timestamp of the chunk; (inf, -inf) when it has none."""
    if chunk.timestamp is None or chunk.n_ratings == 0:
        return (np.inf, -np.inf)
    return (float(chunk.timestamp.min()), float(chunk.timestamp.max()))


def combine_time_range(parts: Sequence[Partial]) -> Partial:
    """Earliest of the earliest, latest of the latest."""
    return (min(p[0] for p in parts), max(p[1] for p in parts))


def sum_by_rater_partial(chunk: EdgeChunk, name: str, n: int) -> Partial:
    """Sum of the per-edge state ``name`` over each rater's ratings in this chunk."""
    return (sum_by(chunk, "rater", n, chunk.state[name]),)


def first_rating_partial(chunk: EdgeChunk, n: int) -> Partial:
    """Earliest timestamp each account received a rating (inf where none); combine by min."""
    if chunk.touched is not None and chunk.local is not None:
        local = np.full(chunk.touched.shape[0], np.inf)
        if chunk.timestamp is not None:
            np.minimum.at(local, chunk.local[1], chunk.timestamp)
        return (SparsePart(chunk.touched, local, n),)
    first = np.full(n, np.inf)
    if chunk.timestamp is not None:
        np.minimum.at(first, chunk.ratee, chunk.timestamp)
    return (first,)


# ----------------------------------------------------------------------------- behaviour


def floor_signal(signal: FloatArray, floor: float) -> FloatArray:
    """Rescale ``floor .. 1`` to ``0 .. 1``: weak behavioural evidence is treated as noise.

    >>> floor_signal(np.array([0.25, 0.75, 1.0]), 0.5).tolist()
    [0.0, 0.5, 1.0]
    """
    result: FloatArray = np.clip((signal - floor) / (1.0 - floor), 0.0, 1.0)
    return result


def burst_edges(
    ratee: ChunkIndex,
    ts: FloatArray,
    n: int,
    *,
    windows_seconds: tuple[float, ...],
    count_min: float,
    ratio_min: float,
) -> FloatArray:
    r"""Per rating: the burst suspicion of ``behaviour.burst_suspicion``.

    ``ts`` are timestamps already shifted by the *graph's* earliest timestamp (bin edges depend
    on it). Edge map; the chunk must be ratee-complete (a ratee's degree, span and bin counts
    are read from the chunk). ``ratee`` only groups the ratings, so any one-to-one renumbering
    into ``0 .. n - 1`` (a chunk's local positions) gives the same result at O(edges + n).

    Examples
    --------
    Six ratings of account 0 within a minute, after one a year earlier: the day holds
    :math:`k = 6`, the rest of the history predicts :math:`e = 1 \cdot 1 / 364`, so the
    suspicion is :math:`1 - (2e + 5) / 6 \approx 0.166`:

    >>> ts = np.array([0.0] + [365 * 86400.0 + i for i in range(6)])
    >>> s = burst_edges(np.zeros(7, dtype=np.int64), ts, 1, windows_seconds=(86400.0,),
    ...                 count_min=5.0, ratio_min=2.0)
    >>> float(s[0]), round(float(s[1]), 4)
    (0.0, 0.1658)
    """
    m = ratee.shape[0]
    if m > BURST_SLICE_EDGES:
        # Everything here is per ratee, so groups of ratees can go one at a time: the same
        # values, with temporaries (about 100 bytes per edge) for one group only.
        result = np.empty(m)
        bucket = (ratee % -(-m // BURST_SLICE_EDGES)).astype(np.int32)
        for group in range(int(bucket.max()) + 1):
            rows = np.flatnonzero(bucket == group)
            result[rows] = _burst_edges_whole(ratee[rows], ts[rows], n, windows_seconds,
                                              count_min, ratio_min)
        return result
    return _burst_edges_whole(ratee, ts, n, windows_seconds, count_min, ratio_min)


BURST_SLICE_EDGES = 2_000_000
BURST_HISTORY_WINDOWS = 3.0
"""A window counts for a ratee only when its ratings span at least this many windows."""


def _burst_edges_whole(ratee: ChunkIndex, ts: FloatArray, n: int,
                       windows_seconds: tuple[float, ...], count_min: float,
                       ratio_min: float) -> FloatArray:
    m = ratee.shape[0]
    result = np.zeros(m)
    if m == 0:
        return result
    degree = np.bincount(ratee, minlength=n).astype(np.float64)
    first = np.full(n, np.inf)
    np.minimum.at(first, ratee, ts)
    last = np.full(n, -np.inf)
    np.maximum.at(last, ratee, ts)
    # One sort by (ratee, time); then every window's bins are runs of equal (ratee, bin).
    order = _order_by_ratee_time(ratee, ts, n)
    ratee_sorted, ts_sorted = ratee[order], ts[order]
    span = (last - first)[ratee_sorted]
    degree_sorted = degree[ratee_sorted]
    other_ratee = ratee_sorted[1:] != ratee_sorted[:-1]
    best = np.zeros(m)
    for window in windows_seconds:
        for offset in (0.0, 0.5):
            bins = np.floor(ts_sorted / window + offset)
            boundary = np.concatenate([[True], other_ratee | (bins[1:] != bins[:-1])])
            counts = np.diff(np.append(np.flatnonzero(boundary), m)).astype(np.float64)
            k = counts[np.cumsum(boundary) - 1]
            # The rate the rest of the history predicts, over the time outside this bin.
            expected = (degree_sorted - k) * window / np.maximum(span - window, window)
            score = np.clip(1.0 - (ratio_min * expected + count_min) / k, 0.0, 1.0)
            # A window longer than a third of the history has no baseline to stand out from.
            score[span < BURST_HISTORY_WINDOWS * window] = 0.0
            np.maximum(best, score, out=best)
    result[order] = best
    return result


def _order_by_ratee_time(ratee: ChunkIndex, ts: FloatArray, n: int) -> IndexArray:
    """Rows sorted by (ratee, time). Rows with the same ratee and time may come in any order:
    every value ``burst_edges`` computes for a row depends on its ratee and time only.

    ``np.lexsort`` does this at 5x the cost of an unstable float sort (for the times' ranks)
    and one integer sort of ``ratee << bits | rank``.
    """
    m = ratee.shape[0]
    shift = max(int(m - 1).bit_length(), 1)
    if n >= 2 ** (62 - shift):
        ordered: IndexArray = np.lexsort((ts, ratee))
        return ordered
    by_time = np.argsort(ts)
    rank = np.empty(m, dtype=np.int64)
    rank[by_time] = np.arange(m, dtype=np.int64)
    key = np.sort((ratee.astype(np.int64) << shift) | rank)
    result: IndexArray = by_time[key & ((1 << shift) - 1)]
    return result


def hired_like_edges(chunk: EdgeChunk, first: FloatArray, *, young_seconds: float,
                     extreme_min: float) -> BoolArray:
    """Per rating: extreme and given to a ratee whose first rating is under ``young_seconds``
    old; ``first`` is each account's earliest received rating over the whole graph. Edge map.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 1]), np.array([2, 2]), np.array([1.0, 1.0]),
    ...               np.array([0.0, 40 * 86400.0]))
    >>> first = np.array([np.inf, np.inf, 0.0])
    >>> hired_like_edges(c, first, young_seconds=30 * 86400.0, extreme_min=0.99).tolist()
    [True, False]
    """
    if chunk.timestamp is None:
        return np.zeros(chunk.n_ratings, dtype=bool)
    young = chunk.timestamp - gather(first, chunk, "ratee") < young_seconds
    # In float64: a float32 rating compared with the float64 threshold, whatever its type.
    result: BoolArray = young & (np.abs(np.asarray(chunk.rating, np.float64)) >= extreme_min)
    return result


def hired_partial(chunk: EdgeChunk, n: int) -> Partial:
    """Count of hired-like ratings (per-edge state ``hired_like``) per rater in this chunk."""
    weights = chunk.state["hired_like"].astype(np.float64)
    return (sum_by(chunk, "rater", n, weights),)


def hired_finish(
    count: FloatArray, degree_out: FloatArray, *, count_prior: float, ratees_scale: float
) -> FloatArray:
    r""":math:`H(u) = h_u / (d_u + k_0) \cdot (1 - e^{-h_u / \lambda})` from combined counts.

    Examples
    --------
    >>> round(float(hired_finish(np.array([10.0]), np.array([10.0]), count_prior=1.0,
    ...                          ratees_scale=3.0)[0]), 3)
    0.877
    """
    result: FloatArray = count / (degree_out + count_prior) * (
        1.0 - np.exp(-count / ratees_scale))
    return result


def linked_edges(rater: IndexArray, ratee: IndexArray, link_key: IndexArray, n: int) -> BoolArray:
    """Per rating: whether rater and ratee form one of the linked pairs ``link_key``.

    ``link_key`` holds ``min * n + max`` of each linked pair (see ``link_keys``). Edge map.
    """
    # Keys need 64 bits even when the chunk stores its indices as int32.
    edge_key = (np.minimum(rater, ratee).astype(np.int64) * n
                + np.maximum(rater, ratee).astype(np.int64))
    linked: BoolArray = np.isin(edge_key, link_key)
    return linked


def link_keys(pairs: IndexArray, n: int) -> IndexArray:
    """Order-free keys ``min * n + max`` of account index pairs, shape (k, 2).

    Examples
    --------
    >>> link_keys(np.array([[2, 1]]), 3).tolist()
    [5]
    """
    keys: IndexArray = np.minimum(pairs[:, 0], pairs[:, 1]) * n + np.maximum(
        pairs[:, 0], pairs[:, 1])
    return keys


def positive_pair_keys(chunk: EdgeChunk, n: int) -> IndexArray:
    """Distinct order-free keys ``low * n + high`` of this chunk's positive ratings, no loops.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 1, 2]), np.array([1, 0, 2]), np.ones(3), None)
    >>> positive_pair_keys(c, 3).tolist()
    [1]
    """
    positive = chunk.rating > 0
    # int64 keys whatever the chunk's index type (``low * n`` overflows int32).
    low = np.minimum(chunk.rater[positive], chunk.ratee[positive]).astype(np.int64)
    high = np.maximum(chunk.rater[positive], chunk.ratee[positive]).astype(np.int64)
    distinct = low != high
    return distinct_sorted(low[distinct] * n + high[distinct])


def distinct_sorted(values: IndexArray) -> IndexArray:
    """Sorted distinct values (a sort and a mask: faster than ``np.unique`` on big arrays).

    >>> distinct_sorted(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(values)
    keep = np.empty(ordered.shape[0], dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    result: IndexArray = ordered[keep]
    return result


def pair_degree_partial(keys: IndexArray, n: int) -> Partial:
    """Distinct positive neighbours per account, from a set of pair keys (combine by sum
    when every key lives in exactly one part)."""
    low, high = keys // n, keys % n
    return ((np.bincount(low, minlength=n) + np.bincount(high, minlength=n)).astype(np.float64),)


def small_pairs(keys: IndexArray, degree: FloatArray, n: int, degree_max: int) -> IndexArray:
    """The pair keys whose both ends have at most ``degree_max`` distinct neighbours."""
    low, high = keys // n, keys % n
    small = (degree[low] <= degree_max) & (degree[high] <= degree_max)
    kept: IndexArray = keys[small]
    return kept


@dataclass(frozen=True, eq=False)
class Oriented:
    r"""The low-degree positive-pair graph with each pair pointed from its lower-ranked end to its
    higher-ranked end (rank = (degree, index)), as CSR arrays, plus each account's degree.

    Pointing edges up the degree order bounds every account's out-degree by
    :math:`\sqrt{2m}` (Chiba and Nishizeki, SIAM J. Comput. 1985), so listing the wedges
    ``a → b → c`` costs little even where an account has many low-ranked neighbours.
    """

    indptr: IndexArray
    indices: ChunkIndex  # int32 while the accounts fit: the graph is copied to every worker
    degree: FloatArray

    @property
    def n(self) -> int:
        """Number of accounts."""
        return int(self.degree.shape[0])


def orient_small_pairs(keys: IndexArray, degree_all: FloatArray, n: int,
                       degree_max: int) -> Oriented:
    """Keep the pairs whose ends both have at most ``degree_max`` distinct positive neighbours
    (hubs are left out, as in ``behaviour.ring_suspicion``) and orient them up the degree order.
    """
    kept = small_pairs(keys, degree_all, n, degree_max)
    low, high = np.divmod(kept, n)
    del kept
    degree = (np.bincount(low, minlength=n) + np.bincount(high, minlength=n)).astype(np.float64)
    up = (degree[low] < degree[high]) | ((degree[low] == degree[high]) & (low < high))
    # Sorting the keys source * n + target orders by (source, target), as a lexsort of the two
    # would, at an eighth of the temporary memory (this runs on one worker, for every pair).
    oriented = np.where(up, low * n + high, high * n + low)
    del low, high, up
    oriented.sort()
    source, target = np.divmod(oriented, n)
    del oriented
    indptr = np.concatenate([[0], np.cumsum(np.bincount(source, minlength=n))]).astype(np.int64)
    kind = np.int32 if n < INT32_MAX else np.int64
    return Oriented(indptr, target.astype(kind), degree)


INT32_MAX = 2**31 - 1


def triangles_partial(graph: Oriented, start: int, stop: int) -> Partial:
    """Triangles through each account, counted from the wedges ``a → b → c`` with ``a`` in
    ``start:stop`` that close (``a → c`` exists); each triangle is found once, at its
    lowest-ranked corner, and counted for all three corners. Blocks of ``a`` are independent.

    Examples
    --------
    A triangle 0-1-2 and a pendant 3-0:

    >>> keys = np.array([0 * 4 + 1, 1 * 4 + 2, 0 * 4 + 2, 0 * 4 + 3])
    >>> g = orient_small_pairs(keys, np.zeros(4), 4, 0)
    >>> triangles_partial(g, 0, 4)[0].tolist()
    [1.0, 1.0, 1.0, 0.0]
    """
    n = graph.n
    indptr, indices = graph.indptr, graph.indices
    first, last = int(indptr[start]), int(indptr[stop])
    a = np.repeat(np.arange(start, stop, dtype=np.int64), np.diff(indptr[start:stop + 1]))
    b = indices[first:last]
    # A wedge a -> b -> c closes when a -> c is a pair, and a is in this block: the block's own
    # pairs, as sorted keys a * n + c (rows are in order, targets sorted within a row).
    keys = a * n + b
    fan = indptr[b + 1] - indptr[b]  # out-degree of each middle corner
    wedge_a = np.repeat(a, fan)
    wedge_b = np.repeat(b, fan)
    # Positions of every out-neighbour of each b, laid end to end.
    offsets = np.repeat(indptr[b] - np.concatenate([[0], np.cumsum(fan)[:-1]]), fan)
    wedge_c = indices[np.arange(wedge_a.shape[0], dtype=np.int64) + offsets]
    wanted = wedge_a * n + wedge_c
    position = np.minimum(np.searchsorted(keys, wanted), max(keys.shape[0] - 1, 0))
    closed = keys[position] == wanted if keys.size else np.zeros(0, dtype=bool)
    corners = np.concatenate([wedge_a[closed], wedge_b[closed], wedge_c[closed]])
    return (np.bincount(corners, minlength=n).astype(np.float64),)


def ring_finish(triangles: FloatArray, degree: FloatArray, *, pairs_prior: float) -> FloatArray:
    r"""Local clustering :math:`2 t_u / (d_u (d_u - 1) + k_0)` from combined triangle counts."""
    result: FloatArray = 2.0 * triangles / (degree * (degree - 1.0) + pairs_prior)
    return result


def ring_from_pairs(keys: IndexArray, n: int, *, pairs_prior: float) -> FloatArray:
    r"""Local clustering :math:`2 t_u / (d_u (d_u - 1) + k_0)` over distinct pair keys.

    This is ``behaviour.ring_suspicion`` after its hubs were dropped, in one block (a cluster
    runs ``triangles_partial`` over many blocks instead). Triangle counts are integers, so any
    blocking gives exactly the same result.

    Examples
    --------
    A triangle 0-1-2 and a pendant 3-0:

    >>> keys = np.array([0 * 4 + 1, 1 * 4 + 2, 0 * 4 + 2, 0 * 4 + 3])
    >>> [round(float(x), 3) for x in ring_from_pairs(keys, 4, pairs_prior=2.0)]
    [0.25, 0.5, 0.5, 0.0]
    """
    graph = orient_small_pairs(keys, np.zeros(n), n, 0)
    (triangles,) = triangles_partial(graph, 0, n)
    return ring_finish(triangles, graph.degree, pairs_prior=pairs_prior)


# ------------------------------------------------------------------------------- FRAUDAR


def fraudar_select(chunk: EdgeChunk, n: int, *, positive_only: bool) -> EdgeChunk:
    """Mark each (rater, ratee) pair's first eligible rating (positive, with ``positive_only``)
    as ``selected``; edge map.

    Needs a ratee-complete chunk (so every repeat of a pair is in it). Which repeat is marked
    does not change any block: repeats share their weight and their block membership.
    """
    eligible = chunk.rating > 0 if positive_only else np.ones(chunk.n_ratings, dtype=bool)
    candidates = np.flatnonzero(eligible)
    first = _first_of_each_pair(chunk, candidates, n)
    selected = np.zeros(chunk.n_ratings, dtype=bool)
    selected[candidates[first]] = True
    return chunk.with_state(selected=selected)


def _first_of_each_pair(chunk: EdgeChunk, rows: IndexArray, n: int) -> IndexArray:
    """The place in ``rows`` of the first row of each distinct (rater, ratee) pair among them
    (the ``return_index`` of ``np.unique`` over the pairs, in another order).

    With local positions the pair and the place fit one int64 (pairs numbered over the chunk's
    accounts and its distinct ratees), and one plain sort finds them: ``np.unique`` with
    ``return_index`` sorts stably, 5x slower.
    """
    if chunk.touched is not None and chunk.local is not None and rows.size:
        rater, ratee = chunk.local[0][rows], chunk.local[1][rows]
        is_ratee = np.zeros(chunk.touched.shape[0], dtype=bool)
        is_ratee[ratee] = True
        ratees = int(is_ratee.sum())
        rank = np.cumsum(is_ratee) - 1
        shift = max(int(rows.shape[0] - 1).bit_length(), 1)
        if chunk.touched.shape[0] * ratees < 2 ** (62 - shift):
            pair = rater.astype(np.int64) * ratees + rank[ratee]
            key = np.sort((pair << shift) | np.arange(rows.shape[0], dtype=np.int64))
            pair_sorted = key >> shift
            new = np.empty(key.shape[0], dtype=bool)
            new[:1] = True
            np.not_equal(pair_sorted[1:], pair_sorted[:-1], out=new[1:])
            first: IndexArray = key[new] & ((1 << shift) - 1)
            return first
    pair = chunk.rater.astype(np.int64)[rows] * n + chunk.ratee[rows]
    _, first = np.unique(pair, return_index=True)
    return first


def selected_in_degree_partial(chunk: EdgeChunk, n: int) -> Partial:
    """Selected (distinct) ratings received per account in this chunk."""
    return (sum_by(chunk, "ratee", n, mask=chunk.state["selected"]),)


def fraudar_weigh(chunk: EdgeChunk, degree_in: FloatArray, *, column_offset: float) -> EdgeChunk:
    r"""Column weight :math:`1 / \log(d_j + c)` of each selected edge; ``remaining`` = selected."""
    selected = chunk.state["selected"]
    # Gather, then convert: converting all of ``degree_in`` would cost O(n) per chunk.
    degree = gather(degree_in, chunk, "ratee").astype(np.int64)
    weight = np.where(selected, 1.0 / np.log(degree + column_offset), 0.0)
    return chunk.with_state(peel_weight=weight, remaining=selected.copy())


def alive_partial(chunk: EdgeChunk, n: int) -> Partial:
    """Remaining edges per rater and per ratee (which nodes a new peel starts with)."""
    remaining = chunk.state["remaining"]
    return (
        sum_by(chunk, "rater", n, mask=remaining),
        sum_by(chunk, "ratee", n, mask=remaining),
    )


def peel_partial(
    chunk: EdgeChunk, alive_rater: BoolArray, alive_ratee: BoolArray, n: int
) -> Partial:
    """Weighted degree of each alive rater and ratee over edges between alive nodes.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 0]), np.array([1, 2]), np.ones(2), None,
    ...               {"peel_weight": np.array([0.5, 0.25]), "remaining": np.ones(2, bool)})
    >>> alive = np.array([True, True, False])
    >>> [a.tolist() for a in peel_partial(c, alive, alive, 3)]
    [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]
    """
    live = alive_rater[chunk.rater] & alive_ratee[chunk.ratee]
    live &= chunk.state["remaining"]
    w_live = np.where(live, chunk.state["peel_weight"], 0.0)
    return (
        sum_by(chunk, "rater", n, w_live),
        sum_by(chunk, "ratee", n, w_live),
    )


def peel_step(
    degree_rater: FloatArray,
    degree_ratee: FloatArray,
    alive_rater: BoolArray,
    alive_ratee: BoolArray,
    *,
    epsilon: float,
) -> tuple[float, BoolArray, BoolArray]:
    """Density of the alive set, and the alive sets after one batch-peeling round (finish)."""
    size = int(alive_rater.sum() + alive_ratee.sum())
    total = float(np.sum(degree_rater[alive_rater]))
    density = total / size
    cut = (1.0 + epsilon) * 2.0 * density
    return density, alive_rater & ~(degree_rater <= cut), alive_ratee & ~(degree_ratee <= cut)


@dataclass(frozen=True, eq=False)
class PeelState:
    """One chunk's live edges during a FRAUDAR peel (``peel_round``), so a round costs
    O(live edges + their nodes) instead of O(edges + accounts).

    ``live`` are the positions of the edges whose rater and ratee are both alive (among the
    ``remaining`` ones), in order; ``rater_slot`` / ``ratee_slot`` give each live edge's place in
    ``raters`` / ``ratees``, the sorted global indices of the accounts the live edges name.
    """

    live: NDArray[np.int32]  # int32: 12 bytes per live edge with the slots, not 24
    rater_slot: NDArray[np.int32]
    ratee_slot: NDArray[np.int32]
    raters: IndexArray
    ratees: IndexArray


def bitmap_of(ids: IndexArray, n: int) -> NDArray[np.uint8]:
    """A bit per account (``n`` of them, little-endian within a byte), set at the distinct
    ``ids``: an eighth of a boolean vector, so a set of accounts travels cheaply.

    >>> bits = bitmap_of(np.array([0, 3, 9]), 12)
    >>> bits.tolist(), in_bitmap(bits, np.array([9, 1, 3])).tolist()
    ([9, 2], [True, False, True])
    """
    ids = np.asarray(ids, dtype=np.int64)
    bits = np.bincount(ids >> 3, weights=np.left_shift(1, ids & 7).astype(np.float64),
                       minlength=(n + 7) // 8)
    return bits.astype(np.uint8)


def in_bitmap(bits: NDArray[np.uint8], ids: NDArray[Any]) -> BoolArray:
    """Whether each of ``ids`` is set in ``bits`` (see ``bitmap_of``)."""
    ids = np.asarray(ids, dtype=np.int64)
    found: BoolArray = ((bits[ids >> 3] >> (ids & 7).astype(np.uint8)) & 1).astype(bool)
    return found


def peel_round(
    chunk: EdgeChunk, alive_rater: NDArray[np.uint8] | None,
    alive_ratee: NDArray[np.uint8] | None, n: int, keep_live: bool = True,
) -> tuple[EdgeChunk, Partial]:
    """One peeling round of this chunk: ``peel_partial``'s sums over the live edges only.

    ``alive_rater`` / ``alive_ratee`` are bitmaps (``bitmap_of``) of the accounts still alive,
    or None in a peel's first round, when every account with a ``remaining`` edge is. Returns
    the chunk and the weighted degree of each account that has a live edge here, as
    ``SparsePart``s over those accounts (combine with ``combine_sparse_sum``). Each sum adds the
    same values in the same order as ``peel_partial``'s ``bincount``, which adds zeros for the
    other edges: the same floats.

    With ``keep_live`` the chunk keeps its live edges (``PeelState``) and later rounds cost
    O(live edges and their accounts), nothing in them of length ``n``; drop the state with
    ``peel_end``. Without, the round reads every remaining edge and keeps nothing: the early
    rounds, where most edges are still live and a copy of them would only add memory.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 0, 1]), np.array([1, 2, 2]), np.ones(3), None,
    ...               {"peel_weight": np.array([0.5, 0.25, 1.0]),
    ...                "remaining": np.ones(3, bool)})
    >>> c, (raters, ratees) = peel_round(c, None, None, 3)
    >>> raters.ids.tolist(), raters.values.tolist(), ratees.values.tolist()
    ([0, 1], [0.75, 1.0], [0.5, 1.25])
    >>> alive = bitmap_of(np.array([0, 1]), 3)
    >>> c, (raters, ratees) = peel_round(c, alive, alive, 3)
    >>> raters.ids.tolist(), raters.values.tolist(), ratees.ids.tolist()
    ([0], [0.5], [1])
    """
    weight = chunk.state["peel_weight"]
    if chunk.peel is None:
        assert chunk.n_ratings < 2**31
        live = np.flatnonzero(chunk.state["remaining"]).astype(np.int32)
        if alive_rater is not None and alive_ratee is not None:
            live = live[in_bitmap(alive_rater, chunk.rater[live])
                        & in_bitmap(alive_ratee, chunk.ratee[live])]
        if not keep_live:
            return chunk, tuple(_peel_sums_unkept(chunk, side, n, live, weight) for side in (0, 1))
        sides = [_peel_slots(chunk, side, n, live) for side in (0, 1)]
        state = PeelState(live, sides[0][0], sides[1][0], sides[0][1], sides[1][1])
    else:
        assert alive_rater is not None and alive_ratee is not None, "a later round has sets"
        state = _peel_shrink(chunk.peel, alive_rater, alive_ratee)
    w_live = weight[state.live]
    rater_sum = np.bincount(state.rater_slot, weights=w_live,
                            minlength=state.raters.shape[0]).astype(np.float64, copy=False)
    ratee_sum = np.bincount(state.ratee_slot, weights=w_live,
                            minlength=state.ratees.shape[0]).astype(np.float64, copy=False)
    return replace(chunk, peel=state), (SparsePart(state.raters, rater_sum, n),
                                        SparsePart(state.ratees, ratee_sum, n))


def _peel_sums_unkept(chunk: EdgeChunk, side: int, n: int, live: NDArray[np.int32],
                      weight: FloatArray) -> SparsePart:
    """The weighted degree on ``side`` over the ``live`` edges, as a ``SparsePart`` over the
    accounts they name (tables over the chunk's accounts, not n, when it has local positions)."""
    index, ids_of, size = _peel_index(chunk, side, n)
    total = np.bincount(index[live], weights=weight[live],
                        minlength=size).astype(np.float64, copy=False)
    present = np.flatnonzero(total > 0)  # every weight is > 0 (1 / log(d + c), c > 1)
    return SparsePart(ids_of(present), total[present], n)


def peel_end(chunk: EdgeChunk) -> EdgeChunk:
    """The chunk without its peel's live edges."""
    return replace(chunk, peel=None)


def _peel_index(chunk: EdgeChunk, side: int, n: int) -> tuple[NDArray[Any], Any, int]:
    """Each edge's rater (side 0) or ratee (1) as a position in ``touched`` when the chunk has
    local positions (tables of O(touched), not O(n)), else as the global index; a function from
    such positions back to global indices; and the size of that space."""
    if chunk.touched is not None and chunk.local is not None:
        touched = chunk.touched
        return chunk.local[side], lambda positions: touched[positions], touched.shape[0]
    index = chunk.rater if side == 0 else chunk.ratee
    return index, lambda positions: positions, n


def _peel_slots(chunk: EdgeChunk, side: int, n: int,
                live: NDArray[np.int32]) -> tuple[NDArray[np.int32], IndexArray]:
    """Each live edge's slot among the distinct accounts on ``side`` of the live edges, and
    those accounts (sorted global indices)."""
    index, ids_of, size = _peel_index(chunk, side, n)
    assert size < 2**31, "slots are int32"
    at = index[live]
    used = np.zeros(size, dtype=bool)
    used[at] = True
    slot_of = np.cumsum(used, dtype=np.int32) - 1
    return slot_of[at], ids_of(np.flatnonzero(used))


def _peel_shrink(state: PeelState, alive_rater: NDArray[np.uint8],
                 alive_ratee: NDArray[np.uint8]) -> PeelState:
    """``state`` without the edges that lost an end, and without the accounts left with none."""
    ok = in_bitmap(alive_rater, state.raters)[state.rater_slot]
    ok &= in_bitmap(alive_ratee, state.ratees)[state.ratee_slot]
    sides = []
    for slot, ids in ((state.rater_slot[ok], state.raters), (state.ratee_slot[ok], state.ratees)):
        used = np.bincount(slot, minlength=ids.shape[0]) > 0
        sides.append(((np.cumsum(used, dtype=np.int32) - 1)[slot], ids[used]))
    return PeelState(state.live[ok], sides[0][0], sides[1][0], sides[0][1], sides[1][1])


def combine_sparse_sum(parts: Sequence[Partial]) -> Partial:
    """Element-wise sum of partial tuples of ``SparsePart``s (or dense vectors), kept sparse
    while few accounts are named: the union of their accounts. Each account's values are added
    in the order of ``parts`` (as a dense fold does), so the sums are the same floats whichever
    way they are grouped into parts. Once the parts name about as many entries as there are
    accounts the result is a dense vector (zero where no part names an account): 8 bytes an
    account, where a sparse union of nearly all of them would take 16.

    >>> a = (SparsePart(np.array([1, 4]), np.array([1.0, 2.0]), 100),)
    >>> b = (SparsePart(np.array([0, 4]), np.array([3.0, 0.5]), 100),)
    >>> (total,) = combine_sparse_sum([a, b])
    >>> total.ids.tolist(), total.values.tolist()
    ([0, 1, 4], [3.0, 1.0, 2.5])
    >>> (dense,) = combine_sparse_sum([a, b, (np.ones(100),)])
    >>> dense[:6].tolist()
    [4.0, 2.0, 1.0, 1.0, 3.5, 1.0]
    """
    assert parts
    return tuple(_sparse_sum(values) for values in zip(*parts, strict=True))


def _sparse_sum(values: Sequence[Any]) -> Any:
    if len(values) == 1:
        return values[0]
    size = next(v.size if isinstance(v, SparsePart) else v.shape[0] for v in values)
    entries = sum(v.ids.shape[0] if isinstance(v, SparsePart) else size for v in values)
    if entries * 4 >= size:
        # Many entries: a dense accumulator is O(n + entries) where sorting is O(entries log).
        return fold_sparse(values, np.add, 0.0, size)
    ids = np.concatenate([v.ids for v in values])
    # bincount adds in input order: part by part, as the dense accumulator does.
    distinct, slot = np.unique(ids, return_inverse=True)
    sums = np.bincount(slot, weights=np.concatenate([v.values for v in values]),
                       minlength=distinct.shape[0]).astype(np.float64, copy=False)
    return SparsePart(distinct, sums, size)


def block_remove(
    chunk: EdgeChunk, raters: BoolArray, ratees: BoolArray, code: int,
    strengths: FloatArray, *, positive_only: bool,
) -> EdgeChunk:
    """Drop found block number ``code``'s edges from ``remaining``; raise each eligible rating
    inside it (repeats of a pair included) to the block's strength ``strengths[code]``.

    A rating's block strength is stored as ``block_code``, an index into ``strengths``
    (``strengths[0] = 0``: no block), one byte per edge instead of a float64: the float is
    ``strengths[block_code]``, exactly. A rating keeps its code when the new block is not
    stronger, so the strength is the largest over the blocks holding it.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 0]), np.array([1, 2]), np.ones(2), None,
    ...               {"remaining": np.ones(2, bool), "block_code": np.zeros(2, np.uint8)})
    >>> yes, no = np.array([True, False, False]), np.array([False, True, False])
    >>> after = block_remove(c, yes, no, 1, np.array([0.0, 0.4]), positive_only=True)
    >>> after.state["remaining"].tolist(), after.state["block_code"].tolist()
    ([False, True], [1, 0])
    """
    assert 0 < code < 256 and strengths.shape[0] > code
    eligible = chunk.rating > 0 if positive_only else np.ones(chunk.n_ratings, dtype=bool)
    inside = gather(raters, chunk, "rater") & gather(ratees, chunk, "ratee")
    remaining = chunk.state["remaining"] & ~inside
    block_code = chunk.state["block_code"]
    if strengths[code] > 0:
        stronger = inside & eligible & (strengths[block_code] < strengths[code])
        block_code = np.where(stronger, np.uint8(code), block_code)
    return chunk.with_state(remaining=remaining, block_code=block_code)


# --------------------------------------------------------------- trust and reputation sums


def outcomes(rating: ChunkRating, threshold: float) -> tuple[FloatArray, FloatArray]:
    """How good and how bad each rating is, in [0, 1] (see ``ScoreParams.threshold_good``).

    Examples
    --------
    >>> [a.tolist() for a in outcomes(np.array([1.0, 0.5, -1.0]), 0.0)]
    [[1.0, 0.5, 0.0], [0.0, 0.0, 1.0]]
    """
    rating = np.asarray(rating, dtype=np.float64)  # float32 chunks: the same float64 math
    good = np.clip((rating - threshold) / (1.0 - threshold), 0.0, 1.0)
    bad = np.clip((threshold - rating) / (1.0 + threshold), 0.0, 1.0)
    return good, bad


def trust_partial(chunk: EdgeChunk, rater_weight: FloatArray, n: int, threshold: float) -> Partial:
    r"""Weighted good and bad outcomes received per account: :math:`\sum w g`, :math:`\sum w b`.

    ``w`` of a rating is ``rater_weight[rater] * keep`` (``keep`` is per-edge state).

    Examples
    --------
    >>> c = EdgeChunk(np.array([0, 1]), np.array([2, 2]), np.array([1.0, -1.0]), None,
    ...               {"keep": np.ones(2)})
    >>> [a.tolist() for a in trust_partial(c, np.array([0.5, 1.0, 1.0]), 3, 0.0)]
    [[0.0, 0.0, 0.5], [0.0, 0.0, 1.0]]
    """
    if "good" in chunk.state:  # precomputed once by a caller that iterates
        good, bad = chunk.state["good"], chunk.state["bad"]
    else:
        good, bad = outcomes(chunk.rating, threshold)
    w = gather(rater_weight, chunk, "rater") * chunk.state["keep"]
    return (
        sum_by(chunk, "ratee", n, w * good),
        sum_by(chunk, "ratee", n, w * bad),
    )


def trust_finish(sum_good: FloatArray, sum_bad: FloatArray, a: float, b: float) -> FloatArray:
    r"""Posterior mean :math:`(a + \sum w g) / (a + b + \sum w (g + b))`.

    >>> trust_finish(np.array([1.0]), np.array([0.0]), 1.0, 1.0).tolist()
    [0.6666666666666666]
    """
    result: FloatArray = (a + sum_good) / (a + b + sum_good + sum_bad)
    return result


def benefit_partial(
    chunk: EdgeChunk, behaviour: FloatArray, n: int, threshold: float
) -> Partial:
    """Praise received from suspicious ratings, and all praise received, per account."""
    good, _ = outcomes(chunk.rating, threshold)
    fake = good * (1.0 - chunk.state["keep"] * (1.0 - gather(behaviour, chunk, "rater")))
    return (
        sum_by(chunk, "ratee", n, fake),
        sum_by(chunk, "ratee", n, good),
    )


def reputation_partial(
    chunk: EdgeChunk,
    n: int,
    *,
    threshold: float,
    reference: float | None,
    half_life_seconds: float,
    mean_value: float | None,
    value_weight_max: float,
) -> Partial:
    """Decayed, value-weighted, trust-weighted good and bad outcomes received per account.

    The rating's weight is the per-edge state ``weight``; ``reference`` is the time decay is
    measured from (None: no decay), ``mean_value`` the graph's mean order value (None: no
    value weighting).
    """
    good, bad = outcomes(chunk.rating, threshold)
    scale = np.ones(chunk.n_ratings)
    if chunk.timestamp is not None and reference is not None:
        age = np.maximum(reference - chunk.timestamp, 0.0)
        scale = 0.5 ** (age / half_life_seconds)
    if mean_value is not None and mean_value > 0 and "value" in chunk.state:
        scale = scale * np.minimum(chunk.state["value"] / mean_value, value_weight_max)
    w = chunk.state["weight"] * scale
    return (
        sum_by(chunk, "ratee", n, w * good),
        sum_by(chunk, "ratee", n, w * bad),
    )


# ----------------------------------------------------------------------------------- REV2


@dataclass(frozen=True)
class Rev2Setup:
    """Per-account constants of a REV2 run (see ``reputation.rev2``), all of length n."""

    gamma1: float
    gamma2: float
    gamma3: float
    alpha1: float
    beta1: float
    prior_f: FloatArray
    prior_g: FloatArray
    inverse_f: FloatArray
    inverse_g: FloatArray
    keep_f: BoolArray
    keep_g: BoolArray


def rev2_start(chunk: EdgeChunk, rater_weight: FloatArray, suspicion_rating: str | None,
               gamma_total: float, gamma3: float) -> EdgeChunk:
    """Per-edge constants of REV2: ``weighted_s`` and ``prior_r``, and ``reliability`` = 1."""
    weighted_s = rater_weight[chunk.rater] * chunk.rating
    suspicion = (chunk.state[suspicion_rating] if suspicion_rating
                 else np.zeros(chunk.n_ratings))
    prior_r = (gamma3 / gamma_total) * (1.0 - suspicion)
    return chunk.with_state(weighted_s=weighted_s, prior_r=prior_r,
                            reliability=np.ones(chunk.n_ratings))


def rev2_goodness_partial(chunk: EdgeChunk, n: int) -> Partial:
    r""":math:`\sum_u w_u s(u,p) R(u,p)` per ratee ``p`` with the chunk's current reliability."""
    scratch = chunk.state["weighted_s"] * chunk.state["reliability"]
    return (sum_by(chunk, "ratee", n, scratch),)


def rev2_reliability(
    chunk: EdgeChunk, fairness: FloatArray, goodness: FloatArray, setup: Rev2Setup
) -> FloatArray:
    r"""Per edge :math:`R = (\gamma_1 F(u) + \gamma_2 (1 - |s - G(p)|/2) + \gamma_3 I_R) / \gamma`.

    Examples
    --------
    >>> c = EdgeChunk(np.array([0]), np.array([1]), np.array([1.0]), None,
    ...               {"prior_r": np.zeros(1)})
    >>> z = np.zeros(2)
    >>> s = Rev2Setup(1, 1, 0, 0, 0, z, z, z, z, z > 0, z > 0)
    >>> rev2_reliability(c, np.array([0.5, 1.0]), np.array([1.0, 0.0]), s).tolist()
    [0.5]
    """
    gamma = setup.gamma1 + setup.gamma2 + setup.gamma3
    scratch = np.take(goodness, chunk.ratee)
    np.subtract(chunk.rating, scratch, out=scratch)
    np.abs(scratch, out=scratch)
    new_r = np.take(fairness, chunk.rater)
    new_r *= setup.gamma1 / gamma
    if setup.gamma2:
        # gamma2 / gamma * (1 - |s - G| / 2), computed in place: this runs once per edge and
        # iteration, and temporaries of every edge dominate REV2's time on small graphs.
        scratch *= -0.5 * setup.gamma2 / gamma
        scratch += setup.gamma2 / gamma
        new_r += scratch
    new_r += chunk.state["prior_r"]
    np.clip(new_r, 0.0, 1.0, out=new_r)
    return new_r


def rev2_step(
    chunk: EdgeChunk, fairness: FloatArray, goodness: FloatArray, setup: Rev2Setup, n: int,
    n_ratees: int | None = None,
) -> tuple[EdgeChunk, Partial]:
    """New reliability of every edge, and the partial sums both finishes need next.

    Returns the chunk holding the new reliability and ``(fairness sums, goodness sums of the
    next iteration, largest reliability change)``; combine with ``combine_rev2``. Rater and
    ratee indices may live in spaces of different sizes (``n`` and ``n_ratees``).
    """
    new_r = rev2_reliability(chunk, fairness, goodness, setup)
    moved = np.subtract(new_r, chunk.state["reliability"])
    change = float(np.abs(moved, out=moved).max(initial=0.0))
    total_f = sum_by(chunk, "rater", n, new_r)
    after = chunk.with_state(reliability=new_r)
    (total_g,) = rev2_goodness_partial(after, n if n_ratees is None else n_ratees)
    return after, (total_f, total_g, change)


def combine_rev2(parts: Sequence[Partial]) -> Partial:
    """Sum the fairness and goodness sums, take the largest reliability change."""
    return (_fold([p[0] for p in parts], np.add), _fold([p[1] for p in parts], np.add),
            max(p[2] for p in parts))


def rev2_goodness_finish(total_g: FloatArray, goodness: FloatArray, is_ratee: BoolArray,
                         setup: Rev2Setup) -> FloatArray:
    """Goodness from its sums, with the median goodness of ratees as cold-start prior."""
    mu_g = float(np.median(goodness[is_ratee])) if is_ratee.any() else 0.0
    new_g = np.clip((setup.beta1 * mu_g + setup.prior_g + total_g) * setup.inverse_g, -1.0, 1.0)
    new_g[setup.keep_g] = 1.0
    return new_g


def rev2_fairness_finish(total_f: FloatArray, fairness: FloatArray, is_rater: BoolArray,
                         setup: Rev2Setup) -> FloatArray:
    """Fairness from its sums, with the median fairness of raters as cold-start prior."""
    mu_f = float(np.median(fairness[is_rater])) if is_rater.any() else 0.0
    new_f = np.clip((setup.alpha1 * mu_f + setup.prior_f + total_f) * setup.inverse_f, 0.0, 1.0)
    new_f[setup.keep_f] = 1.0
    return new_f
