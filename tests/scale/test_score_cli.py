"""``bonafide score --engine dask``: the score contract (DESIGN.md §5) on a cluster."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from bonafide.cli import main
from bonafide.sim import SIZES, simulate_market, write_market


def read(path: Path, column: str) -> dict[str, float]:
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["account", column]
    return {r["account"]: float(r[column]) for r in rows}


def score(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(["score", *argv])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def test_dask_engine_writes_the_in_process_scores_for_a_parquet_directory(
    tmp_path: Path, dask_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    write_market(simulate_market(SIZES["small"], seed=2), tmp_path)
    table = pacsv.read_csv(tmp_path / "ratings.csv", convert_options=pacsv.ConvertOptions(
        column_types={"rater": pa.string(), "ratee": pa.string()}))
    parts = tmp_path / "parts"
    parts.mkdir()
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), parts / "0.parquet", row_group_size=1500)
    pq.write_table(table.slice(half), parts / "1.parquet", row_group_size=1500)
    labels = tmp_path / "labels.csv"
    ids = table.column("rater").to_pylist()
    labels.write_text(f"account,fraudulent\n{ids[0]},1\n{ids[1]},0\nnobody,1\n")
    common = ["--labels", str(labels), "--rating-scale", "1", "5"]
    code, err = score([str(tmp_path / "ratings.csv"), "--out", str(tmp_path / "a.csv"),
                       "--ratees-out", str(tmp_path / "ar.csv"), *common], capsys)
    assert code == 0, err
    code, err = score([str(parts), "--engine", "dask", "--scheduler",
                       dask_client.scheduler.address, "--out", str(tmp_path / "b.csv"),
                       "--ratees-out", str(tmp_path / "br.csv"), *common], capsys)
    assert code == 0, err
    for name, column in (("a.csv", "fraud_score"), ("ar.csv", "reputation")):
        expected = read(tmp_path / name, column)
        got = read(tmp_path / name.replace("a", "b", 1), column)
        assert set(got) == set(expected)
        assert max(abs(got[a] - expected[a]) for a in expected) <= 1e-9
    assert read(tmp_path / "b.csv", "fraud_score")[ids[0]] == 1.0


def test_dask_engine_errors_are_one_line_and_leave_no_output(
    tmp_path: Path, dask_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"rater": ["a"], "ratee": ["b"], "rating": [7]}), parts / "0.parquet")
    out = tmp_path / "out.csv"
    code, err = score([str(parts), "--engine", "dask", "--scheduler",
                       dask_client.scheduler.address, "--out", str(out)], capsys)
    assert code == 1 and err.startswith("error: rating_outside_scale: ")
    assert not out.exists()
    code, err = score([str(parts), "--engine", "spark", "--out", str(out)], capsys)
    assert code == 1 and err.startswith("error: engine_unknown: ")
