"""Applying a linked batch of transfers to loaded account states: the ledger's rules in one place.

Owns: ``plan_batch`` and ``Plan``. Imports: ``bonafide.ledger.model``, ``bonafide.money``,
``bonafide.errors``. Pure: the caller loads and locks what the batch touches, passes ``now``, and
persists the plan; nothing here reads a clock or a database.

A batch is linked: the first transfer that breaks a rule raises its named error and the caller
writes nothing. Transfers later in a batch see the effects of earlier ones (a pending transfer
and its post may share a batch).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bonafide.errors import Conflict, NotFound, Rejected
from bonafide.ledger.model import (
    ACTOR_LENGTH_MAX,
    COUNTER_MAX,
    MEMO_LENGTH_MAX,
    TRANSFERS_PER_BATCH_MAX,
    AccountKind,
    AccountState,
    Balance,
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferSpec,
    TransferState,
    check_transfer_id,
)
from bonafide.money import Money, check_value

UNSEQUENCED = -1
"""``sequence`` of a planned transfer until the journal seals it."""

# Indexes into an account's working counters.
_DP, _DPO, _CP, _CPO = 0, 1, 2, 3


@dataclass
class Plan:
    """What a batch does: the transfers to return, those to append, and the state to persist."""

    results: list[Transfer]
    """One per request, in order: the stored transfer for a retry, else the new one."""
    new: list[Transfer]
    """Transfers to append to the journal, in order, not yet sequenced."""
    balances: dict[LedgerAccountId, Balance]
    """New balances of the accounts the batch changed."""
    holds_opened: list[Transfer] = field(default_factory=list)
    """Pending transfers created by this batch and still unresolved at its end."""
    holds_closed: list[str] = field(default_factory=list)
    """Ids of pending transfers, stored before this batch, that the batch resolved."""


def check_spec(spec: TransferSpec, *, reserved_allowed: bool = False) -> None:
    """Refuse a request that is malformed whatever the state of the ledger."""
    check_transfer_id(spec.id, reserved_allowed=reserved_allowed)
    assert isinstance(spec.amount, Money), "amount is Money; parse outside input first"
    kind = spec.kind
    if kind in (TransferKind.SINGLE, TransferKind.PENDING):
        if spec.debit_account_id is None or spec.credit_account_id is None:
            raise Rejected(
                "accounts_must_not_be_none", f"{kind} transfers name both accounts"
            )
        if spec.debit_account_id == spec.credit_account_id:
            raise Rejected("accounts_must_be_different", f"account {spec.debit_account_id}")
        if spec.pending_id is not None:
            raise Rejected("pending_id_must_be_none", f"{kind} transfers resolve no pending")
        check_value(spec.amount.value, positive=True)
    else:
        if spec.pending_id is None:
            raise Rejected("pending_id_must_not_be_none", f"{kind} names the pending transfer")
        check_transfer_id(spec.pending_id, reserved_allowed=True)
        if kind is TransferKind.POST_PENDING:
            check_value(spec.amount.value, positive=True)
    if spec.expires_at is not None:
        if kind is not TransferKind.PENDING:
            raise Rejected("expires_at_reserved_for_pending_transfer", f"{kind} cannot expire")
        if spec.expires_at.tzinfo is None:
            raise Rejected("expires_at_must_be_timezone_aware", "give expires_at in UTC")
    if len(spec.memo) > MEMO_LENGTH_MAX:
        raise Rejected("memo_too_long", f"up to {MEMO_LENGTH_MAX} characters")
    if len(spec.actor) > ACTOR_LENGTH_MAX:
        raise Rejected("actor_too_long", f"up to {ACTOR_LENGTH_MAX} characters")


def check_batch(specs: Sequence[TransferSpec], *, reserved_allowed: bool = False) -> None:
    """``check_spec`` on each, plus the batch's own limits."""
    if len(specs) > TRANSFERS_PER_BATCH_MAX:
        raise Rejected("batch_too_large", f"{len(specs)} > {TRANSFERS_PER_BATCH_MAX} transfers")
    seen: set[str] = set()
    for spec in specs:
        check_spec(spec, reserved_allowed=reserved_allowed)
        if spec.id in seen:
            raise Rejected("transfer_ids_must_be_unique_in_batch", spec.id)
        seen.add(spec.id)


def plan_batch(
    specs: Sequence[TransferSpec],
    *,
    accounts: Mapping[LedgerAccountId, AccountState],
    stored: Mapping[str, Transfer],
    open_pending_ids: Collection[str],
    resolutions: Mapping[str, Transfer],
    now: datetime,
    skip_resolved_voids: bool = False,
) -> Plan:
    """Apply ``specs`` in order to ``accounts`` and return the plan, or raise the first error.

    Parameters
    ----------
    specs
        The linked batch, already passed through ``check_batch``.
    accounts
        Every account the batch may touch (locked by the caller), by id.
    stored
        Stored transfers by id: at least those with a requested id, and the pending transfers
        that the batch posts or voids.
    open_pending_ids
        Which of those pending transfers are still unresolved (their holds, locked).
    resolutions
        For stored pending transfers that are resolved: the transfer that resolved each.
    skip_resolved_voids
        Drop voids of pendings already resolved instead of failing (the expiry sweep, which
        may race with a post).
    """
    batch = _Batch(accounts, stored, open_pending_ids, resolutions, now, skip_resolved_voids)
    for spec in specs:
        batch.apply(spec)
    return batch.plan()


class _Batch:
    def __init__(
        self,
        accounts: Mapping[LedgerAccountId, AccountState],
        stored: Mapping[str, Transfer],
        open_pending_ids: Collection[str],
        resolutions: Mapping[str, Transfer],
        now: datetime,
        skip_resolved_voids: bool,
    ) -> None:
        assert now.tzinfo is not None, "the ledger speaks aware UTC datetimes"
        self.accounts = accounts
        self.stored = stored
        self.open_pending_ids = open_pending_ids
        self.resolutions = resolutions
        self.now = now
        self.skip_resolved_voids = skip_resolved_voids
        self.counters: dict[LedgerAccountId, list[int]] = {}
        self.results: list[Transfer] = []
        self.new: list[Transfer] = []
        self.new_pendings: dict[str, int] = {}  # id -> index in self.new
        self.pending_results: dict[str, int] = {}  # id -> index in self.results
        self.resolved: dict[str, Transfer] = {}  # pending id -> resolving transfer in this batch

    # --- the rules ----------------------------------------------------------------------------
    def apply(self, spec: TransferSpec) -> None:
        found = self.stored.get(spec.id)
        if found is not None:
            if not found.matches(spec):
                raise Conflict(
                    "transfer_exists_with_different_fields",
                    f"transfer {spec.id!r} was already made with other fields",
                )
            self.results.append(found)
            return
        if spec.kind in (TransferKind.SINGLE, TransferKind.PENDING):
            transfer = self._move(spec)
        else:
            resolving = self._resolve(spec)
            if resolving is None:
                return
            transfer = resolving
        self.results.append(transfer)
        self.new.append(transfer)

    def _move(self, spec: TransferSpec) -> Transfer:
        assert spec.debit_account_id is not None and spec.credit_account_id is not None
        # Checked here, not in check_spec: a retry after the expiry must still get its result.
        if spec.expires_at is not None and spec.expires_at <= self.now:
            raise Rejected("expires_at_must_be_in_the_future", f"{spec.expires_at} <= {self.now}")
        debit = self._account(spec.debit_account_id)
        credit = self._account(spec.credit_account_id)
        amount = spec.amount
        if not debit.currency == credit.currency == amount.currency:
            raise Rejected(
                "currencies_must_match",
                f"debit {debit.currency}, credit {credit.currency}, amount {amount.currency}",
            )
        d = self._counters(debit)
        c = self._counters(credit)
        if debit.kind is not AccountKind.EXTERNAL and d[_CPO] - d[_DPO] - d[_DP] < amount.value:
            raise Rejected(
                "exceeds_available_balance",
                f"account {debit.id} has {d[_CPO] - d[_DPO] - d[_DP]} available, "
                f"{amount.value} asked",
            )
        pending = spec.kind is TransferKind.PENDING
        slot_d, slot_c = (_DP, _CP) if pending else (_DPO, _CPO)
        _add(d, slot_d, amount.value, debit.id)
        _add(c, slot_c, amount.value, credit.id)
        transfer = Transfer(
            id=spec.id,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount,
            kind=spec.kind,
            pending_id=None,
            expires_at=spec.expires_at,
            memo=spec.memo,
            actor=spec.actor,
            created_at=self.now,
            sequence=UNSEQUENCED,
            state=TransferState.PENDING if pending else TransferState.POSTED,
        )
        if pending:
            self.new_pendings[spec.id] = len(self.new)
            self.pending_results[spec.id] = len(self.results)
        return transfer

    def _resolve(self, spec: TransferSpec) -> Transfer | None:
        assert spec.pending_id is not None
        pending = self._pending(spec.pending_id)
        if spec.debit_account_id not in (None, pending.debit_account_id):
            raise Rejected("pending_transfer_has_different_debit_account_id", spec.pending_id)
        if spec.credit_account_id not in (None, pending.credit_account_id):
            raise Rejected("pending_transfer_has_different_credit_account_id", spec.pending_id)
        if spec.amount.currency != pending.amount.currency:
            raise Rejected(
                "currencies_must_match",
                f"pending in {pending.amount.currency}, amount in {spec.amount.currency}",
            )
        if not self._still_open(pending):
            if spec.kind is TransferKind.VOID_PENDING and self.skip_resolved_voids:
                return None
            self._raise_resolved(pending)
        expired = pending.expires_at is not None and self.now >= pending.expires_at
        posting = spec.kind is TransferKind.POST_PENDING
        if posting and expired:
            raise Rejected("pending_transfer_expired", f"{pending.id} expired {pending.expires_at}")
        held = pending.amount.value
        amount = spec.amount.value if posting else held
        if amount > held:
            raise Rejected("exceeds_pending_transfer_amount", f"{amount} > {held} held")
        d = self._counters(self._account(pending.debit_account_id))
        c = self._counters(self._account(pending.credit_account_id))
        assert d[_DP] >= held and c[_CP] >= held, "a pending's reservation is on both accounts"
        d[_DP] -= held
        c[_CP] -= held
        if posting:
            _add(d, _DPO, amount, pending.debit_account_id)
            _add(c, _CPO, amount, pending.credit_account_id)
        transfer = Transfer(
            id=spec.id,
            debit_account_id=pending.debit_account_id,
            credit_account_id=pending.credit_account_id,
            amount=Money(amount, pending.amount.currency),
            kind=spec.kind,
            pending_id=pending.id,
            expires_at=None,
            memo=spec.memo,
            actor=spec.actor,
            created_at=self.now,
            sequence=UNSEQUENCED,
            state=TransferState.POSTED if posting else TransferState.VOIDED,
        )
        self.resolved[pending.id] = transfer
        index = self.new_pendings.get(pending.id)
        if index is not None:
            state = resolved_state(pending, transfer)
            self.new[index] = replace(self.new[index], state=state)
            self.results[self.pending_results[pending.id]] = self.new[index]
        return transfer

    # --- lookups ------------------------------------------------------------------------------
    def _account(self, account_id: LedgerAccountId) -> AccountState:
        account = self.accounts.get(account_id)
        if account is None:
            raise NotFound("account_not_found", f"ledger account {account_id}")
        return account

    def _counters(self, account: AccountState) -> list[int]:
        found = self.counters.get(account.id)
        if found is None:
            b = account.balance
            found = [b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted]
            self.counters[account.id] = found
        return found

    def _pending(self, pending_id: str) -> Transfer:
        index = self.new_pendings.get(pending_id)
        pending = self.new[index] if index is not None else self.stored.get(pending_id)
        if pending is None or pending.kind is not TransferKind.PENDING:
            raise NotFound("pending_transfer_not_found", pending_id)
        return pending

    def _still_open(self, pending: Transfer) -> bool:
        if pending.id in self.resolved:
            return False
        return pending.id in self.new_pendings or pending.id in self.open_pending_ids

    def _raise_resolved(self, pending: Transfer) -> None:
        by = self.resolved.get(pending.id) or self.resolutions.get(pending.id)
        assert by is not None, f"pending {pending.id} is neither open nor resolved"
        state = resolved_state(pending, by)
        if state is TransferState.POSTED:
            raise Conflict("pending_transfer_already_posted", pending.id)
        if state is TransferState.EXPIRED:
            raise Conflict("pending_transfer_expired", pending.id)
        raise Conflict("pending_transfer_already_voided", pending.id)

    # --- result -------------------------------------------------------------------------------
    def plan(self) -> Plan:
        balances = {}
        for account_id, (dp, dpo, cp, cpo) in self.counters.items():
            account = self.accounts[account_id]
            balances[account_id] = Balance(account.currency, dp, dpo, cp, cpo)
            assert account.kind is AccountKind.EXTERNAL or cpo - dpo - dp >= 0, (
                f"account {account_id} would go below zero"
            )
        opened = [
            t for t in self.new if t.kind is TransferKind.PENDING and t.id not in self.resolved
        ]
        closed = [p for p in self.resolved if p not in self.new_pendings]
        return Plan(self.results, self.new, balances, opened, closed)


def resolved_state(pending: Transfer, by: Transfer) -> TransferState:
    """The state of ``pending`` once ``by`` (a post or void of it) is applied."""
    assert by.pending_id == pending.id
    if by.kind is TransferKind.POST_PENDING:
        return TransferState.POSTED
    if pending.expires_at is not None and by.created_at >= pending.expires_at:
        return TransferState.EXPIRED
    return TransferState.VOIDED


def _add(counters: list[int], slot: int, amount: int, account_id: LedgerAccountId) -> None:
    total = counters[slot] + amount
    if total > COUNTER_MAX:
        raise Rejected("overflows_balance", f"account {account_id} would exceed {COUNTER_MAX}")
    counters[slot] = total
