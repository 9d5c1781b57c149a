"""Disputes: a buyer's complaint about an order, its messages, how it ends, moderators' records.

Owns: dispute states and outcomes, text limits, the rule that a moderator who is a party cannot
resolve, and the moderator record (disputes resolved, median time to resolve, share refunded).
Imports: the standard library, ``bonafide.errors``, ``bonafide.money``. Pure.

The order's own state machine (``market.orders``) decides whether a dispute may open or end; this
module adds what is particular to disputes.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bonafide.errors import Forbidden, Rejected
from bonafide.market.orders import check_printable
from bonafide.money import Money

REASON_MAX = 2_000
"""The longest reason a buyer may give when opening a dispute, in characters."""

MESSAGE_MAX = 5_000
"""The longest message on a dispute, in characters."""

MESSAGES_MAX = 500
"""The most messages one dispute may hold; past it the parties should wait for a moderator."""


class DisputeState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Outcome(enum.StrEnum):
    """How a dispute ended."""

    SELLER_REFUND = "seller_refund"
    REPLACEMENT = "replacement"
    MODERATOR_DECISION = "moderator_decision"
    HOLD_EXPIRED = "hold_expired"


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    order_id: str
    opened_by: str
    reason: str
    state: DisputeState
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    outcome: Outcome | None
    refund: Money | None
    total: Money


@dataclass(frozen=True, slots=True)
class DisputeMessage:
    author_id: str
    body: str
    at: datetime


def check_text(text: object, *, field: str, limit: int) -> str:
    """Return ``text`` stripped if it is a non-empty string of at most ``limit`` characters."""
    if not isinstance(text, str):
        raise Rejected(f"{field}_must_be_text", f"{field} must be a string")
    stripped = text.strip()
    if not stripped:
        raise Rejected(f"{field}_must_not_be_empty", f"give a {field}")
    if len(stripped) > limit:
        raise Rejected(
            f"{field}_too_long", f"{field} is {len(stripped)} characters; at most {limit}"
        )
    return check_printable(stripped, field=field)


def check_moderator_not_party(*, moderator_id: str, buyer_id: str, seller_id: str) -> None:
    """A moderator may not decide a dispute about their own order."""
    if moderator_id in (buyer_id, seller_id):
        raise Forbidden("moderator_is_a_party", "a moderator cannot resolve their own order")


@dataclass(frozen=True, slots=True)
class Resolution:
    """One dispute a moderator decided: when it opened and closed, the refund and the total."""

    opened_at: datetime
    resolved_at: datetime
    refund: Money
    total: Money


@dataclass(frozen=True, slots=True)
class ModeratorRecord:
    disputes_resolved: int
    median_seconds_to_resolve: float | None
    share_refunded: float | None
    """Mean over disputes of refund / total: 0 always sided with sellers, 1 always with buyers."""


def moderator_record(resolutions: Sequence[Resolution]) -> ModeratorRecord:
    """Summarise a moderator's decisions.

    >>> from datetime import UTC, timedelta
    >>> t = datetime(2026, 1, 1, tzinfo=UTC)
    >>> r = [Resolution(t, t + timedelta(hours=h), Money(v, "EUR"), Money(100, "EUR"))
    ...      for h, v in [(1, 0), (3, 100), (2, 50)]]
    >>> moderator_record(r)
    ModeratorRecord(disputes_resolved=3, median_seconds_to_resolve=7200.0, share_refunded=0.5)
    """
    if not resolutions:
        return ModeratorRecord(0, None, None)
    seconds = [(r.resolved_at - r.opened_at).total_seconds() for r in resolutions]
    shares = [r.refund.value / r.total.value for r in resolutions]
    return ModeratorRecord(
        disputes_resolved=len(resolutions),
        median_seconds_to_resolve=float(statistics.median(seconds)),
        share_refunded=statistics.fmean(shares),
    )
