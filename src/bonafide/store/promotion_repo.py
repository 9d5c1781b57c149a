"""Repositories for the promotion tables: rows in, ``market.promotions`` objects out.

Owns: every SQL statement on promotions, their usage counters, quotes, order promotions and
loyalty-point lots. Imports: SQLAlchemy, ``bonafide.store``, the pure domain and
``bonafide.money``. Repositories never commit; the unit of work does.

Never oversold: ``reserve`` takes one use of an offer with a conditional UPDATE (``used = used +
1 WHERE used < cap``) and one of the buyer's uses the same way on a row keyed by (offer, buyer);
under concurrency the database serialises the updates on the row, and an update that finds the
cap reached changes nothing, which the caller turns into ``quote_changed``. RETURNING, not
rowcount, tells whether a row changed (through a Session PostgreSQL may report rowcount -1).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Executable, Row, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bonafide.market.promotions import (
    Funder,
    PointsLot,
    Promotion,
    PromotionKind,
    QuantityTier,
    Usage,
)
from bonafide.money import Money
from bonafide.store import fastpath
from bonafide.store.promotion_tables import (
    order_promotions,
    points_lot_uses,
    points_lots,
    promotion_buyer_uses,
    promotions,
    quotes,
)

IN_SCOPE_MAX = 200
"""Limit on the promotions one quote weighs (the most recent first)."""
RECENTLY_ENDED = timedelta(days=7)
"""Promotions that ended this recently still appear in quotes, explained as ended."""
LOTS_MAX = 10_000


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@cache
def _statements() -> dict[str, Executable]:
    """Statements of the order flow's hot path, built once and run with parameters
    (``store.fastpath``)."""
    earned = (
        select(func.coalesce(func.sum(points_lots.c.amount - points_lots.c.clawed_back), 0))
        .where(
            and_(
                points_lots.c.account_id == bindparam("account_id"),
                points_lots.c.earned_at >= bindparam("since"),
            )
        )
        .scalar_subquery()
    )
    has_row = exists().where(order_promotions.c.order_id == bindparam("order_id"))
    return {
        "add_order": insert(order_promotions),
        "add_lot": insert(points_lots),
        "order_and_earned": select(earned.label("earned"), has_row.label("has_row")),
    }


def _promotion(row: Row[Any]) -> Promotion:
    rule = row.rule or {}
    currency = row.currency
    return Promotion(
        id=row.id,
        kind=PromotionKind(row.kind),
        funder=Funder(row.funder),
        name=row.name,
        starts_at=_utc(row.starts_at),
        ends_at=None if row.ends_at is None else _utc(row.ends_at),
        seller_id=row.seller_id,
        listing_id=row.listing_id,
        basis_points=row.basis_points,
        amount_off=None if row.amount_off_value is None else Money(row.amount_off_value, currency),
        cap_total=row.cap_total,
        cap_per_buyer=row.cap_per_buyer,
        tiers=tuple(
            QuantityTier(t["quantity_min"], Money(t["unit_price"], currency))
            for t in rule.get("tiers", ())
        ),
        buy=rule.get("buy"),
        get=rule.get("get"),
        active=row.active,
    )


class PromotionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- promotions ------------------------------------------------------------------------
    def add(self, promo: Promotion, *, created_by: str, now: datetime) -> None:
        currency = None
        if promo.amount_off is not None:
            currency = promo.amount_off.currency
        elif promo.tiers:
            currency = promo.tiers[0].unit_price.currency
        rule: dict[str, Any] | None = None
        if promo.kind is PromotionKind.QUANTITY_TIERS:
            rule = {
                "tiers": [
                    {"quantity_min": t.quantity_min, "unit_price": t.unit_price.value}
                    for t in promo.tiers
                ]
            }
        elif promo.kind is PromotionKind.BUY_X_GET_Y:
            rule = {"buy": promo.buy, "get": promo.get}
        self.session.execute(
            insert(promotions).values(
                id=promo.id,
                kind=promo.kind.value,
                funder=promo.funder.value,
                created_by=created_by,
                seller_id=promo.seller_id,
                listing_id=promo.listing_id,
                name=promo.name,
                starts_at=promo.starts_at,
                ends_at=promo.ends_at,
                basis_points=promo.basis_points,
                currency=currency,
                amount_off_value=None if promo.amount_off is None else promo.amount_off.value,
                cap_total=promo.cap_total,
                cap_per_buyer=promo.cap_per_buyer,
                used=0,
                rule=rule,
                active=promo.active,
                created_at=now,
                updated_at=now,
            )
        )

    def get(self, promotion_id: str) -> tuple[Promotion, str, int] | None:
        """The promotion, who created it, and how often it has been used."""
        row = self.session.execute(
            select(promotions).where(promotions.c.id == promotion_id)
        ).first()
        return None if row is None else (_promotion(row), row.created_by, row.used)

    def set_active(self, promotion_id: str, *, active: bool, now: datetime) -> None:
        self.session.execute(
            update(promotions)
            .where(promotions.c.id == promotion_id)
            .values(active=active, updated_at=now)
        )

    def page(
        self, *, seller_id: str | None, after_id: str | None, limit: int
    ) -> list[tuple[Promotion, int]]:
        query = select(promotions)
        if seller_id is not None:
            query = query.where(promotions.c.seller_id == seller_id)
        if after_id is not None:
            query = query.where(promotions.c.id > after_id)
        rows = self.session.execute(query.order_by(promotions.c.id).limit(limit))
        return [(_promotion(row), row.used) for row in rows]

    def in_scope(self, *, seller_id: str, listing_id: str, now: datetime) -> list[Promotion]:
        """Promotions that may apply to the listing: its seller's or the operator's, not long
        ended. Most recently started first, at most ``IN_SCOPE_MAX``."""
        rows = self.session.execute(
            select(promotions)
            .where(
                and_(
                    or_(promotions.c.seller_id.is_(None), promotions.c.seller_id == seller_id),
                    or_(promotions.c.listing_id.is_(None), promotions.c.listing_id == listing_id),
                    or_(
                        promotions.c.ends_at.is_(None), promotions.c.ends_at > now - RECENTLY_ENDED
                    ),
                )
            )
            .order_by(promotions.c.starts_at.desc(), promotions.c.id)
            .limit(IN_SCOPE_MAX)
        )
        return [_promotion(row) for row in rows]

    def usage(self, promotion_ids: Sequence[str], *, buyer_id: str) -> dict[str, Usage]:
        if not promotion_ids:
            return {}
        totals: dict[str, int] = {
            row.id: row.used
            for row in self.session.execute(
                select(promotions.c.id, promotions.c.used).where(
                    promotions.c.id.in_(list(promotion_ids))
                )
            )
        }
        mine: dict[str, int] = {
            row.promotion_id: row.used
            for row in self.session.execute(
                select(promotion_buyer_uses.c.promotion_id, promotion_buyer_uses.c.used).where(
                    and_(
                        promotion_buyer_uses.c.promotion_id.in_(list(promotion_ids)),
                        promotion_buyer_uses.c.buyer_id == buyer_id,
                    )
                )
            )
        }
        return {pid: Usage(total=totals.get(pid, 0), by_buyer=mine.get(pid, 0)) for pid in totals}

    def reserve(self, promo: Promotion, *, buyer_id: str) -> bool:
        """Take one use of ``promo`` for ``buyer_id``; False if a cap is reached (nothing taken).

        The total first, then the buyer's row: every transaction locks in that order.
        """
        taken = self.session.execute(
            update(promotions)
            .where(
                and_(
                    promotions.c.id == promo.id,
                    or_(
                        promotions.c.cap_total.is_(None), promotions.c.used < promotions.c.cap_total
                    ),
                )
            )
            .values(used=promotions.c.used + 1)
            .returning(promotions.c.id)
        ).first()
        if taken is None:
            return False
        fastpath.insert_or_ignore(
            self.session,
            promotion_buyer_uses,
            {"promotion_id": promo.id, "buyer_id": buyer_id, "used": 0},
        )
        cap = promo.cap_per_buyer
        mine = self.session.execute(
            update(promotion_buyer_uses)
            .where(
                and_(
                    promotion_buyer_uses.c.promotion_id == promo.id,
                    promotion_buyer_uses.c.buyer_id == buyer_id,
                    promotion_buyer_uses.c.used < (cap if cap is not None else 2**31 - 1),
                )
            )
            .values(used=promotion_buyer_uses.c.used + 1)
            .returning(promotion_buyer_uses.c.buyer_id)
        ).first()
        return mine is not None

    # --- quotes ----------------------------------------------------------------------------
    def add_quote(self, **values: Any) -> None:
        self.session.execute(insert(quotes).values(**values))

    def quote(self, quote_id: str) -> Row[Any] | None:
        return self.session.execute(select(quotes).where(quotes.c.id == quote_id)).first()

    def claim_quote(self, quote_id: str, *, order_id: str) -> bool:
        """Mark the quote used by ``order_id``; False if another order used it first."""
        return (
            self.session.execute(
                update(quotes)
                .where(and_(quotes.c.id == quote_id, quotes.c.order_id.is_(None)))
                .values(order_id=order_id)
                .returning(quotes.c.id)
            ).first()
            is not None
        )

    # --- what an order used ----------------------------------------------------------------
    def add_order(self, **values: Any) -> None:
        fastpath.rows(self.session, _statements()["add_order"], values)

    def order(self, order_id: str, *, for_update: bool = False) -> Row[Any] | None:
        query = select(order_promotions).where(order_promotions.c.order_id == order_id)
        if for_update:
            query = query.with_for_update()
        return self.session.execute(query).first()

    def order_and_earned(
        self, order_id: str, *, account_id: str, since: datetime
    ) -> tuple[Row[Any] | None, int]:
        """The order's promotions row (locked, or None) and ``earned_since(account_id, since)``.

        Most orders have no promotions row (no promotion applied, no points spent), and settling
        one needs both answers: one statement asks for the points earned and whether the row
        exists, and only an order that has a row reads it again under its lock. A row cannot
        appear meanwhile: it is written at placement, or when the order settles, which the
        caller does holding the order's lock."""
        found = fastpath.rows(
            self.session,
            _statements()["order_and_earned"],
            {"order_id": order_id, "account_id": account_id, "since": since},
        )[0]
        row = self.order(order_id, for_update=True) if found[1] else None
        return row, int(found[0])

    def change_order(self, order_id: str, **values: Any) -> None:
        self.session.execute(
            update(order_promotions).where(order_promotions.c.order_id == order_id).values(**values)
        )

    # --- loyalty-point lots ----------------------------------------------------------------
    def lots(self, account_id: str, *, for_update: bool = False) -> list[PointsLot]:
        query = (
            select(points_lots)
            .where(and_(points_lots.c.account_id == account_id, points_lots.c.remaining > 0))
            .order_by(points_lots.c.earned_at, points_lots.c.id)
            .limit(LOTS_MAX)
        )
        if for_update:
            query = query.with_for_update()
        return [
            PointsLot(
                id=row.id,
                earned_at=_utc(row.earned_at),
                expires_at=_utc(row.expires_at),
                remaining=row.remaining,
            )
            for row in self.session.execute(query)
        ]

    def add_lot(
        self,
        *,
        lot_id: str,
        account_id: str,
        order_id: str | None,
        earned_at: datetime,
        expires_at: datetime,
        amount: int,
    ) -> None:
        fastpath.rows(
            self.session,
            _statements()["add_lot"],
            {
                "id": lot_id,
                "account_id": account_id,
                "order_id": order_id,
                "earned_at": earned_at,
                "expires_at": expires_at,
                "amount": amount,
                "remaining": amount,
                "clawed_back": 0,
            },
        )

    def lot_of_order(self, order_id: str) -> Row[Any] | None:
        return self.session.execute(
            select(points_lots).where(points_lots.c.order_id == order_id)
        ).first()

    def take_from_lot(self, lot_id: str, points: int) -> None:
        self.session.execute(
            update(points_lots)
            .where(points_lots.c.id == lot_id)
            .values(remaining=points_lots.c.remaining - points)
        )

    def give_back_to_lot(self, lot_id: str, points: int) -> None:
        self.session.execute(
            update(points_lots)
            .where(points_lots.c.id == lot_id)
            .values(remaining=points_lots.c.remaining + points)
        )

    def claw_back(self, lot_id: str, points: int) -> None:
        self.session.execute(
            update(points_lots)
            .where(points_lots.c.id == lot_id)
            .values(
                remaining=points_lots.c.remaining - points,
                clawed_back=points_lots.c.clawed_back + points,
            )
        )

    def add_use(self, *, order_id: str, lot_id: str, points: int) -> None:
        self.session.execute(
            insert(points_lot_uses).values(order_id=order_id, lot_id=lot_id, points=points)
        )

    def uses(self, order_id: str) -> list[tuple[str, int, datetime]]:
        """(lot, points, lot expiry) the order spent."""
        rows = self.session.execute(
            select(points_lot_uses.c.lot_id, points_lot_uses.c.points, points_lots.c.expires_at)
            .join(points_lots, points_lots.c.id == points_lot_uses.c.lot_id)
            .where(points_lot_uses.c.order_id == order_id)
            .order_by(points_lot_uses.c.lot_id)
        )
        return [(row.lot_id, row.points, _utc(row.expires_at)) for row in rows]

    def earned_since(self, account_id: str, *, since: datetime) -> int:
        """Points earned (net of clawbacks) at or after ``since``: what loyalty tiers count."""
        return int(
            self.session.execute(
                select(
                    func.coalesce(func.sum(points_lots.c.amount - points_lots.c.clawed_back), 0)
                ).where(
                    and_(points_lots.c.account_id == account_id, points_lots.c.earned_at >= since)
                )
            ).scalar_one()
        )
