"""Sellers: public profile and the seller bond.

| route                             | who                              | idempotency key |
|-----------------------------------|----------------------------------|-----------------|
| GET  /v1/sellers/{id}/profile     | anyone                           |                 |
| PUT  /v1/sellers/{id}/profile     | the seller                       |                 |
| POST /v1/sellers/{id}/bond        | the seller                       | required        |
| GET  /v1/sellers/{id}/bond        | the seller, moderators, operators|                 |
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from bonafide.api.deps import (
    ContainerDep,
    CurrentAccount,
    IdempotencyKey,
    run_idempotent_route,
)
from bonafide.api.problems import problem_responses
from bonafide.api.schemas import BondOut, MoneyOut, ProfileIn, ProfileOut
from bonafide.errors import Forbidden
from bonafide.market.accounts import Role
from bonafide.market.listings import Bond, SellerProfile
from bonafide.service import listings as service
from bonafide.service.idempotency import OpenUnitOfWork

router = APIRouter(prefix="/v1", tags=["sellers"], responses=problem_responses(400, 413, 422))

SellerId = Annotated[str, Path(min_length=1, max_length=64)]


def profile_out(profile: SellerProfile) -> ProfileOut:
    return ProfileOut(
        seller_id=profile.seller_id,
        about=profile.about,
        shipping_policy=profile.shipping_policy,
        returns_policy=profile.returns_policy,
        claims=list(profile.claims),
        updated_at=profile.updated_at,
    )


def bond_out(bond: Bond) -> BondOut:
    return BondOut(
        seller_id=bond.seller_id,
        amount=MoneyOut.of(bond.amount),
        covered=MoneyOut.of(bond.covered),
        remaining=MoneyOut.of(bond.remaining),
        status=bond.status,
        placed_at=bond.placed_at,
        returned_at=bond.returned_at,
    )


@router.get("/sellers/{seller_id}/profile", response_model=ProfileOut,
            responses=problem_responses(404))
def get_profile(seller_id: SellerId, container: ContainerDep) -> ProfileOut:
    """A seller's public profile: about, shipping and returns policies, stated claims."""
    return profile_out(service.get_profile(container.uow(read_only=True), seller_id=seller_id))


@router.put("/sellers/{seller_id}/profile", response_model=ProfileOut,
            responses=problem_responses(401, 403, 429))
def put_profile(
    seller_id: SellerId, body: ProfileIn, principal: CurrentAccount, container: ContainerDep
) -> ProfileOut:
    """The seller writes their whole profile."""
    return profile_out(
        service.put_profile(
            container.uow(),
            actor=principal,
            seller_id=seller_id,
            about=body.about,
            shipping_policy=body.shipping_policy,
            returns_policy=body.returns_policy,
            claims=body.claims,
            now=container.clock.now(),
        )
    )


@router.post("/sellers/{seller_id}/bond", status_code=201, response_model=BondOut,
             responses=problem_responses(401, 403, 409, 429))
async def place_bond(
    seller_id: SellerId,
    request: Request,
    principal: CurrentAccount,
    key: IdempotencyKey,
    container: ContainerDep,
) -> JSONResponse:
    """Move the market's seller bond from the seller's wallet into their bond account."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        bond = service.place_bond_in(
            uow, seller=principal, seller_id=seller_id, settings=container.settings, now=now
        )
        return 201, bond_out(bond).model_dump(mode="json")

    return await run_idempotent_route(
        request, container, principal=principal, key=key, body=None, action=action
    )


@router.get("/sellers/{seller_id}/bond", response_model=BondOut,
            responses=problem_responses(401, 403, 404, 429))
def get_bond(seller_id: SellerId, principal: CurrentAccount, container: ContainerDep) -> BondOut:
    """The seller's bond: placed, covered so far, remaining, returned."""
    if principal.id != seller_id and not principal.has_any((Role.moderator, Role.operator)):
        raise Forbidden("not_account_owner", "only the seller, moderators and operators see this")
    return bond_out(service.get_bond(container.uow(read_only=True), seller_id=seller_id))
