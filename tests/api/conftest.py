"""API test fixtures: a real HTTP server per test, on SQLite and on PostgreSQL.

``live`` starts uvicorn in a background thread on a free loopback port, serving
``create_app(container)`` over the ``database_url`` fixture's fresh database, with a
``ManualClock`` in the container (``live.clock.advance(...)`` moves the server's time, for
timeouts) and an operator account ready (``live.operator``). ``live.client`` is an
``httpx.Client`` on it. When the test ends the server stops and ``ledger verify`` must pass.

``live_factory(**settings)`` starts one with other settings (short windows, a seller bond, tight
rate limits); ``live`` is ``live_factory()`` with generous rate limits.

Helpers on ``Live``: ``signup(handle, roles) -> Member``, ``moderator(handle)``,
``deposit(member, value)``, ``balance(member)``, ``listing(seller, ...)``; and ``auth(key)`` /
``Member.headers`` for the Authorization header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import GENEROUS_LIMITS, START, Live, Member, Server

from bonafide.api.app import create_app
from bonafide.bootstrap import Container, connect
from bonafide.clock import ManualClock
from bonafide.service import accounts as accounts_service
from bonafide.service import ledger as ledger_service
from bonafide.settings import Settings


@pytest.fixture
def live_factory(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Live]]:
    """Start servers over the test's database with settings overrides; all stop at the end.

    The market's signing key goes to the test's own folder, never to ``var/`` of the checkout.
    """
    containers: list[Container] = []
    servers: list[tuple[Server, httpx.Client]] = []

    def start(**overrides: Any) -> Live:
        clock = ManualClock(START)
        defaults = {"key_path": tmp_path / "market.key", **GENEROUS_LIMITS}
        settings = Settings(database_url=database_url, **{**defaults, **overrides})
        container = connect(settings, clock=clock, migrate=False)
        containers.append(container)  # closed at the end whatever happens next
        made = accounts_service.create_operator(
            container.uow(), handle=f"operator-{len(containers) - 1}", settings=settings,
            now=clock.now(),
        )
        server = Server(create_app(container))
        url = server.start()
        client = httpx.Client(base_url=url, timeout=60)
        servers.append((server, client))
        operator = Member(
            id=made.account.principal.id,
            handle=made.account.principal.handle,
            key=made.api_key,
            roles=("operator",),
        )
        return Live(url=url, client=client, container=container, clock=clock, operator=operator)

    try:
        yield start
        for server, client in reversed(servers):
            client.close()
            server.stop()
        servers.clear()
        if containers:
            # Every test leaves a sound ledger: chain, zero sum, no negative balances.
            report = ledger_service.verify(containers[0].uow(read_only=True))
            assert report.ok, report.to_json()
    finally:
        for server, client in reversed(servers):
            client.close()
            server.stop()
        for container in containers:
            container.close()


@pytest.fixture
def live(live_factory: Callable[..., Live]) -> Live:
    """A server over a fresh database, generous rate limits, a manual clock and an operator."""
    return live_factory()
