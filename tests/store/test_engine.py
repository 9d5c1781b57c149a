"""The storage base on both backends: fixtures, the unit of work's rollback, write serialisation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bonafide.store.db import make_engine, normalise_url
from bonafide.store.migrate import head, is_current
from bonafide.store.uow import UnitOfWork


def _scratch(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        c.execute(text("INSERT INTO scratch (id, n) VALUES (1, 0)"))


def test_every_database_starts_at_the_newest_schema(engine: Engine) -> None:
    assert head() is not None
    assert is_current(engine)


def test_leaving_a_unit_of_work_without_commit_rolls_back(engine: Engine) -> None:
    _scratch(engine)
    uow = UnitOfWork(engine)
    with uow:
        uow.session.execute(text("UPDATE scratch SET n = 5"))
    with pytest.raises(RuntimeError), uow:
        uow.session.execute(text("UPDATE scratch SET n = 6"))
        uow.commit()  # committed, then the failure below must not undo it...
        raise RuntimeError("after commit")
    with uow:
        assert uow.session.execute(text("SELECT n FROM scratch")).scalar_one() == 6


def test_concurrent_read_modify_write_loses_no_update(engine: Engine) -> None:
    # On SQLite this holds because writers BEGIN IMMEDIATE; on PostgreSQL because of FOR UPDATE.
    _scratch(engine)
    lock = "" if engine.dialect.name == "sqlite" else " FOR UPDATE"
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with UnitOfWork(engine) as uow:
                    n = uow.session.execute(text(f"SELECT n FROM scratch{lock}")).scalar_one()
                    uow.session.execute(text("UPDATE scratch SET n = :n"), {"n": n + 1})
                    uow.commit()
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.session.execute(text("SELECT n FROM scratch")).scalar_one() == 40


def test_postgres_urls_use_the_psycopg_driver() -> None:
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("postgres://u@h/db").startswith("postgresql+psycopg://")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_engine_creates_the_folder_of_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path}/deep/er/b.db")
    with engine.connect() as c:
        assert c.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
    assert (tmp_path / "deep" / "er" / "b.db").exists()


def test_a_read_only_unit_of_work_cannot_write(engine: Engine) -> None:
    _scratch(engine)
    uow = UnitOfWork(engine, read_only=True)
    if engine.dialect.name == "postgresql":
        # BEGIN READ ONLY: the server refuses the write, so ending the transaction with a
        # commit (see below) can never keep one.
        with pytest.raises(DBAPIError, match="read-only transaction"), uow:
            uow.session.execute(text("UPDATE scratch SET n = 7"))
    with pytest.raises(AssertionError, match="read-only"), uow:
        uow.commit()
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.session.execute(text("SELECT n FROM scratch")).scalar_one() == 0


@pytest.mark.postgres
def test_a_read_keeps_the_connections_prepared_statements(postgres_server: str) -> None:
    """psycopg drops every prepared statement of a connection when it rolls back; a read-only
    unit of work that went well commits instead, so the next request's statements still run
    prepared (one connection in the pool, so every unit of work below gets the same one)."""
    engine = make_engine(postgres_server, pool_size=1, max_overflow=0)

    def driver(uow: UnitOfWork) -> Any:
        found = uow.session.connection().connection.driver_connection
        assert found is not None
        return found

    def prepared() -> int:
        with UnitOfWork(engine, read_only=True) as uow:
            row = driver(uow).execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
            return int(row[0])

    try:
        with UnitOfWork(engine, read_only=True) as uow:  # a read, as an API key check is
            for _ in range(6):  # psycopg prepares a statement on its fifth use
                driver(uow).execute("SELECT %s::integer + 1", (1,))
        assert prepared() >= 1
        with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:  # a rollback drops them
            driver(uow).execute("SELECT 1")
            raise RuntimeError("rolled back")
        assert prepared() == 0
    finally:
        engine.dispose()
