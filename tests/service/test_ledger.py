"""The ledger's use cases on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from bonafide.errors import BonafideError, Conflict, NotFound, Rejected
from bonafide.ledger import (
    AccountKind,
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferSpec,
    TransferState,
)
from bonafide.money import VALUE_MAX, Money
from bonafide.service import ledger
from bonafide.store.ledger_tables import ledger_accounts, ledger_holds, ledger_journal
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def eur(value: int) -> Money:
    return Money(value, "EUR")


def wallet(engine: Engine, owner: str, currency: str = "EUR") -> LedgerAccountId:
    uow = UnitOfWork(engine)
    with uow:
        found = ledger.account_for(uow, kind=AccountKind.WALLET, currency=currency,
                                   owner_id=owner)
        uow.commit()
    return found


def escrow(engine: Engine, name: str) -> LedgerAccountId:
    uow = UnitOfWork(engine)
    with uow:
        found = ledger.account_for(uow, kind=AccountKind.ESCROW, currency="EUR", name=name)
        uow.commit()
    return found


def run(engine: Engine, *specs: TransferSpec, now: datetime = NOW) -> list[Transfer]:
    uow = UnitOfWork(engine)
    with uow:
        done = ledger.execute(uow, list(specs), now=now)
        uow.commit()
    return done


def available(engine: Engine, account: LedgerAccountId) -> int:
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        return ledger.balance(uow, account).available.value


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return tuple(  # type: ignore[return-value]
            c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (ledger_journal, ledger_holds, ledger_accounts)
        )


def verified(engine: Engine) -> None:
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems


def deposit(engine: Engine, owner: str, value: int, tid: str | None = None) -> None:
    ledger.deposit(UnitOfWork(engine), transfer_id=tid or f"dep-{owner}-{value}", owner_id=owner,
                   amount=eur(value), now=NOW, actor="operator")


def test_deposit_then_withdraw_moves_money_through_the_external_account(engine: Engine) -> None:
    deposit(engine, "alice", 1_000)
    ledger.withdraw(UnitOfWork(engine), transfer_id="w1", owner_id="alice", amount=eur(300),
                    now=NOW, actor="alice")
    alice = wallet(engine, "alice")
    assert available(engine, alice) == 700
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency="EUR")
        assert ledger.balance(uow, external).available == eur(-700)
        [(account_id, kind, balance)] = ledger.balances_of_owner(uow, "alice")
    assert (account_id, kind, balance.available) == (alice, AccountKind.WALLET, eur(700))
    verified(engine)


def test_withdrawing_more_than_available_is_refused_and_writes_nothing(engine: Engine) -> None:
    deposit(engine, "alice", 100)
    before = counts(engine)
    with pytest.raises(Rejected) as caught:
        ledger.withdraw(UnitOfWork(engine), transfer_id="w1", owner_id="alice", amount=eur(101),
                        now=NOW, actor="alice")
    assert caught.value.code == "exceeds_available_balance"
    assert counts(engine) == before


def test_account_for_gets_the_same_account_and_open_account_refuses_a_second(
    engine: Engine,
) -> None:
    first = wallet(engine, "alice")
    assert wallet(engine, "alice") == first
    assert wallet(engine, "alice", "USD") != first
    uow = UnitOfWork(engine)
    with uow:
        with pytest.raises(Conflict) as caught:
            ledger.open_account(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="alice")
        assert caught.value.code == "account_exists"
        fees = ledger.open_account(uow, kind=AccountKind.FEES, currency="EUR")
        assert ledger.account_for(uow, kind=AccountKind.FEES, currency="EUR") == fees
        with pytest.raises(Rejected) as unknown:
            ledger.account_for(uow, kind=AccountKind.FEES, currency="EURO")
        assert unknown.value.code == "unknown_currency"


def test_escrow_hold_then_partial_release_with_a_fee_in_one_linked_batch(engine: Engine) -> None:
    deposit(engine, "buyer", 1_000)
    buyer, seller, order = wallet(engine, "buyer"), wallet(engine, "seller"), escrow(engine, "o1")
    uow = UnitOfWork(engine)
    with uow:
        fees = ledger.account_for(uow, kind=AccountKind.FEES, currency="EUR")
        uow.commit()
    [held] = run(engine, TransferSpec("fund", buyer, order, eur(800), kind=TransferKind.PENDING,
                                      expires_at=NOW + timedelta(days=30)))
    assert held.state is TransferState.PENDING
    assert (available(engine, buyer), available(engine, order)) == (200, 0)
    run(engine,
        TransferSpec("release", None, None, eur(800), kind=TransferKind.POST_PENDING,
                     pending_id="fund", actor="buyer", memo="confirmed"),
        TransferSpec("pay", order, seller, eur(760), actor="buyer"),
        TransferSpec("fee", order, fees, eur(40), actor="buyer"))
    assert [available(engine, a) for a in (buyer, order, seller, fees)] == [200, 0, 760, 40]
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        stored = ledger.get_transfer(uow, "fund")
        assert stored is not None and stored.state is TransferState.POSTED
        assert ledger.get_transfer(uow, "nothing") is None
    verified(engine)


def test_a_failing_transfer_in_a_batch_writes_none_of_it(engine: Engine) -> None:
    deposit(engine, "alice", 100)
    alice, bob = wallet(engine, "alice"), wallet(engine, "bob")
    before = counts(engine)
    with pytest.raises(Rejected) as caught:
        run(engine, TransferSpec("a", alice, bob, eur(60)), TransferSpec("b", alice, bob, eur(60)))
    assert caught.value.code == "exceeds_available_balance"
    assert counts(engine) == before
    assert available(engine, alice) == 100


def test_retries_return_the_first_result_and_changed_retries_conflict(engine: Engine) -> None:
    deposit(engine, "alice", 100)
    alice, bob = wallet(engine, "alice"), wallet(engine, "bob")
    [first] = run(engine, TransferSpec("t", alice, bob, eur(60)))
    [again] = run(engine, TransferSpec("t", alice, bob, eur(60)), now=NOW + timedelta(hours=1))
    assert again == first and available(engine, bob) == 60
    with pytest.raises(Conflict) as caught:
        run(engine, TransferSpec("t", alice, bob, eur(61)))
    assert caught.value.code == "transfer_exists_with_different_fields"
    deposit(engine, "alice", 100, tid="dep-alice-100")  # the same deposit again: no change
    assert available(engine, alice) == 40


def test_a_pending_resolves_once(engine: Engine) -> None:
    deposit(engine, "alice", 100)
    alice, order = wallet(engine, "alice"), escrow(engine, "o1")
    run(engine, TransferSpec("h", alice, order, eur(100), kind=TransferKind.PENDING))
    run(engine, TransferSpec("v", None, None, eur(0), kind=TransferKind.VOID_PENDING,
                             pending_id="h"))
    with pytest.raises(Conflict) as caught:
        run(engine, TransferSpec("p", None, None, eur(1), kind=TransferKind.POST_PENDING,
                                 pending_id="h"))
    assert caught.value.code == "pending_transfer_already_voided"
    [void_again] = run(engine, TransferSpec("v", None, None, eur(0),
                                            kind=TransferKind.VOID_PENDING, pending_id="h"))
    assert void_again.amount == eur(100)
    assert available(engine, alice) == 100
    verified(engine)


def test_expired_holds_are_voided_by_the_sweep_and_cannot_be_posted(engine: Engine) -> None:
    deposit(engine, "alice", 100)
    alice, order = wallet(engine, "alice"), escrow(engine, "o1")
    run(engine,
        TransferSpec("h1", alice, order, eur(30), kind=TransferKind.PENDING,
                     expires_at=NOW + timedelta(minutes=5)),
        TransferSpec("h2", alice, order, eur(30), kind=TransferKind.PENDING,
                     expires_at=NOW + timedelta(days=5)))
    later = NOW + timedelta(minutes=5)
    with pytest.raises(Rejected) as caught:
        run(engine, TransferSpec("p", None, None, eur(30), kind=TransferKind.POST_PENDING,
                                 pending_id="h1"), now=later)
    assert caught.value.code == "pending_transfer_expired"
    uow = UnitOfWork(engine)
    with uow:
        assert ledger.expire_pending(uow, now=later) == 1
        assert ledger.expire_pending(uow, now=later) == 0
        uow.commit()
    assert available(engine, alice) == 70
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        h1, h2 = ledger.get_transfer(uow, "h1"), ledger.get_transfer(uow, "h2")
    assert h1 is not None and h1.state is TransferState.EXPIRED
    assert h2 is not None and h2.state is TransferState.PENDING
    with pytest.raises(Conflict) as again:
        run(engine, TransferSpec("p", None, None, eur(30), kind=TransferKind.POST_PENDING,
                                 pending_id="h1"), now=later)
    assert again.value.code == "pending_transfer_expired"
    verified(engine)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda a, b: TransferSpec("t", a, b, eur(0)), "amount_must_be_positive"),
        (lambda a, b: TransferSpec("t", a, b, eur(-1)), "amount_must_be_positive"),
        (lambda a, b: TransferSpec("t", a, b, Money(1, "USD")), "currencies_must_match"),
        (lambda a, b: TransferSpec("t", a, LedgerAccountId(10**9), eur(1)), "account_not_found"),
        (lambda a, b: TransferSpec("t", a, a, eur(1)), "accounts_must_be_different"),
        (lambda a, b: TransferSpec("t", a, b, eur(VALUE_MAX)), "exceeds_available_balance"),
    ],
)
def test_bad_input_gets_a_named_error_and_writes_nothing(
    engine: Engine, make: object, code: str
) -> None:
    deposit(engine, "alice", 100)
    alice, bob = wallet(engine, "alice"), wallet(engine, "bob")
    before = counts(engine)
    with pytest.raises(BonafideError) as caught:
        run(engine, make(alice, bob))  # type: ignore[operator]
    assert caught.value.code == code
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("value", "currency", "code"),
    [(1.5, "EUR", "amount_must_be_integer_minor_units"),
     (VALUE_MAX + 1, "EUR", "amount_exceeds_maximum"),
     (100, "XYZ", "unknown_currency")],
)
def test_floats_overflow_and_unknown_currencies_never_reach_the_ledger(
    engine: Engine, value: object, currency: str, code: str
) -> None:
    before = counts(engine)
    with pytest.raises(Rejected) as caught:
        ledger.deposit(UnitOfWork(engine), transfer_id="d", owner_id="alice",
                       amount=Money(value, currency), now=NOW, actor="op")  # type: ignore[arg-type]
    assert caught.value.code == code
    assert counts(engine) == before


def test_balance_of_an_unknown_account_is_not_found(engine: Engine) -> None:
    uow = UnitOfWork(engine, read_only=True)
    with uow, pytest.raises(NotFound) as caught:
        ledger.balance(uow, LedgerAccountId(12345))
    assert caught.value.code == "account_not_found"


def test_a_batch_of_a_thousand_is_written_in_order_on_one_chain(engine: Engine) -> None:
    deposit(engine, "alice", 1_000_000)
    alice, bob = wallet(engine, "alice"), wallet(engine, "bob")
    specs = [TransferSpec(f"t{i}", alice, bob, eur(1 + i % 7)) for i in range(1_000)]
    done = run(engine, *specs)
    assert [t.sequence for t in done] == list(range(2, 1_002))
    assert available(engine, bob) == sum(1 + i % 7 for i in range(1_000))
    verified(engine)


def test_memos_with_tabs_newlines_and_backslashes_survive_a_bulk_write(engine: Engine) -> None:
    deposit(engine, "alice", 1_000_000)
    alice, bob = wallet(engine, "alice"), wallet(engine, "bob")
    memo = "tab\there, new\nline, back\\slash \\N, carriage\r, «ünïcode» 🙂"
    run(engine, *[TransferSpec(f"m{i}", alice, bob, eur(1), memo=memo, actor="a\tb")
                  for i in range(100)])  # enough for the COPY path
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        stored = ledger.get_transfer(uow, "m42")
    assert stored is not None and (stored.memo, stored.actor) == (memo, "a\tb")
    verified(engine)


def test_a_post_that_names_its_accounts_is_checked_against_the_pending(engine: Engine) -> None:
    # A post or void naming both accounts lets the ledger lock them without reading the pending
    # first; the pending is still read under the locks and must agree.
    ann, ben, box = wallet(engine, "ann"), wallet(engine, "ben"), escrow(engine, "order:1")
    uow = UnitOfWork(engine)
    with uow:
        external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency="EUR")
        uow.commit()
    run(engine, TransferSpec("dep", external, ann, eur(1_000)))
    run(engine, TransferSpec("hold", ann, box, eur(600), kind=TransferKind.PENDING))
    wrong = TransferSpec("post", ben, box, eur(600), kind=TransferKind.POST_PENDING,
                         pending_id="hold")
    with pytest.raises(Rejected, match="pending_transfer_has_different_debit_account_id"):
        run(engine, wrong)
    assert (available(engine, ann), available(engine, box)) == (400, 0)
    right = TransferSpec("post", ann, box, eur(600), kind=TransferKind.POST_PENDING,
                         pending_id="hold")
    [posted] = run(engine, right)
    assert posted.state is TransferState.POSTED
    assert (available(engine, ann), available(engine, box)) == (400, 600)
    assert run(engine, right) == [posted]  # a retry returns the stored post
    with pytest.raises(Conflict, match="pending_transfer_already_posted"):
        run(engine, TransferSpec("void", ann, box, eur(0), kind=TransferKind.VOID_PENDING,
                                 pending_id="hold"))
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems
