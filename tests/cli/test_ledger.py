"""``bonafide ledger verify``: exit 0 on a sound ledger, 1 naming the entry on a tampered one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bonafide.cli import main
from bonafide.ledger import AccountKind, TransferSpec
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def exit_code(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def fill(engine: Engine) -> None:
    ledger.deposit(UnitOfWork(engine), transfer_id="d1", owner_id="alice",
                   amount=Money(1_000, "EUR"), now=NOW, actor="op")
    uow = UnitOfWork(engine)
    with uow:
        alice = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="alice")
        bob = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="bob")
        ledger.execute(uow, [TransferSpec(f"t{i}", alice, bob, Money(10, "EUR"))
                             for i in range(5)], now=NOW)
        uow.commit()


def test_verify_exits_zero_on_a_sound_ledger(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(engine)
    assert exit_code(["ledger", "verify", "--db", database_url]) == 0
    assert "ledger ok" in capsys.readouterr().out
    assert exit_code(["ledger", "verify", "--db", database_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["entries"] == 6 and report["problems"] == []


def test_verify_exits_non_zero_and_names_a_tampered_entry(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE ledger_journal SET amount = 11 WHERE sequence = 4"))
    assert exit_code(["ledger", "verify", "--db", database_url, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    first = report["problems"][0]
    assert (first["code"], first["entry"], first["transfer_id"]) == ("entry_hash_mismatch", 4, "t2")
    assert exit_code(["ledger", "verify", "--db", database_url]) == 1
    out = capsys.readouterr().out
    assert "entry 4 (t2)" in out and "entry_hash_mismatch" in out and "NOT ok" in out


def test_verify_names_a_deleted_entry(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(engine)  # one batch: entries 2..6 are consecutive on one lane
    with engine.begin() as c:
        c.execute(text("DELETE FROM ledger_journal WHERE sequence = 3"))
    assert exit_code(["ledger", "verify", "--db", database_url]) == 1
    out = capsys.readouterr().out
    assert "entry_missing" in out and "entry 4 (t2)" in out


def test_walkthrough_tells_the_escrow_story_and_ends_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(["ledger", "walkthrough", "--db", f"sqlite:///{tmp_path / 'w.db'}"]) == 0
    out = capsys.readouterr().out
    for said in ("exceeds_available_balance", "transfer_exists_with_different_fields",
                 "pending_transfer_expired", "ledger ok"):
        assert said in out
