"""Promotions: limited-time offers, multi-buy prices, loyalty points, and how they stack.

Owns: the promotion rules and their validation, the one evaluation order, the explanation of
every promotion that applied or did not, who funds each discount, and loyalty points (earning,
tiers, spending, expiry). Imports: the standard library, ``bonafide.errors``, ``bonafide.money``,
``bonafide.market.quotes`` and ``bonafide.market.hours`` (zone names). Pure: the service passes in
usage counts, funding balances, points and ``now``.

Evaluation order and stacking (the same input always gives the same quote)
    1. **Item**: list unit price × quantity.
    2. **Multi-buy** (at most one): every eligible quantity-tier price and buy-X-get-Y rule for
       the listing is computed against the item line; the largest discount applies. Ties go to
       the promotion that started first, then to the smaller id.
    3. **Offer** (at most one): every eligible limited-time offer is computed against the amount
       left after step 2 — a percentage of it (rounded down), or a fixed cut per unit still
       charged (units made free in step 2 are not cut again). The largest discount whose funder
       can pay it applies; ties as above. Offers never stack with each other.
    4. **Loyalty points** (last): points the buyer chose to spend buy a discount on what is left,
       at most ``redeem_max_bp`` of it; only whole minor units are bought, and only the points
       needed for them are spent.
    Every step leaves the buyer at least one minor unit to pay (a quote always costs something),
    and no discount ever exceeds the amount it applies to.

Eligibility (a promotion that does not apply says why, with a stable code)
    ``promotion_disabled``, ``promotion_not_started`` (before ``starts_at``), ``promotion_ended``
    (at or after ``ends_at``), ``currency_mismatch``, ``quantity_below_minimum``,
    ``not_a_discount`` (a tier price not below the current one), ``offer_sold_out`` (total cap
    used), ``buyer_limit_reached`` (per-buyer cap used), ``funding_unavailable`` (the operator's
    promotions budget cannot pay it), ``better_promotion_applied`` (another one of the same step
    gave more).

Funding (DESIGN.md §6: every discount names the account that pays for it)
    A seller's promotion is funded by the **seller**: it comes out of the sale price, so the
    seller's wallet receives less at release. An operator's promotion and every loyalty-point
    discount are funded by the operator's **promotions** account in the order's currency, which
    pays the discount into the order's escrow when the order is placed (see ``service.promotions``).

Loyalty points (currency ``XLP``, whole points)
    A completed order without any refund earns ``earn_points_per_unit`` points per whole unit of
    money the buyer paid (rounded down), times the buyer's tier multiplier. Tiers go by points
    earned in the last 365 days. Points are spent ``redeem_points_per_unit`` to one whole unit of
    money. Each award is a lot that expires ``validity`` after it was earned; spending and expiry
    take the oldest lots first. A refund returns the points an order spent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from bonafide.errors import Rejected
from bonafide.market.hours import load_zone
from bonafide.market.quotes import Quote, QuoteLine, quote_listing
from bonafide.money import MINOR_UNITS, Money, Rounding, percent_of

NAME_LENGTH_MAX = 100
WINDOW_MAX = timedelta(days=366)
CAP_MAX = 1_000_000
TIERS_MAX = 10
BUY_GET_MAX = 100
POINTS_MAX = 10**12
DISCOUNT_ROUNDING = Rounding.REMAINDER_TO_FIRST
"""Percentages are rounded down: the odd minor unit stays with the payer, never the funder."""


class PromotionKind(enum.StrEnum):
    OFFER = "offer"
    QUANTITY_TIERS = "quantity_tiers"
    BUY_X_GET_Y = "buy_x_get_y"


class Funder(enum.StrEnum):
    SELLER = "seller"
    OPERATOR = "operator"


class Stage(enum.IntEnum):
    """The evaluation steps, in order."""

    MULTI_BUY = 2
    OFFER = 3
    POINTS = 4


STAGE_OF = {
    PromotionKind.QUANTITY_TIERS: Stage.MULTI_BUY,
    PromotionKind.BUY_X_GET_Y: Stage.MULTI_BUY,
    PromotionKind.OFFER: Stage.OFFER,
}


@dataclass(frozen=True, slots=True)
class QuantityTier:
    quantity_min: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class Promotion:
    """One promotion. Which fields matter depends on ``kind``; ``new_*`` builders validate."""

    id: str
    kind: PromotionKind
    funder: Funder
    name: str
    starts_at: datetime
    ends_at: datetime | None
    seller_id: str | None
    listing_id: str | None
    basis_points: int | None = None
    amount_off: Money | None = None
    cap_total: int | None = None
    cap_per_buyer: int | None = None
    tiers: tuple[QuantityTier, ...] = ()
    buy: int | None = None
    get: int | None = None
    active: bool = True

    def applies_to(self, *, seller_id: str, listing_id: str) -> bool:
        """Whether the promotion's scope covers the listing (eligibility is decided apart)."""
        return (self.seller_id is None or self.seller_id == seller_id) and (
            self.listing_id is None or self.listing_id == listing_id
        )


# --- validation --------------------------------------------------------------------------------


def window(
    *, starts_at: datetime, ends_at: datetime | None, time_zone: str | None
) -> tuple[datetime, datetime | None]:
    """Check a window; naive times are read in ``time_zone`` (unknown → ``unknown_time_zone``)."""
    zone = None if time_zone is None else load_zone(time_zone)

    def aware(at: datetime) -> datetime:
        if at.tzinfo is not None and at.utcoffset() is not None:
            return at
        if zone is None:
            raise Rejected("time_must_have_offset", f"{at.isoformat()}: add an offset or time_zone")
        return at.replace(tzinfo=zone)

    start = aware(starts_at)
    end = None if ends_at is None else aware(ends_at)
    if end is not None and end <= start:
        raise Rejected("promotion_window_inverted", "a promotion ends after it starts")
    if end is not None and end - start > WINDOW_MAX:
        raise Rejected("promotion_window_too_long", f"at most {WINDOW_MAX.days} days")
    return start, end


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LENGTH_MAX:
        raise Rejected("promotion_name_invalid", f"1 to {NAME_LENGTH_MAX} characters")
    return name.strip()


def _check_count(value: object, *, code: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Rejected(code, f"a whole number from {low} to {high}, got {value!r}")
    return value


def new_offer(
    *,
    promotion_id: str,
    funder: Funder,
    name: str,
    starts_at: datetime,
    ends_at: datetime | None,
    time_zone: str | None,
    seller_id: str | None,
    listing_id: str | None,
    basis_points: int | None,
    amount_off: Money | None,
    cap_total: int | None,
    cap_per_buyer: int | None,
) -> Promotion:
    """A limited-time offer: a percentage (``basis_points``) or a fixed cut per unit."""
    if (basis_points is None) == (amount_off is None):
        raise Rejected("offer_needs_one_cut", "give basis_points or amount_off, not both")
    if basis_points is not None:
        _check_count(basis_points, code="discount_percent_out_of_range", low=1, high=10_000)
    if amount_off is not None and amount_off.value <= 0:
        raise Rejected("discount_amount_must_be_positive", f"{amount_off} is not a cut")
    if ends_at is None:
        raise Rejected("offer_needs_an_end", "a limited-time offer ends")
    start, end = window(starts_at=starts_at, ends_at=ends_at, time_zone=time_zone)
    if cap_total is not None:
        _check_count(cap_total, code="offer_cap_out_of_range", low=1, high=CAP_MAX)
    if cap_per_buyer is not None:
        _check_count(cap_per_buyer, code="offer_cap_out_of_range", low=1, high=cap_total or CAP_MAX)
    return Promotion(
        id=promotion_id,
        kind=PromotionKind.OFFER,
        funder=funder,
        name=_check_name(name),
        starts_at=start,
        ends_at=end,
        seller_id=seller_id,
        listing_id=listing_id,
        basis_points=basis_points,
        amount_off=amount_off,
        cap_total=cap_total,
        cap_per_buyer=cap_per_buyer,
    )


def new_quantity_tiers(
    *,
    promotion_id: str,
    funder: Funder,
    name: str,
    starts_at: datetime,
    ends_at: datetime | None,
    time_zone: str | None,
    seller_id: str | None,
    listing_id: str | None,
    tiers: Sequence[QuantityTier],
) -> Promotion:
    """Tiered unit prices: from ``quantity_min`` units on, each costs ``unit_price``."""
    if not 1 <= len(tiers) <= TIERS_MAX:
        raise Rejected("quantity_tiers_count_out_of_range", f"1 to {TIERS_MAX} tiers")
    ordered = tuple(sorted(tiers, key=lambda t: t.quantity_min))
    for tier in ordered:
        _check_count(tier.quantity_min, code="quantity_tier_out_of_range", low=2, high=100_000)
        if tier.unit_price.value <= 0:
            raise Rejected("price_must_be_positive", f"{tier.unit_price} is not a price")
    if len({t.unit_price.currency for t in ordered}) != 1:
        raise Rejected("currencies_must_match", "all tier prices in one currency")
    for lower, higher in pairwise(ordered):
        if higher.quantity_min == lower.quantity_min:
            raise Rejected("quantity_tiers_must_increase", "each tier starts at a new quantity")
        if higher.unit_price >= lower.unit_price:
            raise Rejected("quantity_tier_prices_must_fall", "buying more costs less per unit")
    start, end = window(starts_at=starts_at, ends_at=ends_at, time_zone=time_zone)
    return Promotion(
        id=promotion_id,
        kind=PromotionKind.QUANTITY_TIERS,
        funder=funder,
        name=_check_name(name),
        starts_at=start,
        ends_at=end,
        seller_id=seller_id,
        listing_id=listing_id,
        tiers=ordered,
    )


def new_buy_x_get_y(
    *,
    promotion_id: str,
    funder: Funder,
    name: str,
    starts_at: datetime,
    ends_at: datetime | None,
    time_zone: str | None,
    seller_id: str | None,
    listing_id: str | None,
    buy: int,
    get: int,
    basis_points: int = 10_000,
) -> Promotion:
    """For every ``buy`` units, ``get`` more at ``basis_points`` off (10 000: free)."""
    _check_count(buy, code="buy_x_get_y_out_of_range", low=1, high=BUY_GET_MAX)
    _check_count(get, code="buy_x_get_y_out_of_range", low=1, high=BUY_GET_MAX)
    _check_count(basis_points, code="discount_percent_out_of_range", low=1, high=10_000)
    start, end = window(starts_at=starts_at, ends_at=ends_at, time_zone=time_zone)
    return Promotion(
        id=promotion_id,
        kind=PromotionKind.BUY_X_GET_Y,
        funder=funder,
        name=_check_name(name),
        starts_at=start,
        ends_at=end,
        seller_id=seller_id,
        listing_id=listing_id,
        buy=buy,
        get=get,
        basis_points=basis_points,
    )


def _scale(currency: str) -> int:
    """Minor units per whole unit of ``currency`` (100 for EUR, 1 for JPY)."""
    return int(10 ** MINOR_UNITS[currency])


# --- loyalty -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoyaltyTier:
    name: str
    points_earned_min: int
    earn_multiplier_bp: int


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    """The operator's points programme (one for the market, every currency)."""

    earn_points_per_unit: int = 1
    redeem_points_per_unit: int = 100
    redeem_max_bp: int = 5_000
    validity: timedelta = timedelta(days=365)
    tiers: tuple[LoyaltyTier, ...] = (
        LoyaltyTier("member", 0, 10_000),
        LoyaltyTier("silver", 500, 12_500),
        LoyaltyTier("gold", 2_000, 15_000),
    )

    def __post_init__(self) -> None:
        assert self.tiers and self.tiers[0].points_earned_min == 0, "everyone has a tier"
        assert all(a.points_earned_min < b.points_earned_min for a, b in pairwise(self.tiers))
        assert self.earn_points_per_unit >= 0 and self.redeem_points_per_unit > 0
        assert 0 <= self.redeem_max_bp <= 10_000

    def tier(self, *, earned_last_year: int) -> LoyaltyTier:
        return [t for t in self.tiers if earned_last_year >= t.points_earned_min][-1]

    def points_for(self, paid: Money, *, earned_last_year: int) -> int:
        """Points a completed, unrefunded order paying ``paid`` earns (rounded down)."""
        scale = _scale(paid.currency)
        multiplier = self.tier(earned_last_year=earned_last_year).earn_multiplier_bp
        return paid.value * self.earn_points_per_unit * multiplier // (scale * 10_000)

    def discount_for(self, points: int, *, currency: str) -> tuple[Money, int]:
        """The whole-minor-unit discount ``points`` buy, and the points that costs (≤ points)."""
        scale = _scale(currency)
        value = points * scale // self.redeem_points_per_unit
        return Money(value, currency), -(-value * self.redeem_points_per_unit // scale)


@dataclass(frozen=True, slots=True)
class PointsLot:
    """Points awarded together; they expire together at ``expires_at``."""

    id: str
    earned_at: datetime
    expires_at: datetime
    remaining: int


def take_oldest_first(
    lots: Sequence[PointsLot], *, points: int, now: datetime
) -> list[tuple[str, int]]:
    """Which lots ``points`` come out of, oldest first, skipping expired ones."""
    live = sorted(
        (lot for lot in lots if lot.expires_at > now and lot.remaining > 0),
        key=lambda lot: (lot.earned_at, lot.id),
    )
    taken: list[tuple[str, int]] = []
    left = points
    for lot in live:
        if left == 0:
            break
        take = min(left, lot.remaining)
        taken.append((lot.id, take))
        left -= take
    if left:
        raise Rejected("not_enough_points", f"{points} points asked, {points - left} spendable")
    return taken


def expired(lots: Sequence[PointsLot], *, now: datetime) -> list[tuple[str, int]]:
    """Lots past their expiry that still hold points, oldest first: what expires now."""
    due = [lot for lot in lots if lot.expires_at <= now and lot.remaining > 0]
    return [(lot.id, lot.remaining) for lot in sorted(due, key=lambda lot: (lot.earned_at, lot.id))]


# --- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    """How often an offer has been used, in total and by this buyer."""

    total: int = 0
    by_buyer: int = 0


@dataclass(frozen=True, slots=True)
class Basket:
    buyer_id: str
    seller_id: str
    listing_id: str
    title: str
    unit_price: Money
    quantity: int


@dataclass(frozen=True, slots=True)
class PointsRequest:
    """Points the buyer asks to spend, and what they hold (spendable, earned in 365 days)."""

    spend: int = 0
    spendable: int = 0
    earned_last_year: int = 0


@dataclass(frozen=True, slots=True)
class Applied:
    promotion_id: str | None
    kind: str
    stage: Stage
    name: str
    discount: Money
    funder: Funder
    funder_id: str | None
    why: str

    def funding_account(self) -> str:
        if self.funder is Funder.SELLER:
            return f"seller:{self.funder_id}"
        return f"operator:promotions:{self.discount.currency}"

    def to_json(self) -> dict[str, object]:
        return {
            "promotion_id": self.promotion_id,
            "kind": self.kind,
            "step": self.stage.name.lower(),
            "name": self.name,
            "discount": self.discount.to_json(),
            "funded_by": {
                "funder": self.funder.value,
                "account": self.funding_account(),
            },
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    promotion_id: str
    kind: str
    code: str
    why: str

    def to_json(self) -> dict[str, object]:
        return {
            "promotion_id": self.promotion_id,
            "kind": self.kind,
            "code": self.code,
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class PricedQuote:
    """A quote with every promotion that applied (and why) and every one that did not."""

    quote: Quote
    applied: tuple[Applied, ...]
    skipped: tuple[Skipped, ...]
    points_spent: int
    points_to_earn: int
    loyalty_tier: str

    @property
    def total(self) -> Money:
        return self.quote.total

    @property
    def subtotal(self) -> Money:
        return self.quote.lines[0].amount

    def operator_funded(self) -> Money:
        """What the operator's promotions account pays into the escrow."""
        total = Money.zero(self.total.currency)
        for item in self.applied:
            if item.funder is Funder.OPERATOR:
                total = total + item.discount
        return total

    def fingerprint(self) -> tuple[object, ...]:
        """What must not change between the quote and the order (``quote_changed``)."""
        return (
            self.total,
            tuple((a.promotion_id, a.discount) for a in self.applied),
            self.points_spent,
        )

    def to_json(self) -> dict[str, object]:
        return {
            **self.quote.to_json(),
            "subtotal": self.subtotal.to_json(),
            "applied": [a.to_json() for a in self.applied],
            "not_applied": [s.to_json() for s in self.skipped],
            "points": {
                "spent": self.points_spent,
                "to_earn": self.points_to_earn,
                "tier": self.loyalty_tier,
            },
        }


@dataclass
class _Run:
    """The running state of one evaluation."""

    basket: Basket
    amount: Money
    free_units: int = 0
    applied: list[Applied] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    operator_left: int = 0

    def headroom(self) -> int:
        """The most any further discount may take: the buyer pays at least one minor unit."""
        return max(0, self.amount.value - 1)


def _ineligible(promo: Promotion, *, now: datetime, run: _Run, usage: Usage) -> Skipped | None:
    def skip(code: str, why: str) -> Skipped:
        return Skipped(promo.id, promo.kind.value, code, why)

    if not promo.active:
        return skip("promotion_disabled", "switched off by its owner")
    if now < promo.starts_at:
        return skip("promotion_not_started", f"starts {promo.starts_at.isoformat()}")
    if promo.ends_at is not None and now >= promo.ends_at:
        return skip("promotion_ended", f"ended {promo.ends_at.isoformat()}")
    currency = run.amount.currency
    money = promo.amount_off or (promo.tiers[0].unit_price if promo.tiers else None)
    if money is not None and money.currency != currency:
        return skip("currency_mismatch", f"priced in {money.currency}, the listing in {currency}")
    if promo.cap_total is not None and usage.total >= promo.cap_total:
        return skip("offer_sold_out", f"all {promo.cap_total} uses are taken")
    if promo.cap_per_buyer is not None and usage.by_buyer >= promo.cap_per_buyer:
        return skip("buyer_limit_reached", f"{promo.cap_per_buyer} per buyer, already used")
    return None


def _multi_buy_discount(promo: Promotion, basket: Basket) -> tuple[int, int, str] | str:
    """(discount, free units, why) or the reason it gives nothing."""
    q, unit = basket.quantity, basket.unit_price
    if promo.kind is PromotionKind.QUANTITY_TIERS:
        reached = [t for t in promo.tiers if q >= t.quantity_min]
        if not reached:
            return f"quantity_below_minimum:from {promo.tiers[0].quantity_min} units"
        tier = reached[-1]
        if tier.unit_price >= unit:
            return f"not_a_discount:{tier.unit_price} is not below {unit}"
        return (unit - tier.unit_price).value * q, 0, f"{q} units at {tier.unit_price} each"
    assert promo.buy is not None and promo.get is not None and promo.basis_points is not None
    group = promo.buy + promo.get
    if q < group:
        return f"quantity_below_minimum:buy {promo.buy} get {promo.get} needs {group} units"
    free = q // group * promo.get
    discount = percent_of(unit * free, basis_points=promo.basis_points, rounding=DISCOUNT_ROUNDING)
    off = "free" if promo.basis_points == 10_000 else f"{promo.basis_points / 100:g}% off"
    return discount.value, free, f"buy {promo.buy} get {promo.get} {off}: {free} units"


def _offer_discount(promo: Promotion, run: _Run) -> tuple[int, str]:
    if promo.basis_points is not None:
        cut = percent_of(run.amount, basis_points=promo.basis_points, rounding=DISCOUNT_ROUNDING)
        return cut.value, f"{promo.basis_points / 100:g}% off {run.amount}"
    assert promo.amount_off is not None
    units = run.basket.quantity - run.free_units
    return promo.amount_off.value * units, f"{promo.amount_off} off each of {units} units"


def _choose(
    run: _Run,
    candidates: list[tuple[Promotion, int, int, str]],
    *,
    stage: Stage,
) -> None:
    """Apply the best candidate its funder can pay; explain the rest."""
    candidates.sort(key=lambda c: (-c[1], c[0].starts_at, c[0].id))
    chosen: Promotion | None = None
    for promo, discount, free, why in candidates:
        if min(discount, run.headroom()) <= 0:
            run.skipped.append(
                Skipped(promo.id, promo.kind.value, "not_a_discount", "it takes nothing off here")
            )
            continue
        if chosen is not None:
            run.skipped.append(
                Skipped(
                    promo.id,
                    promo.kind.value,
                    "better_promotion_applied",
                    f"{chosen.name} ({chosen.id}) gave more",
                )
            )
            continue
        if promo.funder is Funder.OPERATOR and discount > run.operator_left:
            run.skipped.append(
                Skipped(
                    promo.id,
                    promo.kind.value,
                    "funding_unavailable",
                    "the operator's promotions budget cannot pay it",
                )
            )
            continue
        chosen = promo
        if discount > run.headroom():
            discount = run.headroom()
            why += f", capped so that {Money(1, run.amount.currency)} is left to pay"
        _apply(
            run,
            promo_id=promo.id,
            kind=promo.kind.value,
            stage=stage,
            name=promo.name,
            discount=discount,
            funder=promo.funder,
            funder_id=promo.seller_id,
            why=why,
        )
        run.free_units += free


def _apply(
    run: _Run,
    *,
    promo_id: str | None,
    kind: str,
    stage: Stage,
    name: str,
    discount: int,
    funder: Funder,
    funder_id: str | None,
    why: str,
) -> None:
    money = Money(discount, run.amount.currency)
    run.amount = run.amount - money
    if funder is Funder.OPERATOR:
        run.operator_left -= discount
    run.applied.append(Applied(promo_id, kind, stage, name, money, funder, funder_id, why))


def evaluate(
    *,
    basket: Basket,
    promotions: Sequence[Promotion],
    usage: Mapping[str, Usage],
    points: PointsRequest,
    program: LoyaltyProgram,
    operator_budget: Money,
    now: datetime,
) -> PricedQuote:
    """Price ``basket`` with every promotion in scope, in the module docstring's order."""
    item = quote_listing(title=basket.title, unit_price=basket.unit_price, quantity=basket.quantity)
    if points.spend < 0 or points.spend > POINTS_MAX:
        raise Rejected("points_out_of_range", f"0 to {POINTS_MAX} points")
    if points.spend > points.spendable:
        raise Rejected("not_enough_points", f"{points.spend} asked, {points.spendable} held")
    assert operator_budget.currency == item.currency
    run = _Run(basket=basket, amount=item.total, operator_left=operator_budget.value)
    in_scope = sorted(
        (
            p
            for p in promotions
            if p.applies_to(seller_id=basket.seller_id, listing_id=basket.listing_id)
        ),
        key=lambda p: (p.starts_at, p.id),
    )
    for stage in (Stage.MULTI_BUY, Stage.OFFER):
        candidates: list[tuple[Promotion, int, int, str]] = []
        for promo in (p for p in in_scope if STAGE_OF[p.kind] is stage):
            reason = _ineligible(promo, now=now, run=run, usage=usage.get(promo.id, Usage()))
            if reason is not None:
                run.skipped.append(reason)
                continue
            if stage is Stage.MULTI_BUY:
                got = _multi_buy_discount(promo, basket)
                if isinstance(got, str):
                    code, why = got.split(":", 1)
                    run.skipped.append(Skipped(promo.id, promo.kind.value, code, why))
                    continue
                candidates.append((promo, got[0], got[1], got[2]))
            else:
                discount, why = _offer_discount(promo, run)
                candidates.append((promo, discount, 0, why))
        _choose(run, candidates, stage=stage)
    spent = _spend_points(run, points=points, program=program)
    lines = [item.lines[0]] + [
        QuoteLine(
            kind="promotion" if a.stage is not Stage.POINTS else "loyalty_points",
            description=f"{a.name}: {a.why} (funded by {a.funding_account()})",
            amount=-a.discount,
        )
        for a in run.applied
    ]
    quote = Quote(lines=tuple(lines))
    assert quote.total == run.amount
    return PricedQuote(
        quote=quote,
        applied=tuple(run.applied),
        skipped=tuple(run.skipped),
        points_spent=spent,
        points_to_earn=program.points_for(quote.total, earned_last_year=points.earned_last_year),
        loyalty_tier=program.tier(earned_last_year=points.earned_last_year).name,
    )


def _spend_points(run: _Run, *, points: PointsRequest, program: LoyaltyProgram) -> int:
    if points.spend == 0:
        return 0
    currency = run.amount.currency
    most = min(
        percent_of(
            run.amount, basis_points=program.redeem_max_bp, rounding=DISCOUNT_ROUNDING
        ).value,
        run.headroom(),
        max(0, run.operator_left),
    )
    wanted, _ = program.discount_for(points.spend, currency=currency)
    value = min(wanted.value, most)
    if value == 0:
        return 0
    scale = _scale(currency)
    cost = -(-value * program.redeem_points_per_unit // scale)
    why = f"{cost} points at {program.redeem_points_per_unit} per unit"
    if value < wanted.value:
        why += f", capped at {program.redeem_max_bp / 100:g}% of the price"
    _apply(
        run,
        promo_id=None,
        kind="loyalty_points",
        stage=Stage.POINTS,
        name="Loyalty points",
        discount=value,
        funder=Funder.OPERATOR,
        funder_id=None,
        why=why,
    )
    return cost
