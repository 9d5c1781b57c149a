"""The unit of work: one database transaction, committed only when the use case says so.

``service/`` functions own it::

    with uow:
        book = uow.repo(LedgerRepository)
        ...
        uow.commit()

Leaving the block without ``commit()`` (or through an exception) rolls everything back, so a
use case never half-writes. (A read-only unit of work on PostgreSQL that leaves without an
exception commits instead: it cannot have written, see ``__exit__``.) ``repo(cls)`` builds a
repository on this transaction's session once and caches it, so table modules can be added
without editing this file.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bonafide.store.db import is_sqlite


class Repository(Protocol):
    def __init__(self, session: Session) -> None: ...


R = TypeVar("R", bound=Repository)

# One session factory per (engine, read-only): ``sessionmaker`` builds a new Session subclass
# each time it is made, which cost a class creation and event set-up on every unit of work. The
# factories hang off the engine itself (a factory binds its engine, so a cache keyed weakly by the
# engine would keep every engine alive; this way they are collected together).
_FACTORIES_ATTRIBUTE = "_bonafide_session_factories"
_factories_lock = threading.Lock()


def _factory(engine: Engine, *, read_only: bool) -> sessionmaker[Session]:
    with _factories_lock:
        per_engine: dict[bool, sessionmaker[Session]] | None = getattr(
            engine, _FACTORIES_ATTRIBUTE, None
        )
        if per_engine is None:
            per_engine = {}
            setattr(engine, _FACTORIES_ATTRIBUTE, per_engine)
        found = per_engine.get(read_only)
        if found is None:
            bind = engine
            if read_only:
                # SQLite: a reader takes no write lock. PostgreSQL: ``BEGIN ... READ ONLY``, so
                # the server refuses a write, and ``__exit__`` may end the transaction with a
                # commit (see there).
                bind = engine.execution_options(
                    **({"sqlite_begin": "DEFERRED"} if is_sqlite(str(engine.url))
                       else {"postgresql_readonly": True})
                )
            found = per_engine[read_only] = sessionmaker(
                bind=bind, expire_on_commit=False, autoflush=False
            )
        return found


class UnitOfWork:
    """One transaction on ``engine``; reusable, but not re-entrant or shared between threads."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        self._factory = _factory(engine, read_only=read_only)
        self._session: Session | None = None
        self._repos: dict[type[object], object] = {}
        self.committed = False

    @property
    def session(self) -> Session:
        assert self._session is not None, "use the unit of work inside `with uow:`"
        return self._session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def repo(self, cls: type[R]) -> R:
        found = self._repos.get(cls)
        if found is None:
            found = cls(self.session)
            self._repos[cls] = found
        assert isinstance(found, cls)
        return found

    def __enter__(self) -> UnitOfWork:
        assert self._session is None, "a unit of work is not re-entrant"
        self._session = self._factory()
        self._repos = {}
        self.committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self.committed:
                if self.read_only and exc_type is None and self.dialect == "postgresql":
                    # A read-only transaction (BEGIN READ ONLY: the server refuses writes) that
                    # went well ends the same whichever way; a commit keeps psycopg's prepared
                    # statements, which it drops on every rollback (for a connection that served
                    # a read, its next ~5 uses of every statement would be parsed afresh).
                    session.commit()
                else:
                    session.rollback()
        finally:
            session.close()
            self._session = None
            self._repos = {}

    def commit(self) -> None:
        assert not self.read_only, "a read-only unit of work cannot commit changes"
        self.session.commit()
        self.committed = True
        # Repositories that remember what is now committed (the ledger's account ids) learn it
        # only here, after the commit: never for a transaction that rolled back.
        for repo in self._repos.values():
            after_commit = getattr(repo, "after_commit", None)
            if after_commit is not None:
                after_commit()

    def rollback(self) -> None:
        self.session.rollback()
