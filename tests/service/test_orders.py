"""The order flow's use cases on a real database: escrow moves, timeouts, disputes, reviews,
moderation and reputation, with time passed in (no HTTP here; tests/api covers the interface)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.ledger.model import AccountKind
from bonafide.market.accounts import Principal, Role
from bonafide.market.moderation import ActionKind, TargetKind
from bonafide.market.orders import OrderState
from bonafide.money import Money
from bonafide.service import disputes, ledger, moderation, orders, reputation, reviews, scheduler
from bonafide.service.accounts import grant_moderator_by_id, sign_up
from bonafide.service.listings import create_listing, get_listing
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EUR = "EUR"
SETTINGS = Settings(
    database_url="sqlite://",
    ship_window=timedelta(days=2),
    release_window=timedelta(days=3),
    review_window=timedelta(days=5),
    fee_basis_points=500,
)


@dataclass
class Market:
    new_uow: Callable[[], UnitOfWork]
    buyer: Principal
    seller: Principal
    moderator: Principal
    listing_id: str

    def wallet(self, owner: Principal) -> tuple[int, int]:
        with self.new_uow() as uow:
            account = ledger.account_for(
                uow, kind=AccountKind.WALLET, currency=EUR, owner_id=owner.id
            )
            b = ledger.balance(uow, account)
            uow.commit()
        return b.available.value, b.held.value

    def fees(self) -> int:
        with self.new_uow() as uow:
            b = ledger.sharded_balance(uow, kind=AccountKind.FEES, currency=EUR)
        return b.available.value

    def place(self, quantity: int = 1, *, now: datetime = T0) -> str:
        view = orders.place_order(
            self.new_uow(),
            buyer=self.buyer,
            listing_id=self.listing_id,
            quantity=quantity,
            settings=SETTINGS,
            now=now,
        )
        return view.order.id

    def state(self, order_id: str) -> OrderState:
        return orders.get_order(self.new_uow(), viewer=self.buyer, order_id=order_id).order.state

    def stock(self) -> int:
        with self.new_uow() as uow:
            return get_listing(uow, self.listing_id).stock


@pytest.fixture
def market(engine: Engine) -> Market:
    def new_uow() -> UnitOfWork:
        return UnitOfWork(engine)

    def account(handle: str, roles: set[Role]) -> Principal:
        return sign_up(
            new_uow(), handle=handle, roles=frozenset(roles), settings=SETTINGS, now=T0
        ).account.principal

    buyer = account("buyer", {Role.buyer})
    seller = account("seller", {Role.seller})
    mod = account("mod", {Role.buyer})
    moderator = grant_moderator_by_id(new_uow(), account_id=mod.id, now=T0).principal
    ledger.deposit(
        new_uow(),
        transfer_id="dep-1",
        owner_id=buyer.id,
        amount=Money(10_000, EUR),
        now=T0,
        actor="test",
    )
    listing = create_listing(
        new_uow(),
        seller=seller,
        title="Tea",
        description="green",
        price=Money(1999, EUR),
        stock=5,
        settings=SETTINGS,
        now=T0,
    )
    return Market(new_uow, buyer, seller, moderator, listing.id)


def _verified(m: Market) -> None:
    report = ledger.verify(UnitOfWork(m.new_uow().engine, read_only=True))
    assert report.ok, report.problems


def test_placing_holds_the_total_and_confirming_pays_the_seller_minus_the_fee(m: Market) -> None:
    order_id = m.place()
    assert m.wallet(m.buyer) == (10_000 - 1999, 1999)
    assert m.stock() == 4
    orders.ship_order(
        m.new_uow(), actor=m.seller, order_id=order_id, tracking="TRK1", settings=SETTINGS, now=T0
    )
    view = orders.confirm_order(
        m.new_uow(),
        actor=m.buyer,
        order_id=order_id,
        settings=SETTINGS,
        now=T0 + timedelta(hours=1),
    )
    assert view.order.state is OrderState.COMPLETED
    assert (view.order.seller_amount.value, view.order.fee.value) == (1900, 99)
    assert m.wallet(m.buyer) == (10_000 - 1999, 0)
    assert m.wallet(m.seller) == (1900, 0)
    assert m.fees() == 99
    assert [h.to_state for h in view.history] == [
        OrderState.FUNDED,
        OrderState.SHIPPED,
        OrderState.COMPLETED,
    ]
    _verified(m)


@pytest.fixture
def m(market: Market) -> Market:
    return market


def test_cancel_returns_money_and_stock_and_refuses_after_shipping(m: Market) -> None:
    first, second = m.place(), m.place()
    orders.cancel_order(m.new_uow(), actor=m.seller, order_id=first, reason=None, now=T0)
    assert m.state(first) is OrderState.CANCELLED
    assert m.stock() == 4
    orders.ship_order(
        m.new_uow(), actor=m.seller, order_id=second, tracking=None, settings=SETTINGS, now=T0
    )
    with pytest.raises(Conflict) as caught:
        orders.cancel_order(m.new_uow(), actor=m.buyer, order_id=second, reason=None, now=T0)
    assert caught.value.code == "order_not_in_state"
    assert m.wallet(m.buyer) == (10_000 - 1999, 1999)


def test_partial_refund_posts_the_rest_to_the_seller(m: Market) -> None:
    order_id = m.place()
    view = orders.refund_order(
        m.new_uow(),
        actor=m.seller,
        order_id=order_id,
        amount=Money(999, EUR),
        reason="scratched",
        settings=SETTINGS,
        now=T0,
    )
    assert view.order.state is OrderState.COMPLETED
    assert m.wallet(m.buyer) == (10_000 - 1000, 0)
    assert m.wallet(m.seller) == (950, 0)
    assert m.fees() == 50
    with pytest.raises(Rejected) as caught:
        orders.refund_order(
            m.new_uow(),
            actor=m.seller,
            order_id=m.place(),
            amount=Money(5000, EUR),
            reason=None,
            settings=SETTINGS,
            now=T0,
        )
    assert caught.value.code == "refund_exceeds_order_total"
    _verified(m)


def test_only_the_right_party_acts(m: Market) -> None:
    order_id = m.place()
    with pytest.raises(Forbidden):
        orders.ship_order(
            m.new_uow(), actor=m.buyer, order_id=order_id, tracking=None, settings=SETTINGS, now=T0
        )
    with pytest.raises(Forbidden):
        orders.refund_order(
            m.new_uow(),
            actor=m.buyer,
            order_id=order_id,
            amount=None,
            reason=None,
            settings=SETTINGS,
            now=T0,
        )


def test_the_scheduler_auto_cancels_then_auto_releases(m: Market) -> None:
    unshipped, shipped = m.place(), m.place()
    orders.ship_order(
        m.new_uow(), actor=m.seller, order_id=shipped, tracking=None, settings=SETTINGS, now=T0
    )
    early = scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + timedelta(days=1))
    assert early["auto_cancelled"] == early["auto_released"] == 0
    counts = scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + SETTINGS.ship_window)
    assert counts["auto_cancelled"] == 1
    assert m.state(unshipped) is OrderState.CANCELLED
    counts = scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + SETTINGS.release_window)
    assert counts["auto_released"] == 1
    assert m.state(shipped) is OrderState.AUTO_RELEASED
    assert m.wallet(m.seller) == (1900, 0)
    assert m.wallet(m.buyer) == (10_000 - 1999, 0)
    assert m.stock() == 4
    _verified(m)


def test_an_unresolved_dispute_expires_back_to_the_buyer(m: Market) -> None:
    order_id = m.place()
    disputes.open_dispute(
        m.new_uow(), actor=m.buyer, order_id=order_id, reason="never came", now=T0
    )
    # Timeouts stop while disputed; the hold's own expiry is the last resort.
    counts = scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + timedelta(days=9))
    assert counts["auto_cancelled"] == counts["holds_expired"] == 0
    counts = scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + timedelta(days=10))
    assert counts["holds_expired"] == 1
    view = orders.get_order(m.new_uow(), viewer=m.buyer, order_id=order_id)
    assert view.order.state is OrderState.RESOLVED
    assert view.disputes[0].outcome is not None
    assert m.wallet(m.buyer) == (10_000, 0)
    assert m.wallet(m.seller) == (0, 0)
    _verified(m)


def test_a_replacement_returns_the_order_to_shipped_with_a_fresh_window(m: Market) -> None:
    order_id = m.place()
    orders.ship_order(
        m.new_uow(), actor=m.seller, order_id=order_id, tracking=None, settings=SETTINGS, now=T0
    )
    opened = disputes.open_dispute(
        m.new_uow(), actor=m.buyer, order_id=order_id, reason="broken", now=T0 + timedelta(days=1)
    )
    later = T0 + timedelta(days=2)
    view = disputes.replace_shipment(
        m.new_uow(),
        actor=m.seller,
        dispute_id=opened.dispute.id,
        tracking="TRK2",
        settings=SETTINGS,
        now=later,
    )
    assert view.order.state is OrderState.SHIPPED
    assert view.order.release_by == later + SETTINGS.release_window
    assert view.order.hold_number == 2
    assert m.wallet(m.buyer) == (10_000 - 1999, 1999)
    scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + SETTINGS.release_window)
    assert m.state(order_id) is OrderState.SHIPPED
    scheduler.tick(m.new_uow, settings=SETTINGS, now=later + SETTINGS.release_window)
    assert m.state(order_id) is OrderState.AUTO_RELEASED
    _verified(m)


def test_a_moderator_resolves_unless_a_party_and_the_record_shows_it(m: Market) -> None:
    order_id = m.place()
    opened = disputes.open_dispute(
        m.new_uow(), actor=m.buyer, order_id=order_id, reason="wrong item", now=T0
    )
    with pytest.raises(Forbidden) as caught:
        disputes.resolve_dispute(
            m.new_uow(),
            actor=m.buyer,
            dispute_id=opened.dispute.id,
            refund=Money(0, EUR),
            settings=SETTINGS,
            now=T0,
        )
    assert caught.value.code == "role_required"
    view = disputes.resolve_dispute(
        m.new_uow(),
        actor=m.moderator,
        dispute_id=opened.dispute.id,
        refund=Money(1000, EUR),
        settings=SETTINGS,
        now=T0 + timedelta(hours=2),
    )
    assert view.order.state is OrderState.RESOLVED
    assert m.wallet(m.buyer) == (10_000 - 999, 0)
    assert m.wallet(m.seller) == (950, 0)  # 999 kept: fee 49 (49.95 rounded down), seller 950
    operator = Principal(
        id="op", handle="op", roles=frozenset({Role.operator}), status=m.buyer.status
    )
    record = disputes.get_moderator_record(
        m.new_uow(), viewer=operator, moderator_id=m.moderator.id
    )
    assert record.disputes_resolved == 1
    assert record.median_seconds_to_resolve == 7200.0
    assert record.share_refunded == pytest.approx(1000 / 1999)
    _verified(m)


def test_reviews_are_hidden_until_both_are_in_or_the_window_closes(m: Market) -> None:
    first, second = m.place(), m.place()
    for order_id in (first, second):
        orders.ship_order(
            m.new_uow(), actor=m.seller, order_id=order_id, tracking=None, settings=SETTINGS, now=T0
        )
        orders.confirm_order(
            m.new_uow(), actor=m.buyer, order_id=order_id, settings=SETTINGS, now=T0
        )
    draft = reviews.ReviewDraft(
        overall=4, text="ok", item_as_described=4, communication=5, shipping_speed=3
    )
    r1 = reviews.submit_review(
        m.new_uow(), actor=m.buyer, order_id=first, draft=draft, settings=SETTINGS, now=T0
    )
    assert r1.revealed_at is None
    assert reviews.seller_reviews(m.new_uow(), seller_id=m.seller.id, after=None, limit=10) == []
    reviews.submit_review(
        m.new_uow(),
        actor=m.seller,
        order_id=first,
        draft=reviews.ReviewDraft(overall=5),
        settings=SETTINGS,
        now=T0,
    )
    shown = reviews.seller_reviews(m.new_uow(), seller_id=m.seller.id, after=None, limit=10)
    assert [r.id for r in shown] == [r1.id]
    with pytest.raises(Conflict) as caught:
        reviews.submit_review(
            m.new_uow(), actor=m.buyer, order_id=first, draft=draft, settings=SETTINGS, now=T0
        )
    assert caught.value.code == "review_already_submitted"
    with pytest.raises(Conflict):
        reviews.edit_review(
            m.new_uow(), actor=m.buyer, review_id=r1.id, draft=draft, settings=SETTINGS, now=T0
        )
    r2 = reviews.submit_review(
        m.new_uow(), actor=m.buyer, order_id=second, draft=draft, settings=SETTINGS, now=T0
    )
    counts = scheduler.tick(m.new_uow, settings=SETTINGS, now=T0 + SETTINGS.review_window)
    assert counts["reviews_revealed"] == 1
    assert (
        len(reviews.seller_reviews(m.new_uow(), seller_id=m.seller.id, after=None, limit=10)) == 2
    )
    replied = reviews.reply_to_review(
        m.new_uow(), actor=m.seller, review_id=r2.id, text="thanks", now=T0
    )
    assert replied.reply == "thanks"
    with pytest.raises(Conflict):
        reviews.reply_to_review(m.new_uow(), actor=m.seller, review_id=r2.id, text="again", now=T0)
    rep = reputation.seller_reputation(m.new_uow(), seller_id=m.seller.id, now=T0)
    assert rep.verified_reviews == 2
    assert rep.rating == pytest.approx((4.0 * 5 + 8) / 7)


def test_a_suspended_buyer_cannot_order_but_open_orders_resolve(m: Market) -> None:
    order_id = m.place()
    report = moderation.file_report(
        m.new_uow(),
        reporter=m.seller,
        target_kind=TargetKind.ACCOUNT,
        target_id=m.buyer.id,
        reason="fraud",
        now=T0,
    )
    action = moderation.take_action(
        m.new_uow(),
        moderator=m.moderator,
        kind=ActionKind.SUSPEND_ACCOUNT,
        reason="chargebacks",
        report_id=report.id,
        target_kind=None,
        target_id=None,
        now=T0,
    )
    assert action.affected_account_id == m.buyer.id
    with pytest.raises(Forbidden) as caught:
        m.place()
    assert caught.value.code == "account_suspended"
    orders.ship_order(
        m.new_uow(), actor=m.seller, order_id=order_id, tracking=None, settings=SETTINGS, now=T0
    )
    orders.confirm_order(m.new_uow(), actor=m.buyer, order_id=order_id, settings=SETTINGS, now=T0)
    appeal = moderation.file_appeal(
        m.new_uow(), appellant=m.buyer, action_id=action.id, text="mistake", now=T0
    )
    with pytest.raises(Conflict):
        moderation.file_appeal(
            m.new_uow(), appellant=m.buyer, action_id=action.id, text="again", now=T0
        )
    with pytest.raises(Forbidden):
        moderation.decide_appeal(
            m.new_uow(),
            moderator=m.moderator,
            appeal_id=appeal.id,
            overturn=True,
            reason="ok",
            now=T0,
        )


def test_holds_swept_by_the_ledger_first_still_end_with_the_buyer(m: Market) -> None:
    funded, shipped = m.place(), m.place()
    orders.ship_order(
        m.new_uow(), actor=m.seller, order_id=shipped, tracking=None, settings=SETTINGS, now=T0
    )
    # Say the scheduler was down for longer than the hold's margin and another process swept.
    late = T0 + 2 * (SETTINGS.ship_window + SETTINGS.release_window)
    with m.new_uow() as uow:
        assert ledger.expire_pending(uow, now=late) == 2
        uow.commit()
    counts = scheduler.tick(m.new_uow, settings=SETTINGS, now=late)
    assert counts["holds_expired"] == 2 and counts["failed"] == 0
    assert m.state(funded) is OrderState.CANCELLED
    assert m.state(shipped) is OrderState.RESOLVED
    assert m.wallet(m.buyer) == (10_000, 0)
    assert m.wallet(m.seller) == (0, 0)
    assert m.stock() == 4  # the unshipped order's unit is back; the shipped one is not
    _verified(m)
