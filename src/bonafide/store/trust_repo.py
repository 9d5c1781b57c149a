"""Read-side queries for trust & safety: the rating graph's edges, public handles, and the
account links and demo records kept in ``server_secrets``.

Owns: the bulk reads ``service.trust`` and ``service.demo`` need (whole-market scans that no
per-order repository offers) and two small record kinds stored as ``server_secrets`` rows until a
table of their own exists:

- ``fp:<account id>`` → ``<kind>:<salted sha256 hex>``: a device or payment fingerprint of the
  account, stored only as a salted hash (DESIGN.md §5). Accounts with equal values are linked.
- ``demo:<name>`` → text: marks a database seeded by ``bonafide demo`` and holds its demo logins.

Imports: SQLAlchemy, ``bonafide.store`` tables, ``bonafide.market``. Never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bonafide.market.accounts import AccountStatus, Principal, decode_roles
from bonafide.market.reviews import ReviewerRole
from bonafide.store.market_tables import accounts, server_secrets
from bonafide.store.order_tables import orders, reviews

FINGERPRINT_PREFIX = "fp:"
DEMO_PREFIX = "demo:"
EDGES_MAX = 5_000_000
"""The most reviews one scan reads; past it the engine must run on the batch path (DESIGN §9)."""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReviewEdge:
    """One review as the rating graph sees it."""

    review_id: str
    order_id: str
    author_id: str
    subject_id: str
    role: ReviewerRole
    overall: int
    submitted_at: datetime
    revealed: bool
    hidden: bool
    order_value: int


class TrustRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def review_count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(reviews)).scalar_one())

    def review_edges(self) -> list[ReviewEdge]:
        """Every review with its order's total, oldest first."""
        query = (
            select(
                reviews.c.id,
                reviews.c.order_id,
                reviews.c.author_id,
                reviews.c.subject_id,
                reviews.c.role,
                reviews.c.overall,
                reviews.c.submitted_at,
                reviews.c.revealed_at,
                reviews.c.hidden,
                orders.c.total_value,
            )
            .join(orders, orders.c.id == reviews.c.order_id)
            .order_by(reviews.c.submitted_at, reviews.c.id)
            .limit(EDGES_MAX)
        )
        return [
            ReviewEdge(
                review_id=r.id,
                order_id=r.order_id,
                author_id=r.author_id,
                subject_id=r.subject_id,
                role=ReviewerRole(r.role),
                overall=int(r.overall),
                submitted_at=_utc(r.submitted_at),
                revealed=r.revealed_at is not None,
                hidden=bool(r.hidden),
                order_value=int(r.total_value),
            )
            for r in self.session.execute(query).all()
        ]

    def principals(self, account_ids: Sequence[str]) -> dict[str, Principal]:
        """The named accounts (unknown ids are left out)."""
        found: dict[str, Principal] = {}
        ids = list(dict.fromkeys(account_ids))
        for start in range(0, len(ids), 500):
            rows = self.session.execute(
                select(accounts.c.id, accounts.c.handle, accounts.c.roles, accounts.c.status)
                .where(accounts.c.id.in_(ids[start : start + 500]))
            ).all()
            for r in rows:
                found[r.id] = Principal(
                    id=r.id, handle=r.handle, roles=decode_roles(r.roles),
                    status=AccountStatus(r.status),
                )
        return found

    def by_handle(self, handle: str) -> str | None:
        row = self.session.execute(select(accounts.c.id).where(accounts.c.handle == handle)).first()
        return None if row is None else str(row.id)

    # --- records kept in server_secrets -------------------------------------------------------

    def _with_prefix(self, prefix: str) -> dict[str, str]:
        rows = self.session.execute(
            select(server_secrets.c.name, server_secrets.c.value).where(
                server_secrets.c.name.startswith(prefix, autoescape=True)
            )
        ).all()
        return {str(r.name)[len(prefix) :]: str(r.value) for r in rows}

    def _put(self, name: str, value: str, *, now: datetime) -> None:
        assert len(name) <= 64 and len(value) <= 256, "server_secrets holds short rows"
        self.session.execute(
            insert(server_secrets).values(name=name, value=value, created_at=now)
        )

    def fingerprints(self) -> dict[str, str]:
        """Account id → its stored fingerprint hash."""
        return self._with_prefix(FINGERPRINT_PREFIX)

    def add_fingerprint(self, *, account_id: str, fingerprint_hash: str, now: datetime) -> None:
        self._put(FINGERPRINT_PREFIX + account_id, fingerprint_hash, now=now)

    def demo_records(self) -> dict[str, str]:
        return self._with_prefix(DEMO_PREFIX)

    def add_demo_record(self, name: str, value: str, *, now: datetime) -> None:
        self._put(DEMO_PREFIX + name, value, now=now)

