"""``GET /v1/ledger/verify`` (operators): re-derive every balance from the journal, check the chain.

The same report as ``bonafide ledger verify --json`` (DESIGN.md §8): ``{ok, entries, head,
accounts, problems, problems_total}``. It reads the whole journal in one snapshot, so it is an
operator's tool, not something to poll.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from bonafide.api.deps import ContainerDep, require_roles
from bonafide.api.schemas import LedgerVerifyOut
from bonafide.market.accounts import Principal, Role
from bonafide.service import ledger as service

router = APIRouter(prefix="/v1", tags=["ledger"])


@router.get("/ledger/verify", response_model=LedgerVerifyOut)
def verify(
    principal: Annotated[Principal, Depends(require_roles(Role.operator))],
    container: ContainerDep,
) -> LedgerVerifyOut:
    """Check the ledger: hash chains, zero sum per currency, no negative balances."""
    report = service.verify(container.uow(read_only=True))
    return LedgerVerifyOut.model_validate(report.to_json())
