"""Tampering with stored rows directly in SQL makes ``verify`` fail and name the entry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from bonafide.ledger import AccountKind, TransferKind, TransferSpec
from bonafide.ledger.journal import JournalEntry, entry_hash
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def filled(engine: Engine) -> Engine:
    """Entries: 1 deposit, 2..6 transfers t0..t4 alice → bob, 7 a hold still open."""
    ledger.deposit(UnitOfWork(engine), transfer_id="d", owner_id="alice",
                   amount=Money(1_000, "EUR"), now=NOW, actor="op")
    uow = UnitOfWork(engine)
    with uow:
        alice = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="alice")
        bob = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="bob")
        ledger.execute(uow, [TransferSpec(f"t{i}", alice, bob, Money(10 + i, "EUR"))
                             for i in range(5)], now=NOW)
        ledger.execute(uow, [TransferSpec("h", alice, bob, Money(5, "EUR"),
                                          kind=TransferKind.PENDING)], now=NOW)
        uow.commit()
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok and report.entries == 7
    return engine


def problems(engine: Engine) -> list[tuple[str, int | None]]:
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert not report.ok
    return [(p.code, p.entry if p.entry is not None else p.account) for p in report.problems]


def next_in_lane(engine: Engine, sequence: int) -> int | None:
    """The entry after ``sequence`` in its lane (where a break there is noticed), if any."""
    with engine.connect() as c:
        return c.execute(text(
            "SELECT min(n.sequence) FROM ledger_journal n JOIN ledger_journal e "
            "ON n.lane = e.lane AND n.lane_sequence > e.lane_sequence WHERE e.sequence = :s"
        ), {"s": sequence}).scalar_one_or_none()


def tamper(engine: Engine, sql: str) -> None:
    with engine.begin() as c:
        c.execute(text(sql))


def test_a_changed_amount_is_named_by_its_entry(filled: Engine) -> None:
    tamper(filled, "UPDATE ledger_journal SET amount = 1 WHERE sequence = 4")
    found = problems(filled)
    assert found[0] == ("entry_hash_mismatch", 4)
    assert {code for code, _ in found} >= {"entry_hash_mismatch", "account_balance_mismatch"}


def test_a_changed_memo_is_named_by_its_entry(filled: Engine) -> None:
    tamper(filled, "UPDATE ledger_journal SET memo = 'nothing to see' WHERE id = 't1'")
    assert problems(filled) == [("entry_hash_mismatch", 3)]


def test_a_deleted_entry_is_named_by_the_gap_in_its_lane(filled: Engine) -> None:
    after = next_in_lane(filled, 3)
    tamper(filled, "DELETE FROM ledger_journal WHERE sequence = 3")
    found = problems(filled)
    if after is None:  # it was the last entry of its lane: the lane's head notices
        assert "journal_head_mismatch" in {code for code, _ in found}
    else:
        assert ("entry_missing", after) in found


def test_deleting_the_last_entry_is_caught_by_the_head(filled: Engine) -> None:
    tamper(filled, "DELETE FROM ledger_holds")
    tamper(filled, "DELETE FROM ledger_journal WHERE sequence = 7")
    assert "journal_head_mismatch" in {code for code, _ in problems(filled)}


def test_a_forged_entry_with_a_recomputed_hash_breaks_the_link_after_it(filled: Engine) -> None:
    with filled.begin() as c:
        row = c.execute(text("SELECT * FROM ledger_journal WHERE sequence = 2")).one()
        forged = JournalEntry(*row)._replace(amount=1)
        forged = forged._replace(hash=entry_hash(forged))
        c.execute(text("UPDATE ledger_journal SET amount = 1, hash = :h WHERE sequence = 2"),
                  {"h": forged.hash})
    found = problems(filled)
    after = next_in_lane(filled, 2)
    if after is not None:
        assert ("entry_chain_broken", after) in found
    assert ("entry_hash_mismatch", 2) not in found
    assert ("account_balance_mismatch", None) not in found
    assert {code for code, _ in found} & {"entry_chain_broken", "journal_head_mismatch"}


def test_a_changed_balance_on_an_account_row_is_named_by_account(filled: Engine) -> None:
    uow = UnitOfWork(filled, read_only=True)
    with uow:
        [(bob, _, _)] = ledger.balances_of_owner(uow, "bob")
    tamper(filled, f"UPDATE ledger_accounts SET credits_posted = credits_posted + 100 "
                   f"WHERE id = {bob}")
    found = problems(filled)
    assert ("account_balance_mismatch", bob) in found
    assert ("currency_does_not_sum_to_zero", None) in found


def test_a_removed_hold_is_found(filled: Engine) -> None:
    tamper(filled, "DELETE FROM ledger_holds")
    assert problems(filled) == [("hold_missing", None)]
