"""Seller reputation as the API serves it: today the transparent baseline of
``market.reputation_baseline``; the fraud engine (DESIGN.md §5) replaces the internals here.

Owns: ``seller_reputation``, the seam. Imports: ``bonafide.market``, ``bonafide.store``,
``bonafide.service.accounts``.
"""

from __future__ import annotations

from datetime import datetime

from bonafide.errors import NotFound
from bonafide.market.accounts import Role
from bonafide.market.reputation_baseline import BaselineReputation, baseline_reputation
from bonafide.service.accounts import principal_of
from bonafide.store.order_repo import OrderRepository, ReviewRepository
from bonafide.store.uow import UnitOfWork


def seller_reputation(uow: UnitOfWork, *, seller_id: str, now: datetime) -> BaselineReputation:
    """The seller's score with its breakdown, from verified reviews and order outcomes.

    ``now`` is unused by the baseline (it does not decay evidence yet); the fraud engine will.
    """
    del now
    with uow:
        try:
            seller = principal_of(uow, seller_id)
        except NotFound:
            seller = None
        if seller is None or not seller.has_role(Role.seller):
            raise NotFound("seller_not_found", f"no seller {seller_id}")
        stars = uow.repo(ReviewRepository).revealed_stars_about(seller_id)
        finished, disputed, refunded = uow.repo(OrderRepository).seller_outcomes(seller_id)
    return baseline_reputation(
        stars=stars,
        orders_finished=finished,
        orders_disputed=disputed,
        orders_refunded=refunded,
    )
