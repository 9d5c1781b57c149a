"""Conversations: who may post, closing, CSAT, read receipts and the auto-ack limits."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.hours import BusinessHours
from bonafide.market.support import (
    Message,
    Role,
    Thread,
    ThreadKind,
    ThreadState,
    advance_marker,
    auto_ack,
    check_body,
    check_can_post,
    close,
    describe,
    is_read,
    joined,
    open_thread,
    rate,
    role_in,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = BusinessHours.parse(
    time_zone="Europe/Berlin",
    weekly={d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
)
_ids = itertools.count()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in March 2026, Berlin time (the 2nd is a Monday)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


def thread(**changes: object) -> Thread:
    base = open_thread(
        thread_id="thr_1",
        kind=ThreadKind.ORDER,
        buyer_id="acc_b",
        seller_id="acc_s",
        order_id="ord_1",
        subject="Where is my parcel?",
        now=at(2, 10),
    )
    return Thread(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})  # type: ignore[arg-type]


def msg(role: Role, when: datetime) -> Message:
    author = {Role.BUYER: "acc_b", Role.SELLER: "acc_s", Role.SYSTEM: None}.get(role, "acc_m")
    return Message(
        id=f"msg_{next(_ids)}",
        thread_id="thr_1",
        author_id=author,
        role=role,
        body="hello",
        sent_at=when,
        automatic=role is Role.SYSTEM,
    )


TYPICAL = timedelta(hours=2)


def ack(history: list[Message], incoming: Message) -> object:
    return auto_ack(history=history, incoming=incoming, hours=HOURS, typical_reply=TYPICAL)


def test_a_buyer_message_after_hours_gets_an_ack_with_next_opening_and_expected_reply() -> None:
    got = auto_ack(
        history=[], incoming=msg(Role.BUYER, at(6, 20)), hours=HOURS, typical_reply=TYPICAL
    )
    assert got is not None
    assert got.next_opening_at == at(9, 9)  # Friday evening → Monday 09:00
    assert got.expected_reply_by == at(9, 11)
    assert "2026-03-09 09:00 CET" in got.body and "2 h" in got.body


def test_no_ack_inside_business_hours() -> None:
    assert ack([], msg(Role.BUYER, at(4, 10))) is None


def test_at_most_one_ack_per_thread_in_24_hours() -> None:
    first = msg(Role.BUYER, at(4, 23, 50))
    sent = msg(Role.SYSTEM, at(4, 23, 50))
    # Ten minutes later, past midnight: still inside the rolling day → no second ack.
    assert ack([first, sent], msg(Role.BUYER, at(5, 0, 0))) is None
    # 24 hours after the first ack: a new one is due again.
    assert ack([first, sent], msg(Role.BUYER, at(5, 23, 50))) is not None


def test_no_ack_when_the_seller_replied_in_the_last_five_minutes() -> None:
    seller = msg(Role.SELLER, at(4, 20, 0))
    assert ack([seller], msg(Role.BUYER, at(4, 20, 5))) is None
    assert ack([seller], msg(Role.BUYER, at(4, 20, 6))) is not None


def test_never_an_ack_to_an_automatic_message_or_to_the_seller() -> None:
    assert ack([], msg(Role.SYSTEM, at(4, 20))) is None
    assert ack([], msg(Role.SELLER, at(4, 20))) is None


def test_an_ack_without_reply_history_says_so() -> None:
    got = auto_ack(history=[], incoming=msg(Role.BUYER, at(4, 20)), hours=HOURS, typical_reply=None)
    assert got is not None and got.expected_reply_by is None
    assert "no reply-time history" in got.body


def test_outsiders_cannot_post_and_nobody_posts_in_a_closed_thread() -> None:
    t = thread()
    assert role_in(t, account_id="acc_x", is_moderator=False) is None
    with pytest.raises(Forbidden, match="not_a_thread_participant"):
        check_can_post(t, role=None, order_disputed=False)
    closed = close(t, by=Role.BUYER, now=at(3, 10))
    with pytest.raises(Conflict, match="thread_is_closed"):
        check_can_post(closed, role=Role.SELLER, order_disputed=False)
    with pytest.raises(Conflict, match="thread_is_closed"):
        close(closed, by=Role.SELLER, now=at(3, 11))


def test_a_moderator_joins_only_a_disputed_orders_thread() -> None:
    t = thread()
    role = role_in(t, account_id="acc_m", is_moderator=True)
    with pytest.raises(Forbidden, match="moderator_joins_only_disputed_orders"):
        check_can_post(t, role=role, order_disputed=False)
    assert check_can_post(t, role=role, order_disputed=True) is Role.MODERATOR
    assert joined(t, role=Role.MODERATOR, account_id="acc_m").moderator_id == "acc_m"


def test_the_buyer_rates_a_closed_thread_once_from_1_to_5() -> None:
    t = thread()
    with pytest.raises(Conflict, match="thread_not_closed"):
        rate(t, role=Role.BUYER, score=5, now=at(3, 10))
    closed = close(t, by=Role.SELLER, now=at(3, 10))
    assert closed.state is ThreadState.CLOSED
    with pytest.raises(Forbidden, match="only_the_buyer_rates_support"):
        rate(closed, role=Role.SELLER, score=5, now=at(3, 11))
    for bad in (0, 6, 4.5, True):
        with pytest.raises(Rejected, match="csat_out_of_range"):
            rate(closed, role=Role.BUYER, score=bad, now=at(3, 11))
    rated = rate(closed, role=Role.BUYER, score=4, now=at(3, 11))
    assert rated.csat == 4
    with pytest.raises(Conflict, match="csat_already_given"):
        rate(rated, role=Role.BUYER, score=5, now=at(3, 12))
    with pytest.raises(Conflict, match="csat_window_closed"):
        rate(closed, role=Role.BUYER, score=5, now=at(3, 10) + timedelta(days=31))


def test_read_markers_only_move_forward() -> None:
    m = msg(Role.SELLER, at(4, 10))
    marker = advance_marker(None, now=at(4, 11))
    assert is_read(m, marker=marker)
    assert advance_marker(marker, now=at(4, 9)) == marker
    assert not is_read(m, marker=None)


def test_bodies_subjects_and_parties_are_checked() -> None:
    with pytest.raises(Rejected, match="message_body_empty"):
        check_body("   ")
    with pytest.raises(Rejected, match="message_body_too_long"):
        check_body("x" * 10_001)
    with pytest.raises(Rejected, match="thread_parties_must_differ"):
        open_thread(
            thread_id="t",
            kind=ThreadKind.SELLER,
            buyer_id="a",
            seller_id="a",
            order_id=None,
            subject="",
            now=at(2, 10),
        )


def test_describe_reads_like_a_person() -> None:
    assert describe(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert describe(timedelta(seconds=10)) == "1 min"
    assert describe(timedelta(hours=3)) == "3 h"
