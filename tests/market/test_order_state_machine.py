"""The order transition table, checked pair by pair, and the rules around it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bonafide.errors import Conflict, Forbidden, Rejected
from bonafide.market.orders import (
    ACTORS,
    FINISHED_STATES,
    TRANSITIONS,
    Action,
    Deadlines,
    OrderState,
    Party,
    check_actor,
    due_action,
    hold_expiry,
    next_state,
    settle,
)
from bonafide.money import Money

S, A = OrderState, Action

EXPECTED = {
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


def test_state_names_are_the_api_contract() -> None:
    assert [s.value for s in OrderState] == [
        "funded",
        "shipped",
        "completed",
        "cancelled",
        "disputed",
        "resolved",
        "auto-released",
    ]


@pytest.mark.parametrize(("state", "action"), list(itertools.product(OrderState, Action)))
def test_every_state_and_action_pair_is_allowed_or_a_named_conflict(
    state: OrderState, action: Action
) -> None:
    if (state, action) in EXPECTED:
        assert next_state(state=state, action=action) is EXPECTED[(state, action)]
    else:
        with pytest.raises(Conflict) as caught:
            next_state(state=state, action=action)
        assert caught.value.code == "order_not_in_state"


def test_the_table_is_exactly_the_expected_one() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_finished_states_have_no_way_out() -> None:
    assert not [key for key in TRANSITIONS if key[0] in FINISHED_STATES]


@pytest.mark.parametrize(("action", "party"), list(itertools.product(Action, Party)))
def test_only_the_named_parties_may_take_each_action(action: Action, party: Party) -> None:
    if party in ACTORS[action]:
        check_actor(action=action, party=party)
    else:
        with pytest.raises(Forbidden):
            check_actor(action=action, party=party)


def test_an_outsider_is_not_a_party() -> None:
    with pytest.raises(Forbidden) as caught:
        check_actor(action=A.CONFIRM, party=None)
    assert caught.value.code == "not_a_party"


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_timeouts_fall_due_before_the_hold_expires() -> None:
    ship, release = timedelta(days=7), timedelta(days=14)
    expires = hold_expiry(now=T0, ship_window=ship, release_window=release)
    # The latest possible release deadline: shipped at the last moment, never confirmed.
    assert T0 + ship + release < expires
    deadlines = Deadlines(ship_by=T0 + ship, release_by=None)
    assert due_action(state=S.FUNDED, deadlines=deadlines, hold_expires_at=expires, now=T0) is None
    at_ship_by = T0 + ship
    assert (
        due_action(state=S.FUNDED, deadlines=deadlines, hold_expires_at=expires, now=at_ship_by)
        is A.AUTO_CANCEL
    )
    shipped = Deadlines(ship_by=None, release_by=T0 + ship + release)
    assert (
        due_action(state=S.SHIPPED, deadlines=shipped, hold_expires_at=expires, now=T0 + ship)
        is None
    )
    assert (
        due_action(
            state=S.SHIPPED, deadlines=shipped, hold_expires_at=expires, now=T0 + ship + release
        )
        is A.AUTO_RELEASE
    )


def test_a_dispute_nobody_resolves_expires_back_to_the_buyer() -> None:
    none = Deadlines(ship_by=None, release_by=None)
    assert due_action(state=S.DISPUTED, deadlines=none, hold_expires_at=T0, now=T0) is (
        A.HOLD_EXPIRED
    )
    assert next_state(state=S.DISPUTED, action=A.HOLD_EXPIRED) is S.RESOLVED
    assert due_action(state=S.COMPLETED, deadlines=none, hold_expires_at=T0, now=T0) is None


def test_settlement_rounds_the_fee_down_and_charges_it_on_what_the_seller_keeps() -> None:
    eur = "EUR"
    full = settle(total=Money(1999, eur), refund=Money(0, eur), fee_basis_points=500)
    assert (full.seller.value, full.fee.value, full.refund.value) == (1900, 99, 0)
    partial = settle(total=Money(1999, eur), refund=Money(999, eur), fee_basis_points=500)
    # 1000 kept: fee 50, seller 950, buyer gets 999 back.
    assert (partial.seller.value, partial.fee.value, partial.posted.value) == (950, 50, 1000)
    everything = settle(total=Money(1999, eur), refund=Money(1999, eur), fee_basis_points=500)
    assert everything.posted.value == 0


@pytest.mark.parametrize(
    ("refund", "code"),
    [(2000, "refund_exceeds_order_total"), (-1, "refund_must_not_be_negative")],
)
def test_a_refund_outside_zero_to_total_is_rejected(refund: int, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        settle(total=Money(1999, "EUR"), refund=Money(refund, "EUR"), fee_basis_points=500)
    assert caught.value.code == code


def test_a_refund_in_another_currency_is_rejected() -> None:
    with pytest.raises(Rejected) as caught:
        settle(total=Money(1999, "EUR"), refund=Money(1, "USD"), fee_basis_points=500)
    assert caught.value.code == "currencies_must_match"
