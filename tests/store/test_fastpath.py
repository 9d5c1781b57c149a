"""The hot statements' fast path gives what the session gives, inside the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ARRAY, Engine, String, any_, bindparam, insert, select, text, update

from bonafide.ledger.model import AccountKind
from bonafide.store import fastpath
from bonafide.store.ledger_repo import LedgerRepository
from bonafide.store.market_tables import server_secrets
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ADD = insert(server_secrets)
BY_NAME = select(server_secrets).where(server_secrets.c.name == bindparam("of_name"))
RENAME = (
    update(server_secrets)
    .where(server_secrets.c.name == bindparam("of_name"))
    .values(value=bindparam("new_value"))
    .returning(server_secrets.c.name, server_secrets.c.value)
)


def test_rows_are_the_sessions_rows_and_writes_commit_with_the_unit_of_work(
    engine: Engine,
) -> None:
    with UnitOfWork(engine) as uow:
        assert fastpath.rows(uow.session, ADD, {"name": "a", "value": "1", "created_at": NOW}) == []
        fast = fastpath.rows(uow.session, BY_NAME, {"of_name": "a"})
        slow = uow.session.execute(BY_NAME, {"of_name": "a"}).all()
        assert [tuple(r) for r in fast] == [tuple(r) for r in slow]
        assert fast[0].value == "1"
        changed = fastpath.rows(uow.session, RENAME, {"of_name": "a", "new_value": "2"})
        assert [(r.name, r.value) for r in changed] == [("a", "2")]
        uow.commit()
    with UnitOfWork(engine, read_only=True) as uow:
        assert [r.value for r in fastpath.rows(uow.session, BY_NAME, {"of_name": "a"})] == ["2"]


def test_writes_roll_back_with_the_unit_of_work(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        fastpath.rows(uow.session, ADD, {"name": "b", "value": "1", "created_at": NOW})
        assert fastpath.rows(uow.session, BY_NAME, {"of_name": "b"})
        # leaving without commit rolls back
    with UnitOfWork(engine, read_only=True) as uow:
        assert fastpath.rows(uow.session, BY_NAME, {"of_name": "b"}) == []
        assert uow.session.execute(BY_NAME, {"of_name": "b"}).all() == []


def test_on_postgresql_the_statements_run_on_the_driver_and_elsewhere_through_the_session(
    engine: Engine,
) -> None:
    plan = fastpath._plan(BY_NAME, engine.dialect, frozenset({"of_name"}))
    assert (plan.sql is not None) == (engine.dialect.name == "postgresql")


def test_a_statement_with_an_array_is_never_prepared_a_key_lookup_is(engine: Engine) -> None:
    """A generic plan for ``= ANY($1)`` made while a table was small scans it whole long after
    it grew (``store.db``): on PostgreSQL array statements are planned for their values every
    time, while a key lookup is prepared (psycopg prepares a statement on its fifth use)."""
    postgres = engine.dialect.name == "postgresql"
    names = (
        server_secrets.c.name == any_(bindparam("names", type_=ARRAY(String())))
        if postgres
        else server_secrets.c.name.in_(bindparam("names", expanding=True))
    )
    by_names = select(server_secrets).where(names)
    with UnitOfWork(engine) as uow:
        fastpath.rows(uow.session, ADD, {"name": "a", "value": "1", "created_at": NOW})
        for _ in range(8):
            assert len(fastpath.rows(uow.session, BY_NAME, {"of_name": "a"})) == 1
            assert len(fastpath.rows(uow.session, by_names, {"names": ["a", "b"]})) == 1
        if postgres:
            prepared = [
                row[0]
                for row in uow.session.execute(text("SELECT statement FROM pg_prepared_statements"))
            ]
            assert any("server_secrets.name = $1" in sql for sql in prepared), prepared
            assert not any("ANY" in sql for sql in prepared), prepared


def test_the_ledgers_array_statements_are_never_prepared_either(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        repo = uow.repo(LedgerRepository)
        ids = [
            repo.insert_account(
                key=f"test:{n}", kind=AccountKind.WALLET, currency="EUR", owner_id=None, name=None
            )
            for n in range(2)
        ]
        for _ in range(8):
            assert sorted(repo.lock_accounts([i for i in ids if i is not None])) == sorted(ids)
            assert repo.account_ids_by_keys(["test:0", "test:1", "test:9"]) == sorted(ids)
            assert repo.transfers(["none"]) == ({}, {})
            assert repo.lock_holds(["none"]) == set()
        if engine.dialect.name == "postgresql":
            prepared = [
                row[0]
                for row in uow.session.execute(text("SELECT statement FROM pg_prepared_statements"))
            ]
            assert not any("ANY" in sql for sql in prepared), prepared


def test_read_only_and_read_write_units_of_work_share_the_account_id_cache(engine: Engine) -> None:
    # A read-only unit of work is bound to an option copy of the engine; the cache is per
    # database (the engine's pool), so both see the same remembered ids.
    with UnitOfWork(engine) as uow:
        uow.repo(LedgerRepository).insert_account(
            key="shared:0", kind=AccountKind.WALLET, currency="EUR", owner_id=None, name=None
        )
        uow.commit()
    with UnitOfWork(engine, read_only=True) as reader:
        read_only_cache = reader.repo(LedgerRepository)._id_cache()
    with UnitOfWork(engine) as writer:
        assert writer.repo(LedgerRepository)._id_cache() is read_only_cache
        assert read_only_cache is not None and "shared:0" in read_only_cache
