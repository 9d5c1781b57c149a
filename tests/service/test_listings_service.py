"""Listing use cases on the real database: stock reservations never oversell under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from bonafide.errors import BonafideError, Conflict, NotFound, Rejected
from bonafide.market.accounts import Role
from bonafide.money import Money
from bonafide.service import accounts as accounts_service
from bonafide.service import listings as service
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _listing(engine: Engine, *, stock: int) -> str:
    settings = Settings(database_url=str(engine.url))
    made = accounts_service.sign_up(
        UnitOfWork(engine), handle="potter", roles=frozenset({Role.seller}), settings=settings,
        now=NOW,
    )
    listing = service.create_listing(
        UnitOfWork(engine),
        seller=made.account.principal,
        title="Teapot",
        description="",
        price=Money(1_999, "EUR"),
        stock=stock,
        settings=settings,
        now=NOW,
    )
    return listing.id


def _reserve(engine: Engine, listing_id: str, quantity: int = 1) -> str:
    uow = UnitOfWork(engine)
    try:
        with uow:
            service.reserve_stock(uow, listing_id=listing_id, quantity=quantity, now=NOW)
            uow.commit()
    except BonafideError as error:
        return error.code
    return "reserved"


def test_twenty_concurrent_reservations_of_stock_five_reserve_exactly_five(
    engine: Engine,
) -> None:
    listing_id = _listing(engine, stock=5)
    results: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def worker() -> None:
        barrier.wait()
        outcome = _reserve(engine, listing_id)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("reserved") == 5
    assert results.count("insufficient_stock") == 15
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        assert service.get_listing(uow, listing_id).stock == 0


def test_released_stock_can_be_reserved_again(engine: Engine) -> None:
    listing_id = _listing(engine, stock=2)
    assert _reserve(engine, listing_id, 2) == "reserved"
    assert _reserve(engine, listing_id) == "insufficient_stock"
    uow = UnitOfWork(engine)
    with uow:
        after = service.release_stock(uow, listing_id=listing_id, quantity=1, now=NOW)
        uow.commit()
    assert after.stock == 1
    assert _reserve(engine, listing_id) == "reserved"


def test_reservations_name_what_went_wrong(engine: Engine) -> None:
    listing_id = _listing(engine, stock=3)
    uow = UnitOfWork(engine)
    with uow:
        with pytest.raises(NotFound, match="listing_not_found"):
            service.reserve_stock(uow, listing_id="lst_nope", quantity=1, now=NOW)
        with pytest.raises(Rejected, match="quantity_out_of_range"):
            service.reserve_stock(uow, listing_id=listing_id, quantity=0, now=NOW)
        with pytest.raises(Conflict, match="insufficient_stock"):
            service.reserve_stock(uow, listing_id=listing_id, quantity=4, now=NOW)
        service.set_listing_hidden(uow, listing_id=listing_id, hidden=True, now=NOW)
        with pytest.raises(Rejected, match="listing_inactive"):
            service.reserve_stock(uow, listing_id=listing_id, quantity=1, now=NOW)
        uow.commit()
