"""Ledger use cases: open accounts, execute linked batches, read balances, expire holds, verify.

Owns: the order in which a batch loads, locks, plans and persists. Imports: ``bonafide.ledger``
(the rules), ``bonafide.store`` (the repository and unit of work), ``bonafide.money`` and
``bonafide.errors``.

Two kinds of function live here:

- building blocks that run *inside* a unit of work the caller opened and never commit
  (``open_account``, ``account_for``, ``execute``, ``balance``, ``get_transfer``,
  ``balances_of_owner``, ``expire_pending``), so the order flow can move money and change an
  order in one transaction::

      with uow:
          escrow = ledger.account_for(uow, kind=AccountKind.ESCROW, currency="EUR",
                                      name=f"order:{order_id}")
          ledger.execute(uow, [TransferSpec(...)], now=now)
          ...
          uow.commit()

- use cases that own their transaction (``deposit``, ``withdraw``, ``verify``).

How ``execute`` stays correct under concurrency (the order matters):

1. read the pending transfers the batch posts or voids (immutable; they name the accounts);
2. lock the accounts, in ascending id order (PostgreSQL ``FOR UPDATE``; on SQLite the unit of
   work's ``BEGIN IMMEDIATE`` already holds the database's write lock);
3. under those locks read the stored transfers with the batch's ids (so a retry that raced its
   first attempt sees it and returns it), then lock the holds being resolved;
4. plan the batch in the pure ledger, which raises the first named error;
5. draw journal sequence numbers (after the account locks, so an entry that depends on another
   is numbered after it), lock one free journal lane, seal the new entries onto it, and write.

Every transaction takes its locks in that order, so none deadlocks, and a lane is held only for
the short write at the end; with several lanes, several transactions flush their commits to disk
together instead of queueing behind one chain head.

Sharded market accounts
    The market's fee account and the loyalty points pool (and the ``external`` account points are
    issued from) are credited or debited by every release. One row each would be locked by every
    release until its commit, fsync included, so releases would run one at a time. Each is
    therefore ``HOT_ACCOUNT_SHARDS`` sub-accounts of the same kind and currency: shard 0 is the
    plain account (``name`` NULL, as before sharding), shard k > 0 is named ``shard:<k>``. A
    transfer picks its shard from a stable string (``spread_by``, the order id), so a retried
    transfer names the same account; reads that mean "the fee account" sum the shards
    (``sharded_balance``). Per account nothing changes: every invariant ``ledger verify``
    checks (chains, re-derived balances, zero sum per currency, no negatives) holds per shard.
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from datetime import datetime

from bonafide.errors import Conflict, NotFound
from bonafide.ledger.audit import Audit, VerifyReport
from bonafide.ledger.journal import seal, to_micros
from bonafide.ledger.model import (
    RESERVED_ID_PREFIX,
    AccountKind,
    Balance,
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferSpec,
    account_key,
)
from bonafide.ledger.transfers import check_batch, plan_batch
from bonafide.money import Money, check_currency
from bonafide.store.ledger_repo import LedgerRepository
from bonafide.store.uow import UnitOfWork

EXPIRY_ACTOR = "ledger:expiry"
EXPIRY_MEMO = "hold expired"
HOLDS_PER_SWEEP_BATCH = 1_000
SWEEP_BATCHES_MAX = 100
"""Limit on the work of one ``expire_pending`` call; the scheduler calls again for the rest."""
HOT_ACCOUNT_SHARDS = 16
"""Sub-accounts per sharded market account (see "Sharded market accounts" above)."""
SHARD_NAME_PREFIX = "shard:"
SHARDED_KINDS = frozenset({AccountKind.FEES, AccountKind.PROMOTIONS, AccountKind.EXTERNAL})


def _repo(uow: UnitOfWork) -> LedgerRepository:
    return uow.repo(LedgerRepository)


# --- accounts --------------------------------------------------------------------------------
def open_account(
    uow: UnitOfWork,
    *,
    kind: AccountKind,
    currency: str,
    owner_id: str | None = None,
    name: str | None = None,
) -> LedgerAccountId:
    """Open a new account; ``Conflict(account_exists)`` if its (kind, currency, owner, name)
    is taken. Use ``account_for`` to get or create."""
    kind = AccountKind(kind)
    check_currency(currency)
    key = account_key(kind=kind, currency=currency, owner_id=owner_id, name=name)
    created = _repo(uow).insert_account(
        key=key, kind=kind, currency=currency, owner_id=owner_id, name=name
    )
    if created is None:
        raise Conflict("account_exists", f"{kind} {currency} owner={owner_id} name={name}")
    return created


def account_for(
    uow: UnitOfWork,
    *,
    kind: AccountKind,
    currency: str,
    owner_id: str | None = None,
    name: str | None = None,
) -> LedgerAccountId:
    """The account for (kind, currency, owner, name), created on first use.

    One wallet per (owner, currency); one ``fees``, ``promotions`` and ``external`` per currency
    (and optional name); escrow accounts by ``name`` (``"order:<order id>"``). Race-safe: two
    transactions asking at once get the same account (the insert skips on the unique key, and
    the loser reads the winner's row once it has committed).
    """
    kind = AccountKind(kind)
    check_currency(currency)
    key = account_key(kind=kind, currency=currency, owner_id=owner_id, name=name)
    repo = _repo(uow)
    found = repo.account_id_by_key(key)
    if found is not None:
        return found
    created = repo.insert_account(
        key=key, kind=kind, currency=currency, owner_id=owner_id, name=name
    )
    if created is not None:
        return created
    found = repo.account_id_by_key(key)
    assert found is not None, f"account {key} neither inserted nor found"
    return found


def shard_of(spread_by: str) -> int:
    """The shard (0 .. ``HOT_ACCOUNT_SHARDS`` - 1) a transfer spread by ``spread_by`` uses."""
    return zlib.crc32(spread_by.encode()) % HOT_ACCOUNT_SHARDS


def shard_name(shard: int) -> str | None:
    assert 0 <= shard < HOT_ACCOUNT_SHARDS, shard
    return None if shard == 0 else f"{SHARD_NAME_PREFIX}{shard}"


def sharded_account_for(
    uow: UnitOfWork, *, kind: AccountKind, currency: str, spread_by: str
) -> LedgerAccountId:
    """The shard of a market-wide account (fees, the points pool, ``external``) that transfers
    spread by ``spread_by`` use; created on first use like ``account_for``."""
    kind = AccountKind(kind)
    assert kind in SHARDED_KINDS, f"{kind} accounts are not sharded"
    return account_for(uow, kind=kind, currency=currency, name=shard_name(shard_of(spread_by)))


def sharded_accounts(
    uow: UnitOfWork, *, kind: AccountKind, currency: str
) -> list[LedgerAccountId]:
    """The shards of a market-wide account that exist (opened by a first transfer), by id."""
    kind = AccountKind(kind)
    assert kind in SHARDED_KINDS, f"{kind} accounts are not sharded"
    check_currency(currency)
    names = [shard_name(shard) for shard in range(HOT_ACCOUNT_SHARDS)]
    keys = [account_key(kind=kind, currency=currency, owner_id=None, name=n) for n in names]
    return _repo(uow).account_ids_by_keys(keys)


def sharded_balance(uow: UnitOfWork, *, kind: AccountKind, currency: str) -> Balance:
    """The balance of a market-wide account: its shards' counters summed (zero if none exist)."""
    total = Balance(currency)
    for account_id in sharded_accounts(uow, kind=kind, currency=currency):
        b = balance(uow, account_id)
        total = Balance(
            currency,
            total.debits_pending + b.debits_pending,
            total.debits_posted + b.debits_posted,
            total.credits_pending + b.credits_pending,
            total.credits_posted + b.credits_posted,
        )
    return total


def lock_balances(
    uow: UnitOfWork, account_ids: Collection[LedgerAccountId]
) -> dict[LedgerAccountId, Balance]:
    """Inside an open unit of work: lock ``account_ids`` (ascending, as ``execute`` does) and
    return their balances, for a decision the batch that follows depends on."""
    locked = _repo(uow).lock_accounts(account_ids)
    missing = set(account_ids) - locked.keys()
    if missing:
        raise NotFound("account_not_found", f"ledger accounts {sorted(missing)}")
    return {account_id: state.balance for account_id, state in locked.items()}


def balance(uow: UnitOfWork, account_id: LedgerAccountId) -> Balance:
    found = _repo(uow).balance(account_id)
    if found is None:
        raise NotFound("account_not_found", f"ledger account {account_id}")
    return found


def balances_of_owner(
    uow: UnitOfWork, owner_id: str
) -> list[tuple[LedgerAccountId, AccountKind, Balance]]:
    """Every account of ``owner_id`` (their wallets, one per currency), by id."""
    return _repo(uow).balances_of_owner(owner_id)


def get_transfer(uow: UnitOfWork, transfer_id: str) -> Transfer | None:
    found, _ = _repo(uow).transfers([transfer_id])
    return found.get(transfer_id)


# --- moving money ----------------------------------------------------------------------------
def execute(
    uow: UnitOfWork, transfers: Sequence[TransferSpec], *, now: datetime
) -> list[Transfer]:
    """Apply a linked batch: all transfers are written, or none (the first error is raised).

    Returns one ``Transfer`` per request, in order; a retried id with the same fields returns
    the stored transfer and moves nothing. Runs inside the caller's unit of work; never commits.
    """
    return _execute(uow, transfers, now=now)


def _execute(
    uow: UnitOfWork,
    specs: Sequence[TransferSpec],
    *,
    now: datetime,
    sweeping: bool = False,
) -> list[Transfer]:
    assert now.tzinfo is not None, "pass now as an aware UTC datetime"
    if not specs:
        return []
    check_batch(specs, reserved_allowed=sweeping)
    repo = _repo(uow)
    batch_ids = {s.id for s in specs}
    resolving = {s.pending_id for s in specs if s.pending_id is not None}
    # 1. The pending transfers this batch resolves: immutable rows that name accounts to lock.
    #    Skipped when every post or void names both accounts itself (the order flow's do): the
    #    plan checks them against the pending, read below under the locks.
    named = all(
        s.debit_account_id is not None and s.credit_account_id is not None
        for s in specs
        if s.pending_id is not None
    )
    earlier = resolving - batch_ids
    pendings, _ = repo.transfers(earlier) if earlier and not named else ({}, {})
    # 2. Lock the accounts the batch can touch.
    account_ids: set[int] = set()
    for spec in specs:
        for account_id in (spec.debit_account_id, spec.credit_account_id):
            if account_id is not None:
                account_ids.add(account_id)
        pending = pendings.get(spec.pending_id) if spec.pending_id else None
        if pending is not None:
            account_ids.update((pending.debit_account_id, pending.credit_account_id))
    # 3. Under those locks, read what is stored: a retry racing its first attempt on the same
    #    accounts sees the first one's commit here. Then lock the holds being resolved.
    accounts, stored, resolutions, open_ids = repo.lock_accounts_then_read(
        account_ids, batch_ids | earlier, resolving
    )
    stored_pendings = {p for p in resolving if p in stored}
    open_ids &= stored_pendings
    unknown = stored_pendings - open_ids - resolutions.keys()
    if unknown:
        _, more = repo.transfers(unknown)
        resolutions.update(more)
    # 4. Plan (pure; raises the first named error).
    plan = plan_batch(
        specs,
        accounts=accounts,
        stored=stored,
        open_pending_ids=open_ids,
        resolutions=resolutions,
        now=now,
        skip_resolved_voids=sweeping,
    )
    if not plan.new:
        return plan.results
    # 5. Seal onto the chain and write.
    lane, lane_sequence, lane_hash, sequences = repo.lock_lane(entries=len(plan.new))
    entries, sealed = seal(plan.new, sequences=sequences, lane=lane,
                           lane_sequence=lane_sequence, lane_hash=lane_hash)
    repo.append(
        entries,
        holds_opened=[
            (t.id, None if t.expires_at is None else to_micros(t.expires_at))
            for t in plan.holds_opened
        ],
        holds_closed=plan.holds_closed,
        balances=plan.balances,
    )
    by_id = {t.id: t for t in sealed}
    return [by_id.get(t.id, t) for t in plan.results]


def expire_pending(uow: UnitOfWork, *, now: datetime) -> int:
    """Void every pending transfer whose ``expires_at`` is at or before ``now``; return how many.

    The funds return to the debit account. A pending posted or voided concurrently is skipped.
    Runs inside the caller's unit of work; never commits. Does at most
    ``HOLDS_PER_SWEEP_BATCH * SWEEP_BATCHES_MAX`` per call.
    """
    repo = _repo(uow)
    now_us = to_micros(now)
    count = 0
    for _ in range(SWEEP_BATCHES_MAX):
        due = repo.due_holds(now_us=now_us, limit=HOLDS_PER_SWEEP_BATCH)
        if not due:
            break
        specs = [
            TransferSpec(
                id=RESERVED_ID_PREFIX + pending_id,
                debit_account_id=None,
                credit_account_id=None,
                amount=Money(0, currency),
                kind=TransferKind.VOID_PENDING,
                pending_id=pending_id,
                memo=EXPIRY_MEMO,
                actor=EXPIRY_ACTOR,
            )
            for pending_id, currency in due
        ]
        # Results leave out the voids skipped because a post or void got there first.
        count += len(_execute(uow, specs, now=now, sweeping=True))
        if len(due) < HOLDS_PER_SWEEP_BATCH:
            break
    return count


def deposit(
    uow: UnitOfWork,
    *,
    transfer_id: str,
    owner_id: str,
    amount: Money,
    now: datetime,
    actor: str,
    memo: str = "",
) -> Transfer:
    """Credit ``owner_id``'s wallet from outside (``external`` → wallet), and commit."""
    with uow:
        external = account_for(uow, kind=AccountKind.EXTERNAL, currency=amount.currency)
        wallet = account_for(
            uow, kind=AccountKind.WALLET, currency=amount.currency, owner_id=owner_id
        )
        spec = TransferSpec(
            id=transfer_id, debit_account_id=external, credit_account_id=wallet,
            amount=amount, memo=memo or "deposit", actor=actor,
        )
        [transfer] = execute(uow, [spec], now=now)
        uow.commit()
    return transfer


def withdraw(
    uow: UnitOfWork,
    *,
    transfer_id: str,
    owner_id: str,
    amount: Money,
    now: datetime,
    actor: str,
    memo: str = "",
) -> Transfer:
    """Pay ``amount`` of ``owner_id``'s available funds out (wallet → ``external``), and commit."""
    with uow:
        external = account_for(uow, kind=AccountKind.EXTERNAL, currency=amount.currency)
        wallet = account_for(
            uow, kind=AccountKind.WALLET, currency=amount.currency, owner_id=owner_id
        )
        spec = TransferSpec(
            id=transfer_id, debit_account_id=wallet, credit_account_id=external,
            amount=amount, memo=memo or "withdrawal", actor=actor,
        )
        [transfer] = execute(uow, [spec], now=now)
        uow.commit()
    return transfer


# --- verification ----------------------------------------------------------------------------
def verify(uow: UnitOfWork) -> VerifyReport:
    """Replay the whole journal against the stored state and report every problem.

    Reads one consistent snapshot (REPEATABLE READ on PostgreSQL; a read transaction on SQLite),
    streaming the journal in chunks, so writers are not blocked. Pass a read-only unit of work.
    """
    with uow:
        repo = _repo(uow)
        repo.begin_snapshot()
        heads = repo.heads()
        audit = Audit(repo.stored_accounts())
        for entry in repo.journal():
            audit.feed(entry)
        return audit.finish(heads=heads, open_holds=repo.hold_ids())
