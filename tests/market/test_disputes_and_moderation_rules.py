"""Dispute and moderation rules: moderators who are parties, records, appeals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.disputes import (
    Resolution,
    check_moderator_not_party,
    check_text,
    moderator_record,
)
from bonafide.market.moderation import (
    ActionKind,
    TargetKind,
    check_action_target,
    check_decider_independent,
    check_may_appeal,
)
from bonafide.money import Money

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_moderator_who_is_a_party_cannot_resolve() -> None:
    check_moderator_not_party(moderator_id="m", buyer_id="b", seller_id="s")
    for party in ("b", "s"):
        with pytest.raises(Forbidden) as caught:
            check_moderator_not_party(moderator_id=party, buyer_id="b", seller_id="s")
        assert caught.value.code == "moderator_is_a_party"


def test_a_moderator_record_by_hand() -> None:
    eur = "EUR"
    record = moderator_record(
        [
            Resolution(T0, T0 + timedelta(hours=1), Money(0, eur), Money(100, eur)),
            Resolution(T0, T0 + timedelta(hours=5), Money(100, eur), Money(100, eur)),
            Resolution(T0, T0 + timedelta(hours=2), Money(25, eur), Money(100, eur)),
            Resolution(T0, T0 + timedelta(hours=4), Money(75, eur), Money(300, eur)),
        ]
    )
    assert record.disputes_resolved == 4
    assert record.median_seconds_to_resolve == 3 * 3600.0
    assert record.share_refunded == pytest.approx((0 + 1 + 0.25 + 0.25) / 4)
    assert moderator_record([]).disputes_resolved == 0


def test_dispute_text_is_required_and_limited() -> None:
    assert check_text("  broken  ", field="reason", limit=10) == "broken"
    for bad, code in [
        ("", "reason_must_not_be_empty"),
        ("x" * 11, "reason_too_long"),
        (3, "reason_must_be_text"),
    ]:
        with pytest.raises(Rejected) as caught:
            check_text(bad, field="reason", limit=10)
        assert caught.value.code == code


def test_actions_fit_their_targets() -> None:
    check_action_target(action=ActionKind.HIDE_REVIEW, target_kind=TargetKind.REVIEW)
    check_action_target(action=ActionKind.DISMISS_REPORT, target_kind=None)
    with pytest.raises(Rejected):
        check_action_target(action=ActionKind.SUSPEND_ACCOUNT, target_kind=TargetKind.LISTING)


def test_only_the_affected_account_appeals_and_only_once() -> None:
    check_may_appeal(appellant_id="a", affected_account_id="a", already_appealed=False)
    with pytest.raises(Forbidden):
        check_may_appeal(appellant_id="x", affected_account_id="a", already_appealed=False)
    with pytest.raises(Conflict) as caught:
        check_may_appeal(appellant_id="a", affected_account_id="a", already_appealed=True)
    assert caught.value.code == "appeal_already_filed"


def test_the_moderator_who_acted_does_not_decide_the_appeal() -> None:
    check_decider_independent(moderator_id="m2", acted_by="m1", appellant_id="a")
    with pytest.raises(Forbidden):
        check_decider_independent(moderator_id="m1", acted_by="m1", appellant_id="a")
