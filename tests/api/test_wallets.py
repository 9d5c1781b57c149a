"""Wallets over HTTP: deposits, withdrawals of available funds only, balances, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from live_server import Live, idem
from sqlalchemy import text


def _journal_entries(live: Live) -> int:
    with live.container.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM ledger_journal")).scalar_one())


def _deposit(live: Live, account_id: str, value: int, key: str) -> tuple[int, dict[str, object]]:
    response = live.client.post(
        "/v1/deposits",
        json={"account_id": account_id, "amount": {"value": value, "currency": "EUR"}},
        headers={**live.operator.headers, "Idempotency-Key": key},
    )
    return response.status_code, response.json()


def test_a_deposit_credits_the_wallet_and_shows_as_available(live: Live) -> None:
    alice = live.buyer()
    moved = live.deposit(alice, 5_000)
    assert moved["amount"] == {"value": 5_000, "currency": "EUR"}
    assert moved["account_id"] == alice.id
    assert live.balance(alice) == (5_000, 0)
    body = live.client.get(f"/v1/accounts/{alice.id}/balance", headers=alice.headers).json()
    assert body == {
        "account_id": alice.id,
        "balances": [
            {
                "currency": "EUR",
                "available": {"value": 5_000, "currency": "EUR"},
                "held": {"value": 0, "currency": "EUR"},
            }
        ],
    }


def test_operators_verify_the_ledger_over_http(live: Live) -> None:
    alice = live.buyer()
    live.deposit(alice, 1_234)
    report = live.client.get("/v1/ledger/verify", headers=live.operator.headers)
    assert report.status_code == 200
    body = report.json()
    assert body["ok"] is True and body["problems"] == [] and body["entries"] >= 1
    assert len(body["head"]) >= 16
    assert live.client.get("/v1/ledger/verify", headers=alice.headers).status_code == 403


def test_the_same_deposit_retried_ten_times_moves_money_once(live: Live) -> None:
    alice = live.buyer()
    before = _journal_entries(live)
    answers = [_deposit(live, alice.id, 2_500, "deposit-once") for _ in range(10)]
    assert {status for status, _ in answers} == {201}
    assert all(body == answers[0][1] for _, body in answers)
    assert _journal_entries(live) == before + 1
    assert live.balance(alice) == (2_500, 0)


def test_concurrent_duplicates_of_one_deposit_move_money_once(live: Live) -> None:
    alice = live.buyer()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: _deposit(live, alice.id, 700, "racing"), range(10)))
    # One executes; the others wait for it and replay its response (or, rarely, are told the
    # key is in flight and may retry). None moves money a second time.
    assert {status for status, _ in answers} <= {201, 409}
    replayed = [body for status, body in answers if status == 201]
    assert replayed and all(body == replayed[0] for body in replayed)
    assert live.balance(alice) == (700, 0)


def test_a_reused_key_with_a_different_body_is_a_409_and_moves_nothing(live: Live) -> None:
    alice = live.buyer()
    assert _deposit(live, alice.id, 1_000, "k")[0] == 201
    status, body = _deposit(live, alice.id, 1_001, "k")
    assert status == 409
    assert body["code"] == "idempotency_key_reused"
    assert body["type"].endswith("/idempotency_key_reused")
    assert live.balance(alice) == (1_000, 0)


def test_idempotency_keys_are_scoped_per_account(live: Live) -> None:
    alice = live.buyer()
    live.deposit(alice, 1_000)
    for _ in range(2):
        response = live.client.post(
            "/v1/withdrawals",
            json={"amount": {"value": 100, "currency": "EUR"}},
            headers={**alice.headers, "Idempotency-Key": "k"},
        )
        assert response.status_code == 201
    # The operator's "k" is a different key from alice's "k".
    assert _deposit(live, alice.id, 50, "k")[0] == 201
    assert live.balance(alice) == (950, 0)


def test_money_moving_posts_require_an_idempotency_key(live: Live) -> None:
    alice = live.buyer()
    live.deposit(alice, 1_000)
    no_key = live.client.post(
        "/v1/deposits",
        json={"account_id": alice.id, "amount": {"value": 1, "currency": "EUR"}},
        headers=live.operator.headers,
    )
    assert no_key.status_code == 422
    assert no_key.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    bad_key = live.client.post(
        "/v1/withdrawals",
        json={"amount": {"value": 1, "currency": "EUR"}},
        headers={**alice.headers, "Idempotency-Key": "has space"},
    )
    assert bad_key.status_code == 422
    assert live.balance(alice) == (1_000, 0)


def test_withdrawals_take_available_funds_only(live: Live) -> None:
    alice = live.buyer()
    live.deposit(alice, 1_000)
    too_much = live.client.post(
        "/v1/withdrawals",
        json={"amount": {"value": 1_001, "currency": "EUR"}},
        headers={**alice.headers, **idem()},
    )
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "exceeds_available_balance"
    paid = live.client.post(
        "/v1/withdrawals",
        json={"amount": {"value": 400, "currency": "EUR"}},
        headers={**alice.headers, **idem()},
    )
    assert paid.status_code == 201
    assert paid.json()["account_id"] == alice.id
    assert live.balance(alice) == (600, 0)


def test_a_refused_withdrawal_can_be_retried_with_the_same_key_once_funded(live: Live) -> None:
    alice = live.buyer()
    request = {"amount": {"value": 300, "currency": "EUR"}}
    headers = {**alice.headers, "Idempotency-Key": "payout-1"}
    assert live.client.post("/v1/withdrawals", json=request, headers=headers).status_code == 422
    live.deposit(alice, 300)
    assert live.client.post("/v1/withdrawals", json=request, headers=headers).status_code == 201
    assert live.client.post("/v1/withdrawals", json=request, headers=headers).status_code == 201
    assert live.balance(alice) == (0, 0)


def test_wallets_are_kept_per_currency(live: Live) -> None:
    alice = live.buyer()
    live.deposit(alice, 1_000, "EUR")
    live.deposit(alice, 7, "JPY")
    body = live.client.get(f"/v1/accounts/{alice.id}/balance", headers=alice.headers).json()
    assert [(b["currency"], b["available"]["value"]) for b in body["balances"]] == [
        ("EUR", 1_000),
        ("JPY", 7),
    ]


def test_bad_money_is_refused_and_nothing_is_written(live: Live) -> None:
    alice = live.buyer()
    before = _journal_entries(live)
    amounts: list[object] = [
        {"value": 10.0, "currency": "EUR"},
        {"value": 10.5, "currency": "EUR"},
        {"value": "10", "currency": "EUR"},
        {"value": True, "currency": "EUR"},
        {"value": 0, "currency": "EUR"},
        {"value": -5, "currency": "EUR"},
        {"value": 2**63, "currency": "EUR"},
        {"value": 10**400, "currency": "EUR"},
        {"value": 10, "currency": "XXX"},
        {"value": 10, "currency": "eur"},
        {"value": 10},
        {"value": 10, "currency": "EUR", "extra": 1},
        10,
        "10.00 EUR",
        None,
    ]
    for amount in amounts:
        response = live.client.post(
            "/v1/deposits",
            json={"account_id": alice.id, "amount": amount},
            headers={**live.operator.headers, **idem()},
        )
        assert response.status_code == 422, (amount, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    unknown = live.client.post(
        "/v1/deposits",
        json={"account_id": "acc_nobody", "amount": {"value": 10, "currency": "EUR"}},
        headers={**live.operator.headers, **idem()},
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "account_not_found"
    assert _journal_entries(live) == before
    assert live.balance(alice) == (0, 0)


def test_loyalty_points_are_neither_deposited_nor_withdrawn(live: Live) -> None:
    alice = live.buyer()
    for path, body, headers in [
        ("/v1/deposits", {"account_id": alice.id, "amount": {"value": 5, "currency": "XLP"}},
         live.operator.headers),
        ("/v1/withdrawals", {"amount": {"value": 5, "currency": "XLP"}}, alice.headers),
    ]:
        response = live.client.post(path, json=body, headers={**headers, **idem()})
        assert response.status_code == 422
        assert response.json()["code"] == "loyalty_points_are_not_money"


def test_only_operators_deposit(live_factory: Callable[..., Live]) -> None:
    live = live_factory()
    alice = live.buyer()
    refused = live.client.post(
        "/v1/deposits",
        json={"account_id": alice.id, "amount": {"value": 10, "currency": "EUR"}},
        headers={**alice.headers, **idem()},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_required"
    assert live.balance(alice) == (0, 0)
