"""The authorization matrix of the order-flow routes: every route × every role, owner and
non-owner, asserting allow (2xx) or the exact denial.

Actors: ``anon`` (no key), ``buyer`` and ``seller`` (the parties), ``other_buyer`` and
``other_seller`` (same roles, not parties), ``moderator`` (not a party) and ``operator``.
Denials: 401 without a key; 404 where the caller may not know the thing exists (orders and
disputes of others); 403 where the caller sees it but may not act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from live_server import Live, Member, idem
from order_helpers import act, deal, without_nagle


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


ACTORS = ("anon", "buyer", "seller", "other_buyer", "other_seller", "moderator", "operator")
EUR = "EUR"
REVIEW = {"overall": 5, "item_as_described": 5, "communication": 5, "shipping_speed": 5}


@dataclass
class World:
    live: Live
    members: dict[str, Member]
    second_moderator: Member

    def m(self, name: str) -> Member:
        return self.members[name]

    # --- scenarios: each returns the id the route needs, freshly made ------------------------
    def funded(self) -> str:
        return deal(self.live, buyer=self.m("buyer"), seller=self.m("seller")).order_id

    def shipped(self) -> str:
        order_id = self.funded()
        assert (
            act(self.live, self.m("seller"), f"/v1/orders/{order_id}/ship", key=False).status_code
            == 200
        )
        return order_id

    def completed(self) -> str:
        order_id = self.shipped()
        assert act(self.live, self.m("buyer"), f"/v1/orders/{order_id}/confirm").status_code == 200
        return order_id

    def dispute(self) -> str:
        order_id = self.funded()
        response = act(
            self.live,
            self.m("buyer"),
            f"/v1/orders/{order_id}/disputes",
            {"reason": "late"},
            key=False,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def hidden_review(self) -> str:
        order_id = self.completed()
        response = act(
            self.live, self.m("buyer"), f"/v1/orders/{order_id}/reviews", REVIEW, key=False
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def revealed_review(self) -> str:
        order_id = self.completed()
        response = act(
            self.live, self.m("buyer"), f"/v1/orders/{order_id}/reviews", REVIEW, key=False
        )
        act(
            self.live, self.m("seller"), f"/v1/orders/{order_id}/reviews", {"overall": 4}, key=False
        )
        return str(response.json()["id"])

    def action_on_seller(self) -> str:
        listing = self.live.listing(self.m("seller"))
        response = act(
            self.live,
            self.second_moderator,
            "/v1/moderation/actions",
            {
                "kind": "hide_listing",
                "reason": "test",
                "target_kind": "listing",
                "target_id": listing["id"],
            },
            key=False,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def appeal(self) -> str:
        action_id = self.action_on_seller()
        response = act(
            self.live,
            self.m("seller"),
            f"/v1/moderation/actions/{action_id}/appeal",
            {"text": "please"},
            key=False,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def listing(self) -> str:
        return str(self.live.listing(self.m("seller"))["id"])

    def seller_id(self) -> str:
        return self.m("seller").id

    def moderator_id(self) -> str:
        return self.m("moderator").id

    def nothing(self) -> str:
        return ""


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    prepare: Callable[[World], str]
    expect: dict[str, int]
    body: Callable[[World, str], Any] | None = None
    mutating: bool = True
    key: bool = False
    fresh_per_allowed: bool = field(default=True)


def _only(allowed: dict[str, int], **denied: int) -> dict[str, int]:
    out = {actor: denied.get(actor, 0) for actor in ACTORS}
    out.update(allowed)
    assert all(out[a] for a in ACTORS), f"every actor needs an expectation: {out}"
    return out


PARTY_DENIALS = {"anon": 401, "other_buyer": 404, "other_seller": 404}
STAFF_403 = {"moderator": 403, "operator": 403}
ALL_AUTHED_OK = {a: 200 for a in ACTORS if a != "anon"}
EVERYONE_OK = {a: 200 for a in ACTORS}


def role_only(allowed: dict[str, int]) -> dict[str, int]:
    return {a: allowed.get(a, 401 if a == "anon" else 403) for a in ACTORS}


CASES: list[Case] = [
    Case(
        "POST",
        "/v1/orders",
        World.listing,
        role_only({"buyer": 201, "other_buyer": 201, "moderator": 201}),
        body=lambda w, actor: {"listing_id": w.listing(), "quantity": 1},
        key=True,
    ),
    Case("GET", "/v1/orders", World.nothing, ALL_AUTHED_OK | {"anon": 401}, mutating=False),
    Case(
        "GET",
        "/v1/orders/{}",
        World.funded,
        _only({"buyer": 200, "seller": 200, "moderator": 200, "operator": 200}, **PARTY_DENIALS),
        mutating=False,
    ),
    Case(
        "POST",
        "/v1/orders/{}/ship",
        World.funded,
        _only({"seller": 200}, buyer=403, **PARTY_DENIALS, **STAFF_403),
    ),
    Case(
        "POST",
        "/v1/orders/{}/confirm",
        World.shipped,
        _only({"buyer": 200}, seller=403, **PARTY_DENIALS, **STAFF_403),
        key=True,
    ),
    Case(
        "POST",
        "/v1/orders/{}/cancel",
        World.funded,
        _only({"buyer": 200, "seller": 200}, **PARTY_DENIALS, **STAFF_403),
        key=True,
    ),
    Case(
        "POST",
        "/v1/orders/{}/refund",
        World.shipped,
        _only({"seller": 200}, buyer=403, **PARTY_DENIALS, **STAFF_403),
        key=True,
    ),
    Case(
        "POST",
        "/v1/orders/{}/disputes",
        World.shipped,
        _only({"buyer": 201}, seller=403, **PARTY_DENIALS, **STAFF_403),
        body=lambda w, actor: {"reason": "broken"},
    ),
    Case(
        "GET",
        "/v1/disputes",
        World.nothing,
        role_only({"moderator": 200, "operator": 200}),
        mutating=False,
    ),
    Case(
        "GET",
        "/v1/disputes/{}",
        World.dispute,
        _only({"buyer": 200, "seller": 200, "moderator": 200, "operator": 200}, **PARTY_DENIALS),
        mutating=False,
    ),
    Case(
        "POST",
        "/v1/disputes/{}/messages",
        World.dispute,
        _only({"buyer": 201, "seller": 201, "moderator": 201}, operator=403, **PARTY_DENIALS),
        body=lambda w, actor: {"body": "hello"},
        fresh_per_allowed=False,
    ),
    Case(
        "POST",
        "/v1/disputes/{}/replacement",
        World.dispute,
        _only({"seller": 200}, buyer=403, **PARTY_DENIALS, **STAFF_403),
        key=True,
    ),
    Case(
        "POST",
        "/v1/disputes/{}/resolve",
        World.dispute,
        role_only({"moderator": 200}),
        body=lambda w, actor: {"refund": {"value": 0, "currency": EUR}},
        key=True,
    ),
    Case(
        "GET",
        "/v1/moderators/{}/record",
        World.moderator_id,
        role_only({"operator": 200}),
        mutating=False,
    ),
    Case(
        "POST",
        "/v1/orders/{}/reviews",
        World.completed,
        _only({"buyer": 201, "seller": 201}, **PARTY_DENIALS, **STAFF_403),
        body=lambda w, actor: {"overall": 4} if actor == "seller" else REVIEW,
        fresh_per_allowed=True,
    ),
    Case(
        "GET",
        "/v1/orders/{}/reviews",
        World.completed,
        _only({"buyer": 200, "seller": 200, "moderator": 200, "operator": 200}, **PARTY_DENIALS),
        mutating=False,
    ),
    Case("GET", "/v1/reviews/{}", World.revealed_review, EVERYONE_OK, mutating=False),
    Case(
        "GET",
        "/v1/reviews/{}",
        World.hidden_review,
        _only(
            {"buyer": 200, "moderator": 200, "operator": 200},
            anon=404,
            seller=404,
            other_buyer=404,
            other_seller=404,
        ),
        mutating=False,
    ),
    Case(
        "PUT",
        "/v1/reviews/{}",
        World.hidden_review,
        _only(
            {"buyer": 200},
            anon=401,
            seller=404,
            other_buyer=404,
            other_seller=404,
            moderator=404,
            operator=404,
        ),
        body=lambda w, actor: REVIEW,
    ),
    Case(
        "POST",
        "/v1/reviews/{}/reply",
        World.revealed_review,
        _only({"seller": 200}, anon=401, buyer=403, other_buyer=403, other_seller=403, **STAFF_403),
        body=lambda w, actor: {"text": "thanks"},
    ),
    Case("GET", "/v1/sellers/{}/reviews", World.seller_id, EVERYONE_OK, mutating=False),
    Case("GET", "/v1/sellers/{}/reputation", World.seller_id, EVERYONE_OK, mutating=False),
    Case(
        "POST",
        "/v1/reports",
        World.listing,
        {a: 201 for a in ACTORS if a != "anon"} | {"anon": 401},
        body=lambda w, actor: {"target_kind": "account", "target_id": w.seller_id(), "reason": "x"},
        fresh_per_allowed=False,
    ),
    Case("GET", "/v1/reports", World.nothing, role_only({"moderator": 200}), mutating=False),
    Case(
        "POST",
        "/v1/moderation/actions",
        World.listing,
        role_only({"moderator": 201}),
        body=lambda w, actor: {
            "kind": "hide_listing",
            "reason": "x",
            "target_kind": "listing",
            "target_id": w.listing(),
        },
    ),
    Case(
        "GET",
        "/v1/moderation/actions",
        World.nothing,
        ALL_AUTHED_OK | {"anon": 401},
        mutating=False,
    ),
    Case(
        "POST",
        "/v1/moderation/actions/{}/appeal",
        World.action_on_seller,
        role_only({"seller": 201}),
        body=lambda w, actor: {"text": "unfair"},
    ),
    Case("GET", "/v1/appeals", World.nothing, role_only({"moderator": 200}), mutating=False),
    Case(
        "POST",
        "/v1/appeals/{}/decision",
        World.appeal,
        role_only({"moderator": 200}),
        body=lambda w, actor: {"outcome": "upheld", "reason": "stands"},
    ),
]


def _call(w: World, case: Case, actor: str, target: str) -> int:
    headers: dict[str, str] = {} if actor == "anon" else dict(w.m(actor).headers)
    if case.key:
        headers.update(idem())
    path = case.template.format(target)
    body = None if case.body is None else case.body(w, actor)
    response = w.live.client.request(case.method, path, json=body, headers=headers)
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
    return response.status_code


def test_every_route_allows_exactly_its_roles_and_owners(live: Live) -> None:
    members = {
        "buyer": live.buyer(),
        "seller": live.seller(),
        "other_buyer": live.buyer(),
        "other_seller": live.seller(),
        "moderator": live.moderator(),
        "operator": live.operator,
    }
    for funded in ("buyer", "other_buyer", "moderator"):
        live.deposit(members[funded], 100_000)
    w = World(live=live, members=members, second_moderator=live.moderator())
    wrong: list[str] = []
    for case in CASES:
        target = case.prepare(w)
        allowed = [a for a in ACTORS if case.expect[a] < 400]
        denied = [a for a in ACTORS if case.expect[a] >= 400]
        for actor in denied + allowed:
            if (
                actor in allowed
                and case.mutating
                and case.fresh_per_allowed
                and actor != allowed[0]
            ):
                target = case.prepare(w)
            got = _call(w, case, actor, target)
            if got != case.expect[actor]:
                wrong.append(
                    f"{case.method} {case.template} as {actor}: {got}, "
                    f"expected {case.expect[actor]}"
                )
    assert wrong == []
