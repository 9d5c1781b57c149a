"""Dispute use cases: open, message, answer with a replacement, resolve, the moderator queue and
each moderator's record.

Owns: the dispute transactions. Imports: ``bonafide.market`` (rules), ``bonafide.store``
(repositories, unit of work) and ``bonafide.service.orders`` / ``ledger`` (the escrow moves, inside
the caller's unit of work).

While an order is disputed no timeout runs (neither auto-cancel nor auto-release); only the hold's
own expiry does, long after (``market.orders.hold_expiry``), and it returns the money to the buyer.
A replacement shipment renews the hold (void and re-hold in one linked batch) so the fresh release
window again ends well before the hold expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bonafide.errors import Conflict, Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.ledger.model import AccountKind, TransferKind, TransferSpec
from bonafide.market.accounts import Principal, Role
from bonafide.market.disputes import (
    MESSAGE_MAX,
    MESSAGES_MAX,
    REASON_MAX,
    Dispute,
    DisputeMessage,
    DisputeState,
    ModeratorRecord,
    Outcome,
    Resolution,
    check_moderator_not_party,
    check_text,
    moderator_record,
)
from bonafide.market.orders import Action, Order, Party, check_actor, hold_expiry
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.service.accounts import principal_of
from bonafide.service.orders import (
    OrderView,
    check_page,
    check_tracking,
    close_open_dispute,
    committed,
    escrow_account,
    hold_transfer_id,
    load_for_change,
    may_see_order,
    settle_in,
    transition,
    view_in,
)
from bonafide.settings import Settings
from bonafide.store.order_repo import DisputeRepository, OrderRepository
from bonafide.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class DisputeView:
    dispute: Dispute
    order: Order
    messages: tuple[DisputeMessage, ...]


def _not_found(dispute_id: str) -> NotFound:
    return NotFound("dispute_not_found", f"no dispute {dispute_id}")


def _load(uow: UnitOfWork, *, viewer: Principal, dispute_id: str) -> tuple[Dispute, Order]:
    dispute = uow.repo(DisputeRepository).get(dispute_id)
    if dispute is None:
        raise _not_found(dispute_id)
    order = uow.repo(OrderRepository).get(dispute.order_id)
    assert order is not None
    if not may_see_order(viewer=viewer, order=order):
        raise _not_found(dispute_id)
    return dispute, order


def _view(uow: UnitOfWork, *, dispute_id: str) -> DisputeView:
    repo = uow.repo(DisputeRepository)
    dispute = repo.get(dispute_id)
    assert dispute is not None
    order = uow.repo(OrderRepository).get(dispute.order_id)
    assert order is not None
    return DisputeView(
        dispute=dispute,
        order=order,
        messages=tuple(repo.messages(dispute_id, limit=MESSAGES_MAX)),
    )


def open_dispute(
    uow: UnitOfWork, *, actor: Principal, order_id: str, reason: str, now: datetime
) -> DisputeView:
    """The buyer disputes a funded or shipped order: ``disputed``; timeouts stop."""
    text = check_text(reason, field="reason", limit=REASON_MAX)
    with uow:
        order = load_for_change(uow, viewer=actor, order_id=order_id)
        check_actor(action=Action.DISPUTE, party=order.party_of(actor.id))
        transition(
            uow,
            order=order,
            action=Action.DISPUTE,
            actor=actor.id,
            reason=text,
            now=now,
            ship_by=None,
            release_by=None,
            was_disputed=True,
        )
        dispute_id = new_id("dsp", now=now)
        uow.repo(DisputeRepository).add(
            Dispute(
                id=dispute_id,
                order_id=order_id,
                opened_by=actor.id,
                reason=text,
                state=DisputeState.OPEN,
                opened_at=now,
                closed_at=None,
                closed_by=None,
                outcome=None,
                refund=None,
                total=order.total,
            )
        )
        view = _view(uow, dispute_id=dispute_id)
        uow.commit()
    return view


def get_dispute(uow: UnitOfWork, *, viewer: Principal, dispute_id: str) -> DisputeView:
    """A dispute with its messages, for the order's parties, moderators and operators."""
    with uow:
        _load(uow, viewer=viewer, dispute_id=dispute_id)
        return _view(uow, dispute_id=dispute_id)


def add_message(
    uow: UnitOfWork, *, actor: Principal, dispute_id: str, body: str, now: datetime
) -> DisputeView:
    """A party or a moderator writes on an open dispute."""
    text = check_text(body, field="body", limit=MESSAGE_MAX)
    with uow:
        dispute, order = _load(uow, viewer=actor, dispute_id=dispute_id)
        if order.party_of(actor.id) is None and not actor.has_role(Role.moderator):
            raise Forbidden("not_a_party", "only the parties and moderators write on a dispute")
        if dispute.state is not DisputeState.OPEN:
            raise Conflict("dispute_is_closed", "the dispute is closed")
        repo = uow.repo(DisputeRepository)
        if repo.message_count(dispute_id) >= MESSAGES_MAX:
            raise Rejected("dispute_messages_exhausted", f"at most {MESSAGES_MAX} messages")
        repo.add_message(dispute_id=dispute_id, author_id=actor.id, body=text, at=now)
        view = _view(uow, dispute_id=dispute_id)
        uow.commit()
    return view


def list_disputes(
    uow: UnitOfWork,
    *,
    viewer: Principal,
    state: DisputeState | None,
    after: str | None,
    limit: int,
) -> list[Dispute]:
    """The moderators' queue (oldest first by id), for moderators and operators."""
    if not viewer.has_any((Role.moderator, Role.operator)):
        raise Forbidden("role_required", "the dispute queue is for moderators")
    check_page(after=after, limit=limit)
    with uow:
        return uow.repo(DisputeRepository).page(state=state, after=after, limit=limit)


def _open_dispute_of(
    uow: UnitOfWork, *, viewer: Principal, dispute_id: str
) -> tuple[Dispute, Order]:
    dispute, _ = _load(uow, viewer=viewer, dispute_id=dispute_id)
    order = load_for_change(uow, viewer=viewer, order_id=dispute.order_id)
    dispute = uow.repo(DisputeRepository).get(dispute_id) or dispute  # re-read under the lock
    if dispute.state is not DisputeState.OPEN:
        raise Conflict("dispute_is_closed", "the dispute is closed")
    return dispute, order


def replace_shipment_in(
    uow: UnitOfWork,
    *,
    actor: Principal,
    dispute_id: str,
    tracking: str | None,
    settings: Settings,
    now: datetime,
) -> OrderView:
    """The seller answers with a replacement shipment: back to ``shipped``, fresh release window.

    The escrow hold is renewed in one linked batch (void, then a new pending of the same amount
    with a fresh expiry), so the new release deadline still falls well before the hold expires.
    """
    check_tracking(tracking)
    _, order = _open_dispute_of(uow, viewer=actor, dispute_id=dispute_id)
    check_actor(action=Action.REPLACE, party=order.party_of(actor.id))
    number = order.hold_number + 1
    renewed_id = hold_transfer_id(order.id, number=number)
    expires = hold_expiry(
        now=now, ship_window=settings.ship_window, release_window=settings.release_window
    )
    ledger.execute(
        uow,
        [
            TransferSpec(
                id=f"{order.id}:void:{order.hold_number}",
                debit_account_id=None,
                credit_account_id=None,
                amount=order.total,
                kind=TransferKind.VOID_PENDING,
                pending_id=order.hold_transfer_id,
                memo=f"order {order.id} hold renewed for a replacement",
                actor=actor.id,
            ),
            TransferSpec(
                id=renewed_id,
                debit_account_id=ledger.account_for(
                    uow,
                    kind=AccountKind.WALLET,
                    currency=order.total.currency,
                    owner_id=order.buyer_id,
                ),
                credit_account_id=escrow_account(uow, order=order),
                amount=order.total,
                kind=TransferKind.PENDING,
                expires_at=expires,
                memo=f"order {order.id} escrow hold (replacement)",
                actor=actor.id,
            ),
        ],
        now=now,
    )
    clean = tracking.strip() if tracking and tracking.strip() else None
    transition(
        uow,
        order=order,
        action=Action.REPLACE,
        actor=actor.id,
        reason="replacement shipped" + (f": {clean}" if clean else ""),
        now=now,
        shipped_at=now,
        release_by=now + settings.release_window,
        tracking=clean,
        hold_transfer_id=renewed_id,
        hold_number=number,
        hold_expires_at=expires,
    )
    close_open_dispute(
        uow, order_id=order.id, by=actor.id, outcome=Outcome.REPLACEMENT, refund=None, now=now
    )
    return view_in(uow, order_id=order.id)


def resolve_dispute_in(
    uow: UnitOfWork,
    *,
    actor: Principal,
    dispute_id: str,
    refund: Money,
    settings: Settings,
    now: datetime,
) -> OrderView:
    """A moderator who is not a party decides: ``refund`` (0 .. total) to the buyer, the rest to
    the seller minus the fee, in one linked ledger batch: ``resolved``."""
    if not actor.has_role(Role.moderator):
        raise Forbidden("role_required", "only moderators resolve disputes")
    _, order = _open_dispute_of(uow, viewer=actor, dispute_id=dispute_id)
    check_moderator_not_party(
        moderator_id=actor.id, buyer_id=order.buyer_id, seller_id=order.seller_id
    )
    check_actor(action=Action.RESOLVE, party=Party.MODERATOR)
    settle_in(
        uow,
        order=order,
        action=Action.RESOLVE,
        refund=refund,
        actor=actor.id,
        reason=f"resolved by a moderator: {refund} refunded",
        settings=settings,
        now=now,
    )
    close_open_dispute(
        uow,
        order_id=order.id,
        by=actor.id,
        outcome=Outcome.MODERATOR_DECISION,
        refund=refund,
        now=now,
    )
    return view_in(uow, order_id=order.id)


replace_shipment = committed(replace_shipment_in)
resolve_dispute = committed(resolve_dispute_in)


def get_moderator_record(
    uow: UnitOfWork, *, viewer: Principal, moderator_id: str
) -> ModeratorRecord:
    """Disputes a moderator resolved, the median time to resolve, the share refunded (operators)."""
    if not viewer.is_operator:
        raise Forbidden("role_required", "moderators' records are for operators")
    with uow:
        principal = principal_of(uow, moderator_id)
        if not principal.has_role(Role.moderator):
            raise NotFound("moderator_not_found", f"{moderator_id} is not a moderator")
        decided = uow.repo(DisputeRepository).decided_by(moderator_id)
    return moderator_record(
        [
            Resolution(
                opened_at=d.opened_at,
                resolved_at=d.closed_at,
                refund=d.refund,
                total=d.total,
            )
            for d in decided
            if d.closed_at is not None and d.refund is not None
        ]
    )
