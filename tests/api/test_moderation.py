"""Reports and enforcement over HTTP: the queue, hiding listings and reviews, suspension (open
orders still resolve), one appeal, a decision by another moderator."""

from __future__ import annotations

from typing import Any

import pytest
from live_server import Live, Member
from order_helpers import act, count, deal, order, place, problem, without_nagle


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


def _report(live: Live, who: Member, kind: str, target: str, reason: str = "scam") -> Any:
    return act(
        live,
        who,
        "/v1/reports",
        {"target_kind": kind, "target_id": target, "reason": reason},
        key=False,
    )


def _act(live: Live, moderator: Member, body: dict[str, Any]) -> Any:
    return act(live, moderator, "/v1/moderation/actions", body, key=False)


def test_a_reported_listing_is_hidden_and_can_no_longer_be_ordered(live: Live) -> None:
    seller, reporter = live.seller(), live.buyer()
    listing = live.listing(seller)
    report = _report(live, reporter, "listing", listing["id"], "counterfeit")
    assert report.status_code == 201, report.text
    moderator = live.moderator()
    queue = live.client.get("/v1/reports", params={"state": "open"}, headers=moderator.headers)
    assert [r["id"] for r in queue.json()["items"]] == [report.json()["id"]]
    action = _act(
        live,
        moderator,
        {"kind": "hide_listing", "reason": "counterfeit goods", "report_id": report.json()["id"]},
    )
    assert action.status_code == 201, action.text
    assert action.json()["affected_account_id"] == seller.id
    assert live.client.get(f"/v1/listings/{listing['id']}").status_code == 404
    live.deposit(reporter, 10_000)
    problem(place(live, reporter, listing["id"]), 422, "listing_inactive")
    handled = live.client.get(
        "/v1/reports", params={"state": "actioned"}, headers=moderator.headers
    ).json()["items"]
    assert handled[0]["action_id"] == action.json()["id"]
    problem(
        _act(
            live,
            moderator,
            {"kind": "dismiss_report", "reason": "again", "report_id": report.json()["id"]},
        ),
        409,
        "report_already_handled",
    )


def test_a_hidden_review_leaves_the_public_listing(live: Live) -> None:
    d = deal(live)
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm")
    review = act(
        live,
        d.buyer,
        f"/v1/orders/{d.order_id}/reviews",
        {
            "overall": 1,
            "item_as_described": 1,
            "communication": 1,
            "shipping_speed": 1,
            "text": "abusive words",
        },
        key=False,
    ).json()
    act(live, d.seller, f"/v1/orders/{d.order_id}/reviews", {"overall": 5}, key=False)
    assert len(live.client.get(f"/v1/sellers/{d.seller.id}/reviews").json()["items"]) == 1
    moderator = live.moderator()
    hidden = _act(
        live,
        moderator,
        {
            "kind": "hide_review",
            "reason": "abuse",
            "target_kind": "review",
            "target_id": review["id"],
        },
    )
    assert hidden.status_code == 201, hidden.text
    assert live.client.get(f"/v1/sellers/{d.seller.id}/reviews").json()["items"] == []
    problem(live.client.get(f"/v1/reviews/{review['id']}"), 404)


def test_a_suspended_account_cannot_order_list_or_review_but_its_orders_resolve(
    live: Live,
) -> None:
    both = live.signup(roles=("buyer", "seller"))
    d = deal(live, buyer=both)
    moderator = live.moderator()
    suspended = _act(
        live,
        moderator,
        {
            "kind": "suspend_account",
            "reason": "chargeback fraud",
            "target_kind": "account",
            "target_id": both.id,
        },
    )
    assert suspended.status_code == 201, suspended.text
    problem(place(live, both, d.listing["id"]), 403, "account_suspended")
    problem(
        live.client.post(
            "/v1/listings",
            json={"title": "x", "stock": 1, "price": {"value": 1, "currency": "EUR"}},
            headers=both.headers,
        ),
        403,
        "account_suspended",
    )
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    confirmed = act(live, both, f"/v1/orders/{d.order_id}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "completed"
    problem(
        act(
            live,
            both,
            f"/v1/orders/{d.order_id}/reviews",
            {"overall": 5, "item_as_described": 5, "communication": 5, "shipping_speed": 5},
            key=False,
        ),
        403,
        "account_suspended",
    )
    assert order(live, d.seller, d.order_id)["state"] == "completed"


def test_the_affected_account_appeals_once_and_another_moderator_decides(live: Live) -> None:
    buyer = live.buyer()
    first, second = live.moderator(), live.moderator()
    action = _act(
        live,
        first,
        {
            "kind": "suspend_account",
            "reason": "spam",
            "target_kind": "account",
            "target_id": buyer.id,
        },
    ).json()
    mine = live.client.get("/v1/moderation/actions", headers=buyer.headers).json()["items"]
    assert [a["id"] for a in mine] == [action["id"]]
    problem(
        act(
            live,
            live.buyer(),
            f"/v1/moderation/actions/{action['id']}/appeal",
            {"text": "not me"},
            key=False,
        ),
        403,
        "not_the_affected_account",
    )
    appeal = act(
        live,
        buyer,
        f"/v1/moderation/actions/{action['id']}/appeal",
        {"text": "I am not a spammer"},
        key=False,
    )
    assert appeal.status_code == 201, appeal.text
    problem(
        act(
            live,
            buyer,
            f"/v1/moderation/actions/{action['id']}/appeal",
            {"text": "please"},
            key=False,
        ),
        409,
        "appeal_already_filed",
    )
    queue = live.client.get("/v1/appeals", params={"state": "open"}, headers=second.headers)
    assert [a["id"] for a in queue.json()["items"]] == [appeal.json()["id"]]
    problem(
        act(
            live,
            first,
            f"/v1/appeals/{appeal.json()['id']}/decision",
            {"outcome": "overturned", "reason": "mine"},
            key=False,
        ),
        403,
        "appeal_needs_another_moderator",
    )
    decided = act(
        live,
        second,
        f"/v1/appeals/{appeal.json()['id']}/decision",
        {"outcome": "overturned", "reason": "a false positive"},
        key=False,
    )
    assert decided.status_code == 200 and decided.json()["state"] == "overturned"
    seller = live.seller()
    live.deposit(buyer, 5_000)
    listing = live.listing(seller)
    assert place(live, buyer, listing["id"]).status_code == 201


def test_a_suspended_sellers_listings_take_no_new_orders(live: Live) -> None:
    d = deal(live)
    moderator = live.moderator()
    _act(
        live,
        moderator,
        {
            "kind": "suspend_account",
            "reason": "counterfeits",
            "target_kind": "account",
            "target_id": d.seller.id,
        },
    )
    problem(place(live, d.buyer, d.listing["id"]), 422, "seller_suspended")
    # The order placed before the suspension still runs its course.
    act(live, d.seller, f"/v1/orders/{d.order_id}/ship", key=False)
    assert act(live, d.buyer, f"/v1/orders/{d.order_id}/confirm").status_code == 200
    assert live.balance(d.seller) == (1_900, 0)


def test_bad_reports_and_actions_are_problems_and_write_nothing(live: Live) -> None:
    buyer, moderator = live.buyer(), live.moderator()
    problem(_report(live, buyer, "listing", "lst_nope"), 404, "listing_not_found")
    problem(_report(live, buyer, "account", "acc_nope"), 404, "account_not_found")
    problem(_report(live, buyer, "order", buyer.id), 422)
    problem(_report(live, buyer, "account", buyer.id, "x" * 2_001), 422)
    problem(
        _act(
            live,
            moderator,
            {
                "kind": "suspend_account",
                "reason": "x",
                "target_kind": "listing",
                "target_id": buyer.id,
            },
        ),
        422,
    )
    problem(
        _act(
            live,
            moderator,
            {
                "kind": "suspend_account",
                "reason": "self",
                "target_kind": "account",
                "target_id": moderator.id,
            },
        ),
        403,
        "moderator_is_a_party",
    )
    problem(
        _act(live, moderator, {"kind": "dismiss_report", "reason": "x"}), 422, "report_id_required"
    )
    assert count(live, "reports") == 0 and count(live, "moderation_actions") == 0
