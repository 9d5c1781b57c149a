"""Customer service over HTTP: hours, the service profile, threads, the authorization matrix,
auto-acknowledgements and problem+json errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from live_server import Live, Member
from order_helpers import deal, without_nagle

OFFICE = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


def put_hours(live: Live, who: Member, seller_id: str, body: dict[str, object]) -> object:
    return live.client.put(f"/v1/sellers/{seller_id}/hours", json=body, headers=who.headers)


def problem_code(response: object) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    return str(response.json()["code"])  # type: ignore[attr-defined]


def test_a_seller_sets_hours_and_anyone_reads_them(live: Live) -> None:
    seller = live.seller()
    body = {"time_zone": "Europe/Berlin", "weekly": OFFICE, "holidays": ["2026-12-24"]}
    response = put_hours(live, seller, seller.id, body)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    read = live.client.get(f"/v1/sellers/{seller.id}/hours")
    assert read.status_code == 200
    assert read.json()["set"] is True and read.json()["weekly"]["mon"] == OFFICE["mon"]
    other = live.seller()
    refused = put_hours(live, other, seller.id, body)
    assert refused.status_code == 403 and problem_code(refused) == "only_the_seller_sets_hours"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"time_zone": "Mars/Base", "weekly": {}}, "unknown_time_zone"),
        (
            {"time_zone": "UTC", "weekly": {"mon": [{"start": "17:00", "end": "09:00"}]}},
            "hours_range_inverted",
        ),
        (
            {
                "time_zone": "UTC",
                "weekly": {
                    "mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]
                },
            },
            "hours_ranges_overlap",
        ),
    ],
)
def test_bad_hours_are_422_problems(live: Live, body: dict[str, object], code: str) -> None:
    seller = live.seller()
    response = put_hours(live, seller, seller.id, body)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert problem_code(response) == code


def test_threads_follow_the_authorization_matrix_and_ack_after_hours(live: Live) -> None:
    d = deal(live)
    put_hours(live, d.seller, d.seller.id, {"time_zone": "Europe/Berlin", "weekly": OFFICE})
    outsider = live.buyer()
    opened = live.client.post("/v1/threads", json={"order_id": d.order_id}, headers=d.buyer.headers)
    assert opened.status_code == 201, opened.text
    tid = opened.json()["id"]
    assert (
        live.client.post(
            "/v1/threads", json={"order_id": d.order_id}, headers=d.seller.headers
        ).json()["id"]
        == tid
    )
    hidden = live.client.get(f"/v1/threads/{tid}", headers=outsider.headers)
    assert hidden.status_code == 404 and problem_code(hidden) == "thread_not_found"
    assert live.client.get(f"/v1/threads/{tid}").status_code == 401
    # Monday 2026-01-05, 19:00 Berlin: after hours → one acknowledgement.
    live.clock.advance(timedelta(hours=9))
    posted = live.client.post(
        f"/v1/threads/{tid}/messages", json={"body": "Hello?"}, headers=d.buyer.headers
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["acknowledgement"]["automatic"] is True
    assert posted.json()["next_opening_at"] == "2026-01-06T08:00:00Z"
    again = live.client.post(
        f"/v1/threads/{tid}/messages", json={"body": "Anyone?"}, headers=d.buyer.headers
    )
    assert again.json()["acknowledgement"] is None
    read = live.client.post(f"/v1/threads/{tid}/read", headers=d.seller.headers)
    assert read.status_code == 200
    assert read.json()["messages"][0]["read_by"] == [d.seller.id]
    mine = live.client.get("/v1/threads", headers=d.seller.headers).json()["items"]
    assert [t["id"] for t in mine] == [tid]


def test_closing_and_csat(live: Live) -> None:
    buyer, seller = live.buyer(), live.seller()
    tid = live.client.post(
        "/v1/threads", json={"seller_id": seller.id, "subject": "Sizes?"}, headers=buyer.headers
    ).json()["id"]
    early = live.client.post(f"/v1/threads/{tid}/csat", json={"score": 5}, headers=buyer.headers)
    assert early.status_code == 409 and problem_code(early) == "thread_not_closed"
    closed = live.client.post(f"/v1/threads/{tid}/close", headers=seller.headers)
    assert closed.json()["state"] == "closed"
    bad = live.client.post(f"/v1/threads/{tid}/csat", json={"score": 6}, headers=buyer.headers)
    assert bad.status_code == 422
    by_seller = live.client.post(
        f"/v1/threads/{tid}/csat", json={"score": 5}, headers=seller.headers
    )
    assert by_seller.status_code == 403
    rated = live.client.post(f"/v1/threads/{tid}/csat", json={"score": 4}, headers=buyer.headers)
    assert rated.status_code == 200 and rated.json()["csat"] == 4
    both = live.client.post(
        "/v1/threads", json={"seller_id": seller.id, "order_id": "ord_x"}, headers=buyer.headers
    )
    assert both.status_code == 422 and problem_code(both) == "thread_needs_order_or_seller"


def test_the_service_profile_shows_figures_tier_and_heat_map(live: Live) -> None:
    seller = live.seller()
    response = live.client.get(f"/v1/sellers/{seller.id}/service")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tier"]["name"] == "new"
    assert len(body["heat_map"]) == 7 and len(body["heat_map"][0]) == 24
    assert set(body["figures"]) >= {
        "first_response",
        "first_response_business",
        "answered_within_24h",
        "after_hours_coverage",
        "dispute_resolution",
        "refund_rate",
        "csat",
    }
    missing = live.client.get(f"/v1/sellers/{live.buyer().id}/service")
    assert missing.status_code == 404 and problem_code(missing) == "seller_not_found"
