"""The streaming graph generator: size, schema, determinism, bounded chunks, planted attacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scale_helpers import assert_same_scores

from bonafide.cli import main
from bonafide.cli.score import read_ratings
from bonafide.reputation import score_graph
from bonafide.reputation.distributed import LOCAL_GROUP, read_partitioned, score_chunked
from bonafide.sim import stream
from bonafide.sim.stream import GraphConfig, generate_chunks, write_graph


def test_chunks_add_up_to_the_size_asked_and_none_exceeds_the_chunk_rows() -> None:
    sizes = [c["rater"].shape[0] for c in generate_chunks(GraphConfig(ratings=25_001), seed=0,
                                                          chunk_rows=4_000)]
    assert sum(sizes) == 25_001 and max(sizes) == 4_000 and len(sizes) == 7


def test_the_same_seed_gives_the_same_graph_and_another_seed_another() -> None:
    config = GraphConfig(ratings=5_000)
    a = list(generate_chunks(config, seed=2, chunk_rows=2_000))
    b = list(generate_chunks(config, seed=2, chunk_rows=2_000))
    c = list(generate_chunks(config, seed=3, chunk_rows=2_000))
    for x, y in zip(a, b, strict=True):
        assert all((x[name] == y[name]).all() for name in x)
    assert not (a[0]["rater"] == c[0]["rater"]).all()


def test_the_generator_holds_one_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every array the generator draws is one chunk long: record the sizes asked of NumPy.
    drawn: list[int] = []
    original = stream._draw

    def spy(cdf: Any, rng: np.random.Generator, size: int) -> Any:
        drawn.append(size)
        return original(cdf, rng, size)

    monkeypatch.setattr(stream, "_draw", spy)
    config = GraphConfig(ratings=50_000)
    for _ in generate_chunks(config, seed=0, chunk_rows=3_000):
        pass
    assert max(drawn) <= 3_000 and len(drawn) == 2 * 17


def test_degrees_are_heavy_tailed_and_ratings_j_shaped() -> None:
    (chunk,) = generate_chunks(GraphConfig(ratings=100_000), seed=0, chunk_rows=100_000)
    received = np.bincount(chunk["ratee"])
    received = received[received > 0]
    assert received.max() > 50 * np.median(received)
    stars = np.bincount(chunk["rating"], minlength=6)[1:] / chunk["rating"].shape[0]
    assert stars[4] > 0.6 and stars[0] > stars[1]


def test_no_buyer_or_seller_takes_more_than_its_capped_share_of_the_orders() -> None:
    # Seed 0 at this size draws one seller with over half of the Pareto weight uncapped.
    config = GraphConfig(ratings=200_000, sellers=1_000, share_max=0.01)
    (chunk,) = generate_chunks(config, seed=0, chunk_rows=200_000)
    orders = chunk["rater"] < config.n_buyers  # buyer -> seller rows
    received = np.bincount(chunk["ratee"][orders]) / orders.sum()
    given = np.bincount(chunk["rater"][orders]) / orders.sum()
    # Expected at most 1 %; the draw of 130 k orders adds a few standard deviations at most.
    assert received.max() <= 0.012 and given.max() <= 0.012
    assert received.max() > 0.008  # the cap binds: the tail reaches it


def test_the_cap_lowers_only_the_largest_weights_and_keeps_their_order() -> None:
    weights = np.random.default_rng(1).pareto(1.2, 10_000) + 1.0
    capped = stream.capped(weights, 0.001)
    assert capped.max() / capped.sum() <= 0.001 * (1 + 1e-9)
    changed = capped < weights
    assert 0 < changed.sum() < 300  # 1.4 % of them
    assert (capped[~changed] == weights[~changed]).all()
    assert capped[changed].min() >= weights[~changed].max()
    assert (stream.capped(weights, 0.5) == weights).all()  # none over the cap: unchanged


def test_written_files_have_the_score_schema_and_row_groups_of_one_chunk(tmp_path: Path) -> None:
    config = GraphConfig(ratings=12_000)
    files, labels = write_graph(config, tmp_path, seed=1, chunk_rows=1_000, chunks_per_file=5)
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet",
                                       "part-00002.parquet"]
    meta = [pq.ParquetFile(f).metadata for f in files]
    assert sum(m.num_rows for m in meta) == 12_000
    assert [m.num_row_groups for m in meta] == [5, 5, 2]
    schema = pq.read_schema(files[0])
    assert schema.names == ["rater", "ratee", "rating", "timestamp"]
    assert [schema.field(i).type for i in range(4)] == [pa.int64(), pa.int64(), pa.int64(),
                                                        pa.float64()]
    kinds = set(pq.read_table(labels).column("kind").to_pylist())
    assert kinds == {"ring", "sock", "sock_master"}
    assert not any(p.name.startswith(".") for p in (tmp_path / "ratings").iterdir())


def test_planted_rings_and_socks_score_above_honest_raters(tmp_path: Path) -> None:
    write_graph(GraphConfig(ratings=60_000), tmp_path, seed=4, chunk_rows=20_000)
    single = tmp_path / "all.parquet"
    pq.write_table(pq.read_table(tmp_path / "ratings"), single)
    graph = read_ratings(single, rating_min=1.0, rating_max=5.0)
    result = score_graph(graph)
    labels = pq.read_table(tmp_path / "labels.parquet").to_pydict()
    kind = np.asarray(labels["kind"])
    planted = graph.index_of(labels["account"])
    honest = np.setdiff1d(result.raters(), planted)
    honest_mean = result.fraud_score[honest].mean()
    assert result.fraud_score[planted[kind == "ring"]].mean() > honest_mean + 0.5
    assert result.fraud_score[planted[kind == "sock"]].mean() > honest_mean + 0.1


@pytest.mark.parametrize("rows_per_part", [10_000, 1_500])
def test_dask_scores_a_generated_graph_like_the_in_process_engine(
    tmp_path: Path, dask_client: Any, rows_per_part: int
) -> None:
    write_graph(GraphConfig(ratings=40_000), tmp_path, seed=6, chunk_rows=5_000,
                chunks_per_file=3)
    single = tmp_path / "all.parquet"
    pq.write_table(pq.read_table(tmp_path / "ratings"), single)
    graph = read_ratings(single, rating_min=1.0, rating_max=5.0)
    runner, read = read_partitioned(tmp_path / "ratings", rating_min=1.0, rating_max=5.0,
                                    client=dask_client, rows_per_part=rows_per_part)
    got = score_chunked(runner, read.accounts.shape[0])
    assert_same_scores(score_graph(graph), read.accounts, got, graph)
    homes = getattr(runner, "homes", None) or []
    if rows_per_part < 2_000:  # more partitions per worker than one local fold takes
        assert min(homes.count(h) for h in set(homes)) > LOCAL_GROUP


def test_simulate_graph_command_writes_the_parquet_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["simulate-graph", "--out", str(tmp_path / "g"), "--ratings", "3000",
          "--chunk-rows", "1000", "--seed", "3"])
    assert "wrote 3,000 ratings" in capsys.readouterr().out
    assert pq.read_table(tmp_path / "g" / "ratings").num_rows == 3000
    with pytest.raises(SystemExit):
        main(["simulate-graph", "--out", str(tmp_path / "h"), "--ratings", "0"])
    assert "error: size_over_limit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate-graph", "--out", str(tmp_path / "h"), "--share-max", "0"])
    assert "error: share_out_of_range" in capsys.readouterr().err
