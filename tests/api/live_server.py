"""The live test server and helpers for API tests (imported by ``conftest.py`` and tests).

``start_live(database_url, **settings)`` serves ``create_app(container)`` with uvicorn from a
background thread on a free loopback port; see ``conftest.py`` for the fixtures.
"""


from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn

from bonafide.bootstrap import Container
from bonafide.clock import ManualClock
from bonafide.settings import Settings

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
GENEROUS_LIMITS: dict[str, Any] = {
    "signup_limit_per_minute": 1_000_000,
    "auth_failure_limit_per_minute": 1_000_000,
}

_keys = itertools.count()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def idem(key: str | None = None) -> dict[str, str]:
    """An ``Idempotency-Key`` header; a fresh unique key when none is given."""
    return {"Idempotency-Key": key or f"test-{next(_keys)}-{time.monotonic_ns()}"}


@dataclass(frozen=True)
class Member:
    id: str
    handle: str
    key: str
    roles: tuple[str, ...]

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.key)


@dataclass
class Live:
    url: str
    client: httpx.Client
    container: Container
    clock: ManualClock
    operator: Member
    _handles: Iterator[int] = field(default_factory=itertools.count)

    @property
    def settings(self) -> Settings:
        return self.container.settings

    def unique_handle(self, stem: str = "user") -> str:
        return f"{stem}-{next(self._handles)}"

    def signup(self, handle: str | None = None, roles: tuple[str, ...] = ("buyer",)) -> Member:
        handle = handle or self.unique_handle(roles[0])
        response = self.client.post("/v1/accounts", json={"handle": handle, "roles": list(roles)})
        assert response.status_code == 201, response.text
        body = response.json()
        return Member(id=body["id"], handle=body["handle"], key=body["api_key"], roles=roles)

    def buyer(self, handle: str | None = None) -> Member:
        return self.signup(handle, ("buyer",))

    def seller(self, handle: str | None = None) -> Member:
        return self.signup(handle, ("seller",))

    def moderator(self, handle: str | None = None) -> Member:
        member = self.signup(handle or self.unique_handle("mod"), ("buyer",))
        response = self.client.post(
            f"/v1/accounts/{member.id}/roles",
            json={"role": "moderator"},
            headers=self.operator.headers,
        )
        assert response.status_code == 200, response.text
        return Member(id=member.id, handle=member.handle, key=member.key,
                      roles=(*member.roles, "moderator"))

    def deposit(self, member: Member, value: int, currency: str | None = None) -> dict[str, Any]:
        response = self.client.post(
            "/v1/deposits",
            json={
                "account_id": member.id,
                "amount": {"value": value, "currency": currency or self.settings.currency},
            },
            headers={**self.operator.headers, **idem()},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def balance(self, member: Member, currency: str | None = None) -> tuple[int, int]:
        """``(available, held)`` of ``member`` in ``currency`` (the market's by default)."""
        currency = currency or self.settings.currency
        response = self.client.get(f"/v1/accounts/{member.id}/balance", headers=member.headers)
        assert response.status_code == 200, response.text
        for row in response.json()["balances"]:
            if row["currency"] == currency:
                return row["available"]["value"], row["held"]["value"]
        return 0, 0

    def listing(
        self, seller: Member, *, price: int = 1999, stock: int = 5, title: str = "A teapot"
    ) -> dict[str, Any]:
        response = self.client.post(
            "/v1/listings",
            json={
                "title": title,
                "description": "Cast iron, 1 l.",
                "price": {"value": price, "currency": self.settings.currency},
                "stock": stock,
            },
            headers=seller.headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def _free_socket() -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
    # and without it every response waits ~40 ms for Nagle and delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class Server:
    """uvicorn serving ``app`` from a background thread, stopped on ``stop()``."""

    def __init__(self, app: Any) -> None:
        self.sock = _free_socket()
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, timeout_keep_alive=30
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "the test server died while starting"
            assert time.monotonic() < deadline, "the test server did not start in 20 s"
            time.sleep(0.005)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


