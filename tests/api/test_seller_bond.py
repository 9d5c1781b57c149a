"""The seller bond in the order flow: refunds never need it (each comes out of the order's own
escrow, which holds the whole total until release, and nothing refunds a released order), and
orders released without loss give it back (docs/http-api.md, "The seller bond")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from live_server import Live, Member, idem
from order_helpers import Deal, act, deal, problem, without_nagle

BOND = 5_000
PRICE = 2_000


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


def bonded(live: Live) -> Member:
    """A seller whose bond is placed and whose wallet is then empty (nothing to pay from)."""
    seller = live.seller()
    live.deposit(seller, BOND)
    placed = live.client.post(f"/v1/sellers/{seller.id}/bond", headers={**seller.headers, **idem()})
    assert placed.status_code == 201, placed.text
    assert live.balance(seller) == (0, BOND)
    return seller


def bond(live: Live, seller: Member) -> dict[str, Any]:
    found: dict[str, Any] = live.client.get(
        f"/v1/sellers/{seller.id}/bond", headers=seller.headers
    ).json()
    return found


def shipped(live: Live, seller: Member) -> Deal:
    d = deal(live, price=PRICE, seller=seller, funds=PRICE)
    assert act(live, seller, f"/v1/orders/{d.order_id}/ship", key=False).status_code == 200
    return d


def disputed(live: Live, seller: Member) -> tuple[Deal, str]:
    d = shipped(live, seller)
    opened = act(live, d.buyer, f"/v1/orders/{d.order_id}/disputes", {"reason": "broken"},
                 key=False)
    assert opened.status_code == 201, opened.text
    return d, str(opened.json()["id"])


def test_every_refund_comes_out_of_the_orders_escrow_and_leaves_the_bond_alone(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(seller_bond=BOND, bond_return_orders=100)
    seller, moderator = bonded(live), live.moderator()
    full = shipped(live, seller)
    assert act(live, seller, f"/v1/orders/{full.order_id}/refund").status_code == 200
    partial = shipped(live, seller)
    assert act(live, seller, f"/v1/orders/{partial.order_id}/refund",
               {"amount": {"value": 500, "currency": "EUR"}}).status_code == 200
    cancelled = deal(live, price=PRICE, seller=seller, funds=PRICE)
    assert act(live, cancelled.buyer, f"/v1/orders/{cancelled.order_id}/cancel").status_code == 200
    ruled, dispute_id = disputed(live, seller)
    resolved = act(live, moderator, f"/v1/disputes/{dispute_id}/resolve",
                   {"refund": {"value": PRICE, "currency": "EUR"}})
    assert resolved.status_code == 200, resolved.text
    # Each buyer got back what was refunded; the seller was paid only what the partial refund
    # left (minus the 5 % fee) and paid nothing in: the bond was never drawn.
    assert live.balance(full.buyer) == (PRICE, 0)
    assert live.balance(partial.buyer) == (500, 0)
    assert live.balance(cancelled.buyer) == (PRICE, 0)
    assert live.balance(ruled.buyer) == (PRICE, 0)
    assert live.balance(seller) == (1_500 - 75, BOND)
    found = bond(live, seller)
    assert (found["status"], found["covered"]["value"], found["remaining"]["value"]) == (
        "held", 0, BOND,
    )


def test_a_released_order_cannot_be_refunded_or_disputed(live: Live) -> None:
    d = shipped(live, live.seller())
    assert act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm").status_code == 200
    problem(act(live, d.seller, f"/v1/orders/{d.order_id}/refund"), 409, "order_not_in_state")
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/disputes", {"reason": "late"},
                key=False), 409, "order_not_in_state")


def test_orders_released_without_loss_give_the_bond_back(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(seller_bond=BOND, bond_return_orders=2)
    seller = bonded(live)
    refunded = shipped(live, seller)
    act(live, seller, f"/v1/orders/{refunded.order_id}/refund",
        {"amount": {"value": 100, "currency": "EUR"}})  # released with a loss: does not count
    first = shipped(live, seller)
    assert act(live, first.buyer, f"/v1/orders/{first.order_id}/confirm").status_code == 200
    assert bond(live, seller)["status"] == "held"
    second = shipped(live, seller)
    assert act(live, second.buyer, f"/v1/orders/{second.order_id}/confirm").status_code == 200
    found = bond(live, seller)
    assert (found["status"], found["remaining"]["value"]) == ("returned", BOND)
    paid = (PRICE - 100) - (PRICE - 100) * 5 // 100 + 2 * (PRICE - PRICE * 5 // 100)
    assert live.balance(seller) == (BOND + paid, 0)
