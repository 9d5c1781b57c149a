"""Verified two-sided reviews: who may review, what a review holds, and the simultaneous reveal.

Owns: the reviewable order states, rating ranges and text limits, the reveal rule, immutability
after reveal and the seller's one reply. Imports: the standard library, ``bonafide.errors`` and
``bonafide.market.orders``. Pure: time is passed in.

Reveal rule (DESIGN.md §4): a review stays hidden until both parties have reviewed the order or the
review window, counted from when the order finished, has closed. Neither party can then tailor
theirs to the other's. A review may be changed until it is revealed, never after.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.orders import OrderState, check_printable

TEXT_MAX = 5_000
"""The longest review text or reply, in characters."""

RATING_MIN, RATING_MAX = 1, 5

REVIEWABLE_STATES = frozenset({OrderState.COMPLETED, OrderState.AUTO_RELEASED, OrderState.RESOLVED})


class ReviewerRole(enum.StrEnum):
    BUYER = "buyer"
    """The buyer rates the seller: overall and three details."""
    SELLER = "seller"
    """The seller rates the buyer: overall only."""


@dataclass(frozen=True, slots=True)
class Ratings:
    """Stars from 1 to 5; the three details are the buyer's only and absent for a seller."""

    overall: int
    item_as_described: int | None = None
    communication: int | None = None
    shipping_speed: int | None = None


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    order_id: str
    author_id: str
    subject_id: str
    role: ReviewerRole
    ratings: Ratings
    text: str
    submitted_at: datetime
    updated_at: datetime
    revealed_at: datetime | None
    hidden: bool
    reply: str | None
    replied_at: datetime | None


def _stars(value: object, *, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected("rating_must_be_an_integer", f"{field} must be a whole number of stars")
    if not RATING_MIN <= value <= RATING_MAX:
        raise Rejected("rating_out_of_range", f"{field} is {value}; 1 to 5 stars")
    return value


def check_ratings(ratings: Ratings, *, role: ReviewerRole) -> Ratings:
    """Buyers give all four ratings; sellers give the overall one only."""
    _stars(ratings.overall, field="overall")
    details = {
        "item_as_described": ratings.item_as_described,
        "communication": ratings.communication,
        "shipping_speed": ratings.shipping_speed,
    }
    for field, value in details.items():
        if role is ReviewerRole.BUYER:
            if value is None:
                raise Rejected("buyer_review_needs_every_rating", f"{field} is missing")
            _stars(value, field=field)
        elif value is not None:
            raise Rejected("seller_review_rates_overall_only", f"a seller does not rate {field}")
    return ratings


def check_review_text(text: object) -> str:
    """Review text may be empty; it may not exceed ``TEXT_MAX`` characters."""
    if not isinstance(text, str):
        raise Rejected("text_must_be_text", "text must be a string")
    if len(text) > TEXT_MAX:
        raise Rejected("text_too_long", f"text is {len(text)} characters; at most {TEXT_MAX}")
    return check_printable(text, field="text")


def window_closes_at(*, finished_at: datetime, review_window: timedelta) -> datetime:
    return finished_at + review_window


def check_may_review(
    *,
    state: OrderState,
    role: ReviewerRole | None,
    already_submitted: bool,
    finished_at: datetime | None,
    review_window: timedelta,
    now: datetime,
) -> None:
    """Refuse a review unless a party to a finished, released order writes it in time, once."""
    if role is None:
        raise Forbidden("not_a_party", "only the buyer and the seller of an order may review it")
    if state not in REVIEWABLE_STATES or finished_at is None:
        raise Conflict(
            "order_not_in_state",
            f"the order is {state.value}; only a released order is reviewed",
        )
    if already_submitted:
        raise Conflict("review_already_submitted", "one review per party per order")
    if now >= window_closes_at(finished_at=finished_at, review_window=review_window):
        raise Conflict("review_window_closed", "the time to review this order has passed")


def is_revealed(
    *, reviews_submitted: int, finished_at: datetime, review_window: timedelta, now: datetime
) -> bool:
    """The reveal rule: both parties have reviewed, or the review window has closed."""
    assert 0 <= reviews_submitted <= 2
    return reviews_submitted == 2 or now >= window_closes_at(
        finished_at=finished_at, review_window=review_window
    )


def check_editable(*, revealed_at: datetime | None) -> None:
    if revealed_at is not None:
        raise Conflict("review_is_revealed", "a review cannot change once it is revealed")


def check_may_reply(
    *, revealed_at: datetime | None, has_reply: bool, subject_is_replier: bool, role: ReviewerRole
) -> None:
    """The seller may add one public reply to a revealed review of them by their buyer."""
    if role is not ReviewerRole.BUYER or not subject_is_replier:
        raise Forbidden("only_the_reviewed_seller_may_reply", "replies are the seller's")
    if revealed_at is None:
        raise Conflict("review_not_revealed", "a reply waits until the review is public")
    if has_reply:
        raise Conflict("reply_already_added", "a review takes one reply")
