"""CLI commands past one machine: ``simulate-graph``, ``export ratings``, ``import scores``, and
``score --engine dask`` (the score command delegates here).

Owns: writing big synthetic graphs as Parquet, scoring on a Dask cluster, and moving the market's
rating graph out to Parquet and the scores back in. Imports: ``bonafide.sim.stream``,
``bonafide.reputation.distributed`` (which imports Dask only when a cluster is opened),
``bonafide.bootstrap`` and ``bonafide.service.scoring``; never ``bonafide.store`` or SQLAlchemy.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from bonafide.cli.app import app
from bonafide.errors import Rejected

WORKERS_MAX = 256


@app.command("simulate-graph")
def simulate_graph(
    out: Annotated[Path, typer.Option("--out", help="Directory for ratings/*.parquet.")],
    ratings: Annotated[int, typer.Option("--ratings", help="Number of ratings.")] = 1_000_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", help="Ratings per chunk (row group).")
    ] = 1_000_000,
) -> None:
    """Write a synthetic rating graph (power-law degrees, rings, self-dealing) as Parquet,
    one chunk at a time."""
    from bonafide.sim.stream import CHUNK_ROWS_MAX, RATINGS_MAX, GraphConfig, write_graph

    if not 0 < ratings <= RATINGS_MAX:
        raise Rejected("size_over_limit", f"--ratings must be in 1..{RATINGS_MAX:,}")
    if not 0 < chunk_rows <= CHUNK_ROWS_MAX:
        raise Rejected("size_over_limit", f"--chunk-rows must be in 1..{CHUNK_ROWS_MAX:,}")
    if out.exists() and not out.is_dir():
        raise Rejected("output_not_a_directory", f"{out} exists and is not a directory")
    config = GraphConfig(ratings=ratings)
    try:
        files, label_path = write_graph(config, out, seed=seed, chunk_rows=chunk_rows)
    except OSError as error:
        raise Rejected("output_not_writable", f"{out}: {error.strerror}") from None
    typer.echo(f"wrote {ratings:,} ratings over {config.n_accounts:,} accounts to "
               f"{len(files)} files in {out / 'ratings'} and labels to {label_path}")


def score_on_dask(
    input_path: Path,
    *,
    rating_min: float,
    rating_max: float,
    method: str,
    labels: tuple[list[str], list[int]] | None,
    scheduler: str | None,
    workers: int,
    memory_limit: str,
    progress: Any,
) -> tuple[Any, Any, Any, Any]:
    """Score ``input_path`` (a file or a directory of Parquet files) on a cluster.

    Returns ``(rater ids, fraud scores, ratee ids, reputations)``, accounts in sorted id order.
    """
    from bonafide.reputation.distributed import open_cluster, read_partitioned, score_chunked

    if not 1 <= workers <= WORKERS_MAX:
        raise Rejected("workers_out_of_range", f"--workers must be in 1..{WORKERS_MAX}")
    started = time.monotonic()
    with open_cluster(scheduler, n_workers=workers, memory_limit=memory_limit) as client:
        progress(f"cluster ready ({time.monotonic() - started:.1f}s)")
        runner, read = read_partitioned(input_path, rating_min=rating_min,
                                        rating_max=rating_max, client=client, progress=progress)
        n = read.accounts.shape[0]
        label = None
        if labels is not None:
            label = np.full(n, -1, dtype=np.int64)
            position = np.searchsorted(read.accounts.astype(str), np.asarray(labels[0], str))
            position = np.minimum(position, n - 1)
            found = read.accounts[position] == np.asarray(labels[0], dtype=object)
            label[position[found]] = np.asarray(labels[1], np.int64)[found]
        result = score_chunked(runner, n, method=method, labels=label, progress=progress)
    raters, ratees = np.flatnonzero(result.is_rater), np.flatnonzero(result.is_ratee)
    return (read.accounts[raters], result.fraud_score[raters], read.accounts[ratees],
            result.reputation[ratees])
