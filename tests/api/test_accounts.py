"""Accounts over HTTP: sign-up, keys shown once and stored hashed, roles, rate limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from live_server import Live, auth
from sqlalchemy import text


def test_sign_up_returns_a_working_key_once_and_stores_only_its_hash(live: Live) -> None:
    response = live.client.post("/v1/accounts", json={"handle": "Alice", "roles": ["buyer"]})
    assert response.status_code == 201
    body = response.json()
    assert body["handle"] == "alice"
    assert body["roles"] == ["buyer"]
    assert body["status"] == "active"
    key = body["api_key"]
    assert key.startswith("bfk_")

    me = live.client.get("/v1/me", headers=auth(key))
    assert me.status_code == 200
    assert me.json()["id"] == body["id"]
    assert "api_key" not in me.json()

    with live.container.engine.connect() as c:
        row = c.execute(
            text("SELECT key_prefix, key_hash FROM accounts WHERE id = :id"), {"id": body["id"]}
        ).one()
    assert key not in row.key_hash and row.key_hash != key
    assert len(row.key_hash) == 64
    assert key.split("_")[1] == row.key_prefix


def test_a_wrong_secret_with_a_real_prefix_is_refused(live: Live) -> None:
    member = live.buyer()
    forged = member.key[:-4] + ("AAAA" if not member.key.endswith("AAAA") else "BBBB")
    response = live.client.get("/v1/me", headers=auth(forged))
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_invalid"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_missing_and_malformed_credentials_are_401_problems(live: Live) -> None:
    assert live.client.get("/v1/me").json()["code"] == "authentication_required"
    for header in ("Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500):
        response = live.client.get("/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["content-type"] == "application/problem+json"


def test_handles_are_unique_case_insensitively(live: Live) -> None:
    live.signup("bob", ("buyer",))
    response = live.client.post("/v1/accounts", json={"handle": "BOB", "roles": ["seller"]})
    assert response.status_code == 409
    assert response.json()["code"] == "handle_already_taken"


def test_sign_up_refuses_privileged_roles_and_bad_handles(live: Live) -> None:
    cases = [
        ({"handle": "eve", "roles": ["moderator"]}, 403, "role_not_available_at_signup"),
        ({"handle": "eve", "roles": ["operator", "buyer"]}, 403, "role_not_available_at_signup"),
        ({"handle": "eve", "roles": []}, 422, "request_invalid"),
        ({"handle": "eve", "roles": ["wizard"]}, 422, "request_invalid"),
        ({"handle": "e", "roles": ["buyer"]}, 422, "handle_invalid"),
        ({"handle": "ève", "roles": ["buyer"]}, 422, "handle_invalid"),
        ({"handle": "eve eve", "roles": ["buyer"]}, 422, "handle_invalid"),
        ({"handle": 7, "roles": ["buyer"]}, 422, "request_invalid"),
        ({"handle": "eve", "roles": ["buyer"], "admin": True}, 422, "request_invalid"),
    ]
    for payload, status, code in cases:
        response = live.client.post("/v1/accounts", json=payload)
        assert (response.status_code, response.json()["code"]) == (status, code), payload
    with live.container.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM accounts")).scalar_one() == 1  # the operator


def test_an_operator_grants_and_removes_the_moderator_role(live: Live) -> None:
    member = live.buyer()
    granted = live.client.post(
        f"/v1/accounts/{member.id}/roles", json={"role": "moderator"},
        headers=live.operator.headers,
    )
    assert granted.status_code == 200
    assert granted.json()["roles"] == ["buyer", "moderator"]
    removed = live.client.delete(
        f"/v1/accounts/{member.id}/roles/moderator", headers=live.operator.headers
    )
    assert removed.status_code == 200
    assert removed.json()["roles"] == ["buyer"]


def test_members_add_buyer_or_seller_to_themselves_but_not_moderator(live: Live) -> None:
    member = live.buyer()
    added = live.client.post(
        f"/v1/accounts/{member.id}/roles", json={"role": "seller"}, headers=member.headers
    )
    assert added.json()["roles"] == ["buyer", "seller"]
    refused = live.client.post(
        f"/v1/accounts/{member.id}/roles", json={"role": "moderator"}, headers=member.headers
    )
    assert refused.status_code == 403
    operator = live.client.post(
        f"/v1/accounts/{member.id}/roles", json={"role": "operator"},
        headers=live.operator.headers,
    )
    assert operator.status_code == 403
    assert operator.json()["code"] == "operator_role_granted_only_by_cli"


def test_an_account_is_private_to_itself_and_operators(live: Live) -> None:
    alice, bob = live.buyer(), live.buyer()
    assert live.client.get(f"/v1/accounts/{alice.id}", headers=alice.headers).status_code == 200
    assert live.client.get(f"/v1/accounts/{alice.id}", headers=bob.headers).status_code == 403
    seen = live.client.get(f"/v1/accounts/{alice.id}", headers=live.operator.headers)
    assert seen.json()["handle"] == alice.handle
    missing = live.client.get("/v1/accounts/acc_nope", headers=live.operator.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "account_not_found"


def test_sign_up_is_rate_limited_per_address(live_factory: Callable[..., Live]) -> None:
    live = live_factory(signup_limit_per_minute=3)
    for i in range(3):
        live.signup(f"early-{i}", ("buyer",))
    refused = live.client.post("/v1/accounts", json={"handle": "late", "roles": ["buyer"]})
    assert refused.status_code == 429
    assert refused.json()["code"] == "signup_rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    live.clock.advance(timedelta(seconds=int(refused.headers["retry-after"])))
    assert live.client.post(
        "/v1/accounts", json={"handle": "late", "roles": ["buyer"]}
    ).status_code == 201


def test_failed_authentication_is_rate_limited_per_address(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(auth_failure_limit_per_minute=5)
    member = live.buyer()
    for _ in range(5):
        assert live.client.get("/v1/me", headers=auth("bfk_aaaaaaaaaaaa_wrong")).status_code == 401
    locked = live.client.get("/v1/me", headers=member.headers)
    assert locked.status_code == 429
    assert locked.json()["code"] == "authentication_failure_rate_limited"
    assert "retry-after" in locked.headers
    live.clock.advance(timedelta(minutes=1))
    assert live.client.get("/v1/me", headers=member.headers).status_code == 200
    # Successes do not use up the allowance.
    for _ in range(20):
        assert live.client.get("/v1/me", headers=member.headers).status_code == 200
