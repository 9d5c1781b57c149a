"""Customer service: business hours, service figures, threads, messages, receipts, CSAT.

| route                                | who                                                  |
|--------------------------------------|------------------------------------------------------|
| PUT  /v1/sellers/{id}/hours          | that seller (or an operator)                         |
| GET  /v1/sellers/{id}/hours          | anyone                                               |
| GET  /v1/sellers/{id}/service        | anyone: figures, tier and heat map (as of today)     |
| POST /v1/threads                     | an order's party (order_id); anyone to a seller_id   |
| GET  /v1/threads                     | any account: its own threads                          |
| GET  /v1/threads/{id}                | its buyer and seller, moderators, operators          |
| POST /v1/threads/{id}/messages       | its buyer and seller; moderators in disputed orders  |
| POST /v1/threads/{id}/read           | its buyer and seller, moderators, operators          |
| POST /v1/threads/{id}/close          | its buyer and seller, moderators, operators          |
| POST /v1/threads/{id}/csat           | its buyer, once the thread is closed                  |

Anyone else asking about a thread is told it does not exist (404). None of these move money, so
none takes an Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from bonafide.api.deps import ContainerDep, CurrentAccount, Page, encode_cursor
from bonafide.api.problems import problem_responses
from bonafide.errors import Rejected
from bonafide.market.hours import HOLIDAYS_MAX, RANGES_PER_DAY_MAX, WEEKDAYS, BusinessHours
from bonafide.market.support import BODY_LENGTH_MAX, SUBJECT_LENGTH_MAX, Message, Thread
from bonafide.service import service_figures as figures_service
from bonafide.service import support as service

router = APIRouter(
    prefix="/v1", tags=["support"], responses=problem_responses(400, 401, 413, 422, 429)
)

Id = Annotated[str, Path(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RangeIn(_In):
    start: StrictStr = Field(min_length=5, max_length=5, examples=["09:00"])
    end: StrictStr = Field(
        min_length=5, max_length=5, examples=["17:30"], description="past 24:00 for overnight"
    )


class HoursIn(_In):
    time_zone: StrictStr = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    weekly: dict[StrictStr, list[RangeIn]] = Field(
        max_length=7, description=f"weekday ({', '.join(WEEKDAYS)}) → ranges"
    )
    holidays: list[StrictStr] = Field(default_factory=list, max_length=HOLIDAYS_MAX)


class HoursOut(BaseModel):
    seller_id: str
    set: bool
    time_zone: str
    weekly: dict[str, list[dict[str, str]]]
    holidays: list[str]


class ThreadIn(_In):
    order_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    seller_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    subject: StrictStr = Field(default="", max_length=SUBJECT_LENGTH_MAX)


class MessageIn(_In):
    body: StrictStr = Field(min_length=1, max_length=BODY_LENGTH_MAX)


class CsatIn(_In):
    score: StrictInt = Field(ge=1, le=5)


class MessageOut(BaseModel):
    id: str
    author_id: str | None
    role: str
    automatic: bool
    body: str
    sent_at: datetime
    read_by: list[str]


class ThreadOut(BaseModel):
    id: str
    kind: str
    buyer_id: str
    seller_id: str
    order_id: str | None
    subject: str
    state: str
    opened_at: datetime
    closed_at: datetime | None
    csat: int | None
    moderator_id: str | None
    messages: list[MessageOut] = Field(default_factory=list)
    read_markers: dict[str, datetime] = Field(default_factory=dict)


class ThreadPage(BaseModel):
    items: list[ThreadOut]
    next_cursor: str | None


class PostedOut(BaseModel):
    message: MessageOut
    acknowledgement: MessageOut | None
    next_opening_at: datetime | None
    expected_reply_by: datetime | None
    typical_reply_seconds: int | None


def thread_out(thread: Thread, view: service.ThreadView | None = None) -> ThreadOut:
    return ThreadOut(
        id=thread.id,
        kind=thread.kind.value,
        buyer_id=thread.buyer_id,
        seller_id=thread.seller_id,
        order_id=thread.order_id,
        subject=thread.subject,
        state=thread.state.value,
        opened_at=thread.opened_at,
        closed_at=thread.closed_at,
        csat=thread.csat,
        moderator_id=thread.moderator_id,
        messages=[] if view is None else [message_out(m, view) for m in view.messages],
        read_markers={} if view is None else dict(view.markers),
    )


def message_out(message: Message, view: service.ThreadView | None = None) -> MessageOut:
    return MessageOut(
        id=message.id,
        author_id=message.author_id,
        role=message.role.value,
        automatic=message.automatic,
        body=message.body,
        sent_at=message.sent_at,
        read_by=[] if view is None else view.read_by(message),
    )


def hours_out(seller_id: str, hours: BusinessHours, hours_set: bool) -> HoursOut:
    data: dict[str, Any] = hours.to_json()
    return HoursOut(
        seller_id=seller_id,
        set=hours_set,
        time_zone=data["time_zone"],
        weekly=data["weekly"],
        holidays=data["holidays"],
    )


# --- hours and figures ------------------------------------------------------------------------


@router.put(
    "/sellers/{seller_id}/hours", response_model=HoursOut, responses=problem_responses(403, 404)
)
def put_hours(
    seller_id: Id, body: HoursIn, principal: CurrentAccount, container: ContainerDep
) -> HoursOut:
    """Set the weekly schedule (ranges per weekday; overnight ends past 24:00), zone, holidays."""
    if any(len(ranges) > RANGES_PER_DAY_MAX for ranges in body.weekly.values()):
        raise Rejected("hours_too_many_ranges", f"at most {RANGES_PER_DAY_MAX} ranges a day")
    hours = service.put_hours(
        container.uow(),
        actor=principal,
        seller_id=seller_id,
        time_zone=body.time_zone,
        weekly={day: [r.model_dump() for r in ranges] for day, ranges in body.weekly.items()},
        holidays=body.holidays,
        now=container.clock.now(),
    )
    return hours_out(seller_id, hours, True)


@router.get("/sellers/{seller_id}/hours", response_model=HoursOut, responses=problem_responses(404))
def get_hours(seller_id: Id, container: ContainerDep) -> HoursOut:
    """The seller's hours; unset hours read as always open (and earn no acknowledgements)."""
    hours, hours_set = service.get_hours(container.uow(read_only=True), seller_id=seller_id)
    return hours_out(seller_id, hours, hours_set)


@router.get("/sellers/{seller_id}/service", responses=problem_responses(404))
def get_service(seller_id: Id, container: ContainerDep) -> dict[str, Any]:
    """Service figures over 90 days (each also in business hours), the tier with its reasons and
    the 7 × 24 heat map (Monday first, hours in the seller's zone), as of the start of today."""
    found = figures_service.seller_service(
        container.uow(read_only=True), seller_id=seller_id, now=container.clock.now()
    )
    return {
        "seller_id": seller_id,
        "as_of": found.as_of.isoformat(),
        "time_zone": found.hours.zone_name,
        "hours_set": found.hours_set,
        "figures": found.figures.to_json(),
        "tier": found.tier.to_json(),
        "heat_map": found.figures.heat_map_json(),
    }


# --- threads ----------------------------------------------------------------------------------


@router.post(
    "/threads", status_code=201, response_model=ThreadOut, responses=problem_responses(403, 404)
)
def open_thread(body: ThreadIn, principal: CurrentAccount, container: ContainerDep) -> ThreadOut:
    """Open (or return) an order's thread with ``order_id``, or a thread with a seller."""
    now = container.clock.now()
    if (body.order_id is None) == (body.seller_id is None):
        raise Rejected("thread_needs_order_or_seller", "give order_id or seller_id, not both")
    if body.order_id is not None:
        view = service.open_order_thread(
            container.uow(), actor=principal, order_id=body.order_id, subject=body.subject, now=now
        )
    else:
        assert body.seller_id is not None
        view = service.open_seller_thread(
            container.uow(),
            actor=principal,
            seller_id=body.seller_id,
            subject=body.subject,
            now=now,
        )
    return thread_out(view.thread, view)


@router.get("/threads", response_model=ThreadPage)
def list_threads(page: Page, principal: CurrentAccount, container: ContainerDep) -> ThreadPage:
    """The caller's threads, as buyer or seller, a page at a time."""
    found = service.list_threads(
        container.uow(read_only=True), viewer=principal, after_id=page.after_id, limit=page.limit
    )
    next_cursor = encode_cursor(found[-1].id) if len(found) == page.limit else None
    return ThreadPage(items=[thread_out(t) for t in found], next_cursor=next_cursor)


@router.get("/threads/{thread_id}", response_model=ThreadOut, responses=problem_responses(404))
def get_thread(thread_id: Id, principal: CurrentAccount, container: ContainerDep) -> ThreadOut:
    """A thread with its messages and who has read each."""
    view = service.get_thread(container.uow(read_only=True), viewer=principal, thread_id=thread_id)
    return thread_out(view.thread, view)


@router.post(
    "/threads/{thread_id}/messages",
    status_code=201,
    response_model=PostedOut,
    responses=problem_responses(403, 404, 409),
)
def post_message(
    thread_id: Id, body: MessageIn, principal: CurrentAccount, container: ContainerDep
) -> PostedOut:
    """Write in a thread; outside the seller's hours the buyer gets one automatic
    acknowledgement (next opening, typical reply time), at most one a day."""
    posted = service.post_message(
        container.uow(),
        actor=principal,
        thread_id=thread_id,
        body=body.body,
        now=container.clock.now(),
    )
    ack = posted.ack
    return PostedOut(
        message=message_out(posted.message),
        acknowledgement=None
        if posted.acknowledgement is None
        else message_out(posted.acknowledgement),
        next_opening_at=None if ack is None else ack.next_opening_at,
        expected_reply_by=None if ack is None else ack.expected_reply_by,
        typical_reply_seconds=None
        if ack is None or ack.typical_reply is None
        else int(ack.typical_reply.total_seconds()),
    )


@router.post(
    "/threads/{thread_id}/read", response_model=ThreadOut, responses=problem_responses(404)
)
def mark_read(thread_id: Id, principal: CurrentAccount, container: ContainerDep) -> ThreadOut:
    """The caller has read the thread up to now."""
    view = service.mark_read(
        container.uow(), actor=principal, thread_id=thread_id, now=container.clock.now()
    )
    return thread_out(view.thread, view)


@router.post(
    "/threads/{thread_id}/close", response_model=ThreadOut, responses=problem_responses(404, 409)
)
def close_thread(thread_id: Id, principal: CurrentAccount, container: ContainerDep) -> ThreadOut:
    """Close the thread; the buyer may then rate the support."""
    thread = service.close_thread(
        container.uow(), actor=principal, thread_id=thread_id, now=container.clock.now()
    )
    return thread_out(thread)


@router.post(
    "/threads/{thread_id}/csat",
    response_model=ThreadOut,
    responses=problem_responses(403, 404, 409),
)
def rate_thread(
    thread_id: Id, body: CsatIn, principal: CurrentAccount, container: ContainerDep
) -> ThreadOut:
    """The buyer rates the support of a closed thread, 1 to 5, once."""
    thread = service.rate_thread(
        container.uow(),
        actor=principal,
        thread_id=thread_id,
        score=body.score,
        now=container.clock.now(),
    )
    return thread_out(thread)
