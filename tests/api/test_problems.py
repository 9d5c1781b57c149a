"""Errors over HTTP: every failure is RFC 9457 problem+json with a stable type; nothing leaks."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter
from live_server import Live, Server, idem
from sqlalchemy import text

from bonafide.api import problems
from bonafide.api.app import create_app
from bonafide.errors import BonafideError, Conflict, Forbidden, NotFound, Rejected, TooMany
from bonafide.errors import Unauthorized as UnauthorizedError

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://bonafide.dev/problems/{code}"
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def _rows(live: Live) -> int:
    with live.container.engine.connect() as c:
        return sum(
            int(c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("accounts", "listings", "seller_profiles", "idempotency_keys",
                      "ledger_journal")
        )


def test_the_status_table_covers_every_error_class() -> None:
    assert problems.status_of(NotFound("x_y")) == 404
    assert problems.status_of(UnauthorizedError("x_y")) == 401
    assert problems.status_of(Forbidden("x_y")) == 403
    assert problems.status_of(Conflict("x_y")) == 409
    assert problems.status_of(Rejected("x_y")) == 422
    assert problems.status_of(TooMany("x_y")) == 429
    assert problems.status_of(BonafideError("x_y")) == 500


def test_malformed_json_and_invalid_utf8_are_400_and_write_nothing(live: Live) -> None:
    seller = live.seller()
    before = _rows(live)
    headers = {**seller.headers, "content-type": "application/json"}
    for body, code in [
        (b'{"title": "x", ', "request_body_malformed_json"),
        (b"{'title': 'x'}", "request_body_malformed_json"),
        (b'{"title": "caf\xe9"}', "request_body_not_utf8"),
        (b"\xff\xfe{}", "request_body_not_utf8"),
    ]:
        _assert_problem(live.client.post("/v1/listings", content=body, headers=headers), 400, code)
    _assert_problem(
        live.client.post(
            "/v1/accounts", content=b'{"handle": "\xc3\x28", "roles": ["buyer"]}',
            headers={"content-type": "application/json"},
        ),
        400,
        "request_body_not_utf8",
    )
    assert _rows(live) == before


def test_wrong_types_and_shapes_are_422_with_where_but_not_the_input(live: Live) -> None:
    seller = live.seller()
    before = _rows(live)
    for payload in ([], "listing", 7, None, {"title": ["x"], "price": {}, "stock": "many"}):
        body = _assert_problem(
            live.client.post("/v1/listings", json=payload, headers=seller.headers),
            422, "request_invalid",
        )
        assert body["errors"]
        assert all(set(issue) == {"loc", "msg", "type"} for issue in body["errors"])
    secret = "s3cr3t-" * 10
    body = _assert_problem(
        live.client.post("/v1/listings", json={"title": secret * 5, "price": 1, "stock": 1},
                         headers=seller.headers),
        422, "request_invalid",
    )
    assert secret not in str(body)
    assert _rows(live) == before


def test_over_long_bodies_are_413_before_anything_is_read_or_written(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(request_body_max_bytes=2_048)
    seller = live.seller()
    before = _rows(live)
    big = {"title": "x", "description": "y" * 3_000, "price": {"value": 1, "currency": "EUR"},
           "stock": 1}
    _assert_problem(live.client.post("/v1/listings", json=big, headers=seller.headers),
                    413, "request_body_too_large")

    def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 1_000

    streamed = live.client.post(
        "/v1/listings", content=chunks(),
        headers={**seller.headers, "content-type": "application/json"},
    )
    _assert_problem(streamed, 413, "request_body_too_large")
    assert _rows(live) == before


def test_a_lying_content_length_is_refused(live: Live) -> None:
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 99999999999\r\n\r\n{}"
        )
        reply = ""
        while "request_body_too_large" not in reply:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk.decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413")
    assert "request_body_too_large" in reply


def test_unknown_routes_methods_and_ids_are_problems(live: Live) -> None:
    buyer = live.buyer()
    _assert_problem(live.client.get("/v1/nothing-here"), 404, "route_not_found")
    _assert_problem(live.client.put("/v1/listings"), 405, "method_not_allowed")
    _assert_problem(live.client.get("/v1/listings/lst_unknown"), 404, "listing_not_found")
    _assert_problem(
        live.client.get("/v1/accounts/acc_unknown/balance", headers=live.operator.headers),
        404, "account_not_found",
    )
    _assert_problem(
        live.client.get(f"/v1/listings/{'x' * 65}", headers=buyer.headers), 422,
        "request_invalid",
    )
    _assert_problem(
        live.client.post("/v1/listings/lst_unknown/deactivate", headers=buyer.headers),
        404, "listing_not_found",
    )


def test_a_bug_is_a_bare_500_with_a_request_id_and_no_trace_or_sql(live: Live) -> None:
    router = APIRouter()

    @router.get("/v1/test-crash")
    def crash() -> None:
        raise RuntimeError("SELECT secret FROM accounts WHERE boom")

    @router.get("/v1/test-assert")
    def broken_invariant() -> None:
        raise AssertionError("ledger out of balance by 3")

    crashing = create_app(live.container)
    crashing.include_router(router)
    server = Server(crashing)
    url = server.start()
    try:
        for path in ("/v1/test-crash", "/v1/test-assert"):
            response = httpx.get(url + path, timeout=30)
            body = _assert_problem(response, 500, "internal_error")
            assert "SELECT" not in response.text and "Traceback" not in response.text
            assert "balance" not in response.text and "RuntimeError" not in response.text
            assert "AssertionError" not in response.text and "boom" not in response.text
            assert body["detail"].startswith("an internal error occurred")
    finally:
        server.stop()


def test_conflicts_and_rate_limits_carry_their_headers(live_factory: Callable[..., Live]) -> None:
    live = live_factory(signup_limit_per_minute=1)
    member = live.buyer()
    limited = live.client.post("/v1/accounts", json={"handle": "second", "roles": ["buyer"]})
    _assert_problem(limited, 429, "signup_rate_limited")
    assert limited.headers["retry-after"].isdigit()
    unauthorized = live.client.get("/v1/me", headers={"Authorization": "Bearer nope"})
    _assert_problem(unauthorized, 401, "api_key_invalid")
    assert unauthorized.headers["www-authenticate"].startswith("Bearer")
    live.deposit(member, 10)
    key = idem()
    request = {"amount": {"value": 1, "currency": "EUR"}}
    assert live.client.post("/v1/withdrawals", json=request,
                            headers={**member.headers, **key}).status_code == 201
    reused = live.client.post("/v1/withdrawals", json={"amount": {"value": 2, "currency": "EUR"}},
                              headers={**member.headers, **key})
    _assert_problem(reused, 409, "idempotency_key_reused")


def test_nul_characters_and_lone_surrogates_are_refused_before_the_database(live: Live) -> None:
    seller = live.seller()
    before = _rows(live)
    headers = {**seller.headers, "content-type": "application/json"}
    price = '"price": {"value": 1, "currency": "EUR"}, "stock": 1'
    for raw, code in [
        ('{"title": "a\\u0000b", ' + price + "}", "title_has_control_characters"),
        ('{"title": "t", "description": "x\\u0000", ' + price + "}",
         "description_has_control_characters"),
        ('{"title": "a\\ud800b", ' + price + "}", "request_invalid"),
    ]:
        _assert_problem(live.client.post("/v1/listings", content=raw.encode(), headers=headers),
                        422, code)
    profile = live.client.put(
        f"/v1/sellers/{seller.id}/profile", content=b'{"claims": ["ok\\u0000"]}', headers=headers
    )
    _assert_problem(profile, 422, "claim_has_control_characters")
    assert _rows(live) == before
