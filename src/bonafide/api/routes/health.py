"""``GET /v1/health``: the process is up and its database answers."""

from __future__ import annotations

from fastapi import APIRouter

from bonafide.api.deps import ContainerDep
from bonafide.api.schemas import HealthOut
from bonafide.service.accounts import database_answers

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(container: ContainerDep) -> HealthOut:
    return HealthOut(ok=database_answers(container.uow(read_only=True)))
