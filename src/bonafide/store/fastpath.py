"""Prebuilt statements run on psycopg's own connection: the hottest statements' fast path.

Owns: ``rows(session, statement, params)`` and ``insert_or_ignore(session, table, values)``.
Imports: SQLAlchemy and psycopg.

Why
    Through the ORM session a statement costs about 60 µs of client CPU before and after the
    driver's own work (execution context, cache lookup, result set-up); on psycopg's cursor the
    same statement costs about 25 µs. The order flow runs some twenty of them per life cycle, on
    two cores shared with PostgreSQL, so the statements of its hot path come here.

How
    ``statement`` must be built once (a module-level cached builder) with ``bindparam`` for every
    value, so the compiled SQL is made once per statement, dialect and set of parameter names and
    kept. On PostgreSQL with psycopg the SQL then runs on the session's connection, inside the
    session's transaction (the driver connection is the one the unit of work commits or rolls
    back); the rows come back as named tuples (``row.column`` and ``row[i]``, like SQLAlchemy's
    rows). A statement this cannot run exactly as SQLAlchemy would (Python-side column defaults,
    result types that SQLAlchemy converts, escaped parameter names) runs through the session, as
    does everything on SQLite. Bind-side conversions SQLAlchemy would apply (JSON) are applied.

Errors are psycopg's own here, not SQLAlchemy's wrappers: nothing in the hot path catches
either; a connection that died fails the unit of work, which rolls back, and the pool discards
the connection when its reset fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Dialect, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str | None
    """The statement's SQL for psycopg, or None: run it through the session."""
    defaults: Mapping[str, Any]
    """Values of bind parameters the statement carries itself (not passed by the caller)."""
    processors: Mapping[str, Callable[[Any], Any]]


_plans: dict[tuple[int, str, frozenset[str]], tuple[Executable, _Plan]] = {}
_plans_lock = threading.Lock()
PLANS_MAX = 1_000
"""More plans than this means statements are being built per call instead of once."""
TUPLES_OK = ExecStatus.TUPLES_OK
IDLE = TransactionStatus.IDLE


def _plan(statement: Executable, dialect: Dialect, names: frozenset[str]) -> _Plan:
    key = (id(statement), dialect.name, names)
    found = _plans.get(key)
    if found is not None and found[0] is statement:
        return found[1]
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=sorted(names))
    assert isinstance(compiled, SQLCompiler)
    exact = (
        dialect.name == "postgresql"
        and dialect.driver == "psycopg"
        and not getattr(compiled, "insert_prefetch", None)
        and not getattr(compiled, "update_prefetch", None)
        and not compiled.escaped_bind_names
        and not any(
            column.type._cached_result_processor(dialect, None) is not None
            for column in compiled._result_columns
        )
    )
    defaults = {
        name: bind.effective_value
        for bind, name in compiled.bind_names.items()
        if name not in names and not bind.required
    }
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, processor in compiled._bind_processors.items():
        if not callable(processor):  # a tuple's per-element processors: not on this path
            exact = False
        elif isinstance(name, str):
            processors[name] = processor
    plan = _Plan(sql=compiled.string if exact else None, defaults=defaults, processors=processors)
    with _plans_lock:
        assert len(_plans) < PLANS_MAX, "fastpath.rows takes statements built once, not per call"
        # The statement is kept with its plan, so its id is never reused for another one.
        _plans[key] = (statement, plan)
    return plan


def rows(session: Session, statement: Executable, params: Mapping[str, Any]) -> list[Any]:
    """The rows of prebuilt ``statement`` run with ``params`` in ``session``'s transaction
    (an empty list for statements that return none)."""
    dialect = session.get_bind().dialect
    plan = _plan(statement, dialect, frozenset(params))
    if plan.sql is None:
        result: Any = session.execute(statement, params)  # a CursorResult
        return list(result) if result.returns_rows else []
    values = {**plan.defaults, **params} if plan.defaults else dict(params)
    for name, processor in plan.processors.items():
        if name in values:
            values[name] = processor(values[name])
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor(row_factory=namedtuple_row) as cursor:
        # A list parameter is an array (``= ANY(...)``): never prepared, so planned for its
        # values each time (see ``store.db`` on generic plans).
        arrays = any(isinstance(value, list) for value in values.values())
        if raw.info.transaction_status == IDLE:
            # The transaction's first statement: in a pipeline psycopg sends its BEGIN along
            # with it, one round trip instead of two.
            with raw.pipeline():
                cursor.execute(plan.sql, values, prepare=False if arrays else None)
        else:
            cursor.execute(plan.sql, values, prepare=False if arrays else None)
        # The result's status, not ``cursor.description``: that builds a column object (with a
        # type lookup) per column, about a tenth of the order flow's client CPU in a profile.
        result = cursor.pgresult
        return cursor.fetchall() if result is not None and result.status == TUPLES_OK else []


@cache
def _insert_or_ignore_statement(dialect: str, table: Any) -> Executable:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    # RETURNING rather than rowcount: through a Session, PostgreSQL reports rowcount -1 here.
    statement: Executable = module.insert(table).on_conflict_do_nothing().returning(key)
    return statement


def insert_or_ignore(session: Session, table: Any, values: Mapping[str, Any]) -> bool:
    """INSERT ``values`` into ``table``, doing nothing on a key clash; True when the row was
    written (the statement is built once per dialect and table).

    ``ON CONFLICT DO NOTHING`` rather than catching the violation: on PostgreSQL a failed
    statement would abort the caller's whole transaction, and a clash with a row another
    transaction has written but not yet committed waits for that transaction, which is what makes
    concurrent duplicates queue behind the first one.
    """
    statement = _insert_or_ignore_statement(session.get_bind().dialect.name, table)
    return bool(rows(session, statement, values))
