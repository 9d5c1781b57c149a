"""Wallets: operator deposits, owner withdrawals, balances.

| route                                 | who                    | idempotency key |
|---------------------------------------|------------------------|-----------------|
| POST /v1/deposits                     | operator               | required        |
| POST /v1/withdrawals                  | any account, own money | required        |
| GET  /v1/accounts/{id}/balance        | the account, operators |                 |
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from bonafide.api.deps import (
    ContainerDep,
    CurrentAccount,
    IdempotencyKey,
    require_roles,
    run_idempotent_route,
)
from bonafide.api.problems import problem_responses
from bonafide.api.schemas import (
    BalanceOut,
    BalancesOut,
    DepositIn,
    MoneyOut,
    MovementOut,
    WithdrawalIn,
)
from bonafide.market.accounts import Principal, Role
from bonafide.service import wallets as service
from bonafide.service.idempotency import OpenUnitOfWork

router = APIRouter(
    prefix="/v1", tags=["wallets"], responses=problem_responses(400, 401, 413, 422, 429)
)

Operator = Annotated[Principal, Depends(require_roles(Role.operator))]


def movement_out(movement: service.Movement) -> dict[str, Any]:
    return MovementOut(
        id=movement.id,
        account_id=movement.account_id,
        amount=MoneyOut.of(movement.amount),
        created_at=movement.created_at,
    ).model_dump(mode="json")


@router.post(
    "/deposits",
    status_code=201,
    response_model=MovementOut,
    responses=problem_responses(403, 404, 409),
)
async def deposit(
    body: DepositIn,
    request: Request,
    principal: Operator,
    key: IdempotencyKey,
    container: ContainerDep,
) -> JSONResponse:
    """Credit an account's wallet with money that arrived from outside (operators only)."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        movement = service.deposit_in(
            uow, account_id=body.account_id, amount=body.amount.to_money(), actor=principal.id,
            now=now,
        )
        return 201, movement_out(movement)

    return await run_idempotent_route(
        request, container, principal=principal, key=key,
        body=body.model_dump(mode="json"), action=action,
    )


@router.post(
    "/withdrawals",
    status_code=201,
    response_model=MovementOut,
    responses=problem_responses(409),
)
async def withdraw(
    body: WithdrawalIn,
    request: Request,
    principal: CurrentAccount,
    key: IdempotencyKey,
    container: ContainerDep,
) -> JSONResponse:
    """Pay out available funds of the caller's wallet (never held ones)."""
    now = container.clock.now()

    def action(uow: OpenUnitOfWork) -> tuple[int, dict[str, Any]]:
        movement = service.withdraw_in(
            uow, account_id=principal.id, amount=body.amount.to_money(), actor=principal.id,
            now=now,
        )
        return 201, movement_out(movement)

    return await run_idempotent_route(
        request, container, principal=principal, key=key,
        body=body.model_dump(mode="json"), action=action,
    )


@router.get(
    "/accounts/{account_id}/balance",
    response_model=BalancesOut,
    responses=problem_responses(403, 404),
)
def balance(
    account_id: Annotated[str, Path(min_length=1, max_length=64)],
    principal: CurrentAccount,
    container: ContainerDep,
) -> BalancesOut:
    """Per currency: what the account may spend and what is held (escrow holds, seller bond)."""
    found = service.balances(
        container.uow(read_only=True), viewer=principal, account_id=account_id
    )
    return BalancesOut(
        account_id=account_id,
        balances=[
            BalanceOut(
                currency=b.currency,
                available=MoneyOut.of(b.available),
                held=MoneyOut.of(b.held),
            )
            for b in found
        ],
    )
