"""Reports and enforcement: anyone reports, moderators act (each action logged with its reason),
the affected account appeals once, another moderator decides the appeal.

Owns: the moderation transactions. Imports: ``bonafide.market`` (rules), ``bonafide.store``
(repositories, unit of work), ``bonafide.service.accounts`` / ``listings`` (account status and
listing visibility belong to the platform; these building blocks change them inside our unit of
work).

A suspension only stops new activity (listing, ordering, reviewing): the account's open orders
run on and resolve normally, because the order transitions check the order's parties, not
their status.
"""

from __future__ import annotations

from datetime import datetime

from bonafide.errors import Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.market.accounts import AccountStatus, Principal, Role
from bonafide.market.disputes import check_text
from bonafide.market.moderation import (
    ACTION_TARGETS,
    APPEAL_TEXT_MAX,
    REASON_MAX,
    ActionKind,
    Appeal,
    AppealState,
    ModerationAction,
    Report,
    ReportState,
    TargetKind,
    check_action_target,
    check_appeal_open,
    check_decider_independent,
    check_may_appeal,
    check_report_open,
)
from bonafide.service.accounts import principal_of, set_account_status
from bonafide.service.listings import get_listing, set_listing_hidden
from bonafide.service.orders import check_page
from bonafide.store.order_repo import ModerationRepository, ReviewRepository
from bonafide.store.uow import UnitOfWork


def _require_moderator(viewer: Principal) -> None:
    if not viewer.has_role(Role.moderator):
        raise Forbidden("role_required", "only moderators do this")


def _check_page(after: str | None, limit: int) -> None:
    check_page(after=after, limit=limit)


def _owner_of(uow: UnitOfWork, *, kind: TargetKind, target_id: str) -> str:
    """The account a target belongs to (NotFound when there is no such target)."""
    if kind is TargetKind.LISTING:
        return get_listing(uow, target_id).seller_id
    if kind is TargetKind.REVIEW:
        review = uow.repo(ReviewRepository).get(target_id)
        if review is None:
            raise NotFound("review_not_found", f"no review {target_id}")
        return review.author_id
    return principal_of(uow, target_id).id


def file_report(
    uow: UnitOfWork,
    *,
    reporter: Principal,
    target_kind: TargetKind,
    target_id: str,
    reason: str,
    now: datetime,
) -> Report:
    """Any account reports a listing, a review or an account, with a reason."""
    text = check_text(reason, field="reason", limit=REASON_MAX)
    report = Report(
        id=new_id("rpt", now=now),
        reporter_id=reporter.id,
        target_kind=target_kind,
        target_id=target_id,
        reason=text,
        state=ReportState.OPEN,
        created_at=now,
        handled_at=None,
        handled_by=None,
        action_id=None,
    )
    with uow:
        _owner_of(uow, kind=target_kind, target_id=target_id)
        uow.repo(ModerationRepository).add_report(report)
        uow.commit()
    return report


def list_reports(
    uow: UnitOfWork, *, viewer: Principal, state: ReportState | None, after: str | None, limit: int
) -> list[Report]:
    """The moderators' queue of reports."""
    _require_moderator(viewer)
    _check_page(after, limit)
    with uow:
        return uow.repo(ModerationRepository).reports(state=state, after=after, limit=limit)


def _enforce(
    uow: UnitOfWork, *, kind: ActionKind, target_id: str, undo: bool, now: datetime
) -> None:
    """Carry out (or undo) the effect of an action on its target."""
    if kind is ActionKind.HIDE_LISTING:
        set_listing_hidden(uow, listing_id=target_id, hidden=not undo, now=now)
    elif kind is ActionKind.HIDE_REVIEW:
        uow.repo(ReviewRepository).change(target_id, hidden=not undo)
    elif kind is ActionKind.SUSPEND_ACCOUNT:
        status = AccountStatus.active if undo else AccountStatus.suspended
        set_account_status(uow, account_id=target_id, status=status)


def take_action(
    uow: UnitOfWork,
    *,
    moderator: Principal,
    kind: ActionKind,
    reason: str,
    report_id: str | None,
    target_kind: TargetKind | None,
    target_id: str | None,
    now: datetime,
) -> ModerationAction:
    """A moderator hides a listing or review, suspends an account, or dismisses a report.

    With ``report_id`` the target is the report's (and the report is closed by this action);
    without, ``target_kind`` and ``target_id`` name it. A moderator cannot act on their own things.
    """
    _require_moderator(moderator)
    text = check_text(reason, field="reason", limit=REASON_MAX)
    with uow:
        repo = uow.repo(ModerationRepository)
        report = None
        if report_id is not None:
            report = repo.get_report(report_id, for_update=True)
            if report is None:
                raise NotFound("report_not_found", f"no report {report_id}")
            check_report_open(state=report.state)
            if target_id is not None and (target_id, target_kind) != (
                report.target_id,
                report.target_kind,
            ):
                raise Rejected("target_differs_from_report", "act on the reported target")
            target_kind, target_id = report.target_kind, report.target_id
        elif kind is ActionKind.DISMISS_REPORT:
            raise Rejected("report_id_required", "dismissing works on a report")
        if ACTION_TARGETS[kind] is None:
            affected = None
        else:
            check_action_target(action=kind, target_kind=target_kind)
            if target_id is None or target_kind is None:
                raise Rejected("target_required", f"{kind.value} needs a target")
            affected = _owner_of(uow, kind=target_kind, target_id=target_id)
            if affected == moderator.id:
                raise Forbidden("moderator_is_a_party", "a moderator cannot act on their own")
            _enforce(uow, kind=kind, target_id=target_id, undo=False, now=now)
        action = ModerationAction(
            id=new_id("act", now=now),
            moderator_id=moderator.id,
            kind=kind,
            target_kind=target_kind,
            target_id=target_id,
            affected_account_id=affected,
            report_id=report_id,
            reason=text,
            at=now,
            reversed_at=None,
        )
        repo.add_action(action)
        if report is not None:
            state = ReportState.DISMISSED if affected is None else ReportState.ACTIONED
            repo.handle_report(report.id, state=state, by=moderator.id, at=now, action_id=action.id)
        uow.commit()
    return action


def list_actions(
    uow: UnitOfWork, *, viewer: Principal, after: str | None, limit: int
) -> list[ModerationAction]:
    """The moderation log: all of it for staff; the actions that affected them for others."""
    _check_page(after, limit)
    staff = viewer.has_any((Role.moderator, Role.operator))
    with uow:
        return uow.repo(ModerationRepository).actions(
            affected_account_id=None if staff else viewer.id, after=after, limit=limit
        )


def file_appeal(
    uow: UnitOfWork, *, appellant: Principal, action_id: str, text: str, now: datetime
) -> Appeal:
    """The affected account appeals an action, once."""
    body = check_text(text, field="text", limit=APPEAL_TEXT_MAX)
    with uow:
        repo = uow.repo(ModerationRepository)
        action = repo.get_action(action_id)
        if action is None:
            raise NotFound("action_not_found", f"no moderation action {action_id}")
        check_may_appeal(
            appellant_id=appellant.id,
            affected_account_id=action.affected_account_id,
            already_appealed=repo.appeal_for_action(action_id) is not None,
        )
        appeal = Appeal(
            id=new_id("apl", now=now),
            action_id=action_id,
            appellant_id=appellant.id,
            text=body,
            state=AppealState.OPEN,
            created_at=now,
            decided_at=None,
            decided_by=None,
            decision_reason=None,
        )
        repo.add_appeal(appeal)
        uow.commit()
    return appeal


def list_appeals(
    uow: UnitOfWork, *, viewer: Principal, state: AppealState | None, after: str | None, limit: int
) -> list[Appeal]:
    _require_moderator(viewer)
    _check_page(after, limit)
    with uow:
        return uow.repo(ModerationRepository).appeals(state=state, after=after, limit=limit)


def decide_appeal(
    uow: UnitOfWork,
    *,
    moderator: Principal,
    appeal_id: str,
    overturn: bool,
    reason: str,
    now: datetime,
) -> Appeal:
    """Another moderator upholds the action or overturns it (undoing its effect)."""
    _require_moderator(moderator)
    text = check_text(reason, field="reason", limit=REASON_MAX)
    with uow:
        repo = uow.repo(ModerationRepository)
        appeal = repo.get_appeal(appeal_id, for_update=True)
        if appeal is None:
            raise NotFound("appeal_not_found", f"no appeal {appeal_id}")
        check_appeal_open(state=appeal.state)
        action = repo.get_action(appeal.action_id)
        assert action is not None
        check_decider_independent(
            moderator_id=moderator.id,
            acted_by=action.moderator_id,
            appellant_id=appeal.appellant_id,
        )
        state = AppealState.OVERTURNED if overturn else AppealState.UPHELD
        if overturn and action.target_id is not None:
            _enforce(uow, kind=action.kind, target_id=action.target_id, undo=True, now=now)
            repo.mark_reversed(action.id, at=now)
        repo.decide_appeal(appeal_id, state=state, by=moderator.id, at=now, reason=text)
        decided = repo.get_appeal(appeal_id)
        uow.commit()
    assert decided is not None
    return decided
