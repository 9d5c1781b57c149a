"""Reports, enforcement actions and appeals.

Owns: what may be reported, the actions moderators take (hide a listing or a review, suspend an
account, dismiss a report), which target each action applies to, and the rule that the affected
account may appeal an action once. Imports: the standard library and ``bonafide.errors``. Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bonafide.errors import Conflict, Forbidden, Rejected

REASON_MAX = 2_000
"""The longest reason for a report, an action or an appeal decision, in characters."""

APPEAL_TEXT_MAX = 5_000


class TargetKind(enum.StrEnum):
    LISTING = "listing"
    REVIEW = "review"
    ACCOUNT = "account"


class ReportState(enum.StrEnum):
    OPEN = "open"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"


class ActionKind(enum.StrEnum):
    HIDE_LISTING = "hide_listing"
    HIDE_REVIEW = "hide_review"
    SUSPEND_ACCOUNT = "suspend_account"
    DISMISS_REPORT = "dismiss_report"


class AppealState(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    """The action stands."""
    OVERTURNED = "overturned"
    """The action is undone: the listing or review shown again, the account reinstated."""


@dataclass(frozen=True, slots=True)
class Report:
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


@dataclass(frozen=True, slots=True)
class ModerationAction:
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


@dataclass(frozen=True, slots=True)
class Appeal:
    id: str
    action_id: str
    appellant_id: str
    text: str
    state: AppealState
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


ACTION_TARGETS: Mapping[ActionKind, TargetKind | None] = {
    ActionKind.HIDE_LISTING: TargetKind.LISTING,
    ActionKind.HIDE_REVIEW: TargetKind.REVIEW,
    ActionKind.SUSPEND_ACCOUNT: TargetKind.ACCOUNT,
    ActionKind.DISMISS_REPORT: None,
}
"""The kind of thing each action works on; dismissing works on a report and affects nobody."""


def check_action_target(*, action: ActionKind, target_kind: TargetKind | None) -> None:
    expected = ACTION_TARGETS[action]
    if expected is not None and target_kind is not expected:
        raise Rejected(
            "action_does_not_fit_target",
            f"{action.value} applies to a {expected.value}",
        )


def check_report_open(*, state: ReportState) -> None:
    if state is not ReportState.OPEN:
        raise Conflict("report_already_handled", f"the report is {state.value}")


def check_may_appeal(
    *, appellant_id: str, affected_account_id: str | None, already_appealed: bool
) -> None:
    """Only the account an action affected may appeal it, and only once."""
    if affected_account_id is None or appellant_id != affected_account_id:
        raise Forbidden("not_the_affected_account", "only the affected account may appeal")
    if already_appealed:
        raise Conflict("appeal_already_filed", "an action may be appealed once")


def check_appeal_open(*, state: AppealState) -> None:
    if state is not AppealState.OPEN:
        raise Conflict("appeal_already_decided", f"the appeal is {state.value}")


def check_decider_independent(*, moderator_id: str, acted_by: str, appellant_id: str) -> None:
    """An appeal is decided by someone other than the moderator who acted, and not the appellant."""
    if moderator_id in (acted_by, appellant_id):
        raise Forbidden(
            "appeal_needs_another_moderator",
            "the moderator who acted (or the appellant) cannot decide the appeal",
        )
