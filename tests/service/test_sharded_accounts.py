"""The market's fee account and loyalty points pool are sharded: releases spread over sub-accounts
by order id, reads sum them, and releases on different shards no longer wait for each other."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

from bonafide.ledger.model import AccountKind
from bonafide.market.accounts import Principal, Role
from bonafide.market.orders import OrderState
from bonafide.money import POINTS, Money
from bonafide.service import ledger, orders, promotions
from bonafide.service.accounts import sign_up
from bonafide.service.listings import create_listing
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://", fee_basis_points=500)
ORDERS_MAX = 64
"""Orders placed at most while looking for two on different shards (1 in 16 share one)."""


@dataclass(frozen=True)
class Pair:
    buyer: Principal
    seller: Principal
    listing_id: str


def pair(engine: Engine, name: str) -> Pair:
    def account(handle: str, role: Role) -> Principal:
        return sign_up(
            UnitOfWork(engine), handle=handle, roles=frozenset({role}), settings=SETTINGS, now=T0
        ).account.principal

    buyer, seller = account(f"{name}-buyer", Role.buyer), account(f"{name}-seller", Role.seller)
    ledger.deposit(UnitOfWork(engine), transfer_id=f"dep-{name}", owner_id=buyer.id,
                   amount=Money(10**9, "EUR"), now=T0, actor="test")
    listing = create_listing(UnitOfWork(engine), seller=seller, title="Tea", description="green",
                             price=Money(1999, "EUR"), stock=1000, settings=SETTINGS, now=T0)
    return Pair(buyer, seller, listing.id)


def shipped(engine: Engine, p: Pair) -> str:
    view = orders.place_order(UnitOfWork(engine), buyer=p.buyer, listing_id=p.listing_id,
                              quantity=1, settings=SETTINGS, now=T0)
    orders.ship_order(UnitOfWork(engine), actor=p.seller, order_id=view.order.id, tracking=None,
                      settings=SETTINGS, now=T0)
    return view.order.id


def shipped_on_another_shard(engine: Engine, p: Pair, *, than: str) -> str:
    for _ in range(ORDERS_MAX):
        order_id = shipped(engine, p)
        if ledger.shard_of(order_id) != ledger.shard_of(than):
            return order_id
    raise AssertionError(f"{ORDERS_MAX} orders all fell on shard {ledger.shard_of(than)}")


def confirm(engine: Engine, p: Pair, order_id: str) -> OrderState:
    view = orders.confirm_order(UnitOfWork(engine), actor=p.buyer, order_id=order_id,
                                settings=SETTINGS, now=T0)
    return view.order.state


def test_fees_and_points_spread_over_shards_and_read_as_one_sum(engine: Engine) -> None:
    p = pair(engine, "a")
    first = shipped(engine, p)
    second = shipped_on_another_shard(engine, p, than=first)
    assert confirm(engine, p, first) is confirm(engine, p, second) is OrderState.COMPLETED
    with UnitOfWork(engine) as uow:
        fee_shards = ledger.sharded_accounts(uow, kind=AccountKind.FEES, currency="EUR")
        fees = ledger.sharded_balance(uow, kind=AccountKind.FEES, currency="EUR")
        pool_shards = ledger.sharded_accounts(uow, kind=AccountKind.PROMOTIONS, currency=POINTS)
        issued = ledger.sharded_balance(uow, kind=AccountKind.EXTERNAL, currency=POINTS)
        one = ledger.balance(uow, ledger.sharded_account_for(
            uow, kind=AccountKind.FEES, currency="EUR", spread_by=first))
    # 5 % of 19.99 twice, on two accounts; the sum is what "the fee account" holds.
    assert len(fee_shards) == 2 and len(pool_shards) == 2
    assert (one.posted.value, fees.posted.value) == (99, 2 * 99)
    # 19 points per order were issued into the pool's shards and paid out to the buyer.
    assert issued.posted.value == -2 * 19
    summary = promotions.points_summary(UnitOfWork(engine), viewer=p.buyer, account_id=p.buyer.id,
                                        settings=SETTINGS, now=T0)
    assert summary.balance == 2 * 19
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems


def fee_shard(engine: Engine, order_id: str) -> str:
    """The fee sub-account the release of ``order_id`` credits (opened if need be)."""
    with UnitOfWork(engine) as uow:
        shard = ledger.sharded_account_for(uow, kind=AccountKind.FEES, currency="EUR",
                                           spread_by=order_id)
        uow.commit()
    return shard


def test_a_retried_release_names_the_same_shard(engine: Engine) -> None:
    p = pair(engine, "b")
    order_id = shipped(engine, p)
    assert fee_shard(engine, order_id) == fee_shard(engine, order_id)


def confirm_in_thread(engine: Engine, p: Pair, order_id: str) -> tuple[threading.Thread, list]:
    outcome: list[OrderState | BaseException] = []

    def run() -> None:
        try:
            outcome.append(confirm(engine, p, order_id))
        except BaseException as error:  # reported by the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_release_does_not_wait_for_an_open_release_on_another_shard(engine: Engine) -> None:
    # Two buyers and two sellers, as the load benchmark's clients: only market-wide accounts
    # (fees, the points pool, points' external account, journal lanes) could be shared.
    a, b = pair(engine, "a"), pair(engine, "b")
    first = shipped(engine, a)
    second = shipped_on_another_shard(engine, b, than=first)
    open_release = UnitOfWork(engine)
    with open_release:
        # The first release holds every lock it takes until it commits.
        orders.confirm_order_in(open_release, actor=a.buyer, order_id=first, settings=SETTINGS,
                                now=T0)
        thread, outcome = confirm_in_thread(engine, b, second)
        thread.join(timeout=60)
        assert not thread.is_alive(), "the second release waited for the first one's commit"
        assert outcome == [OrderState.COMPLETED]
        open_release.commit()
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_release_waits_while_its_own_fee_shard_is_locked(engine: Engine) -> None:
    # The control for the test above: the same wait does show when the shard is taken.
    p = pair(engine, "c")
    order_id = shipped(engine, p)
    shard = fee_shard(engine, order_id)
    with engine.connect() as holder:
        holder.execute(text("SELECT id FROM ledger_accounts WHERE id = :id FOR UPDATE"),
                       {"id": shard})
        thread, outcome = confirm_in_thread(engine, p, order_id)
        thread.join(timeout=1)
        assert thread.is_alive() and outcome == []
        holder.rollback()
    thread.join(timeout=60)
    assert outcome == [OrderState.COMPLETED]
