"""Listings: create, read, page through, change, deactivate and reactivate.

| route                                 | who                          |
|---------------------------------------|------------------------------|
| POST  /v1/listings                    | sellers (active; bond placed when required) |
| GET   /v1/listings                    | anyone (hidden ones: moderators, operators) |
| GET   /v1/listings/{id}               | anyone (hidden: its seller, moderators, operators) |
| PATCH /v1/listings/{id}               | its seller                   |
| POST  /v1/listings/{id}/deactivate    | its seller                   |
| POST  /v1/listings/{id}/activate      | its seller                   |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from bonafide.api.deps import (
    ContainerDep,
    CurrentAccount,
    OptionalAccount,
    Page,
    encode_cursor,
    require_roles,
)
from bonafide.api.problems import problem_responses
from bonafide.api.schemas import ListingIn, ListingOut, ListingPage, ListingPatch, MoneyOut
from bonafide.market.accounts import Principal, Role
from bonafide.market.listings import Listing
from bonafide.service import listings as service

router = APIRouter(
    prefix="/v1", tags=["listings"], responses=problem_responses(400, 401, 413, 422, 429)
)

ListingId = Annotated[str, Path(min_length=1, max_length=64)]
Seller = Annotated[Principal, Depends(require_roles(Role.seller))]


def listing_out(listing: Listing) -> ListingOut:
    return ListingOut(
        id=listing.id,
        seller_id=listing.seller_id,
        title=listing.title,
        description=listing.description,
        price=MoneyOut.of(listing.price),
        stock=listing.stock,
        active=listing.active,
        hidden=listing.hidden,
        created_at=listing.created_at,
        updated_at=listing.updated_at,
    )


@router.post("/listings", status_code=201, response_model=ListingOut,
             responses=problem_responses(403))
def create_listing(body: ListingIn, seller: Seller, container: ContainerDep) -> ListingOut:
    """List an item for sale, priced in the market's currency."""
    return listing_out(
        service.create_listing(
            container.uow(),
            seller=seller,
            title=body.title,
            description=body.description,
            price=body.price.to_money(),
            stock=body.stock,
            settings=container.settings,
            now=container.clock.now(),
        )
    )


@router.get("/listings", response_model=ListingPage)
def list_listings(
    page: Page,
    viewer: OptionalAccount,
    container: ContainerDep,
    seller_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    active: Annotated[bool | None, Query()] = None,
) -> ListingPage:
    """Listings in a stable order, a page at a time; filter by seller or by active."""
    found = service.list_listings(
        container.uow(read_only=True),
        viewer=viewer,
        after_id=page.after_id,
        limit=page.limit,
        seller_id=seller_id,
        active=active,
    )
    next_cursor = encode_cursor(found[-1].id) if len(found) == page.limit else None
    return ListingPage(items=[listing_out(x) for x in found], next_cursor=next_cursor)


@router.get("/listings/{listing_id}", response_model=ListingOut,
            responses=problem_responses(404))
def get_listing(
    listing_id: ListingId, viewer: OptionalAccount, container: ContainerDep
) -> ListingOut:
    """One listing."""
    return listing_out(
        service.read_listing(
            container.uow(read_only=True), viewer=viewer, listing_id=listing_id
        )
    )


@router.patch("/listings/{listing_id}", response_model=ListingOut,
              responses=problem_responses(403, 404))
def update_listing(
    listing_id: ListingId, body: ListingPatch, principal: CurrentAccount,
    container: ContainerDep,
) -> ListingOut:
    """The seller changes the title, description, price or stock."""
    return listing_out(
        service.update_listing(
            container.uow(),
            actor=principal,
            listing_id=listing_id,
            changes=service.ListingChanges(
                title=body.title,
                description=body.description,
                price=None if body.price is None else body.price.to_money(),
                stock=body.stock,
            ),
            settings=container.settings,
            now=container.clock.now(),
        )
    )


@router.post("/listings/{listing_id}/deactivate", response_model=ListingOut,
             responses=problem_responses(403, 404))
def deactivate_listing(
    listing_id: ListingId, principal: CurrentAccount, container: ContainerDep
) -> ListingOut:
    """Stop taking orders for the listing (open orders go on)."""
    return listing_out(
        service.set_listing_active(
            container.uow(), actor=principal, listing_id=listing_id, active=False,
            now=container.clock.now(),
        )
    )


@router.post("/listings/{listing_id}/activate", response_model=ListingOut,
             responses=problem_responses(403, 404))
def activate_listing(
    listing_id: ListingId, principal: CurrentAccount, container: ContainerDep
) -> ListingOut:
    """Take orders for the listing again."""
    return listing_out(
        service.set_listing_active(
            container.uow(), actor=principal, listing_id=listing_id, active=True,
            now=container.clock.now(),
        )
    )
