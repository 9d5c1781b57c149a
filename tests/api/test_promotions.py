"""Promotions over HTTP: creating them (authorization matrix), bad input as problem+json, the
operator's budget, quotes that explain themselves, and points."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from live_server import START, Live, Member, idem
from order_helpers import without_nagle


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


def offer(listing_id: str | None, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "offer",
        "name": "January sale",
        "starts_at": START.isoformat(),
        "ends_at": "2026-01-12T09:00:00+00:00",
        "listing_id": listing_id,
        "basis_points": 1000,
        **changes,
    }


def create(live: Live, who: Member | None, body: dict[str, Any]) -> httpx.Response:
    return live.client.post(
        "/v1/promotions", json=body, headers=who.headers if who is not None else {}
    )


def quote(live: Live, buyer: Member, listing_id: str, **extra: Any) -> httpx.Response:
    return live.client.post(
        "/v1/quotes",
        json={"listing_id": listing_id, "quantity": 1, **extra},
        headers=buyer.headers,
    )


def test_promotions_follow_the_authorization_matrix(live: Live) -> None:
    seller, other, buyer = live.seller(), live.seller(), live.buyer()
    listing = live.listing(seller)
    assert create(live, None, offer(listing["id"])).status_code == 401
    refused = create(live, buyer, offer(listing["id"]))
    assert refused.status_code == 403 and refused.json()["code"] == "role_required"
    not_theirs = create(live, other, offer(listing["id"]))
    assert not_theirs.status_code == 403
    assert not_theirs.json()["code"] == "sellers_promote_their_own_listings"
    made = create(live, seller, offer(listing["id"]))
    assert made.status_code == 201, made.text
    assert made.json()["funder"] == "seller" and made.json()["seller_id"] == seller.id
    operator_made = create(live, live.operator, offer(None, name="Market week"))
    assert operator_made.status_code == 201 and operator_made.json()["funder"] == "operator"
    pid = made.json()["id"]
    assert live.client.get(f"/v1/promotions/{pid}").json()["used"] == 0
    listed = live.client.get("/v1/promotions", params={"seller_id": seller.id}).json()
    assert [p["id"] for p in listed["items"]] == [pid]
    off = live.client.patch(f"/v1/promotions/{pid}", json={"active": False}, headers=other.headers)
    assert off.status_code == 403
    off = live.client.patch(f"/v1/promotions/{pid}", json={"active": False}, headers=seller.headers)
    assert off.status_code == 200 and off.json()["active"] is False


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"basis_points": 15_000}, "discount_percent_out_of_range"),
        ({"ends_at": "2026-01-01T00:00:00+00:00"}, "promotion_window_inverted"),
        (
            {"starts_at": "2026-01-06T00:00:00", "time_zone": "Atlantis/Lost"},
            "unknown_time_zone",
        ),
        (
            {"basis_points": None, "amount_off": {"value": -100, "currency": "EUR"}},
            "discount_amount_must_be_positive",
        ),
        (
            {
                "kind": "quantity_tiers",
                "basis_points": None,
                "tiers": [{"quantity_min": 3, "unit_price": {"value": -1, "currency": "EUR"}}],
            },
            "price_must_be_positive",
        ),
    ],
)
def test_bad_promotions_are_422_problems(live: Live, changes: dict[str, Any], code: str) -> None:
    seller = live.seller()
    listing = live.listing(seller)
    response = create(live, seller, offer(listing["id"], **changes))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_a_quote_explains_what_applied_who_funds_it_and_what_did_not(live: Live) -> None:
    seller, buyer = live.seller(), live.buyer()
    listing = live.listing(seller, price=2_000)
    mine = create(live, seller, offer(listing["id"])).json()["id"]
    market = create(live, live.operator, offer(None, name="Market week", basis_points=2000))
    operators = market.json()["id"]
    response = quote(live, buyer, listing["id"])
    assert response.status_code == 201, response.text
    body = response.json()
    # The operator's 20 % cannot be paid from an empty budget: the seller's 10 % applies.
    assert body["total"] == {"value": 1_800, "currency": "EUR"}
    assert [(a["promotion_id"], a["funded_by"]["account"]) for a in body["applied"]] == [
        (mine, f"seller:{seller.id}")
    ]
    assert {(s["promotion_id"], s["code"]) for s in body["not_applied"]} == {
        (operators, "funding_unavailable")
    }
    funded = live.client.post(
        "/v1/promotions/budget",
        json={"amount": {"value": 100_000, "currency": "EUR"}},
        headers={**live.operator.headers, **idem()},
    )
    assert funded.status_code == 201, funded.text
    budget = live.client.get("/v1/promotions/budget/EUR", headers=live.operator.headers)
    assert budget.json()["available"]["value"] == 100_000
    assert live.client.get("/v1/promotions/budget/EUR", headers=seller.headers).status_code == 403
    body = quote(live, buyer, listing["id"]).json()
    assert body["total"]["value"] == 1_600
    assert body["applied"][0]["funded_by"]["account"] == "operator:promotions:EUR"
    assert body["not_applied"][0]["code"] == "better_promotion_applied"


def test_quotes_are_for_buyers_and_points_for_their_owner(live: Live) -> None:
    seller, buyer = live.seller(), live.buyer()
    listing = live.listing(seller)
    assert quote(live, seller, listing["id"]).status_code == 403  # type: ignore[arg-type]
    too_many = quote(live, buyer, listing["id"], points=10)
    assert too_many.status_code == 422 and too_many.json()["code"] == "not_enough_points"
    points = live.client.get(f"/v1/accounts/{buyer.id}/points", headers=buyer.headers)
    assert points.status_code == 200
    assert points.json() == {
        "account_id": buyer.id,
        "balance": 0,
        "earned_last_year": 0,
        "tier": "member",
        "lots": [],
    }
    hidden = live.client.get(f"/v1/accounts/{buyer.id}/points", headers=seller.headers)
    assert hidden.status_code == 404


def test_ordering_a_quote_charges_exactly_its_total_and_a_refund_reverses_it(live: Live) -> None:
    seller, buyer = live.seller(), live.buyer()
    live.deposit(buyer, 10_000)
    listing = live.listing(seller, price=2_000)
    create(live, live.operator, offer(None, name="Market week", basis_points=2000))
    live.client.post(
        "/v1/promotions/budget",
        json={"amount": {"value": 5_000, "currency": "EUR"}},
        headers={**live.operator.headers, **idem()},
    )
    quoted = quote(live, buyer, listing["id"]).json()
    ordered = live.client.post(
        f"/v1/quotes/{quoted['id']}/order", headers={**buyer.headers, **idem()}
    )
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    assert order["total"] == quoted["total"] == {"value": 1_600, "currency": "EUR"}
    assert [line["kind"] for line in order["quote"]["lines"]] == ["item", "promotion"]
    assert live.balance(buyer) == (10_000 - 1_600, 1_600)
    again = live.client.post(
        f"/v1/quotes/{quoted['id']}/order", headers={**buyer.headers, **idem()}
    )
    assert again.status_code == 409 and again.json()["code"] == "quote_already_ordered"
    refunded = live.client.post(
        f"/v1/orders/{order['id']}/refund", json={}, headers={**seller.headers, **idem()}
    )
    assert refunded.status_code == 200, refunded.text
    assert live.balance(buyer) == (10_000, 0)
    budget = live.client.get("/v1/promotions/budget/EUR", headers=live.operator.headers)
    assert budget.json()["available"]["value"] == 5_000
    # The live fixture runs `ledger verify` when the test ends; it must pass.


def test_a_quote_whose_price_changed_is_refused_as_quote_changed(live: Live) -> None:
    seller, buyer = live.seller(), live.buyer()
    live.deposit(buyer, 10_000)
    listing = live.listing(seller, price=2_000)
    pid = create(live, seller, offer(listing["id"])).json()["id"]
    quoted = quote(live, buyer, listing["id"]).json()
    live.client.patch(f"/v1/promotions/{pid}", json={"active": False}, headers=seller.headers)
    refused = live.client.post(
        f"/v1/quotes/{quoted['id']}/order", headers={**buyer.headers, **idem()}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "quote_changed"
    assert refused.headers["content-type"].startswith("application/problem+json")
    stranger = live.buyer()
    hidden = live.client.post(
        f"/v1/quotes/{quoted['id']}/order", headers={**stranger.headers, **idem()}
    )
    assert hidden.status_code == 404 and hidden.json()["code"] == "quote_not_found"


def test_an_operator_promotion_scoped_to_an_unknown_seller_is_404(live: Live) -> None:
    response = create(live, live.operator, offer(None, seller_id="acc_nobody"))
    assert response.status_code == 404 and response.json()["code"] == "seller_not_found"
    listing = create(live, live.operator, offer("lst_nothing"))
    assert listing.status_code == 404 and listing.json()["code"] == "listing_not_found"
