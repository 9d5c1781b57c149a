"""Pure rules of accounts: handles, sign-up roles, who may grant and see what."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonafide.errors import Forbidden, Rejected
from bonafide.market.accounts import (
    AccountStatus,
    Principal,
    Role,
    check_handle,
    check_may_grant,
    check_may_revoke,
    check_may_view_account,
    check_signup_roles,
    decode_roles,
    encode_roles,
    parse_roles,
)


def _p(pid: str, *roles: Role) -> Principal:
    return Principal(id=pid, handle=pid, roles=frozenset(roles), status=AccountStatus.active)


def test_handles_are_folded_to_lower_case_ascii() -> None:
    assert check_handle("  Alice_99 ") == "alice_99"
    for bad in ("ab", "x" * 33, "-lead", "two words", "émile", "a.b", ""):
        with pytest.raises(Rejected, match="handle_invalid"):
            check_handle(bad)


def test_sign_up_takes_buyer_and_seller_only() -> None:
    assert check_signup_roles(frozenset({Role.buyer, Role.seller})) == {Role.buyer, Role.seller}
    with pytest.raises(Rejected, match="roles_must_not_be_empty"):
        check_signup_roles(frozenset())
    for role in (Role.moderator, Role.operator):
        with pytest.raises(Forbidden, match="role_not_available_at_signup"):
            check_signup_roles(frozenset({Role.buyer, role}))
    with pytest.raises(Rejected, match="role_unknown"):
        parse_roles(["buyer", "admin"])


@given(st.sets(st.sampled_from(list(Role))))
def test_role_sets_survive_their_stored_form(roles: set[Role]) -> None:
    assert decode_roles(encode_roles(roles)) == roles


def test_only_operators_grant_moderator_and_nobody_grants_operator() -> None:
    ann, op = _p("ann", Role.buyer), _p("op", Role.operator)
    check_may_grant(granter=ann, target_id="ann", role=Role.seller)
    check_may_grant(granter=op, target_id="ann", role=Role.moderator)
    check_may_grant(granter=op, target_id="ann", role=Role.seller)
    with pytest.raises(Forbidden, match="role_required"):
        check_may_grant(granter=ann, target_id="ann", role=Role.moderator)
    with pytest.raises(Forbidden, match="not_account_owner"):
        check_may_grant(granter=ann, target_id="bob", role=Role.seller)
    with pytest.raises(Forbidden, match="operator_role_granted_only_by_cli"):
        check_may_grant(granter=op, target_id="ann", role=Role.operator)
    with pytest.raises(Forbidden, match="role_required"):
        check_may_revoke(granter=ann, target_id="ann", role=Role.buyer)
    check_may_revoke(granter=op, target_id="ann", role=Role.moderator)


def test_an_account_is_visible_to_itself_and_operators() -> None:
    check_may_view_account(viewer=_p("ann", Role.buyer), account_id="ann")
    check_may_view_account(viewer=_p("op", Role.operator), account_id="ann")
    for viewer in (_p("bob", Role.buyer), _p("mod", Role.moderator)):
        with pytest.raises(Forbidden):
            check_may_view_account(viewer=viewer, account_id="ann")
