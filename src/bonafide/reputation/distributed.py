"""The fraud engine over partitioned edges: in-process chunks or a Dask cluster.

Owns: ``score_chunked`` (the default method and REV2, stage by stage, over a ``Runner``),
``LocalRunner`` (chunks in this process), ``DaskRunner`` (chunks as futures on a
``distributed`` cluster), ``open_cluster`` and ``read_partitioned`` (Parquet files, their row
groups, or one CSV read as partitions). Imports: NumPy, SciPy, pyarrow and ``reputation``;
``dask.distributed`` only inside ``DaskRunner`` / ``open_cluster``, so it stays optional.

What runs where (``docs/scaling.md`` has the full table): edges never leave their partition.
The driver holds per-account vectors (length ``n_accounts``) and sends them to every worker
once per step (``scatter(broadcast=True)``); each step maps a kernel from ``reputation.kernels``
over the partitions and sums the partial results in a tree. Edges are first shuffled so that
every partition holds *all* ratings of its ratees (``ratee % parts``, original order kept), so
per-ratee work (bursts, FRAUDAR's repeat pairs) is local and per-ratee sums are bit-for-bit
those of one chunk. Sums over raters add partial sums in a different order than one
``np.bincount``; they agree to rounding (1e-15 relative), which is why results agree to 1e-9
rather than exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy import stats

from bonafide.errors import Rejected
from bonafide.reputation import kernels as k
from bonafide.reputation.behaviour import BURST_WINDOWS_SECONDS, DAY_SECONDS
from bonafide.reputation.graph import BoolArray, ConvergenceError, FloatArray, IndexArray
from bonafide.reputation.kernels import EdgeChunk, Partial, SparsePart
from bonafide.reputation.rev2 import Rev2Params
from bonafide.reputation.score import ScoreParams

Progress = Callable[[str], None]
FAN_IN = 8  # partial results summed per reduction task
LOCAL_GROUP = 8  # a worker's partials folded into its running result per task
ROWS_PER_PART = 2_000_000  # edges per partition after the shuffle (memory per task)
PARTS_MAX = 4096
# Rows read by one task. The ratee shuffle runs one small task per (piece, partition) pair, so
# pieces much smaller than partitions make it quadratic: at 10^8 ratings, 1 M-row pieces meant
# 100 x 50 = 5,000 such tasks, 5 M-row pieces 1,000.
ROWS_PER_PIECE = 5_000_000
REQUIRED_COLUMNS = ("rater", "ratee", "rating")
INT32_ACCOUNTS_MAX = 2**31 - 1
DENSE_RANGE_FACTOR = 4  # integer ids spanning at most this many times their count use tables


class Runner(Protocol):
    """Where the chunks live and how kernels run over them."""

    def broadcast(self, value: Any) -> Any:
        """A handle on ``value`` that every chunk task can read."""

    def update(self, fn: Callable[..., EdgeChunk], *args: Any, **kwargs: Any) -> None:
        """Replace every chunk ``c`` by ``fn(c, *args, **kwargs)``."""

    def step(self, fn: Callable[..., tuple[EdgeChunk, Partial]],
             combine: Callable[[Sequence[Partial]], Partial], *args: Any) -> Partial:
        """Replace each chunk by ``fn(c, *args)[0]``; combine and return the ``[1]`` parts."""

    def reduce(self, fn: Callable[..., Partial],
               combine: Callable[[Sequence[Partial]], Partial], *args: Any,
               **kwargs: Any) -> Partial:
        """Combine ``fn(c, *args, **kwargs)`` over every chunk."""

    def map_handles(self, fn: Callable[..., Any], *args: Any) -> list[Any]:
        """Handles on ``fn(c, *args)`` for every chunk ``c``, left where they were computed."""

    def combine_handles(self, handles: Sequence[Any],
                        combine: Callable[[Sequence[Any]], Any]) -> Any:
        """A handle on ``combine`` over the handles' values (a tree on a cluster), in order."""

    def apply(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A handle on ``fn(*args)``, run where its handle arguments are."""

    def fetch(self, handle: Any) -> Any:
        """The value a handle stands for, brought to the driver."""

    def map_ranges(self, fn: Callable[..., Partial], handle: Any,
                   ranges: Sequence[tuple[int, int]],
                   combine: Callable[[Sequence[Partial]], Partial]) -> Partial:
        """Combine ``fn(value, start, stop)`` over ``ranges`` (in parallel on a cluster)."""

    def shuffle_by_ratee(self, parts: int) -> None:
        """Repartition into ``parts`` ratee-complete chunks."""


class LocalRunner:
    """Chunks held in this process; every call runs at once. One chunk = the plain engine."""

    def __init__(self, chunks: Sequence[EdgeChunk]) -> None:
        self.chunks = list(chunks)

    def broadcast(self, value: Any) -> Any:
        return value

    def update(self, fn: Callable[..., EdgeChunk], *args: Any, **kwargs: Any) -> None:
        self.chunks = [fn(c, *args, **kwargs) for c in self.chunks]

    def step(self, fn: Callable[..., tuple[EdgeChunk, Partial]],
             combine: Callable[[Sequence[Partial]], Partial], *args: Any) -> Partial:
        results = [fn(c, *args) for c in self.chunks]
        self.chunks = [r[0] for r in results]
        return combine([r[1] for r in results])

    def reduce(self, fn: Callable[..., Partial],
               combine: Callable[[Sequence[Partial]], Partial], *args: Any,
               **kwargs: Any) -> Partial:
        return combine([fn(c, *args, **kwargs) for c in self.chunks])

    def map_handles(self, fn: Callable[..., Any], *args: Any) -> list[Any]:
        return [fn(c, *args) for c in self.chunks]

    def combine_handles(self, handles: Sequence[Any],
                        combine: Callable[[Sequence[Any]], Any]) -> Any:
        return combine(list(handles))

    def apply(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(*args)

    def fetch(self, handle: Any) -> Any:
        return handle

    def map_ranges(self, fn: Callable[..., Partial], handle: Any,
                   ranges: Sequence[tuple[int, int]],
                   combine: Callable[[Sequence[Partial]], Partial]) -> Partial:
        return combine([fn(handle, start, stop) for start, stop in ranges])

    def shuffle_by_ratee(self, parts: int) -> None:
        pieces = [k.split_by_ratee(c, parts) for c in self.chunks]
        self.chunks = [k.concat_chunks([p[j] for p in pieces]) for j in range(parts)]


class DaskRunner:
    """Chunks as futures on a ``distributed`` cluster; reductions are trees of sum tasks."""

    def __init__(self, client: Any, chunks: Sequence[Any]) -> None:
        self.client = client
        self.chunks = list(chunks)
        self.homes: list[str] | None = None  # the worker each chunk was placed on, if placed
        self.rounds = 0  # map + reduce round trips to the driver (for benchmarks)

    def _submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # pure=False: tasks are never deduplicated by hashing their (large) arguments.
        return self.client.submit(fn, *args, pure=False, **kwargs)

    def _on_chunks(self, fn: Callable[..., Any], *args: Any, lead: tuple[Any, ...] = (),
                   **kwargs: Any) -> list[Any]:
        """``fn(*lead, chunk, *args, **kwargs)`` for every chunk, on the chunk's home worker if
        it has one. Without the pin the scheduler moved tasks (and with them 76 MB partitions) to an
        idle worker whenever it guessed the transfer cheaper than the queue: at 10^8 ratings one
        worker ended up with 2.5 of the 3.8 GB of partitions during trust."""
        if self.homes is None or len(self.homes) != len(self.chunks):
            return [self._submit(fn, *lead, c, *args, **kwargs) for c in self.chunks]
        return [self.client.submit(fn, *lead, c, *args, pure=False, workers=[home],
                                   allow_other_workers=True, **kwargs)
                for c, home in zip(self.chunks, self.homes, strict=True)]

    def broadcast(self, value: Any) -> Any:
        return self.client.scatter(value, broadcast=True, hash=False)

    def update(self, fn: Callable[..., EdgeChunk], *args: Any, **kwargs: Any) -> None:
        self.chunks = self._on_chunks(fn, *args, **kwargs)

    def step(self, fn: Callable[..., tuple[EdgeChunk, Partial]],
             combine: Callable[[Sequence[Partial]], Partial], *args: Any) -> Partial:
        results = self._on_chunks(_compact_step, *args, lead=(fn,))
        self.chunks = [self._submit(operator.getitem, r, 0) for r in results]
        partials = [self._submit(operator.getitem, r, 1) for r in results]
        del results  # each (chunk, partial) pair is freed once both are taken out of it
        self.rounds += 1
        total = self._reduce_chunks(partials, combine)
        del partials  # held here, every partial would stay in memory until the total is in
        return total.result()  # type: ignore[no-any-return]

    def reduce(self, fn: Callable[..., Partial],
               combine: Callable[[Sequence[Partial]], Partial], *args: Any,
               **kwargs: Any) -> Partial:
        partials = self._on_chunks(_compact_partial, *args, lead=(fn,), **kwargs)
        self.rounds += 1
        total = self._reduce_chunks(partials, combine)
        del partials  # held here, every partial would stay in memory until the total is in
        return total.result()  # type: ignore[no-any-return]

    def map_handles(self, fn: Callable[..., Any], *args: Any) -> list[Any]:
        return self._on_chunks(fn, *args)

    def combine_handles(self, handles: Sequence[Any],
                        combine: Callable[[Sequence[Any]], Any]) -> Any:
        futures = list(handles)
        assert futures, "a combination needs at least one handle"
        # Plain values (not partial tuples): ``_combine``'s sparse check would walk them.
        while len(futures) > 1:
            futures = [self._submit(_combine_values, combine, *futures[i:i + FAN_IN])
                       for i in range(0, len(futures), FAN_IN)]
        return self._submit(_combine_values, combine, futures[0])

    def apply(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._submit(fn, *args)

    def fetch(self, handle: Any) -> Any:
        return handle.result()

    def map_ranges(self, fn: Callable[..., Partial], handle: Any,
                   ranges: Sequence[tuple[int, int]],
                   combine: Callable[[Sequence[Partial]], Partial]) -> Partial:
        if ranges:
            # Every range task reads the same big value: copy it to each worker once.
            self.client.replicate([handle])
        partials = [self._submit(fn, handle, start, stop) for start, stop in ranges]
        return self._tree(partials, combine).result()  # type: ignore[no-any-return]

    def shuffle_by_ratee(self, parts: int) -> None:
        splits = [self._submit(k.split_by_ratee, c, parts) for c in self.chunks]
        self.chunks = self._concat_splits(splits, parts)

    @classmethod
    def from_splits(cls, client: Any, splits: Sequence[Any], parts: int) -> DaskRunner:
        """A runner whose chunks are part ``j`` of every split (futures of chunk lists), in
        order: the second half of ``shuffle_by_ratee``."""
        runner = cls(client, [])
        runner.chunks = runner._concat_splits(splits, parts)
        return runner

    def _concat_splits(self, splits: Sequence[Any], parts: int) -> list[Any]:
        # Partitions are placed round-robin over the workers: left to the scheduler, one worker
        # of two took 2/3 of the partitions at 10^8 ratings (and with them 2/3 of the memory);
        # every later task follows its partition.
        workers = sorted(self.client.scheduler_info()["workers"])
        self.homes = [workers[j % len(workers)] for j in range(parts)]
        return [
            self.client.submit(_concat, *[self._submit(operator.getitem, s, j) for s in splits],
                               pure=False, workers=[self.homes[j]], allow_other_workers=True)
            for j in range(parts)
        ]

    def _reduce_chunks(self, partials: list[Any], combine: Callable[[Sequence[Any]], Any]) -> Any:
        """Combine one partial per chunk: first on each chunk's worker, so sparse partials
        never cross the network and each worker builds one dense vector per position, then a
        tree over the workers' results.

        On a worker the partials are folded ``LOCAL_GROUP`` at a time into a running result,
        each fold at a higher priority than the chunk tasks, so it runs as soon as its group is
        done and the group is freed: one fold over all of them waited for every partial, and
        at 10^8 ratings a worker's 25 partials of a FRAUDAR round held 0.7 GB. The running
        result is dense and enters each fold first; ``0 + x = x``, so every entry gets the same
        additions in the same order as in one fold.
        """
        if self.homes is None or len(self.homes) != len(partials):
            return self._tree(partials, combine)
        local = []
        for worker in dict.fromkeys(self.homes):
            mine = [f for f, home in zip(partials, self.homes, strict=True) if home == worker]
            running = None
            for i in range(0, len(mine), LOCAL_GROUP):
                group = mine[i:i + LOCAL_GROUP]
                running = self.client.submit(
                    _combine, combine, *([] if running is None else [running]), *group,
                    pure=False, workers=[worker], allow_other_workers=True, priority=1)
            local.append(running)
        return self._tree(local, combine)

    def _tree(self, futures: list[Any], combine: Callable[[Sequence[Any]], Any]) -> Any:
        while len(futures) > 1:
            futures = [self._submit(_combine, combine, *futures[i:i + FAN_IN])
                       for i in range(0, len(futures), FAN_IN)]
        if len(futures) == 1 and futures[0] is not None:
            return self._submit(_combine, combine, futures[0])
        raise AssertionError("a reduction needs at least one chunk")


# How each combine folds each position of a partial tuple (None: every position the same).
_FOLDS: dict[Any, tuple[Any, ...]] = {
    k.combine_sum: (np.add,),
    k.combine_min: (np.minimum,),
    k.combine_max: (np.maximum,),
    k.combine_rev2: (np.add, np.add, np.maximum),
}
_IDENTITY = {np.add: 0.0, np.minimum: np.inf, np.maximum: -np.inf}


def _compact(part: Partial, touched: IndexArray | None) -> Partial:
    """Length-n vectors of ``part`` as their entries at ``touched`` only (the rest is the
    identity: a chunk's sums and minima are about the accounts its edges name)."""
    if touched is None:
        return part
    return tuple(
        SparsePart(touched, value[touched], value.shape[0])
        if isinstance(value, np.ndarray) and value.ndim == 1
        and value.shape[0] > 2 * touched.shape[0] else value
        for value in part
    )


def _compact_partial(fn: Callable[..., Partial], chunk: EdgeChunk, *args: Any,
                     **kwargs: Any) -> Partial:
    return _compact(fn(chunk, *args, **kwargs), chunk.touched)


def _compact_step(fn: Callable[..., tuple[EdgeChunk, Partial]], chunk: EdgeChunk,
                  *args: Any) -> tuple[EdgeChunk, Partial]:
    after, part = fn(chunk, *args)
    return after, _compact(part, chunk.touched)


def _combine(combine: Callable[[Sequence[Any]], Any], *parts: Any) -> Any:
    """``combine`` over partial tuples, some of whose vectors may be ``SparsePart``."""
    if combine is k.combine_sparse_sum:
        return combine(list(parts))  # keeps its parts sparse
    sparse = any(isinstance(v, SparsePart) for p in parts for v in p)
    if not sparse:
        return combine(list(parts))
    folds = _FOLDS[combine]
    result = []
    for position in range(len(parts[0])):
        fold = folds[min(position, len(folds) - 1)]
        values = [p[position] for p in parts]
        size = next((v.size for v in values if isinstance(v, SparsePart)), None)
        if size is None:
            result.append(_fold_all(values, fold))
            continue
        result.append(k.fold_sparse(values, fold, _IDENTITY[fold], size))
    return tuple(result)


def _combine_values(combine: Callable[[Sequence[Any]], Any], *values: Any) -> Any:
    return combine(list(values))


def _fold_all(values: Sequence[Any], fold: Any) -> Any:
    total = values[0]
    for value in values[1:]:
        total = fold(total, value)
    return total


def _concat(*chunks: EdgeChunk) -> EdgeChunk:
    return k.with_local_positions(k.concat_chunks(chunks))


@contextlib.contextmanager
def open_cluster(
    scheduler: str | None = None,
    *,
    n_workers: int = 2,
    memory_limit: str = "4GB",
    processes: bool = True,
) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` if given, else to a new ``LocalCluster``.

    The local cluster has ``n_workers`` single-threaded workers (NumPy kernels release the GIL
    little, so processes beat threads), each limited to ``memory_limit``, and no dashboard.
    Its scheduler does not steal work: partitions are placed evenly once (after the shuffle)
    and every later task runs where its partition is. With stealing on, an idle worker took
    tasks and with them their partitions, and at 10^8 ratings one worker ended up holding 3.1
    of the 5.3 GB of edge state (and paid for the transfers).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    # Dashboards on port 0: a busy 8787 would otherwise warn (warnings are errors in tests).
    with dask.config.set({"distributed.scheduler.work-stealing": False}):
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=n_workers, threads_per_worker=1, processes=processes,
            memory_limit=memory_limit, dashboard_address=":0", worker_dashboard_address=":0")
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


# ----------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class Piece:
    """One unit of input read by one task: a Parquet file (some row groups) or a CSV file."""

    path: str
    row_groups: tuple[int, ...] | None


@dataclass(frozen=True, eq=False)
class RawPiece:
    """A piece's columns before accounts are indexed (ids as strings, rating scaled)."""

    rater: Any  # pyarrow string array
    ratee: Any
    rating: FloatArray
    timestamp: FloatArray | None
    error: tuple[str, str] | None = None


def list_pieces(path: Path, *, rows_per_piece: int = 1) -> list[Piece]:
    """The pieces of ``path``: runs of consecutive row groups of each Parquet file holding at
    least ``rows_per_piece`` rows (the last run of a file may hold fewer), or one CSV file.

    A directory is read as every ``*.parquet`` file in it (sorted by name, recursively).
    """
    import pyarrow.parquet as pq

    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise Rejected("input_empty", f"{path}: no .parquet files")
    elif path.is_file():
        files = [path]
    else:
        raise Rejected("input_unreadable", f"{path}: no such file or directory")
    pieces = []
    for file in files:
        if file.suffix.lower() not in (".parquet", ".pq"):
            pieces.append(Piece(str(file), None))
            continue
        try:
            metadata = pq.ParquetFile(file).metadata
        except Exception as error:  # pyarrow raises several types for a corrupt footer
            raise Rejected("input_malformed", f"{file}: {error}") from None
        run: list[int] = []
        rows = 0
        for group in range(metadata.num_row_groups):
            run.append(group)
            rows += metadata.row_group(group).num_rows
            if rows >= rows_per_piece:
                pieces.append(Piece(str(file), tuple(run)))
                run, rows = [], 0
        if run:
            pieces.append(Piece(str(file), tuple(run)))
    return pieces


def read_piece(piece: Piece, rating_min: float, rating_max: float) -> RawPiece:
    """Read and check one piece; failures come back in ``error`` (code, message), not raised
    (they cross process boundaries)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def failed(code: str, message: str) -> RawPiece:
        return RawPiece(None, None, np.zeros(0), None, (code, f"{piece.path}: {message}"))

    try:
        if piece.row_groups is None:
            import pyarrow.csv as pacsv

            types = {"rater": pa.string(), "ratee": pa.string()}
            table = pacsv.read_csv(piece.path,
                                   convert_options=pacsv.ConvertOptions(column_types=types))
        else:
            table = pq.ParquetFile(piece.path).read_row_groups(list(piece.row_groups))
    except pa.ArrowInvalid as error:
        text = str(error).splitlines()[0]
        if "Empty CSV file" in text:
            return failed("input_empty", "empty file")
        return failed("input_malformed", text)
    except OSError as error:
        return failed("input_unreadable", str(error))
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        return failed("input_missing_columns", f"missing column(s) {', '.join(missing)}")
    wanted = [*REQUIRED_COLUMNS, *(["timestamp"] if "timestamp" in table.column_names else [])]
    for name in wanted:
        if table.column(name).null_count:
            return failed("input_has_missing_values", f"empty values in column {name}")
    numeric = {}
    for name in wanted[2:]:
        column = table.column(name)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            return failed("input_not_numeric", f"column {name} holds non-numeric values")
        numeric[name] = _owned(column.cast(pa.float64()).to_numpy(), np.float64)
    rating = numeric["rating"]
    if np.any(~np.isfinite(rating)) or np.any((rating < rating_min) | (rating > rating_max)):
        return failed("rating_outside_scale",
                      f"ratings must lie in [{rating_min:g}, {rating_max:g}] (see --rating-scale)")
    timestamp = numeric.get("timestamp")
    if timestamp is not None and not np.all(np.isfinite(timestamp)):
        return failed("timestamp_not_numeric", "timestamps must be finite numbers")
    # The same arithmetic as the in-process reader, so scaled ratings are identical.
    scaled = np.clip((rating - rating_min) / (rating_max - rating_min) * 2.0 - 1.0, -1.0, 1.0)
    columns = [table.column("rater"), table.column("ratee")]
    if all(pa.types.is_integer(c.type) for c in columns):
        # Integer ids stay integers: sorting and searching them is far cheaper than strings.
        rater, ratee = (_owned(c.cast(pa.int64()).to_numpy(), np.int64) for c in columns)
        return RawPiece(rater, ratee, scaled, timestamp)
    rater, ratee = (c.cast(pa.string()).combine_chunks() for c in columns)
    return RawPiece(rater, ratee, scaled, timestamp)


def _owned(values: Any, kind: Any) -> Any:
    """A NumPy-owned copy of an Arrow-backed array. Arrow's allocator (mimalloc) keeps what it
    once held for reuse instead of returning it to the system; a worker holding every piece's
    columns in Arrow buffers until the shuffle kept that high-water mark (0.45 GB per worker at
    30 M ratings) resident for the whole run."""
    return np.array(values, dtype=kind, copy=True)


def _piece_summary(raw: RawPiece) -> tuple[int, bool, tuple[str, str] | None]:
    return raw.rating.shape[0], raw.timestamp is not None, raw.error


def _as_text(ids: Any) -> Any:
    """Ids as a pyarrow string array (integer ids are written in decimal)."""
    import pyarrow as pa

    return pa.array(ids).cast(pa.string()) if isinstance(ids, np.ndarray) else ids


def _piece_ids(raw: RawPiece) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(raw.rater, np.ndarray):
        return np.unique(np.concatenate([raw.rater, raw.ratee]))
    return pc.unique(pa.concat_arrays([raw.rater, raw.ratee]))


def _union_ids(parts: Sequence[Any]) -> Any:
    """Distinct ids of all parts: integers while every part is, else strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if all(isinstance(p, np.ndarray) for p in parts):
        present = [p for p in parts if p.size]
        low = min((int(p[0]) for p in present), default=0)  # parts are sorted
        high = max((int(p[-1]) for p in present), default=-1)
        total = sum(p.shape[0] for p in present)
        if _dense(low, high, total):
            # Dense non-negative ids (the usual database keys): a presence table is O(ids),
            # where sorting the concatenated parts is O(ids log ids).
            seen = np.zeros(high - low + 1, dtype=bool)
            for part in present:
                seen[part - low] = True
            ids: IndexArray = np.flatnonzero(seen) + low
            return ids
        return np.unique(np.concatenate(list(parts)))
    return pc.unique(pa.concat_arrays([_as_text(p) for p in parts]))


def _dense(low: int, high: int, count: int) -> bool:
    """Whether integer ids in ``low .. high`` are few enough gaps for a table over the range."""
    return 0 <= low <= high and high - low + 1 <= DENSE_RANGE_FACTOR * max(count, 1)


def _sorted_ids(ids: Any) -> Any:
    import pyarrow.compute as pc

    if isinstance(ids, np.ndarray):
        return ids  # np.unique already sorted them
    return pc.take(ids, pc.sort_indices(ids))


def _index_piece(raw: RawPiece, accounts: Any) -> EdgeChunk:
    import pyarrow.compute as pc

    # Chunks store account indices as int32 while they fit: a third less memory per edge than
    # int64 (the kernels widen wherever they form pair keys).
    kind = np.int32 if len(accounts) < INT32_ACCOUNTS_MAX else np.int64
    if isinstance(accounts, np.ndarray):
        # Every piece had integer ids, so every id is in the sorted ``accounts``.
        low, high = (int(accounts[0]), int(accounts[-1])) if accounts.size else (0, -1)
        if _dense(low, high, accounts.shape[0]):
            # A position table over the id range: one gather per edge, where a binary search
            # into millions of accounts misses the caches about log2(n) times.
            table = np.zeros(high - low + 1, dtype=kind)
            table[accounts - low] = np.arange(accounts.shape[0], dtype=kind)
            return EdgeChunk(table[raw.rater - low], table[raw.ratee - low],
                             _narrow(raw.rating), raw.timestamp)
        rater = np.searchsorted(accounts, raw.rater).astype(kind)
        ratee = np.searchsorted(accounts, raw.ratee).astype(kind)
        return EdgeChunk(rater, ratee, _narrow(raw.rating), raw.timestamp)
    rater = np.asarray(pc.index_in(_as_text(raw.rater), value_set=accounts).to_numpy(),
                       dtype=kind)
    ratee = np.asarray(pc.index_in(_as_text(raw.ratee), value_set=accounts).to_numpy(),
                       dtype=kind)
    return EdgeChunk(rater, ratee, _narrow(raw.rating), raw.timestamp)


def _narrow(rating: FloatArray) -> k.ChunkRating:
    """``rating`` as float32 when that holds every value exactly (scaled star ratings: -1, -0.5,
    0, 0.5, 1), else unchanged: 4 bytes per edge less, the same float64 values in every kernel.

    >>> _narrow(np.array([-1.0, 0.5])).dtype, _narrow(np.array([0.1])).dtype
    (dtype('float32'), dtype('float64'))
    """
    narrow = rating.astype(np.float32)
    return narrow if np.array_equal(narrow, rating) else rating


def _index_split(raw: RawPiece, accounts: Any, parts: int) -> list[EdgeChunk]:
    """``_index_piece`` then ``split_by_ratee`` in one task, so a worker never holds a piece's
    raw columns, its indexed chunk and its split parts at once."""
    return k.split_by_ratee(_index_piece(raw, accounts), parts)


def index_of(accounts: Any, ids: Sequence[str]) -> IndexArray:
    """Indices of external ``ids`` among ``accounts`` (any order); -1 where absent.

    Examples
    --------
    >>> index_of(np.array(["10", "9"], dtype=object), ["9", "x"]).tolist()
    [1, -1]
    """
    known = np.asarray(accounts).astype(str)
    wanted = np.asarray(list(ids)).astype(str)
    if known.shape[0] == 0 or wanted.shape[0] == 0:
        return np.full(wanted.shape[0], -1, dtype=np.int64)
    order = np.argsort(known, kind="stable")
    position = np.minimum(np.searchsorted(known[order], wanted), known.shape[0] - 1)
    found = known[order][position] == wanted
    return np.where(found, order[position], -1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Partitioned:
    """Edges read into a runner: account ids (index order), and counts."""

    accounts: NDArray_Object
    n_ratings: int
    has_timestamp: bool


NDArray_Object = Any


def read_partitioned(
    path: Path,
    *,
    rating_min: float,
    rating_max: float,
    client: Any = None,
    rows_per_part: int = ROWS_PER_PART,
    progress: Progress | None = None,
) -> tuple[Runner, Partitioned]:
    """Read ``path`` into a runner (Dask when ``client`` is given) of ratee-complete chunks.

    Accounts are indexed in sorted order of their ids (numeric order when every file stores
    them as integers, else string order). Raises the same ``Rejected``
    codes as the in-process reader for malformed input.
    """
    say = progress or (lambda message: None)
    pieces = list_pieces(path, rows_per_piece=ROWS_PER_PIECE)
    say(f"reading {len(pieces)} pieces")
    raws: Any
    if client is None:
        raws = [read_piece(p, rating_min, rating_max) for p in pieces]
        summaries = [_piece_summary(r) for r in raws]
    else:
        raws = [client.submit(read_piece, p, rating_min, rating_max, pure=False)
                for p in pieces]
        summaries = client.gather([client.submit(_piece_summary, r, pure=False) for r in raws])
    for _, _, error in summaries:
        if error is not None:
            raise Rejected(*error)
    m = sum(s[0] for s in summaries)
    if m == 0:
        raise Rejected("input_empty", f"{path}: no ratings")
    has_ts = {s[1] for s in summaries if s[0] > 0}
    if len(has_ts) > 1:
        raise Rejected("input_columns_differ", f"{path}: timestamp in some files only")
    parts = min(PARTS_MAX, max(2, -(-m // rows_per_part)))
    if client is None:
        accounts = _sorted_ids(_union_ids([_piece_ids(r) for r in raws]))
        say(f"{m:,} ratings over {len(accounts):,} accounts; shuffling into {parts} partitions")
        runner: Runner = LocalRunner([_index_piece(r, accounts) for r in raws])
        runner.shuffle_by_ratee(parts)
    else:
        ids = [client.submit(_piece_ids, r, pure=False) for r in raws]
        while len(ids) > 1:
            ids = [client.submit(_union_ids, ids[i:i + FAN_IN], pure=False)
                   for i in range(0, len(ids), FAN_IN)]
        accounts_future = client.submit(_sorted_ids, ids[0], pure=False)
        accounts = accounts_future.result()
        say(f"{m:,} ratings over {len(accounts):,} accounts; shuffling into {parts} partitions")
        splits = [client.submit(_index_split, r, accounts_future, parts, pure=False)
                  for r in raws]
        runner = DaskRunner.from_splits(client, splits, parts)
    del raws
    if isinstance(accounts, np.ndarray):
        account_ids = accounts.astype(str).astype(object)
    else:
        account_ids = np.asarray(accounts.to_numpy(zero_copy_only=False), dtype=object)
    return runner, Partitioned(account_ids, m, bool(has_ts and has_ts.pop()))


# ---------------------------------------------------------------------------------- engine


@dataclass(frozen=True, eq=False)
class ChunkedScores:
    """Per-account results of ``score_chunked`` (length ``n_accounts``)."""

    fraud_score: FloatArray
    reputation: FloatArray
    reputation_low: FloatArray
    reputation_high: FloatArray
    is_rater: BoolArray
    is_ratee: BoolArray
    signals: dict[str, FloatArray]
    iterations: int


def score_chunked(
    runner: Runner,
    n: int,
    *,
    method: str = "default",
    labels: IndexArray | None = None,
    links: IndexArray | None = None,
    now: float | None = None,
    params: ScoreParams | None = None,
    progress: Progress | None = None,
) -> ChunkedScores:
    """``score_graph`` over ratee-complete chunks; equal to it within 1e-9.

    Parameters mean what they mean for ``score_graph``; ``n`` is the number of accounts.

    Examples
    --------
    >>> from bonafide.reputation import RatingGraph, score_graph
    >>> g = RatingGraph.from_ids(["a", "b", "c", "d"], ["s", "s", "t", "t"], [1, 1, 1, -1])
    >>> chunk = EdgeChunk(g.rater, g.ratee, g.rating, None)
    >>> r = score_chunked(LocalRunner([chunk]), g.n_accounts)
    >>> bool(np.allclose(r.reputation, score_graph(g).reputation, atol=1e-12))
    True
    """
    if method not in ("default", "rev2"):
        raise Rejected("method_unknown", "method must be one of default, rev2")
    p = params or ScoreParams()
    say = progress or (lambda message: None)
    label = np.full(n, -1, dtype=np.int64) if labels is None else np.asarray(labels, np.int64)
    assert label.shape == (n,) and np.isin(label, (-1, 0, 1)).all()
    degree_out, degree_in = runner.reduce(k.degrees_partial, k.combine_sum, n)
    is_rater, is_ratee = degree_out > 0, degree_in > 0
    ts_min, ts_max = runner.reduce(k.time_range_partial, k.combine_time_range)
    has_ts = bool(np.isfinite(ts_min))
    if method == "rev2":
        say("rev2")
        fraud, signals, iterations = _rev2_stage(runner, n, p.rev2, label, is_rater,
                                                 is_ratee, degree_out)
    else:
        fraud, signals, iterations = _default_stages(
            runner, n, p, label, links, degree_out, ts_min if has_ts else None, say)
    say("reputation")
    reference = (ts_max if now is None else float(now)) if has_ts else None
    good_sum, bad_sum = runner.reduce(
        k.reputation_partial, k.combine_sum, n, threshold=p.threshold_good,
        reference=reference, half_life_seconds=p.half_life_seconds, mean_value=None,
        value_weight_max=p.value_weight_max)
    reputation, low, high = _reputation_finish(good_sum, bad_sum, is_ratee, p)
    return ChunkedScores(np.clip(fraud, 0.0, 1.0), reputation, low, high, is_rater, is_ratee,
                         signals, iterations)


def _reputation_finish(
    good_sum: FloatArray, bad_sum: FloatArray, is_ratee: BoolArray, p: ScoreParams
) -> tuple[FloatArray, FloatArray, FloatArray]:
    total = float(good_sum.sum() + bad_sum.sum())
    share = float(good_sum.sum()) / total if total > 0 else 0.5
    share = min(max(share, 0.01), 0.99)
    alpha = p.prior_strength * share
    beta = p.prior_strength * (1.0 - share)
    reputation = (alpha + good_sum) / (alpha + beta + good_sum + bad_sum)
    tail = (1.0 - p.interval_level) / 2.0
    # The quantile function is costly: evaluate it for rated accounts, once for the prior.
    rated = np.flatnonzero(is_ratee)
    low = np.full(good_sum.shape[0], float(stats.beta.ppf(tail, alpha, beta)))
    high = np.full(good_sum.shape[0], float(stats.beta.ppf(1.0 - tail, alpha, beta)))
    low[rated] = stats.beta.ppf(tail, alpha + good_sum[rated], beta + bad_sum[rated])
    high[rated] = stats.beta.ppf(1.0 - tail, alpha + good_sum[rated], beta + bad_sum[rated])
    return reputation, low, high


def _default_stages(
    runner: Runner,
    n: int,
    p: ScoreParams,
    label: IndexArray,
    links: IndexArray | None,
    degree_out_raw: FloatArray,
    ts_min: float | None,
    say: Progress,
) -> tuple[FloatArray, dict[str, FloatArray], int]:
    degree_out = np.maximum(degree_out_raw, 1.0)
    say("bursts")
    runner.update(_burst_update, ts_min, n, p.signal_floor)
    (burst_sum,) = runner.reduce(k.sum_by_rater_partial, k.combine_sum, "burst", n)
    runner.update(_drop, "burst")
    say("reviewers for hire")
    hired = np.zeros(n)
    first = None
    if ts_min is not None:
        (first,) = runner.reduce(k.first_rating_partial, k.combine_min, n)
        first = runner.broadcast(first)
    runner.update(_hired_like_update, first)
    if ts_min is not None:
        (count,) = runner.reduce(k.hired_partial, k.combine_sum, n)
        hired = k.hired_finish(count, degree_out_raw, count_prior=1.0, ratees_scale=3.0)
    hired = k.floor_signal(hired, p.signal_floor)
    key = None if links is None else k.link_keys(np.asarray(links, np.int64).reshape(-1, 2), n)
    runner.update(_linked_update, None if key is None else runner.broadcast(key), n)
    say("dense blocks")
    block_account, strengths = _fraudar_stage(runner, n, p)
    linked_sum = np.zeros(n)
    if key is not None:
        (linked_sum,) = runner.reduce(k.sum_by_rater_partial, k.combine_sum, "linked", n)
    # The factors of ``keep`` known now, so FRAUDAR's per-edge state is freed before rings.
    runner.update(_keep_before_rings, runner.broadcast(strengths))
    say("rings")
    ring = k.floor_signal(_ring_stage(runner, n), p.signal_floor)
    runner.update(_keep_update, runner.broadcast(ring), runner.broadcast(hired),
                  p.bought_reviews)
    unbought_sum = None
    if p.bought_reviews:
        # Summed and dropped at once: a per-edge float64 is 0.4 GB per worker at 10^8 ratings.
        (unbought_sum,) = runner.reduce(_sum_by_ratee_partial, k.combine_sum, "unbought", n)
        runner.update(_drop, "unbought")
    burst_account = burst_sum / degree_out
    linked_account = linked_sum / degree_out
    behaviour = 1.0 - (1.0 - hired) * (1.0 - block_account) * (1.0 - burst_account) * (
        1.0 - linked_account
    ) * (1.0 - ring)
    say("trust propagation")
    trust, iterations = _trust_stage(runner, n, p, label, behaviour)
    fake_sum, good_sum = runner.reduce(k.benefit_partial, k.combine_sum,
                                       runner.broadcast(behaviour), n, p.threshold_good)
    benefit = fake_sum / (good_sum + p.benefit_prior)
    bought = None
    if unbought_sum is not None:
        bought = 1.0 - np.exp(unbought_sum)
        benefit = 1.0 - (1.0 - benefit) * (1.0 - bought)
    rater_weight = np.where(label >= 0, 1.0 - label, trust * (1.0 - behaviour))
    fraud = np.where(label >= 0, label, 1.0 - rater_weight * (1.0 - benefit))
    runner.update(_weight_update, runner.broadcast(rater_weight))
    signals = {"trust": trust, "hired": hired, "burst": burst_account, "block": block_account,
               "ring": ring, "linked": linked_account, "benefit": benefit}
    if bought is not None:
        signals["bought"] = bought
    return fraud.astype(np.float64), signals, iterations


def _burst_update(chunk: EdgeChunk, ts_min: float | None, n: int, floor: float) -> EdgeChunk:
    if ts_min is None or chunk.timestamp is None:
        return chunk.with_state(burst_raw=np.zeros(chunk.n_ratings),
                                burst=np.zeros(chunk.n_ratings))
    ratee: k.ChunkIndex = chunk.ratee
    size = n
    if chunk.touched is not None and chunk.local is not None:
        # Local positions: the kernel's per-ratee tables are O(touched), not O(n) per chunk.
        ratee, size = chunk.local[1], chunk.touched.shape[0]
    burst = k.burst_edges(ratee, chunk.timestamp - ts_min, size,
                          windows_seconds=BURST_WINDOWS_SECONDS, count_min=5.0, ratio_min=2.0)
    # The rating's weight takes the whole signal, the rater's behaviour the part above the floor.
    return chunk.with_state(burst_raw=burst, burst=k.floor_signal(burst, floor))


def _linked_update(chunk: EdgeChunk, key: IndexArray | None, n: int) -> EdgeChunk:
    if key is None:
        return chunk  # no links: ``linked`` is absent, read as all zeros
    linked = k.linked_edges(chunk.rater, chunk.ratee, key, n).astype(np.float64)
    return chunk.with_state(linked=linked)


def _hired_like_update(chunk: EdgeChunk, first: FloatArray | None) -> EdgeChunk:
    if first is None:
        return chunk.with_state(hired_like=np.zeros(chunk.n_ratings, dtype=bool))
    return chunk.with_state(hired_like=k.hired_like_edges(
        chunk, first, young_seconds=30 * DAY_SECONDS, extreme_min=0.99))


def _keep_before_rings(chunk: EdgeChunk, strengths: FloatArray) -> EdgeChunk:
    """The first factors of ``keep`` (burst, block, link), in ``score_graph``'s order, and the
    chunk without the per-edge state they came from: per-edge state is most of a worker's
    memory, and the ring stage needs room. ``strengths`` maps ``block_code`` to strength."""
    s = chunk.state
    block_edge = strengths[s["block_code"]]
    keep = (1.0 - s["burst_raw"]) * (1.0 - block_edge) * (1.0 - s.get("linked", 0.0))
    rest = {name: values for name, values in s.items() if name not in _SPENT_BEFORE_RINGS}
    return dataclasses.replace(chunk, state={**rest, "keep_partial": keep})


_SPENT_BEFORE_RINGS = ("burst_raw", "block_code", "linked", "selected", "peel_weight",
                       "remaining")


def _sum_by_ratee_partial(chunk: EdgeChunk, name: str, n: int) -> Partial:
    """Sum of the per-edge state ``name`` over each ratee's ratings in this chunk."""
    return (k.sum_by(chunk, "ratee", n, chunk.state[name]),)


def _keep_update(chunk: EdgeChunk, ring: FloatArray, hired: FloatArray,
                 bought: bool = False) -> EdgeChunk:
    ring_edge = np.where(chunk.rating > 0, np.minimum(k.gather(ring, chunk, "rater"),
                                                      k.gather(ring, chunk, "ratee")), 0.0)
    s = chunk.state
    hired_edge = k.gather(hired, chunk, "rater") * s["hired_like"]
    # Same association as ``score_graph``: ((burst * block) * link) * ring, then * hired.
    keep = s["keep_partial"] * (1.0 - ring_edge)
    keep *= 1.0 - hired_edge
    rest = {name: values for name, values in s.items()
            if name not in ("keep_partial", "hired_like")}
    if bought:
        # log(1 - h) per positive rating, summed per ratee: score_graph's ``_bought``.
        rest["unbought"] = np.log1p(-np.where(chunk.rating > 0,
                                              np.minimum(hired_edge, 1.0 - 1e-12), 0.0))
    return dataclasses.replace(chunk, state={**rest, "keep": keep})


def _drop(chunk: EdgeChunk, *names: str) -> EdgeChunk:
    """The chunk without the per-edge state ``names`` (freeing worker memory)."""
    return dataclasses.replace(
        chunk, state={key: v for key, v in chunk.state.items() if key not in names})


def _weight_update(chunk: EdgeChunk, rater_weight: FloatArray) -> EdgeChunk:
    return chunk.with_state(weight=k.gather(rater_weight, chunk, "rater") * chunk.state["keep"])


def _pair_key_pieces(chunk: EdgeChunk, n: int, bounds: Sequence[int]) -> list[IndexArray]:
    """The chunk's distinct positive pair keys, cut at ``bounds`` (sorted, so cuts are views)."""
    keys = k.positive_pair_keys(chunk, n)
    cuts = np.searchsorted(keys, np.asarray(bounds, dtype=np.int64))
    return [keys[a:b] for a, b in itertools.pairwise(cuts)]


def _union_keys(parts: Sequence[IndexArray]) -> IndexArray:
    return k.distinct_sorted(np.concatenate(list(parts)))


def _concat_keys(parts: Sequence[IndexArray]) -> IndexArray:
    return np.concatenate(list(parts))


def _sum_vectors(parts: Sequence[FloatArray]) -> FloatArray:
    return _fold_all(parts, np.add)  # type: ignore[no-any-return]


def _pair_degree_of(keys: IndexArray, n: int) -> FloatArray:
    (degree,) = k.pair_degree_partial(keys, n)
    return degree  # type: ignore[no-any-return]


def _ring_stage(runner: Runner, n: int, *, degree_max: int = 50,
                pairs_prior: float = 2.0, row_blocks: int = 16,
                key_blocks: int = 8) -> FloatArray:
    """Rings: distinct positive pairs, split into ``key_blocks`` ranges of the pair key so no
    task holds all of them (each range is the union of every chunk's piece of it); distinct
    neighbours per account summed over the ranges (integers: exact); only the pairs without a
    hub at either end gathered and oriented in one place; triangles counted over blocks of
    accounts in parallel."""
    cuts = np.linspace(0, n, key_blocks + 1).astype(np.int64)
    bounds = [int(c) * n for c in cuts]
    pieces = runner.map_handles(_pair_key_pieces, n, bounds)
    blocks = [runner.combine_handles([runner.apply(operator.getitem, h, j) for h in pieces],
                                     _union_keys)
              for j in range(key_blocks)]
    del pieces
    degree_all = runner.combine_handles([runner.apply(_pair_degree_of, b, n) for b in blocks],
                                        _sum_vectors)
    # Ranges are disjoint and in key order, so their filtered keys concatenate sorted.
    small = runner.combine_handles(
        [runner.apply(k.small_pairs, b, degree_all, n, degree_max) for b in blocks],
        _concat_keys)
    del blocks
    oriented = runner.apply(k.orient_small_pairs, small, degree_all, n, degree_max)
    del small, degree_all
    bounds_a = np.linspace(0, n, row_blocks + 1).astype(np.int64)
    ranges = [(int(a), int(b)) for a, b in itertools.pairwise(bounds_a) if b > a]
    (triangles,) = runner.map_ranges(k.triangles_partial, oriented, ranges, k.combine_sum)
    degree = runner.fetch(runner.apply(_degree_of, oriented))
    return k.ring_finish(triangles, degree, pairs_prior=pairs_prior)


def _degree_of(graph: k.Oriented) -> FloatArray:
    return graph.degree


def _fraudar_stage(runner: Runner, n: int, p: ScoreParams) -> tuple[FloatArray, FloatArray]:
    """FRAUDAR: selection and weights per chunk, then peeling rounds of map + reduce.

    Returns the block signal per account and the strength of each block code (see
    ``kernels.block_remove``; code 0 is "in no block", strength 0).
    """
    assert p.blocks_max < 256, "block codes are one byte per edge"
    runner.update(k.fraudar_select, n, positive_only=True)
    (degree_in,) = runner.reduce(k.selected_in_degree_partial, k.combine_sum, n)
    runner.update(k.fraudar_weigh, runner.broadcast(degree_in), column_offset=5.0)
    runner.update(_drop, "selected")  # ``remaining`` took its place
    block_account = np.zeros(n)
    strengths = [0.0]
    runner.update(_block_start)
    for _ in range(p.blocks_max):
        remaining_rater, remaining_ratee = runner.reduce(k.alive_partial, k.combine_sum, n)
        if not remaining_rater.any():
            break
        raters, ratees, density, density_graph = _peel_stage(
            runner, n, remaining_rater > 0, remaining_ratee > 0)
        ratio = density / density_graph if density_graph > 0 else 0.0
        strength = 1.0 - p.block_ratio_min / ratio if ratio >= p.block_ratio_min else 0.0
        if strength > 0:
            block_account = np.maximum(block_account, np.where(raters, strength, 0.0))
        strengths.append(strength)
        runner.update(k.block_remove, runner.broadcast(raters), runner.broadcast(ratees),
                      len(strengths) - 1, np.array(strengths), positive_only=True)
    return block_account, np.array(strengths)


def _block_start(chunk: EdgeChunk) -> EdgeChunk:
    return chunk.with_state(block_code=np.zeros(chunk.n_ratings, dtype=np.uint8))


def _peel_stage(
    runner: Runner, n: int, alive_rater: BoolArray, alive_ratee: BoolArray,
    *, epsilon: float = 0.1, rounds_max: int = 100_000,
) -> tuple[BoolArray, BoolArray, float, float]:
    """``fraudar._peel`` over chunks: the same rounds, densities and block.

    The driver keeps the alive accounts as sorted index arrays and sends them as bitmaps; each
    chunk keeps its live edges (``kernels.peel_round``) and returns sums over the accounts they
    name, so a round's work, messages and driver arithmetic shrink with the alive set (most
    accounts die in the first two rounds) instead of costing O(edges + accounts) every round.
    """
    raters, ratees = np.flatnonzero(alive_rater), np.flatnonzero(alive_ratee)
    density_graph = -1.0
    best = (-1.0, raters, ratees)
    bits: tuple[Any, Any] = (None, None)
    for round_ in range(rounds_max):
        if not (raters.size or ratees.size):
            runner.update(k.peel_end)
            return (_mask_of(best[1], n), _mask_of(best[2], n), best[0], density_graph)
        # Chunks keep their live edges from the third round: in the first two most edges are
        # still live (a copy of them was 0.2 GB per worker at 10^8 ratings, at FRAUDAR's peak).
        part_rater, part_ratee = runner.step(k.peel_round, k.combine_sparse_sum, *bits, n,
                                             round_ >= PEEL_ROUNDS_UNKEPT)
        degree_rater = _aligned(part_rater, raters)
        degree_ratee = _aligned(part_ratee, ratees)
        # ``kernels.peel_step`` over the alive accounts only: the same sum in the same order.
        size = raters.shape[0] + ratees.shape[0]
        density = float(np.sum(degree_rater)) / size
        cut = (1.0 + epsilon) * 2.0 * density
        if density_graph < 0:
            density_graph = density
        if density > best[0]:
            best = (density, raters, ratees)
        raters, ratees = raters[~(degree_rater <= cut)], ratees[~(degree_ratee <= cut)]
        bits = (runner.broadcast(k.bitmap_of(raters, n)), runner.broadcast(k.bitmap_of(ratees, n)))
    raise ConvergenceError("fraudar", iterations=rounds_max, delta=float("nan"), tolerance=0.0)


PEEL_ROUNDS_UNKEPT = 2


def _aligned(part: SparsePart | FloatArray, alive: IndexArray) -> FloatArray:
    """The values of ``part`` at the sorted ``alive`` accounts (0 where it has none)."""
    if not isinstance(part, SparsePart):
        return part[alive]
    degree = np.zeros(alive.shape[0])
    position = np.minimum(np.searchsorted(alive, part.ids), max(alive.shape[0] - 1, 0))
    found = alive[position] == part.ids if alive.size else np.zeros(part.ids.shape[0], bool)
    # Only live edges are summed, and they join alive accounts.
    assert found.all(), "a partial names an account that is not alive"
    degree[position[found]] = part.values[found]
    return degree


def _mask_of(ids: IndexArray, n: int) -> BoolArray:
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    return mask


def _trust_stage(
    runner: Runner, n: int, p: ScoreParams, label: IndexArray, behaviour: FloatArray
) -> tuple[FloatArray, int]:
    a, b = p.trust_prior_good, p.trust_prior_bad
    trust = np.full(n, a / (a + b))
    delta = np.inf
    for iteration in range(1, p.iterations_max + 1):
        rater_weight = np.where(label >= 0, 1.0 - label, trust * (1.0 - behaviour))
        sum_good, sum_bad = runner.reduce(k.trust_partial, k.combine_sum,
                                          runner.broadcast(rater_weight), n, p.threshold_good)
        new = k.trust_finish(sum_good, sum_bad, a, b)
        delta = float(np.max(np.abs(new - trust))) if n else 0.0
        trust = new
        if delta <= p.tolerance:
            return trust, iteration
    raise ConvergenceError("trust", iterations=p.iterations_max, delta=delta,
                           tolerance=p.tolerance)


def _rev2_stage(
    runner: Runner,
    n: int,
    q: Rev2Params,
    label: IndexArray,
    is_rater: BoolArray,
    is_ratee: BoolArray,
    degree_out: FloatArray,
    *,
    iterations_max: int = 500,
    tolerance: float = 1e-6,
) -> tuple[FloatArray, dict[str, FloatArray], int]:
    """REV2 with parameters ``q`` and known-bad raters weighted 0, as ``score_graph``'s rev2."""
    bad = label == 1
    rater_weight = np.where(bad, 0.0, 1.0)
    weight_handle = runner.broadcast(rater_weight)
    (weight_in,) = runner.reduce(_weight_in_partial, k.combine_sum, weight_handle, n)
    gamma = q.gamma1 + q.gamma2 + q.gamma3
    denominator_g = q.beta1 + q.beta2 + weight_in
    denominator_f = q.alpha1 + q.alpha2 + degree_out
    keep_g, keep_f = denominator_g <= 0, denominator_f <= 0
    setup = k.Rev2Setup(
        gamma1=q.gamma1, gamma2=q.gamma2, gamma3=q.gamma3, alpha1=q.alpha1, beta1=q.beta1,
        prior_f=np.full(n, q.alpha2 * 1.0), prior_g=np.full(n, q.beta2 * 1.0),
        inverse_f=1.0 / np.where(keep_f, 1.0, denominator_f),
        inverse_g=1.0 / np.where(keep_g, 1.0, denominator_g),
        keep_f=keep_f, keep_g=keep_g)
    setup_handle = runner.broadcast(setup)
    runner.update(k.rev2_start, weight_handle, None, gamma, q.gamma3)
    (total_g,) = runner.reduce(k.rev2_goodness_partial, k.combine_sum, n)
    fairness, goodness = np.ones(n), np.ones(n)
    delta = np.inf
    for iteration in range(1, iterations_max + 1):
        new_g = k.rev2_goodness_finish(total_g, goodness, is_ratee, setup)
        total_f, total_g, change = runner.step(
            k.rev2_step, k.combine_rev2, runner.broadcast(fairness), runner.broadcast(new_g),
            setup_handle, n)
        new_f = k.rev2_fairness_finish(total_f, fairness, is_rater, setup)
        delta = max(_max_abs((new_g - goodness)[is_ratee]), float(change),
                    _max_abs((new_f - fairness)[is_rater]))
        fairness, goodness = new_f, new_g
        if delta <= tolerance:
            runner.update(_rev2_weight_update, weight_handle)
            fair = np.where(is_rater, fairness, 1.0)
            fraud = np.where(label >= 0, label, 1.0 - fair).astype(np.float64)
            good = np.where(is_ratee, goodness, np.nan)
            return fraud, {"fairness": fair, "goodness": good}, iteration
    raise ConvergenceError("rev2", iterations=iterations_max, delta=delta, tolerance=tolerance)


def _weight_in_partial(chunk: EdgeChunk, rater_weight: FloatArray, n: int) -> Partial:
    return (k.sum_by(chunk, "ratee", n, rater_weight[chunk.rater]),)


def _rev2_weight_update(chunk: EdgeChunk, rater_weight: FloatArray) -> EdgeChunk:
    return chunk.with_state(weight=chunk.state["reliability"] * rater_weight[chunk.rater])


def _max_abs(values: FloatArray) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0
