"""Use cases of sellers and listings: profiles, listings, stock reservation, the seller bond.

Owns: creating, reading, changing and deactivating listings; seller profiles; placing, drawing on
and returning seller bonds. Imports: ``bonafide.store``, ``bonafide.market``,
``bonafide.service.ledger``, ``bonafide.service.accounts``.

For the order flow, inside its own open unit of work (these neither enter nor commit):
``get_listing``, ``reserve_stock``, ``release_stock``, ``set_listing_hidden``, ``bond_cover``,
``bond_maybe_return``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bonafide.errors import Conflict, Forbidden, NotFound, Rejected
from bonafide.ids import new_id
from bonafide.ledger.model import AccountKind, LedgerAccountId, TransferSpec
from bonafide.market.accounts import Principal, Role
from bonafide.market.listings import (
    DESCRIPTION_LENGTH_MAX,
    PROFILE_TEXT_LENGTH_MAX,
    TITLE_LENGTH_MAX,
    Bond,
    BondStatus,
    Listing,
    SellerProfile,
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
from bonafide.service import ledger
from bonafide.service.accounts import principal_of
from bonafide.service.wallets import BOND_ACCOUNT_NAME
from bonafide.settings import Settings
from bonafide.store.market_repo import BondRepository, ListingRepository, ProfileRepository
from bonafide.store.uow import UnitOfWork

PAGE_SIZE_MAX = 100


@dataclass(frozen=True, slots=True)
class ListingChanges:
    """A seller's edit of a listing; ``None`` leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    price: Money | None = None
    stock: int | None = None


def _not_found(listing_id: str) -> NotFound:
    return NotFound("listing_not_found", f"no listing {listing_id}")


# --- profiles -------------------------------------------------------------------------------------


def put_profile(
    uow: UnitOfWork,
    *,
    actor: Principal,
    seller_id: str,
    about: str,
    shipping_policy: str,
    returns_policy: str,
    claims: list[str],
    now: datetime,
) -> SellerProfile:
    """A seller writes their own profile (whole: PUT semantics)."""
    if actor.id != seller_id:
        raise Forbidden("not_profile_owner", "only the seller may write their profile")
    if not actor.has_role(Role.seller):
        raise Forbidden("role_required", "only sellers have a seller profile")
    profile = SellerProfile(
        seller_id=seller_id,
        about=check_text(about, field="about", length_max=PROFILE_TEXT_LENGTH_MAX),
        shipping_policy=check_text(
            shipping_policy, field="shipping_policy", length_max=PROFILE_TEXT_LENGTH_MAX
        ),
        returns_policy=check_text(
            returns_policy, field="returns_policy", length_max=PROFILE_TEXT_LENGTH_MAX
        ),
        claims=check_claims(claims),
        updated_at=now,
    )
    with uow:
        uow.repo(ProfileRepository).put(profile)
        uow.commit()
    return profile


def get_profile(uow: UnitOfWork, *, seller_id: str) -> SellerProfile:
    """A seller's public profile (empty until they write one); ``seller_not_found`` otherwise."""
    with uow:
        seller = uow.repo(ProfileRepository).get(seller_id)
        if seller is not None:
            return seller
        try:
            principal = principal_of(uow, seller_id)
        except NotFound:
            principal = None
    if principal is None or not principal.has_role(Role.seller):
        raise NotFound("seller_not_found", f"no seller {seller_id}")
    return SellerProfile(
        seller_id=seller_id,
        about="",
        shipping_policy="",
        returns_policy="",
        claims=(),
        updated_at=None,
    )


# --- listings -------------------------------------------------------------------------------------


def create_listing(
    uow: UnitOfWork,
    *,
    seller: Principal,
    title: str,
    description: str,
    price: Money,
    stock: int,
    settings: Settings,
    now: datetime,
) -> Listing:
    """A seller lists an item (active; bond first when the market asks for one)."""
    listing = Listing(
        id=new_id("lst", now=now),
        seller_id=seller.id,
        title=check_text(title, field="title", length_max=TITLE_LENGTH_MAX, required=True),
        description=check_text(description, field="description", length_max=DESCRIPTION_LENGTH_MAX),
        price=check_price(price, market_currency=settings.currency),
        stock=check_stock(stock),
        active=True,
        hidden=False,
        created_at=now,
        updated_at=now,
    )
    with uow:
        # Re-read the seller in this transaction: a suspension that just landed must count.
        current = principal_of(uow, seller.id)
        bond = uow.repo(BondRepository).get(seller.id)
        check_may_sell(
            seller=current,
            bond_required=bond_is_required(bond_value=settings.seller_bond, bond=bond),
        )
        uow.repo(ListingRepository).add(listing)
        uow.commit()
    return listing


def read_listing(uow: UnitOfWork, *, viewer: Principal | None, listing_id: str) -> Listing:
    """One listing as ``viewer`` (or an anonymous caller) may see it."""
    with uow:
        listing = uow.repo(ListingRepository).get(listing_id)
    if listing is None or not may_see_listing(viewer=viewer, listing=listing):
        raise _not_found(listing_id)
    return listing


def list_listings(
    uow: UnitOfWork,
    *,
    viewer: Principal | None,
    after_id: str | None,
    limit: int,
    seller_id: str | None,
    active: bool | None,
) -> list[Listing]:
    """A page of listings in id order, after ``after_id``; hidden ones only for those who may."""
    assert 1 <= limit <= PAGE_SIZE_MAX
    include_hidden = viewer is not None and viewer.has_any((Role.moderator, Role.operator))
    with uow:
        found = uow.repo(ListingRepository).page(
            after_id=after_id,
            limit=limit,
            seller_id=seller_id,
            active=active,
            include_hidden=include_hidden,
            hidden_of_seller=None if viewer is None else viewer.id,
        )
    return found


def update_listing(
    uow: UnitOfWork,
    *,
    actor: Principal,
    listing_id: str,
    changes: ListingChanges,
    settings: Settings,
    now: datetime,
) -> Listing:
    """The listing's seller changes its title, description, price or stock."""
    values: dict[str, object] = {}
    if changes.title is not None:
        values["title"] = check_text(
            changes.title, field="title", length_max=TITLE_LENGTH_MAX, required=True
        )
    if changes.description is not None:
        values["description"] = check_text(
            changes.description, field="description", length_max=DESCRIPTION_LENGTH_MAX
        )
    if changes.price is not None:
        price = check_price(changes.price, market_currency=settings.currency)
        values["price_value"] = price.value
        values["price_currency"] = price.currency
    if changes.stock is not None:
        values["stock"] = check_stock(changes.stock)
    with uow:
        repo = uow.repo(ListingRepository)
        listing = repo.get(listing_id, for_update=True)
        if listing is None or not may_see_listing(viewer=actor, listing=listing):
            raise _not_found(listing_id)
        check_may_manage_listing(actor=actor, listing=listing)
        if not principal_of(uow, actor.id).is_active:
            raise Forbidden("account_suspended", "a suspended account cannot change listings")
        if values:
            repo.change(listing_id, now=now, **values)
        updated = repo.get(listing_id)
        uow.commit()
    assert updated is not None
    return updated


def set_listing_active(
    uow: UnitOfWork, *, actor: Principal, listing_id: str, active: bool, now: datetime
) -> Listing:
    """The seller deactivates (or reactivates) a listing; open orders are not affected."""
    with uow:
        repo = uow.repo(ListingRepository)
        listing = repo.get(listing_id, for_update=True)
        if listing is None or not may_see_listing(viewer=actor, listing=listing):
            raise _not_found(listing_id)
        check_may_manage_listing(actor=actor, listing=listing)
        if active and not principal_of(uow, actor.id).is_active:
            raise Forbidden("account_suspended", "a suspended account cannot list")
        repo.change(listing_id, now=now, active=active)
        uow.commit()
    return replace(listing, active=active, updated_at=now)


# --- for the order flow, inside an open unit of work ---------------------------------------------


def get_listing(uow: UnitOfWork, listing_id: str) -> Listing:
    """Inside an open unit of work: the listing, hidden or not, or ``listing_not_found``."""
    listing = uow.repo(ListingRepository).get(listing_id)
    if listing is None:
        raise _not_found(listing_id)
    return listing


def reserve_stock(
    uow: UnitOfWork, *, listing_id: str, quantity: int, now: datetime | None = None
) -> Listing:
    """Inside an open unit of work: take ``quantity`` from the listing's stock, or raise.

    Errors: ``listing_not_found``, ``listing_inactive`` (deactivated or hidden),
    ``insufficient_stock``, ``quantity_out_of_range``. Concurrent reservations never oversell:
    the subtraction is a single conditional UPDATE. Returns the listing after the reservation.
    """
    check_quantity(quantity)
    repo = uow.repo(ListingRepository)
    if now is None:
        before = repo.get(listing_id)
        if before is None:
            raise _not_found(listing_id)
        now = before.updated_at
    taken = repo.take_stock(listing_id, quantity=quantity, now=now)
    if taken is None:
        after = repo.get(listing_id)
        if after is None:
            raise _not_found(listing_id)
        if not after.orderable:
            raise Rejected("listing_inactive", f"listing {listing_id} is not open for orders")
        raise Conflict(
            "insufficient_stock", f"listing {listing_id} has {after.stock} left, not {quantity}"
        )
    assert taken.stock >= 0
    return taken


def release_stock(
    uow: UnitOfWork, *, listing_id: str, quantity: int, now: datetime | None = None
) -> Listing:
    """Inside an open unit of work: give ``quantity`` back (an order cancelled or refunded).

    Stock returns even to a deactivated listing, so reactivating it restores the true count.
    """
    check_quantity(quantity)
    repo = uow.repo(ListingRepository)
    before = repo.get(listing_id)
    if before is None:
        raise _not_found(listing_id)
    repo.give_stock(listing_id, quantity=quantity, now=now or before.updated_at)
    after = repo.get(listing_id)
    assert after is not None
    return after


def set_listing_hidden(uow: UnitOfWork, *, listing_id: str, hidden: bool, now: datetime) -> Listing:
    """Inside an open unit of work: moderation hides (or shows again) a listing."""
    repo = uow.repo(ListingRepository)
    listing = repo.get(listing_id, for_update=True)
    if listing is None:
        raise _not_found(listing_id)
    repo.change(listing_id, now=now, hidden=hidden)
    return replace(listing, hidden=hidden, updated_at=now)


# --- the seller bond ------------------------------------------------------------------------------


def _bond_account(uow: UnitOfWork, *, seller_id: str, currency: str) -> LedgerAccountId:
    return ledger.account_for(
        uow,
        kind=AccountKind.ESCROW,
        currency=currency,
        owner_id=seller_id,
        name=BOND_ACCOUNT_NAME,
    )


def _wallet(uow: UnitOfWork, *, owner_id: str, currency: str) -> LedgerAccountId:
    return ledger.account_for(uow, kind=AccountKind.WALLET, currency=currency, owner_id=owner_id)


def get_bond(uow: UnitOfWork, *, seller_id: str) -> Bond:
    with uow:
        bond = uow.repo(BondRepository).get(seller_id)
    if bond is None:
        raise NotFound("seller_bond_not_found", f"seller {seller_id} has no bond")
    return bond


def place_bond_in(
    uow: UnitOfWork, *, seller: Principal, seller_id: str, settings: Settings, now: datetime
) -> Bond:
    """Inside an open unit of work: move the configured bond from the seller's wallet into their
    bond account. Errors: ``seller_bond_not_required`` (off), ``seller_bond_already_placed``,
    ``exceeds_available_balance`` (from the ledger)."""
    if seller.id != seller_id:
        raise Forbidden("not_account_owner", "a seller places their own bond")
    if not seller.has_role(Role.seller):
        raise Forbidden("role_required", "only sellers place a bond")
    if settings.seller_bond <= 0:
        raise Rejected("seller_bond_not_required", "this market asks for no seller bond")
    amount = Money(settings.seller_bond, settings.currency)
    if not uow.repo(BondRepository).add(seller_id=seller_id, amount=amount, now=now):
        raise Conflict("seller_bond_already_placed", "the bond is already placed")
    ledger.execute(
        uow,
        [
            TransferSpec(
                id=new_id("bnd", now=now),
                debit_account_id=_wallet(uow, owner_id=seller_id, currency=amount.currency),
                credit_account_id=_bond_account(uow, seller_id=seller_id, currency=amount.currency),
                amount=amount,
                memo="seller bond placed",
                actor=seller.id,
            )
        ],
        now=now,
    )
    bond = uow.repo(BondRepository).get(seller_id)
    assert bond is not None
    return bond


def bond_cover(
    uow: UnitOfWork, *, seller_id: str, amount: Money, now: datetime, actor: str = "system"
) -> Money:
    """Inside an open unit of work: move up to ``amount`` from the seller's held bond into the
    seller's wallet, so that a refund the wallet could not pay can then be paid from it in the
    same transaction. Returns what was moved (zero without a held bond)."""
    repo = uow.repo(BondRepository)
    bond = repo.get(seller_id, for_update=True)
    if bond is None or bond.status is not BondStatus.held or amount.value <= 0:
        return Money.zero(amount.currency)
    if amount.currency != bond.amount.currency:
        raise Rejected("currencies_must_match", "the bond is in another currency")
    moved = min(amount, bond.remaining)
    if moved.value == 0:
        return moved
    ledger.execute(
        uow,
        [
            TransferSpec(
                id=new_id("bcv", now=now),
                debit_account_id=_bond_account(uow, seller_id=seller_id, currency=moved.currency),
                credit_account_id=_wallet(uow, owner_id=seller_id, currency=moved.currency),
                amount=moved,
                memo="seller bond covers a refund",
                actor=actor,
            )
        ],
        now=now,
    )
    repo.add_covered(seller_id, amount=moved)
    return moved


def bond_maybe_return(
    uow: UnitOfWork,
    *,
    seller_id: str,
    completed_orders: int,
    settings: Settings,
    now: datetime,
    actor: str = "system",
) -> Money | None:
    """Inside an open unit of work: once ``completed_orders`` (completed without loss) reaches
    ``settings.bond_return_orders``, return what is left of the bond to the seller's wallet.
    Returns the amount returned, or None when nothing happened."""
    repo = uow.repo(BondRepository)
    bond = repo.get(seller_id, for_update=True)
    if bond is None or bond.status is not BondStatus.held:
        return None
    if completed_orders < settings.bond_return_orders:
        return None
    remaining = bond.remaining
    if remaining.value > 0:
        ledger.execute(
            uow,
            [
                TransferSpec(
                    id=new_id("brt", now=now),
                    debit_account_id=_bond_account(
                        uow, seller_id=seller_id, currency=remaining.currency
                    ),
                    credit_account_id=_wallet(uow, owner_id=seller_id, currency=remaining.currency),
                    amount=remaining,
                    memo="seller bond returned",
                    actor=actor,
                )
            ],
            now=now,
        )
    repo.mark_returned(seller_id, now=now)
    return remaining
