"""Hypothesis stateful test: random opens, deposits, transfers, holds, posts, voids, expiries,
linked batches and retries against a real database, checked step by step against a plain model
(the slow, obvious twin) and by ``verify`` (replaying the journal gives the stored balances,
the chain holds, every currency sums to zero, nothing but ``external`` goes negative)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, text

from bonafide.errors import BonafideError
from bonafide.ledger import AccountKind, LedgerAccountId, TransferKind, TransferSpec
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.store.ledger_repo import forget_account_ids
from bonafide.store.uow import UnitOfWork

START = datetime(2026, 1, 1, tzinfo=UTC)
OWNERS = ("ann", "ben", "cat")
CURRENCIES = ("EUR", "USD")
amounts = st.integers(min_value=1, max_value=500)


@dataclass
class ModelAccount:
    id: LedgerAccountId
    kind: AccountKind
    currency: str
    counters: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # dp, dpo, cp, cpo

    @property
    def available(self) -> int:
        dp, dpo, _, cpo = self.counters
        return cpo - dpo - dp


@dataclass
class ModelPending:
    debit: LedgerAccountId
    credit: LedgerAccountId
    amount: int
    expires_at: datetime | None
    state: str = "pending"  # pending, posted, voided, expired


class Model:
    """What the ledger must do, written the obvious way."""

    def __init__(self) -> None:
        self.accounts: dict[LedgerAccountId, ModelAccount] = {}
        self.pendings: dict[str, ModelPending] = {}
        self.specs: dict[str, TransferSpec] = {}

    def copy(self) -> Model:
        twin = Model()
        twin.accounts = {
            k: ModelAccount(a.id, a.kind, a.currency, list(a.counters))
            for k, a in self.accounts.items()
        }
        twin.pendings = {k: ModelPending(**vars(p)) for k, p in self.pendings.items()}
        twin.specs = dict(self.specs)
        return twin

    def apply(self, spec: TransferSpec, now: datetime) -> str | None:
        """Apply one transfer; return the error code it must fail with, or None."""
        if spec.id in self.specs:
            return None if self.specs[spec.id] == spec else "transfer_exists_with_different_fields"
        if spec.kind in (TransferKind.SINGLE, TransferKind.PENDING):
            error = self._move(spec)
        else:
            error = self._resolve(spec, now)
        if error is None:
            self.specs[spec.id] = spec
        return error

    def _move(self, spec: TransferSpec) -> str | None:
        assert spec.debit_account_id is not None and spec.credit_account_id is not None
        if spec.debit_account_id == spec.credit_account_id:
            return "accounts_must_be_different"
        d, c = self.accounts[spec.debit_account_id], self.accounts[spec.credit_account_id]
        if not d.currency == c.currency == spec.amount.currency:
            return "currencies_must_match"
        if d.kind is not AccountKind.EXTERNAL and d.available < spec.amount.value:
            return "exceeds_available_balance"
        pending = spec.kind is TransferKind.PENDING
        d.counters[0 if pending else 1] += spec.amount.value
        c.counters[2 if pending else 3] += spec.amount.value
        if pending:
            self.pendings[spec.id] = ModelPending(
                d.id, c.id, spec.amount.value, spec.expires_at
            )
        return None

    def _resolve(self, spec: TransferSpec, now: datetime) -> str | None:
        assert spec.pending_id is not None
        p = self.pendings[spec.pending_id]
        if p.state != "pending":
            return {"posted": "pending_transfer_already_posted",
                    "voided": "pending_transfer_already_voided",
                    "expired": "pending_transfer_expired"}[p.state]
        expired = p.expires_at is not None and now >= p.expires_at
        posting = spec.kind is TransferKind.POST_PENDING
        if posting and expired:
            return "pending_transfer_expired"
        if posting and spec.amount.value > p.amount:
            return "exceeds_pending_transfer_amount"
        d, c = self.accounts[p.debit], self.accounts[p.credit]
        d.counters[0] -= p.amount
        c.counters[2] -= p.amount
        if posting:
            d.counters[1] += spec.amount.value
            c.counters[3] += spec.amount.value
            p.state = "posted"
        else:
            p.state = "expired" if expired else "voided"
        return None


class LedgerMachine(RuleBasedStateMachine):
    engine: Engine  # set on the class by the test

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.now = START
        self.ids = itertools.count()

    @initialize()
    def empty_ledger(self) -> None:
        with self.engine.begin() as c:
            for table in ("ledger_holds", "ledger_journal", "ledger_accounts"):
                c.execute(text(f"DELETE FROM {table}"))
            c.execute(text(f"UPDATE ledger_chain SET sequence = 0, hash = '{'0' * 64}'"))
            if c.dialect.name == "postgresql":
                c.execute(text("ALTER SEQUENCE ledger_journal_sequence RESTART"))
        # The ledger never deletes accounts, so it remembers their ids; this reset does delete.
        forget_account_ids(self.engine)
        # Start every history with funded wallets, so most steps can move money.
        for owner, currency in (("ann", "EUR"), ("ben", "EUR"), ("cat", "USD")):
            self.open_account(AccountKind.WALLET, owner, currency)
        self.open_account(AccountKind.ESCROW, "ann", "EUR")
        external = next(a.id for a in self.model.accounts.values()
                        if a.kind is AccountKind.EXTERNAL and a.currency == "EUR")
        for account in list(self.model.accounts.values()):
            if account.kind is AccountKind.WALLET and account.currency == "EUR":
                self.execute([TransferSpec(self.next_id(), external, account.id,
                                           Money(1_000, "EUR"))])

    def next_id(self) -> str:
        return f"t{next(self.ids)}"

    def tick(self) -> None:
        self.now += timedelta(minutes=1)

    def execute(self, specs: list[TransferSpec]) -> None:
        """Run ``specs`` as one linked batch on the model's twin and on the ledger; compare."""
        twin = self.model.copy()
        expected = None
        # Requests malformed on their own are refused before any is applied.
        for spec in specs:
            same = spec.debit_account_id == spec.credit_account_id
            if spec.debit_account_id is not None and same:
                expected = "accounts_must_be_different"
                break
        for spec in specs if expected is None else []:
            expected = twin.apply(spec, self.now)
            if expected is not None:
                break
        uow = UnitOfWork(self.engine)
        got = None
        with uow:
            try:
                done = ledger.execute(uow, specs, now=self.now)
                uow.commit()
            except BonafideError as error:
                got = error.code
        assert got == expected, (got, expected, specs)
        if expected is None:
            self.model = twin
            assert [t.id for t in done] == [s.id for s in specs]
        self.tick()

    def account_of(self, data: st.DataObject, *, kinds: tuple[AccountKind, ...]) -> LedgerAccountId:
        choices = sorted(a.id for a in self.model.accounts.values() if a.kind in kinds)
        return data.draw(st.sampled_from(choices))

    def has_accounts(self) -> bool:
        return any(a.kind is AccountKind.WALLET for a in self.model.accounts.values())

    def open_pendings(self) -> list[str]:
        return sorted(k for k, p in self.model.pendings.items() if p.state == "pending")

    # --- rules ----------------------------------------------------------------------------------
    @rule(kind=st.sampled_from([AccountKind.WALLET, AccountKind.ESCROW, AccountKind.FEES]),
          owner=st.sampled_from(OWNERS), currency=st.sampled_from(CURRENCIES))
    def open_account(self, kind: AccountKind, owner: str, currency: str) -> None:
        uow = UnitOfWork(self.engine)
        with uow:
            account_id = ledger.account_for(
                uow, kind=kind, currency=currency,
                owner_id=owner if kind is AccountKind.WALLET else None,
                name=f"order:{owner}" if kind is AccountKind.ESCROW else None,
            )
            external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency=currency)
            uow.commit()
        for found, found_kind in ((account_id, kind), (external, AccountKind.EXTERNAL)):
            known = self.model.accounts.get(found)
            if known is None:
                self.model.accounts[found] = ModelAccount(found, found_kind, currency)
            else:
                assert (known.kind, known.currency) == (found_kind, currency)

    @precondition(has_accounts)
    @rule(data=st.data(), amount=amounts)
    def deposit(self, data: st.DataObject, amount: int) -> None:
        wallet = self.account_of(data, kinds=(AccountKind.WALLET,))
        currency = self.model.accounts[wallet].currency
        external = next(a.id for a in self.model.accounts.values()
                        if a.kind is AccountKind.EXTERNAL and a.currency == currency)
        self.execute([TransferSpec(self.next_id(), external, wallet, Money(amount, currency))])

    @precondition(has_accounts)
    @rule(data=st.data(), amount=amounts, pending=st.booleans(),
          expires=st.none() | st.integers(min_value=1, max_value=8))
    def transfer(self, data: st.DataObject, amount: int, pending: bool,
                 expires: int | None) -> None:
        kinds = (AccountKind.WALLET, AccountKind.ESCROW, AccountKind.FEES)
        debit, credit = self.account_of(data, kinds=kinds), self.account_of(data, kinds=kinds)
        own = self.model.accounts[debit].currency
        currency = data.draw(st.sampled_from([own, own, own, "USD"]))
        self.execute([TransferSpec(
            self.next_id(), debit, credit, Money(amount, currency),
            kind=TransferKind.PENDING if pending else TransferKind.SINGLE,
            expires_at=self.now + timedelta(minutes=expires) if pending and expires else None,
        )])

    @precondition(has_accounts)
    @rule(data=st.data(), amount=amounts, expires=st.none() | st.integers(1, 8))
    def hold(self, data: st.DataObject, amount: int, expires: int | None) -> None:
        buyer = self.account_of(data, kinds=(AccountKind.WALLET,))
        currency = self.model.accounts[buyer].currency
        escrow = self.account_of(data, kinds=(AccountKind.ESCROW, AccountKind.WALLET))
        self.execute([TransferSpec(
            self.next_id(), buyer, escrow, Money(amount, currency), kind=TransferKind.PENDING,
            expires_at=None if expires is None else self.now + timedelta(minutes=expires),
        )])

    @precondition(lambda self: self.model.pendings)
    @rule(data=st.data(), part=st.sampled_from(["full", "partial", "more", "void"]))
    def resolve(self, data: st.DataObject, part: str) -> None:
        # Mostly open ones (they can move money); sometimes resolved ones (they must refuse).
        candidates = self.open_pendings() if data.draw(st.integers(0, 4)) else []
        pending_id = data.draw(st.sampled_from(candidates or sorted(self.model.pendings)))
        p = self.model.pendings[pending_id]
        amount = {"full": p.amount, "partial": max(1, p.amount // 2), "more": p.amount + 1,
                  "void": 0}[part]
        currency = self.model.accounts[p.debit].currency
        self.execute([TransferSpec(
            self.next_id(), None, None, Money(amount, currency),
            kind=TransferKind.VOID_PENDING if part == "void" else TransferKind.POST_PENDING,
            pending_id=pending_id,
        )])

    @precondition(lambda self: self.model.specs)
    @rule(data=st.data(), change=st.booleans())
    def retry(self, data: st.DataObject, change: bool) -> None:
        spec = self.model.specs[data.draw(st.sampled_from(sorted(self.model.specs)))]
        if change:
            spec = TransferSpec(spec.id, spec.debit_account_id, spec.credit_account_id,
                                spec.amount, kind=spec.kind, pending_id=spec.pending_id,
                                expires_at=spec.expires_at, memo="changed")
        self.execute([spec])

    @precondition(has_accounts)
    @rule(data=st.data(), size=st.integers(min_value=2, max_value=4))
    def linked_batch(self, data: st.DataObject, size: int) -> None:
        kinds = (AccountKind.WALLET, AccountKind.ESCROW, AccountKind.FEES)
        specs = []
        for _ in range(size):
            debit, credit = self.account_of(data, kinds=kinds), self.account_of(data, kinds=kinds)
            currency = self.model.accounts[debit].currency
            amount = Money(data.draw(amounts), currency)
            shape = data.draw(st.sampled_from(["single", "hold+post", "hold+void"]))
            first = TransferSpec(self.next_id(), debit, credit, amount,
                                 kind=TransferKind.SINGLE if shape == "single"
                                 else TransferKind.PENDING)
            specs.append(first)
            if shape != "single":
                posted = Money(data.draw(st.integers(1, amount.value)), currency)
                specs.append(TransferSpec(
                    self.next_id(), None, None, posted, pending_id=first.id,
                    kind=TransferKind.POST_PENDING if shape == "hold+post"
                    else TransferKind.VOID_PENDING,
                ))
        self.execute(specs)

    @rule(minutes=st.integers(min_value=1, max_value=10))
    def time_passes_and_the_sweep_runs(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        due = [k for k, p in self.model.pendings.items()
               if p.state == "pending" and p.expires_at is not None and p.expires_at <= self.now]
        uow = UnitOfWork(self.engine)
        with uow:
            assert ledger.expire_pending(uow, now=self.now) == len(due)
            uow.commit()
        for pending_id in due:
            assert self.model.apply(
                TransferSpec("~" + pending_id, None, None, Money(0, "EUR"),
                             kind=TransferKind.VOID_PENDING, pending_id=pending_id),
                self.now,
            ) is None
            # Clients cannot send the sweep's reserved ids, so they are not retry candidates.
            del self.model.specs["~" + pending_id]

    # --- invariants -----------------------------------------------------------------------------
    @invariant()
    def balances_are_the_models(self) -> None:
        uow = UnitOfWork(self.engine, read_only=True)
        with uow:
            for account in self.model.accounts.values():
                b = ledger.balance(uow, account.id)
                stored = [b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted]
                assert stored == account.counters, account

    @invariant()
    def the_journal_replays_to_the_stored_state(self) -> None:
        report = ledger.verify(UnitOfWork(self.engine, read_only=True))
        assert report.ok, report.problems


def _run(engine: Engine, *, examples: int, steps: int) -> None:
    LedgerMachine.engine = engine
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )


def test_random_ledger_histories_keep_every_invariant(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    if engine.dialect.name == "postgresql":
        _run(engine, examples=12, steps=30)
    else:
        _run(engine, examples=40, steps=40)
