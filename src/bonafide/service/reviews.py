"""Review use cases: submit (with the simultaneous reveal), edit before reveal, the seller's
reply, and the public listing of a seller's revealed reviews.

Owns: the review transactions. Imports: ``bonafide.market`` (rules), ``bonafide.store``
(repositories, unit of work), ``bonafide.service.accounts``.

Reveal: when the second party's review arrives, both are revealed in the same transaction; the
scheduler reveals the rest when the review window closes (``service.scheduler.tick``). Reads also
apply the rule, so a review past its window is never shown as hidden because a tick is late.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bonafide.errors import Conflict, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.market.accounts import Principal, Role
from bonafide.market.orders import Order
from bonafide.market.reviews import (
    Ratings,
    Review,
    ReviewerRole,
    check_editable,
    check_may_reply,
    check_may_review,
    check_ratings,
    check_review_text,
    is_revealed,
)
from bonafide.service.accounts import principal_of, require_active
from bonafide.service.orders import check_page, may_see_order, order_not_found
from bonafide.settings import Settings
from bonafide.store.order_repo import OrderRepository, ReviewRepository
from bonafide.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ReviewDraft:
    """What a reviewer sends: the buyer fills every rating, the seller only ``overall``."""

    overall: int
    text: str = ""
    item_as_described: int | None = None
    communication: int | None = None
    shipping_speed: int | None = None

    @property
    def ratings(self) -> Ratings:
        return Ratings(
            overall=self.overall,
            item_as_described=self.item_as_described,
            communication=self.communication,
            shipping_speed=self.shipping_speed,
        )


def _role(order: Order, account_id: str) -> ReviewerRole | None:
    if account_id == order.buyer_id:
        return ReviewerRole.BUYER
    if account_id == order.seller_id:
        return ReviewerRole.SELLER
    return None


def submit_review(
    uow: UnitOfWork,
    *,
    actor: Principal,
    order_id: str,
    draft: ReviewDraft,
    settings: Settings,
    now: datetime,
) -> Review:
    """A party reviews a completed, auto-released or resolved order, once, within the window."""
    text = check_review_text(draft.text)
    with uow:
        order = uow.repo(OrderRepository).get(order_id, for_update=True)
        if order is None or not may_see_order(viewer=actor, order=order):
            raise order_not_found(order_id)
        role = _role(order, actor.id)
        repo = uow.repo(ReviewRepository)
        existing = repo.for_order(order_id)
        check_may_review(
            state=order.state,
            role=role,
            already_submitted=any(r.author_id == actor.id for r in existing),
            finished_at=order.finished_at,
            review_window=settings.review_window,
            now=now,
        )
        assert role is not None
        require_active(principal_of(uow, actor.id), doing="review")
        check_ratings(draft.ratings, role=role)
        review = Review(
            id=new_id("rev", now=now),
            order_id=order_id,
            author_id=actor.id,
            subject_id=order.seller_id if role is ReviewerRole.BUYER else order.buyer_id,
            role=role,
            ratings=draft.ratings,
            text=text,
            submitted_at=now,
            updated_at=now,
            revealed_at=None,
            hidden=False,
            reply=None,
            replied_at=None,
        )
        repo.add(review)
        assert order.finished_at is not None
        if is_revealed(
            reviews_submitted=len(existing) + 1,
            finished_at=order.finished_at,
            review_window=settings.review_window,
            now=now,
        ):
            revealed = repo.reveal_order(order_id, now=now)
            assert revealed >= 1, "the review just written is revealed with its order"
            review = replace(review, revealed_at=now)
        uow.commit()
    # What was written is the answer: no read-back of the row just inserted.
    return review


def _review_not_found(review_id: str) -> NotFound:
    return NotFound("review_not_found", f"no review {review_id}")


def edit_review(
    uow: UnitOfWork,
    *,
    actor: Principal,
    review_id: str,
    draft: ReviewDraft,
    settings: Settings,
    now: datetime,
) -> Review:
    """The author changes their review while it is hidden; never after it is revealed."""
    text = check_review_text(draft.text)
    with uow:
        repo = uow.repo(ReviewRepository)
        review = repo.get(review_id, for_update=True)
        if review is None or review.author_id != actor.id:
            raise _review_not_found(review_id)
        check_editable(revealed_at=review.revealed_at)
        order = uow.repo(OrderRepository).get(review.order_id)
        assert order is not None and order.finished_at is not None
        if is_revealed(
            reviews_submitted=1,
            finished_at=order.finished_at,
            review_window=settings.review_window,
            now=now,
        ):
            raise Conflict("review_window_closed", "the review window has closed")
        check_ratings(draft.ratings, role=review.role)
        repo.change(
            review_id,
            overall=draft.overall,
            item_as_described=draft.item_as_described,
            communication=draft.communication,
            shipping_speed=draft.shipping_speed,
            text=text,
            updated_at=now,
        )
        stored = repo.get(review_id)
        uow.commit()
    assert stored is not None
    return stored


def reply_to_review(
    uow: UnitOfWork, *, actor: Principal, review_id: str, text: str, now: datetime
) -> Review:
    """The reviewed seller adds one public reply to a revealed review."""
    body = check_review_text(text)
    if not body.strip():
        raise Rejected("text_must_not_be_empty", "a reply says something")
    with uow:
        repo = uow.repo(ReviewRepository)
        review = repo.get(review_id, for_update=True)
        if review is None or (
            review.revealed_at is None
            and review.author_id != actor.id
            and review.subject_id != actor.id
        ):
            raise _review_not_found(review_id)
        check_may_reply(
            revealed_at=review.revealed_at,
            has_reply=review.reply is not None,
            subject_is_replier=review.subject_id == actor.id,
            role=review.role,
        )
        repo.change(review_id, reply=body, replied_at=now)
        stored = repo.get(review_id)
        uow.commit()
    assert stored is not None
    return stored


def order_reviews(
    uow: UnitOfWork, *, viewer: Principal, order_id: str, settings: Settings, now: datetime
) -> list[Review]:
    """An order's reviews as ``viewer`` may see them: their own, plus any revealed (staff: all)."""
    with uow:
        order = uow.repo(OrderRepository).get(order_id)
        if order is None or not may_see_order(viewer=viewer, order=order):
            raise order_not_found(order_id)
        found = uow.repo(ReviewRepository).for_order(order_id)
    staff = viewer.has_any((Role.moderator, Role.operator))
    return [
        r for r in found if staff or r.author_id == viewer.id or _shown(r, order, settings, now)
    ]


def _shown(review: Review, order: Order, settings: Settings, now: datetime) -> bool:
    if review.hidden:
        return False
    if review.revealed_at is not None:
        return True
    assert order.finished_at is not None
    return is_revealed(
        reviews_submitted=1,
        finished_at=order.finished_at,
        review_window=settings.review_window,
        now=now,
    )


def seller_reviews(
    uow: UnitOfWork, *, seller_id: str, after: str | None, limit: int
) -> list[Review]:
    """A seller's revealed, visible reviews by their buyers, a page at a time (anyone)."""
    check_page(after=after, limit=limit)
    with uow:
        try:
            seller = principal_of(uow, seller_id)
        except NotFound:
            seller = None
        if seller is None or not seller.has_role(Role.seller):
            raise NotFound("seller_not_found", f"no seller {seller_id}")
        return uow.repo(ReviewRepository).revealed_about(
            seller_id, role=ReviewerRole.BUYER, after=after, limit=limit
        )


def get_review(uow: UnitOfWork, *, viewer: Principal | None, review_id: str) -> Review:
    """One review: public once revealed and not hidden; otherwise its author and staff only."""
    with uow:
        review = uow.repo(ReviewRepository).get(review_id)
    if review is None:
        raise _review_not_found(review_id)
    public = review.revealed_at is not None and not review.hidden
    if public:
        return review
    if viewer is not None and (
        viewer.id == review.author_id or viewer.has_any((Role.moderator, Role.operator))
    ):
        return review
    raise _review_not_found(review_id)
