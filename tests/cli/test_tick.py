"""``bonafide tick``: one pass of the scheduler from the command line, reported as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bonafide.cli import main
from bonafide.market.accounts import Role
from bonafide.market.orders import OrderState
from bonafide.money import Money
from bonafide.service import ledger, orders
from bonafide.service.accounts import sign_up
from bonafide.service.listings import create_listing
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def test_tick_auto_cancels_an_order_past_its_ship_window(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=database_url)
    placed = datetime.now(UTC) - settings.ship_window - timedelta(days=1)
    buyer = sign_up(
        UnitOfWork(engine),
        handle="buyer",
        roles=frozenset({Role.buyer}),
        settings=settings,
        now=placed,
    ).account.principal
    seller = sign_up(
        UnitOfWork(engine),
        handle="seller",
        roles=frozenset({Role.seller}),
        settings=settings,
        now=placed,
    ).account.principal
    ledger.deposit(
        UnitOfWork(engine),
        transfer_id="d1",
        owner_id=buyer.id,
        amount=Money(5_000, "EUR"),
        now=placed,
        actor="test",
    )
    listing = create_listing(
        UnitOfWork(engine),
        seller=seller,
        title="Tea",
        description="",
        price=Money(1_000, "EUR"),
        stock=3,
        settings=settings,
        now=placed,
    )
    order = orders.place_order(
        UnitOfWork(engine),
        buyer=buyer,
        listing_id=listing.id,
        quantity=2,
        settings=settings,
        now=placed,
    ).order

    assert run(["tick", "--db", database_url]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["auto_cancelled"] == 1 and counts["failed"] == 0
    after = orders.get_order(UnitOfWork(engine), viewer=buyer, order_id=order.id).order
    assert after.state is OrderState.CANCELLED

    assert run(["tick", "--db", database_url]) == 0
    assert json.loads(capsys.readouterr().out)["auto_cancelled"] == 0
