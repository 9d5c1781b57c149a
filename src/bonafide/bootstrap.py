"""Composition root: ``connect(settings)`` wires the engine, units of work and the clock.

Owns: the only place where configuration turns into live objects. Interfaces (API, web, CLI) call
``connect`` once and hand the ``Container`` around; nothing is built at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from bonafide.clock import Clock, SystemClock
from bonafide.settings import Settings
from bonafide.store.db import is_sqlite, make_engine
from bonafide.store.migrate import is_current, upgrade
from bonafide.store.uow import UnitOfWork


@dataclass
class Container:
    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, read_only=read_only)

    def close(self) -> None:
        self.engine.dispose()


def connect(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool | None = None,
) -> Container:
    """Open the configured database and return the wired container.

    SQLite databases are upgraded to the newest schema automatically (a demo or a small market
    should just start); a PostgreSQL database must be upgraded explicitly with
    ``bonafide db upgrade`` unless ``migrate=True``, so production schema changes stay deliberate.
    """
    settings = settings or Settings()
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    if migrate is None:
        migrate = is_sqlite(settings.database_url)
    if migrate:
        upgrade(engine)
    elif not is_current(engine):
        from bonafide.errors import Conflict

        raise Conflict(
            "database_schema_out_of_date",
            "run `bonafide db upgrade` to bring the database to the current schema",
        )
    return Container(settings=settings, engine=engine, clock=clock or SystemClock())
