"""The market's public keys: ``GET /.well-known/bonafide-market.json`` (anyone).

| route                                  | who    |
|----------------------------------------|--------|
| GET /.well-known/bonafide-market.json  | anyone |

The keyring document (``bonafide.attest.keys``): market id and name, the current key and the
retired ones with their validity periods. Other markets import it to trust this one's
attestations; users compare its key ids with the one that signed a liabilities root.

The router's lifespan makes the market key when the server starts (if there is none yet), so a
bad key file (say, readable by others) stops ``bonafide serve`` at once rather than at the first
signature.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from bonafide.api.deps import ContainerDep
from bonafide.bootstrap import Container
from bonafide.service import keys


@asynccontextmanager
async def make_key_at_start(app: FastAPI) -> AsyncIterator[None]:
    container = app.state.container
    assert isinstance(container, Container)
    keys.load_or_create(container.settings, now=container.clock.now())
    yield


router = APIRouter(tags=["transparency"], lifespan=make_key_at_start)


@router.get("/.well-known/bonafide-market.json")
def well_known(container: ContainerDep) -> dict[str, Any]:
    """This market's keyring: who it is and which Ed25519 keys sign for it, and when."""
    return keys.well_known(container.settings, now=container.clock.now())
