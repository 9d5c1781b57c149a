"""Pure rules of listings: text, prices, stock, who may sell and see, the bond."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bonafide.errors import Forbidden, Rejected
from bonafide.market.accounts import AccountStatus, Principal, Role
from bonafide.market.listings import (
    Bond,
    BondStatus,
    Listing,
    bond_is_required,
    check_claims,
    check_may_manage_listing,
    check_may_sell,
    check_price,
    check_quantity,
    check_stock,
    check_text,
    may_see_listing,
)
from bonafide.money import Money

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _p(pid: str, *roles: Role, suspended: bool = False) -> Principal:
    status = AccountStatus.suspended if suspended else AccountStatus.active
    return Principal(id=pid, handle=pid, roles=frozenset(roles), status=status)


def _listing(*, hidden: bool = False) -> Listing:
    return Listing(id="lst_1", seller_id="sam", title="Pot", description="", price=Money(1, "EUR"),
                   stock=1, active=True, hidden=hidden, created_at=NOW, updated_at=NOW)


def test_text_is_stripped_and_bounded() -> None:
    assert check_text("  hi\n", field="title", length_max=5) == "hi"
    with pytest.raises(Rejected, match="title_too_long"):
        check_text("abcdef", field="title", length_max=5)
    with pytest.raises(Rejected, match="title_required"):
        check_text("   ", field="title", length_max=5, required=True)
    with pytest.raises(Rejected, match="title_has_control_characters"):
        check_text("a\x00b", field="title", length_max=5)
    assert check_text("a\tb\nc", field="about", length_max=9) == "a\tb\nc"
    with pytest.raises(Rejected, match="claims_too_many"):
        check_claims(["x"] * 21)


def test_prices_are_positive_bounded_and_in_the_market_currency() -> None:
    assert check_price(Money(1, "EUR"), market_currency="EUR") == Money(1, "EUR")
    with pytest.raises(Rejected, match="listing_currency_not_accepted"):
        check_price(Money(1, "USD"), market_currency="EUR")
    for value in (0, -1, 10**12 + 1):
        with pytest.raises(Rejected, match="price_out_of_range"):
            check_price(Money(value, "EUR"), market_currency="EUR")


def test_stock_and_quantities_are_bounded() -> None:
    assert check_stock(0) == 0 and check_quantity(1) == 1
    with pytest.raises(Rejected, match="stock_out_of_range"):
        check_stock(-1)
    with pytest.raises(Rejected, match="quantity_out_of_range"):
        check_quantity(0)
    with pytest.raises(Rejected, match="quantity_out_of_range"):
        check_quantity(1_000_001)


def test_who_may_sell() -> None:
    check_may_sell(seller=_p("sam", Role.seller), bond_required=False)
    with pytest.raises(Forbidden, match="role_required"):
        check_may_sell(seller=_p("bob", Role.buyer), bond_required=False)
    with pytest.raises(Forbidden, match="account_suspended"):
        check_may_sell(seller=_p("sam", Role.seller, suspended=True), bond_required=False)
    with pytest.raises(Forbidden, match="seller_bond_required"):
        check_may_sell(seller=_p("sam", Role.seller), bond_required=True)


def test_the_bond_is_asked_for_once_while_configured() -> None:
    bond = Bond(seller_id="sam", amount=Money(500, "EUR"), covered=Money(200, "EUR"),
                status=BondStatus.returned, placed_at=NOW, returned_at=NOW)
    assert bond.remaining == Money(300, "EUR")
    assert bond_is_required(bond_value=500, bond=None)
    assert not bond_is_required(bond_value=0, bond=None)
    assert not bond_is_required(bond_value=500, bond=bond)


def test_hidden_listings_are_for_their_seller_and_moderators_only() -> None:
    hidden = _listing(hidden=True)
    assert may_see_listing(viewer=None, listing=_listing())
    assert not may_see_listing(viewer=None, listing=hidden)
    assert not may_see_listing(viewer=_p("bob", Role.buyer), listing=hidden)
    assert may_see_listing(viewer=_p("sam", Role.seller), listing=hidden)
    assert may_see_listing(viewer=_p("mod", Role.moderator), listing=hidden)
    assert may_see_listing(viewer=_p("op", Role.operator), listing=hidden)
    check_may_manage_listing(actor=_p("sam", Role.seller), listing=hidden)
    with pytest.raises(Forbidden, match="not_listing_owner"):
        check_may_manage_listing(actor=_p("mod", Role.moderator), listing=hidden)
