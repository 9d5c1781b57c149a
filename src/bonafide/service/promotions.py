"""Promotion use cases: promotions CRUD, quotes, ordering a quote, and settling what an order's
promotions moved through the ledger (funding and loyalty points).

Owns: the transactions of promotions and every ledger transfer they make. Imports:
``bonafide.market`` (promotions, orders), ``bonafide.store`` (promotion repository, unit of work),
``bonafide.service.ledger`` / ``listings`` / ``accounts`` (building blocks inside an open unit of
work) and, inside ``order_quote_in`` only, ``bonafide.service.orders`` (which calls back into this
module's settlement hooks, hence the late import).

Money through the ledger
    - An operator-funded discount (operator offers, points) is paid by the ``promotions`` account
      of the order's currency into the order's escrow (``order:<id>``) in the same transaction as
      the buyer's hold. When the order settles, that money follows the buyer's: the share the
      seller keeps goes escrow → seller wallet, the share refunded goes escrow → ``promotions``
      (``split`` of the funding by [kept, refunded], remainder to the seller). A cancellation or
      a full refund returns all of it to ``promotions``.
    - A seller-funded discount moves nothing: it is taken off the price, so the seller's wallet
      receives that much less at release (the quote line says so). Paying it in and straight back
      out of the seller's own wallet would add two transfers, change no balance, and refuse orders
      whenever the seller's wallet happened to be empty.
    - Loyalty points are the ledger currency ``XLP``: the operator's points account
      (``promotions``/XLP) awards them to the buyer's XLP wallet when an order completes without a
      refund, issuing (``external`` → ``promotions``) what it lacks; points spent go back to it; a
      refund returns the points an order spent, and claws back any it earned; expiry sends a
      lot's remaining points back to it. The lots table mirrors the XLP wallets lot by lot.

Ordering a quote (``order_quote``): the quote is priced again now and must match the stored one
(total, each promotion and its discount, points) or the order is refused with
``Conflict(quote_changed)``; then each capped offer is reserved with a conditional UPDATE (a lost
race is also ``quote_changed``), the order is placed at exactly the quoted total, and the funding
and points move — all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bonafide.errors import BonafideError, Conflict, Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.ledger.model import AccountKind, Balance, LedgerAccountId, TransferSpec
from bonafide.market.accounts import Principal, Role
from bonafide.market.promotions import (
    Basket,
    Funder,
    LoyaltyProgram,
    PointsRequest,
    PricedQuote,
    Promotion,
    PromotionKind,
    QuantityTier,
    evaluate,
    expired,
    new_buy_x_get_y,
    new_offer,
    new_quantity_tiers,
    take_oldest_first,
)
from bonafide.market.quotes import check_quantity
from bonafide.money import POINTS, Money, Rounding, split
from bonafide.service import ledger
from bonafide.service.accounts import principal_of, require_active
from bonafide.service.listings import get_listing
from bonafide.service.service_figures import check_seller
from bonafide.settings import Settings
from bonafide.store.promotion_repo import PromotionRepository
from bonafide.store.uow import UnitOfWork

if TYPE_CHECKING:
    from bonafide.market.orders import Order
    from bonafide.service.orders import OrderView

YEAR = timedelta(days=365)
FUNDING_SPLIT = Rounding.REMAINDER_TO_FIRST
"""Splitting an order's promotion funding by [kept, refunded]: the odd unit goes to the seller."""


def program_of(settings: Settings) -> LoyaltyProgram:
    return LoyaltyProgram(
        earn_points_per_unit=settings.loyalty_earn_points_per_unit,
        redeem_points_per_unit=settings.loyalty_redeem_points_per_unit,
        redeem_max_bp=settings.loyalty_redeem_max_basis_points,
        validity=settings.loyalty_points_validity,
    )


def _repo(uow: UnitOfWork) -> PromotionRepository:
    return uow.repo(PromotionRepository)


def _budget(uow: UnitOfWork, currency: str) -> LedgerAccountId:
    return ledger.account_for(uow, kind=AccountKind.PROMOTIONS, currency=currency)


def _escrow(uow: UnitOfWork, *, order_id: str, currency: str) -> LedgerAccountId:
    # The order flow's escrow account (service.orders.escrow_account names it the same way).
    return ledger.account_for(
        uow, kind=AccountKind.ESCROW, currency=currency, name=f"order:{order_id}"
    )


def _wallet(uow: UnitOfWork, *, owner_id: str, currency: str) -> LedgerAccountId:
    return ledger.account_for(uow, kind=AccountKind.WALLET, currency=currency, owner_id=owner_id)


def _points_pool(uow: UnitOfWork, *, spread_by: str) -> LedgerAccountId:
    """The points pool's shard for ``spread_by`` (an order or lot id): the pool is sharded like
    the fee account (``service.ledger``, "Sharded market accounts"), so releases earning points
    do not queue on one row."""
    return ledger.sharded_account_for(
        uow, kind=AccountKind.PROMOTIONS, currency=POINTS, spread_by=spread_by
    )


def _pool_payout(
    uow: UnitOfWork, *, spread_by: str, points: int, to: LedgerAccountId, transfer_id: str,
    memo: str,
) -> list[TransferSpec]:
    """Transfers that pay ``points`` from the pool's shard to ``to``, first issuing (``external``
    → pool) what the shard lacks. The shard's balance is read under its lock (taken in ascending
    id order with the other two accounts), so a concurrent payout cannot spend it meanwhile."""
    pool = _points_pool(uow, spread_by=spread_by)
    source = ledger.sharded_account_for(
        uow, kind=AccountKind.EXTERNAL, currency=POINTS, spread_by=spread_by
    )
    short = points - ledger.lock_balances(uow, [pool, source, to])[pool].available.value
    specs = []
    if short > 0:
        specs.append(
            TransferSpec(
                id=f"{transfer_id}:issue",
                debit_account_id=source,
                credit_account_id=pool,
                amount=Money(short, POINTS),
                memo="points issued",
                actor="system",
            )
        )
    specs.append(
        TransferSpec(
            id=transfer_id,
            debit_account_id=pool,
            credit_account_id=to,
            amount=Money(points, POINTS),
            memo=memo,
            actor="system",
        )
    )
    return specs


# --- promotions CRUD --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PromotionSpec:
    """A promotion as asked for over the API (validated by ``market.promotions``)."""

    kind: PromotionKind
    name: str
    starts_at: datetime
    ends_at: datetime | None
    time_zone: str | None = None
    listing_id: str | None = None
    seller_id: str | None = None
    basis_points: int | None = None
    amount_off: Money | None = None
    cap_total: int | None = None
    cap_per_buyer: int | None = None
    tiers: tuple[QuantityTier, ...] = ()
    buy: int | None = None
    get: int | None = None


def _build(
    spec: PromotionSpec, *, promotion_id: str, funder: Funder, seller_id: str | None
) -> Promotion:
    common: dict[str, Any] = {
        "promotion_id": promotion_id,
        "funder": funder,
        "name": spec.name,
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
        "time_zone": spec.time_zone,
        "seller_id": seller_id,
        "listing_id": spec.listing_id,
    }
    if spec.kind is PromotionKind.OFFER:
        return new_offer(
            **common,
            basis_points=spec.basis_points,
            amount_off=spec.amount_off,
            cap_total=spec.cap_total,
            cap_per_buyer=spec.cap_per_buyer,
        )
    if spec.kind is PromotionKind.QUANTITY_TIERS:
        return new_quantity_tiers(**common, tiers=spec.tiers)
    if spec.buy is None or spec.get is None:
        raise Rejected("buy_x_get_y_out_of_range", "give buy and get")
    return new_buy_x_get_y(
        **common, buy=spec.buy, get=spec.get, basis_points=spec.basis_points or 10_000
    )


def create_promotion(
    uow: UnitOfWork, *, actor: Principal, spec: PromotionSpec, now: datetime
) -> Promotion:
    """A seller's promotion (on their own listings, funded by them) or an operator's (optionally
    scoped to a seller or listing, funded by the ``promotions`` account)."""
    with uow:
        current = principal_of(uow, actor.id)
        if current.is_operator:
            funder, seller_id = Funder.OPERATOR, spec.seller_id
            if seller_id is not None:
                check_seller(uow, seller_id)
        elif current.has_role(Role.seller):
            require_active(current, doing="promote")
            if spec.seller_id not in (None, current.id):
                raise Forbidden("sellers_promote_their_own_listings", "scope it to your shop")
            funder, seller_id = Funder.SELLER, current.id
        else:
            raise Forbidden("role_required", "sellers and operators create promotions")
        if spec.listing_id is not None:
            listing = get_listing(uow, spec.listing_id)
            if funder is Funder.SELLER and listing.seller_id != current.id:
                raise Forbidden("sellers_promote_their_own_listings", "not your listing")
            seller_id = listing.seller_id
        promo = _build(
            spec, promotion_id=new_id("prm", now=now), funder=funder, seller_id=seller_id
        )
        _repo(uow).add(promo, created_by=current.id, now=now)
        uow.commit()
    return promo


def get_promotion(uow: UnitOfWork, *, promotion_id: str) -> tuple[Promotion, int]:
    """A promotion and how often it has been used (promotions are public)."""
    with uow:
        found = _repo(uow).get(promotion_id)
    if found is None:
        raise NotFound("promotion_not_found", f"no promotion {promotion_id}")
    return found[0], found[2]


def list_promotions(
    uow: UnitOfWork, *, seller_id: str | None, after_id: str | None, limit: int
) -> list[tuple[Promotion, int]]:
    with uow:
        return _repo(uow).page(seller_id=seller_id, after_id=after_id, limit=limit)


def set_promotion_active(
    uow: UnitOfWork, *, actor: Principal, promotion_id: str, active: bool, now: datetime
) -> Promotion:
    """Its creator (or an operator) switches a promotion off or on again."""
    with uow:
        repo = _repo(uow)
        found = repo.get(promotion_id)
        if found is None:
            raise NotFound("promotion_not_found", f"no promotion {promotion_id}")
        promo, created_by, _ = found
        if actor.id != created_by and not actor.is_operator:
            raise Forbidden("not_your_promotion", "only its creator or an operator changes it")
        repo.set_active(promotion_id, active=active, now=now)
        uow.commit()
    return replace(promo, active=active)


# --- the operator's promotions budget -----------------------------------------------------------


def fund_budget_in(
    uow: UnitOfWork, *, amount: Money, transfer_id: str, actor: str, now: datetime
) -> Balance:
    """Inside an open unit of work: money from outside into the operator's promotions budget."""
    if amount.value <= 0:
        raise Rejected("amount_must_be_positive", f"{amount} is not a deposit")
    budget = _budget(uow, amount.currency)
    external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency=amount.currency)
    ledger.execute(
        uow,
        [
            TransferSpec(
                id=transfer_id,
                debit_account_id=external,
                credit_account_id=budget,
                amount=amount,
                memo="promotions budget",
                actor=actor,
            )
        ],
        now=now,
    )
    return ledger.balance(uow, budget)


def budget(uow: UnitOfWork, *, currency: str) -> Balance:
    with uow:
        found = ledger.balance(uow, _budget(uow, currency))
        uow.commit()  # account_for may have opened the account
    return found


# --- loyalty points ---------------------------------------------------------------------------


def expire_points_in(uow: UnitOfWork, *, account_id: str, now: datetime) -> int:
    """Inside an open unit of work: expire the account's due lots (oldest first); points moved."""
    repo = _repo(uow)
    due = expired(repo.lots(account_id, for_update=True), now=now)
    if not due:
        return 0
    wallet = _wallet(uow, owner_id=account_id, currency=POINTS)
    specs = [
        TransferSpec(
            id=f"{lot_id}:expire",
            debit_account_id=wallet,
            credit_account_id=_points_pool(uow, spread_by=lot_id),
            amount=Money(points, POINTS),
            memo=f"points lot {lot_id} expired",
            actor="system",
        )
        for lot_id, points in due
    ]
    ledger.execute(uow, specs, now=now)
    for lot_id, points in due:
        repo.take_from_lot(lot_id, points)
    return sum(points for _, points in due)


@dataclass(frozen=True, slots=True)
class PointsSummary:
    account_id: str
    balance: int
    earned_last_year: int
    tier: str
    lots: tuple[tuple[str, int, datetime], ...]
    """(lot id, points remaining, expires at), oldest first."""


def points_summary(
    uow: UnitOfWork, *, viewer: Principal, account_id: str, settings: Settings, now: datetime
) -> PointsSummary:
    """The account's points (after expiring due lots), tier and lots; for the owner or operators."""
    if viewer.id != account_id and not viewer.is_operator:
        raise NotFound("account_not_found", f"no account {account_id}")
    with uow:
        principal_of(uow, account_id)  # an operator asking about nobody gets account_not_found
        expire_points_in(uow, account_id=account_id, now=now)
        repo = _repo(uow)
        lots = repo.lots(account_id)
        earned = repo.earned_since(account_id, since=now - YEAR)
        balance = ledger.balance(uow, _wallet(uow, owner_id=account_id, currency=POINTS))
        uow.commit()
    assert balance.available.value == sum(lot.remaining for lot in lots), "lots mirror the wallet"
    return PointsSummary(
        account_id=account_id,
        balance=balance.available.value,
        earned_last_year=earned,
        tier=program_of(settings).tier(earned_last_year=earned).name,
        lots=tuple((lot.id, lot.remaining, lot.expires_at) for lot in lots),
    )


def _points_request(uow: UnitOfWork, *, buyer_id: str, spend: int, now: datetime) -> PointsRequest:
    repo = _repo(uow)
    live = [lot for lot in repo.lots(buyer_id) if lot.expires_at > now]
    return PointsRequest(
        spend=spend,
        spendable=sum(lot.remaining for lot in live),
        earned_last_year=repo.earned_since(buyer_id, since=now - YEAR),
    )


def award_points(uow: UnitOfWork, *, order: Order, settings: Settings, now: datetime) -> int:
    """Inside an open unit of work: the points a completed, unrefunded order earns; idempotent."""
    row = _repo(uow).order(order.id, for_update=True)
    points, specs = _award_points(
        uow, order=order, row=row, earned=None, settings=settings, now=now
    )
    ledger.execute(uow, specs, now=now)
    return points


def _award_points(
    uow: UnitOfWork,
    *,
    order: Order,
    row: Any,
    earned: int | None,
    settings: Settings,
    now: datetime,
) -> tuple[int, list[TransferSpec]]:
    """``award_points`` with the order's promotions row already read (locked), or None, and the
    buyer's points earned in the year before ``now`` if already read: records the lot and
    returns the points with the transfers that pay them, for the caller to execute in this
    transaction (a release puts them in its own linked batch)."""
    repo = _repo(uow)
    if row is not None and row.points_awarded > 0:
        return 0, []
    if row is not None and row.points_to_earn is not None:
        points = int(row.points_to_earn)
    else:
        if earned is None:
            earned = repo.earned_since(order.buyer_id, since=now - YEAR)
        points = program_of(settings).points_for(order.total, earned_last_year=earned)
    if points <= 0:
        return 0, []
    specs = _pool_payout(
        uow,
        spread_by=order.id,
        points=points,
        to=_wallet(uow, owner_id=order.buyer_id, currency=POINTS),
        transfer_id=f"{order.id}:points:earn",
        memo=f"points for order {order.id}",
    )
    repo.add_lot(
        lot_id=new_id("lot", now=now),
        account_id=order.buyer_id,
        order_id=order.id,
        earned_at=now,
        expires_at=now + settings.loyalty_points_validity,
        amount=points,
    )
    if row is None:
        repo.add_order(
            order_id=order.id,
            buyer_id=order.buyer_id,
            currency=order.total.currency,
            operator_funded_value=0,
            points_spent=0,
            points_to_earn=points,
            points_awarded=points,
            applied=[],
            state="released",
            created_at=now,
            settled_at=now,
        )
    else:
        repo.change_order(order.id, points_awarded=points)
    return points, specs


# --- quotes ---------------------------------------------------------------------------------


def price_in(
    uow: UnitOfWork,
    *,
    buyer_id: str,
    listing_id: str,
    quantity: int,
    points: int,
    now: datetime,
    settings: Settings,
) -> PricedQuote:
    """Inside an open unit of work: the listing's price for the buyer now, every promotion
    weighed (see ``market.promotions`` for the order and the stacking rule)."""
    check_quantity(quantity)
    listing = get_listing(uow, listing_id)
    if not listing.orderable:
        raise Rejected("listing_inactive", f"listing {listing_id} is not open for orders")
    if listing.seller_id == buyer_id:
        raise Rejected("cannot_buy_own_listing", "a seller cannot buy their own listing")
    repo = _repo(uow)
    expire_points_in(uow, account_id=buyer_id, now=now)
    scope = repo.in_scope(seller_id=listing.seller_id, listing_id=listing_id, now=now)
    currency = listing.price.currency
    return evaluate(
        basket=Basket(
            buyer_id=buyer_id,
            seller_id=listing.seller_id,
            listing_id=listing_id,
            title=listing.title,
            unit_price=listing.price,
            quantity=quantity,
        ),
        promotions=scope,
        usage=repo.usage([p.id for p in scope], buyer_id=buyer_id),
        points=_points_request(uow, buyer_id=buyer_id, spend=points, now=now),
        program=program_of(settings),
        operator_budget=ledger.balance(uow, _budget(uow, currency)).available,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class StoredQuote:
    id: str
    buyer_id: str
    listing_id: str
    quantity: int
    points: int
    priced: PricedQuote
    created_at: datetime
    expires_at: datetime


def create_quote(
    uow: UnitOfWork,
    *,
    buyer: Principal,
    listing_id: str,
    quantity: int,
    points: int,
    settings: Settings,
    now: datetime,
) -> StoredQuote:
    """Price the listing for the buyer and keep the quote for ``quote_ttl`` to order from."""
    with uow:
        current = principal_of(uow, buyer.id)
        if not current.has_role(Role.buyer):
            raise Forbidden("role_required", "only buyers ask for quotes")
        priced = price_in(
            uow,
            buyer_id=buyer.id,
            listing_id=listing_id,
            quantity=quantity,
            points=points,
            now=now,
            settings=settings,
        )
        stored = StoredQuote(
            id=new_id("quo", now=now),
            buyer_id=buyer.id,
            listing_id=listing_id,
            quantity=quantity,
            points=points,
            priced=priced,
            created_at=now,
            expires_at=now + settings.quote_ttl,
        )
        _repo(uow).add_quote(
            id=stored.id,
            buyer_id=buyer.id,
            listing_id=listing_id,
            quantity=quantity,
            points_requested=points,
            currency=priced.total.currency,
            total_value=priced.total.value,
            priced=_fingerprint_json(priced),
            created_at=now,
            expires_at=stored.expires_at,
        )
        uow.commit()
    return stored


def _fingerprint_json(priced: PricedQuote) -> dict[str, Any]:
    return {
        "total": priced.total.value,
        "applied": [[a.promotion_id, a.discount.value] for a in priced.applied],
        "points_spent": priced.points_spent,
        "quote": priced.to_json(),
    }


def _same(stored: dict[str, Any], priced: PricedQuote) -> bool:
    now = _fingerprint_json(priced)
    return all(stored[key] == now[key] for key in ("total", "applied", "points_spent"))


def order_quote_in(
    uow: UnitOfWork, *, buyer: Principal, quote_id: str, settings: Settings, now: datetime
) -> OrderView:
    """Inside an open unit of work: place the order of a stored quote at exactly its price.

    Errors: ``quote_not_found``, ``quote_expired``, ``quote_already_ordered``, ``quote_changed``
    (prices, promotions, caps or budgets moved since), and those of ``place_order``.
    """
    from bonafide.service import orders  # late: orders calls back into this module

    repo = _repo(uow)
    row = repo.quote(quote_id)
    if row is None or row.buyer_id != buyer.id:
        raise NotFound("quote_not_found", f"no quote {quote_id}")
    if row.order_id is not None:
        raise Conflict("quote_already_ordered", f"order {row.order_id} used it")
    if now >= _aware(row.expires_at):
        raise Conflict("quote_expired", "ask for a new quote")
    priced = price_in(
        uow,
        buyer_id=buyer.id,
        listing_id=row.listing_id,
        quantity=row.quantity,
        points=row.points_requested,
        now=now,
        settings=settings,
    )
    if not _same(row.priced, priced):
        raise Conflict("quote_changed", "the price changed since the quote; ask for a new one")
    _reserve(uow, priced=priced, buyer_id=buyer.id)
    view = orders.place_order_in(
        uow,
        buyer=buyer,
        listing_id=row.listing_id,
        quantity=row.quantity,
        settings=settings,
        now=now,
        quote=priced.quote,
    )
    if not repo.claim_quote(quote_id, order_id=view.order.id):
        raise Conflict("quote_already_ordered", "another order used the quote")
    apply_to_order(uow, order=view.order, priced=priced, now=now)
    return view


def order_quote(
    uow: UnitOfWork, *, buyer: Principal, quote_id: str, settings: Settings, now: datetime
) -> OrderView:
    """Order a stored quote (opens and commits the unit of work)."""
    with uow:
        view = order_quote_in(uow, buyer=buyer, quote_id=quote_id, settings=settings, now=now)
        uow.commit()
    return view


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _reserve(uow: UnitOfWork, *, priced: PricedQuote, buyer_id: str) -> None:
    repo = _repo(uow)
    for applied in sorted(priced.applied, key=lambda a: a.promotion_id or ""):
        if applied.promotion_id is None:
            continue
        found = repo.get(applied.promotion_id)
        assert found is not None
        if not repo.reserve(found[0], buyer_id=buyer_id):
            raise Conflict("quote_changed", f"{applied.name} is no longer available")


def apply_to_order(uow: UnitOfWork, *, order: Order, priced: PricedQuote, now: datetime) -> None:
    """Inside an open unit of work, right after the hold: the operator's funding into escrow and
    the points spent, and the record of both (what refunds and release settle)."""
    assert order.total == priced.total, "the order costs exactly the quoted total"
    currency = order.total.currency
    funded = priced.operator_funded()
    specs: list[TransferSpec] = []
    if funded.value > 0:
        specs.append(
            TransferSpec(
                id=f"{order.id}:promo:fund",
                debit_account_id=_budget(uow, currency),
                credit_account_id=_escrow(uow, order_id=order.id, currency=currency),
                amount=funded,
                memo=f"promotions for order {order.id}",
                actor="system",
            )
        )
    if priced.points_spent > 0:
        repo = _repo(uow)
        taken = take_oldest_first(
            repo.lots(order.buyer_id, for_update=True), points=priced.points_spent, now=now
        )
        for lot_id, points in taken:
            repo.take_from_lot(lot_id, points)
            repo.add_use(order_id=order.id, lot_id=lot_id, points=points)
        specs.append(
            TransferSpec(
                id=f"{order.id}:points:spend",
                debit_account_id=_wallet(uow, owner_id=order.buyer_id, currency=POINTS),
                credit_account_id=_points_pool(uow, spread_by=order.id),
                amount=Money(priced.points_spent, POINTS),
                memo=f"points spent on order {order.id}",
                actor=order.buyer_id,
            )
        )
    try:
        ledger.execute(uow, specs, now=now)
    except BonafideError as error:
        if error.code == "exceeds_available_balance":
            raise Conflict("quote_changed", "the promotions budget ran out") from None
        raise
    _repo(uow).add_order(
        order_id=order.id,
        buyer_id=order.buyer_id,
        currency=currency,
        operator_funded_value=funded.value,
        points_spent=priced.points_spent,
        points_to_earn=priced.points_to_earn,
        points_awarded=0,
        applied=[a.to_json() for a in priced.applied],
        state="funded",
        created_at=now,
        settled_at=None,
    )


# --- settlement hooks (called by service.orders) -----------------------------------------------


def settle_for_order(
    uow: UnitOfWork, *, order: Order, refund: Money, settings: Settings, now: datetime
) -> list[TransferSpec]:
    """Inside an open unit of work, when the order settles (release, partial refund, dispute
    resolution): the funding follows the buyer's money, and an unrefunded order earns points.

    Records what changes and returns the transfers, which the caller executes in the order's
    settlement batch (one linked batch: one pass of locks and one journal write, not three).
    A full refund reverses at once (``reverse_for_refund``) and returns nothing."""
    if refund == order.total:
        reverse_for_refund(uow, order_id=order.id, now=now)
        return []
    specs: list[TransferSpec] = []
    repo = _repo(uow)
    earned: int | None = None
    if refund.value == 0:
        # Points will be earned: the year's earnings come with the row's existence (one
        # statement instead of two for an order without promotions).
        row, earned = repo.order_and_earned(order.id, account_id=order.buyer_id, since=now - YEAR)
    else:
        row = repo.order(order.id, for_update=True)
    if row is not None and row.state == "funded":
        funded = Money(row.operator_funded_value, row.currency)
        if funded.value > 0:
            kept, back = split(
                funded, [order.total.value - refund.value, refund.value], rounding=FUNDING_SPLIT
            )
            escrow = _escrow(uow, order_id=order.id, currency=row.currency)
            funding = [
                TransferSpec(
                    id=f"{order.id}:promo:seller",
                    debit_account_id=escrow,
                    credit_account_id=_wallet(uow, owner_id=order.seller_id, currency=row.currency),
                    amount=kept,
                    memo="promotion funding to the seller",
                    actor="system",
                ),
                TransferSpec(
                    id=f"{order.id}:promo:return",
                    debit_account_id=escrow,
                    credit_account_id=_budget(uow, row.currency),
                    amount=back,
                    memo="promotion funding returned (refund)",
                    actor="system",
                ),
            ]
            specs += [spec for spec in funding if spec.amount.value > 0]
        repo.change_order(order.id, state="released", settled_at=now)
    if refund.value == 0:
        # The row read above, still locked; its points fields did not change since.
        specs += _award_points(
            uow, order=order, row=row, earned=earned, settings=settings, now=now
        )[1]
    return specs


def reverse_for_refund(uow: UnitOfWork, *, order_id: str, now: datetime) -> None:
    """Inside an open unit of work, when an order is cancelled or refunded in full: its funding
    returns to the ``promotions`` account, the points it spent to the buyer (lots that expired
    meanwhile stay expired), and any points it earned are clawed back (as far as they are left)."""
    repo = _repo(uow)
    row = repo.order(order_id, for_update=True)
    if row is None or row.state == "reversed":
        return
    specs: list[TransferSpec] = []
    if row.state == "funded" and row.operator_funded_value > 0:
        specs.append(
            TransferSpec(
                id=f"{order_id}:promo:return",
                debit_account_id=_escrow(uow, order_id=order_id, currency=row.currency),
                credit_account_id=_budget(uow, row.currency),
                amount=Money(row.operator_funded_value, row.currency),
                memo="promotion funding returned (refund)",
                actor="system",
            )
        )
    wallet = _wallet(uow, owner_id=row.buyer_id, currency=POINTS)
    returned = 0
    for lot_id, points, expires_at in repo.uses(order_id) if row.state == "funded" else ():
        if expires_at > now:
            repo.give_back_to_lot(lot_id, points)
            returned += points
    if returned:
        # The shard that received them may have paid them out since: issue what it lacks.
        specs += _pool_payout(
            uow,
            spread_by=order_id,
            points=returned,
            to=wallet,
            transfer_id=f"{order_id}:points:return",
            memo="points returned (refund)",
        )
    lot = repo.lot_of_order(order_id)
    if lot is not None and lot.remaining > 0:
        specs.append(
            TransferSpec(
                id=f"{order_id}:points:clawback",
                debit_account_id=wallet,
                credit_account_id=_points_pool(uow, spread_by=order_id),
                amount=Money(lot.remaining, POINTS),
                memo="points earned by a refunded order",
                actor="system",
            )
        )
        repo.claw_back(lot.id, lot.remaining)
    ledger.execute(uow, specs, now=now)
    repo.change_order(order_id, state="reversed", settled_at=now)
