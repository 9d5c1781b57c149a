"""Repositories for the customer-service tables: rows in, ``market.support`` objects out.

Owns: every SQL statement on business hours, threads, messages and read markers. Imports:
SQLAlchemy, ``bonafide.store`` and the pure domain. Repositories never commit; the unit of work
does. SQLite stores timestamps without a zone; everything written is UTC, so ``_utc`` puts the
zone back on the way out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update
from sqlalchemy.orm import Session

from bonafide.market.hours import BusinessHours
from bonafide.market.service_figures import DisputeRecord, OrderRecord
from bonafide.market.support import Message, Role, Thread, ThreadKind, ThreadState
from bonafide.store import fastpath
from bonafide.store.order_tables import disputes, order_history, orders
from bonafide.store.support_tables import (
    business_hours,
    support_messages,
    support_read_markers,
    support_threads,
)

THREADS_MAX = 20_000
"""Limit on the threads one figures computation reads (a seller's 90 days)."""
MESSAGES_PER_THREAD_MAX = 10_000
"""Limit on the messages one thread holds (reads past it are refused by the service)."""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)


def _thread(row: Row[Any]) -> Thread:
    return Thread(
        id=row.id,
        kind=ThreadKind(row.kind),
        buyer_id=row.buyer_id,
        seller_id=row.seller_id,
        order_id=row.order_id,
        subject=row.subject,
        state=ThreadState(row.state),
        opened_at=_utc(row.opened_at),
        closed_at=_utc_or_none(row.closed_at),
        closed_by=None if row.closed_by is None else Role(row.closed_by),
        csat=row.csat,
        csat_at=_utc_or_none(row.csat_at),
        moderator_id=row.moderator_id,
    )


def _message(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        thread_id=row.thread_id,
        author_id=row.author_id,
        role=Role(row.role),
        body=row.body,
        sent_at=_utc(row.sent_at),
        automatic=row.automatic,
    )


class SupportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- business hours --------------------------------------------------------------------
    def hours(self, seller_id: str) -> BusinessHours | None:
        row = self.session.execute(
            select(business_hours.c.schedule).where(business_hours.c.seller_id == seller_id)
        ).first()
        if row is None:
            return None
        data = row.schedule
        return BusinessHours.parse(
            time_zone=data["time_zone"], weekly=data["weekly"], holidays=data["holidays"]
        )

    def put_hours(self, seller_id: str, hours: BusinessHours, *, now: datetime) -> None:
        values = {"time_zone": hours.zone_name, "schedule": hours.to_json(), "updated_at": now}
        row = {"seller_id": seller_id, **values}
        if not fastpath.insert_or_ignore(self.session, business_hours, row):
            self.session.execute(
                update(business_hours)
                .where(business_hours.c.seller_id == seller_id)
                .values(**values)
            )

    # --- threads ---------------------------------------------------------------------------
    def add_thread(self, thread: Thread) -> bool:
        """Insert ``thread``; False when its order already has one (the unique key decides)."""
        values = {
            **asdict(thread),
            "kind": thread.kind.value,
            "state": thread.state.value,
            "closed_by": None,
        }
        return fastpath.insert_or_ignore(self.session, support_threads, values)

    def thread(self, thread_id: str, *, for_update: bool = False) -> Thread | None:
        query = select(support_threads).where(support_threads.c.id == thread_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else _thread(row)

    def thread_of_order(self, order_id: str) -> Thread | None:
        row = self.session.execute(
            select(support_threads).where(support_threads.c.order_id == order_id)
        ).first()
        return None if row is None else _thread(row)

    def open_seller_thread(self, *, buyer_id: str, seller_id: str) -> Thread | None:
        row = self.session.execute(
            select(support_threads)
            .where(
                and_(
                    support_threads.c.kind == ThreadKind.SELLER.value,
                    support_threads.c.buyer_id == buyer_id,
                    support_threads.c.seller_id == seller_id,
                    support_threads.c.state == ThreadState.OPEN.value,
                )
            )
            .order_by(support_threads.c.opened_at.desc(), support_threads.c.id.desc())
        ).first()
        return None if row is None else _thread(row)

    def save_thread(self, thread: Thread) -> None:
        self.session.execute(
            update(support_threads)
            .where(support_threads.c.id == thread.id)
            .values(
                state=thread.state.value,
                closed_at=thread.closed_at,
                closed_by=None if thread.closed_by is None else thread.closed_by.value,
                csat=thread.csat,
                csat_at=thread.csat_at,
                moderator_id=thread.moderator_id,
            )
        )

    def threads_of(self, *, account_id: str, after_id: str | None, limit: int) -> list[Thread]:
        query = select(support_threads).where(
            (support_threads.c.buyer_id == account_id) | (support_threads.c.seller_id == account_id)
        )
        if after_id is not None:
            query = query.where(support_threads.c.id > after_id)
        rows = self.session.execute(query.order_by(support_threads.c.id).limit(limit))
        return [_thread(row) for row in rows]

    def seller_threads_since(self, *, seller_id: str, since: datetime) -> list[Thread]:
        """Threads of ``seller_id`` with a message or rating at or after ``since`` (the most
        recently active ``THREADS_MAX``)."""
        rows = self.session.execute(
            select(support_threads)
            .where(
                and_(
                    support_threads.c.seller_id == seller_id,
                    (support_threads.c.last_message_at >= since)
                    | (support_threads.c.csat_at >= since),
                )
            )
            .order_by(support_threads.c.last_message_at.desc(), support_threads.c.id)
            .limit(THREADS_MAX)
        )
        return [_thread(row) for row in rows]

    # --- messages --------------------------------------------------------------------------
    def add_message(self, message: Message, *, meta: dict[str, Any] | None = None) -> None:
        self.session.execute(
            insert(support_messages).values(
                id=message.id,
                thread_id=message.thread_id,
                author_id=message.author_id,
                role=message.role.value,
                body=message.body,
                sent_at=message.sent_at,
                automatic=message.automatic,
                meta=meta,
            )
        )
        self.session.execute(
            update(support_threads)
            .where(support_threads.c.id == message.thread_id)
            .values(last_message_at=message.sent_at)
        )

    def messages(self, thread_id: str) -> list[Message]:
        """In order; an acknowledgement comes right after the message it answers."""
        rows = self.session.execute(
            select(support_messages)
            .where(support_messages.c.thread_id == thread_id)
            .order_by(
                support_messages.c.sent_at, support_messages.c.automatic, support_messages.c.id
            )
            .limit(MESSAGES_PER_THREAD_MAX)
        )
        return [_message(row) for row in rows]

    def messages_of(self, thread_ids: Sequence[str]) -> dict[str, list[Message]]:
        found: dict[str, list[Message]] = {tid: [] for tid in thread_ids}
        if not thread_ids:
            return found
        rows = self.session.execute(
            select(support_messages)
            .where(support_messages.c.thread_id.in_(list(thread_ids)))
            .order_by(
                support_messages.c.sent_at, support_messages.c.automatic, support_messages.c.id
            )
        )
        for row in rows:
            found[row.thread_id].append(_message(row))
        return found

    def message_meta(self, message_id: str) -> dict[str, Any] | None:
        row = self.session.execute(
            select(support_messages.c.meta).where(support_messages.c.id == message_id)
        ).first()
        return None if row is None else row.meta

    def count_messages(self, thread_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count())
                .select_from(support_messages)
                .where(support_messages.c.thread_id == thread_id)
            ).scalar_one()
        )

    # --- read markers ----------------------------------------------------------------------
    def markers(self, thread_id: str) -> dict[str, datetime]:
        rows = self.session.execute(
            select(support_read_markers).where(support_read_markers.c.thread_id == thread_id)
        )
        return {row.reader_id: _utc(row.read_at) for row in rows}

    def put_marker(self, *, thread_id: str, reader_id: str, read_at: datetime) -> None:
        """Move the reader's marker to ``read_at`` unless it is already later."""
        fastpath.insert_or_ignore(
            self.session,
            support_read_markers,
            {"thread_id": thread_id, "reader_id": reader_id, "read_at": read_at},
        )
        self.session.execute(
            update(support_read_markers)
            .where(
                and_(
                    support_read_markers.c.thread_id == thread_id,
                    support_read_markers.c.reader_id == reader_id,
                    support_read_markers.c.read_at < read_at,
                )
            )
            .values(read_at=read_at)
        )


class ServiceRecordsRepository:
    """Reads the order flow's tables for a seller's service figures (read-only, no writes)."""

    ORDERS_MAX = 100_000
    """Limit on the orders one figures computation reads (a 90-day window of one seller)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def orders_placed(self, *, seller_id: str, since: datetime) -> list[OrderRecord]:
        """Orders of ``seller_id`` placed at or after ``since``, with their outcome flags."""
        cancelled = (
            select(order_history.c.order_id)
            .where(order_history.c.action.in_(("cancel", "auto_cancel")))
            .subquery()
        )
        auto_cancelled = (
            select(order_history.c.order_id)
            .where(order_history.c.action == "auto_cancel")
            .subquery()
        )
        rows = self.session.execute(
            select(
                orders.c.placed_at,
                orders.c.refund_value,
                orders.c.was_disputed,
                orders.c.id.in_(select(cancelled.c.order_id)).label("cancelled"),
                orders.c.id.in_(select(auto_cancelled.c.order_id)).label("auto_cancelled"),
            )
            .where(and_(orders.c.seller_id == seller_id, orders.c.placed_at >= since))
            .limit(self.ORDERS_MAX)
        )
        records = []
        for row in rows:
            refunded = row.refund_value > 0 and not row.cancelled
            disputed = bool(row.was_disputed)
            records.append(
                OrderRecord(
                    placed_at=_utc(row.placed_at),
                    refunded=refunded,
                    disputed=disputed,
                    defect=refunded or disputed or bool(row.auto_cancelled),
                )
            )
        return records

    def disputes(self, *, seller_id: str, since: datetime) -> list[DisputeRecord]:
        """Disputes on ``seller_id``'s orders still open or closed at or after ``since``."""
        rows = self.session.execute(
            select(disputes.c.opened_at, disputes.c.closed_at)
            .join(orders, orders.c.id == disputes.c.order_id)
            .where(
                and_(
                    orders.c.seller_id == seller_id,
                    (disputes.c.closed_at.is_(None)) | (disputes.c.closed_at >= since),
                )
            )
            .limit(self.ORDERS_MAX)
        )
        return [
            DisputeRecord(opened_at=_utc(row.opened_at), resolved_at=_utc_or_none(row.closed_at))
            for row in rows
        ]

    def order_facts(self, order_id: str) -> OrderFacts | None:
        """The parties, state and finishing time of an order, or None."""
        row = self.session.execute(
            select(
                orders.c.buyer_id, orders.c.seller_id, orders.c.state, orders.c.finished_at
            ).where(orders.c.id == order_id)
        ).first()
        if row is None:
            return None
        return OrderFacts(
            buyer_id=row.buyer_id,
            seller_id=row.seller_id,
            state=row.state,
            finished_at=_utc_or_none(row.finished_at),
        )


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What customer service needs to know of an order."""

    buyer_id: str
    seller_id: str
    state: str
    finished_at: datetime | None
