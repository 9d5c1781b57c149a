"""Helpers for the order-flow API tests: a funded order in one call, money-moving POSTs with a
fresh Idempotency-Key, the scheduler run at the server's (manual) time, and row counts.

Each test module using them starts with::

    @pytest.fixture(autouse=True)
    def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
        without_nagle(monkeypatch)
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import httpx
import live_server
import pytest
from live_server import Live, Member, idem
from sqlalchemy import text

from bonafide.service import scheduler


def without_nagle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the test server's socket send small writes at once (``TCP_NODELAY``).

    Without it every loopback request waits ~40 ms for a delayed ACK (uvicorn writes the head
    and the body separately), which made these tests 30 times slower. A local adapter around
    ``live_server._free_socket``, which belongs to the platform's fixtures.
    """
    original = live_server._free_socket

    def fast_socket() -> socket.socket:
        sock = original()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    monkeypatch.setattr(live_server, "_free_socket", fast_socket)


@dataclass(frozen=True)
class Deal:
    buyer: Member
    seller: Member
    listing: dict[str, Any]
    order: dict[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.order["id"])


def place(
    live: Live, buyer: Member, listing_id: str, quantity: int = 1, key: str | None = None
) -> httpx.Response:
    return live.client.post(
        "/v1/orders",
        json={"listing_id": listing_id, "quantity": quantity},
        headers={**buyer.headers, **idem(key)},
    )


def deal(
    live: Live,
    *,
    price: int = 1_999,
    stock: int = 5,
    funds: int = 10_000,
    quantity: int = 1,
    buyer: Member | None = None,
    seller: Member | None = None,
) -> Deal:
    """A buyer with ``funds``, a seller's listing, and a funded order of ``quantity``."""
    buyer = buyer or live.buyer()
    seller = seller or live.seller()
    live.deposit(buyer, funds)
    listing = live.listing(seller, price=price, stock=stock)
    response = place(live, buyer, listing["id"], quantity)
    assert response.status_code == 201, response.text
    return Deal(buyer=buyer, seller=seller, listing=listing, order=response.json())


def act(
    live: Live,
    member: Member | None,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    key: bool = True,
) -> httpx.Response:
    """POST ``path`` as ``member`` (anonymous when None), with a fresh Idempotency-Key."""
    headers: dict[str, str] = {}
    if member is not None:
        headers.update(member.headers)
    if key:
        headers.update(idem())
    return live.client.post(path, json=body, headers=headers)


def order(live: Live, member: Member, order_id: str) -> dict[str, Any]:
    response = live.client.get(f"/v1/orders/{order_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tick(live: Live) -> dict[str, int]:
    """Run the scheduler once at the server's current (manual) time."""
    return scheduler.tick(live.container.uow, settings=live.settings, now=live.clock.now())


def count(live: Live, table: str) -> int:
    with live.container.engine.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def fees(live: Live) -> int:
    with live.container.engine.connect() as c:
        row = c.execute(
            text(
                # The fee account is sharded: its balance is the sum of its shards.
                "SELECT sum(credits_posted - debits_posted) FROM ledger_accounts "
                "WHERE kind = 'fees' AND currency = 'EUR'"
            )
        ).first()
    return 0 if row is None or row[0] is None else int(row[0])


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status`` (and ``code``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body
