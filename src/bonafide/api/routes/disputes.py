"""Disputes: open, read, message, answer with a replacement, resolve; the moderators' queue and
each moderator's record.

| route                                   | who                                  | idempotency key |
|-----------------------------------------|--------------------------------------|-----------------|
| POST /v1/orders/{id}/disputes           | the order's buyer                    |                 |
| GET  /v1/disputes?state=open            | moderators, operators                |                 |
| GET  /v1/disputes/{id}                  | the order's parties, moderators, operators |           |
| POST /v1/disputes/{id}/messages         | the order's parties, moderators      |                 |
| POST /v1/disputes/{id}/replacement      | the order's seller                   | required        |
| POST /v1/disputes/{id}/resolve          | moderators who are not a party       | required        |
| GET  /v1/moderators/{id}/record         | operators                            |                 |

A seller's refund inside a dispute is ``POST /v1/orders/{id}/refund``; it closes the dispute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

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
from bonafide.api.routes.orders import (
    ID_PATTERN,
    DisputeSummaryOut,
    OrderOut,
    dispute_summary,
    order_out,
    view_json,
)
from bonafide.api.schemas import MoneyIn
from bonafide.market.accounts import Principal, Role
from bonafide.market.disputes import MESSAGE_MAX, REASON_MAX, DisputeState
from bonafide.market.orders import TRACKING_MAX
from bonafide.service import disputes as service
from bonafide.service.idempotency import OpenUnitOfWork

router = APIRouter(
    prefix="/v1", tags=["disputes"], responses=problem_responses(400, 401, 413, 422, 429)
)

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
Staff = Annotated[Principal, Depends(require_roles(Role.moderator, Role.operator))]
Moderator = Annotated[Principal, Depends(require_roles(Role.moderator))]
Operator = Annotated[Principal, Depends(require_roles(Role.operator))]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisputeIn(_In):
    reason: StrictStr = Field(min_length=1, max_length=REASON_MAX)


class MessageIn(_In):
    body: StrictStr = Field(min_length=1, max_length=MESSAGE_MAX)


class ReplacementIn(_In):
    tracking: StrictStr | None = Field(default=None, max_length=TRACKING_MAX)


class ResolveIn(_In):
    refund: MoneyIn = Field(description="0 to the order's total; the rest goes to the seller")


class MessageOut(BaseModel):
    author_id: str
    body: str
    at: datetime


class DisputeOut(DisputeSummaryOut):
    order_id: str
    opened_by: str
    closed_by: str | None
    order: OrderOut
    messages: list[MessageOut]


class DisputeListItem(DisputeSummaryOut):
    order_id: str


class DisputePage(BaseModel):
    items: list[DisputeListItem]
    next_cursor: str | None


class ModeratorRecordOut(BaseModel):
    moderator_id: str
    disputes_resolved: int
    median_seconds_to_resolve: float | None
    share_refunded: float | None = Field(description="Mean refund / total over decided disputes")


def dispute_out(view: service.DisputeView) -> DisputeOut:
    d = view.dispute
    return DisputeOut(
        **dispute_summary(d).model_dump(),
        order_id=d.order_id,
        opened_by=d.opened_by,
        closed_by=d.closed_by,
        order=order_out(view.order),
        messages=[MessageOut(author_id=m.author_id, body=m.body, at=m.at) for m in view.messages],
    )


@router.post(
    "/orders/{order_id}/disputes",
    status_code=201,
    response_model=DisputeOut,
    responses=problem_responses(403, 404, 409),
)
def open_dispute(
    order_id: Id, body: DisputeIn, viewer: CurrentAccount, container: ContainerDep
) -> DisputeOut:
    """The buyer disputes a funded or shipped order; its timeouts stop until it is settled."""
    return dispute_out(
        service.open_dispute(
            container.uow(),
            actor=viewer,
            order_id=order_id,
            reason=body.reason,
            now=container.clock.now(),
        )
    )


@router.get("/disputes", response_model=DisputePage, responses=problem_responses(403))
def list_disputes(
    page: Page,
    viewer: Staff,
    container: ContainerDep,
    state: Annotated[DisputeState | None, Query()] = None,
) -> DisputePage:
    """The moderators' queue, oldest first; ``state=open`` for what still needs a decision."""
    found = service.list_disputes(
        container.uow(read_only=True),
        viewer=viewer,
        state=state,
        after=page.after_id,
        limit=page.limit,
    )
    return DisputePage(
        items=[
            DisputeListItem(**dispute_summary(d).model_dump(), order_id=d.order_id) for d in found
        ],
        next_cursor=encode_cursor(found[-1].id) if len(found) == page.limit else None,
    )


@router.get("/disputes/{dispute_id}", response_model=DisputeOut, responses=problem_responses(404))
def get_dispute(dispute_id: Id, viewer: CurrentAccount, container: ContainerDep) -> DisputeOut:
    """A dispute with its messages and its order."""
    return dispute_out(
        service.get_dispute(container.uow(read_only=True), viewer=viewer, dispute_id=dispute_id)
    )


@router.post(
    "/disputes/{dispute_id}/messages",
    status_code=201,
    response_model=DisputeOut,
    responses=problem_responses(403, 404),
)
def add_message(
    dispute_id: Id, body: MessageIn, viewer: CurrentAccount, container: ContainerDep
) -> DisputeOut:
    """A party or a moderator writes on an open dispute."""
    return dispute_out(
        service.add_message(
            container.uow(),
            actor=viewer,
            dispute_id=dispute_id,
            body=body.body,
            now=container.clock.now(),
        )
    )


@router.post(
    "/disputes/{dispute_id}/replacement",
    response_model=OrderOut,
    responses=problem_responses(403, 404, 409),
)
async def replace_shipment(
    dispute_id: Id,
    request: Request,
    viewer: CurrentAccount,
    key: IdempotencyKey,
    container: ContainerDep,
    body: ReplacementIn | None = None,
) -> JSONResponse:
    """The seller answers with a replacement shipment: the order is ``shipped`` again with a fresh
    release window (satisfaction guarantee)."""
    now = container.clock.now()
    tracking = None if body is None else body.tracking

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.replace_shipment_in(
            uow,
            actor=viewer,
            dispute_id=dispute_id,
            tracking=tracking,
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


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=OrderOut,
    responses=problem_responses(403, 404, 409),
)
async def resolve_dispute(
    dispute_id: Id,
    body: ResolveIn,
    request: Request,
    moderator: Moderator,
    key: IdempotencyKey,
    container: ContainerDep,
) -> JSONResponse:
    """A moderator decides: ``refund`` to the buyer, the rest to the seller minus the fee."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        view = service.resolve_dispute_in(
            uow,
            actor=moderator,
            dispute_id=dispute_id,
            refund=body.refund.to_money(),
            settings=container.settings,
            now=now,
        )
        return 200, view_json(view)

    return await run_idempotent_route(
        request,
        container,
        principal=moderator,
        key=key,
        body=body.model_dump(mode="json"),
        action=action,
    )


@router.get(
    "/moderators/{moderator_id}/record",
    response_model=ModeratorRecordOut,
    responses=problem_responses(403, 404),
)
def moderator_record(
    moderator_id: Id, viewer: Operator, container: ContainerDep
) -> ModeratorRecordOut:
    """How a moderator decides: disputes resolved, median time to resolve, share refunded."""
    record = service.get_moderator_record(
        container.uow(read_only=True), viewer=viewer, moderator_id=moderator_id
    )
    return ModeratorRecordOut(
        moderator_id=moderator_id,
        disputes_resolved=record.disputes_resolved,
        median_seconds_to_resolve=record.median_seconds_to_resolve,
        share_refunded=record.share_refunded,
    )
