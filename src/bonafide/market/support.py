"""Customer service conversations: threads, messages, read receipts, the auto-ack rule and CSAT.

Owns: ``Thread``, ``Message``, who may read and post, closing a thread, the buyer's satisfaction
rating (CSAT, 1–5) and the rule for the automatic acknowledgement. Imports: the standard library,
``bonafide.errors`` and ``bonafide.market.hours``. Pure: time and ids are passed in.

Threads
    A thread is between one buyer and one seller, either about an order (one thread per order) or
    about the seller in general. A moderator may read any thread and joins an order's thread by
    posting in it while the order is disputed. A thread closes on request (either party or a
    moderator) or when its order finishes; nobody posts in a closed thread. The buyer may rate a
    closed thread once, 1 to 5, within ``CSAT_WINDOW`` of its closing.

Read receipts
    Each participant has a marker, the instant up to which they have read the thread; a message is
    read by someone whose marker is at or after its ``sent_at``. Markers only move forward.

The automatic acknowledgement
    When a buyer's message arrives outside the seller's business hours, the system answers it once
    with the next opening time and the seller's typical reply time — unless

    - the message is itself automatic (the system never answers the system),
    - the thread already got an automatic message in the last ``AUTO_ACK_EVERY`` (24 hours, a
      rolling day, so a buyer writing at 23:50 and 00:10 gets one acknowledgement, not two), or
    - the seller wrote in the thread in the last ``RECENT_REPLY`` (5 minutes): they are around.

    The expected reply time is the seller's typical (median) first-response time counted in
    business hours from the message, so it lands inside opening hours.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.hours import BusinessHours

BODY_LENGTH_MAX = 10_000
SUBJECT_LENGTH_MAX = 200
AUTO_ACK_EVERY = timedelta(hours=24)
RECENT_REPLY = timedelta(minutes=5)
CSAT_WINDOW = timedelta(days=30)
CSAT_MIN, CSAT_MAX = 1, 5


class ThreadKind(enum.StrEnum):
    ORDER = "order"
    SELLER = "seller"


class ThreadState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Role(enum.StrEnum):
    """How an author or reader stands to a thread."""

    BUYER = "buyer"
    SELLER = "seller"
    MODERATOR = "moderator"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Thread:
    id: str
    kind: ThreadKind
    buyer_id: str
    seller_id: str
    order_id: str | None
    subject: str
    state: ThreadState
    opened_at: datetime
    closed_at: datetime | None = None
    closed_by: Role | None = None
    csat: int | None = None
    csat_at: datetime | None = None
    moderator_id: str | None = None

    def __post_init__(self) -> None:
        assert (self.kind is ThreadKind.ORDER) == (self.order_id is not None)
        assert (self.state is ThreadState.CLOSED) == (self.closed_at is not None)


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    thread_id: str
    author_id: str | None
    role: Role
    body: str
    sent_at: datetime
    automatic: bool = False

    def __post_init__(self) -> None:
        assert self.automatic == (self.role is Role.SYSTEM), "only the system writes automatically"


@dataclass(frozen=True, slots=True)
class AutoAck:
    """The automatic acknowledgement to send, and the figures it quotes."""

    body: str
    next_opening_at: datetime | None
    typical_reply: timedelta | None
    expected_reply_by: datetime | None


def open_thread(
    *,
    thread_id: str,
    kind: ThreadKind,
    buyer_id: str,
    seller_id: str,
    order_id: str | None,
    subject: str,
    now: datetime,
) -> Thread:
    """A new open thread; a buyer cannot open one with themself as the seller."""
    if buyer_id == seller_id:
        raise Rejected("thread_parties_must_differ", "a buyer cannot write to their own shop")
    subject = subject.strip()
    if len(subject) > SUBJECT_LENGTH_MAX:
        raise Rejected("thread_subject_too_long", f"at most {SUBJECT_LENGTH_MAX} characters")
    return Thread(
        id=thread_id,
        kind=kind,
        buyer_id=buyer_id,
        seller_id=seller_id,
        order_id=order_id,
        subject=subject,
        state=ThreadState.OPEN,
        opened_at=now,
    )


def role_in(thread: Thread, *, account_id: str, is_moderator: bool) -> Role | None:
    """How ``account_id`` stands to ``thread``; ``None`` for an outsider."""
    if account_id == thread.buyer_id:
        return Role.BUYER
    if account_id == thread.seller_id:
        return Role.SELLER
    if is_moderator:
        return Role.MODERATOR
    return None


def check_can_read(role: Role | None) -> Role:
    if role is None:
        raise Forbidden("not_a_thread_participant", "only the buyer, the seller or a moderator")
    return role


def check_can_post(thread: Thread, *, role: Role | None, order_disputed: bool) -> Role:
    """Refuse a post by an outsider, into a closed thread, or by a moderator out of a dispute."""
    role = check_can_read(role)
    if thread.state is ThreadState.CLOSED:
        raise Conflict("thread_is_closed", "open a new thread to write again")
    if role is Role.MODERATOR and not order_disputed:
        raise Forbidden(
            "moderator_joins_only_disputed_orders",
            "a moderator writes only in the thread of a disputed order",
        )
    return role


def check_body(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise Rejected("message_body_empty", "a message says something")
    if len(body) > BODY_LENGTH_MAX:
        raise Rejected("message_body_too_long", f"at most {BODY_LENGTH_MAX} characters")
    return body


def joined(thread: Thread, *, role: Role, account_id: str) -> Thread:
    """The thread after ``account_id`` posted in it (a moderator's first post joins them)."""
    if role is Role.MODERATOR and thread.moderator_id is None:
        return replace(thread, moderator_id=account_id)
    return thread


def close(thread: Thread, *, by: Role, now: datetime) -> Thread:
    """Close ``thread``; closing a closed thread is refused so the first closing time stands."""
    if thread.state is ThreadState.CLOSED:
        raise Conflict("thread_is_closed", "the thread is already closed")
    return replace(thread, state=ThreadState.CLOSED, closed_at=now, closed_by=by)


def rate(thread: Thread, *, role: Role, score: object, now: datetime) -> Thread:
    """The buyer's satisfaction rating of a closed thread: once, 1–5, within ``CSAT_WINDOW``."""
    if role is not Role.BUYER:
        raise Forbidden("only_the_buyer_rates_support", "the buyer rates the seller's support")
    if isinstance(score, bool) or not isinstance(score, int) or not CSAT_MIN <= score <= CSAT_MAX:
        raise Rejected("csat_out_of_range", f"a whole number from {CSAT_MIN} to {CSAT_MAX}")
    if thread.state is not ThreadState.CLOSED or thread.closed_at is None:
        raise Conflict("thread_not_closed", "support is rated once the thread is closed")
    if thread.csat is not None:
        raise Conflict("csat_already_given", "the thread has been rated")
    if now > thread.closed_at + CSAT_WINDOW:
        raise Conflict("csat_window_closed", f"ratings close {CSAT_WINDOW.days} days after")
    return replace(thread, csat=score, csat_at=now)


def advance_marker(previous: datetime | None, *, now: datetime) -> datetime:
    """A read marker moves forward only."""
    return now if previous is None or now > previous else previous


def is_read(message: Message, *, marker: datetime | None) -> bool:
    return marker is not None and marker >= message.sent_at


def auto_ack(
    *,
    history: Sequence[Message],
    incoming: Message,
    hours: BusinessHours,
    typical_reply: timedelta | None,
) -> AutoAck | None:
    """The acknowledgement ``incoming`` earns, or ``None`` (see the module docstring).

    ``history`` is the thread's messages before ``incoming``, in any order.
    """
    if incoming.automatic or incoming.role is not Role.BUYER:
        return None
    at = incoming.sent_at
    if hours.is_open(at):
        return None
    for message in history:
        if message.sent_at > at:
            continue
        if message.automatic and at - message.sent_at < AUTO_ACK_EVERY:
            return None
        if message.role is Role.SELLER and at - message.sent_at <= RECENT_REPLY:
            return None
    opening = hours.next_opening(at)
    expected = None if typical_reply is None else hours.add_business_time(at, typical_reply)
    return AutoAck(
        body=_ack_body(hours=hours, opening=opening, typical=typical_reply, expected=expected),
        next_opening_at=opening,
        typical_reply=typical_reply,
        expected_reply_by=expected,
    )


def _ack_body(
    *,
    hours: BusinessHours,
    opening: datetime | None,
    typical: timedelta | None,
    expected: datetime | None,
) -> str:
    zone = hours.zone
    parts = ["Thanks for your message. The seller is outside business hours right now."]
    if opening is not None:
        parts.append(f"They open again at {opening.astimezone(zone):%Y-%m-%d %H:%M %Z}.")
    if typical is not None and expected is not None:
        parts.append(
            f"They typically reply within {describe(typical)} of business time; expect an "
            f"answer by {expected.astimezone(zone):%Y-%m-%d %H:%M %Z}."
        )
    else:
        parts.append("They have no reply-time history yet.")
    return " ".join(parts)


def describe(span: timedelta) -> str:
    """``timedelta(hours=2, minutes=5)`` → ``"2 h 5 min"``; under a minute is ``"1 min"``."""
    minutes = max(1, int(span.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
