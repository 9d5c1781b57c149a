"""Due timeouts of the order flow, applied by ``bonafide serve``'s scheduler and ``bonafide tick``.

Owns: ``tick``, one pass over everything due at ``now``. Imports: ``bonafide.market``,
``bonafide.store`` and the order/ledger services.

Order of work in one pass (each order in its own transaction, so one failure does not hold up
the rest, and a crash half-way loses nothing: the next tick finds the same work still due):

1. orders past their deadlines: ``auto_cancel`` (not shipped within the ship window; the hold is
   voided, stock returned), ``auto_release`` (shipped, neither confirmed nor disputed within the
   release window; released to the seller minus the fee) and ``hold_expired`` (a dispute left
   open until the hold's expiry: the money returns to the buyer, never to the seller);
2. reviews whose review window has closed are revealed;
3. ``ledger.expire_pending`` sweeps any other expired hold back to its debit account;
4. idempotency keys older than ``BONAFIDE_IDEMPOTENCY_RETENTION`` are deleted
   (``idempotency.purge_expired``);
5. ``fraud.refresh_scores`` re-runs the fraud engine when new reviews were revealed (or another
   input changed) or its interval passed, storing scores and queueing flagged accounts. It runs
   last and in its own units of work: a failure there is logged and counted
   (``scoring_failed``), never stopping the timeouts above.

Timeouts run before the sweep, and every order deadline falls long before its hold's expiry
(``market.orders.hold_expiry``), so the sweep never decides an order's money.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bonafide.errors import BonafideError
from bonafide.ledger.model import TransferState
from bonafide.market.disputes import Outcome
from bonafide.market.orders import SYSTEM_ACTOR, Action, OrderState, due_action
from bonafide.money import Money
from bonafide.service import fraud, idempotency, ledger
from bonafide.service.orders import close_open_dispute, load_for_change, settle_in, void_in
from bonafide.settings import Settings
from bonafide.store.order_repo import OrderRepository, ReviewRepository
from bonafide.store.uow import UnitOfWork

BATCH_MAX = 1_000
"""The most orders (and orders' reviews) one tick handles; the rest wait for the next tick."""

COUNTERS = (
    "auto_cancelled",
    "auto_released",
    "holds_expired",
    "reviews_revealed",
    "ledger_holds_expired",
    "idempotency_keys_purged",
    "failed",
    "scores_refreshed",
    "fraud_reports_filed",
    "scoring_failed",
)

log = logging.getLogger(__name__)


def _apply_due(uow: UnitOfWork, *, order_id: str, settings: Settings, now: datetime) -> str | None:
    """Inside an open unit of work: apply the order's due action; the counter it adds to."""
    order = load_for_change(uow, viewer=None, order_id=order_id)
    action = due_action(
        state=order.state,
        deadlines=order.deadlines,
        hold_expires_at=order.hold_expires_at,
        now=now,
    )
    if action is None:
        return None  # someone else got there first
    hold = ledger.get_transfer(uow, order.hold_transfer_id)
    assert hold is not None, "an order's hold is in the ledger"
    hold_open = hold.state is TransferState.PENDING
    if not hold_open:
        # The ledger's sweep (or a late void elsewhere) already returned the hold to the buyer:
        # whatever was due, the order can only follow the money (DESIGN.md §3).
        assert hold.state in (TransferState.EXPIRED, TransferState.VOIDED), hold.state
        action = Action.HOLD_EXPIRED
    if action is Action.AUTO_CANCEL:
        void_in(
            uow,
            order=order,
            action=action,
            actor=SYSTEM_ACTOR,
            reason="not shipped within the ship window",
            now=now,
            return_stock=True,
        )
        return "auto_cancelled"
    if action is Action.AUTO_RELEASE:
        settle_in(
            uow,
            order=order,
            action=action,
            refund=Money.zero(order.total.currency),
            actor=SYSTEM_ACTOR,
            reason="neither confirmed nor disputed within the release window",
            settings=settings,
            now=now,
        )
        return "auto_released"
    if action is Action.HOLD_EXPIRED:
        disputed = order.state is OrderState.DISPUTED
        # A late void counts as the hold's expiry in the ledger; the buyer gets everything back.
        void_in(
            uow,
            order=order,
            action=action,
            actor=SYSTEM_ACTOR,
            reason="the escrow hold expired; the money returned to the buyer",
            now=now,
            return_stock=order.state is OrderState.FUNDED,
            hold_open=hold_open,
        )
        if disputed:
            close_open_dispute(
                uow,
                order_id=order.id,
                by=SYSTEM_ACTOR,
                outcome=Outcome.HOLD_EXPIRED,
                refund=order.total,
                now=now,
            )
        return "holds_expired"
    raise AssertionError(f"no automatic handling for {action}")


def tick(new_uow: Callable[[], UnitOfWork], *, settings: Settings, now: datetime) -> dict[str, int]:
    """Apply everything due at ``now`` once; return how many of each thing happened."""
    counts = dict.fromkeys(COUNTERS, 0)
    with new_uow() as uow:
        due = uow.repo(OrderRepository).due_ids(now=now, limit=BATCH_MAX)
    for order_id in due:
        uow = new_uow()
        try:
            with uow:
                counter = _apply_due(uow, order_id=order_id, settings=settings, now=now)
                uow.commit()
        except BonafideError:
            # An expected failure (say, the hold already swept) must not stop the others; the
            # order stays due and is reported by the next tick too.
            counts["failed"] += 1
            continue
        if counter is not None:
            counts[counter] += 1
    with new_uow() as uow:
        reviews = uow.repo(ReviewRepository)
        for order_id in reviews.unrevealed_order_ids(
            finished_before=now - settings.review_window, limit=BATCH_MAX
        ):
            counts["reviews_revealed"] += reviews.reveal_order(order_id, now=now)
        uow.commit()
    with new_uow() as uow:
        counts["ledger_holds_expired"] = ledger.expire_pending(uow, now=now)
        uow.commit()
    counts["idempotency_keys_purged"] = idempotency.purge_expired(
        new_uow, retention=settings.idempotency_retention, now=now
    )
    try:
        refreshed = fraud.refresh_scores(new_uow, settings=settings, now=now)
    except Exception:
        # Scoring is advisory: whatever breaks in it (a bug included) is logged with its trace
        # and retried next tick; the money-moving work above has already committed.
        log.exception("fraud engine refresh failed")
        counts["scoring_failed"] += 1
    else:
        counts["scores_refreshed"] = int(refreshed.ran)
        counts["fraud_reports_filed"] = refreshed.reports_filed
    return counts
