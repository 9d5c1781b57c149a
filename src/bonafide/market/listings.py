"""Listings and seller profiles: what a listing holds, its limits, and the seller-bond rule.

Owns: the pure rules for sellers' listings and profiles. Imports: the standard library,
``bonafide.money``, ``bonafide.errors`` and ``bonafide.market.accounts``.

Listings are priced in the market's currency (``Settings.currency``): a buyer's wallet holds that
currency and an order's escrow hold is in it, so one currency per market keeps quotes exact.

Seller bond (``BONAFIDE_SELLER_BOND``, minor units of the market currency; 0 turns it off)
    A new seller must place the bond before their first listing: the amount moves from their wallet
    into a bond account of their own (an ``escrow`` account named ``bond:<seller id>``), where it
    is not spendable. When a refund is owed to a buyer and the seller's wallet cannot cover it, the
    order flow draws the shortfall from the bond (``bond_cover``). After
    ``BONAFIDE_BOND_RETURN_ORDERS`` orders completed without loss the bond's remainder goes back to
    the seller's wallet (``bond_maybe_return``); a returned bond is not asked for again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from bonafide.errors import Forbidden, Rejected
from bonafide.market.accounts import Principal, Role
from bonafide.money import Money

TITLE_LENGTH_MAX = 200
DESCRIPTION_LENGTH_MAX = 10_000
PROFILE_TEXT_LENGTH_MAX = 5_000
CLAIMS_COUNT_MAX = 20
CLAIM_LENGTH_MAX = 200
STOCK_MAX = 1_000_000
PRICE_VALUE_MAX = 10**12
"""Ten billion in a two-decimal currency; a limit on everything (STYLE.md rule 7)."""


@dataclass(frozen=True, slots=True)
class Listing:
    id: str
    seller_id: str
    title: str
    description: str
    price: Money
    stock: int
    active: bool
    hidden: bool
    created_at: datetime
    updated_at: datetime

    @property
    def orderable(self) -> bool:
        return self.active and not self.hidden


@dataclass(frozen=True, slots=True)
class SellerProfile:
    seller_id: str
    about: str
    shipping_policy: str
    returns_policy: str
    claims: tuple[str, ...]
    updated_at: datetime | None


class BondStatus(enum.StrEnum):
    held = "held"
    returned = "returned"


@dataclass(frozen=True, slots=True)
class Bond:
    seller_id: str
    amount: Money
    covered: Money
    """What the bond has paid out so far for refunds the seller did not cover."""
    status: BondStatus
    placed_at: datetime
    returned_at: datetime | None

    @property
    def remaining(self) -> Money:
        return self.amount - self.covered


def check_text(value: str, *, field: str, length_max: int, required: bool = False) -> str:
    """Strip ``value`` and check its length; raise ``Rejected(<field>_too_long|_required)``."""
    stripped = value.strip()
    if required and not stripped:
        raise Rejected(f"{field}_required", f"{field} must not be empty")
    if len(stripped) > length_max:
        raise Rejected(f"{field}_too_long", f"{field} is longer than {length_max} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in stripped):
        raise Rejected(f"{field}_has_control_characters", f"{field} has control characters")
    return stripped


def check_price(price: Money, *, market_currency: str) -> Money:
    if price.currency != market_currency:
        raise Rejected(
            "listing_currency_not_accepted",
            f"this market prices listings in {market_currency}, not {price.currency}",
        )
    if not (1 <= price.value <= PRICE_VALUE_MAX):
        raise Rejected("price_out_of_range", f"a price is 1 to {PRICE_VALUE_MAX} minor units")
    return price


def check_stock(stock: int) -> int:
    if not (0 <= stock <= STOCK_MAX):
        raise Rejected("stock_out_of_range", f"stock is 0 to {STOCK_MAX}")
    return stock


def check_quantity(quantity: int) -> int:
    """An order's quantity: positive and never more than any listing can hold."""
    if not (1 <= quantity <= STOCK_MAX):
        raise Rejected("quantity_out_of_range", f"a quantity is 1 to {STOCK_MAX}")
    return quantity


def check_claims(claims: list[str]) -> tuple[str, ...]:
    if len(claims) > CLAIMS_COUNT_MAX:
        raise Rejected("claims_too_many", f"at most {CLAIMS_COUNT_MAX} stated claims")
    return tuple(
        check_text(c, field="claim", length_max=CLAIM_LENGTH_MAX, required=True) for c in claims
    )


def check_may_sell(*, seller: Principal, bond_required: bool) -> None:
    """A seller may list when they hold the seller role, are active, and have placed any bond."""
    if not seller.has_role(Role.seller):
        raise Forbidden("role_required", "only sellers may list")
    if not seller.is_active:
        raise Forbidden("account_suspended", "a suspended account cannot list")
    if bond_required:
        raise Forbidden(
            "seller_bond_required", "place the seller bond (POST /v1/sellers/{id}/bond) first"
        )


def bond_is_required(*, bond_value: int, bond: Bond | None) -> bool:
    """The bond is required while it is configured and the seller has never placed one."""
    return bond_value > 0 and bond is None


def check_may_manage_listing(*, actor: Principal, listing: Listing) -> None:
    """Only the listing's seller changes it (moderators hide listings through enforcement)."""
    if actor.id != listing.seller_id:
        raise Forbidden("not_listing_owner", "only the listing's seller may change it")


def may_see_listing(*, viewer: Principal | None, listing: Listing) -> bool:
    """Hidden listings are visible only to their seller, moderators and operators."""
    if not listing.hidden:
        return True
    if viewer is None:
        return False
    return viewer.id == listing.seller_id or viewer.has_any((Role.moderator, Role.operator))
