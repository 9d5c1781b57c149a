"""``bonafide demo --no-serve``: a fresh demo database, a progress bar, logins for each role."""

from __future__ import annotations

from pathlib import Path

import pytest

from bonafide.cli import main


def test_demo_seeds_a_fresh_database_and_prints_a_login_per_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BONAFIDE_KEY_PATH", str(tmp_path / "market.key"))
    database = tmp_path / "demo.db"
    database.write_bytes(b"an old demo that must not survive")
    main(["demo", "--no-serve", "--size", "small", "--seed", "5", "--db", f"sqlite:///{database}"])
    out, err = capsys.readouterr()
    assert "Demo market seeded" in err
    assert "orders" in err and "sock_master" in err
    for role in ("buyer", "seller", "moderator", "operator"):
        line = next(x for x in out.splitlines() if x.strip().startswith(role))
        assert "bfk_" in line
    assert "Serving" not in out
    assert database.stat().st_size > 100_000


def test_demo_refuses_an_unknown_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["demo", "--no-serve", "--size", "huge"])
    assert stop.value.code == 2
    assert "size must be one of" in capsys.readouterr().err
