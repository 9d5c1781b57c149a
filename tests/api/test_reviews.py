"""Reviews over HTTP: who may review, the simultaneous reveal, immutability, the seller's reply,
the public paginated listing, and the reputation baseline built from them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from live_server import Live, Member
from order_helpers import Deal, act, count, deal, problem, tick, without_nagle


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


BUYER_REVIEW = {
    "overall": 4,
    "item_as_described": 5,
    "communication": 4,
    "shipping_speed": 3,
    "text": "Good teapot, slow post.",
}


def _completed(live: Live, **kwargs: Any) -> Deal:
    d = deal(live, **kwargs)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    assert act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm").status_code == 200
    return d


def _review(live: Live, who: Member, order_id: str, body: dict[str, Any]) -> Any:
    return act(live, who, f"/v1/orders/{order_id}/reviews", body, key=False)


def _public(live: Live, seller: Member, **params: Any) -> dict[str, Any]:
    response = live.client.get(f"/v1/sellers/{seller.id}/reviews", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_reviews_stay_hidden_until_both_parties_have_reviewed(live: Live) -> None:
    d = _completed(live)
    first = _review(live, d.buyer, d.order_id, BUYER_REVIEW)
    assert first.status_code == 201, first.text
    assert first.json()["revealed"] is False
    assert _public(live, d.seller)["items"] == []
    # The seller cannot peek at the buyer's review before writing their own.
    seen = live.client.get(f"/v1/orders/{d.order_id}/reviews", headers=d.seller.headers).json()
    assert seen == []
    problem(live.client.get(f"/v1/reviews/{first.json()['id']}"), 404)
    second = _review(live, d.seller, d.order_id, {"overall": 5, "text": "Paid fast."})
    assert second.json()["revealed"] is True
    shown = _public(live, d.seller)["items"]
    assert [(r["id"], r["overall"], r["revealed"]) for r in shown] == [
        (first.json()["id"], 4, True)
    ]
    both = live.client.get(f"/v1/orders/{d.order_id}/reviews", headers=d.seller.headers).json()
    assert len(both) == 2


def test_the_window_closing_reveals_a_lone_review_and_ends_reviewing(live: Live) -> None:
    d = _completed(live)
    lone = _review(live, d.buyer, d.order_id, BUYER_REVIEW).json()
    edited = live.client.put(
        f"/v1/reviews/{lone['id']}",
        json={**BUYER_REVIEW, "overall": 2},
        headers=d.buyer.headers,
    )
    assert edited.status_code == 200 and edited.json()["overall"] == 2
    live.clock.advance(live.settings.review_window)
    assert tick(live)["reviews_revealed"] == 1
    assert [r["id"] for r in _public(live, d.seller)["items"]] == [lone["id"]]
    problem(_review(live, d.seller, d.order_id, {"overall": 5}), 409, "review_window_closed")
    problem(
        live.client.put(f"/v1/reviews/{lone['id']}", json=BUYER_REVIEW, headers=d.buyer.headers),
        409,
        "review_is_revealed",
    )
    reply = act(live, d.seller, f"/v1/reviews/{lone['id']}/reply", {"text": "Sorry!"}, key=False)
    assert reply.status_code == 200 and reply.json()["reply"] == "Sorry!"
    problem(
        act(live, d.seller, f"/v1/reviews/{lone['id']}/reply", {"text": "Again"}, key=False),
        409,
        "reply_already_added",
    )
    problem(
        act(live, d.buyer, f"/v1/reviews/{lone['id']}/reply", {"text": "Me too"}, key=False), 403
    )
    assert live.client.get(f"/v1/reviews/{lone['id']}").json()["reply"] == "Sorry!"


def test_only_parties_to_released_orders_review_once(live: Live) -> None:
    d = deal(live)
    problem(_review(live, d.buyer, d.order_id, BUYER_REVIEW), 409, "order_not_in_state")
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm")
    stranger = live.buyer()
    problem(_review(live, stranger, d.order_id, BUYER_REVIEW), 404, "order_not_found")
    assert _review(live, d.buyer, d.order_id, BUYER_REVIEW).status_code == 201
    problem(_review(live, d.buyer, d.order_id, BUYER_REVIEW), 409, "review_already_submitted")
    # A seller rates the buyer overall only; a buyer rates every detail.
    problem(
        _review(live, d.seller, d.order_id, BUYER_REVIEW), 422, "seller_review_rates_overall_only"
    )
    cancelled = deal(live, seller=d.seller)
    act(live, cancelled.buyer, f"/v1/orders/{cancelled.order_id}/cancel")
    problem(
        _review(live, cancelled.buyer, cancelled.order_id, BUYER_REVIEW), 409, "order_not_in_state"
    )
    assert count(live, "reviews") == 1


def test_bad_reviews_are_problems_and_write_nothing(live: Live) -> None:
    d = _completed(live)
    for body in (
        {**BUYER_REVIEW, "overall": 6},
        {**BUYER_REVIEW, "overall": 0},
        {**BUYER_REVIEW, "overall": 4.5},
        {**BUYER_REVIEW, "overall": "5"},
        {**BUYER_REVIEW, "text": "x" * 5_001},
        {**BUYER_REVIEW, "stars": 5},
        {"overall": 5},
    ):
        problem(_review(live, d.buyer, d.order_id, body), 422)
    problem(_review(live, d.buyer, "ord_nope", BUYER_REVIEW), 404)
    assert count(live, "reviews") == 0
    assert (
        _review(live, d.buyer, d.order_id, {**BUYER_REVIEW, "text": "x" * 5_000}).status_code == 201
    )


def test_public_reviews_page_and_feed_the_reputation(live: Live) -> None:
    seller = live.seller()
    buyer = live.buyer()
    stars = [5, 5, 2]
    for overall in stars:
        d = _completed(live, seller=seller, buyer=buyer)
        _review(live, buyer, d.order_id, {**BUYER_REVIEW, "overall": overall})
        _review(live, seller, d.order_id, {"overall": 5})
    disputed = deal(live, seller=seller, buyer=buyer)
    act(live, buyer, f"/v1/orders/{disputed.order_id}/disputes", {"reason": "late"}, key=False)
    act(live, seller, f"/v1/orders/{disputed.order_id}/refund")
    first = _public(live, seller, limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = _public(live, seller, limit=2, cursor=first["next_cursor"])
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    reputation = live.client.get(f"/v1/sellers/{seller.id}/reputation").json()
    assert reputation["verified_reviews"] == 3
    assert reputation["rating"] == pytest.approx((4.0 * 5 + 12) / 8)
    assert reputation["orders_finished"] == 4
    assert reputation["dispute_rate"] == pytest.approx((0.05 * 10 + 1) / 14)
    assert reputation["refund_rate"] == pytest.approx((0.05 * 10 + 1) / 14)
    assert sum(f["effect"] for f in reputation["breakdown"]) == pytest.approx(reputation["score"])
    problem(live.client.get(f"/v1/sellers/{buyer.id}/reputation"), 404, "seller_not_found")
    problem(live.client.get("/v1/sellers/acc_nope/reviews"), 404, "seller_not_found")


def test_auto_released_and_resolved_orders_are_reviewable(live: Live) -> None:
    d = deal(live)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    live.clock.advance(live.settings.release_window + timedelta(seconds=1))
    tick(live)
    assert _review(live, d.buyer, d.order_id, BUYER_REVIEW).status_code == 201
    r = deal(live, seller=d.seller)
    dispute = act(live, r.buyer, f"/v1/orders/{r.order_id}/disputes", {"reason": "x"}, key=False)
    act(
        live,
        live.moderator(),
        f"/v1/disputes/{dispute.json()['id']}/resolve",
        {"refund": {"value": 100, "currency": "EUR"}},
    )
    assert _review(live, r.seller, r.order_id, {"overall": 3}).status_code == 201
