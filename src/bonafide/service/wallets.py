"""Use cases of wallets: operator deposits, owner withdrawals, balances.

Owns: how the market's members' money enters and leaves through the ledger. Imports:
``bonafide.service.ledger`` (the escrow ledger's use cases), ``bonafide.service.accounts``.

Deposits and withdrawals are written inside an open unit of work (``deposit_in``,
``withdraw_in``) so that the HTTP layer can run them under an idempotency key in the same
transaction (``service.idempotency.run_idempotent``).

A member's ``held`` money is what is theirs but not spendable: pending escrow holds out of their
wallet (orders being paid for) plus their seller bond, if any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bonafide.errors import Rejected
from bonafide.ids import new_id
from bonafide.ledger.model import AccountKind, Transfer, TransferSpec
from bonafide.market.accounts import Principal, check_may_view_account
from bonafide.money import POINTS, Money
from bonafide.service import ledger
from bonafide.service.accounts import principal_of
from bonafide.store.uow import UnitOfWork

BOND_ACCOUNT_NAME = "seller_bond"


@dataclass(frozen=True, slots=True)
class WalletBalance:
    currency: str
    available: Money
    held: Money


@dataclass(frozen=True, slots=True)
class Movement:
    """A deposit or withdrawal as the API reports it."""

    id: str
    account_id: str
    amount: Money
    created_at: datetime


def _movable(amount: Money) -> Money:
    """A positive amount of real money: loyalty points neither arrive nor leave from outside."""
    if amount.value <= 0:
        raise Rejected("amount_must_be_positive", f"{amount.value} is not greater than zero")
    if amount.currency == POINTS:
        raise Rejected(
            "loyalty_points_are_not_money",
            "loyalty points are earned and spent in the market, never deposited or paid out",
        )
    return amount


def deposit_in(
    uow: UnitOfWork, *, account_id: str, amount: Money, actor: str, now: datetime
) -> Movement:
    """Inside an open unit of work: credit ``account_id``'s wallet from ``external``."""
    _movable(amount)
    principal_of(uow, account_id)  # NotFound(account_not_found) before any money moves
    wallet = ledger.account_for(
        uow, kind=AccountKind.WALLET, currency=amount.currency, owner_id=account_id
    )
    external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency=amount.currency)
    transfer_id = new_id("dep", now=now)
    ledger.execute(
        uow,
        [
            TransferSpec(
                id=transfer_id,
                debit_account_id=external,
                credit_account_id=wallet,
                amount=amount,
                memo="deposit",
                actor=actor,
            )
        ],
        now=now,
    )
    return Movement(id=transfer_id, account_id=account_id, amount=amount, created_at=now)


def withdraw_in(
    uow: UnitOfWork, *, account_id: str, amount: Money, actor: str, now: datetime
) -> Movement:
    """Inside an open unit of work: pay ``amount`` of available funds out to ``external``.

    Held funds are never available, so a withdrawal cannot touch escrow holds; the ledger refuses
    an amount above ``available`` with ``exceeds_available_balance``.
    """
    _movable(amount)
    wallet = ledger.account_for(
        uow, kind=AccountKind.WALLET, currency=amount.currency, owner_id=account_id
    )
    external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency=amount.currency)
    transfer_id = new_id("wdr", now=now)
    transfers: list[Transfer] = ledger.execute(
        uow,
        [
            TransferSpec(
                id=transfer_id,
                debit_account_id=wallet,
                credit_account_id=external,
                amount=amount,
                memo="withdrawal",
                actor=actor,
            )
        ],
        now=now,
    )
    assert len(transfers) == 1
    return Movement(id=transfer_id, account_id=account_id, amount=amount, created_at=now)


def balances(uow: UnitOfWork, *, viewer: Principal, account_id: str) -> list[WalletBalance]:
    """Per currency, what ``account_id`` may spend and what is held (owner or operator)."""
    check_may_view_account(viewer=viewer, account_id=account_id)
    with uow:
        principal_of(uow, account_id)
        found = ledger.balances_of_owner(uow, account_id)
    totals: dict[str, tuple[int, int]] = {}
    for _, kind, balance in found:
        available, held = totals.get(balance.currency, (0, 0))
        if kind is AccountKind.WALLET:
            available += balance.available.value
            held += balance.held.value
        elif kind is AccountKind.ESCROW:
            # The only escrow account with an owner is the seller bond (order escrows have none).
            held += balance.posted.value
        else:
            continue
        totals[balance.currency] = (available, held)
    return [
        WalletBalance(currency=c, available=Money(a, c), held=Money(h, c))
        for c, (a, h) in sorted(totals.items())
    ]
