"""Orders: place (quote + escrow hold), read, ship, confirm, cancel, refund.

| route                              | who                                 | idempotency key |
|------------------------------------|-------------------------------------|-----------------|
| POST /v1/orders                    | buyers (active)                     | required        |
| GET  /v1/orders                    | any account: its own orders         |                 |
| GET  /v1/orders/{id}               | its parties, moderators, operators  |                 |
| POST /v1/orders/{id}/ship          | its seller                          |                 |
| POST /v1/orders/{id}/confirm       | its buyer                           | required        |
| POST /v1/orders/{id}/cancel        | its buyer or seller                 | required        |
| POST /v1/orders/{id}/refund        | its seller                          | required        |

Anyone else asking about an order is told it does not exist (404). The order JSON shapes here are
reused by the dispute routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from bonafide.api.deps import (
    ContainerDep,
    CurrentAccount,
    IdempotencyKey,
    Page,
    encode_cursor,
    model_response,
    require_roles,
    run_idempotent_route,
)
from bonafide.api.problems import problem_responses
from bonafide.api.schemas import MoneyOut, PositiveMoneyIn
from bonafide.market.accounts import Principal, Role
from bonafide.market.disputes import Dispute
from bonafide.market.orders import REASON_MAX, TRACKING_MAX, Order, OrderState
from bonafide.market.quotes import QUANTITY_MAX, Quote
from bonafide.service import orders as service
from bonafide.service.idempotency import OpenUnitOfWork

router = APIRouter(
    prefix="/v1", tags=["orders"], responses=problem_responses(400, 401, 413, 422, 429)
)

ID_PATTERN = r"^[A-Za-z0-9_-]+$"
"""Ids are ASCII letters, digits, ``_`` and ``-``; anything else is refused before a query."""

OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
Buyer = Annotated[Principal, Depends(require_roles(Role.buyer))]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderIn(_In):
    listing_id: StrictStr = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    quantity: StrictInt = Field(ge=1, le=QUANTITY_MAX)


class ShipIn(_In):
    tracking: StrictStr | None = Field(default=None, max_length=TRACKING_MAX)


class CancelIn(_In):
    reason: StrictStr | None = Field(default=None, max_length=REASON_MAX)


class RefundIn(_In):
    amount: PositiveMoneyIn | None = Field(
        default=None, description="What to give back; absent means the whole total"
    )
    reason: StrictStr | None = Field(default=None, max_length=REASON_MAX)


class QuoteLineOut(BaseModel):
    kind: str
    description: str
    unit_price: MoneyOut | None
    quantity: int | None
    amount: MoneyOut


class QuoteOut(BaseModel):
    lines: list[QuoteLineOut]
    total: MoneyOut


class HistoryOut(BaseModel):
    at: datetime
    from_state: OrderState | None
    to_state: OrderState
    action: str
    actor: str = Field(description="An account id, or `system` for automatic transitions")
    reason: str


class DisputeSummaryOut(BaseModel):
    id: str
    state: str
    reason: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    refund: MoneyOut | None


class OrderOut(BaseModel):
    id: str
    state: OrderState
    buyer_id: str
    seller_id: str
    listing_id: str
    quantity: int
    quote: QuoteOut
    total: MoneyOut
    placed_at: datetime
    ship_by: datetime | None
    shipped_at: datetime | None
    release_by: datetime | None
    finished_at: datetime | None
    hold_expires_at: datetime
    tracking: str | None
    refunded: MoneyOut
    paid_to_seller: MoneyOut
    fee: MoneyOut
    history: list[HistoryOut] = Field(default_factory=list)
    disputes: list[DisputeSummaryOut] = Field(default_factory=list)


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


def quote_out(quote: Quote) -> QuoteOut:
    return QuoteOut(
        lines=[
            QuoteLineOut(
                kind=line.kind,
                description=line.description,
                unit_price=None if line.unit_price is None else MoneyOut.of(line.unit_price),
                quantity=line.quantity,
                amount=MoneyOut.of(line.amount),
            )
            for line in quote.lines
        ],
        total=MoneyOut.of(quote.total),
    )


def dispute_summary(dispute: Dispute) -> DisputeSummaryOut:
    return DisputeSummaryOut(
        id=dispute.id,
        state=dispute.state.value,
        reason=dispute.reason,
        opened_at=dispute.opened_at,
        closed_at=dispute.closed_at,
        outcome=None if dispute.outcome is None else dispute.outcome.value,
        refund=None if dispute.refund is None else MoneyOut.of(dispute.refund),
    )


def order_out(order: Order, *, view: service.OrderView | None = None) -> OrderOut:
    return OrderOut(
        id=order.id,
        state=order.state,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        listing_id=order.listing_id,
        quantity=order.quantity,
        quote=quote_out(order.quote),
        total=MoneyOut.of(order.total),
        placed_at=order.placed_at,
        ship_by=order.ship_by,
        shipped_at=order.shipped_at,
        release_by=order.release_by,
        finished_at=order.finished_at,
        hold_expires_at=order.hold_expires_at,
        tracking=order.tracking,
        refunded=MoneyOut.of(order.refund),
        paid_to_seller=MoneyOut.of(order.seller_amount),
        fee=MoneyOut.of(order.fee),
        history=[]
        if view is None
        else [
            HistoryOut(
                at=h.at,
                from_state=h.from_state,
                to_state=h.to_state,
                action=h.action,
                actor=h.actor,
                reason=h.reason,
            )
            for h in view.history
        ],
        disputes=[] if view is None else [dispute_summary(d) for d in view.disputes],
    )


def view_out(view: service.OrderView) -> OrderOut:
    return order_out(view.order, view=view)


def view_json(view: service.OrderView) -> dict[str, Any]:
    return view_out(view).model_dump(mode="json")



@router.post(
    "/orders", status_code=201, response_model=OrderOut, responses=problem_responses(403, 404, 409)
)
async def place_order(
    body: OrderIn, request: Request, buyer: Buyer, key: IdempotencyKey, container: ContainerDep
) -> JSONResponse:
    """Buy ``quantity`` of a listing: price quote, stock reservation and escrow hold, at once."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.place_order_in(
            uow,
            buyer=buyer,
            listing_id=body.listing_id,
            quantity=body.quantity,
            settings=container.settings,
            now=now,
        )
        return 201, view_json(view)

    return await run_idempotent_route(
        request,
        container,
        principal=buyer,
        key=key,
        body=body.model_dump(mode="json"),
        action=action,
    )


@router.get("/orders", response_model=OrderPage)
def list_orders(
    page: Page,
    viewer: CurrentAccount,
    container: ContainerDep,
    state: Annotated[OrderState | None, Query()] = None,
) -> OrderPage:
    """The caller's orders: bought, and sold through their listings (by id, a page at a time)."""
    found = service.list_orders(
        container.uow(read_only=True),
        viewer=viewer,
        state=state,
        after=page.after_id,
        limit=page.limit,
    )
    return OrderPage(
        items=[order_out(o) for o in found],
        next_cursor=encode_cursor(found[-1].id) if len(found) == page.limit else None,
    )


@router.get("/orders/{order_id}", response_model=OrderOut, responses=problem_responses(404))
def get_order(order_id: OrderId, viewer: CurrentAccount, container: ContainerDep) -> OrderOut:
    """One order with its state history (parties, moderators, operators)."""
    return view_out(
        service.get_order(container.uow(read_only=True), viewer=viewer, order_id=order_id)
    )


@router.post(
    "/orders/{order_id}/ship", response_model=OrderOut, responses=problem_responses(403, 404, 409)
)
async def ship_order(
    order_id: OrderId, viewer: CurrentAccount, container: ContainerDep, body: ShipIn | None = None
) -> JSONResponse:
    """The seller marks the order shipped (optionally with tracking text)."""
    view = await run_in_threadpool(
        service.ship_order,
        container.uow(),
        actor=viewer,
        order_id=order_id,
        tracking=None if body is None else body.tracking,
        settings=container.settings,
        now=container.clock.now(),
    )
    return model_response(view_out(view))


@router.post(
    "/orders/{order_id}/confirm",
    response_model=OrderOut,
    responses=problem_responses(403, 404, 409),
)
async def confirm_order(
    order_id: OrderId,
    request: Request,
    viewer: CurrentAccount,
    key: IdempotencyKey,
    container: ContainerDep,
) -> JSONResponse:
    """The buyer confirms receipt: the escrow is released to the seller, minus the fee."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.confirm_order_in(
            uow, actor=viewer, order_id=order_id, settings=container.settings, now=now
        )
        return 200, view_json(view)

    return await run_idempotent_route(
        request, container, principal=viewer, key=key, body={}, action=action
    )


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    responses=problem_responses(403, 404, 409),
)
async def cancel_order(
    order_id: OrderId,
    request: Request,
    viewer: CurrentAccount,
    key: IdempotencyKey,
    container: ContainerDep,
    body: CancelIn | None = None,
) -> JSONResponse:
    """Buyer or seller cancels before shipping: the hold is voided, the stock returned."""
    now = container.clock.now()
    reason = None if body is None else body.reason

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.cancel_order_in(uow, actor=viewer, order_id=order_id, reason=reason, now=now)
        return 200, view_json(view)

    return await run_idempotent_route(
        request,
        container,
        principal=viewer,
        key=key,
        body=None if body is None else body.model_dump(mode="json"),
        action=action,
    )


@router.post(
    "/orders/{order_id}/refund",
    response_model=OrderOut,
    responses=problem_responses(403, 404, 409),
)
async def refund_order(
    order_id: OrderId,
    request: Request,
    viewer: CurrentAccount,
    key: IdempotencyKey,
    container: ContainerDep,
    body: RefundIn | None = None,
) -> JSONResponse:
    """The seller refunds all or part of the order, any time before release."""
    now = container.clock.now()
    amount = None if body is None or body.amount is None else body.amount.to_money()
    reason = None if body is None else body.reason

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.refund_order_in(
            uow,
            actor=viewer,
            order_id=order_id,
            amount=amount,
            reason=reason,
            settings=container.settings,
            now=now,
        )
        return 200, view_json(view)

    return await run_idempotent_route(
        request,
        container,
        principal=viewer,
        key=key,
        body=None if body is None else body.model_dump(mode="json"),
        action=action,
    )
