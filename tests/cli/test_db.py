"""``bonafide db upgrade`` and ``bonafide db current`` on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bonafide.cli import main


def exit_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_upgrade_creates_a_fresh_sqlite_database_at_the_newest_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'bonafide.db'}"
    assert exit_code(["db", "current", "--db", url]) == 1
    assert "(empty)" in capsys.readouterr().out
    assert exit_code(["db", "upgrade", "--db", url]) == 0
    assert "upgraded (empty)" in capsys.readouterr().out
    assert (tmp_path / "fresh" / "bonafide.db").exists()
    assert exit_code(["db", "current", "--db", url]) == 0
    out = capsys.readouterr().out
    current = out.splitlines()[0].split()[-1]
    assert current == out.splitlines()[1].split()[-1] != "(empty)"
    assert exit_code(["db", "upgrade", "--db", url]) == 0
    assert "already at" in capsys.readouterr().out


def test_upgrade_reads_the_database_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BONAFIDE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert exit_code(["db", "upgrade"]) == 0
    assert (tmp_path / "env.db").exists()
