"""Disputes over HTTP: opening, messages, the seller's refund or replacement, a moderator's
decision, the queue, the moderator record, and a dispute nobody resolves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from live_server import Live
from order_helpers import Deal, act, count, deal, fees, order, problem, tick, without_nagle


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


def _dispute(live: Live, d: Deal, reason: str = "it arrived broken") -> dict[str, Any]:
    response = act(
        live,
        d.buyer,
        f"/v1/orders/{d.order_id}/disputes",
        {"reason": reason},
        key=False,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_moderator_resolves_a_dispute_with_a_partial_refund(live: Live) -> None:
    d = deal(live, price=2_000)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    dispute = _dispute(live, d)
    assert dispute["state"] == "open" and dispute["order"]["state"] == "disputed"
    said = act(
        live,
        d.seller,
        f"/v1/disputes/{dispute['id']}/messages",
        {"body": "Please send a photo"},
        key=False,
    )
    assert said.status_code == 201
    act(live, d.buyer, f"/v1/disputes/{dispute['id']}/messages", {"body": "Here"}, key=False)
    moderator = live.moderator()
    read = live.client.get(f"/v1/disputes/{dispute['id']}", headers=moderator.headers).json()
    assert [m["body"] for m in read["messages"]] == ["Please send a photo", "Here"]
    queue = live.client.get(
        "/v1/disputes", params={"state": "open"}, headers=moderator.headers
    ).json()
    assert [item["id"] for item in queue["items"]] == [dispute["id"]]
    live.clock.advance(timedelta(hours=3))
    resolved = act(
        live,
        moderator,
        f"/v1/disputes/{dispute['id']}/resolve",
        {"refund": {"value": 800, "currency": "EUR"}},
    )
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["state"] == "resolved"
    assert (body["refunded"]["value"], body["paid_to_seller"]["value"], body["fee"]["value"]) == (
        800,
        1_140,
        60,
    )
    assert live.balance(d.buyer) == (10_000 - 1_200, 0)
    assert live.balance(d.seller) == (1_140, 0)
    assert fees(live) == 60
    assert body["history"][-1]["actor"] == moderator.id
    assert (
        live.client.get("/v1/disputes", params={"state": "open"}, headers=moderator.headers).json()[
            "items"
        ]
        == []
    )
    record = live.client.get(f"/v1/moderators/{moderator.id}/record", headers=live.operator.headers)
    assert record.json() == {
        "moderator_id": moderator.id,
        "disputes_resolved": 1,
        "median_seconds_to_resolve": 3 * 3600.0,
        "share_refunded": 0.4,
    }
    problem(
        act(
            live,
            moderator,
            f"/v1/disputes/{dispute['id']}/resolve",
            {"refund": {"value": 0, "currency": "EUR"}},
        ),
        409,
    )


@pytest.mark.parametrize(("refund", "seller"), [(0, 1_900), (1_999, 0)])
def test_a_moderator_may_release_all_or_refund_all(live: Live, refund: int, seller: int) -> None:
    d = deal(live)
    dispute = _dispute(live, d)
    moderator = live.moderator()
    resolved = act(
        live,
        moderator,
        f"/v1/disputes/{dispute['id']}/resolve",
        {"refund": {"value": refund, "currency": "EUR"}},
    )
    assert resolved.json()["state"] == "resolved"
    assert live.balance(d.seller) == (seller, 0)
    assert live.balance(d.buyer) == (10_000 - 1_999 + refund, 0)


def test_a_moderator_who_is_a_party_cannot_resolve_and_refunds_stay_within_the_total(
    live: Live,
) -> None:
    moderator = live.moderator()
    d = deal(live, buyer=moderator)
    dispute = _dispute(live, d)
    problem(
        act(
            live,
            moderator,
            f"/v1/disputes/{dispute['id']}/resolve",
            {"refund": {"value": 100, "currency": "EUR"}},
        ),
        403,
        "moderator_is_a_party",
    )
    other = live.moderator()
    journal = count(live, "ledger_journal")
    for bad in (
        {"value": 2_000, "currency": "EUR"},
        {"value": -1, "currency": "EUR"},
        {"value": 10.0, "currency": "EUR"},
        {"value": 10, "currency": "USD"},
    ):
        response = act(live, other, f"/v1/disputes/{dispute['id']}/resolve", {"refund": bad})
        assert response.status_code == 422, (bad, response.text)
    assert count(live, "ledger_journal") == journal
    assert order(live, d.buyer, d.order_id)["state"] == "disputed"


def test_the_seller_answers_a_dispute_with_a_refund(live: Live) -> None:
    d = deal(live)
    dispute = _dispute(live, d)
    refunded = act(
        live,
        d.seller,
        f"/v1/orders/{d.order_id}/refund",
        {"amount": {"value": 999, "currency": "EUR"}},
    )
    assert refunded.json()["state"] == "resolved"
    closed = live.client.get(f"/v1/disputes/{dispute['id']}", headers=d.buyer.headers).json()
    assert (closed["state"], closed["outcome"], closed["refund"]["value"]) == (
        "closed",
        "seller_refund",
        999,
    )
    assert live.balance(d.buyer) == (10_000 - 1_000, 0)


def test_a_replacement_shipment_restarts_the_release_window(live: Live) -> None:
    d = deal(live)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    live.clock.advance(timedelta(days=5))
    dispute = _dispute(live, d, "wrong colour")
    live.clock.advance(timedelta(days=20))  # no timeout runs while disputed
    assert tick(live)["auto_released"] == 0
    replaced = act(
        live, d.seller, f"/v1/disputes/{dispute['id']}/replacement", {"tracking": "TRK-2"}
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["state"] == "shipped" and body["tracking"] == "TRK-2"
    assert body["hold_expires_at"] > body["release_by"]
    assert live.balance(d.buyer) == (10_000 - 1_999, 1_999)
    live.clock.advance(live.settings.release_window - timedelta(seconds=1))
    assert tick(live)["auto_released"] == 0
    live.clock.advance(timedelta(seconds=1))
    assert tick(live)["auto_released"] == 1
    assert order(live, d.buyer, d.order_id)["state"] == "auto-released"
    assert live.balance(d.seller) == (1_900, 0)


def test_a_dispute_nobody_resolves_returns_the_money_to_the_buyer_at_hold_expiry(
    live: Live,
) -> None:
    d = deal(live)
    dispute = _dispute(live, d)
    hold_expires = order(live, d.buyer, d.order_id)["hold_expires_at"]
    assert hold_expires
    live.clock.advance(2 * (live.settings.ship_window + live.settings.release_window))
    counts = tick(live)
    assert counts["holds_expired"] == 1 and counts["failed"] == 0
    after = order(live, d.buyer, d.order_id)
    assert after["state"] == "resolved"
    assert after["history"][-1]["action"] == "hold_expired"
    assert live.balance(d.buyer) == (10_000, 0)
    assert live.balance(d.seller) == (0, 0)
    closed = live.client.get(f"/v1/disputes/{dispute['id']}", headers=d.buyer.headers).json()
    assert closed["outcome"] == "hold_expired"


def test_only_the_buyer_disputes_and_only_before_release(live: Live) -> None:
    d = deal(live)
    problem(
        act(live, d.seller, f"/v1/orders/{d.order_id}/disputes", {"reason": "x"}, key=False), 403
    )
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/disputes", {"reason": ""}, key=False), 422)
    problem(
        act(live, d.buyer, f"/v1/orders/{d.order_id}/disputes", {"reason": "x" * 2_001}, key=False),
        422,
    )
    for raw in (b'{"reason": "a\\ud800b"}', b'{"reason": "a\\u0000b"}'):
        refused = live.client.post(
            f"/v1/orders/{d.order_id}/disputes",
            content=raw,
            headers={**d.buyer.headers, "content-type": "application/json"},
        )
        problem(refused, 422)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm")
    problem(
        act(live, d.buyer, f"/v1/orders/{d.order_id}/disputes", {"reason": "late"}, key=False),
        409,
        "order_not_in_state",
    )
    assert count(live, "disputes") == 0
