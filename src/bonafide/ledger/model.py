"""The ledger's nouns: accounts, balances, transfer requests and stored transfers.

Owns: ``LedgerAccountId``, ``AccountKind``, ``TransferKind``, ``TransferState``, ``TransferSpec``,
``Transfer``, ``Balance``, ``AccountState`` and the ledger's limits. Imports: the standard library,
``bonafide.money`` and ``bonafide.errors``; no database, no clock.

Sign convention
    Every account is *credit-normal*: its balance is ``credits_posted - debits_posted``. A deposit
    credits the user's wallet and debits ``external``; a fee credits ``fees``; an operator funds
    ``promotions`` by a transfer from ``external`` and spends it by debiting ``promotions``. So
    wallets, escrow, fees and promotions hold what the market owes somebody (liabilities, or the
    operator's own money in fees/promotions) and may never go below zero; ``external`` mirrors the
    money that entered from outside, is negative by exactly that amount, and is the only kind that
    may go negative. Per currency the balances of all accounts sum to zero, because every posted
    transfer adds the same amount to one account's credits and another's debits.

Two-phase transfers
    A *pending* transfer reserves ``amount`` on the debit account (``debits_pending``) and
    announces it on the credit account (``credits_pending``). ``available`` counts reservations
    out of an account but not those into it, so the limit check at reservation time is the only
    check needed: posting (all or part) and voiding can only shrink what is reserved.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from typing import NewType

from bonafide.errors import Rejected
from bonafide.money import VALUE_MAX, Money

LedgerAccountId = NewType("LedgerAccountId", int)
"""A ledger account's id. (User accounts elsewhere have string ids; these are ledger-internal.)"""

TRANSFERS_PER_BATCH_MAX = 8_192
"""Limit on the transfers of one linked batch."""
TRANSFER_ID_LENGTH_MAX = 128
MEMO_LENGTH_MAX = 500
ACTOR_LENGTH_MAX = 200
OWNER_ID_LENGTH_MAX = 64
ACCOUNT_NAME_LENGTH_MAX = 200
COUNTER_MAX = VALUE_MAX
"""Limit on each of an account's four counters, so every balance read fits ``Money``."""

RESERVED_ID_PREFIX = "~"
"""Transfer ids starting with this are made by the ledger itself (the expiry sweep)."""

_TRANSFER_ID = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


class AccountKind(enum.StrEnum):
    WALLET = "wallet"
    ESCROW = "escrow"
    FEES = "fees"
    PROMOTIONS = "promotions"
    EXTERNAL = "external"


class TransferKind(enum.StrEnum):
    SINGLE = "single"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"


class TransferState(enum.StrEnum):
    """Where a stored transfer stands.

    ``single`` and ``post_pending`` transfers are ``posted``, ``void_pending`` ones ``voided``. A
    ``pending`` transfer is ``pending`` until resolved, then ``posted``, ``voided``, or ``expired``
    (voided at or after its ``expires_at``, by the sweep or by a late void).
    """

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's four counters, in minor units of ``currency``."""

    currency: str
    debits_pending: int = 0
    debits_posted: int = 0
    credits_pending: int = 0
    credits_posted: int = 0

    @property
    def posted(self) -> Money:
        """``credits_posted - debits_posted``: the balance ignoring reservations."""
        return Money(self.credits_posted - self.debits_posted, self.currency)

    @property
    def available(self) -> Money:
        """What may be spent: posted balance minus funds reserved by pending transfers out."""
        return Money(self.credits_posted - self.debits_posted - self.debits_pending, self.currency)

    @property
    def held(self) -> Money:
        """Funds reserved by pending transfers out of this account."""
        return Money(self.debits_pending, self.currency)

    @property
    def incoming(self) -> Money:
        """Funds reserved for this account by pending transfers into it (not yet spendable)."""
        return Money(self.credits_pending, self.currency)


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the ledger needs to know of an account to move money through it."""

    id: LedgerAccountId
    kind: AccountKind
    balance: Balance

    @property
    def currency(self) -> str:
        return self.balance.currency


@dataclass(frozen=True, slots=True)
class TransferSpec:
    """A request to move money; ``id`` is chosen by the client and is its idempotency key.

    ``debit_account_id`` / ``credit_account_id`` may be ``None`` for ``post_pending`` and
    ``void_pending`` (they are taken from the pending transfer); if given they must match it.
    ``amount`` of a post may be less than the pending amount (the rest returns to the debit
    account); the amount of a void is ignored. ``expires_at`` is for pending transfers only.
    """

    id: str
    debit_account_id: LedgerAccountId | None
    credit_account_id: LedgerAccountId | None
    amount: Money
    kind: TransferKind = TransferKind.SINGLE
    pending_id: str | None = None
    expires_at: datetime | None = None
    memo: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer as stored in the journal (accounts resolved), with its place and state.

    For ``post_pending`` ``amount`` is the amount posted; for ``void_pending`` it is the amount
    that was reserved and is now released. ``sequence`` is the transfer's place in the journal:
    later transfers that depend on it (through an account or a pending) have larger ones. On
    PostgreSQL the numbers may skip (a transaction that fails after drawing one); each journal
    lane is numbered without gaps (see ``bonafide.ledger.journal``).
    """

    id: str
    debit_account_id: LedgerAccountId
    credit_account_id: LedgerAccountId
    amount: Money
    kind: TransferKind
    pending_id: str | None
    expires_at: datetime | None
    memo: str
    actor: str
    created_at: datetime
    sequence: int
    state: TransferState

    def matches(self, spec: TransferSpec) -> bool:
        """True when ``spec`` asks for exactly what this transfer did (an idempotent retry)."""
        if spec.id != self.id or spec.kind is not self.kind or spec.pending_id != self.pending_id:
            return False
        if spec.debit_account_id not in (None, self.debit_account_id):
            return False
        if spec.credit_account_id not in (None, self.credit_account_id):
            return False
        if spec.kind is TransferKind.VOID_PENDING:
            # A void's amount is ignored on the way in, so only its currency can disagree.
            same_amount = spec.amount.currency == self.amount.currency
        else:
            same_amount = spec.amount == self.amount
        return (
            same_amount
            and spec.expires_at == self.expires_at
            and spec.memo == self.memo
            and spec.actor == self.actor
        )


def check_transfer_id(transfer_id: object, *, reserved_allowed: bool = False) -> str:
    """Return ``transfer_id`` if it is a usable client id, else raise a named ``Rejected``."""
    # The ledger's own ids are a client id behind the reserved prefix, hence one more character.
    length_max = TRANSFER_ID_LENGTH_MAX + (len(RESERVED_ID_PREFIX) if reserved_allowed else 0)
    if (
        not isinstance(transfer_id, str)
        or not 1 <= len(transfer_id) <= length_max
        or not _TRANSFER_ID.match(transfer_id)
    ):
        raise Rejected(
            "transfer_id_invalid",
            f"{transfer_id!r}: 1 to {TRANSFER_ID_LENGTH_MAX} printable ASCII characters, no spaces",
        )
    if transfer_id.startswith(RESERVED_ID_PREFIX) and not reserved_allowed:
        raise Rejected(
            "transfer_id_reserved", f"ids starting with {RESERVED_ID_PREFIX!r} are the ledger's"
        )
    return transfer_id


def account_key(
    *, kind: AccountKind, currency: str, owner_id: str | None, name: str | None
) -> str:
    """The unique key of an account: one wallet per (owner, currency), one fees/promotions/
    external per currency (and name), one escrow per name."""
    if kind is AccountKind.WALLET and not owner_id:
        raise Rejected("wallet_needs_owner", "a wallet belongs to an owner_id")
    if kind is AccountKind.ESCROW and not name:
        raise Rejected("escrow_needs_name", 'an escrow account is named, e.g. "order:<id>"')
    if owner_id is not None and not 1 <= len(owner_id) <= OWNER_ID_LENGTH_MAX:
        raise Rejected("owner_id_invalid", f"1 to {OWNER_ID_LENGTH_MAX} characters")
    if name is not None and not 1 <= len(name) <= ACCOUNT_NAME_LENGTH_MAX:
        raise Rejected("account_name_invalid", f"1 to {ACCOUNT_NAME_LENGTH_MAX} characters")
    # Length-prefixed parts keep the key unambiguous whatever characters the parts contain.
    parts = [str(kind), currency, owner_id or "", name or ""]
    return "|".join(f"{len(p)}:{p}" for p in parts)
