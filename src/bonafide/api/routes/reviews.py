"""Reviews: write, change before reveal, reply, read; a seller's public reviews.

| route                               | who |
|-------------------------------------|-----|
| POST /v1/orders/{id}/reviews        | a party to a released order, once |
| GET  /v1/orders/{id}/reviews        | parties (own + revealed), moderators, operators (all) |
| GET  /v1/reviews/{id}               | anyone once revealed; before: its author and staff |
| PUT  /v1/reviews/{id}               | its author, until revealed                         |
| POST /v1/reviews/{id}/reply         | the reviewed seller, once, after reveal            |
| GET  /v1/sellers/{id}/reviews       | anyone: revealed, visible reviews by buyers        |
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from bonafide.api.deps import (
    ContainerDep,
    CurrentAccount,
    OptionalAccount,
    Page,
    encode_cursor,
    model_response,
)
from bonafide.api.problems import problem_responses
from bonafide.api.routes.orders import ID_PATTERN
from bonafide.market.reviews import TEXT_MAX, Review, ReviewerRole
from bonafide.service import reviews as service

router = APIRouter(
    prefix="/v1", tags=["reviews"], responses=problem_responses(400, 401, 413, 422, 429)
)

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
Stars = Annotated[StrictInt, Field(ge=1, le=5)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewIn(_In):
    """Buyers give all four ratings; sellers give ``overall`` only."""

    overall: Stars
    item_as_described: Stars | None = None
    communication: Stars | None = None
    shipping_speed: Stars | None = None
    text: StrictStr = Field(default="", max_length=TEXT_MAX)

    def draft(self) -> service.ReviewDraft:
        return service.ReviewDraft(
            overall=self.overall,
            text=self.text,
            item_as_described=self.item_as_described,
            communication=self.communication,
            shipping_speed=self.shipping_speed,
        )


class ReplyIn(_In):
    text: StrictStr = Field(min_length=1, max_length=TEXT_MAX)


class ReviewOut(BaseModel):
    id: str
    order_id: str
    author_id: str
    subject_id: str
    role: ReviewerRole
    overall: int
    item_as_described: int | None
    communication: int | None
    shipping_speed: int | None
    text: str
    submitted_at: datetime
    revealed: bool
    revealed_at: datetime | None
    hidden: bool
    reply: str | None
    replied_at: datetime | None


class ReviewPage(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None


def review_out(review: Review) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        order_id=review.order_id,
        author_id=review.author_id,
        subject_id=review.subject_id,
        role=review.role,
        overall=review.ratings.overall,
        item_as_described=review.ratings.item_as_described,
        communication=review.ratings.communication,
        shipping_speed=review.ratings.shipping_speed,
        text=review.text,
        submitted_at=review.submitted_at,
        revealed=review.revealed_at is not None,
        revealed_at=review.revealed_at,
        hidden=review.hidden,
        reply=review.reply,
        replied_at=review.replied_at,
    )


@router.post(
    "/orders/{order_id}/reviews",
    status_code=201,
    response_model=ReviewOut,
    responses=problem_responses(403, 404, 409),
)
async def submit_review(
    order_id: Id, body: ReviewIn, viewer: CurrentAccount, container: ContainerDep
) -> JSONResponse:
    """Review the other party of a finished order; hidden until both have, or the window closes."""
    review = await run_in_threadpool(
        service.submit_review,
        container.uow(),
        actor=viewer,
        order_id=order_id,
        draft=body.draft(),
        settings=container.settings,
        now=container.clock.now(),
    )
    return model_response(review_out(review), status=201)


@router.get(
    "/orders/{order_id}/reviews", response_model=list[ReviewOut], responses=problem_responses(404)
)
def order_reviews(order_id: Id, viewer: CurrentAccount, container: ContainerDep) -> list[ReviewOut]:
    """An order's reviews as the caller may see them."""
    found = service.order_reviews(
        container.uow(read_only=True),
        viewer=viewer,
        order_id=order_id,
        settings=container.settings,
        now=container.clock.now(),
    )
    return [review_out(r) for r in found]


@router.get("/reviews/{review_id}", response_model=ReviewOut, responses=problem_responses(404))
def get_review(review_id: Id, viewer: OptionalAccount, container: ContainerDep) -> ReviewOut:
    """One review: public once revealed (and not hidden by moderation)."""
    return review_out(
        service.get_review(container.uow(read_only=True), viewer=viewer, review_id=review_id)
    )


@router.put(
    "/reviews/{review_id}", response_model=ReviewOut, responses=problem_responses(403, 404, 409)
)
def edit_review(
    review_id: Id, body: ReviewIn, viewer: CurrentAccount, container: ContainerDep
) -> ReviewOut:
    """The author rewrites their review while it is hidden; a revealed review never changes."""
    return review_out(
        service.edit_review(
            container.uow(),
            actor=viewer,
            review_id=review_id,
            draft=body.draft(),
            settings=container.settings,
            now=container.clock.now(),
        )
    )


@router.post(
    "/reviews/{review_id}/reply",
    response_model=ReviewOut,
    responses=problem_responses(403, 404, 409),
)
def reply_to_review(
    review_id: Id, body: ReplyIn, viewer: CurrentAccount, container: ContainerDep
) -> ReviewOut:
    """The reviewed seller adds one public reply to a revealed review."""
    return review_out(
        service.reply_to_review(
            container.uow(),
            actor=viewer,
            review_id=review_id,
            text=body.text,
            now=container.clock.now(),
        )
    )


@router.get(
    "/sellers/{seller_id}/reviews", response_model=ReviewPage, responses=problem_responses(404)
)
def seller_reviews(seller_id: Id, page: Page, container: ContainerDep) -> ReviewPage:
    """A seller's revealed reviews from buyers of completed orders, a page at a time."""
    found = service.seller_reviews(
        container.uow(read_only=True), seller_id=seller_id, after=page.after_id, limit=page.limit
    )
    return ReviewPage(
        items=[review_out(r) for r in found],
        next_cursor=encode_cursor(found[-1].id) if len(found) == page.limit else None,
    )
