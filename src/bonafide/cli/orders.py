"""CLI command ``bonafide tick``: apply the order flow's due timeouts once (contract).

Owns: running ``service.scheduler.tick`` a single time and printing what it did, as one JSON
object on stdout (``{"auto_cancelled": 0, "auto_released": 1, ...}``). The scheduler thread of
``bonafide serve`` does the same work on a timer. Imports: ``bonafide.bootstrap``,
``bonafide.service.scheduler``, ``bonafide.settings`` and typer; never ``bonafide.store`` or
SQLAlchemy.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bonafide.bootstrap import connect
from bonafide.cli.app import app
from bonafide.service import scheduler
from bonafide.settings import Settings

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: BONAFIDE_DATABASE_URL or var/bonafide.db)."),
]


@app.command("tick")
def tick(db: DbOption = None) -> None:
    """Apply every due timeout once: auto-cancel, auto-release, expired holds, review reveals.

    Prints one JSON object with how many of each happened; exits 0 (a ``failed`` count above
    zero means some orders stay due for the next tick).
    """
    container = connect(Settings(database_url=db) if db else Settings())
    try:
        counts = scheduler.tick(
            container.uow, settings=container.settings, now=container.clock.now()
        )
    finally:
        container.close()
    typer.echo(json.dumps(counts, sort_keys=True))
