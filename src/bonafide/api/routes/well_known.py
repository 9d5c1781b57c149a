"""The market's public keys: ``GET /.well-known/bonafide-market.json`` (anyone).

| route                                  | who    |
|----------------------------------------|--------|
| GET /.well-known/bonafide-market.json  | anyone |

The keyring document (``bonafide.attest.keys``): market id and name, the current key and the
retired ones with their validity periods. Other markets import it to trust this one's
attestations; users compare its key ids with the one that signed a liabilities root.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from bonafide.api.deps import ContainerDep
from bonafide.service import keys

router = APIRouter(tags=["transparency"])


@router.get("/.well-known/bonafide-market.json")
def well_known(container: ContainerDep) -> dict[str, Any]:
    """This market's keyring: who it is and which Ed25519 keys sign for it, and when."""
    return keys.well_known(container.settings, now=container.clock.now())
