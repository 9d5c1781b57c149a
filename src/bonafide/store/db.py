"""Engines with the per-dialect rules that make concurrent writes correct.

SQLite
    One writer at a time. Every read-write transaction starts with ``BEGIN IMMEDIATE`` so it takes
    the write lock up front; a deferred transaction that reads and then writes could otherwise fail
    with ``SQLITE_BUSY`` half-way, after deciding on stale reads. WAL lets readers go on meanwhile;
    ``busy_timeout`` makes writers queue instead of failing. Read-only units of work begin
    ``DEFERRED``.
PostgreSQL
    READ COMMITTED, and the repositories lock the rows a change depends on (``SELECT ... FOR
    UPDATE`` on accounts, in ascending id order so that two transfers never deadlock).
    Statements with an array parameter (``id = ANY(%s)``) run unprepared (``store.fastpath``,
    ``store.ledger_repo``): psycopg prepares a statement on its fifth use, and PostgreSQL then
    settles on one generic plan for it, chosen for the table sizes of that moment and kept until
    the table is next analysed. For ``= ANY`` on a table that was small then (every table of a
    new market) that plan is a sequential scan, read on every call while the table grows: in the
    HTTP benchmark the journal and the ledger accounts were read whole by every placement and
    PostgreSQL's CPU per placement rose by half within a minute. Unprepared, they are planned for
    each call's values. Everything else on the hot path is an insert or a lookup by a unique key,
    whose generic plan is the custom one; forcing custom plans for those too
    (``plan_cache_mode``) cost about 0.4 ms of PostgreSQL's CPU per order life cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_RECYCLE_SECONDS = 1_800
POOL_SIZE_DEFAULT = 8
"""The default of ``BONAFIDE_DATABASE_POOL_SIZE`` (``settings.Settings.database_pool_size``)."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = POOL_SIZE_DEFAULT, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the rules above; creates a SQLite file's folder.

    ``pool_size`` (PostgreSQL) is the number of connections kept open; the HTTP server lets that
    many requests per process do database work at once (``api.app``), so under load the pool
    neither runs dry nor opens and closes overflow connections for every burst (each one a new
    server process on PostgreSQL: forked, authenticated, and its CPU lost when it exits). The
    overflow stays for units of work opened outside the server's thread limit.
    """
    url = normalise_url(url)
    if is_sqlite(url):
        return _sqlite_engine(url, **kwargs)
    kwargs["pool_size"] = pool_size
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it cost a round trip (and a statement on the server) at the start of every
    # unit of work. A connection that died in the pool fails the first statement of the unit of
    # work instead; SQLAlchemy then invalidates it (and, on a disconnect, the whole pool), the
    # transaction was never committed, so nothing is half-written and the request answers 500
    # (a retried request with the same Idempotency-Key starts clean). ``pool_recycle`` retires
    # connections before server- or proxy-side idle timeouts usually cut them.
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        assert mode in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
