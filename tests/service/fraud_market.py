"""A small market with one self-boosting seller, built through the real use cases.

``build_market(new_uow, settings=..., start=...)`` signs up honest sellers and buyers who trade
and review normally, and one seller (``booster``) who buys from themself through sock buyer
accounts that share the seller's device fingerprint, each leaving five stars. Reviews are left
unrevealed (only the buyer reviews); ``reveal_at`` is when a tick reveals them all. Used by
``test_fraud_wiring.py`` and ``tests/api/test_reputation_engine.py``.

Building it takes seconds, so ``built_market`` builds it once per test module and backend and
``copy_database`` gives each test its own copy (a file copy on SQLite; ``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bonafide.market.accounts import Principal, Role
from bonafide.money import Money
from bonafide.service import ledger, orders, reviews
from bonafide.service.accounts import grant_moderator_by_id, sign_up
from bonafide.service.listings import create_listing
from bonafide.service.trust import fingerprint_hash
from bonafide.settings import Settings
from bonafide.store.db import make_engine
from bonafide.store.trust_repo import TrustRepository
from bonafide.store.uow import UnitOfWork

HONEST_SELLERS = 4
HONEST_BUYERS = 8
SOCKS = 5
PRICE = 2_000


@dataclass
class FraudMarket:
    new_uow: Callable[[], UnitOfWork]
    settings: Settings
    booster: Principal
    socks: list[Principal]
    sellers: list[Principal]
    buyers: list[Principal]
    moderator: Principal
    reveal_at: datetime
    listings: dict[str, str] = field(default_factory=dict)
    clock: list[datetime] = field(default_factory=list)

    def now(self) -> datetime:
        self.clock[0] += timedelta(minutes=7)
        return self.clock[0]

    def trade(self, buyer: Principal, seller: Principal, stars: int) -> str:
        """A completed order with the buyer's review (hidden until the window closes)."""
        order = orders.place_order(self.new_uow(), buyer=buyer, listing_id=self.listings[seller.id],
                                   quantity=1, settings=self.settings, now=self.now()).order
        orders.ship_order(self.new_uow(), actor=seller, order_id=order.id, tracking="T1",
                          settings=self.settings, now=self.now())
        orders.confirm_order(self.new_uow(), actor=buyer, order_id=order.id,
                             settings=self.settings, now=self.now())
        draft = reviews.ReviewDraft(overall=stars, item_as_described=stars,
                                    communication=stars, shipping_speed=stars)
        reviews.submit_review(self.new_uow(), actor=buyer, order_id=order.id, draft=draft,
                              settings=self.settings, now=self.now())
        finished = self.clock[0] + self.settings.review_window + timedelta(minutes=1)
        self.reveal_at = max(self.reveal_at, finished)
        return order.id


def _member(market_uow: Callable[[], UnitOfWork], settings: Settings, handle: str,
            roles: set[Role], now: datetime) -> Principal:
    return sign_up(market_uow(), handle=handle, roles=frozenset(roles), settings=settings,
                   now=now).account.principal


def build_market(new_uow: Callable[[], UnitOfWork], *, settings: Settings,
                 start: datetime) -> FraudMarket:
    def member(handle: str, roles: set[Role]) -> Principal:
        return _member(new_uow, settings, handle, roles, start)

    sellers = [member(f"shop{i}", {Role.seller}) for i in range(HONEST_SELLERS)]
    booster = member("booster", {Role.seller})
    buyers = [member(f"buyer{i}", {Role.buyer}) for i in range(HONEST_BUYERS)]
    socks = [member(f"sock{i}", {Role.buyer}) for i in range(SOCKS)]
    mod = member("mod", {Role.buyer})
    moderator = grant_moderator_by_id(new_uow(), account_id=mod.id, now=start).principal
    for n, buyer in enumerate(buyers + socks):
        ledger.deposit(new_uow(), transfer_id=f"dep-{n}", owner_id=buyer.id,
                       amount=Money(100_000, "EUR"), now=start, actor="test")
    market = FraudMarket(new_uow, settings, booster, socks, sellers, buyers, moderator,
                         reveal_at=start, clock=[start])
    for seller in [*sellers, booster]:
        market.listings[seller.id] = create_listing(
            new_uow(), seller=seller, title="Tea", description="green",
            price=Money(PRICE, "EUR"), stock=1_000, settings=settings, now=start).id
    with new_uow() as uow:
        repo = uow.repo(TrustRepository)
        for account in [booster, *socks]:
            hashed = fingerprint_hash(salt="test", kind="device", value="booster-phone")
            repo.add_fingerprint(account_id=account.id, now=start, fingerprint_hash=hashed)
        uow.commit()
    for i, buyer in enumerate(buyers):
        for k in range(3):
            stars = (5, 5, 4, 5, 3)[(i + k) % 5]
            market.trade(buyer, sellers[(i + k) % HONEST_SELLERS], stars)
    for sock in socks:
        for _ in range(2):
            market.trade(sock, booster, 5)
    for buyer in buyers[:3]:
        market.trade(buyer, booster, 2)
    return market


@dataclass(frozen=True)
class Built:
    """A database holding the market, and the market's cast (ids stay valid in every copy)."""

    backend: str
    url: str
    market: FraudMarket
    admin_url: str = ""


_names = itertools.count()


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def built_market(request: pytest.FixtureRequest, folder: Path, *, settings: Settings,
                 start: datetime) -> Iterator[Built]:
    """Build the market once in a database of its own on ``request.param``'s backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = folder / "market.db"
        shutil.copyfile(template, path)
        url, admin_url = f"sqlite:///{path}", ""
    else:
        admin_url = request.getfixturevalue("postgres_server")
        name = f"fm_{os.getpid()}_{next(_names)}"
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE bonafide_template'))
        admin.dispose()
        url = _with_database(admin_url, name)
    engine = make_engine(url)
    try:
        market = build_market(lambda: UnitOfWork(engine), settings=settings, start=start)
    finally:
        engine.dispose()  # a template must have no connections left (and SQLite checkpoints)
    yield Built(request.param, url, market, admin_url)
    if admin_url:
        _drop(admin_url, make_url(url).database or "")


def _drop(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copy_database(built: Built, folder: Path) -> Iterator[str]:
    """A fresh copy of the built market's database for one test; dropped after it."""
    if built.backend == "sqlite":
        path = folder / "copy.db"
        shutil.copyfile(make_url(built.url).database or "", path)
        yield f"sqlite:///{path}"
        return
    name = f"fc_{os.getpid()}_{next(_names)}"
    admin = make_engine(built.admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(built.url).database}"'))
    admin.dispose()
    try:
        yield _with_database(built.admin_url, name)
    finally:
        _drop(built.admin_url, name)


def market_on(built: Built, engine: Engine) -> FraudMarket:
    """The built market's cast, working on ``engine`` (a copy), with its own clock."""
    return replace(built.market, new_uow=lambda: UnitOfWork(engine),
                   clock=list(built.market.clock), listings=dict(built.market.listings))
