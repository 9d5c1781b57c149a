"""``GET /v1/sellers/{id}/reputation`` served by the fraud engine: score, interval and reasons,
with the baseline's figures beside them, on a market with a self-boosting seller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fraud_market import Built, built_market, copy_database
from live_server import START, Live
from order_helpers import tick, without_nagle

from bonafide.settings import Settings

SETTINGS = Settings(database_url="sqlite://", review_window=timedelta(days=5))


@pytest.fixture(autouse=True)
def _fast_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    without_nagle(monkeypatch)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    yield from built_market(request, tmp_path_factory.mktemp("rep"), settings=SETTINGS,
                            start=START)


@pytest.fixture
def database_url(built: Built, tmp_path: Path) -> Iterator[str]:
    """This module's servers run over a copy of the built market (overrides conftest's)."""
    yield from copy_database(built, tmp_path)


def _reputation(live: Live, seller_id: str) -> dict[str, Any]:
    response = live.client.get(f"/v1/sellers/{seller_id}/reputation")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert 0.0 <= body["low"] <= body["score"] <= body["high"] <= 1.0
    assert body["reasons"], "every score says why"
    assert sum(f["effect"] for f in body["breakdown"]) == pytest.approx(body["score"])
    # Customer service feeds reputation (DESIGN.md section 6) as two named steps.
    names = {f["name"] for f in body["breakdown"]}
    assert {"service_response", "service_satisfaction"} <= names, names
    return body


def test_the_reputation_is_the_engines_score_with_interval_and_reasons(
    live_factory: Callable[..., Live], built: Built
) -> None:
    live = live_factory(review_window="5d")
    m = built.market
    live.clock.set(m.reveal_at)
    assert tick(live)["scores_refreshed"] == 1
    booster = _reputation(live, m.booster.id)
    assert booster["method"] == "engine_default"
    assert booster["fraud_score"] >= live.settings.fraud_flag_threshold
    flags = [r for r in booster["reasons"] if r["code"] == "flagged"]
    assert any("praise it received came from suspicious ratings" in r["detail"] for r in flags)
    assert {"good_ratings_received", "bad_ratings_received"} <= {
        r["code"] for r in booster["reasons"]}
    assert booster["engine_score"] is not None
    honest = _reputation(live, m.sellers[0].id)
    assert not [r for r in honest["reasons"] if r["code"] == "flagged"]
    assert honest["score"] > booster["score"], "socks' five stars do not buy a reputation"
    moderator = live.moderator()
    queue = live.client.get("/v1/reports", params={"state": "open", "limit": 100},
                            headers=moderator.headers)
    assert queue.status_code == 200, queue.text
    flagged = {r["target_id"]: r for r in queue.json()["items"]
               if r["reporter_id"] == "system:fraud-engine"}
    assert "suspicious ratings" in flagged[m.booster.id]["reason"]
    # The baseline's figures stay, for transparency: the booster's raw average looks good.
    assert booster["rating"] > 4.0 and booster["verified_reviews"] == 13
    assert 0.0 <= booster["baseline_score"] <= 1.0
    assert booster["dispute_rate"] >= 0 and booster["orders_finished"] == 13


def test_a_seller_nobody_rated_gets_the_prior_with_its_interval(
    live_factory: Callable[..., Live],
) -> None:
    live = live_factory(review_window="5d")
    newcomer = live.seller()
    body = _reputation(live, newcomer.id)
    assert body["engine_score"] is None and body["verified_reviews"] == 0
    assert body["reasons"][0]["code"] == "no_engine_score"
    assert body["high"] - body["low"] > 0.2, "little evidence, a wide interval"
    description = live.client.get("/openapi.json").json()["paths"][
        "/v1/sellers/{seller_id}/reputation"]["get"]["description"]
    assert "interval" in description and "dispute" in description
