"""CLI command ``bonafide demo``: seed a fresh demo market and serve it.

Owns: the demo's database file (recreated on every run), the progress bar while seeding, and the
summary printed at the end (address, one login per role, who the attackers are). Imports:
``bonafide.bootstrap``, ``bonafide.clock``, ``bonafide.service`` (``demo``, ``trust``),
``bonafide.settings``, ``bonafide.cli.market`` (``serve``), typer and rich; never
``bonafide.store`` or SQLAlchemy.

Seeding replays simulated months on a ``ManualClock`` that ends at the real time now, then the
server runs on the system clock, so the scheduler carries on from where the replay stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from bonafide.bootstrap import connect
from bonafide.cli.app import app
from bonafide.clock import ManualClock, SystemClock
from bonafide.service import demo as demo_service
from bonafide.service import trust as trust_service
from bonafide.settings import Settings

DEFAULT_DB = "sqlite:///var/demo.db"
CAST = (
    ("sock_master", "boosts itself through buyer accounts sharing its device fingerprint"),
    ("sock", "those linked buyer accounts"),
    ("hired", "reviewers for hire"),
    ("hired_client", "sellers who bought those reviews"),
    ("ring", "a ring of sellers buying from and reviewing one another"),
    ("scammer", "takes orders and never ships"),
    ("disputer", "disputes every order"),
)


def _fresh_sqlite(url: str) -> None:
    """Delete a SQLite demo file (and its WAL files) so every run starts from nothing."""
    prefix = "sqlite:///"
    database = url[len(prefix):].split("?", 1)[0] if url.startswith(prefix) else ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@app.command("demo")
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only; do not serve.")] = False,
    db: Annotated[str, typer.Option("--db", help="Database URL (a SQLite file is recreated).")]
    = DEFAULT_DB,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the simulation.")] = 6,
    size: Annotated[str, typer.Option("--size", help="full or small.")] = "full",
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Seed a simulated market (honest trade plus attacks) and serve it with the web interface."""
    if size not in demo_service.SIZES:
        raise typer.BadParameter(f"size must be one of {', '.join(demo_service.SIZES)}")
    console = Console(stderr=True)
    started = time.monotonic()
    _fresh_sqlite(db)
    now = SystemClock().now()
    clock = ManualClock(now)
    container = connect(Settings(database_url=db), clock=clock, migrate=True)
    try:
        with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=False) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done, total=total)

            result = demo_service.seed_demo(container.uow,
                                            read_uow=lambda: container.uow(read_only=True),
                                            settings=container.settings,
                                            clock=clock, end=now, size=size, seed=seed,
                                            progress=progress)
        report = trust_service.trust_report(container.uow(read_only=True), now=now)
    finally:
        container.close()
    _summary(console, result, report, host=host, port=port, db=db,
             seconds=time.monotonic() - started, serving=not no_serve)
    if not no_serve:
        from bonafide.cli.market import serve

        serve(host=host, port=port, db=db)


def _summary(console: Console, result: demo_service.DemoResult,
             report: trust_service.TrustReport, *, host: str, port: int, db: str,
             seconds: float, serving: bool) -> None:
    counts = result.counts
    console.print(
        f"[bold]Demo market seeded[/] in {seconds:.1f} s ({db}): "
        f"{counts.get('place', 0)} orders, {counts.get('review', 0)} reviews, "
        f"{counts.get('dispute', 0)} disputes, {counts.get('thread', 0)} conversations; "
        f"the fraud engine flags {len(report.flagged)} accounts."
    )
    # Keys are printed whole, one per line, so they can be copied (a table would wrap them).
    console.print("[bold]Demo logins[/] (API keys; or use the demo login buttons on /signin):")
    for role, login in result.logins.items():
        typer.echo(f"  {role:<9} {login.handle:<22} {login.api_key}")
    cast = Table(title="Who is who (the simulator's ground truth)")
    cast.add_column("kind")
    cast.add_column("accounts")
    for kind, what in CAST:
        handles = result.cast.get(kind, [])
        if handles:
            shown = ", ".join(handles[:6]) + (f" and {len(handles) - 6} more"
                                              if len(handles) > 6 else "")
            cast.add_row(f"{kind}: {what}", shown)
    console.print(cast)
    if serving:
        typer.echo(f"Serving the demo market at http://{host}:{port}  "
                   "(sign in with a key above, or use the demo login buttons)")
