"""The order state machine: one table of allowed transitions, who may trigger each, and timeouts.

Owns: order states (an API contract, DESIGN.md §3), actions, the transition table, the parties
allowed to take each action, the due-timeout rule and the escrow hold expiry rule. Imports:
the standard library, ``bonafide.errors`` and ``bonafide.money``. Pure: time is passed in.

States and the actions between them::

    funded ──ship──▶ shipped ──confirm──▶ completed
      │  ╲             │   ╲──auto_release──▶ auto-released
      │   ╲dispute     │dispute
      │    ▼           ▼
      │   disputed ◀───┘ ──resolve / refund──▶ resolved
      │      └──replace──▶ shipped  (satisfaction guarantee: a fresh release window)
      └──cancel / auto_cancel / refund_full──▶ cancelled

A seller's full refund before release voids the hold (``cancelled``); a partial one settles the
order (``completed``, with the refunded amount recorded). Either refund inside a dispute settles it
(``resolved``). ``hold_expired`` is the safety net of DESIGN.md §3: a hold that outlives every
deadline (a dispute nobody resolved) returns to the buyer, never to the seller.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.quotes import Quote
from bonafide.money import Money, Rounding, percent_of


class OrderState(enum.StrEnum):
    FUNDED = "funded"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"
    RESOLVED = "resolved"
    AUTO_RELEASED = "auto-released"


class Action(enum.StrEnum):
    SHIP = "ship"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    REFUND_FULL = "refund_full"
    REFUND_PARTIAL = "refund_partial"
    DISPUTE = "dispute"
    REPLACE = "replace"
    RESOLVE = "resolve"
    AUTO_CANCEL = "auto_cancel"
    AUTO_RELEASE = "auto_release"
    HOLD_EXPIRED = "hold_expired"


class Party(enum.StrEnum):
    """How the actor stands to an order (the service decides; the table says who may act)."""

    BUYER = "buyer"
    SELLER = "seller"
    MODERATOR = "moderator"
    SYSTEM = "system"


S, A = OrderState, Action

TRANSITIONS: Mapping[tuple[OrderState, Action], OrderState] = {
    (S.FUNDED, A.SHIP): S.SHIPPED,
    (S.FUNDED, A.CANCEL): S.CANCELLED,
    (S.FUNDED, A.AUTO_CANCEL): S.CANCELLED,
    (S.FUNDED, A.REFUND_FULL): S.CANCELLED,
    (S.FUNDED, A.REFUND_PARTIAL): S.COMPLETED,
    (S.FUNDED, A.DISPUTE): S.DISPUTED,
    (S.FUNDED, A.HOLD_EXPIRED): S.CANCELLED,
    (S.SHIPPED, A.CONFIRM): S.COMPLETED,
    (S.SHIPPED, A.AUTO_RELEASE): S.AUTO_RELEASED,
    (S.SHIPPED, A.REFUND_FULL): S.CANCELLED,
    (S.SHIPPED, A.REFUND_PARTIAL): S.COMPLETED,
    (S.SHIPPED, A.DISPUTE): S.DISPUTED,
    (S.SHIPPED, A.HOLD_EXPIRED): S.RESOLVED,
    (S.DISPUTED, A.REPLACE): S.SHIPPED,
    (S.DISPUTED, A.RESOLVE): S.RESOLVED,
    (S.DISPUTED, A.REFUND_FULL): S.RESOLVED,
    (S.DISPUTED, A.REFUND_PARTIAL): S.RESOLVED,
    (S.DISPUTED, A.HOLD_EXPIRED): S.RESOLVED,
}
"""Every allowed (state, action) pair and the state it leads to; anything else is refused."""

ACTORS: Mapping[Action, frozenset[Party]] = {
    A.SHIP: frozenset({Party.SELLER}),
    A.CONFIRM: frozenset({Party.BUYER}),
    A.CANCEL: frozenset({Party.BUYER, Party.SELLER}),
    A.REFUND_FULL: frozenset({Party.SELLER}),
    A.REFUND_PARTIAL: frozenset({Party.SELLER}),
    A.DISPUTE: frozenset({Party.BUYER}),
    A.REPLACE: frozenset({Party.SELLER}),
    A.RESOLVE: frozenset({Party.MODERATOR}),
    A.AUTO_CANCEL: frozenset({Party.SYSTEM}),
    A.AUTO_RELEASE: frozenset({Party.SYSTEM}),
    A.HOLD_EXPIRED: frozenset({Party.SYSTEM}),
}
"""Who may take each action."""

FINISHED_STATES = frozenset({S.COMPLETED, S.CANCELLED, S.RESOLVED, S.AUTO_RELEASED})
"""States with no way out: the escrow hold has been posted or voided."""

RELEASED_STATES = frozenset({S.COMPLETED, S.RESOLVED, S.AUTO_RELEASED})
"""Finished states in which the buyer received goods and (some) money reached the seller."""

FEE_ROUNDING = Rounding.REMAINDER_TO_FIRST
"""The market fee is rounded down; the odd minor unit stays with the seller (listed first)."""


def check_printable(text: str, *, field: str) -> str:
    """Refuse control characters (NUL above all) in free text; newlines and tabs are fine."""
    if any((ord(ch) < 32 and ch not in "\n\t\r") or ord(ch) == 127 for ch in text):
        raise Rejected(f"{field}_has_control_characters", f"{field} has control characters")
    return text


def next_state(*, state: OrderState, action: Action) -> OrderState:
    """The state ``action`` leads to from ``state``, or ``Conflict(order_not_in_state)``."""
    found = TRANSITIONS.get((state, action))
    if found is None:
        allowed = sorted(s.value for (s, a) in TRANSITIONS if a is action)
        raise Conflict(
            "order_not_in_state",
            f"the order is {state.value}; {action.value} needs one of: {', '.join(allowed)}",
        )
    return found


def check_actor(*, action: Action, party: Party | None) -> None:
    """Refuse ``action`` unless ``party`` is one of those who may take it."""
    if party is None:
        raise Forbidden("not_a_party", "only the parties to an order may act on it")
    if party not in ACTORS[action]:
        who = " or ".join(sorted(p.value for p in ACTORS[action]))
        raise Forbidden(
            "action_is_for_another_party",
            f"only the {who} may {action.value.replace('_', ' ')} an order",
        )


def hold_expiry(*, now: datetime, ship_window: timedelta, release_window: timedelta) -> datetime:
    """When an escrow hold placed (or renewed) at ``now`` expires back to the buyer.

    Twice the longest the flow can need (ship, then release) after ``now``: every automatic
    transition falls due long before, so the scheduler posts or voids first even after an outage
    as long as the outage is shorter than one full ship-plus-release cycle. Only an order stuck in
    a dispute can reach it, and then the money goes back to the buyer (DESIGN.md §3).
    """
    return now + 2 * (ship_window + release_window)


@dataclass(frozen=True, slots=True)
class Order:
    """An order as stored: parties, what was bought, where it stands and how it settled."""

    id: str
    buyer_id: str
    seller_id: str
    listing_id: str
    quantity: int
    quote: Quote
    state: OrderState
    placed_at: datetime
    updated_at: datetime
    ship_by: datetime | None
    shipped_at: datetime | None
    release_by: datetime | None
    finished_at: datetime | None
    tracking: str | None
    hold_transfer_id: str
    hold_number: int
    hold_expires_at: datetime
    refund: Money
    seller_amount: Money
    fee: Money
    was_disputed: bool

    @property
    def total(self) -> Money:
        return self.quote.total

    @property
    def deadlines(self) -> Deadlines:
        return Deadlines(ship_by=self.ship_by, release_by=self.release_by)

    def party_of(self, account_id: str) -> Party | None:
        """The buyer or the seller, or ``None`` for anyone else."""
        if account_id == self.buyer_id:
            return Party.BUYER
        if account_id == self.seller_id:
            return Party.SELLER
        return None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One transition of an order: who did what, when and why."""

    at: datetime
    from_state: OrderState | None
    to_state: OrderState
    action: str
    actor: str
    reason: str


SYSTEM_ACTOR = "system"
"""The actor recorded for the scheduler's automatic transitions."""

TRACKING_MAX = 500
"""The longest tracking text a seller may give when shipping, in characters."""

REASON_MAX = 2_000
"""The longest reason recorded with a transition, in characters."""


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The order's automatic deadlines; ``None`` where none runs in the current state."""

    ship_by: datetime | None
    release_by: datetime | None


def due_action(
    *, state: OrderState, deadlines: Deadlines, hold_expires_at: datetime, now: datetime
) -> Action | None:
    """The automatic action due at ``now``, if any (timeouts before hold expiry)."""
    if state is S.FUNDED and deadlines.ship_by is not None and now >= deadlines.ship_by:
        return A.AUTO_CANCEL
    if state is S.SHIPPED and deadlines.release_by is not None and now >= deadlines.release_by:
        return A.AUTO_RELEASE
    if state not in FINISHED_STATES and now >= hold_expires_at:
        return A.HOLD_EXPIRED
    return None


@dataclass(frozen=True, slots=True)
class Settlement:
    """How an order's escrowed total is divided when it settles: the parts add up to the total."""

    total: Money
    refund: Money
    seller: Money
    fee: Money

    def __post_init__(self) -> None:
        assert self.refund + self.seller + self.fee == self.total, "a settlement must balance"
        assert min(self.refund.value, self.seller.value, self.fee.value) >= 0

    @property
    def posted(self) -> Money:
        """What leaves the buyer for good: the total minus the refund."""
        return self.seller + self.fee


def check_refund(*, refund: Money, total: Money) -> None:
    """A refund is between nothing and the order's total, in its currency."""
    if refund.currency != total.currency:
        raise Rejected("currencies_must_match", f"the order is in {total.currency}")
    if refund.value < 0:
        raise Rejected("refund_must_not_be_negative", f"{refund} is below zero")
    if refund > total:
        raise Rejected("refund_exceeds_order_total", f"{refund} is more than the total {total}")


def settle(*, total: Money, refund: Money, fee_basis_points: int) -> Settlement:
    """Split ``total`` into the buyer's refund, the market fee and the seller's share.

    The fee is charged only on what the seller keeps (``total - refund``), rounded down.

    >>> s = settle(total=Money(1999, "EUR"), refund=Money(0, "EUR"), fee_basis_points=500)
    >>> (s.seller.value, s.fee.value, s.refund.value)
    (1900, 99, 0)
    """
    check_refund(refund=refund, total=total)
    posted = total - refund
    fee = percent_of(posted, basis_points=fee_basis_points, rounding=FEE_ROUNDING)
    return Settlement(total=total, refund=refund, seller=posted - fee, fee=fee)
