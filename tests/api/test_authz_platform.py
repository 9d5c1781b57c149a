"""Authorization matrix of the platform's routes: every route × every role × owner/non-owner.

Actors: ``anonymous``; ``owner`` (a buyer+seller who owns the account, profile and listing in the
path); ``buyer`` and ``seller`` (non-owners with those roles); ``moderator``; ``operator``.
Each cell says whether the actor is let through. *Allowed* means the answer is neither 401 nor
403 (a 404 or 422 from the use case itself is past the authorization check); *denied* means
401 for the anonymous caller and 403 (or 404 where an object's existence is itself private)
for everyone else.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from live_server import Live, Member, idem

from bonafide.api.app import ROUTER_MODULES
from bonafide.service import listings as listings_service

ACTORS = ("anonymous", "owner", "buyer", "seller", "moderator", "operator")
EVERYONE = frozenset(ACTORS)
SIGNED_IN = EVERYONE - {"anonymous"}
PLATFORM_MODULES = (
    "bonafide.api.routes.health",
    "bonafide.api.routes.accounts",
    "bonafide.api.routes.wallets",
    "bonafide.api.routes.sellers",
    "bonafide.api.routes.listings",
    "bonafide.api.routes.ledger",
)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {owner}, {listing}, {hidden} are filled in
    allowed: frozenset[str]
    body: Any = None
    money: bool = False  # send an Idempotency-Key
    hidden_is_404: bool = False  # denial answers 404 (the object is invisible to the caller)
    route: str = ""  # the route template, when it differs from ``path``


def _amount(value: int = 1) -> dict[str, Any]:
    return {"value": value, "currency": "EUR"}


LISTING = {"title": "Kettle", "price": _amount(500), "stock": 1}
PROFILE = {"about": "hello", "shipping_policy": "boxed", "returns_policy": "30 d", "claims": []}

CASES = [
    Case("GET", "/v1/health", EVERYONE),
    Case("GET", "/v1/ledger/verify", frozenset({"operator"})),
    Case("POST", "/v1/accounts", EVERYONE, body="signup"),
    Case("GET", "/v1/me", SIGNED_IN),
    Case("GET", "/v1/accounts/{owner}", frozenset({"owner", "operator"}),
         route="/v1/accounts/{account_id}"),
    Case("POST", "/v1/accounts/{owner}/roles", frozenset({"operator"}),
         body={"role": "moderator"}, route="/v1/accounts/{account_id}/roles"),
    Case("POST", "/v1/accounts/{owner}/roles", frozenset({"owner", "operator"}),
         body={"role": "buyer"}, route="/v1/accounts/{account_id}/roles"),
    Case("DELETE", "/v1/accounts/{owner}/roles/moderator", frozenset({"operator"}),
         route="/v1/accounts/{account_id}/roles/{role}"),
    Case("POST", "/v1/deposits", frozenset({"operator"}),
         body={"account_id": "{owner}", "amount": _amount()}, money=True),
    Case("POST", "/v1/withdrawals", SIGNED_IN, body={"amount": _amount()}, money=True),
    Case("GET", "/v1/accounts/{owner}/balance", frozenset({"owner", "operator"}),
         route="/v1/accounts/{account_id}/balance"),
    Case("GET", "/v1/sellers/{owner}/profile", EVERYONE,
         route="/v1/sellers/{seller_id}/profile"),
    Case("PUT", "/v1/sellers/{owner}/profile", frozenset({"owner"}), body=PROFILE,
         route="/v1/sellers/{seller_id}/profile"),
    Case("POST", "/v1/sellers/{owner}/bond", frozenset({"owner"}), money=True,
         route="/v1/sellers/{seller_id}/bond"),
    Case("GET", "/v1/sellers/{owner}/bond", frozenset({"owner", "moderator", "operator"}),
         route="/v1/sellers/{seller_id}/bond"),
    Case("POST", "/v1/listings", frozenset({"owner", "seller"}), body=LISTING),
    Case("GET", "/v1/listings", EVERYONE),
    Case("GET", "/v1/listings/{listing}", EVERYONE, route="/v1/listings/{listing_id}"),
    Case("GET", "/v1/listings/{hidden}", frozenset({"owner", "moderator", "operator"}),
         hidden_is_404=True, route="/v1/listings/{listing_id}"),
    Case("PATCH", "/v1/listings/{listing}", frozenset({"owner"}), body={"stock": 3},
         route="/v1/listings/{listing_id}"),
    Case("POST", "/v1/listings/{listing}/deactivate", frozenset({"owner"}),
         route="/v1/listings/{listing_id}/deactivate"),
    Case("POST", "/v1/listings/{listing}/activate", frozenset({"owner"}),
         route="/v1/listings/{listing_id}/activate"),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def test_the_matrix_covers_every_platform_route() -> None:
    assert set(PLATFORM_MODULES) <= set(ROUTER_MODULES)
    routes = set()
    for name in PLATFORM_MODULES:
        for route in importlib.import_module(name).router.routes:
            assert isinstance(route, APIRoute)
            routes |= {(method, route.path) for method in route.methods}
    covered = {(case.method, case.route or case.path) for case in CASES}
    assert routes == covered


def test_every_route_lets_in_exactly_the_right_actors(live: Live) -> None:
    owner = live.signup(roles=("buyer", "seller"))
    actors: dict[str, Member | None] = {
        "anonymous": None,
        "owner": owner,
        "buyer": live.buyer(),
        "seller": live.seller(),
        "moderator": live.moderator(),
        "operator": live.operator,
    }
    listing = live.listing(owner)["id"]
    hidden = live.listing(owner, title="hidden")["id"]
    uow = live.container.uow()
    with uow:
        listings_service.set_listing_hidden(uow, listing_id=hidden, hidden=True,
                                            now=live.clock.now())
        uow.commit()
    names = {"owner": owner.id, "listing": listing, "hidden": hidden}

    wrong: list[str] = []
    for case in CASES:
        # Denied actors first: an allowed call may change state (a role, a listing's status).
        for actor in sorted(ACTORS, key=lambda a: a in case.allowed):
            member = actors[actor]
            headers = {} if member is None else dict(member.headers)
            if case.money:
                headers.update(idem())
            body = _fill(case.body, names)
            if body == "signup":
                body = {"handle": live.unique_handle("matrix"), "roles": ["buyer"]}
            response = live.client.request(
                case.method, _fill(case.path, names), json=body, headers=headers
            )
            status = response.status_code
            if actor in case.allowed:
                ok = status not in (401, 403) and status < 500
            elif member is None and not case.hidden_is_404:
                ok = status == 401
            else:
                ok = status == (404 if case.hidden_is_404 else 403)
            if not ok:
                wanted = "allow" if actor in case.allowed else "deny"
                wrong.append(f"{case.method} {case.path} as {actor}: {status} (want {wanted})")
            if status >= 400:
                assert response.headers["content-type"] == "application/problem+json"
    assert not wrong, "\n".join(wrong)
