"""Promotions: offers and multi-buy rules, the operator's budget, loyalty points and quotes.

| route                                  | who                                     | key      |
|----------------------------------------|-----------------------------------------|----------|
| POST  /v1/promotions                   | sellers (their listings), operators     |          |
| GET   /v1/promotions                   | anyone (filter by seller_id)            |          |
| GET   /v1/promotions/{id}              | anyone                                  |          |
| PATCH /v1/promotions/{id}              | its creator, operators (`active`)       |          |
| POST  /v1/promotions/budget            | operators: money into `promotions`      | required |
| GET   /v1/promotions/budget/{currency} | operators                               |          |
| GET   /v1/accounts/{id}/points         | the account itself, operators           |          |
| POST  /v1/quotes                       | buyers: the price, promotions and why   |          |
| POST  /v1/quotes/{id}/order            | the quote's buyer: order at that price  | required |

"key": an Idempotency-Key header is required.

A quote explains every promotion in scope: ``applied`` (with its discount, the step of the
evaluation order, and the account that funds it) and ``not_applied`` (with a stable ``code``).
Ordering a quote places the order at exactly the quoted total, or answers 409 ``quote_changed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from bonafide.api.deps import (
    ContainerDep,
    CurrentAccount,
    IdempotencyKey,
    Page,
    encode_cursor,
    require_roles,
    run_idempotent_route,
)
from bonafide.api.problems import problem_responses
from bonafide.api.routes.orders import OrderOut, view_json
from bonafide.api.schemas import MoneyIn, MoneyOut, PositiveMoneyIn
from bonafide.market.accounts import Principal, Role
from bonafide.market.promotions import (
    NAME_LENGTH_MAX,
    POINTS_MAX,
    TIERS_MAX,
    Promotion,
    PromotionKind,
    QuantityTier,
)
from bonafide.market.quotes import QUANTITY_MAX
from bonafide.money import check_currency
from bonafide.service import promotions as service
from bonafide.service.idempotency import OpenUnitOfWork

router = APIRouter(
    prefix="/v1", tags=["promotions"], responses=problem_responses(400, 401, 413, 422, 429)
)

Id = Annotated[str, Path(min_length=1, max_length=64)]
Operator = Annotated[Principal, Depends(require_roles(Role.operator))]
Buyer = Annotated[Principal, Depends(require_roles(Role.buyer))]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TierIn(_In):
    quantity_min: StrictInt = Field(ge=2, le=100_000)
    unit_price: MoneyIn


class PromotionIn(_In):
    kind: PromotionKind
    name: StrictStr = Field(min_length=1, max_length=NAME_LENGTH_MAX)
    starts_at: datetime
    ends_at: datetime | None = None
    time_zone: StrictStr | None = Field(
        default=None, max_length=64, description="reads starts_at/ends_at given without offset"
    )
    listing_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    seller_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=64, description="operators: scope to one seller"
    )
    basis_points: StrictInt | None = Field(
        default=None, description="percentage cut in basis points (1000 = 10 %)"
    )
    amount_off: MoneyIn | None = Field(default=None, description="fixed cut per unit")
    cap_total: StrictInt | None = None
    cap_per_buyer: StrictInt | None = None
    tiers: list[TierIn] = Field(default_factory=list, max_length=TIERS_MAX)
    buy: StrictInt | None = None
    get: StrictInt | None = None


class PromotionPatch(_In):
    active: StrictBool


class PromotionOut(BaseModel):
    id: str
    kind: str
    funder: str
    name: str
    seller_id: str | None
    listing_id: str | None
    starts_at: datetime
    ends_at: datetime | None
    basis_points: int | None
    amount_off: MoneyOut | None
    cap_total: int | None
    cap_per_buyer: int | None
    used: int
    tiers: list[dict[str, Any]]
    buy: int | None
    get: int | None
    active: bool


class PromotionPage(BaseModel):
    items: list[PromotionOut]
    next_cursor: str | None


class BudgetIn(_In):
    amount: PositiveMoneyIn


class BalanceOut(BaseModel):
    currency: str
    available: MoneyOut
    held: MoneyOut


class LotOut(BaseModel):
    id: str
    points: int
    expires_at: datetime


class PointsOut(BaseModel):
    account_id: str
    balance: int
    earned_last_year: int
    tier: str
    lots: list[LotOut]


class QuoteIn(_In):
    listing_id: StrictStr = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(ge=1, le=QUANTITY_MAX)
    points: StrictInt = Field(default=0, ge=0, le=POINTS_MAX, description="points to spend")


def promotion_out(promo: Promotion, used: int) -> PromotionOut:
    return PromotionOut(
        id=promo.id,
        kind=promo.kind.value,
        funder=promo.funder.value,
        name=promo.name,
        seller_id=promo.seller_id,
        listing_id=promo.listing_id,
        starts_at=promo.starts_at,
        ends_at=promo.ends_at,
        basis_points=promo.basis_points,
        amount_off=None if promo.amount_off is None else MoneyOut.of(promo.amount_off),
        cap_total=promo.cap_total,
        cap_per_buyer=promo.cap_per_buyer,
        used=used,
        tiers=[
            {"quantity_min": t.quantity_min, "unit_price": t.unit_price.to_json()}
            for t in promo.tiers
        ],
        buy=promo.buy,
        get=promo.get,
        active=promo.active,
    )


# --- promotions -------------------------------------------------------------------------------


@router.post(
    "/promotions",
    status_code=201,
    response_model=PromotionOut,
    responses=problem_responses(403, 404),
)
def create_promotion(
    body: PromotionIn, principal: CurrentAccount, container: ContainerDep
) -> PromotionOut:
    """A limited-time offer, quantity tiers or buy-X-get-Y; sellers fund their own, the
    operator's ``promotions`` account funds the operator's."""
    spec = service.PromotionSpec(
        kind=body.kind,
        name=body.name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        time_zone=body.time_zone,
        listing_id=body.listing_id,
        seller_id=body.seller_id,
        basis_points=body.basis_points,
        amount_off=None if body.amount_off is None else body.amount_off.to_money(),
        cap_total=body.cap_total,
        cap_per_buyer=body.cap_per_buyer,
        tiers=tuple(QuantityTier(t.quantity_min, t.unit_price.to_money()) for t in body.tiers),
        buy=body.buy,
        get=body.get,
    )
    promo = service.create_promotion(
        container.uow(), actor=principal, spec=spec, now=container.clock.now()
    )
    return promotion_out(promo, 0)


@router.post(
    "/promotions/budget",
    status_code=201,
    response_model=BalanceOut,
    responses=problem_responses(403, 409),
)
async def fund_budget(
    body: BudgetIn,
    request: Request,
    operator: Operator,
    key: IdempotencyKey,
    container: ContainerDep,
) -> JSONResponse:
    """Money from outside into the operator's promotions account (which funds its discounts)."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        balance = service.fund_budget_in(
            uow,
            amount=body.amount.to_money(),
            transfer_id=f"budget:{operator.id}:{key}",
            actor=operator.id,
            now=now,
        )
        out = BalanceOut(
            currency=balance.currency,
            available=MoneyOut.of(balance.available),
            held=MoneyOut.of(balance.held),
        )
        return 201, out.model_dump(mode="json")

    return await run_idempotent_route(
        request,
        container,
        principal=operator,
        key=key,
        body=body.model_dump(mode="json"),
        action=action,
    )


@router.get("/promotions/budget/{currency}", response_model=BalanceOut)
def get_budget(
    currency: Annotated[str, Path(min_length=3, max_length=3)],
    operator: Operator,
    container: ContainerDep,
) -> BalanceOut:
    """The operator's promotions budget in ``currency``."""
    del operator
    balance = service.budget(container.uow(), currency=check_currency(currency))
    return BalanceOut(
        currency=balance.currency,
        available=MoneyOut.of(balance.available),
        held=MoneyOut.of(balance.held),
    )


@router.get("/promotions", response_model=PromotionPage)
def list_promotions(
    page: Page,
    container: ContainerDep,
    seller_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> PromotionPage:
    """Promotions in id order, a page at a time; filter by seller."""
    found = service.list_promotions(
        container.uow(read_only=True),
        seller_id=seller_id,
        after_id=page.after_id,
        limit=page.limit,
    )
    next_cursor = encode_cursor(found[-1][0].id) if len(found) == page.limit else None
    return PromotionPage(items=[promotion_out(p, u) for p, u in found], next_cursor=next_cursor)


@router.get(
    "/promotions/{promotion_id}", response_model=PromotionOut, responses=problem_responses(404)
)
def get_promotion(promotion_id: Id, container: ContainerDep) -> PromotionOut:
    """One promotion and how often it has been used."""
    promo, used = service.get_promotion(container.uow(read_only=True), promotion_id=promotion_id)
    return promotion_out(promo, used)


@router.patch(
    "/promotions/{promotion_id}",
    response_model=PromotionOut,
    responses=problem_responses(403, 404),
)
def patch_promotion(
    promotion_id: Id, body: PromotionPatch, principal: CurrentAccount, container: ContainerDep
) -> PromotionOut:
    """Switch a promotion off (or on again); uses already taken stay taken."""
    promo = service.set_promotion_active(
        container.uow(),
        actor=principal,
        promotion_id=promotion_id,
        active=body.active,
        now=container.clock.now(),
    )
    _, used = service.get_promotion(container.uow(read_only=True), promotion_id=promotion_id)
    return promotion_out(promo, used)


# --- points -----------------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/points", response_model=PointsOut, responses=problem_responses(404)
)
def get_points(account_id: Id, principal: CurrentAccount, container: ContainerDep) -> PointsOut:
    """Loyalty points (after expiring due lots), the tier and the lots, oldest first."""
    summary = service.points_summary(
        container.uow(),
        viewer=principal,
        account_id=account_id,
        settings=container.settings,
        now=container.clock.now(),
    )
    return PointsOut(
        account_id=summary.account_id,
        balance=summary.balance,
        earned_last_year=summary.earned_last_year,
        tier=summary.tier,
        lots=[LotOut(id=i, points=p, expires_at=e) for i, p, e in summary.lots],
    )


# --- quotes -----------------------------------------------------------------------------------


@router.post("/quotes", status_code=201, responses=problem_responses(403, 404, 409))
def create_quote(body: QuoteIn, buyer: Buyer, container: ContainerDep) -> dict[str, Any]:
    """The price of ``quantity`` units with every promotion applied in the documented order,
    what each took off and who funds it, and why the others did not apply."""
    stored = service.create_quote(
        container.uow(),
        buyer=buyer,
        listing_id=body.listing_id,
        quantity=body.quantity,
        points=body.points,
        settings=container.settings,
        now=container.clock.now(),
    )
    return {
        "id": stored.id,
        "listing_id": stored.listing_id,
        "quantity": stored.quantity,
        "expires_at": stored.expires_at.isoformat(),
        **stored.priced.to_json(),
    }


@router.post(
    "/quotes/{quote_id}/order",
    status_code=201,
    response_model=OrderOut,
    responses=problem_responses(403, 404, 409),
)
async def order_quote(
    quote_id: Id, request: Request, buyer: Buyer, key: IdempotencyKey, container: ContainerDep
) -> JSONResponse:
    """Place the order of a quote at exactly its total, or 409 ``quote_changed``."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.order_quote_in(
            uow, buyer=buyer, quote_id=quote_id, settings=container.settings, now=now
        )
        return 201, view_json(view)

    return await run_idempotent_route(
        request, container, principal=buyer, key=key, body={"quote_id": quote_id}, action=action
    )
