"""Proof of liabilities over HTTP: the signed root for anyone, proofs for their owner only,
reserves declared by operators, and the market's keys at /.well-known."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from live_server import Live

from bonafide.api.app import create_app
from bonafide.bootstrap import connect
from bonafide.errors import Rejected
from bonafide.service import keys, liabilities
from bonafide.settings import Settings


@pytest.fixture
def market(live_factory: Callable[..., Live], tmp_path: Path) -> Live:
    return live_factory(key_path=tmp_path / "market.key", market_id="mkt_home",
                        market_name="Home market")


def publish(live: Live) -> liabilities.Published:
    return liabilities.publish(live.container.uow(),
                               read_uow=live.container.uow(read_only=True),
                               settings=live.settings, now=live.clock.now(),
                               published_by=live.operator.id)


def problem(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert body["code"] == code and body["type"].endswith("/" + code), body


def test_nothing_published_is_a_404_problem(market: Live) -> None:
    problem(market.client.get("/v1/liabilities"), 404, "liabilities_not_published")


def test_a_user_fetches_the_root_and_their_proof_and_checks_them_offline(market: Live) -> None:
    ann, bob = market.buyer(), market.buyer()
    market.deposit(ann, 2_500)
    market.deposit(bob, 4_000)
    published = publish(market)
    root = market.client.get("/v1/liabilities")
    assert root.status_code == 200, root.text
    body = root.json()
    assert body["snapshot_id"] == published.snapshot_id
    assert body["totals"] == [{"currency": "EUR", "liabilities": 6_500, "reserves": None,
                               "status": "reserves_not_declared"}]
    assert body["keyring"]["market_id"] == "mkt_home"
    proof = market.client.get(f"/v1/accounts/{ann.id}/liabilities/proof", headers=ann.headers)
    assert proof.status_code == 200, proof.text
    assert [p["account"] for p in proof.json()["proofs"]] == [f"wallet:{ann.id}"]
    well_known = market.client.get("/.well-known/bonafide-market.json").json()
    checked = liabilities.check_offline(root=body, proof=proof.json(), key=well_known,
                                        now=market.clock.now())
    assert [(o.balance, o.total) for o in checked.outcomes] == [(2_500, 6_500)]
    assert checked.issuer_id == "mkt_home"


def test_proofs_are_for_their_owner_only(market: Live) -> None:
    ann, bob = market.buyer(), market.buyer()
    market.deposit(ann, 100)
    publish(market)
    url = f"/v1/accounts/{ann.id}/liabilities/proof"
    problem(market.client.get(url), 401, "authentication_required")
    problem(market.client.get(url, headers=bob.headers), 403, "proof_owner_only")
    problem(market.client.get(url, headers=market.operator.headers), 403, "proof_owner_only")
    assert market.client.get(url, headers={"Authorization": "Bearer bfk_x"}).status_code == 401
    problem(market.client.get(url + "?snapshot_id=lsn_nope", headers=ann.headers), 404,
            "snapshot_not_found")


def test_reserves_are_declared_by_operators_and_compared(market: Live) -> None:
    ann, seller = market.buyer(), market.seller()
    market.deposit(ann, 10_000)
    publish(market)
    url = "/v1/liabilities/reserves"
    good = {"amount": {"value": 9_000, "currency": "EUR"}, "note": "bank, 1 March"}
    problem(market.client.post(url, json=good), 401, "authentication_required")
    problem(market.client.post(url, json=good, headers=seller.headers), 403, "role_required")
    problem(market.client.post(url, json=good, headers=ann.headers), 403, "role_required")
    ops = market.operator.headers
    for bad in ({"amount": {"value": 9000.0, "currency": "EUR"}},
                {"amount": {"value": 1, "currency": "XXX"}},
                {"amount": {"value": 1, "currency": "EUR"}, "extra": 1},
                {"amount": {"value": 1, "currency": "EUR"}, "note": "x" * 501}):
        assert market.client.post(url, json=bad, headers=ops).status_code == 422, bad
    problem(market.client.post(url, json={"amount": {"value": -5, "currency": "EUR"}},
                               headers=ops), 422, "reserves_must_not_be_negative")
    declared = market.client.post(url, json=good, headers=ops)
    assert declared.status_code == 201, declared.text
    assert declared.json()["amount"] == {"value": 9_000, "currency": "EUR"}
    body = market.client.get("/v1/liabilities").json()
    assert body["totals"][0]["status"] == "reserves_below_liabilities"
    assert body["warnings"][0]["code"] == "reserves_below_liabilities"
    market.client.post(url, json={"amount": {"value": 10_000, "currency": "EUR"}}, headers=ops)
    body = market.client.get("/v1/liabilities").json()
    assert body["totals"][0]["status"] == "covered" and body["warnings"] == []


def test_the_well_known_document_lists_current_and_retired_keys(market: Live) -> None:
    first = market.client.get("/.well-known/bonafide-market.json").json()
    assert first["type"] == "bonafide.keyring" and first["name"] == "Home market"
    assert [k["valid_until"] for k in first["keys"]] == [None]
    keys.rotate(market.settings, now=market.clock.advance(timedelta(days=1)))
    second = market.client.get("/.well-known/bonafide-market.json").json()
    assert second["keys"][0]["key_id"] == first["keys"][0]["key_id"]
    assert second["keys"][0]["valid_until"] is not None and second["keys"][1]["valid_until"] is None


def test_a_root_signed_before_a_rotation_still_verifies_after_it(market: Live) -> None:
    ann = market.buyer()
    market.deposit(ann, 100)
    publish(market)
    root = market.client.get("/v1/liabilities").json()
    proof = market.client.get(f"/v1/accounts/{ann.id}/liabilities/proof",
                              headers=ann.headers).json()
    keys.rotate(market.settings, now=market.clock.advance(timedelta(days=1)))
    rotated = market.client.get("/.well-known/bonafide-market.json").json()
    assert liabilities.check_offline(root=root, proof=proof, key=rotated, now=market.clock.now())
    other = {**rotated, "keys": rotated["keys"][1:]}
    with pytest.raises(Rejected, match="key_unknown"):
        liabilities.check_offline(root=root, proof=proof, key=other, now=market.clock.now())


# --- authorization matrix of every transparency route ----------------------------------------
ACTORS = ("anonymous", "owner", "buyer", "seller", "moderator", "operator")
EVERYONE = frozenset(ACTORS)
TRANSPARENCY_MODULES = (
    "bonafide.api.routes.liabilities",
    "bonafide.api.routes.attestations",
    "bonafide.api.routes.well_known",
)
# (method, route, allowed, body): the ids in a route are the owner's account and listing.
MATRIX: list[tuple[str, str, frozenset[str], object]] = [
    ("GET", "/.well-known/bonafide-market.json", EVERYONE, None),
    ("GET", "/v1/liabilities", EVERYONE, None),
    ("GET", "/v1/accounts/{account_id}/liabilities/proof", frozenset({"owner"}), None),
    ("POST", "/v1/liabilities/reserves", frozenset({"operator"}),
     {"amount": {"value": 1, "currency": "EUR"}}),
    ("POST", "/v1/sellers/{seller_id}/attestations", frozenset({"owner", "operator"}), {}),
    ("POST", "/v1/attestations/import", frozenset({"owner", "seller", "operator"}), b"{}"),
    ("GET", "/v1/sellers/{seller_id}/imported-attestations", EVERYONE, None),
    ("GET", "/v1/attestations/trusted-issuers", EVERYONE, None),
    ("POST", "/v1/attestations/trusted-issuers", frozenset({"operator"}), {}),
    ("POST", "/v1/listings/{listing_id}/claims/verifications", frozenset({"owner", "operator"}),
     b"{}"),
    ("GET", "/v1/listings/{listing_id}/claims/verifications", EVERYONE, None),
]


def test_the_matrix_covers_every_transparency_route() -> None:
    routes = set()
    for name in TRANSPARENCY_MODULES:
        for route in importlib.import_module(name).router.routes:
            assert isinstance(route, APIRoute)
            routes |= {(method, route.path) for method in route.methods}
    assert routes == {(method, path) for method, path, _, _ in MATRIX}


def test_who_may_call_each_transparency_route(market: Live) -> None:
    owner = market.signup(roles=("buyer", "seller"))
    market.deposit(owner, 100)
    listing = market.listing(owner)
    publish(market)
    headers = {
        "anonymous": {},
        "owner": owner.headers,
        "buyer": market.buyer().headers,
        "seller": market.seller().headers,
        "moderator": market.moderator().headers,
        "operator": market.operator.headers,
    }
    wrong = []
    for method, path, allowed, body in MATRIX:
        url = (path.replace("{account_id}", owner.id).replace("{seller_id}", owner.id)
               .replace("{listing_id}", listing["id"]))
        for actor in ACTORS:
            kwargs: dict[str, object] = {"headers": dict(headers[actor])}
            if isinstance(body, bytes):
                kwargs["content"] = body
                kwargs["headers"] = {**headers[actor], "Content-Type": "application/json"}
            elif body is not None:
                kwargs["json"] = body
            status = market.client.request(method, url, **kwargs).status_code  # type: ignore[arg-type]
            expected_denial = 401 if actor == "anonymous" else 403
            if actor in allowed and status in (401, 403):
                wrong.append(f"{method} {path} {actor}: {status}, should be let through")
            if actor not in allowed and status != expected_denial:
                wrong.append(f"{method} {path} {actor}: {status}, should be {expected_denial}")
    assert not wrong, "\n".join(wrong)


def test_the_market_key_is_made_when_the_server_starts(database_url: str, tmp_path: Path
                                                       ) -> None:
    key_path = tmp_path / "start" / "market.key"
    container = connect(Settings(database_url=database_url, key_path=key_path), migrate=False)
    app = create_app(container)

    async def start_and_stop() -> None:
        async with app.router.lifespan_context(app):
            assert key_path.exists()

    try:
        assert not key_path.exists()
        asyncio.run(start_and_stop())
        assert key_path.stat().st_mode & 0o777 == 0o600
    finally:
        container.close()
