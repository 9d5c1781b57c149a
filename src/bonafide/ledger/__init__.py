"""The escrow ledger: double-entry accounts, two-phase transfers and a hash-chained journal.

Owns: the ledger's rules, pure. Imports: the standard library, ``bonafide.money`` and
``bonafide.errors``; never a database, a framework or a clock (``now`` is an argument).
``bonafide.store`` loads, locks and persists; ``bonafide.service.ledger`` composes the two.

- ``model``: ids, kinds, ``TransferSpec``, ``Transfer``, ``Balance`` and the sign convention.
- ``transfers``: ``plan_batch``, the rules of a linked batch and its named errors.
- ``journal``: entries, canonical bytes, the hash chain.
- ``audit``: replaying the journal to verify the stored state.
"""

from bonafide.ledger.audit import Problem, VerifyReport
from bonafide.ledger.model import (
    AccountKind,
    AccountState,
    Balance,
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferSpec,
    TransferState,
)

__all__ = [
    "AccountKind",
    "AccountState",
    "Balance",
    "LedgerAccountId",
    "Problem",
    "Transfer",
    "TransferKind",
    "TransferSpec",
    "TransferState",
    "VerifyReport",
]
