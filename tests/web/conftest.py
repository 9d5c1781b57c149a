"""Web test fixtures: a small demo market served by a real uvicorn, and headless Chromium.

``demo_site`` seeds ``service.demo`` (size ``small``) into a fresh SQLite file once per session,
then serves ``create_app`` on a free loopback port; its clock is a ``ManualClock`` stopped at the
end of the replay. ``browser`` is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright;
where it is missing the browser tests skip with the reason, except under CI (``CI=true``), where
they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web_site import CHROMIUM, CHROMIUM_ARGS, END, IN_CI, DemoSite, Server

from bonafide.api.app import create_app
from bonafide.bootstrap import connect
from bonafide.clock import ManualClock
from bonafide.service import demo as demo_service
from bonafide.service import ledger as ledger_service
from bonafide.settings import Settings


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    folder = tmp_path_factory.mktemp("demo")
    clock = ManualClock(END)
    settings = Settings(database_url=f"sqlite:///{folder / 'demo.db'}",
                        key_path=folder / "market.key",
                        signup_limit_per_minute=1_000_000, auth_failure_limit_per_minute=1_000_000)
    container = connect(settings, clock=clock, migrate=True)
    result = demo_service.seed_demo(container.uow, read_uow=lambda: container.uow(read_only=True),
                                    settings=settings, clock=clock, end=END, size="small", seed=3)
    server = Server(create_app(container))
    url = server.start()
    try:
        yield DemoSite(url=url, container=container, clock=clock, result=result)
    finally:
        server.stop()
        report = ledger_service.verify(container.uow(read_only=True))
        container.close()
        assert report.ok, report.to_json()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
