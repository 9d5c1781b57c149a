"""``bonafide simulate``: writes ratings and labels, deterministic by seed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bonafide.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


def test_simulate_writes_ratings_and_labels_that_score_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "market"
    assert run(["simulate", "--out", str(out), "--seed", "3", "--size", "small"], capsys)[0] == 0
    ratings = (out / "ratings.csv").read_text().splitlines()
    assert ratings[0] == "rater,ratee,rating,timestamp"
    with (out / "labels.csv").open() as handle:
        labels = list(csv.DictReader(handle))
    kinds = {row["kind"] for row in labels}
    assert {"honest", "sock", "ring", "hired", "burst", "scammer", "camouflage"} <= kinds
    assert all(row["fraudulent"] == ("0" if row["kind"] == "honest" else "1") for row in labels)
    scores = tmp_path / "scores.csv"
    assert run(["score", str(out / "ratings.csv"), "--out", str(scores)], capsys)[0] == 0


def test_same_seed_same_files_and_overrides_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        argv = ["simulate", "--out", str(tmp_path / name), "--seed", "9", "--size", "small",
                "--orders", "800", "--buyers", "100"]
        assert run(argv, capsys)[0] == 0
    first = (tmp_path / "a" / "ratings.csv").read_bytes()
    assert first == (tmp_path / "b" / "ratings.csv").read_bytes()


def test_bad_size_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["simulate", "--out", str(tmp_path / "m"), "--size", "huge"], capsys)
    assert code == 1 and err.startswith("error: size_unknown: ") and err.count("\n") == 1
    code, err = run(["simulate", "--out", str(tmp_path / "m"), "--orders", "0"], capsys)
    assert code == 1 and err.startswith("error: size_must_be_positive: ")
    assert not (tmp_path / "m").exists()
