"""CLI commands ``bonafide db upgrade`` and ``bonafide db current``.

Owns: the schema commands. Imports: ``bonafide.service.schema``, ``bonafide.settings``, typer and
rich; never ``bonafide.store`` or SQLAlchemy.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from bonafide.cli.app import app
from bonafide.service.schema import schema_revisions, upgrade_database
from bonafide.settings import Settings

db_app = typer.Typer(help="The database schema: upgrade it, or show its revision.",
                     no_args_is_help=True)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: BONAFIDE_DATABASE_URL or var/bonafide.db)."),
]


def database_url(db: str | None) -> str:
    return db or Settings().database_url


@db_app.command("upgrade")
def upgrade(db: DbOption = None) -> None:
    """Bring the database to the newest schema (creating it if it is a new SQLite file)."""
    result = upgrade_database(database_url(db))
    console = Console()
    if result.current == result.head:
        console.print(f"database already at [bold]{result.head}[/bold]")
    else:
        console.print(f"upgraded {result.current or '(empty)'} → [bold]{result.head}[/bold]")


@db_app.command("current")
def current(db: DbOption = None) -> None:
    """Show the database's schema revision and the newest one; exit 1 when out of date."""
    revisions = schema_revisions(database_url(db))
    Console().print(
        f"current: {revisions.current or '(empty)'}\nhead:    {revisions.head}"
        + ("" if revisions.up_to_date else "\nrun `bonafide db upgrade`")
    )
    if not revisions.up_to_date:
        raise SystemExit(1)
