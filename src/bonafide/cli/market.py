"""CLI commands ``bonafide accounts ...`` and ``bonafide serve`` (contracts, DESIGN.md §8).

Owns: making operators (the only way to get an operator key), granting moderators from the
shell, and running the HTTP server with its scheduler thread. Imports: ``bonafide.bootstrap``,
``bonafide.service``, ``bonafide.settings``, typer and uvicorn; never ``bonafide.store``,
SQLAlchemy or (the layers contract keeps interfaces independent) ``bonafide.api``: ``serve`` names
the app factory to uvicorn as a string, ``bonafide.api.app:from_environment``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Annotated

import typer

from bonafide.bootstrap import Container, connect
from bonafide.cli.app import app
from bonafide.service import accounts as accounts_service
from bonafide.service import scheduler
from bonafide.settings import Settings

API_FACTORY = "bonafide.api.app:from_environment"
# uvicorn's C event loop and HTTP parser (``uvicorn[standard]``), named so that a missing one
# fails at start instead of silently falling back to the pure-Python ones.
LOOP, HTTP = "uvloop", "httptools"
WORKERS_MAX = 64
"""More server processes than this is a typo on a machine of a few cores."""

log = logging.getLogger("bonafide.serve")

accounts_app = typer.Typer(help="Market accounts: operators and moderators.",
                           no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: BONAFIDE_DATABASE_URL or var/bonafide.db)."),
]


def _connect(db: str | None) -> Container:
    return connect(Settings(database_url=db) if db else Settings())


@accounts_app.command("create-operator")
def create_operator(
    handle: Annotated[str, typer.Option("--handle", help="The operator's handle.")] = "operator",
    db: DbOption = None,
) -> None:
    """Make an operator account and print its API key (shown this once) on stdout."""
    container = _connect(db)
    try:
        made = accounts_service.create_operator(
            container.uow(), handle=handle, settings=container.settings,
            now=container.clock.now(),
        )
    finally:
        container.close()
    typer.echo(made.api_key)
    typer.echo(f"operator {made.account.principal.handle} ({made.account.principal.id}); "
               "keep the key: only a hash of it is stored", err=True)


@accounts_app.command("grant-moderator")
def grant_moderator(
    account_id: Annotated[str, typer.Argument(help="The account's id (acc_...).")],
    db: DbOption = None,
) -> None:
    """Give an account the moderator role."""
    container = _connect(db)
    try:
        info = accounts_service.grant_moderator_by_id(
            container.uow(), account_id=account_id, now=container.clock.now()
        )
    finally:
        container.close()
    roles = ",".join(sorted(r.value for r in info.principal.roles))
    typer.echo(f"{info.principal.id} {info.principal.handle} {roles}")


def scheduler_loop(container: Container, stop: threading.Event) -> None:
    """Every ``tick_interval``, apply what is due; log failures and carry on until ``stop``."""
    interval = container.settings.tick_interval.total_seconds()
    while not stop.wait(interval):
        try:
            counts = scheduler.tick(
                container.uow, settings=container.settings, now=container.clock.now()
            )
        except Exception:  # a bug or a database outage must not kill the server's scheduler
            log.exception("scheduler tick failed; retrying in %.1f s", interval)
            continue
        if any(counts.values()):
            log.info("tick: %s", counts)


def run_workers(*, host: str, port: int, workers: int) -> None:
    """What ``uvicorn.run(..., workers=N)`` does, with a listening socket that says it is TCP.

    uvicorn binds it as ``socket(family)``, protocol 0, and asyncio turns ``TCP_NODELAY`` on only
    for connections accepted from a socket whose protocol is TCP; uvicorn writes a response's
    head and body separately, so without it every response waited about 40 ms for a delayed
    ACK (``GET /v1/health``: 48 ms with two workers against 3 ms with one). Wrapping the
    descriptor again reads the protocol back from the kernel; the spawned workers get a copy.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        API_FACTORY, factory=True, host=host, port=port, workers=workers, loop=LOOP,
        http=HTTP, log_level="info"
    )
    bound = config.bind_socket()
    listener = socket.socket(fileno=bound.detach())
    assert listener.proto == socket.IPPROTO_TCP, listener
    listener.set_inheritable(True)
    Multiprocess(config, sockets=[listener]).run()


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOption = None,
    workers: Annotated[
        int,
        typer.Option("--workers", min=1, max=WORKERS_MAX,
                     help="Server processes answering requests (the scheduler runs once)."),
    ] = 1,
) -> None:
    """Run the HTTP API (and, in the same process, the scheduler of due timeouts).

    With ``--workers N`` above 1 uvicorn's supervisor spawns N fresh processes that import the
    app factory; this process only supervises them, so the scheduler thread started here runs
    once for the whole server. Rate-limit buckets are per process (docs/http-api.md).
    """
    import uvicorn

    if db:
        # The app factory reads its settings from the environment, like every BONAFIDE_* option.
        os.environ["BONAFIDE_DATABASE_URL"] = db
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    container = _connect(db)  # also migrates a SQLite database before the server starts
    stop = threading.Event()
    thread = threading.Thread(
        target=scheduler_loop, args=(container, stop), name="bonafide-scheduler", daemon=True
    )
    thread.start()
    try:
        if workers == 1:
            uvicorn.run(API_FACTORY, factory=True, host=host, port=port, loop=LOOP, http=HTTP,
                        log_level="info")
        else:
            run_workers(host=host, port=port, workers=workers)
    finally:
        stop.set()
        thread.join(timeout=10)
        container.close()
