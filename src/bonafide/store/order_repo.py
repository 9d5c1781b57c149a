"""Repositories for the order-flow tables of ``order_tables``: rows in, domain objects out.

Owns: every SQL statement on orders, their history, disputes, reviews, reports, moderation
actions and appeals. Imports: SQLAlchemy, ``bonafide.store``, the pure domain and
``bonafide.money``. Repositories never commit; the unit of work does.

Locking: a change to an order reads it with ``for_update=True`` (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), so two concurrent
transitions of one order queue and the second sees the first one's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, Row, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bonafide.market.disputes import Dispute, DisputeMessage, DisputeState, Outcome
from bonafide.market.moderation import (
    ActionKind,
    Appeal,
    AppealState,
    ModerationAction,
    Report,
    ReportState,
    TargetKind,
)
from bonafide.market.orders import HistoryEntry, Order, OrderState
from bonafide.market.quotes import Quote
from bonafide.market.reviews import Ratings, Review, ReviewerRole
from bonafide.money import Money
from bonafide.store import fastpath
from bonafide.store.order_tables import (
    appeals,
    dispute_messages,
    disputes,
    moderation_actions,
    order_history,
    orders,
    reports,
    reviews,
)

PAGE_MAX = 200
"""No query here returns more rows than this."""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _utc(moment)


@cache
def _statements() -> dict[str, Executable]:
    """The statements every order transition runs, built once (on first use, not at import) and
    executed with parameters: building a statement and its cache key each call was about a
    sixth of the client's CPU per statement (cProfile of confirm)."""
    by_id = orders.c.id == bindparam("order_id")
    return {
        "add": insert(orders),
        "get": select(orders).where(by_id),
        "get_for_update": select(orders).where(by_id).with_for_update(),
        "add_history": insert(order_history),
        "history": select(order_history)
        .where(order_history.c.order_id == bindparam("order_id"))
        .order_by(order_history.c.id),
        "add_review": insert(reviews),
        "order_reviews": select(reviews)
        .where(reviews.c.order_id == bindparam("order_id"))
        .order_by(reviews.c.id),
        "reveal_order": update(reviews)
        .where(reviews.c.order_id == bindparam("of_order_id"), reviews.c.revealed_at.is_(None))
        .values(revealed_at=bindparam("now"))
        .returning(reviews.c.id),
    }


@cache
def _change_statement(columns: tuple[str, ...]) -> Executable:
    """The order update that sets ``columns`` (parameters ``new_<column>``), built once per set
    of columns a transition writes."""
    return (
        update(orders)
        .where(orders.c.id == bindparam("of_order_id"), orders.c.state == bindparam("expected"))
        .values({name: bindparam(f"new_{name}") for name in columns})
        .returning(*orders.c)
    )


class OrderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _order(row: Row[Any]) -> Order:
        quote = Quote.from_json(row.quote)
        currency = row.currency
        assert quote.total == Money(row.total_value, currency), "stored total matches the quote"
        order = Order(
            id=row.id,
            buyer_id=row.buyer_id,
            seller_id=row.seller_id,
            listing_id=row.listing_id,
            quantity=row.quantity,
            quote=quote,
            state=OrderState(row.state),
            placed_at=_utc(row.placed_at),
            updated_at=_utc(row.updated_at),
            ship_by=_utc_or_none(row.ship_by),
            shipped_at=_utc_or_none(row.shipped_at),
            release_by=_utc_or_none(row.release_by),
            finished_at=_utc_or_none(row.finished_at),
            tracking=row.tracking,
            hold_transfer_id=row.hold_transfer_id,
            hold_number=row.hold_number,
            hold_expires_at=_utc(row.hold_expires_at),
            refund=Money(row.refund_value, currency),
            seller_amount=Money(row.seller_value, currency),
            fee=Money(row.fee_value, currency),
            was_disputed=bool(row.was_disputed),
        )
        return order

    def add(self, order: Order) -> None:
        fastpath.rows(
            self.session,
            _statements()["add"],
            {
                "id": order.id,
                "buyer_id": order.buyer_id,
                "seller_id": order.seller_id,
                "listing_id": order.listing_id,
                "quantity": order.quantity,
                "currency": order.total.currency,
                "total_value": order.total.value,
                "quote": order.quote.to_json(),
                "state": order.state.value,
                "placed_at": order.placed_at,
                "updated_at": order.updated_at,
                "ship_by": order.ship_by,
                "shipped_at": order.shipped_at,
                "release_by": order.release_by,
                "finished_at": order.finished_at,
                "tracking": order.tracking,
                "hold_transfer_id": order.hold_transfer_id,
                "hold_number": order.hold_number,
                "hold_expires_at": order.hold_expires_at,
                "refund_value": order.refund.value,
                "seller_value": order.seller_amount.value,
                "fee_value": order.fee.value,
                "was_disputed": order.was_disputed,
            },
        )

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        query = _statements()["get_for_update" if for_update else "get"]
        found = fastpath.rows(self.session, query, {"order_id": order_id})
        return self._order(found[0]) if found else None

    def change(self, order_id: str, *, expected_state: OrderState, **values: Any) -> Order:
        """Update the order, asserting it is still in ``expected_state`` (we hold its lock);
        return it as stored now (``RETURNING``: no second read)."""
        if "state" in values and isinstance(values["state"], OrderState):
            values["state"] = values["state"].value
        columns = tuple(sorted(values))
        params = {f"new_{name}": values[name] for name in columns}
        rows = fastpath.rows(
            self.session,
            _change_statement(columns),
            {"of_order_id": order_id, "expected": expected_state.value, **params},
        )
        assert len(rows) == 1, "an order changes only from the state it was read in"
        return self._order(rows[0])

    def add_history(self, order_id: str, entry: HistoryEntry) -> None:
        fastpath.rows(
            self.session,
            _statements()["add_history"],
            {
                "order_id": order_id,
                "at": entry.at,
                "from_state": None if entry.from_state is None else entry.from_state.value,
                "to_state": entry.to_state.value,
                "action": entry.action,
                "actor": entry.actor,
                "reason": entry.reason,
            },
        )

    def history(self, order_id: str) -> list[HistoryEntry]:
        rows = fastpath.rows(self.session, _statements()["history"], {"order_id": order_id})
        return [
            HistoryEntry(
                at=_utc(r.at),
                from_state=None if r.from_state is None else OrderState(r.from_state),
                to_state=OrderState(r.to_state),
                action=r.action,
                actor=r.actor,
                reason=r.reason,
            )
            for r in rows
        ]

    def page(
        self,
        *,
        buyer_id: str | None = None,
        seller_id: str | None = None,
        state: OrderState | None = None,
        after: str | None,
        limit: int,
    ) -> list[Order]:
        """Orders by id; ``buyer_id`` and ``seller_id`` together mean either (the caller's)."""
        assert 1 <= limit <= PAGE_MAX
        query = select(orders)
        if buyer_id is not None and seller_id is not None:
            query = query.where(or_(orders.c.buyer_id == buyer_id, orders.c.seller_id == seller_id))
        elif buyer_id is not None:
            query = query.where(orders.c.buyer_id == buyer_id)
        elif seller_id is not None:
            query = query.where(orders.c.seller_id == seller_id)
        if state is not None:
            query = query.where(orders.c.state == state.value)
        if after is not None:
            query = query.where(orders.c.id > after)
        rows = self.session.execute(query.order_by(orders.c.id).limit(limit)).all()
        return [self._order(r) for r in rows]

    def due_ids(self, *, now: datetime, limit: int) -> list[str]:
        """Orders with a timeout due at ``now``: ship-by, release-by or hold expiry passed."""
        assert 1 <= limit <= 10_000
        query = (
            select(orders.c.id)
            .where(
                or_(
                    and_(orders.c.state == OrderState.FUNDED.value, orders.c.ship_by <= now),
                    and_(orders.c.state == OrderState.SHIPPED.value, orders.c.release_by <= now),
                    and_(
                        orders.c.state.in_(
                            [
                                OrderState.FUNDED.value,
                                OrderState.SHIPPED.value,
                                OrderState.DISPUTED.value,
                            ]
                        ),
                        orders.c.hold_expires_at <= now,
                    ),
                )
            )
            .order_by(orders.c.id)
            .limit(limit)
        )
        return [r.id for r in self.session.execute(query).all()]

    def released_without_loss(self, seller_id: str) -> int:
        """The seller's orders released to them with nothing refunded (what earns a bond back)."""
        released = [
            s.value for s in (OrderState.COMPLETED, OrderState.RESOLVED, OrderState.AUTO_RELEASED)
        ]
        query = select(func.count()).where(
            orders.c.seller_id == seller_id,
            orders.c.state.in_(released),
            orders.c.refund_value == 0,
        )
        return int(self.session.execute(query).scalar_one())

    def seller_outcomes(self, seller_id: str) -> tuple[int, int, int]:
        """(finished orders, of which disputed, of which refunded in part or whole)."""
        finished = [
            s.value
            for s in (
                OrderState.COMPLETED,
                OrderState.CANCELLED,
                OrderState.RESOLVED,
                OrderState.AUTO_RELEASED,
            )
        ]
        query = select(
            func.count(),
            func.coalesce(func.sum(case((orders.c.was_disputed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((orders.c.refund_value > 0, 1), else_=0)), 0),
        ).where(
            orders.c.seller_id == seller_id,
            orders.c.state.in_(finished),
            # A buyer's or timeout cancellation before shipping says nothing about the seller.
            or_(
                orders.c.state != OrderState.CANCELLED.value,
                orders.c.refund_value > 0,
                orders.c.was_disputed,
            ),
        )
        row = self.session.execute(query).one()
        return int(row[0]), int(row[1]), int(row[2])


class DisputeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _dispute(row: Row[Any]) -> Dispute:
        return Dispute(
            id=row.id,
            order_id=row.order_id,
            opened_by=row.opened_by,
            reason=row.reason,
            state=DisputeState(row.state),
            opened_at=_utc(row.opened_at),
            closed_at=_utc_or_none(row.closed_at),
            closed_by=row.closed_by,
            outcome=None if row.outcome is None else Outcome(row.outcome),
            refund=None if row.refund_value is None else Money(row.refund_value, row.currency),
            total=Money(row.total_value, row.currency),
        )

    def add(self, dispute: Dispute) -> None:
        self.session.execute(
            insert(disputes).values(
                id=dispute.id,
                order_id=dispute.order_id,
                opened_by=dispute.opened_by,
                reason=dispute.reason,
                state=dispute.state.value,
                opened_at=dispute.opened_at,
                total_value=dispute.total.value,
                currency=dispute.total.currency,
            )
        )

    def get(self, dispute_id: str) -> Dispute | None:
        row = self.session.execute(select(disputes).where(disputes.c.id == dispute_id)).first()
        return None if row is None else self._dispute(row)

    def open_for_order(self, order_id: str) -> Dispute | None:
        row = self.session.execute(
            select(disputes).where(
                disputes.c.order_id == order_id, disputes.c.state == DisputeState.OPEN.value
            )
        ).first()
        return None if row is None else self._dispute(row)

    def for_order(self, order_id: str) -> list[Dispute]:
        rows = self.session.execute(
            select(disputes).where(disputes.c.order_id == order_id).order_by(disputes.c.id)
        ).all()
        return [self._dispute(r) for r in rows]

    def close(
        self,
        dispute_id: str,
        *,
        at: datetime,
        by: str,
        outcome: Outcome,
        refund: Money | None,
    ) -> None:
        result: Any = self.session.execute(
            update(disputes)
            .where(disputes.c.id == dispute_id, disputes.c.state == DisputeState.OPEN.value)
            .values(
                state=DisputeState.CLOSED.value,
                closed_at=at,
                closed_by=by,
                outcome=outcome.value,
                refund_value=None if refund is None else refund.value,
            )
        )
        assert result.rowcount == 1, "a dispute closes once"

    def page(self, *, state: DisputeState | None, after: str | None, limit: int) -> list[Dispute]:
        assert 1 <= limit <= PAGE_MAX
        query = select(disputes)
        if state is not None:
            query = query.where(disputes.c.state == state.value)
        if after is not None:
            query = query.where(disputes.c.id > after)
        rows = self.session.execute(query.order_by(disputes.c.id).limit(limit)).all()
        return [self._dispute(r) for r in rows]

    def decided_by(self, moderator_id: str) -> list[Dispute]:
        rows = self.session.execute(
            select(disputes).where(
                disputes.c.closed_by == moderator_id,
                disputes.c.outcome == Outcome.MODERATOR_DECISION.value,
            )
        ).all()
        return [self._dispute(r) for r in rows]

    def add_message(self, *, dispute_id: str, author_id: str, body: str, at: datetime) -> None:
        self.session.execute(
            insert(dispute_messages).values(
                dispute_id=dispute_id, author_id=author_id, body=body, at=at
            )
        )

    def messages(self, dispute_id: str, *, limit: int) -> list[DisputeMessage]:
        rows = self.session.execute(
            select(dispute_messages)
            .where(dispute_messages.c.dispute_id == dispute_id)
            .order_by(dispute_messages.c.id)
            .limit(limit)
        ).all()
        return [DisputeMessage(author_id=r.author_id, body=r.body, at=_utc(r.at)) for r in rows]

    def message_count(self, dispute_id: str) -> int:
        return int(
            self.session.execute(
                select(func.count()).where(dispute_messages.c.dispute_id == dispute_id)
            ).scalar_one()
        )


class ReviewRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _review(row: Row[Any]) -> Review:
        return Review(
            id=row.id,
            order_id=row.order_id,
            author_id=row.author_id,
            subject_id=row.subject_id,
            role=ReviewerRole(row.role),
            ratings=Ratings(
                overall=row.overall,
                item_as_described=row.item_as_described,
                communication=row.communication,
                shipping_speed=row.shipping_speed,
            ),
            text=row.text,
            submitted_at=_utc(row.submitted_at),
            updated_at=_utc(row.updated_at),
            revealed_at=_utc_or_none(row.revealed_at),
            hidden=bool(row.hidden),
            reply=row.reply,
            replied_at=_utc_or_none(row.replied_at),
        )

    def add(self, review: Review) -> None:
        fastpath.rows(
            self.session,
            _statements()["add_review"],
            {
                "id": review.id,
                "order_id": review.order_id,
                "author_id": review.author_id,
                "subject_id": review.subject_id,
                "role": review.role.value,
                "overall": review.ratings.overall,
                "item_as_described": review.ratings.item_as_described,
                "communication": review.ratings.communication,
                "shipping_speed": review.ratings.shipping_speed,
                "text": review.text,
                "submitted_at": review.submitted_at,
                "updated_at": review.updated_at,
                "revealed_at": review.revealed_at,
                "hidden": review.hidden,
            },
        )

    def get(self, review_id: str, *, for_update: bool = False) -> Review | None:
        query = select(reviews).where(reviews.c.id == review_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else self._review(row)

    def for_order(self, order_id: str) -> list[Review]:
        rows = fastpath.rows(self.session, _statements()["order_reviews"], {"order_id": order_id})
        return [self._review(r) for r in rows]

    def change(self, review_id: str, **values: Any) -> None:
        self.session.execute(update(reviews).where(reviews.c.id == review_id).values(**values))

    def reveal_order(self, order_id: str, *, now: datetime) -> int:
        # RETURNING rather than rowcount: the fast path gives rows.
        revealed = fastpath.rows(
            self.session, _statements()["reveal_order"], {"of_order_id": order_id, "now": now}
        )
        return len(revealed)

    def unrevealed_order_ids(self, *, finished_before: datetime, limit: int) -> list[str]:
        """Orders with hidden reviews whose review window closed (finished before the cutoff)."""
        query = (
            select(reviews.c.order_id)
            .join(orders, orders.c.id == reviews.c.order_id)
            .where(reviews.c.revealed_at.is_(None), orders.c.finished_at <= finished_before)
            .distinct()
            .limit(limit)
        )
        return [r.order_id for r in self.session.execute(query).all()]

    def revealed_about(
        self, subject_id: str, *, role: ReviewerRole, after: str | None, limit: int
    ) -> list[Review]:
        assert 1 <= limit <= PAGE_MAX
        query = select(reviews).where(
            reviews.c.subject_id == subject_id,
            reviews.c.role == role.value,
            reviews.c.revealed_at.is_not(None),
            reviews.c.hidden.is_(False),
        )
        if after is not None:
            query = query.where(reviews.c.id > after)
        rows = self.session.execute(query.order_by(reviews.c.id).limit(limit)).all()
        return [self._review(r) for r in rows]

    def revealed_stars_about(self, subject_id: str) -> list[int]:
        rows = self.session.execute(
            select(reviews.c.overall).where(
                reviews.c.subject_id == subject_id,
                reviews.c.role == ReviewerRole.BUYER.value,
                reviews.c.revealed_at.is_not(None),
                reviews.c.hidden.is_(False),
            )
        ).all()
        return [int(r.overall) for r in rows]


class ModerationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reports -------------------------------------------------------------------------------
    @staticmethod
    def _report(row: Row[Any]) -> Report:
        return Report(
            id=row.id,
            reporter_id=row.reporter_id,
            target_kind=TargetKind(row.target_kind),
            target_id=row.target_id,
            reason=row.reason,
            state=ReportState(row.state),
            created_at=_utc(row.created_at),
            handled_at=_utc_or_none(row.handled_at),
            handled_by=row.handled_by,
            action_id=row.action_id,
        )

    def add_report(self, report: Report) -> None:
        self.session.execute(
            insert(reports).values(
                id=report.id,
                reporter_id=report.reporter_id,
                target_kind=report.target_kind.value,
                target_id=report.target_id,
                reason=report.reason,
                state=report.state.value,
                created_at=report.created_at,
            )
        )

    def get_report(self, report_id: str, *, for_update: bool = False) -> Report | None:
        query = select(reports).where(reports.c.id == report_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else self._report(row)

    def handle_report(
        self, report_id: str, *, state: ReportState, by: str, at: datetime, action_id: str
    ) -> None:
        self.session.execute(
            update(reports)
            .where(reports.c.id == report_id)
            .values(state=state.value, handled_by=by, handled_at=at, action_id=action_id)
        )

    def reports(self, *, state: ReportState | None, after: str | None, limit: int) -> list[Report]:
        assert 1 <= limit <= PAGE_MAX
        query = select(reports)
        if state is not None:
            query = query.where(reports.c.state == state.value)
        if after is not None:
            query = query.where(reports.c.id > after)
        rows = self.session.execute(query.order_by(reports.c.id).limit(limit)).all()
        return [self._report(r) for r in rows]

    # --- actions -------------------------------------------------------------------------------
    @staticmethod
    def _action(row: Row[Any]) -> ModerationAction:
        return ModerationAction(
            id=row.id,
            moderator_id=row.moderator_id,
            kind=ActionKind(row.kind),
            target_kind=None if row.target_kind is None else TargetKind(row.target_kind),
            target_id=row.target_id,
            affected_account_id=row.affected_account_id,
            report_id=row.report_id,
            reason=row.reason,
            at=_utc(row.at),
            reversed_at=_utc_or_none(row.reversed_at),
        )

    def add_action(self, action: ModerationAction) -> None:
        self.session.execute(
            insert(moderation_actions).values(
                id=action.id,
                moderator_id=action.moderator_id,
                kind=action.kind.value,
                target_kind=None if action.target_kind is None else action.target_kind.value,
                target_id=action.target_id,
                affected_account_id=action.affected_account_id,
                report_id=action.report_id,
                reason=action.reason,
                at=action.at,
            )
        )

    def get_action(self, action_id: str) -> ModerationAction | None:
        row = self.session.execute(
            select(moderation_actions).where(moderation_actions.c.id == action_id)
        ).first()
        return None if row is None else self._action(row)

    def mark_reversed(self, action_id: str, *, at: datetime) -> None:
        self.session.execute(
            update(moderation_actions)
            .where(moderation_actions.c.id == action_id)
            .values(reversed_at=at)
        )

    def actions(
        self, *, affected_account_id: str | None, after: str | None, limit: int
    ) -> list[ModerationAction]:
        assert 1 <= limit <= PAGE_MAX
        query = select(moderation_actions)
        if affected_account_id is not None:
            query = query.where(moderation_actions.c.affected_account_id == affected_account_id)
        if after is not None:
            query = query.where(moderation_actions.c.id > after)
        rows = self.session.execute(query.order_by(moderation_actions.c.id).limit(limit)).all()
        return [self._action(r) for r in rows]

    # --- appeals -------------------------------------------------------------------------------
    @staticmethod
    def _appeal(row: Row[Any]) -> Appeal:
        return Appeal(
            id=row.id,
            action_id=row.action_id,
            appellant_id=row.appellant_id,
            text=row.text,
            state=AppealState(row.state),
            created_at=_utc(row.created_at),
            decided_at=_utc_or_none(row.decided_at),
            decided_by=row.decided_by,
            decision_reason=row.decision_reason,
        )

    def add_appeal(self, appeal: Appeal) -> None:
        self.session.execute(
            insert(appeals).values(
                id=appeal.id,
                action_id=appeal.action_id,
                appellant_id=appeal.appellant_id,
                text=appeal.text,
                state=appeal.state.value,
                created_at=appeal.created_at,
            )
        )

    def appeal_for_action(self, action_id: str) -> Appeal | None:
        row = self.session.execute(select(appeals).where(appeals.c.action_id == action_id)).first()
        return None if row is None else self._appeal(row)

    def get_appeal(self, appeal_id: str, *, for_update: bool = False) -> Appeal | None:
        query = select(appeals).where(appeals.c.id == appeal_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return None if row is None else self._appeal(row)

    def decide_appeal(
        self, appeal_id: str, *, state: AppealState, by: str, at: datetime, reason: str
    ) -> None:
        self.session.execute(
            update(appeals)
            .where(appeals.c.id == appeal_id)
            .values(state=state.value, decided_by=by, decided_at=at, decision_reason=reason)
        )

    def appeals(self, *, state: AppealState | None, after: str | None, limit: int) -> list[Appeal]:
        assert 1 <= limit <= PAGE_MAX
        query = select(appeals)
        if state is not None:
            query = query.where(appeals.c.state == state.value)
        if after is not None:
            query = query.where(appeals.c.id > after)
        rows = self.session.execute(query.order_by(appeals.c.id).limit(limit)).all()
        return [self._appeal(r) for r in rows]


def ids_exist(session: Session, table: Any, ids: Sequence[str]) -> bool:
    """True when every id is a row of ``table`` (for checking report targets)."""
    found = session.execute(select(func.count()).where(table.c.id.in_(list(ids)))).scalar_one()
    return int(found) == len(set(ids))
