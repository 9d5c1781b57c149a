"""Promotion use cases on a real database (SQLite and PostgreSQL): creating promotions, quotes,
the operator's budget, and loyalty points awarded, spent, expired and reversed in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bonafide.errors import Forbidden, NotFound, Rejected
from bonafide.ledger.model import AccountKind
from bonafide.market.accounts import Principal, Role
from bonafide.market.promotions import Funder, PromotionKind, QuantityTier
from bonafide.money import POINTS, Money
from bonafide.service import ledger, orders, promotions
from bonafide.service.accounts import create_operator, sign_up
from bonafide.service.listings import create_listing
from bonafide.service.promotions import PromotionSpec
from bonafide.settings import Settings
from bonafide.store.order_repo import OrderRepository
from bonafide.store.uow import UnitOfWork

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://")


def eur(value: int) -> Money:
    return Money(value, "EUR")


@dataclass
class Market:
    new_uow: Callable[[], UnitOfWork]
    buyer: Principal
    seller: Principal
    other_seller: Principal
    operator: Principal
    listing_id: str
    other_listing_id: str

    def offer(self, who: Principal, **changes: object) -> str:
        spec = PromotionSpec(
            kind=PromotionKind.OFFER,
            name="Spring",
            starts_at=T0 - timedelta(hours=1),
            ends_at=T0 + timedelta(days=1),
            listing_id=self.listing_id,
            basis_points=1000,
        )
        spec = PromotionSpec(**{**{f: getattr(spec, f) for f in spec.__slots__}, **changes})  # type: ignore[arg-type]
        return promotions.create_promotion(self.new_uow(), actor=who, spec=spec, now=T0).id

    def quote(
        self, quantity: int = 1, points: int = 0, now: datetime = T0
    ) -> promotions.StoredQuote:
        return promotions.create_quote(
            self.new_uow(),
            buyer=self.buyer,
            listing_id=self.listing_id,
            quantity=quantity,
            points=points,
            settings=SETTINGS,
            now=now,
        )

    def points(self, now: datetime = T0) -> promotions.PointsSummary:
        return promotions.points_summary(
            self.new_uow(), viewer=self.buyer, account_id=self.buyer.id, settings=SETTINGS, now=now
        )

    def award(self, order_id: str, now: datetime = T0) -> int:
        with self.new_uow() as uow:
            order = uow.repo(OrderRepository).get(order_id)
            assert order is not None
            points = promotions.award_points(uow, order=order, settings=SETTINGS, now=now)
            uow.commit()
        return points

    def place(self, quantity: int = 1) -> str:
        return orders.place_order(
            self.new_uow(),
            buyer=self.buyer,
            listing_id=self.listing_id,
            quantity=quantity,
            settings=SETTINGS,
            now=T0,
        ).order.id


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
    other = account("other", {Role.seller})
    operator = create_operator(
        new_uow(), handle="operator", settings=SETTINGS, now=T0
    ).account.principal
    ledger.deposit(
        new_uow(), transfer_id="dep", owner_id=buyer.id, amount=eur(500_000), now=T0, actor="t"
    )

    def listing(who: Principal) -> str:
        return create_listing(
            new_uow(),
            seller=who,
            title="Tea",
            description="green",
            price=eur(2000),
            stock=100,
            settings=SETTINGS,
            now=T0,
        ).id

    return Market(new_uow, buyer, seller, other, operator, listing(seller), listing(other))


def test_a_sellers_offer_shows_in_the_quote_with_its_reason_and_funder(market: Market) -> None:
    pid = market.offer(market.seller)
    stored = market.quote(quantity=2)
    assert stored.priced.total == eur(3600)
    (applied,) = stored.priced.applied
    assert (applied.promotion_id, applied.funder, applied.funding_account()) == (
        pid,
        Funder.SELLER,
        f"seller:{market.seller.id}",
    )
    assert stored.expires_at == T0 + SETTINGS.quote_ttl


def test_an_operator_offer_needs_budget_and_says_so_when_there_is_none(market: Market) -> None:
    pid = market.offer(market.operator, basis_points=2000)
    q = market.quote()
    assert {s.promotion_id: s.code for s in q.priced.skipped} == {pid: "funding_unavailable"}
    with market.new_uow() as uow:
        promotions.fund_budget_in(
            uow, amount=eur(50_000), transfer_id="budget-1", actor="op", now=T0
        )
        uow.commit()
    assert promotions.budget(market.new_uow(), currency="EUR").available == eur(50_000)
    q = market.quote()
    assert q.priced.applied[0].funding_account() == "operator:promotions:EUR"
    assert q.priced.total == eur(1600)


def test_only_the_seller_promotes_their_listings(market: Market) -> None:
    with pytest.raises(Forbidden, match="sellers_promote_their_own_listings"):
        market.offer(market.other_seller)
    with pytest.raises(Forbidden, match="role_required"):
        market.offer(market.buyer)
    pid = market.offer(market.seller)
    with pytest.raises(Forbidden, match="not_your_promotion"):
        promotions.set_promotion_active(
            market.new_uow(), actor=market.other_seller, promotion_id=pid, active=False, now=T0
        )
    promotions.set_promotion_active(
        market.new_uow(), actor=market.seller, promotion_id=pid, active=False, now=T0
    )
    assert market.quote().priced.skipped[0].code == "promotion_disabled"
    with pytest.raises(NotFound, match="promotion_not_found"):
        promotions.get_promotion(market.new_uow(), promotion_id="prm_nope")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"basis_points": 15_000}, "discount_percent_out_of_range"),
        ({"starts_at": T0 + timedelta(days=2)}, "promotion_window_inverted"),
        ({"time_zone": "Nowhere/Nothing", "starts_at": datetime(2026, 5, 4)}, "unknown_time_zone"),
        ({"basis_points": None, "amount_off": eur(-5)}, "discount_amount_must_be_positive"),
    ],
)
def test_bad_promotions_are_refused_with_named_errors(
    market: Market, changes: dict[str, object], code: str
) -> None:
    with pytest.raises(Rejected) as caught:
        market.offer(market.seller, **changes)
    assert caught.value.code == code


def test_a_negative_tier_price_is_refused(market: Market) -> None:
    spec = PromotionSpec(
        kind=PromotionKind.QUANTITY_TIERS,
        name="Bulk",
        starts_at=T0,
        ends_at=None,
        listing_id=market.listing_id,
        tiers=(QuantityTier(3, eur(-1)),),
    )
    with pytest.raises(Rejected, match="price_must_be_positive"):
        promotions.create_promotion(market.new_uow(), actor=market.seller, spec=spec, now=T0)


def test_points_are_awarded_once_per_order_in_the_xlp_ledger_and_expire(market: Market) -> None:
    order_id = market.place(quantity=3)  # 60.00 EUR → 60 points as a member
    assert market.award(order_id) == 60
    assert market.award(order_id) == 0  # idempotent
    summary = market.points()
    assert (summary.balance, summary.earned_last_year, summary.tier) == (60, 60, "member")
    with market.new_uow() as uow:
        # The pool and the points' external account are sharded: their balances are the sums.
        pool = ledger.sharded_balance(uow, kind=AccountKind.PROMOTIONS, currency=POINTS)
        external = ledger.sharded_balance(uow, kind=AccountKind.EXTERNAL, currency=POINTS)
    assert pool.posted.value == 0 and external.posted.value == -60  # issued as needed
    # A year later the lot has expired: back to the operator's points account.
    later = market.points(now=T0 + timedelta(days=366))
    assert later.balance == 0 and later.lots == ()
    assert ledger.verify(UnitOfWork(market.new_uow().engine, read_only=True)).ok


def test_a_quote_can_spend_points_up_to_half_the_price(market: Market) -> None:
    assert market.award(market.place(quantity=50)) == 1000  # 1000.00 EUR, member
    assert market.award(market.place(quantity=50)) == 1250  # now silver: ×1.25
    assert market.points().tier == "gold"  # 2250 points earned in a year
    with market.new_uow() as uow:
        promotions.fund_budget_in(uow, amount=eur(10_000), transfer_id="b", actor="op", now=T0)
        uow.commit()
    q = market.quote(points=1500)
    # 1500 points would buy 15.00, but at most half of 20.00 may be paid with points.
    assert (q.priced.points_spent, q.priced.total) == (1000, eur(1000))
    with pytest.raises(Rejected, match="not_enough_points"):
        market.quote(points=5000)


def test_others_cannot_read_a_buyers_points(market: Market) -> None:
    with pytest.raises(NotFound):
        promotions.points_summary(
            market.new_uow(),
            viewer=market.seller,
            account_id=market.buyer.id,
            settings=SETTINGS,
            now=T0,
        )
