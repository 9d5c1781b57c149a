"""Who may review, what a review holds, and the simultaneous-reveal rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.orders import OrderState
from bonafide.market.reviews import (
    TEXT_MAX,
    Ratings,
    ReviewerRole,
    check_editable,
    check_may_reply,
    check_may_review,
    check_ratings,
    check_review_text,
    is_revealed,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)


@pytest.mark.parametrize(
    ("submitted", "after", "revealed"),
    [
        (0, timedelta(0), False),
        (1, timedelta(0), False),
        (1, WINDOW - timedelta(seconds=1), False),
        (2, timedelta(0), True),
        (1, WINDOW, True),
        (0, WINDOW, True),
    ],
)
def test_a_review_is_revealed_when_both_reviewed_or_the_window_closed(
    submitted: int, after: timedelta, revealed: bool
) -> None:
    assert (
        is_revealed(
            reviews_submitted=submitted, finished_at=T0, review_window=WINDOW, now=T0 + after
        )
        is revealed
    )


def _may(**overrides: object) -> None:
    args: dict[str, object] = {
        "state": OrderState.COMPLETED,
        "role": ReviewerRole.BUYER,
        "already_submitted": False,
        "finished_at": T0,
        "review_window": WINDOW,
        "now": T0 + timedelta(days=1),
    }
    args.update(overrides)
    check_may_review(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("state", list(OrderState))
def test_only_released_orders_can_be_reviewed(state: OrderState) -> None:
    if state in (OrderState.COMPLETED, OrderState.AUTO_RELEASED, OrderState.RESOLVED):
        _may(state=state)
    else:
        with pytest.raises(Conflict) as caught:
            _may(state=state)
        assert caught.value.code == "order_not_in_state"


def test_an_outsider_may_not_review() -> None:
    with pytest.raises(Forbidden) as caught:
        _may(role=None)
    assert caught.value.code == "not_a_party"


def test_one_review_per_party() -> None:
    with pytest.raises(Conflict) as caught:
        _may(already_submitted=True)
    assert caught.value.code == "review_already_submitted"


def test_no_review_after_the_window_closes() -> None:
    with pytest.raises(Conflict) as caught:
        _may(now=T0 + WINDOW)
    assert caught.value.code == "review_window_closed"


def test_buyers_rate_every_detail_and_sellers_only_overall() -> None:
    check_ratings(Ratings(5, 4, 3, 2), role=ReviewerRole.BUYER)
    check_ratings(Ratings(5), role=ReviewerRole.SELLER)
    with pytest.raises(Rejected):
        check_ratings(Ratings(5), role=ReviewerRole.BUYER)
    with pytest.raises(Rejected):
        check_ratings(Ratings(5, 4, 3, 2), role=ReviewerRole.SELLER)
    for bad in (0, 6, True):
        with pytest.raises(Rejected):
            check_ratings(Ratings(bad), role=ReviewerRole.SELLER)


def test_text_is_limited() -> None:
    assert check_review_text("x" * TEXT_MAX) == "x" * TEXT_MAX
    with pytest.raises(Rejected) as caught:
        check_review_text("x" * (TEXT_MAX + 1))
    assert caught.value.code == "text_too_long"


def test_a_revealed_review_is_immutable() -> None:
    check_editable(revealed_at=None)
    with pytest.raises(Conflict) as caught:
        check_editable(revealed_at=T0)
    assert caught.value.code == "review_is_revealed"


def test_the_seller_replies_once_to_a_revealed_review_of_them() -> None:
    check_may_reply(
        revealed_at=T0, has_reply=False, subject_is_replier=True, role=ReviewerRole.BUYER
    )
    with pytest.raises(Conflict):
        check_may_reply(
            revealed_at=None, has_reply=False, subject_is_replier=True, role=ReviewerRole.BUYER
        )
    with pytest.raises(Conflict):
        check_may_reply(
            revealed_at=T0, has_reply=True, subject_is_replier=True, role=ReviewerRole.BUYER
        )
    with pytest.raises(Forbidden):
        check_may_reply(
            revealed_at=T0, has_reply=False, subject_is_replier=False, role=ReviewerRole.BUYER
        )
