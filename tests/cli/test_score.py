"""``bonafide score``: the command's contract (DESIGN.md §5) and its one-line errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bonafide.cli import main

RATINGS = "rater,ratee,rating,timestamp\n" + "\n".join(
    f"b{i},s{i % 3},{5 if i % 4 else 1},{1.7e9 + i * 3600}" for i in range(30)
) + "\ns0,b1,5,1700000000.5\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_score_writes_one_row_per_rater_and_per_ratee(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "ratings.csv"
    source.write_text(RATINGS)
    out, ratees = tmp_path / "fraud.csv", tmp_path / "reputation.csv"
    code, _, err = run(["score", str(source), "--out", str(out), "--ratees-out", str(ratees)],
                       capsys)
    assert code == 0, err
    assert out.read_text().splitlines()[0] == "account,fraud_score"
    assert ratees.read_text().splitlines()[0] == "account,reputation"
    rows = read(out)
    assert {r["account"] for r in rows} == {f"b{i}" for i in range(30)} | {"s0"}
    assert all(0.0 <= float(r["fraud_score"]) <= 1.0 for r in rows)
    reputation = {r["account"]: float(r["reputation"]) for r in read(ratees)}
    assert set(reputation) == {"s0", "s1", "s2", "b1"}
    assert all(0.0 <= v <= 1.0 for v in reputation.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fraud.csv", "ratings.csv",
                                                          "reputation.csv"]


def test_ids_are_kept_as_written_and_parquet_reads_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "r.parquet"
    pq.write_table(pa.table({"rater": ["007", "a,b"], "ratee": ["x", "x"], "rating": [4, 2]}),
                   source)
    out = tmp_path / "o.csv"
    code, _, err = run(["score", str(source), "--out", str(out)], capsys)
    assert code == 0, err
    assert {r["account"] for r in read(out)} == {"007", "a,b"}


def test_rating_scale_and_rev2_method_and_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "r.csv"
    source.write_text("rater,ratee,rating\na,s,10\nb,s,-10\nc,s,7\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("account,fraudulent\nb,1\nc,0\n")
    out = tmp_path / "o.csv"
    argv = ["score", str(source), "--out", str(out), "--rating-scale", "-10", "10"]
    assert run([*argv, "--method", "rev2"], capsys)[0] == 0
    assert run([*argv, "--labels", str(labels)], capsys)[0] == 0
    scores = {r["account"]: float(r["fraud_score"]) for r in read(out)}
    assert scores["b"] == 1.0 and scores["c"] == 0.0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("rater,ratee\na,b\n", "input_missing_columns"),
        ("rater,ratee,rating\na,b,9\n", "rating_outside_scale"),
        ("rater,ratee,rating\na,b,x\n", "input_not_numeric"),
        ("rater,ratee,rating,timestamp\na,b,5,yesterday\n", "input_not_numeric"),
        ("rater,ratee,rating\na,b,\n", "input_has_missing_values"),
        ("", "input_empty"),
        ("rater,ratee,rating\n", "input_empty"),
        ("rater,ratee,rating\na,b,5,extra\n", "input_malformed"),
    ],
)
def test_malformed_input_fails_with_one_line_and_leaves_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, code: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    out, ratees = tmp_path / "o.csv", tmp_path / "r.csv"
    status, _, err = run(["score", str(source), "--out", str(out), "--ratees-out", str(ratees)],
                         capsys)
    assert status == 1
    assert err.startswith(f"error: {code}: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_unreadable_input_and_bad_options_fail_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.csv"
    status, _, err = run(["score", str(tmp_path / "missing.csv"), "--out", str(out)], capsys)
    assert status == 1 and err.startswith("error: input_unreadable: ")
    source = tmp_path / "in.csv"
    source.write_text(RATINGS)
    status, _, err = run(["score", str(source), "--out", str(out), "--method", "x"], capsys)
    assert status == 1 and err.startswith("error: method_unknown: ")
    status, _, err = run(["score", str(source), "--out", str(out), "--rating-scale", "5", "1"],
                         capsys)
    assert status == 1 and err.startswith("error: rating_scale_invalid: ")
    labels = tmp_path / "labels.csv"
    labels.write_text("account,bad\nb1,1\n")
    status, _, err = run(["score", str(source), "--out", str(out), "--labels", str(labels)],
                         capsys)
    assert status == 1 and err.startswith("error: labels_missing_columns: ")
    assert not out.exists()
