"""Sellers and listings over HTTP: profiles, listings, pagination, deactivation, the bond."""

from __future__ import annotations

from collections.abc import Callable

from live_server import Live, idem
from sqlalchemy import text

from bonafide.market.accounts import AccountStatus
from bonafide.service import accounts as accounts_service
from bonafide.service import listings as listings_service


def _count(live: Live, table: str) -> int:
    with live.container.engine.connect() as c:
        return int(c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_seller_lists_and_anyone_reads_the_listing(live: Live) -> None:
    seller = live.seller()
    made = live.listing(seller, price=1_999, stock=5, title="  A teapot  ")
    assert made["title"] == "A teapot"
    assert made["seller_id"] == seller.id
    assert made["price"] == {"value": 1_999, "currency": "EUR"}
    assert (made["stock"], made["active"], made["hidden"]) == (5, True, False)
    read = live.client.get(f"/v1/listings/{made['id']}")
    assert read.status_code == 200
    assert read.json() == made


def test_buyers_cannot_list(live: Live) -> None:
    buyer = live.buyer()
    response = live.client.post(
        "/v1/listings",
        json={"title": "x", "price": {"value": 1, "currency": "EUR"}, "stock": 1},
        headers=buyer.headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role_required"


def test_listings_page_through_with_an_opaque_cursor_and_filter_by_seller(live: Live) -> None:
    anna, ben = live.seller(), live.seller()
    made = {live.listing(anna, title=f"a{i}")["id"] for i in range(5)}
    made_ben = {live.listing(ben, title=f"b{i}")["id"] for i in range(2)}
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 2, "seller_id": anna.id}
        if cursor:
            params["cursor"] = cursor
        page = live.client.get("/v1/listings", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    everything = live.client.get("/v1/listings", params={"limit": 100}).json()
    assert {item["id"] for item in everything["items"]} == made | made_ben
    assert everything["next_cursor"] is None


def test_page_size_and_cursor_are_bounded(live: Live) -> None:
    for params in ({"limit": 101}, {"limit": 0}, {"limit": -1}, {"limit": "ten"}):
        response = live.client.get("/v1/listings", params=params)
        assert response.status_code == 422, params
    bad = live.client.get("/v1/listings", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "cursor_invalid"


def test_the_seller_changes_price_stock_and_text_others_cannot(live: Live) -> None:
    seller, other = live.seller(), live.seller()
    listing = live.listing(seller)
    changed = live.client.patch(
        f"/v1/listings/{listing['id']}",
        json={"price": {"value": 2_500, "currency": "EUR"}, "stock": 9, "description": "new"},
        headers=seller.headers,
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["price"]["value"], body["stock"], body["description"]) == (2_500, 9, "new")
    assert body["title"] == listing["title"]
    refused = live.client.patch(
        f"/v1/listings/{listing['id']}", json={"stock": 0}, headers=other.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_listing_owner"
    assert live.client.get(f"/v1/listings/{listing['id']}").json()["stock"] == 9


def test_deactivated_listings_stay_readable_and_can_be_reactivated(live: Live) -> None:
    seller = live.seller()
    listing = live.listing(seller)
    off = live.client.post(f"/v1/listings/{listing['id']}/deactivate", headers=seller.headers)
    assert off.status_code == 200 and off.json()["active"] is False
    assert live.client.get(f"/v1/listings/{listing['id']}").json()["active"] is False
    active = live.client.get("/v1/listings", params={"active": True}).json()["items"]
    assert listing["id"] not in {item["id"] for item in active}
    on = live.client.post(f"/v1/listings/{listing['id']}/activate", headers=seller.headers)
    assert on.json()["active"] is True


def test_hidden_listings_are_seen_only_by_their_seller_and_moderators(live: Live) -> None:
    seller, stranger, moderator = live.seller(), live.buyer(), live.moderator()
    listing = live.listing(seller)
    uow = live.container.uow()
    with uow:
        listings_service.set_listing_hidden(
            uow, listing_id=listing["id"], hidden=True, now=live.clock.now()
        )
        uow.commit()
    path = f"/v1/listings/{listing['id']}"
    assert live.client.get(path).status_code == 404
    assert live.client.get(path, headers=stranger.headers).status_code == 404
    assert live.client.get(path, headers=seller.headers).json()["hidden"] is True
    assert live.client.get(path, headers=moderator.headers).status_code == 200
    public = live.client.get("/v1/listings").json()["items"]
    assert listing["id"] not in {item["id"] for item in public}
    for_moderators = live.client.get("/v1/listings", headers=moderator.headers).json()["items"]
    assert listing["id"] in {item["id"] for item in for_moderators}
    for_seller = live.client.get("/v1/listings", headers=seller.headers).json()["items"]
    assert listing["id"] in {item["id"] for item in for_seller}
    for_stranger = live.client.get("/v1/listings", headers=stranger.headers).json()["items"]
    assert listing["id"] not in {item["id"] for item in for_stranger}


def test_a_suspended_seller_cannot_list(live: Live) -> None:
    seller = live.seller()
    uow = live.container.uow()
    with uow:
        accounts_service.set_account_status(
            uow, account_id=seller.id, status=AccountStatus.suspended
        )
        uow.commit()
    assert live.client.get("/v1/me", headers=seller.headers).json()["status"] == "suspended"
    response = live.client.post(
        "/v1/listings",
        json={"title": "x", "price": {"value": 1, "currency": "EUR"}, "stock": 1},
        headers=seller.headers,
    )
    assert response.status_code == 403
    assert response.json()["code"] == "account_suspended"


def test_bad_listings_are_refused_and_nothing_is_written(live: Live) -> None:
    seller = live.seller()
    good = {"title": "Teapot", "price": {"value": 100, "currency": "EUR"}, "stock": 1}
    bad: list[dict[str, object]] = [
        {**good, "title": ""},
        {**good, "title": "   "},
        {**good, "title": "x" * 201},
        {**good, "description": "x" * 10_001},
        {**good, "title": "bell\x07"},
        {**good, "price": {"value": 1.5, "currency": "EUR"}},
        {**good, "price": {"value": 0, "currency": "EUR"}},
        {**good, "price": {"value": 10**13, "currency": "EUR"}},
        {**good, "price": {"value": 100, "currency": "USD"}},
        {**good, "stock": -1},
        {**good, "stock": 1.0},
        {**good, "stock": 10**7},
        {**good, "stock": "5"},
        {**good, "seller_id": "acc_someone"},
        {"title": "Teapot"},
    ]
    for payload in bad:
        response = live.client.post("/v1/listings", json=payload, headers=seller.headers)
        assert response.status_code == 422, (payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert _count(live, "listings") == 0


def test_a_seller_writes_a_profile_anyone_reads_it(live: Live) -> None:
    seller, other = live.seller(), live.seller()
    empty = live.client.get(f"/v1/sellers/{seller.id}/profile").json()
    assert empty["about"] == "" and empty["claims"] == [] and empty["updated_at"] is None
    profile = {
        "about": "Small pottery in Delft.",
        "shipping_policy": "Wrapped in paper, boxed, sent within 2 days by tracked post.",
        "returns_policy": "30 days, buyer pays return shipping.",
        "claims": ["handmade", "lead-free glaze"],
    }
    put = live.client.put(f"/v1/sellers/{seller.id}/profile", json=profile,
                          headers=seller.headers)
    assert put.status_code == 200
    read = live.client.get(f"/v1/sellers/{seller.id}/profile").json()
    assert {k: read[k] for k in profile} == profile
    assert live.client.put(
        f"/v1/sellers/{seller.id}/profile", json=profile, headers=other.headers
    ).status_code == 403
    too_many = {**profile, "claims": ["c"] * 21}
    assert live.client.put(
        f"/v1/sellers/{seller.id}/profile", json=too_many, headers=seller.headers
    ).status_code == 422
    buyer = live.buyer()
    assert live.client.get(f"/v1/sellers/{buyer.id}/profile").status_code == 404
    assert live.client.get("/v1/sellers/acc_nobody/profile").status_code == 404


def test_with_a_bond_configured_a_new_seller_places_it_before_listing(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(seller_bond=5_000)
    seller = live.seller()
    listing = {"title": "Vase", "price": {"value": 900, "currency": "EUR"}, "stock": 1}
    first = live.client.post("/v1/listings", json=listing, headers=seller.headers)
    assert first.status_code == 403
    assert first.json()["code"] == "seller_bond_required"

    bond_path = f"/v1/sellers/{seller.id}/bond"
    poor = live.client.post(bond_path, headers={**seller.headers, **idem()})
    assert poor.status_code == 422
    assert poor.json()["code"] == "exceeds_available_balance"

    live.deposit(seller, 6_000)
    key = idem()
    placed = live.client.post(bond_path, headers={**seller.headers, **key})
    assert placed.status_code == 201
    assert placed.json()["amount"] == {"value": 5_000, "currency": "EUR"}
    assert placed.json()["status"] == "held"
    again = live.client.post(bond_path, headers={**seller.headers, **key})
    assert again.status_code == 201 and again.json() == placed.json()
    twice = live.client.post(bond_path, headers={**seller.headers, **idem()})
    assert twice.status_code == 409
    assert twice.json()["code"] == "seller_bond_already_placed"
    assert live.balance(seller) == (1_000, 5_000)

    assert live.client.post("/v1/listings", json=listing, headers=seller.headers).status_code == 201
    assert live.client.get(bond_path, headers=seller.headers).json()["remaining"]["value"] == 5_000
    assert live.client.get(bond_path, headers=live.buyer().headers).status_code == 403


def test_the_bond_covers_refunds_and_returns_after_enough_good_orders(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(seller_bond=5_000, bond_return_orders=3)
    seller = live.seller()
    live.deposit(seller, 5_000)
    assert live.client.post(
        f"/v1/sellers/{seller.id}/bond", headers={**seller.headers, **idem()}
    ).status_code == 201
    settings, now = live.settings, live.clock.now()
    uow = live.container.uow()
    with uow:
        from bonafide.money import Money

        covered = listings_service.bond_cover(
            uow, seller_id=seller.id, amount=Money(1_200, "EUR"), now=now
        )
        assert covered == Money(1_200, "EUR")
        assert listings_service.bond_maybe_return(
            uow, seller_id=seller.id, completed_orders=2, settings=settings, now=now
        ) is None
        returned = listings_service.bond_maybe_return(
            uow, seller_id=seller.id, completed_orders=3, settings=settings, now=now
        )
        assert returned == Money(3_800, "EUR")
        uow.commit()
    assert live.balance(seller) == (5_000, 0)
    bond = live.client.get(f"/v1/sellers/{seller.id}/bond", headers=seller.headers).json()
    assert (bond["status"], bond["covered"]["value"], bond["remaining"]["value"]) == (
        "returned", 1_200, 3_800,
    )
