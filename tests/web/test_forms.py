"""The web interface without a browser: CSRF, sessions, static files, error pages, charts."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from web_site import END, DemoSite, Server

from bonafide.api.app import create_app
from bonafide.bootstrap import connect
from bonafide.clock import ManualClock
from bonafide.market.service_figures import HeatCell
from bonafide.settings import Settings
from bonafide.web import charts


def csrf_of(client: httpx.Client, path: str = "/signin") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_a_form_without_its_csrf_token_is_refused(demo_site: DemoSite) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        csrf_of(client)
        response = client.post("/signin/demo", data={"role": "operator"})
        assert response.status_code == 403
        assert "csrf_token_invalid" in response.text
        assert "bf_session" not in response.cookies
        forged = client.post("/signin/demo", data={"role": "operator", "csrf_token": "guess"})
        assert forged.status_code == 403


def test_the_demo_login_sets_an_http_only_same_site_session(demo_site: DemoSite) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        token = csrf_of(client)
        response = client.post("/signin/demo", data={"role": "operator", "csrf_token": token,
                                                     "next": "/trust"})
        assert response.status_code == 303 and response.headers["location"].startswith("/trust")
        cookie = response.headers["set-cookie"]
        assert "bf_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert client.get("/trust").status_code == 200


def test_a_wrong_api_key_is_refused_and_pages_for_members_ask_to_sign_in(
    demo_site: DemoSite,
) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        token = csrf_of(client)
        refused = client.post("/signin", data={"api_key": "bfk_nope", "csrf_token": token})
        assert refused.status_code == 401 and "not valid" in refused.text
        assert client.get("/orders").headers["location"] == "/signin?next=/orders"


def test_only_staff_see_the_dispute_queue_and_only_operators_the_trust_page(
    demo_site: DemoSite,
) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        token = csrf_of(client)
        client.post("/signin", data={"api_key": demo_site.login("buyer").api_key,
                                     "csrf_token": token})
        assert client.get("/disputes").status_code == 403
        assert client.get("/trust").status_code == 403
        assert client.get("/orders").status_code == 200


def test_an_open_redirect_after_sign_in_is_not_followed(demo_site: DemoSite) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        token = csrf_of(client)
        response = client.post("/signin", data={"api_key": demo_site.login("buyer").api_key,
                                                "csrf_token": token,
                                                "next": "//evil.example/"})
        assert response.headers["location"].startswith("/?")


def test_static_files_come_from_a_fixed_list(demo_site: DemoSite) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        htmx = client.get("/static/htmx.min.js")
        assert htmx.status_code == 200 and "Zero-Clause BSD" in htmx.text[:300]
        assert client.get("/static/style.css").status_code == 200
        assert client.get("/static/..%2Fpages.py").status_code == 404
        assert client.get("/static/pages.py").status_code == 404


def test_an_unknown_listing_is_an_html_error_page(demo_site: DemoSite) -> None:
    with httpx.Client(base_url=demo_site.url) as client:
        response = client.get("/listings/lst_nope")
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
        assert "listing_not_found" in response.text


def test_the_histogram_scales_bars_to_the_largest_count() -> None:
    bars = charts.histogram((1, 0, 0, 2, 8), width=100)
    assert [b.stars for b in bars] == [5, 4, 3, 2, 1]
    assert bars[0].width == 100 and bars[1].width == 25 and bars[2].width == 0
    assert abs(sum(b.share for b in bars) - 1) < 1e-9


def test_heat_cells_tell_unanswered_from_quiet_hours() -> None:
    quiet = HeatCell(0, 0, None, None)
    row = [quiet] * 24
    grid = [list(row) for _ in range(7)]
    grid[2][9] = HeatCell(3, 0, 900, 900)
    grid[6][23] = HeatCell(0, 2, None, None)
    cells = {(c.day, c.hour): c for c in charts.heat_cells(grid)}
    assert len(cells) == 7 * 24
    assert "3 answered, median 15 min" in cells[(2, 9)].label
    assert "2 unanswered" in cells[(6, 23)].label
    assert "no questions" in cells[(0, 0)].label


def test_the_force_layout_is_deterministic_and_inside_the_box() -> None:
    edges = [(0, 1), (1, 2), (2, 0), (3, 4)]
    first = charts.layout(5, edges, size=300)
    assert (first == charts.layout(5, edges, size=300)).all()
    assert first.min() >= 0 and first.max() <= 300
    linked = ((first[0] - first[1]) ** 2).sum()
    far = ((first[0] - first[4]) ** 2).sum()
    assert linked < far


def test_a_market_that_is_not_the_demo_has_no_demo_login(tmp_path: Path) -> None:
    container = connect(Settings(database_url=f"sqlite:///{tmp_path / 'plain.db'}"),
                        clock=ManualClock(END), migrate=True)
    server = Server(create_app(container))
    try:
        with httpx.Client(base_url=server.start()) as client:
            page = client.get("/signin")
            assert page.status_code == 200 and "Demo login" not in page.text
            token = csrf_of(client)
            refused = client.post("/signin/demo", data={"role": "operator", "csrf_token": token})
            assert refused.status_code == 404 and "demo_login_not_available" in refused.text
            assert "bf_session" not in refused.cookies
    finally:
        server.stop()
        container.close()


def test_the_trust_card_breakdown_adds_up_to_its_headline_and_keeps_fraud_signals_for_staff(
    demo_site: DemoSite,
) -> None:
    seller = demo_site.login("seller").account_id
    with httpx.Client(base_url=demo_site.url) as client:
        page = client.get(f"/sellers/{seller}")
    assert page.status_code == 200
    card = page.text[page.text.index('class="card trust"'):]
    headline = re.search(r'<p class="big">(\d+)%</p>', card)
    start = re.findall(r'class="start" data-effect="([-\d.e]+)"', card)
    steps = re.findall(r'class="step" data-effect="([-\d.e]+)"', card)
    total = re.search(r'class="total" data-score="([-\d.e]+)"', card)
    assert headline is not None and total is not None and len(start) == 1
    assert float(start[0]) + sum(map(float, steps)) == pytest.approx(float(total.group(1)))
    assert round(float(total.group(1)) * 100) == int(headline.group(1))
    # The engine's fraud signals and its trust in the seller are for moderators, not buyers.
    assert "fraud signal" not in card and "trust from ratings received" not in card
