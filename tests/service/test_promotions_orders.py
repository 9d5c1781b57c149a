"""Promotions in the order flow on a real database (SQLite and PostgreSQL): ordering a quote at
exactly its price, offers never oversold under concurrency, per-buyer caps, and refunds that
reverse the promotion funding and the loyalty points with ``ledger verify`` passing."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from bonafide.errors import BonafideError, Conflict
from bonafide.ledger.model import AccountKind
from bonafide.market.accounts import Principal, Role
from bonafide.market.promotions import PromotionKind
from bonafide.money import POINTS, Money
from bonafide.service import ledger, orders, promotions
from bonafide.service.accounts import create_operator, sign_up
from bonafide.service.listings import ListingChanges, create_listing, update_listing
from bonafide.service.promotions import PromotionSpec
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

T0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://", fee_basis_points=500)


def eur(value: int) -> Money:
    return Money(value, "EUR")


@dataclass
class Market:
    engine: Engine
    seller: Principal
    operator: Principal
    listing_id: str

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    def buyer(self, handle: str, funds: int = 100_000) -> Principal:
        buyer = sign_up(
            self.uow(), handle=handle, roles=frozenset({Role.buyer}), settings=SETTINGS, now=T0
        ).account.principal
        ledger.deposit(
            self.uow(),
            transfer_id=f"dep-{handle}",
            owner_id=buyer.id,
            amount=eur(funds),
            now=T0,
            actor="t",
        )
        return buyer

    def promote(self, who: Principal, **changes: object) -> str:
        values: dict[str, object] = {
            "kind": PromotionKind.OFFER,
            "name": "Sale",
            "starts_at": T0 - timedelta(hours=1),
            "ends_at": T0 + timedelta(days=30),
            "listing_id": self.listing_id,
            "basis_points": 1000,
            **changes,
        }
        spec = PromotionSpec(**values)  # type: ignore[arg-type]
        return promotions.create_promotion(self.uow(), actor=who, spec=spec, now=T0).id

    def fund_budget(self, value: int) -> None:
        with self.uow() as uow:
            promotions.fund_budget_in(
                uow, amount=eur(value), transfer_id=f"budget-{value}", actor="op", now=T0
            )
            uow.commit()

    def quote(
        self, buyer: Principal, *, quantity: int = 1, points: int = 0, now: datetime = T0
    ) -> promotions.StoredQuote:
        return promotions.create_quote(
            self.uow(),
            buyer=buyer,
            listing_id=self.listing_id,
            quantity=quantity,
            points=points,
            settings=SETTINGS,
            now=now,
        )

    def order(self, buyer: Principal, quote_id: str, now: datetime = T0) -> orders.OrderView:
        return promotions.order_quote(
            self.uow(), buyer=buyer, quote_id=quote_id, settings=SETTINGS, now=now
        )

    def wallet(self, owner_id: str, currency: str = "EUR") -> tuple[int, int]:
        with self.uow() as uow:
            b = ledger.balance(
                uow,
                ledger.account_for(
                    uow, kind=AccountKind.WALLET, currency=currency, owner_id=owner_id
                ),
            )
            uow.commit()
        return b.available.value, b.held.value

    def budget(self) -> int:
        return promotions.budget(self.uow(), currency="EUR").available.value

    def verified(self) -> None:
        report = ledger.verify(UnitOfWork(self.engine, read_only=True))
        assert report.ok, report.problems


@pytest.fixture
def market(engine: Engine) -> Market:
    seller = sign_up(
        UnitOfWork(engine),
        handle="seller",
        roles=frozenset({Role.seller}),
        settings=SETTINGS,
        now=T0,
    ).account.principal
    operator = create_operator(
        UnitOfWork(engine), handle="operator", settings=SETTINGS, now=T0
    ).account.principal
    listing = create_listing(
        UnitOfWork(engine),
        seller=seller,
        title="Tea",
        description="green",
        price=eur(2_000),
        stock=1_000,
        settings=SETTINGS,
        now=T0,
    )
    return Market(engine, seller, operator, listing.id)


def test_an_order_costs_exactly_the_quoted_total(market: Market) -> None:
    market.promote(market.seller, basis_points=1250)
    buyer = market.buyer("buyer")
    quote = market.quote(buyer, quantity=3)
    assert quote.priced.total == eur(5_250)
    view = market.order(buyer, quote.id)
    assert view.order.total == eur(5_250)
    assert [line.kind for line in view.order.quote.lines] == ["item", "promotion"]
    assert market.wallet(buyer.id) == (100_000 - 5_250, 5_250)
    with pytest.raises(Conflict, match="quote_already_ordered"):
        market.order(buyer, quote.id)
    market.verified()


def test_a_changed_price_or_promotion_refuses_the_order_as_quote_changed(market: Market) -> None:
    pid = market.promote(market.seller)
    buyer = market.buyer("buyer")
    first = market.quote(buyer)
    promotions.set_promotion_active(
        market.uow(), actor=market.seller, promotion_id=pid, active=False, now=T0
    )
    with pytest.raises(Conflict, match="quote_changed"):
        market.order(buyer, first.id)
    second = market.quote(buyer)
    update_listing(
        market.uow(),
        actor=market.seller,
        listing_id=market.listing_id,
        changes=ListingChanges(title=None, description=None, price=eur(2_100), stock=None),
        settings=SETTINGS,
        now=T0,
    )
    with pytest.raises(Conflict, match="quote_changed"):
        market.order(buyer, second.id)
    late = market.quote(buyer)
    with pytest.raises(Conflict, match="quote_expired"):
        market.order(buyer, late.id, now=T0 + SETTINGS.quote_ttl)
    market.verified()


def test_fifty_concurrent_buyers_on_an_offer_capped_at_ten_get_exactly_ten(
    market: Market,
) -> None:
    pid = market.promote(market.seller, cap_total=10)
    buyers = [market.buyer(f"buyer-{i:02d}") for i in range(50)]
    quotes = [market.quote(b) for b in buyers]
    assert all(q.priced.total == eur(1_800) for q in quotes)  # everyone was offered it
    results: list[object] = [None] * 50
    start = threading.Barrier(50)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = market.order(buyers[i], quotes[i].id).order.total
        except BonafideError as error:
            results[i] = error.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(eur(1_800)) == 10
    assert results.count("quote_changed") == 40
    with market.engine.connect() as c:
        used = c.execute(text("SELECT used FROM promotions WHERE id = :id"), {"id": pid})
        assert used.scalar_one() == 10
        discounted = c.execute(text("SELECT count(*) FROM orders WHERE total_value = 1800"))
        assert discounted.scalar_one() == 10
    # The rest are told so in a fresh quote, and buy at the full price.
    again = market.quote(buyers[results.index("quote_changed")])
    assert again.priced.skipped[0].code == "offer_sold_out"
    assert again.priced.total == eur(2_000)
    market.verified()


def test_a_per_buyer_cap_holds_even_for_quotes_made_before_it_was_used(market: Market) -> None:
    market.promote(market.seller, cap_per_buyer=1)
    buyer = market.buyer("buyer")
    first, second = market.quote(buyer), market.quote(buyer)
    assert first.priced.total == second.priced.total == eur(1_800)
    market.order(buyer, first.id)
    with pytest.raises(Conflict, match="quote_changed"):
        market.order(buyer, second.id)
    third = market.quote(buyer)
    assert third.priced.skipped[0].code == "buyer_limit_reached"
    assert market.order(buyer, third.id).order.total == eur(2_000)
    other = market.buyer("other")
    assert market.order(other, market.quote(other).id).order.total == eur(1_800)


def test_release_pays_the_seller_the_operators_funding_and_awards_points(market: Market) -> None:
    market.promote(market.operator, basis_points=2_000, listing_id=None)
    market.fund_budget(10_000)
    buyer = market.buyer("buyer")
    view = market.order(buyer, market.quote(buyer).id)
    assert view.order.total == eur(1_600)
    assert market.budget() == 10_000 - 400
    orders.ship_order(
        market.uow(),
        actor=market.seller,
        order_id=view.order.id,
        tracking=None,
        settings=SETTINGS,
        now=T0,
    )
    orders.confirm_order(
        market.uow(), actor=buyer, order_id=view.order.id, settings=SETTINGS, now=T0
    )
    # The seller gets the buyer's 1600 minus a 5 % fee (80), plus the operator's 400.
    assert market.wallet(market.seller.id) == (1_600 - 80 + 400, 0)
    assert market.wallet(buyer.id, POINTS) == (16, 0)  # 16.00 EUR paid → 16 points
    market.verified()


def test_a_full_refund_reverses_the_funding_and_the_points(market: Market) -> None:
    market.promote(market.operator, basis_points=1_000, listing_id=None)
    market.fund_budget(100_000)
    buyer = market.buyer("buyer", funds=500_000)
    # A first order earns points: 50 × 20.00 less 10 % = 900.00 EUR → 900 points.
    first = market.order(buyer, market.quote(buyer, quantity=50).id).order
    orders.ship_order(
        market.uow(),
        actor=market.seller,
        order_id=first.id,
        tracking=None,
        settings=SETTINGS,
        now=T0,
    )
    orders.confirm_order(market.uow(), actor=buyer, order_id=first.id, settings=SETTINGS, now=T0)
    assert market.wallet(buyer.id, POINTS) == (900, 0)
    budget_before = market.budget()
    # The second spends 800 points (8.00 EUR, under half of the 18.00 left after 10 %).
    quote = market.quote(buyer, points=800)
    assert (quote.priced.total, quote.priced.points_spent) == (eur(1_000), 800)
    second = market.order(buyer, quote.id).order
    assert market.wallet(buyer.id, POINTS) == (100, 0)
    assert market.budget() == budget_before - 200 - 800
    orders.refund_order(
        market.uow(),
        actor=market.seller,
        order_id=second.id,
        amount=None,
        reason=None,
        settings=SETTINGS,
        now=T0,
    )
    assert market.wallet(buyer.id, POINTS) == (900, 0)
    assert market.budget() == budget_before
    summary = promotions.points_summary(
        market.uow(), viewer=buyer, account_id=buyer.id, settings=SETTINGS, now=T0
    )
    assert summary.balance == 900
    market.verified()


def test_a_partial_refund_splits_the_funding_and_earns_no_points(market: Market) -> None:
    market.promote(market.operator, basis_points=5_000, listing_id=None)
    market.fund_budget(10_000)
    buyer = market.buyer("buyer")
    order = market.order(buyer, market.quote(buyer).id).order  # 1000 paid, 1000 funded
    orders.refund_order(
        market.uow(),
        actor=market.seller,
        order_id=order.id,
        amount=eur(250),
        reason="scratched",
        settings=SETTINGS,
        now=T0,
    )
    # 25 % refunded: 250 of the funding returns, 750 goes to the seller with their share.
    assert market.budget() == 10_000 - 1_000 + 250
    seller_available, _ = market.wallet(market.seller.id)
    assert seller_available == (1_000 - 250) - 37 + 750  # fee 5 % of 750, rounded down
    assert market.wallet(buyer.id, POINTS) == (0, 0)
    market.verified()


def test_a_cancelled_order_returns_the_operators_funding(market: Market) -> None:
    market.promote(market.operator, basis_points=1_000, listing_id=None)
    market.fund_budget(10_000)
    buyer = market.buyer("buyer")
    order = market.order(buyer, market.quote(buyer).id).order
    orders.cancel_order(market.uow(), actor=buyer, order_id=order.id, reason=None, now=T0)
    assert market.budget() == 10_000
    assert market.wallet(buyer.id) == (100_000, 0)
    market.verified()


def test_reversing_a_released_order_claws_back_the_points_it_earned(market: Market) -> None:
    buyer = market.buyer("buyer")
    order = market.order(buyer, market.quote(buyer, quantity=2).id).order
    orders.ship_order(
        market.uow(),
        actor=market.seller,
        order_id=order.id,
        tracking=None,
        settings=SETTINGS,
        now=T0,
    )
    orders.confirm_order(market.uow(), actor=buyer, order_id=order.id, settings=SETTINGS, now=T0)
    assert market.wallet(buyer.id, POINTS) == (40, 0)
    # No refund reaches a released order through the order flow today; the reversal is ready
    # for one (a chargeback, say) and takes back what is left of the order's points.
    with market.uow() as uow:
        promotions.reverse_for_refund(uow, order_id=order.id, now=T0)
        promotions.reverse_for_refund(uow, order_id=order.id, now=T0)  # once only
        uow.commit()
    assert market.wallet(buyer.id, POINTS) == (0, 0)
    summary = promotions.points_summary(
        market.uow(), viewer=buyer, account_id=buyer.id, settings=SETTINGS, now=T0
    )
    assert (summary.balance, summary.earned_last_year) == (0, 0)
    market.verified()


def test_one_buyer_racing_eight_quotes_gets_the_per_buyer_cap_and_no_more(market: Market) -> None:
    pid = market.promote(market.seller, cap_per_buyer=2)
    buyer = market.buyer("buyer")
    quotes = [market.quote(buyer) for _ in range(8)]
    results: list[object] = [None] * 8
    start = threading.Barrier(8)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = market.order(buyer, quotes[i].id).order.total
        except BonafideError as error:
            results[i] = error.code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(eur(1_800)) == 2 and results.count("quote_changed") == 6
    with market.engine.connect() as c:
        mine = c.execute(
            text("SELECT used FROM promotion_buyer_uses WHERE promotion_id = :id"), {"id": pid}
        )
        assert mine.scalar_one() == 2
    market.verified()
