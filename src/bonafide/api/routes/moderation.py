"""Reports and enforcement: report, the moderators' queues, actions, appeals and decisions.

| route                                       | who                                         |
|---------------------------------------------|---------------------------------------------|
| POST /v1/reports                            | any account                                 |
| GET  /v1/reports?state=open                 | moderators                                  |
| POST /v1/moderation/actions                 | moderators (never on their own things)      |
| GET  /v1/moderation/actions                 | moderators, operators: all; others: their own |
| POST /v1/moderation/actions/{id}/appeal     | the affected account, once                  |
| GET  /v1/appeals?state=open                 | moderators                                  |
| POST /v1/appeals/{id}/decision              | a moderator other than the one who acted    |
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from bonafide.api.deps import ContainerDep, CurrentAccount, Page, encode_cursor, require_roles
from bonafide.api.problems import problem_responses
from bonafide.api.routes.orders import ID_PATTERN
from bonafide.market.accounts import Principal, Role
from bonafide.market.moderation import (
    APPEAL_TEXT_MAX,
    REASON_MAX,
    ActionKind,
    Appeal,
    AppealState,
    ModerationAction,
    Report,
    ReportState,
    TargetKind,
)
from bonafide.service import moderation as service

router = APIRouter(
    prefix="/v1", tags=["moderation"], responses=problem_responses(400, 401, 413, 422, 429)
)

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
Moderator = Annotated[Principal, Depends(require_roles(Role.moderator))]
Reason = Annotated[StrictStr, Field(min_length=1, max_length=REASON_MAX)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportIn(_In):
    target_kind: TargetKind
    target_id: StrictStr = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    reason: Reason


class ActionIn(_In):
    kind: ActionKind
    reason: Reason
    report_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=64, pattern=ID_PATTERN
    )
    target_kind: TargetKind | None = None
    target_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=64, pattern=ID_PATTERN
    )


class AppealIn(_In):
    text: StrictStr = Field(min_length=1, max_length=APPEAL_TEXT_MAX)


class DecisionIn(_In):
    outcome: Literal["upheld", "overturned"]
    reason: Reason


class ReportOut(BaseModel):
    id: str
    reporter_id: str
    target_kind: TargetKind
    target_id: str
    reason: str
    state: ReportState
    created_at: datetime
    handled_at: datetime | None
    handled_by: str | None
    action_id: str | None


class ActionOut(BaseModel):
    id: str
    moderator_id: str
    kind: ActionKind
    target_kind: TargetKind | None
    target_id: str | None
    affected_account_id: str | None
    report_id: str | None
    reason: str
    at: datetime
    reversed_at: datetime | None


class AppealOut(BaseModel):
    id: str
    action_id: str
    appellant_id: str
    text: str
    state: AppealState
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class ReportPage(BaseModel):
    items: list[ReportOut]
    next_cursor: str | None


class ActionPage(BaseModel):
    items: list[ActionOut]
    next_cursor: str | None


class AppealPage(BaseModel):
    items: list[AppealOut]
    next_cursor: str | None


def report_out(r: Report) -> ReportOut:
    return ReportOut(
        id=r.id,
        reporter_id=r.reporter_id,
        target_kind=r.target_kind,
        target_id=r.target_id,
        reason=r.reason,
        state=r.state,
        created_at=r.created_at,
        handled_at=r.handled_at,
        handled_by=r.handled_by,
        action_id=r.action_id,
    )


def action_out(a: ModerationAction) -> ActionOut:
    return ActionOut(
        id=a.id,
        moderator_id=a.moderator_id,
        kind=a.kind,
        target_kind=a.target_kind,
        target_id=a.target_id,
        affected_account_id=a.affected_account_id,
        report_id=a.report_id,
        reason=a.reason,
        at=a.at,
        reversed_at=a.reversed_at,
    )


def appeal_out(a: Appeal) -> AppealOut:
    return AppealOut(
        id=a.id,
        action_id=a.action_id,
        appellant_id=a.appellant_id,
        text=a.text,
        state=a.state,
        created_at=a.created_at,
        decided_at=a.decided_at,
        decided_by=a.decided_by,
        decision_reason=a.decision_reason,
    )


def _next(items: list[str], limit: int) -> str | None:
    return encode_cursor(items[-1]) if len(items) == limit else None


@router.post(
    "/reports", status_code=201, response_model=ReportOut, responses=problem_responses(404)
)
def file_report(body: ReportIn, viewer: CurrentAccount, container: ContainerDep) -> ReportOut:
    """Report a listing, a review or an account to the moderators, with a reason."""
    return report_out(
        service.file_report(
            container.uow(),
            reporter=viewer,
            target_kind=body.target_kind,
            target_id=body.target_id,
            reason=body.reason,
            now=container.clock.now(),
        )
    )


@router.get("/reports", response_model=ReportPage, responses=problem_responses(403))
def list_reports(
    page: Page,
    viewer: Moderator,
    container: ContainerDep,
    state: Annotated[ReportState | None, Query()] = None,
) -> ReportPage:
    """The moderators' report queue, oldest first."""
    found = service.list_reports(
        container.uow(read_only=True),
        viewer=viewer,
        state=state,
        after=page.after_id,
        limit=page.limit,
    )
    return ReportPage(
        items=[report_out(r) for r in found], next_cursor=_next([r.id for r in found], page.limit)
    )


@router.post(
    "/moderation/actions",
    status_code=201,
    response_model=ActionOut,
    responses=problem_responses(403, 404, 409),
)
def take_action(body: ActionIn, moderator: Moderator, container: ContainerDep) -> ActionOut:
    """Hide a listing or a review, suspend an account, or dismiss a report; logged with reason."""
    return action_out(
        service.take_action(
            container.uow(),
            moderator=moderator,
            kind=body.kind,
            reason=body.reason,
            report_id=body.report_id,
            target_kind=body.target_kind,
            target_id=body.target_id,
            now=container.clock.now(),
        )
    )


@router.get("/moderation/actions", response_model=ActionPage)
def list_actions(page: Page, viewer: CurrentAccount, container: ContainerDep) -> ActionPage:
    """The moderation log: all of it for staff; the actions that affected the caller otherwise."""
    found = service.list_actions(
        container.uow(read_only=True), viewer=viewer, after=page.after_id, limit=page.limit
    )
    return ActionPage(
        items=[action_out(a) for a in found], next_cursor=_next([a.id for a in found], page.limit)
    )


@router.post(
    "/moderation/actions/{action_id}/appeal",
    status_code=201,
    response_model=AppealOut,
    responses=problem_responses(403, 404, 409),
)
def file_appeal(
    action_id: Id, body: AppealIn, viewer: CurrentAccount, container: ContainerDep
) -> AppealOut:
    """The affected account appeals an action, once."""
    return appeal_out(
        service.file_appeal(
            container.uow(),
            appellant=viewer,
            action_id=action_id,
            text=body.text,
            now=container.clock.now(),
        )
    )


@router.get("/appeals", response_model=AppealPage, responses=problem_responses(403))
def list_appeals(
    page: Page,
    viewer: Moderator,
    container: ContainerDep,
    state: Annotated[AppealState | None, Query()] = None,
) -> AppealPage:
    """The moderators' appeal queue."""
    found = service.list_appeals(
        container.uow(read_only=True),
        viewer=viewer,
        state=state,
        after=page.after_id,
        limit=page.limit,
    )
    return AppealPage(
        items=[appeal_out(a) for a in found], next_cursor=_next([a.id for a in found], page.limit)
    )


@router.post(
    "/appeals/{appeal_id}/decision",
    response_model=AppealOut,
    responses=problem_responses(403, 404, 409),
)
def decide_appeal(
    appeal_id: Id, body: DecisionIn, moderator: Moderator, container: ContainerDep
) -> AppealOut:
    """Another moderator upholds the action or overturns it (undoing its effect)."""
    return appeal_out(
        service.decide_appeal(
            container.uow(),
            moderator=moderator,
            appeal_id=appeal_id,
            overturn=body.outcome == "overturned",
            reason=body.reason,
            now=container.clock.now(),
        )
    )
