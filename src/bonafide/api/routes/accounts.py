"""Accounts: sign up, who am I, an account's private view, granting and removing roles.

| route                                  | who                         |
|----------------------------------------|-----------------------------|
| POST   /v1/accounts                    | anyone (rate-limited per IP)|
| GET    /v1/me                          | any authenticated account   |
| GET    /v1/accounts/{id}               | the account, operators      |
| POST   /v1/accounts/{id}/roles         | self (buyer/seller), operator (also moderator) |
| DELETE /v1/accounts/{id}/roles/{role}  | operator                    |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from bonafide.api.deps import ContainerDep, CurrentAccount, client_ip
from bonafide.api.problems import problem_responses
from bonafide.api.schemas import AccountOut, NewAccountOut, RoleIn, SignUpIn
from bonafide.market.accounts import Role
from bonafide.service import accounts as service
from bonafide.service.ratelimit import RateLimiter

router = APIRouter(prefix="/v1", tags=["accounts"], responses=problem_responses(400, 413, 422))

AccountId = Annotated[str, Path(min_length=1, max_length=64)]


def account_out(info: service.AccountInfo) -> AccountOut:
    p = info.principal
    return AccountOut(
        id=p.id,
        handle=p.handle,
        roles=sorted(p.roles),
        status=p.status,
        created_at=info.created_at,
    )


@router.post(
    "/accounts",
    status_code=201,
    response_model=NewAccountOut,
    responses=problem_responses(403, 409, 429),
)
def sign_up(body: SignUpIn, request: Request, container: ContainerDep) -> NewAccountOut:
    """Sign up as a buyer and/or seller. The API key in the answer is shown only this once."""
    now = container.clock.now()
    limiter: RateLimiter = request.app.state.signup_limiter
    limiter.hit(client_ip(request), now=now)
    made = service.sign_up(
        container.uow(),
        handle=body.handle,
        roles=frozenset(body.roles),
        settings=container.settings,
        now=now,
    )
    return NewAccountOut(**account_out(made.account).model_dump(), api_key=made.api_key)


@router.get("/me", response_model=AccountOut, responses=problem_responses(401, 429))
def me(principal: CurrentAccount, container: ContainerDep) -> AccountOut:
    """The calling account."""
    return account_out(
        service.get_account(
            container.uow(read_only=True), viewer=principal, account_id=principal.id
        )
    )


@router.get(
    "/accounts/{account_id}",
    response_model=AccountOut,
    responses=problem_responses(401, 403, 404, 429),
)
def get_account(
    account_id: AccountId, principal: CurrentAccount, container: ContainerDep
) -> AccountOut:
    """An account's private view: for the account itself and operators."""
    return account_out(
        service.get_account(container.uow(read_only=True), viewer=principal, account_id=account_id)
    )


@router.post(
    "/accounts/{account_id}/roles",
    response_model=AccountOut,
    responses=problem_responses(401, 403, 404, 429),
)
def grant_role(
    account_id: AccountId, body: RoleIn, principal: CurrentAccount, container: ContainerDep
) -> AccountOut:
    """Add a role: buyer or seller to yourself; operators also grant moderator."""
    return account_out(
        service.grant_role(
            container.uow(),
            granter=principal,
            account_id=account_id,
            role=body.role,
            now=container.clock.now(),
        )
    )


@router.delete(
    "/accounts/{account_id}/roles/{role}",
    response_model=AccountOut,
    responses=problem_responses(401, 403, 404, 409, 429),
)
def revoke_role(
    account_id: AccountId, role: Role, principal: CurrentAccount, container: ContainerDep
) -> AccountOut:
    """Remove a role (operators only; the operator role is managed with the CLI)."""
    return account_out(
        service.revoke_role(
            container.uow(),
            granter=principal,
            account_id=account_id,
            role=role,
            now=container.clock.now(),
        )
    )
