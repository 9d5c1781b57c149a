"""A seller's customer-service figures and tier, as the profile, the auto-ack and reputation
use them.

Owns: gathering the records for ``market.service_figures`` and the seller's business hours.
Imports: ``bonafide.market``, ``bonafide.store`` and ``bonafide.service.accounts``.

- ``service_figures(uow, *, seller_id, now)`` opens its own (read-only) unit of work: the seam
  for ``service.reputation`` (DESIGN.md §4: reputation folds in customer-service figures).
- ``seller_service(uow, *, seller_id, now)`` is what ``GET /v1/sellers/{id}/service`` shows:
  figures, tier and heat map *as of the start of the current UTC day*, so the tier is recomputed
  once a day (the issue's "recomputed daily") and does not flicker with every message.
- ``figures_in`` / ``hours_in`` / ``typical_reply_in`` run inside a unit of work the caller opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bonafide.errors import NotFound
from bonafide.market.accounts import Role
from bonafide.market.hours import BusinessHours
from bonafide.market.service_figures import (
    WINDOW,
    ServiceFigures,
    ThreadRecord,
    Tier,
    compute_figures,
    service_tier,
)
from bonafide.service.accounts import principal_of
from bonafide.store.support_repo import ServiceRecordsRepository, SupportRepository
from bonafide.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class SellerService:
    seller_id: str
    as_of: datetime
    hours: BusinessHours
    hours_set: bool
    figures: ServiceFigures
    tier: Tier


def check_seller(uow: UnitOfWork, seller_id: str) -> None:
    """``NotFound(seller_not_found)`` unless ``seller_id`` is an account with the seller role."""
    try:
        seller = principal_of(uow, seller_id)
    except NotFound:
        seller = None
    if seller is None or not seller.has_role(Role.seller):
        raise NotFound("seller_not_found", f"no seller {seller_id}")


def hours_in(uow: UnitOfWork, *, seller_id: str) -> tuple[BusinessHours, bool]:
    """The seller's hours, and whether they set them (unset reads as always open, in UTC)."""
    found = uow.repo(SupportRepository).hours(seller_id)
    return (found, True) if found is not None else (BusinessHours.around_the_clock(), False)


def figures_in(uow: UnitOfWork, *, seller_id: str, now: datetime) -> ServiceFigures:
    """Inside an open unit of work: every figure of ``market.service_figures`` as of ``now``."""
    since = now - WINDOW
    hours, _ = hours_in(uow, seller_id=seller_id)
    support = uow.repo(SupportRepository)
    records = uow.repo(ServiceRecordsRepository)
    threads = support.seller_threads_since(seller_id=seller_id, since=since)
    messages = support.messages_of([t.id for t in threads])
    return compute_figures(
        threads=[ThreadRecord(thread=t, messages=messages[t.id]) for t in threads],
        disputes=records.disputes(seller_id=seller_id, since=since),
        orders=records.orders_placed(seller_id=seller_id, since=since),
        hours=hours,
        now=now,
    )


def typical_reply_in(uow: UnitOfWork, *, seller_id: str, now: datetime) -> timedelta | None:
    """The seller's median first response in business hours, or None without history."""
    median = figures_in(uow, seller_id=seller_id, now=now).first_response_business.median_seconds
    return None if median is None else timedelta(seconds=median)


def service_figures(uow: UnitOfWork, *, seller_id: str, now: datetime) -> ServiceFigures:
    """The seller's figures as of ``now`` (the seam for reputation; opens its unit of work)."""
    with uow:
        check_seller(uow, seller_id)
        return figures_in(uow, seller_id=seller_id, now=now)


def start_of_day(now: datetime) -> datetime:
    utc = now.astimezone(UTC)
    return datetime.combine(utc.date(), time(0, 0), tzinfo=UTC)


def seller_service(uow: UnitOfWork, *, seller_id: str, now: datetime) -> SellerService:
    """Figures, tier and hours for the seller's profile, as of the start of today (UTC)."""
    as_of = start_of_day(now)
    with uow:
        check_seller(uow, seller_id)
        hours, hours_set = hours_in(uow, seller_id=seller_id)
        figures = figures_in(uow, seller_id=seller_id, now=as_of)
    return SellerService(
        seller_id=seller_id,
        as_of=as_of,
        hours=hours,
        hours_set=hours_set,
        figures=figures,
        tier=service_tier(figures),
    )
