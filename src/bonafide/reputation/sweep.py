"""Sweeps over the edge arrays of the in-process engine: slices, ordered sums, two threads.

Owns: ``edge_slices``, ``add_by``, ``count_by`` and ``Workers``. Imports: NumPy and the
standard library only.

At 10^8 ratings one float64 per rating is 0.8 GB, so the in-process engine does its per-edge
work one slice of edges at a time (temporaries of one slice only) and keeps only the per-edge
arrays it must (the ratings' keep factor, which becomes their weight). Sums over the edges of
each account stay bit for bit those of one ``np.bincount`` over all edges: ``np.add.at`` adds
each slice's values into the same output, in edge order, from the same zeros. Independent
computations (two sums, two stages) run on a pool of threads, since NumPy releases the GIL in
its array loops; each result is computed by one thread in a fixed order, so threads change
the time and nothing else.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")
R = TypeVar("R")
SLICE_EDGES = 1 << 21  # 2 M edges: a few tens of MB per temporary
PARALLEL_EDGES_MIN = 1 << 20  # below this threads cost more than they save


def edge_slices(m: int, size: int = SLICE_EDGES) -> list[slice]:
    """Consecutive slices covering ``0 .. m`` (one empty slice when ``m`` is 0).

    >>> edge_slices(5, 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    assert size > 0
    return [slice(start, min(start + size, m)) for start in range(0, max(m, 1), size)]


def add_by(out: NDArray[np.float64], index: NDArray[Any], weights: NDArray[Any]) -> None:
    """``out[index[e]] += weights[e]`` for each edge in order (``np.bincount``'s sums when
    ``out`` starts at zeros and the slices of an edge array are added in order).

    >>> out = np.zeros(3)
    >>> add_by(out, np.array([2, 0, 2], dtype=np.int32), np.array([0.5, 1.0, 0.25]))
    >>> out.tolist()
    [1.0, 0.0, 0.75]
    """
    np.add.at(out, index, weights)


def count_by(index: NDArray[Any], n: int) -> NDArray[np.int64]:
    """Occurrences of each of ``0 .. n - 1`` in ``index``, slice by slice (integers: exact).

    ``np.bincount`` copies an int32 index into a platform-integer array first (8 bytes per
    edge at once); by slices that copy is one slice's.

    >>> count_by(np.array([1, 1, 3], dtype=np.int32), 4).tolist()
    [0, 2, 0, 1]
    """
    counts = np.zeros(n, dtype=np.int64)
    for part in edge_slices(index.shape[0]):
        counts += np.bincount(index[part], minlength=n)
    return counts


class Workers:
    """A pool of ``threads`` threads for independent computations (none when 1).

    Use as a context manager; ``all`` runs callables and returns their results in order.
    """

    def __init__(self, threads: int) -> None:
        assert threads >= 1
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def ordered(self, fn: Callable[[T], R], items: Sequence[T], *, ahead: int = 2) -> Iterator[R]:
        """``fn(item)`` for each item, yielded in order; with a pool, up to ``ahead`` items are
        computed on the pool while the caller works on the one before (its memory stays bounded).

        For a sweep whose per-slice work releases the GIL (gathers, arithmetic) and whose
        consumer does not (``np.add.at``): the sums keep their order, so their bits.

        >>> with Workers(2) as w:
        ...     list(w.ordered(lambda x: x * x, [1, 2, 3, 4]))
        [1, 4, 9, 16]
        """
        if self.pool is None:
            yield from (fn(item) for item in items)
            return
        assert ahead >= 1
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(self.pool.submit(fn, item))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def all(self, *calls: Callable[[], Any]) -> list[Any]:
        """Run ``calls`` (concurrently when there is a pool) and return their results."""
        if self.pool is None:
            return [call() for call in calls]
        futures = [self.pool.submit(call) for call in calls]
        return [future.result() for future in futures]
