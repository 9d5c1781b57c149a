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
    share_max: Annotated[
        float, typer.Option("--share-max",
                            help="Largest share of the orders one buyer or seller may expect.")
    ] = 0.002,
) -> None:
    """Write a synthetic rating graph (power-law degrees, rings, self-dealing) as Parquet,
    one chunk at a time."""
    from bonafide.sim.stream import CHUNK_ROWS_MAX, RATINGS_MAX, GraphConfig, write_graph

    if not 0 < ratings <= RATINGS_MAX:
        raise Rejected("size_over_limit", f"--ratings must be in 1..{RATINGS_MAX:,}")
    if not 0 < chunk_rows <= CHUNK_ROWS_MAX:
        raise Rejected("size_over_limit", f"--chunk-rows must be in 1..{CHUNK_ROWS_MAX:,}")
    if not 0 < share_max <= 1:
        raise Rejected("share_out_of_range", "--share-max must be in (0, 1]")
    if out.exists() and not out.is_dir():
        raise Rejected("output_not_a_directory", f"{out} exists and is not a directory")
    config = GraphConfig(ratings=ratings, share_max=share_max)
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
    from bonafide.reputation.distributed import (
        index_of,
        open_cluster,
        read_partitioned,
        score_chunked,
    )

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
            position = index_of(read.accounts, labels[0])
            found = position >= 0
            label[position[found]] = np.asarray(labels[1], np.int64)[found]
        result = score_chunked(runner, n, method=method, labels=label, progress=progress)
    raters, ratees = np.flatnonzero(result.is_rater), np.flatnonzero(result.is_ratee)
    return (read.accounts[raters], result.fraud_score[raters], read.accounts[ratees],
            result.reputation[ratees])


export_app = typer.Typer(help="Move market data out for batch work.", no_args_is_help=True)
import_app = typer.Typer(help="Load batch results back into the market.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: BONAFIDE_DATABASE_URL or var/bonafide.db)."),
]
ROWS_PER_FILE_MAX = 100_000_000


def _connect(db: str | None) -> Any:
    from bonafide.bootstrap import connect
    from bonafide.settings import Settings

    return connect(Settings(database_url=db) if db else Settings())


@export_app.command("ratings")
def export_ratings(
    out: Annotated[Path, typer.Option("--out", help="Directory for part-N.parquet files.")],
    rows_per_file: Annotated[
        int, typer.Option("--rows-per-file", help="Ratings per Parquet file.")
    ] = 10_000_000,
    rows_per_group: Annotated[
        int, typer.Option("--rows-per-group", help="Ratings per row group (a scoring task).")
    ] = 1_000_000,
    db: DbOption = None,
) -> None:
    """Write the market's revealed reviews as a partitioned Parquet rating graph
    (rater,ratee,rating,timestamp,value,currency), ready for ``bonafide score --engine dask``."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from bonafide.service.scoring import export_ratings as export

    if not 0 < rows_per_group <= rows_per_file <= ROWS_PER_FILE_MAX:
        raise Rejected("size_over_limit",
                       f"need 0 < --rows-per-group <= --rows-per-file <= {ROWS_PER_FILE_MAX:,}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Rejected("output_not_empty", f"{out} must be a new or empty directory")
    schema = pa.schema([("rater", pa.string()), ("ratee", pa.string()), ("rating", pa.int64()),
                        ("timestamp", pa.float64()), ("value", pa.int64()),
                        ("currency", pa.string())])
    count = 0

    def batches(container: Any) -> Any:
        nonlocal count
        for batch in export(container.uow(read_only=True)):
            count += len(batch)
            yield pa.record_batch([batch.rater, batch.ratee, batch.rating, batch.timestamp,
                                   batch.value, batch.currency], schema=schema)

    container = _connect(db)
    try:
        ds.write_dataset(batches(container), out, schema=schema, format="parquet",
                         basename_template="part-{i}.parquet", max_rows_per_file=rows_per_file,
                         max_rows_per_group=rows_per_group,
                         min_rows_per_group=min(rows_per_group, 100_000),
                         existing_data_behavior="overwrite_or_ignore")
    except OSError as error:
        raise Rejected("output_not_writable", f"{out}: {error}") from None
    finally:
        container.close()
    if count == 0:
        raise Rejected("nothing_to_export", "the market has no revealed reviews yet")
    typer.echo(f"wrote {count:,} ratings to {out}")


@import_app.command("scores")
def import_scores(
    scores: Annotated[Path, typer.Argument(metavar="FILE", help="CSV account,fraud_score.")],
    ratees: Annotated[
        Path | None, typer.Option("--ratees", help="CSV account,reputation (score's "
                                                   "--ratees-out).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Load a scoring run's ``account,fraud_score`` (and ``account,reputation``) into the
    market; each account's earlier scores are replaced."""
    import uuid

    from bonafide.service.scoring import ImportedScore
    from bonafide.service.scoring import import_scores as load

    fraud = _read_scores(scores, "fraud_score")
    reputation = {} if ratees is None else _read_scores(ratees, "reputation")
    rows = [ImportedScore(account, fraud.get(account), reputation.get(account))
            for account in sorted(set(fraud) | set(reputation))]
    container = _connect(db)
    try:
        report = load(container.uow(), scores=rows, run_id=uuid.uuid4().hex,
                      now=container.clock.now())
    finally:
        container.close()
    typer.echo(f"imported scores of {report.imported:,} accounts (run {report.run_id}); "
               f"{report.unknown_accounts:,} unknown ids skipped")


def _read_scores(path: Path, column: str) -> dict[str, float]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.is_file():
        raise Rejected("scores_unreadable", f"{path}: no such file")
    try:
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={"account": pa.string(), column: pa.float64()}))
    except (pa.ArrowInvalid, OSError) as error:
        raise Rejected("scores_unreadable", f"{path}: {str(error).splitlines()[0]}") from None
    if "account" not in table.column_names or column not in table.column_names:
        raise Rejected("scores_missing_columns", f"{path}: needs columns account,{column}")
    if table.column(column).null_count or table.column("account").null_count:
        raise Rejected("scores_have_missing_values", f"{path}: empty values")
    accounts = table.column("account").to_pylist()
    values = table.column(column).to_pylist()
    result = dict(zip(accounts, values, strict=True))
    if len(result) != len(accounts):
        raise Rejected("account_listed_twice", f"{path}: an account appears twice")
    return result
