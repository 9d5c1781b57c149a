"""Orders over HTTP: every path of the state machine (manual and automatic), the quote, the
escrow moves, history, listing one's orders, idempotency and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from live_server import Live, idem
from order_helpers import act, count, deal, fees, order, place, problem, tick, without_nagle


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


def test_place_ship_confirm_pays_the_seller_minus_the_fee(live: Live) -> None:
    d = deal(live, price=1_999, quantity=2)
    placed = d.order
    assert placed["state"] == "funded"
    assert placed["quote"] == {
        "lines": [
            {
                "kind": "item",
                "description": "A teapot",
                "unit_price": {"value": 1_999, "currency": "EUR"},
                "quantity": 2,
                "amount": {"value": 3_998, "currency": "EUR"},
            }
        ],
        "total": {"value": 3_998, "currency": "EUR"},
    }
    assert live.balance(d.buyer) == (10_000 - 3_998, 3_998)
    shipped = act(live, d.seller, f"/v1/orders/{d.order_id}/ship", {"tracking": "TRK-1"}, key=False)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["state"] == "shipped" and shipped.json()["tracking"] == "TRK-1"
    confirmed = act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["state"] == "completed"
    # 5 % of 3998 is 199.9: the fee rounds down to 199, the seller keeps 3799.
    assert body["paid_to_seller"]["value"] == 3_799 and body["fee"]["value"] == 199
    assert live.balance(d.buyer) == (10_000 - 3_998, 0)
    assert live.balance(d.seller) == (3_799, 0)
    assert fees(live) == 199
    history = order(live, d.buyer, d.order_id)["history"]
    assert [(h["from_state"], h["to_state"], h["actor"]) for h in history] == [
        (None, "funded", d.buyer.id),
        ("funded", "shipped", d.seller.id),
        ("shipped", "completed", d.buyer.id),
    ]
    assert all(h["reason"] and h["at"] for h in history)


def test_the_buyer_or_the_seller_cancels_before_shipping(live: Live) -> None:
    d = deal(live, stock=5, quantity=2)
    cancelled = act(live, d.buyer, f"/v1/orders/{d.order_id}/cancel", {"reason": "changed mind"})
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["history"][-1]["reason"] == "changed mind"
    assert live.balance(d.buyer) == (10_000, 0)
    assert live.client.get(f"/v1/listings/{d.listing['id']}").json()["stock"] == 5
    second = place(live, d.buyer, d.listing["id"])
    by_seller = act(live, d.seller, f"/v1/orders/{second.json()['id']}/cancel")
    assert by_seller.json()["state"] == "cancelled"
    problem(act(live, d.seller, f"/v1/orders/{d.order_id}/cancel"), 409, "order_not_in_state")


def test_cancel_after_shipping_is_refused(live: Live) -> None:
    d = deal(live)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/cancel"), 409, "order_not_in_state")
    assert live.balance(d.buyer) == (10_000 - 1_999, 1_999)


def test_a_full_refund_voids_the_hold_before_or_after_shipping(live: Live) -> None:
    d = deal(live, stock=3)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    refunded = act(live, d.seller, f"/v1/orders/{d.order_id}/refund", {"reason": "out of stock"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["state"] == "cancelled"
    assert refunded.json()["refunded"]["value"] == 1_999
    assert live.balance(d.buyer) == (10_000, 0)
    assert live.balance(d.seller) == (0, 0)
    assert live.client.get(f"/v1/listings/{d.listing['id']}").json()["stock"] == 3


def test_a_partial_refund_settles_the_rest_to_the_seller(live: Live) -> None:
    d = deal(live, price=2_000)
    refunded = act(
        live,
        d.seller,
        f"/v1/orders/{d.order_id}/refund",
        {"amount": {"value": 500, "currency": "EUR"}},
    )
    body = refunded.json()
    assert body["state"] == "completed"
    assert (body["refunded"]["value"], body["paid_to_seller"]["value"], body["fee"]["value"]) == (
        500,
        1_425,
        75,
    )
    assert live.balance(d.buyer) == (10_000 - 1_500, 0)
    assert live.balance(d.seller) == (1_425, 0)
    problem(act(live, d.seller, f"/v1/orders/{d.order_id}/refund"), 409, "order_not_in_state")


def test_a_refund_above_the_total_is_refused_and_changes_nothing(live: Live) -> None:
    d = deal(live, price=1_000)
    journal = count(live, "ledger_journal")
    too_much = act(
        live,
        d.seller,
        f"/v1/orders/{d.order_id}/refund",
        {"amount": {"value": 1_001, "currency": "EUR"}},
    )
    problem(too_much, 422, "refund_exceeds_order_total")
    problem(
        act(
            live,
            d.seller,
            f"/v1/orders/{d.order_id}/refund",
            {"amount": {"value": 10.5, "currency": "EUR"}},
        ),
        422,
    )
    assert count(live, "ledger_journal") == journal
    assert order(live, d.buyer, d.order_id)["state"] == "funded"


def test_an_order_not_shipped_in_time_is_cancelled_automatically(live: Live) -> None:
    d = deal(live, stock=2)
    live.clock.advance(live.settings.ship_window - timedelta(seconds=1))
    assert tick(live)["auto_cancelled"] == 0
    live.clock.advance(timedelta(seconds=1))
    assert tick(live)["auto_cancelled"] == 1
    after = order(live, d.buyer, d.order_id)
    assert after["state"] == "cancelled"
    assert after["history"][-1]["actor"] == "system"
    assert after["history"][-1]["action"] == "auto_cancel"
    assert live.balance(d.buyer) == (10_000, 0)
    assert live.client.get(f"/v1/listings/{d.listing['id']}").json()["stock"] == 2


def test_a_shipped_order_neither_confirmed_nor_disputed_is_released_automatically(
    live: Live,
) -> None:
    d = deal(live)
    shipped = act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False).json()
    # The hold expires long after every deadline, so the scheduler always settles first.
    assert shipped["hold_expires_at"] > shipped["release_by"] > shipped["shipped_at"]
    live.clock.advance(live.settings.release_window)
    counts = tick(live)
    assert counts["auto_released"] == 1
    after = order(live, d.seller, d.order_id)
    assert after["state"] == "auto-released"
    assert after["history"][-1]["actor"] == "system"
    assert live.balance(d.seller) == (1_900, 0)
    assert live.balance(d.buyer) == (10_000 - 1_999, 0)
    assert counts["ledger_holds_expired"] == 0
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm"), 409, "order_not_in_state")


def test_short_windows_from_settings_drive_the_timeouts(live_factory: object) -> None:
    live: Live = live_factory(ship_window="2s", release_window="3s")  # type: ignore[operator]
    d = deal(live)
    assert order(live, d.buyer, d.order_id)["ship_by"] is not None
    live.clock.advance(timedelta(seconds=2))
    assert tick(live)["auto_cancelled"] == 1


def test_each_account_lists_only_its_own_orders(live: Live) -> None:
    first = deal(live)
    second = deal(live, seller=first.seller)
    third = deal(live)
    mine = live.client.get("/v1/orders", headers=first.buyer.headers).json()
    assert [o["id"] for o in mine["items"]] == [first.order_id]
    sold = live.client.get("/v1/orders", headers=first.seller.headers).json()
    assert {o["id"] for o in sold["items"]} == {first.order_id, second.order_id}
    assert third.order_id not in {o["id"] for o in sold["items"]}
    paged = live.client.get("/v1/orders", params={"limit": 1}, headers=first.seller.headers).json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    rest = live.client.get(
        "/v1/orders",
        params={"limit": 1, "cursor": paged["next_cursor"]},
        headers=first.seller.headers,
    ).json()
    assert {paged["items"][0]["id"], rest["items"][0]["id"]} == {first.order_id, second.order_id}
    funded = live.client.get(
        "/v1/orders", params={"state": "completed"}, headers=first.seller.headers
    ).json()
    assert funded["items"] == []


def test_the_same_order_request_retried_ten_times_makes_one_order_and_one_hold(
    live: Live,
) -> None:
    buyer, seller = live.buyer(), live.seller()
    live.deposit(buyer, 10_000)
    listing = live.listing(seller, stock=5)
    journal = count(live, "ledger_journal")
    answers = [place(live, buyer, listing["id"], 2, key="order-once") for _ in range(10)]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert all(a.headers.get("Idempotent-Replayed") == "true" for a in answers[1:])
    assert count(live, "orders") == 1
    assert count(live, "ledger_journal") == journal + 1
    assert live.balance(buyer) == (10_000 - 3_998, 3_998)
    assert live.client.get(f"/v1/listings/{listing['id']}").json()["stock"] == 3
    reused = place(live, buyer, listing["id"], 1, key="order-once")
    problem(reused, 409, "idempotency_key_reused")


def test_money_moving_posts_require_an_idempotency_key(live: Live) -> None:
    d = deal(live)
    no_key = live.client.post(
        "/v1/orders", json={"listing_id": d.listing["id"], "quantity": 1}, headers=d.buyer.headers
    )
    problem(no_key, 422)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm", key=False), 422)
    assert order(live, d.buyer, d.order_id)["state"] == "shipped"


def test_bad_order_requests_are_problems_and_write_nothing(live: Live) -> None:
    buyer, seller = live.buyer(), live.seller()
    live.deposit(buyer, 10_000)
    listing = live.listing(seller, stock=5)
    journal = count(live, "ledger_journal")
    headers = {**buyer.headers, **idem()}
    bad_bodies: list[object] = [
        {"listing_id": listing["id"], "quantity": 1.0},
        {"listing_id": listing["id"], "quantity": 1.5},
        {"listing_id": listing["id"], "quantity": "1"},
        {"listing_id": listing["id"], "quantity": 0},
        {"listing_id": listing["id"], "quantity": -3},
        {"listing_id": listing["id"], "quantity": 10**30},
        {"listing_id": listing["id"], "quantity": True},
        {"listing_id": listing["id"]},
        {"listing_id": listing["id"], "quantity": 1, "price": {"value": 1, "currency": "EUR"}},
        {"listing_id": "x" * 500, "quantity": 1},
        [],
        "order",
    ]
    for body in bad_bodies:
        response = live.client.post("/v1/orders", json=body, headers={**headers, **idem()})
        problem(response, 422)
    problem(place(live, buyer, "lst_unknown"), 404, "listing_not_found")
    problem(place(live, buyer, listing["id"], 6), 409, "insufficient_stock")
    malformed = live.client.post(
        "/v1/orders",
        content=b'{"listing_id": ',
        headers={**headers, **idem(), "Content-Type": "application/json"},
    )
    assert 400 <= malformed.status_code < 500
    assert malformed.headers["content-type"].startswith("application/problem+json")
    not_utf8 = live.client.post(
        "/v1/orders",
        content=b'{"listing_id": "\xff\xfe", "quantity": 1}',
        headers={**headers, **idem(), "Content-Type": "application/json"},
    )
    assert 400 <= not_utf8.status_code < 500
    assert count(live, "orders") == 0
    assert count(live, "ledger_journal") == journal
    assert live.client.get(f"/v1/listings/{listing['id']}").json()["stock"] == 5


def test_an_order_the_buyer_cannot_pay_is_refused_and_reserves_nothing(live: Live) -> None:
    buyer, seller = live.buyer(), live.seller()
    live.deposit(buyer, 1_000)
    listing = live.listing(seller, price=1_999, stock=5)
    problem(place(live, buyer, listing["id"]), 422, "exceeds_available_balance")
    assert count(live, "orders") == 0
    assert live.client.get(f"/v1/listings/{listing['id']}").json()["stock"] == 5


def test_unknown_orders_and_over_long_text_are_problems(live: Live) -> None:
    d = deal(live)
    problem(live.client.get("/v1/orders/ord_nope", headers=d.buyer.headers), 404, "order_not_found")
    problem(act(live, d.buyer, "/v1/orders/ord_nope/confirm"), 404, "order_not_found")
    problem(
        act(live, d.seller, f"/v1/orders/{d.order_id}/ship", {"tracking": "x" * 501}, key=False),
        422,
    )
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/cancel", {"reason": "x" * 2_001}), 422)
    problem(
        act(live, d.seller, f"/v1/orders/{d.order_id}/ship", {"tracking": "a\x00b"}, key=False),
        422,
        "tracking_has_control_characters",
    )
    problem(act(live, d.buyer, f"/v1/orders/{d.order_id}/cancel", {"reason": "\x00"}), 422)
    problem(live.client.get("/v1/orders/ord%00x", headers=d.buyer.headers), 422)
    problem(place(live, d.buyer, "lst\x00"), 422)
    problem(
        live.client.get("/v1/orders", params={"cursor": "djE6AA"}, headers=d.buyer.headers),
        422,
        "cursor_invalid",
    )
    assert order(live, d.buyer, d.order_id)["state"] == "funded"


def test_a_seller_cannot_buy_their_own_listing(live: Live) -> None:
    both = live.signup(roles=("buyer", "seller"))
    live.deposit(both, 10_000)
    listing = live.listing(both)
    problem(place(live, both, listing["id"]), 422, "cannot_buy_own_listing")
