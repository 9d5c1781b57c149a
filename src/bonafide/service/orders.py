"""Order use cases: place (quote + stock + escrow hold), ship, confirm, cancel, refund, read.

Owns: the order flow's transactions and the escrow movements of each transition. Imports:
``bonafide.market`` (the rules), ``bonafide.store`` (order repository, unit of work),
``bonafide.service.ledger`` / ``listings`` / ``accounts`` (building blocks that run inside an open
unit of work).

Two forms of each money-moving use case:

- ``<verb>_in(uow, ...)`` runs inside a unit of work the caller opened and never commits, so the
  API can wrap it in ``service.idempotency.run_idempotent`` (the key, the work and the stored
  response commit together);
- ``<verb>(uow, ...)`` opens the unit of work, runs ``<verb>_in`` and commits.

Escrow (DESIGN.md §2, §3)
    Placing an order puts a *pending* transfer from the buyer's wallet into the order's escrow
    account (``order:<id>``), expiring at ``market.orders.hold_expiry``: far after every
    automatic deadline, so the scheduler always settles first; an expired hold can only return to
    the buyer. Release is one linked batch: post the hold (all, or all but a refund, which returns
    to the buyer), then escrow → seller wallet and escrow → fees. A full refund or a cancellation
    voids the hold. Transfer ids derive from the order id, so a retried transition can never move
    money twice.

Promotions: ``service.promotions`` hooks run inside the same transactions — funding held in
the escrow is settled or returned with the buyer's money, and points are earned or reversed.

Concurrency: every transition reads the order ``FOR UPDATE`` first; concurrent transitions of one
order queue on that lock, and the later ones find the state changed (``order_not_in_state``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from bonafide.errors import Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.ledger.model import AccountKind, LedgerAccountId, TransferKind, TransferSpec
from bonafide.market.accounts import Principal, Role
from bonafide.market.disputes import Dispute, Outcome
from bonafide.market.orders import (
    REASON_MAX,
    TRACKING_MAX,
    Action,
    HistoryEntry,
    Order,
    OrderState,
    Settlement,
    check_actor,
    check_printable,
    hold_expiry,
    next_state,
    settle,
)
from bonafide.market.quotes import Quote, check_quantity, quote_listing
from bonafide.money import Money
from bonafide.service import ledger, promotions
from bonafide.service.accounts import principals_of, require_active
from bonafide.service.listings import (
    bond_maybe_return,
    get_listing,
    release_stock,
    reserve_stock,
)
from bonafide.settings import Settings
from bonafide.store.market_repo import ListingRepository
from bonafide.store.order_repo import PAGE_MAX, DisputeRepository, OrderRepository
from bonafide.store.uow import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")


def committed(
    work: Callable[Concatenate[UnitOfWork, P], T],
) -> Callable[Concatenate[UnitOfWork, P], T]:
    """Turn an ``_in`` building block into a use case that opens and commits its unit of work."""

    def run(uow: UnitOfWork, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with uow:
            result = work(uow, *args, **kwargs)
            uow.commit()
        return result

    run.__name__ = work.__name__.removesuffix("_in")
    run.__doc__ = work.__doc__
    return run


@dataclass(frozen=True, slots=True)
class OrderView:
    """An order with its state history (and disputes), as the parties and staff may see it."""

    order: Order
    history: tuple[HistoryEntry, ...]
    disputes: tuple[Dispute, ...]


# --- reading ----------------------------------------------------------------------------------


def check_page(*, after: str | None, limit: int) -> None:
    """A page is 1 to ``PAGE_MAX`` items after a plain id (cursors decode to arbitrary text)."""
    if not 1 <= limit <= PAGE_MAX:
        raise Rejected("limit_out_of_range", f"1 to {PAGE_MAX}")
    if after is not None and (
        len(after) > 64 or not after.isascii() or not after.replace("_", "").isalnum()
    ):
        raise Rejected("cursor_invalid", "the cursor is not one this API gave out")


def order_not_found(order_id: str) -> NotFound:
    return NotFound("order_not_found", f"no order {order_id}")


def may_see_order(*, viewer: Principal, order: Order) -> bool:
    """Parties, moderators and operators see an order; everyone else is told it does not exist."""
    return order.party_of(viewer.id) is not None or viewer.has_any((Role.moderator, Role.operator))


def load_for_change(uow: UnitOfWork, *, viewer: Principal | None, order_id: str) -> Order:
    """Inside an open unit of work: the order, locked, if ``viewer`` (None: system) may see it."""
    order = uow.repo(OrderRepository).get(order_id, for_update=True)
    if order is None or (viewer is not None and not may_see_order(viewer=viewer, order=order)):
        raise order_not_found(order_id)
    return order


def view_in(uow: UnitOfWork, *, order_id: str, order: Order | None = None) -> OrderView:
    """The order's view; pass ``order`` when this transaction just wrote it (its row as
    ``RETURNING`` gave it back), so it is not read again. An order never disputed has no
    disputes to read (``was_disputed`` is set with the first one, in its transaction)."""
    repo = uow.repo(OrderRepository)
    if order is None:
        order = repo.get(order_id)
    assert order is not None and order.id == order_id
    disputes = uow.repo(DisputeRepository).for_order(order_id) if order.was_disputed else []
    return OrderView(order=order, history=tuple(repo.history(order_id)), disputes=tuple(disputes))


def get_order(uow: UnitOfWork, *, viewer: Principal, order_id: str) -> OrderView:
    """One order with its history, for its parties, moderators and operators."""
    with uow:
        order = uow.repo(OrderRepository).get(order_id)
        if order is None or not may_see_order(viewer=viewer, order=order):
            raise order_not_found(order_id)
        return view_in(uow, order_id=order_id)


def list_orders(
    uow: UnitOfWork,
    *,
    viewer: Principal,
    state: OrderState | None,
    after: str | None,
    limit: int,
) -> list[Order]:
    """The caller's own orders: those they bought and those of their listings, by id."""
    check_page(after=after, limit=limit)
    with uow:
        return uow.repo(OrderRepository).page(
            buyer_id=viewer.id, seller_id=viewer.id, state=state, after=after, limit=limit
        )


# --- ledger accounts and transfers of an order --------------------------------------------------


def escrow_account(uow: UnitOfWork, *, order: Order) -> LedgerAccountId:
    return ledger.account_for(
        uow, kind=AccountKind.ESCROW, currency=order.total.currency, name=f"order:{order.id}"
    )


def _wallet(uow: UnitOfWork, *, owner_id: str, currency: str) -> LedgerAccountId:
    return ledger.account_for(uow, kind=AccountKind.WALLET, currency=currency, owner_id=owner_id)


def hold_transfer_id(order_id: str, *, number: int) -> str:
    return f"{order_id}:hold:{number}"


def _hold_accounts(uow: UnitOfWork, *, order: Order) -> tuple[LedgerAccountId, LedgerAccountId]:
    """The hold's debit and credit accounts (the buyer's wallet, the order's escrow): naming them
    on a post or void lets the ledger lock them without reading the hold first."""
    currency = order.total.currency
    wallet = _wallet(uow, owner_id=order.buyer_id, currency=currency)
    return wallet, escrow_account(uow, order=order)


def _void_hold(uow: UnitOfWork, order: Order, *, actor: str, memo: str) -> TransferSpec:
    wallet, escrow = _hold_accounts(uow, order=order)
    return TransferSpec(
        id=f"{order.id}:void:{order.hold_number}",
        debit_account_id=wallet,
        credit_account_id=escrow,
        amount=order.total,
        kind=TransferKind.VOID_PENDING,
        pending_id=order.hold_transfer_id,
        memo=memo,
        actor=actor,
    )


def _settlement_batch(
    uow: UnitOfWork, *, order: Order, settlement: Settlement, actor: str, memo: str
) -> list[TransferSpec]:
    """Post what the seller keeps (the rest returns to the buyer), then pay seller and fees."""
    if settlement.posted.value == 0:
        return [_void_hold(uow, order, actor=actor, memo=memo)]
    wallet, escrow = _hold_accounts(uow, order=order)
    currency = order.total.currency
    batch = [
        TransferSpec(
            id=f"{order.id}:post",
            debit_account_id=wallet,
            credit_account_id=escrow,
            amount=settlement.posted,
            kind=TransferKind.POST_PENDING,
            pending_id=order.hold_transfer_id,
            memo=memo,
            actor=actor,
        )
    ]
    if settlement.seller.value > 0:
        batch.append(
            TransferSpec(
                id=f"{order.id}:seller",
                debit_account_id=escrow,
                credit_account_id=_wallet(uow, owner_id=order.seller_id, currency=currency),
                amount=settlement.seller,
                memo=f"{memo}: to the seller",
                actor=actor,
            )
        )
    if settlement.fee.value > 0:
        batch.append(
            TransferSpec(
                id=f"{order.id}:fee",
                debit_account_id=escrow,
                # One of the fee account's shards, by order id: releases do not queue on one row.
                credit_account_id=ledger.sharded_account_for(
                    uow, kind=AccountKind.FEES, currency=currency, spread_by=order.id
                ),
                amount=settlement.fee,
                memo=f"{memo}: market fee",
                actor=actor,
            )
        )
    return batch


# --- transitions ------------------------------------------------------------------------------


def transition(
    uow: UnitOfWork,
    *,
    order: Order,
    action: Action,
    actor: str,
    reason: str,
    now: datetime,
    **values: object,
) -> Order:
    """Move ``order`` by ``action`` (per the table), record it in the history, return the order
    as it is now."""
    to = next_state(state=order.state, action=action)
    if to in (OrderState.COMPLETED, OrderState.RESOLVED, OrderState.AUTO_RELEASED) or (
        to is OrderState.CANCELLED
    ):
        values.setdefault("finished_at", now)
    repo = uow.repo(OrderRepository)
    changed = repo.change(order.id, expected_state=order.state, state=to, updated_at=now, **values)
    repo.add_history(order.id, HistoryEntry(at=now, from_state=order.state, to_state=to,
                                            action=action.value, actor=actor, reason=reason))
    return changed


def settle_in(
    uow: UnitOfWork,
    *,
    order: Order,
    action: Action,
    refund: Money,
    actor: str,
    reason: str,
    settings: Settings,
    now: datetime,
) -> Order:
    """Inside an open unit of work: settle the escrow (refund, fee, seller) and transition;
    return the order as it is now."""
    settlement = settle(
        total=order.total, refund=refund, fee_basis_points=settings.fee_basis_points
    )
    batch = _settlement_batch(
        uow, order=order, settlement=settlement, actor=actor, memo=f"order {order.id} {action}"
    )
    # Promotion funding in the escrow follows the buyer's money; an unrefunded order earns points:
    # their transfers join the settlement's linked batch.
    batch += promotions.settle_for_order(
        uow, order=order, refund=settlement.refund, settings=settings, now=now
    )
    ledger.execute(uow, batch, now=now)
    settled = transition(
        uow,
        order=order,
        action=action,
        actor=actor,
        reason=reason,
        now=now,
        ship_by=None,
        release_by=None,
        refund_value=settlement.refund.value,
        seller_value=settlement.seller.value,
        fee_value=settlement.fee.value,
    )
    if settlement.refund.value == 0 and settings.seller_bond > 0:
        # Enough orders released without loss give the seller's bond back (market.listings).
        bond_maybe_return(
            uow,
            seller_id=order.seller_id,
            completed_orders=uow.repo(OrderRepository).released_without_loss(order.seller_id),
            settings=settings,
            now=now,
        )
    return settled


def void_in(
    uow: UnitOfWork,
    *,
    order: Order,
    action: Action,
    actor: str,
    reason: str,
    now: datetime,
    return_stock: bool,
    hold_open: bool = True,
) -> None:
    """Inside an open unit of work: void the hold (the buyer gets all back) and transition.

    ``hold_open=False`` when the ledger's expiry sweep already returned the hold to the buyer.
    """
    if hold_open:
        ledger.execute(
            uow, [_void_hold(uow, order, actor=actor, memo=f"order {order.id} {action}")], now=now
        )
    # Promotion funding returns to its account; points spent return to the buyer.
    promotions.reverse_for_refund(uow, order_id=order.id, now=now)
    if return_stock:
        release_stock(uow, listing_id=order.listing_id, quantity=order.quantity, now=now)
    transition(
        uow,
        order=order,
        action=action,
        actor=actor,
        reason=reason,
        now=now,
        ship_by=None,
        release_by=None,
        refund_value=order.total.value,
    )


def check_tracking(tracking: str | None) -> None:
    if tracking is not None:
        if len(tracking) > TRACKING_MAX:
            raise Rejected("tracking_too_long", f"at most {TRACKING_MAX} characters")
        check_printable(tracking, field="tracking")


def _reason(reason: object, *, default: str) -> str:
    if reason is None:
        return default
    if not isinstance(reason, str):
        raise Rejected("reason_must_be_text", "reason must be a string")
    if len(reason) > REASON_MAX:
        raise Rejected("reason_too_long", f"at most {REASON_MAX} characters")
    return check_printable(reason.strip(), field="reason") or default


# --- use cases --------------------------------------------------------------------------------


def place_order_in(
    uow: UnitOfWork,
    *,
    buyer: Principal,
    listing_id: str,
    quantity: int,
    settings: Settings,
    now: datetime,
    quote: Quote | None = None,
) -> OrderView:
    """Quote, reserve stock and hold the total in escrow from the buyer's wallet: ``funded``.

    ``quote`` is for ``service.promotions.order_quote_in``: a quote priced with promotions (its
    item line must be this listing's price and quantity); the buyer's hold is its total, and the
    caller moves any operator funding into the same escrow. Without it the plain listing quote.

    Errors: ``role_required``, ``account_suspended``, ``listing_not_found``, ``listing_inactive``,
    ``cannot_buy_own_listing``, ``seller_suspended``, ``insufficient_stock``,
    ``quantity_out_of_range``, ``exceeds_available_balance``. All or nothing: on any error
    nothing is written.
    """
    check_quantity(quantity)
    # The listing first, so that the buyer and its seller are re-read in one statement (a
    # suspension that just landed counts); the checks keep their order.
    found = uow.repo(ListingRepository).get(listing_id)
    people = principals_of(uow, buyer.id, *([] if found is None else [found.seller_id]))
    current = people[buyer.id]
    if not current.has_role(Role.buyer):
        raise Forbidden("role_required", "only buyers place orders")
    require_active(current, doing="order")
    listing = found if found is not None else get_listing(uow, listing_id)
    if listing.seller_id == buyer.id:
        raise Rejected("cannot_buy_own_listing", "a seller cannot buy their own listing")
    if not people[listing.seller_id].is_active:
        # A suspended seller cannot list; nor can their standing listings take new orders.
        raise Rejected("seller_suspended", "this seller is suspended and takes no new orders")
    plain = quote_listing(title=listing.title, unit_price=listing.price, quantity=quantity)
    if quote is None:
        quote = plain
    else:
        items = [line for line in quote.lines if line.kind == "item"]
        assert items == list(plain.lines), "a promotions quote prices this listing's items"
    reserve_stock(uow, listing_id=listing_id, quantity=quantity, now=now)
    order_id = new_id("ord", now=now)
    order = Order(
        id=order_id,
        buyer_id=buyer.id,
        seller_id=listing.seller_id,
        listing_id=listing_id,
        quantity=quantity,
        quote=quote,
        state=OrderState.FUNDED,
        placed_at=now,
        updated_at=now,
        ship_by=now + settings.ship_window,
        shipped_at=None,
        release_by=None,
        finished_at=None,
        tracking=None,
        hold_transfer_id=hold_transfer_id(order_id, number=1),
        hold_number=1,
        hold_expires_at=hold_expiry(
            now=now, ship_window=settings.ship_window, release_window=settings.release_window
        ),
        refund=Money.zero(quote.currency),
        seller_amount=Money.zero(quote.currency),
        fee=Money.zero(quote.currency),
        was_disputed=False,
    )
    repo = uow.repo(OrderRepository)
    repo.add(order)
    ledger.execute(
        uow,
        [
            TransferSpec(
                id=order.hold_transfer_id,
                debit_account_id=_wallet(uow, owner_id=buyer.id, currency=quote.currency),
                # A new order's escrow account is new too: open it without looking for it.
                credit_account_id=ledger.open_account(
                    uow, kind=AccountKind.ESCROW, currency=quote.currency, name=f"order:{order.id}"
                ),
                amount=quote.total,
                kind=TransferKind.PENDING,
                expires_at=order.hold_expires_at,
                memo=f"order {order_id} escrow hold",
                actor=buyer.id,
            )
        ],
        now=now,
    )
    placed = HistoryEntry(
        at=now,
        from_state=None,
        to_state=OrderState.FUNDED,
        action="place",
        actor=buyer.id,
        reason="order placed and funded",
    )
    repo.add_history(order_id, placed)
    # Not read back: this transaction wrote every part of the view just now.
    return OrderView(order=order, history=(placed,), disputes=())


def ship_order_in(
    uow: UnitOfWork,
    *,
    actor: Principal,
    order_id: str,
    tracking: str | None,
    settings: Settings,
    now: datetime,
) -> OrderView:
    """The seller ships: ``shipped``, and the release window starts."""
    check_tracking(tracking)
    order = load_for_change(uow, viewer=actor, order_id=order_id)
    check_actor(action=Action.SHIP, party=order.party_of(actor.id))
    shipped = transition(
        uow,
        order=order,
        action=Action.SHIP,
        actor=actor.id,
        reason="shipped" + (f": {tracking.strip()}" if tracking and tracking.strip() else ""),
        now=now,
        ship_by=None,
        shipped_at=now,
        release_by=now + settings.release_window,
        tracking=tracking.strip() if tracking else None,
    )
    return view_in(uow, order_id=order_id, order=shipped)


def confirm_order_in(
    uow: UnitOfWork, *, actor: Principal, order_id: str, settings: Settings, now: datetime
) -> OrderView:
    """The buyer confirms receipt: the escrow goes to the seller minus the fee (``completed``)."""
    order = load_for_change(uow, viewer=actor, order_id=order_id)
    check_actor(action=Action.CONFIRM, party=order.party_of(actor.id))
    next_state(state=order.state, action=Action.CONFIRM)  # refuse before touching the ledger
    confirmed = settle_in(
        uow,
        order=order,
        action=Action.CONFIRM,
        refund=Money.zero(order.total.currency),
        actor=actor.id,
        reason="the buyer confirmed receipt",
        settings=settings,
        now=now,
    )
    return view_in(uow, order_id=order_id, order=confirmed)


def cancel_order_in(
    uow: UnitOfWork, *, actor: Principal, order_id: str, reason: str | None, now: datetime
) -> OrderView:
    """Buyer or seller cancels before shipping: the hold is voided and the stock returns."""
    text = _reason(reason, default="cancelled before shipping")
    order = load_for_change(uow, viewer=actor, order_id=order_id)
    check_actor(action=Action.CANCEL, party=order.party_of(actor.id))
    next_state(state=order.state, action=Action.CANCEL)
    void_in(
        uow,
        order=order,
        action=Action.CANCEL,
        actor=actor.id,
        reason=text,
        now=now,
        return_stock=True,
    )
    return view_in(uow, order_id=order_id)


def refund_order_in(
    uow: UnitOfWork,
    *,
    actor: Principal,
    order_id: str,
    amount: Money | None,
    reason: str | None,
    settings: Settings,
    now: datetime,
) -> OrderView:
    """The seller refunds, fully (``amount`` None or the total) or partly, any time before release.

    A full refund voids the hold and returns the stock (``cancelled``; ``resolved`` inside a
    dispute); a partial one posts the rest to the seller minus the fee (``completed``, or
    ``resolved`` inside a dispute, which it closes).
    """
    text = _reason(reason, default="refunded by the seller")
    order = load_for_change(uow, viewer=actor, order_id=order_id)
    refund = order.total if amount is None else amount
    settle(total=order.total, refund=refund, fee_basis_points=settings.fee_basis_points)
    if refund.value == 0:
        raise Rejected("refund_must_be_positive", "a refund returns something to the buyer")
    full = refund == order.total
    action = Action.REFUND_FULL if full else Action.REFUND_PARTIAL
    check_actor(action=action, party=order.party_of(actor.id))
    next_state(state=order.state, action=action)
    was_disputed = order.state is OrderState.DISPUTED
    if full:
        void_in(
            uow,
            order=order,
            action=action,
            actor=actor.id,
            reason=text,
            now=now,
            return_stock=True,
        )
    else:
        settle_in(
            uow,
            order=order,
            action=action,
            refund=refund,
            actor=actor.id,
            reason=text,
            settings=settings,
            now=now,
        )
    if was_disputed:
        close_open_dispute(
            uow,
            order_id=order_id,
            by=actor.id,
            outcome=Outcome.SELLER_REFUND,
            refund=refund,
            now=now,
        )
    return view_in(uow, order_id=order_id)


def close_open_dispute(
    uow: UnitOfWork,
    *,
    order_id: str,
    by: str,
    outcome: Outcome,
    refund: Money | None,
    now: datetime,
) -> None:
    repo = uow.repo(DisputeRepository)
    dispute = repo.open_for_order(order_id)
    assert dispute is not None, "a disputed order has an open dispute"
    repo.close(dispute.id, at=now, by=by, outcome=outcome, refund=refund)


place_order = committed(place_order_in)
ship_order = committed(ship_order_in)
confirm_order = committed(confirm_order_in)
cancel_order = committed(cancel_order_in)
refund_order = committed(refund_order_in)
