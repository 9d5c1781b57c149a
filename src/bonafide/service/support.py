"""Customer-service use cases: business hours, threads, messages, read receipts, closing, CSAT.

Owns: the transactions of conversations. Imports: ``bonafide.market`` (support, hours),
``bonafide.store`` (support repository, unit of work), ``bonafide.service.accounts`` and
``bonafide.service.service_figures``; ids from ``bonafide.ids``.

Who may do what (the API's authorization matrix follows from these)
    - A seller sets their own business hours; anyone reads them.
    - An order's thread is opened by its buyer or seller (one per order; opening it again returns
      it). A seller thread is opened by a buyer with a seller; an open one is reused.
    - The buyer, the seller and moderators read a thread (operators too); outsiders are told it
      does not exist. A moderator posts only in a disputed order's thread (and joins it).
    - Either party or a moderator closes a thread; an order's thread is closed from the moment
      its order finished. Only the buyer rates a thread (once, 1–5).

A buyer's message outside the seller's business hours gets the automatic acknowledgement of
``market.support.auto_ack`` in the same transaction, so two racing messages cannot both earn one:
posting locks the thread row first (``SELECT ... FOR UPDATE``; SQLite's write lock does the same).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bonafide.errors import Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.market.accounts import Principal, Role
from bonafide.market.hours import BusinessHours
from bonafide.market.support import (
    AutoAck,
    Message,
    Thread,
    ThreadKind,
    advance_marker,
    auto_ack,
    check_body,
    check_can_post,
    check_can_read,
    close,
    joined,
    rate,
    role_in,
)
from bonafide.market.support import (
    Role as ThreadRole,
)
from bonafide.market.support import (
    open_thread as new_thread,
)
from bonafide.service.service_figures import check_seller, hours_in, typical_reply_in
from bonafide.store.support_repo import (
    MESSAGES_PER_THREAD_MAX,
    ServiceRecordsRepository,
    SupportRepository,
)
from bonafide.store.uow import UnitOfWork

DISPUTED = "disputed"


@dataclass(frozen=True, slots=True)
class ThreadView:
    """A thread with its messages and each participant's read marker."""

    thread: Thread
    messages: tuple[Message, ...]
    markers: Mapping[str, datetime]

    def read_by(self, message: Message) -> list[str]:
        return sorted(
            reader
            for reader, at in self.markers.items()
            if at >= message.sent_at and reader != message.author_id
        )


@dataclass(frozen=True, slots=True)
class Posted:
    message: Message
    acknowledgement: Message | None
    ack: AutoAck | None


def _repo(uow: UnitOfWork) -> SupportRepository:
    return uow.repo(SupportRepository)


def _not_found(thread_id: str) -> NotFound:
    return NotFound("thread_not_found", f"no thread {thread_id}")


def _is_staff(principal: Principal) -> bool:
    return principal.has_any((Role.moderator, Role.operator))


def _load(
    uow: UnitOfWork, *, viewer: Principal, thread_id: str, for_update: bool = False
) -> tuple[Thread, ThreadRole]:
    thread = _repo(uow).thread(thread_id, for_update=for_update)
    if thread is None:
        raise _not_found(thread_id)
    role = role_in(thread, account_id=viewer.id, is_moderator=_is_staff(viewer))
    if role is None:
        raise _not_found(thread_id)  # outsiders are not told the thread exists
    return _closed_with_its_order(uow, thread), check_can_read(role)


def _view(uow: UnitOfWork, thread: Thread) -> ThreadView:
    repo = _repo(uow)
    return ThreadView(
        thread=thread, messages=tuple(repo.messages(thread.id)), markers=repo.markers(thread.id)
    )


# --- business hours -------------------------------------------------------------------------


def put_hours(
    uow: UnitOfWork,
    *,
    actor: Principal,
    seller_id: str,
    time_zone: str,
    weekly: Mapping[str, Sequence[Mapping[str, str]]],
    holidays: Sequence[str],
    now: datetime,
) -> BusinessHours:
    """The seller sets their weekly schedule, time zone and holidays (replacing the old ones)."""
    hours = BusinessHours.parse(time_zone=time_zone, weekly=weekly, holidays=holidays)
    with uow:
        check_seller(uow, seller_id)
        if actor.id != seller_id and not actor.is_operator:
            raise Forbidden("only_the_seller_sets_hours", "a seller sets their own hours")
        _repo(uow).put_hours(seller_id, hours, now=now)
        uow.commit()
    return hours


def get_hours(uow: UnitOfWork, *, seller_id: str) -> tuple[BusinessHours, bool]:
    """The seller's hours and whether they set them (unset: always open, no acknowledgements)."""
    with uow:
        check_seller(uow, seller_id)
        return hours_in(uow, seller_id=seller_id)


# --- threads --------------------------------------------------------------------------------


def open_order_thread(
    uow: UnitOfWork, *, actor: Principal, order_id: str, subject: str, now: datetime
) -> ThreadView:
    """The order's thread, opened now if it has none; for the order's buyer or seller."""
    with uow:
        facts = uow.repo(ServiceRecordsRepository).order_facts(order_id)
        if facts is None or actor.id not in (facts.buyer_id, facts.seller_id):
            raise NotFound("order_not_found", f"no order {order_id}")
        buyer_id, seller_id = facts.buyer_id, facts.seller_id
        repo = _repo(uow)
        thread = new_thread(
            thread_id=new_id("thr", now=now),
            kind=ThreadKind.ORDER,
            buyer_id=buyer_id,
            seller_id=seller_id,
            order_id=order_id,
            subject=subject or f"Order {order_id}",
            now=now,
        )
        if not repo.add_thread(thread):  # it exists (perhaps opened a moment ago by the other)
            found = repo.thread_of_order(order_id)
            assert found is not None
            thread = found
        uow.commit()
        return _view(uow, _closed_with_its_order(uow, thread))


def open_seller_thread(
    uow: UnitOfWork, *, actor: Principal, seller_id: str, subject: str, now: datetime
) -> ThreadView:
    """A buyer's general thread with a seller; the open one is reused."""
    with uow:
        check_seller(uow, seller_id)
        repo = _repo(uow)
        thread = repo.open_seller_thread(buyer_id=actor.id, seller_id=seller_id)
        if thread is None:
            thread = new_thread(
                thread_id=new_id("thr", now=now),
                kind=ThreadKind.SELLER,
                buyer_id=actor.id,
                seller_id=seller_id,
                order_id=None,
                subject=subject,
                now=now,
            )
            repo.add_thread(thread)
        uow.commit()
        return _view(uow, thread)


def get_thread(uow: UnitOfWork, *, viewer: Principal, thread_id: str) -> ThreadView:
    with uow:
        thread, _ = _load(uow, viewer=viewer, thread_id=thread_id)
        return _view(uow, thread)


def list_threads(
    uow: UnitOfWork, *, viewer: Principal, after_id: str | None, limit: int
) -> list[Thread]:
    """The viewer's threads (as buyer or seller), in id order, a page at a time."""
    with uow:
        found = _repo(uow).threads_of(account_id=viewer.id, after_id=after_id, limit=limit)
        return [_closed_with_its_order(uow, thread) for thread in found]


def post_message(
    uow: UnitOfWork, *, actor: Principal, thread_id: str, body: object, now: datetime
) -> Posted:
    """Post into a thread; a buyer's message out of hours may earn the automatic acknowledgement."""
    text = check_body(body)
    with uow:
        thread, role = _load(uow, viewer=actor, thread_id=thread_id, for_update=True)
        disputed = _order_state(uow, thread) == DISPUTED
        role = check_can_post(thread, role=role, order_disputed=disputed)
        repo = _repo(uow)
        if repo.count_messages(thread.id) >= MESSAGES_PER_THREAD_MAX:
            raise Rejected("thread_full", f"a thread holds {MESSAGES_PER_THREAD_MAX} messages")
        history = repo.messages(thread.id)
        message = Message(
            id=new_id("msg", now=now),
            thread_id=thread.id,
            author_id=actor.id,
            role=role,
            body=text,
            sent_at=now,
        )
        repo.add_message(message)
        updated = joined(thread, role=role, account_id=actor.id)
        if updated != thread:
            repo.save_thread(updated)
        repo.put_marker(thread_id=thread.id, reader_id=actor.id, read_at=now)
        ack, sent = _acknowledge(uow, thread=thread, history=history, incoming=message, now=now)
        uow.commit()
    return Posted(message=message, acknowledgement=sent, ack=ack)


def _acknowledge(
    uow: UnitOfWork, *, thread: Thread, history: list[Message], incoming: Message, now: datetime
) -> tuple[AutoAck | None, Message | None]:
    if incoming.role is not ThreadRole.BUYER:
        return None, None
    hours, hours_set = hours_in(uow, seller_id=thread.seller_id)
    if not hours_set:
        return None, None
    typical = typical_reply_in(uow, seller_id=thread.seller_id, now=now)
    ack = auto_ack(history=history, incoming=incoming, hours=hours, typical_reply=typical)
    if ack is None:
        return None, None
    sent = Message(
        id=new_id("msg", now=now),
        thread_id=thread.id,
        author_id=None,
        role=ThreadRole.SYSTEM,
        body=ack.body,
        sent_at=now,
        automatic=True,
    )
    _repo(uow).add_message(
        sent,
        meta={
            "next_opening_at": _iso(ack.next_opening_at),
            "typical_reply_seconds": None
            if ack.typical_reply is None
            else int(ack.typical_reply.total_seconds()),
            "expected_reply_by": _iso(ack.expected_reply_by),
        },
    )
    return ack, sent


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _order_state(uow: UnitOfWork, thread: Thread) -> str | None:
    if thread.order_id is None:
        return None
    facts = uow.repo(ServiceRecordsRepository).order_facts(thread.order_id)
    return None if facts is None else facts.state


def _closed_with_its_order(uow: UnitOfWork, thread: Thread) -> Thread:
    """An order's thread closes when the order finishes, at the moment it finished.

    Read on the way out rather than written by the order flow: the order's ``finished_at``
    decides it, so every reader sees the same closing time without a hook in the order flow.
    """
    if thread.order_id is None or thread.closed_at is not None:
        return thread
    facts = uow.repo(ServiceRecordsRepository).order_facts(thread.order_id)
    if facts is None or facts.finished_at is None:
        return thread
    return close(thread, by=ThreadRole.SYSTEM, now=facts.finished_at)


def mark_read(uow: UnitOfWork, *, actor: Principal, thread_id: str, now: datetime) -> ThreadView:
    """The reader has read everything in the thread up to ``now`` (markers only move forward)."""
    with uow:
        thread, _ = _load(uow, viewer=actor, thread_id=thread_id)
        repo = _repo(uow)
        previous = repo.markers(thread.id).get(actor.id)
        repo.put_marker(
            thread_id=thread.id, reader_id=actor.id, read_at=advance_marker(previous, now=now)
        )
        uow.commit()
        return _view(uow, thread)


def close_thread(uow: UnitOfWork, *, actor: Principal, thread_id: str, now: datetime) -> Thread:
    """Either party or a moderator closes the thread."""
    with uow:
        thread, role = _load(uow, viewer=actor, thread_id=thread_id, for_update=True)
        closed = close(thread, by=role, now=now)
        _repo(uow).save_thread(closed)
        uow.commit()
    return closed


def rate_thread(
    uow: UnitOfWork, *, actor: Principal, thread_id: str, score: object, now: datetime
) -> Thread:
    """The buyer rates the support of a closed thread, 1–5, once."""
    with uow:
        thread, role = _load(uow, viewer=actor, thread_id=thread_id, for_update=True)
        rated = rate(thread, role=role, score=score, now=now)
        _repo(uow).save_thread(rated)
        uow.commit()
    return rated
