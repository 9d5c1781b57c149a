"""Ledger account ids are remembered once committed, including those the transaction created;
an account created by a transaction that rolled back is never remembered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from bonafide.ledger import AccountKind
from bonafide.service import ledger
from bonafide.store.uow import UnitOfWork


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _escrow(uow: UnitOfWork, order: str) -> int:
    return ledger.account_for(uow, kind=AccountKind.ESCROW, currency="EUR", name=f"order:{order}")


def test_an_account_opened_and_committed_is_found_again_without_a_statement(
    engine: Engine,
) -> None:
    uow = UnitOfWork(engine)
    with uow:
        opened = ledger.open_account(
            uow, kind=AccountKind.ESCROW, currency="EUR", name="order:o1"
        )
        uow.commit()
    uow = UnitOfWork(engine)
    with uow, _statements(engine) as seen:
        assert _escrow(uow, "o1") == opened
        assert not [s for s in seen if "ledger_accounts" in s]


def test_an_account_opened_by_a_rolled_back_transaction_is_not_remembered(
    engine: Engine,
) -> None:
    uow = UnitOfWork(engine)
    with uow:
        ledger.open_account(uow, kind=AccountKind.ESCROW, currency="EUR", name="order:o2")
        # no commit: rolled back
    uow = UnitOfWork(engine)
    with uow:
        reopened = _escrow(uow, "o2")  # created afresh, not the rolled-back id
        uow.commit()
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        assert ledger.balance(uow, reopened).credits_posted == 0
        assert _escrow(uow, "o2") == reopened
