"""Proof of liabilities over HTTP: the latest signed root, owners' proofs, declared reserves.

| route                                      | who      |
|--------------------------------------------|----------|
| GET  /v1/liabilities                       | anyone   |
| GET  /v1/accounts/{id}/liabilities/proof   | the owner|
| POST /v1/liabilities/reserves              | operator |

``GET /v1/liabilities`` is the ROOT.json a user saves; the proof route gives the PROOF.json
(formats in ``bonafide.service.liabilities``). ``bonafide liabilities verify PROOF.json --root
ROOT.json`` checks them offline. Reserves are the operator's declaration, not signed and not
proven: the root response compares them with the liabilities and warns when they fall short.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from bonafide.api.deps import ContainerDep, CurrentAccount, require_roles
from bonafide.api.problems import problem_responses
from bonafide.api.schemas import MoneyIn, MoneyOut
from bonafide.market.accounts import Principal, Role
from bonafide.money import Money
from bonafide.service import liabilities as service

router = APIRouter(prefix="/v1", tags=["transparency"], responses=problem_responses(400, 422))

Operator = Annotated[Principal, Depends(require_roles(Role.operator))]


class ReservesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn
    note: Annotated[StrictStr, Field(max_length=service.NOTE_LENGTH_MAX)] = ""


class ReservesOut(BaseModel):
    amount: MoneyOut
    note: str
    declared_at: datetime
    declared_by: str


@router.get("/liabilities", responses=problem_responses(404))
def latest(container: ContainerDep) -> dict[str, Any]:
    """The newest signed liabilities root (ROOT.json), with reserves and any warning."""
    view = service.latest_root(container.uow(read_only=True), settings=container.settings,
                               now=container.clock.now())
    return view.to_json()


@router.get("/accounts/{account_id}/liabilities/proof",
            responses=problem_responses(401, 403, 404))
def proof(
    account_id: Annotated[str, Path(min_length=1, max_length=64)],
    principal: CurrentAccount,
    container: ContainerDep,
    snapshot_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict[str, Any]:
    """The caller's inclusion proofs (PROOF.json) in the newest snapshot, or ``snapshot_id``."""
    bundle = service.owner_proofs(container.uow(read_only=True), viewer=principal,
                                  account_id=account_id, snapshot_id=snapshot_id)
    return bundle.to_json()


@router.post("/liabilities/reserves", status_code=201, response_model=ReservesOut,
             responses=problem_responses(401, 403))
def declare_reserves(body: ReservesIn, principal: Operator, container: ContainerDep
                     ) -> ReservesOut:
    """Declare the reserves the operator holds in one currency (operators only)."""
    amount: Money = body.amount.to_money()
    row = service.declare_reserves(container.uow(), actor=principal, amount=amount,
                                   note=body.note, now=container.clock.now())
    return ReservesOut(amount=MoneyOut.of(amount), note=row.note, declared_at=row.declared_at,
                       declared_by=row.declared_by)
