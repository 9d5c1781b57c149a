"""Concurrency on the real database: threads race for the same pending transfer, the same wallet,
the same transfer id and the same account key; the ledger serialises them correctly."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine

from bonafide.errors import BonafideError
from bonafide.ledger import AccountKind, LedgerAccountId, Transfer, TransferKind, TransferSpec
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, tzinfo=UTC)
T = TypeVar("T")


def eur(value: int) -> Money:
    return Money(value, "EUR")


def race(workers: int, attempt: Callable[[int], T]) -> list[T | BonafideError]:
    """Run ``attempt(i)`` for each worker at once (a barrier lines them up); collect outcomes."""
    barrier = threading.Barrier(workers)

    def one(i: int) -> T | BonafideError:
        barrier.wait()
        try:
            return attempt(i)
        except BonafideError as error:
            return error

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(workers)))


def execute(engine: Engine, *specs: TransferSpec) -> list[Transfer]:
    uow = UnitOfWork(engine)
    with uow:
        done = ledger.execute(uow, list(specs), now=NOW)
        uow.commit()
    return done


def wallet(engine: Engine, owner: str) -> LedgerAccountId:
    uow = UnitOfWork(engine)
    with uow:
        found = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id=owner)
        uow.commit()
    return found


def funded(engine: Engine, owner: str, value: int) -> LedgerAccountId:
    ledger.deposit(UnitOfWork(engine), transfer_id=f"dep-{owner}", owner_id=owner,
                   amount=eur(value), now=NOW, actor="op")
    return wallet(engine, owner)


def balance(engine: Engine, account: LedgerAccountId) -> ledger.Balance:
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        return ledger.balance(uow, account)


def assert_verified(engine: Engine) -> None:
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems


def test_sixteen_racing_posts_and_voids_of_one_pending_have_exactly_one_winner(
    engine: Engine,
) -> None:
    buyer, seller = funded(engine, "buyer", 1_000), wallet(engine, "seller")
    execute(engine, TransferSpec("hold", buyer, seller, eur(600), kind=TransferKind.PENDING))

    def attempt(i: int) -> list[Transfer]:
        kind = TransferKind.POST_PENDING if i % 2 else TransferKind.VOID_PENDING
        return execute(engine, TransferSpec(f"resolve-{i}", None, None, eur(600 - i), kind=kind,
                                            pending_id="hold"))

    outcomes = race(16, attempt)
    winners = [o for o in outcomes if not isinstance(o, BonafideError)]
    losers = [o for o in outcomes if isinstance(o, BonafideError)]
    assert len(winners) == 1, outcomes
    assert {e.code for e in losers} <= {
        "pending_transfer_already_posted", "pending_transfer_already_voided"
    }, [e.code for e in losers]
    [won] = winners[0]
    moved = won.amount.value if won.kind is TransferKind.POST_PENDING else 0
    assert balance(engine, seller).available == eur(moved)
    assert balance(engine, buyer).available == eur(1_000 - moved)
    assert balance(engine, buyer).held == eur(0)
    assert_verified(engine)


def test_many_concurrent_transfers_drain_one_wallet_never_below_zero_and_none_lost(
    engine: Engine,
) -> None:
    source = funded(engine, "source", 1_000)
    sinks = [wallet(engine, f"sink{i}") for i in range(4)]
    rng = random.Random(7)
    plans = [[(rng.randint(1, 40), rng.choice(sinks)) for _ in range(12)] for _ in range(12)]

    def attempt(worker: int) -> list[tuple[int, bool]]:
        results = []
        for n, (value, sink) in enumerate(plans[worker]):
            hold = n % 3 == 0  # some holds: they reserve funds the others must not spend
            spec = TransferSpec(f"w{worker}-{n}", source, sink, eur(value),
                                kind=TransferKind.PENDING if hold else TransferKind.SINGLE)
            try:
                execute(engine, spec)
                if hold:
                    execute(engine, TransferSpec(f"w{worker}-{n}-post", None, None, eur(value),
                                                 kind=TransferKind.POST_PENDING,
                                                 pending_id=spec.id))
                results.append((value, True))
            except BonafideError as error:
                assert error.code == "exceeds_available_balance", error
                results.append((value, False))
        return results

    outcomes = race(12, attempt)
    assert not any(isinstance(o, BonafideError) for o in outcomes)
    moved = sum(v for worker in outcomes for v, ok in worker if ok)  # type: ignore[union-attr]
    refused = sum(1 for worker in outcomes for _, ok in worker if not ok)  # type: ignore[union-attr]
    assert refused > 0, "the plans ask for more than the wallet holds"
    left = balance(engine, source)
    assert left.available.value == 1_000 - moved >= 0
    assert left.held == eur(0)
    assert sum(balance(engine, s).available.value for s in sinks) == moved
    assert_verified(engine)


def test_concurrent_retries_of_one_transfer_id_move_money_once(engine: Engine) -> None:
    alice, bob = funded(engine, "alice", 100), wallet(engine, "bob")
    spec = TransferSpec("once", alice, bob, eur(70))
    outcomes = race(8, lambda _: execute(engine, spec))
    assert all(not isinstance(o, BonafideError) for o in outcomes), outcomes
    assert len({o[0].sequence for o in outcomes}) == 1  # type: ignore[index]
    assert balance(engine, bob).available == eur(70)
    assert_verified(engine)


def test_concurrent_account_for_gets_one_account(engine: Engine) -> None:
    def attempt(_: int) -> LedgerAccountId:
        uow = UnitOfWork(engine)
        with uow:
            found = ledger.account_for(uow, kind=AccountKind.ESCROW, currency="EUR",
                                       name="order:race")
            uow.commit()
        return found

    outcomes = race(16, attempt)
    assert len(set(outcomes)) == 1, outcomes
