"""CLI command ``bonafide score``: score a rating file for fraud and reputation.

Owns: the ``score`` command's contract (DESIGN.md §5): reading CSV/Parquet ratings, scaling them,
writing ``account,fraud_score`` and ``account,reputation``. ``--engine dask`` hands the scoring to
``bonafide.cli.scale`` (a Dask cluster, docs/scaling.md). Imports: ``bonafide.reputation``,
``bonafide.errors``, pyarrow and rich; never ``bonafide.store`` or SQLAlchemy.

Outputs are written to a temporary file beside the target and renamed only when everything
succeeded, so a failed run leaves no output file behind.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from bonafide.cli.app import app
from bonafide.errors import Rejected
from bonafide.reputation import METHODS, RatingGraph, ScoreResult, labels_from_ids, score_graph

REQUIRED_COLUMNS = ("rater", "ratee", "rating")
ENGINES = ("inprocess", "dask")
PROGRESS_ROWS_MIN = 1_000_000


@app.command()
def score(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV (header) or Parquet.")],
    out: Annotated[Path, typer.Option("--out", help="CSV account,fraud_score per rater.")],
    ratees_out: Annotated[
        Path | None, typer.Option("--ratees-out", help="CSV account,reputation per ratee.")
    ] = None,
    rating_scale: Annotated[
        tuple[float, float],
        typer.Option("--rating-scale", metavar="MIN MAX", help="Scale of the input ratings."),
    ] = (1.0, 5.0),
    method: Annotated[str, typer.Option("--method", help="default or rev2.")] = "default",
    labels: Annotated[
        Path | None, typer.Option("--labels", help="CSV account,fraudulent (1/0) anchors.")
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="inprocess, or dask (INPUT may be a directory of "
                                           "Parquet files).")
    ] = "inprocess",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (default: a local "
                                                     "cluster).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", help="Local cluster's workers.")] = 2,
    worker_memory: Annotated[
        str, typer.Option("--worker-memory", help="Local cluster's memory per worker.")
    ] = "4GB",
) -> None:
    """Score raters for fraud (and ratees for reputation) from a ratings file."""
    low, high = rating_scale
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise Rejected("rating_scale_invalid", "--rating-scale needs MIN < MAX")
    if method not in METHODS:
        raise Rejected("method_unknown", f"--method must be one of {', '.join(METHODS)}")
    if engine not in ENGINES:
        raise Rejected("engine_unknown", f"--engine must be one of {', '.join(ENGINES)}")
    started = time.monotonic()
    say = _Progress(started)
    if engine == "dask":
        _score_on_dask(input_path, out, ratees_out, low=low, high=high, method=method,
                       labels=labels, scheduler=scheduler, workers=workers,
                       worker_memory=worker_memory, say=say)
        return
    # Row count is unknown until read; about 20 bytes a row puts a million rows near 20 MB.
    say.enabled = input_path.is_file() and input_path.stat().st_size > 20 * PROGRESS_ROWS_MIN
    say(f"reading {input_path}")
    graph = read_ratings(input_path, rating_min=low, rating_max=high)
    say.enabled = say.enabled or graph.n_ratings > PROGRESS_ROWS_MIN
    say(f"read {graph.n_ratings:,} ratings over {graph.n_accounts:,} accounts")
    label = None if labels is None else _read_labels(labels, graph)
    result = score_graph(graph, method=method, labels=label, seed=0, progress=say)
    say("writing")
    with _atomic(out) as out_tmp, _atomic(ratees_out) as ratees_tmp:
        assert out_tmp is not None
        _write_scores(out_tmp, result)
        if ratees_tmp is not None:
            _write_reputation(ratees_tmp, result)
    say("done")


def _score_on_dask(
    input_path: Path, out: Path, ratees_out: Path | None, *, low: float, high: float,
    method: str, labels: Path | None, scheduler: str | None, workers: int, worker_memory: str,
    say: _Progress,
) -> None:
    """``--engine dask``: the cluster path lives in ``cli/scale.py`` and imports Dask only now;
    the output contract is the same (rows in account id order)."""
    from bonafide.cli.scale import score_on_dask

    files = [input_path] if input_path.is_file() else [
        p for p in input_path.rglob("*") if p.is_file()] if input_path.is_dir() else []
    # As in-process: about 20 bytes a row, progress for inputs past a million rows.
    say.enabled = sum(p.stat().st_size for p in files) > 20 * PROGRESS_ROWS_MIN
    raters, fraud, ratees, reputation = score_on_dask(
        input_path, rating_min=low, rating_max=high, method=method,
        labels=None if labels is None else _read_label_rows(labels), scheduler=scheduler,
        workers=workers, memory_limit=worker_memory, progress=say)
    say("writing")
    with _atomic(out) as out_tmp, _atomic(ratees_out) as ratees_tmp:
        assert out_tmp is not None
        _write_csv(out_tmp, ("account", "fraud_score"), raters, fraud)
        if ratees_tmp is not None:
            _write_csv(ratees_tmp, ("account", "reputation"), ratees, reputation)
    say("done")


class _Progress:
    """Stage messages on stderr (rich), only for big inputs."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.enabled = False
        self._console: Any = None

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        self._console.print(f"[{time.monotonic() - self.started:7.1f}s] {message}")


@contextlib.contextmanager
def _atomic(target: Path | None) -> Iterator[Path | None]:
    """Yield a temporary path; rename it onto ``target`` only if the block succeeds."""
    if target is None:
        yield None
        return
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    try:
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise Rejected("output_not_writable", f"{target}: {error.strerror}") from None


def read_ratings(path: Path, *, rating_min: float, rating_max: float) -> RatingGraph:
    """Read ``rater,ratee,rating[,timestamp]`` from CSV or Parquet into a scaled graph."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _read_table(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise Rejected("input_missing_columns", f"{path}: missing column(s) {', '.join(missing)}")
    if table.num_rows == 0:
        raise Rejected("input_empty", f"{path}: no ratings")
    wanted = [*REQUIRED_COLUMNS, *(["timestamp"] if "timestamp" in table.column_names else [])]
    for name in wanted:
        if table.column(name).null_count:
            raise Rejected("input_has_missing_values", f"{path}: empty values in column {name}")
    rater = table.column("rater").cast(pa.string())
    ratee = table.column("ratee").cast(pa.string())
    accounts = pc.unique(pa.chunked_array(rater.chunks + ratee.chunks, type=pa.string()))
    rater_index = pc.index_in(rater, value_set=accounts).to_numpy()
    ratee_index = pc.index_in(ratee, value_set=accounts).to_numpy()
    rating = _numeric(table, "rating", path)
    if np.any(~np.isfinite(rating)) or np.any((rating < rating_min) | (rating > rating_max)):
        raise Rejected(
            "rating_outside_scale",
            f"{path}: ratings must lie in [{rating_min:g}, {rating_max:g}] (see --rating-scale)",
        )
    scaled = (rating - rating_min) / (rating_max - rating_min) * 2.0 - 1.0
    timestamp = _numeric(table, "timestamp", path) if "timestamp" in wanted else None
    if timestamp is not None and not np.all(np.isfinite(timestamp)):
        raise Rejected("timestamp_not_numeric", f"{path}: timestamps must be finite numbers")
    del table
    return RatingGraph.from_indices(
        rater_index,
        ratee_index,
        np.clip(scaled, -1.0, 1.0),
        accounts=accounts.to_numpy(zero_copy_only=False).astype(object),
        timestamp=timestamp,
    )


def _read_table(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if not path.is_file():
        raise Rejected("input_unreadable", f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pq.read_table(path)
        if path.stat().st_size == 0:
            raise Rejected("input_empty", f"{path}: empty file")
        types = {"rater": pa.string(), "ratee": pa.string()}
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    except pa.ArrowInvalid as error:
        text = str(error).splitlines()[0]
        if "Empty CSV file" in text:
            raise Rejected("input_empty", f"{path}: empty file") from None
        raise Rejected("input_malformed", f"{path}: {text}") from None
    except OSError as error:
        raise Rejected("input_unreadable", f"{path}: {error}") from None


def _numeric(table: Any, name: str, path: Path) -> np.ndarray[Any, np.dtype[np.float64]]:
    import pyarrow as pa

    column = table.column(name)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
        raise Rejected("input_not_numeric", f"{path}: column {name} holds non-numeric values")
    return np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)


def _read_labels(path: Path, graph: RatingGraph) -> np.ndarray[Any, np.dtype[np.int64]]:
    ids, flags = _read_label_rows(path)
    return labels_from_ids(graph, ids, flags)


def _read_label_rows(path: Path) -> tuple[list[str], list[int]]:
    """``account,fraudulent`` rows of a labels file: ids and 1/0 flags."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.is_file():
        raise Rejected("labels_unreadable", f"{path}: no such file")
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={"account": pa.string(), "fraudulent": pa.string()}
            ),
        )
    except (pa.ArrowInvalid, OSError) as error:
        raise Rejected("labels_unreadable", f"{path}: {str(error).splitlines()[0]}") from None
    if "account" not in table.column_names or "fraudulent" not in table.column_names:
        raise Rejected("labels_missing_columns", f"{path}: needs columns account,fraudulent")
    flags = [str(v).strip().lower() for v in table.column("fraudulent").to_pylist()]
    mapping = {"1": 1, "true": 1, "0": 0, "false": 0}
    if any(flag not in mapping for flag in flags):
        raise Rejected("labels_not_boolean", f"{path}: fraudulent must be 1/0 or true/false")
    ids = [str(v) for v in table.column("account").to_pylist()]
    return ids, [mapping[f] for f in flags]


def _write_csv(path: Path, names: tuple[str, str], accounts: Any, values: Any) -> None:
    from bonafide.sim.output import write_csv

    write_csv(path, {names[0]: accounts, names[1]: values})


def _write_scores(path: Path, result: ScoreResult) -> None:
    raters = result.raters()
    accounts = result.graph.accounts[raters]
    _write_csv(path, ("account", "fraud_score"), accounts, result.fraud_score[raters])


def _write_reputation(path: Path, result: ScoreResult) -> None:
    ratees = result.ratees()
    accounts = result.graph.accounts[ratees]
    _write_csv(path, ("account", "reputation"), accounts, result.reputation[ratees])
