"""A pooled connection the server dropped fails one unit of work cleanly; nothing is half-written.

The engine does not ping a connection before each unit of work (a round trip on every request);
a dead one is found by the first statement instead, invalidated, and the transaction it carried
was never committed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bonafide.ledger import AccountKind
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _terminate_pooled_backend(engine: Engine) -> None:
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # Back in the pool; now the server ends it, as a restart or an idle timeout would.
    url = engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # a server that can drop it
def test_a_dropped_pooled_connection_fails_one_deposit_and_writes_nothing(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    ledger.deposit(UnitOfWork(engine), transfer_id="first", owner_id="a",
                   amount=Money(500, "EUR"), now=NOW, actor="op")
    _terminate_pooled_backend(engine)

    with pytest.raises(DBAPIError) as failed:
        ledger.deposit(UnitOfWork(engine), transfer_id="second", owner_id="a",
                       amount=Money(700, "EUR"), now=NOW, actor="op")
    assert failed.value.connection_invalidated

    uow = UnitOfWork(engine, read_only=True)
    with uow:
        assert ledger.get_transfer(uow, "second") is None
        wallet = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="a")
        assert ledger.balance(uow, wallet).credits_posted == 500
    # The retry runs on a fresh connection and lands once.
    ledger.deposit(UnitOfWork(engine), transfer_id="second", owner_id="a",
                   amount=Money(700, "EUR"), now=NOW, actor="op")
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems
    assert report.entries == 2
