"""The chunked engine equals ``score_graph``: in-process chunks and a Dask cluster, both methods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scale_helpers import assert_same_scores, market_graph

from bonafide.cli.score import read_ratings
from bonafide.errors import Rejected
from bonafide.reputation import score_graph
from bonafide.reputation.distributed import (
    LocalRunner,
    read_partitioned,
    score_chunked,
)
from bonafide.reputation.kernels import EdgeChunk
from bonafide.sim import SIZES, simulate_market, write_market


@pytest.mark.parametrize("method", ["default", "rev2"])
@pytest.mark.parametrize("parts", [1, 7])
def test_in_process_chunks_give_score_graphs_scores(method: str, parts: int) -> None:
    graph = market_graph(seed=3)
    labels = np.full(graph.n_accounts, -1)
    labels[:5] = [1, 0, 1, 0, 0]
    expected = score_graph(graph, method=method, labels=labels)
    runner = LocalRunner([EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp)])
    runner.shuffle_by_ratee(parts)
    got = score_chunked(runner, graph.n_accounts, method=method, labels=labels)
    assert_same_scores(expected, graph.accounts, got, graph)
    assert got.iterations == expected.iterations


def test_links_count_for_nothing_in_chunks_as_in_one_graph() -> None:
    graph = market_graph(seed=5)
    links = np.stack([graph.rater[:40], graph.ratee[:40]], axis=1)
    expected = score_graph(graph, links=links)
    runner = LocalRunner([EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp)])
    runner.shuffle_by_ratee(4)
    got = score_chunked(runner, graph.n_accounts, links=links)
    assert_same_scores(expected, graph.accounts, got, graph)


def test_shuffled_chunks_hold_every_rating_of_their_ratees_in_order() -> None:
    graph = market_graph(seed=1)
    runner = LocalRunner([EdgeChunk(graph.rater, graph.ratee, graph.rating, graph.timestamp)])
    runner.shuffle_by_ratee(5)
    seen = np.concatenate([np.unique(c.ratee) for c in runner.chunks])
    assert seen.shape[0] == np.unique(graph.ratee).shape[0]  # no ratee in two chunks
    for chunk in runner.chunks:
        assert chunk.timestamp is not None
        for ratee in np.unique(chunk.ratee)[:20]:
            mine = chunk.timestamp[chunk.ratee == ratee]
            assert graph.timestamp is not None
            assert (mine == graph.timestamp[graph.ratee == ratee]).all()


def write_parquet_parts(table: Any, directory: Path, parts: int, row_group: int) -> None:
    directory.mkdir()
    size = -(-table.num_rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * size, size), directory / f"part-{i}.parquet",
                       row_group_size=row_group)


@pytest.mark.parametrize("method", ["default", "rev2"])
def test_dask_scores_a_parquet_directory_like_the_in_process_engine(
    tmp_path: Path, dask_client: Any, method: str
) -> None:
    write_market(simulate_market(SIZES["small"], seed=8), tmp_path)
    source = tmp_path / "ratings.csv"
    graph = read_ratings(source, rating_min=1.0, rating_max=5.0)
    types = {"rater": pa.string(), "ratee": pa.string()}
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types=types))
    write_parquet_parts(table, tmp_path / "parts", parts=3, row_group=1000)
    runner, read = read_partitioned(tmp_path / "parts", rating_min=1.0, rating_max=5.0,
                                    client=dask_client, rows_per_part=2500)
    got = score_chunked(runner, read.accounts.shape[0], method=method)
    assert read.n_ratings == graph.n_ratings and read.accounts.shape[0] == graph.n_accounts
    assert_same_scores(score_graph(graph, method=method), read.accounts, got, graph)


@pytest.mark.shared_data
def test_dask_scores_bitcoin_otc_like_the_in_process_engine(
    shared_data: Path, dask_client: Any
) -> None:
    source = shared_data / "bitcoin-otc" / "ratings.csv"
    graph = read_ratings(source, rating_min=-10.0, rating_max=10.0)
    runner, read = read_partitioned(source, rating_min=-10.0, rating_max=10.0,
                                    client=dask_client, rows_per_part=12_000)
    got = score_chunked(runner, read.accounts.shape[0])
    assert_same_scores(score_graph(graph), read.accounts, got, graph)


def test_dask_reports_malformed_input_with_the_in_process_codes(
    tmp_path: Path, dask_client: Any
) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"rater": ["a"], "ratee": ["b"], "rating": [5]}),
                   parts / "1.parquet")
    pq.write_table(pa.table({"rater": ["a"], "ratee": ["b"], "rating": [9]}),
                   parts / "2.parquet")
    with pytest.raises(Rejected) as caught:
        read_partitioned(parts, rating_min=1.0, rating_max=5.0, client=dask_client)
    assert caught.value.code == "rating_outside_scale"
    pq.write_table(pa.table({"rater": ["a"], "rating": [5]}), parts / "2.parquet")
    with pytest.raises(Rejected) as caught:
        read_partitioned(parts, rating_min=1.0, rating_max=5.0, client=dask_client)
    assert caught.value.code == "input_missing_columns"
    with pytest.raises(Rejected) as caught:
        read_partitioned(tmp_path / "none", rating_min=1.0, rating_max=5.0, client=dask_client)
    assert caught.value.code == "input_unreadable"


def test_integer_and_text_ids_in_one_directory_are_one_account_space(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"rater": [1, 2, 10], "ratee": [10, 10, 2], "rating": [5, 4, 1]}),
                   parts / "a.parquet")
    pq.write_table(pa.table({"rater": ["10", "x"], "ratee": ["1", "10"], "rating": [5, 5]}),
                   parts / "b.parquet")
    runner, read = read_partitioned(parts, rating_min=1.0, rating_max=5.0)
    assert sorted(read.accounts) == ["1", "10", "2", "x"]
    got = score_chunked(runner, read.accounts.shape[0])
    single = tmp_path / "all.csv"
    single.write_text("rater,ratee,rating\n1,10,5\n2,10,4\n10,2,1\n10,1,5\nx,10,5\n")
    graph = read_ratings(single, rating_min=1.0, rating_max=5.0)
    assert_same_scores(score_graph(graph), read.accounts, got, graph)


def test_dask_is_imported_only_when_a_cluster_is_opened() -> None:
    import subprocess
    import sys

    code = ("import sys, bonafide.cli, bonafide.cli.scale, bonafide.reputation.distributed; "
            "print(any(m == 'dask' or m.startswith(('dask.', 'distributed')) "
            "for m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert shown.stdout.strip() == "False"
