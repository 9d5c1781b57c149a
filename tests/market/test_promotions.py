"""Promotions: the evaluation order, stacking, explanations, funding, loyalty and bad input."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bonafide.errors import Rejected
from bonafide.market.promotions import (
    Basket,
    Funder,
    LoyaltyProgram,
    PointsLot,
    PointsRequest,
    PricedQuote,
    Promotion,
    QuantityTier,
    Usage,
    evaluate,
    expired,
    new_buy_x_get_y,
    new_offer,
    new_quantity_tiers,
    take_oldest_first,
)
from bonafide.money import Money

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)
PROGRAM = LoyaltyProgram()


def eur(value: int) -> Money:
    return Money(value, "EUR")


BASKET = Basket(
    buyer_id="acc_b",
    seller_id="acc_s",
    listing_id="lst_1",
    title="Tea",
    unit_price=eur(2000),
    quantity=3,
)


def offer(
    pid: str = "prm_offer",
    *,
    funder: Funder = Funder.SELLER,
    bp: int | None = 1000,
    off: Money | None = None,
    cap: int | None = None,
    per_buyer: int | None = None,
    start: datetime = START,
    end: datetime = END,
) -> Promotion:
    return new_offer(
        promotion_id=pid,
        funder=funder,
        name=f"Offer {pid}",
        starts_at=start,
        ends_at=end,
        time_zone=None,
        seller_id="acc_s" if funder is Funder.SELLER else None,
        listing_id="lst_1",
        basis_points=bp,
        amount_off=off,
        cap_total=cap,
        cap_per_buyer=per_buyer,
    )


def tiers(pid: str = "prm_tiers", *pairs: tuple[int, int]) -> Promotion:
    return new_quantity_tiers(
        promotion_id=pid,
        funder=Funder.SELLER,
        name="Buy more",
        starts_at=START,
        ends_at=None,
        time_zone=None,
        seller_id="acc_s",
        listing_id="lst_1",
        tiers=[QuantityTier(q, eur(p)) for q, p in (pairs or ((3, 1800), (10, 1500)))],
    )


def bxgy(pid: str = "prm_bxgy", buy: int = 2, get: int = 1, bp: int = 10_000) -> Promotion:
    return new_buy_x_get_y(
        promotion_id=pid,
        funder=Funder.SELLER,
        name="Two plus one",
        starts_at=START,
        ends_at=None,
        time_zone=None,
        seller_id="acc_s",
        listing_id=None,
        buy=buy,
        get=get,
        basis_points=bp,
    )


def price(
    promotions: list[Promotion],
    *,
    basket: Basket = BASKET,
    usage: dict[str, Usage] | None = None,
    points: PointsRequest = PointsRequest(),  # noqa: B008
    budget: int = 1_000_000,
) -> PricedQuote:
    return evaluate(
        basket=basket,
        promotions=promotions,
        usage=usage or {},
        points=points,
        program=PROGRAM,
        operator_budget=eur(budget),
        now=NOW,
    )


def codes(q: PricedQuote) -> dict[str, str]:
    return {s.promotion_id: s.code for s in q.skipped}


def test_without_promotions_the_quote_is_the_list_price() -> None:
    q = price([])
    assert q.total == eur(6000) and q.applied == () and q.points_to_earn == 60


def test_a_percentage_offer_is_rounded_down_and_funded_by_the_seller() -> None:
    q = price([offer(bp=1250)], basket=replace(BASKET, unit_price=eur(1999)))
    # 12.5 % of 5997 is 749.625 → 749 off.
    assert q.total == eur(5248)
    (applied,) = q.applied
    assert applied.discount == eur(749)
    assert applied.funding_account() == "seller:acc_s"
    assert q.quote.lines[1].amount == eur(-749)
    assert "funded by seller:acc_s" in q.quote.lines[1].description


def test_the_steps_stack_in_order_multi_buy_then_offer_then_points() -> None:
    operator = offer("prm_op", funder=Funder.OPERATOR, bp=1000)
    q = price([operator, tiers()], points=PointsRequest(spend=1000, spendable=5000))
    # 3 × 2000 = 6000; tier 1800 each → 5400; 10 % → 4860; 1000 points = 10.00 EUR → 3860.
    assert [(a.promotion_id, a.discount.value) for a in q.applied] == [
        ("prm_tiers", 600),
        ("prm_op", 540),
        (None, 1000),
    ]
    assert q.total == eur(3860)
    assert q.points_spent == 1000
    assert q.operator_funded() == eur(1540)
    assert q.points_to_earn == 38
    assert [line.kind for line in q.quote.lines] == [
        "item",
        "promotion",
        "promotion",
        "loyalty_points",
    ]


def test_one_multi_buy_applies_the_larger_and_the_other_says_why() -> None:
    # Buy 2 get 1 on 3 units: 2000 off; tier 1800: 600 off.
    q = price([tiers(), bxgy()])
    assert [a.promotion_id for a in q.applied] == ["prm_bxgy"]
    assert q.total == eur(4000)
    assert codes(q) == {"prm_tiers": "better_promotion_applied"}


def test_a_fixed_cut_applies_only_to_units_still_charged() -> None:
    q = price([bxgy(), offer(bp=None, off=eur(300))])
    # 3 units, one free (2000 off) → 4000; 300 off each of the 2 charged units → 3400.
    assert q.total == eur(3400)


def test_a_cut_larger_than_the_price_leaves_one_minor_unit_to_pay() -> None:
    q = price([offer(bp=None, off=eur(5000))])
    assert q.total == eur(1)
    assert "capped" in q.applied[0].why


def test_ties_go_to_the_promotion_that_started_first_then_the_smaller_id() -> None:
    early = offer("prm_b", start=START - timedelta(hours=1))
    late = offer("prm_a")
    assert price([late, early]).applied[0].promotion_id == "prm_b"
    assert price([offer("prm_z"), offer("prm_y")]).applied[0].promotion_id == "prm_y"


def test_evaluation_does_not_depend_on_the_order_promotions_come_in() -> None:
    promotions = [
        offer("prm_1", bp=500),
        offer("prm_2", bp=None, off=eur(150)),
        offer("prm_3", funder=Funder.OPERATOR, bp=700),
        tiers(),
        bxgy(),
    ]
    first = price(promotions).to_json()
    for seed in range(5):
        shuffled = promotions[:]
        random.Random(seed).shuffle(shuffled)
        assert price(shuffled).to_json() == first


def test_ineligible_promotions_are_listed_with_their_reason() -> None:
    q = price(
        [
            offer("prm_future", start=NOW + timedelta(hours=1), end=NOW + timedelta(days=2)),
            offer("prm_past", start=NOW - timedelta(days=2), end=NOW),
            offer("prm_sold", cap=10),
            offer("prm_mine", cap=10, per_buyer=1),
            replace(offer("prm_off"), active=False),
            offer("prm_usd", bp=None, off=Money(100, "USD")),
            tiers("prm_tiers", (5, 1800)),
        ],
        usage={"prm_sold": Usage(total=10), "prm_mine": Usage(total=3, by_buyer=1)},
    )
    assert codes(q) == {
        "prm_future": "promotion_not_started",
        "prm_past": "promotion_ended",
        "prm_sold": "offer_sold_out",
        "prm_mine": "buyer_limit_reached",
        "prm_off": "promotion_disabled",
        "prm_usd": "currency_mismatch",
        "prm_tiers": "quantity_below_minimum",
    }
    assert q.applied == () and q.total == eur(6000)


def test_promotions_for_other_listings_or_sellers_are_not_mentioned() -> None:
    elsewhere = replace(offer("prm_x"), listing_id="lst_2")
    other_seller = replace(offer("prm_y"), seller_id="acc_t")
    assert price([elsewhere, other_seller]).skipped == ()


def test_an_operator_offer_the_budget_cannot_pay_gives_way_to_the_next() -> None:
    q = price(
        [offer("prm_op", funder=Funder.OPERATOR, bp=2000), offer("prm_s", bp=1000)], budget=500
    )
    assert [a.promotion_id for a in q.applied] == ["prm_s"]
    assert codes(q) == {"prm_op": "funding_unavailable"}


def test_a_tier_price_not_below_the_list_price_is_not_a_discount() -> None:
    q = price([tiers("prm_t", (2, 2500))])
    assert codes(q) == {"prm_t": "not_a_discount"}


def test_points_are_capped_at_half_the_price_and_only_needed_points_are_spent() -> None:
    q = price([], points=PointsRequest(spend=9000, spendable=9000))
    assert q.points_spent == 3000 and q.total == eur(3000)
    assert "capped at 50%" in q.applied[0].why
    # In yen (no minor unit) 150 points buy 1 yen and cost 100 points.
    yen = replace(BASKET, unit_price=Money(500, "JPY"), quantity=1)
    q = evaluate(
        basket=yen,
        promotions=[],
        usage={},
        points=PointsRequest(spend=150, spendable=150),
        program=PROGRAM,
        operator_budget=Money(10_000, "JPY"),
        now=NOW,
    )
    assert (q.points_spent, q.total) == (100, Money(499, "JPY"))


def test_asking_for_more_points_than_held_is_refused() -> None:
    with pytest.raises(Rejected, match="not_enough_points"):
        price([], points=PointsRequest(spend=10, spendable=5))
    with pytest.raises(Rejected, match="points_out_of_range"):
        price([], points=PointsRequest(spend=-1, spendable=5))


def test_loyalty_tiers_multiply_points_earned() -> None:
    assert PROGRAM.tier(earned_last_year=0).name == "member"
    assert PROGRAM.tier(earned_last_year=500).name == "silver"
    assert PROGRAM.tier(earned_last_year=2_000).name == "gold"
    assert PROGRAM.points_for(eur(10_099), earned_last_year=0) == 100
    assert PROGRAM.points_for(eur(10_099), earned_last_year=600) == 126
    assert PROGRAM.points_for(eur(10_099), earned_last_year=5_000) == 151
    q = price([], points=PointsRequest(earned_last_year=2_500))
    assert (q.loyalty_tier, q.points_to_earn) == ("gold", 90)


def test_points_are_spent_and_expire_oldest_first() -> None:
    lots = [
        PointsLot("lot_b", NOW - timedelta(days=30), NOW + timedelta(days=335), 50),
        PointsLot("lot_a", NOW - timedelta(days=400), NOW - timedelta(days=35), 70),
        PointsLot("lot_c", NOW - timedelta(days=300), NOW + timedelta(days=65), 40),
    ]
    assert take_oldest_first(lots, points=60, now=NOW) == [("lot_c", 40), ("lot_b", 20)]
    assert expired(lots, now=NOW) == [("lot_a", 70)]
    with pytest.raises(Rejected, match="not_enough_points"):
        take_oldest_first(lots, points=91, now=NOW)


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: offer(bp=15_000), "discount_percent_out_of_range"),
        (lambda: offer(bp=0), "discount_percent_out_of_range"),
        (lambda: offer(bp=None, off=eur(-100)), "discount_amount_must_be_positive"),
        (lambda: offer(bp=1000, off=eur(100)), "offer_needs_one_cut"),
        (lambda: offer(start=END, end=START), "promotion_window_inverted"),
        (lambda: offer(end=START + timedelta(days=400)), "promotion_window_too_long"),
        (lambda: offer(cap=0), "offer_cap_out_of_range"),
        (lambda: offer(cap=5, per_buyer=6), "offer_cap_out_of_range"),
        (lambda: tiers("p", (3, -100)), "price_must_be_positive"),
        (lambda: tiers("p", (3, 1800), (5, 1900)), "quantity_tier_prices_must_fall"),
        (lambda: tiers("p", (3, 1800), (3, 1700)), "quantity_tiers_must_increase"),
        (lambda: tiers("p", (1, 1800)), "quantity_tier_out_of_range"),
        (lambda: bxgy(buy=0), "buy_x_get_y_out_of_range"),
        (lambda: bxgy(bp=15_000), "discount_percent_out_of_range"),
    ],
)
def test_bad_promotions_are_refused_with_named_errors(build: object, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        build()  # type: ignore[operator]
    assert caught.value.code == code


def test_naive_windows_are_read_in_the_named_zone_and_unknown_zones_are_refused() -> None:
    def build(zone: str | None) -> Promotion:
        return new_offer(
            promotion_id="p",
            funder=Funder.SELLER,
            name="Christmas",
            starts_at=datetime(2026, 12, 24, 0, 0),
            ends_at=datetime(2026, 12, 27, 0, 0),
            time_zone=zone,
            seller_id="acc_s",
            listing_id=None,
            basis_points=1000,
            amount_off=None,
            cap_total=None,
            cap_per_buyer=None,
        )

    assert build("Europe/Berlin").starts_at.astimezone(UTC) == datetime(
        2026, 12, 23, 23, 0, tzinfo=UTC
    )
    with pytest.raises(Rejected, match="unknown_time_zone"):
        build("Atlantis/Capital")
    with pytest.raises(Rejected, match="time_must_have_offset"):
        build(None)
