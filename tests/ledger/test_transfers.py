"""The ledger's rules, pure: each named result on a hand-worked example, no database."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bonafide.errors import BonafideError, Conflict, NotFound, Rejected
from bonafide.ledger.audit import Audit, StoredAccount
from bonafide.ledger.journal import GENESIS_HASH, JournalEntry, entry_hash, seal
from bonafide.ledger.model import (
    AccountKind,
    AccountState,
    Balance,
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferSpec,
    TransferState,
    account_key,
)
from bonafide.ledger.transfers import Plan, check_batch, plan_batch
from bonafide.money import VALUE_MAX, Money

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
EXT, ALICE, BOB, ESCROW, YEN = (LedgerAccountId(i) for i in (1, 2, 3, 4, 5))


def eur(value: int) -> Money:
    return Money(value, "EUR")


def accounts(alice_posted: int = 1_000) -> dict[LedgerAccountId, AccountState]:
    return {
        EXT: AccountState(EXT, AccountKind.EXTERNAL, Balance("EUR", 0, alice_posted, 0, 0)),
        ALICE: AccountState(ALICE, AccountKind.WALLET, Balance("EUR", 0, 0, 0, alice_posted)),
        BOB: AccountState(BOB, AccountKind.WALLET, Balance("EUR")),
        ESCROW: AccountState(ESCROW, AccountKind.ESCROW, Balance("EUR")),
        YEN: AccountState(YEN, AccountKind.WALLET, Balance("JPY", 0, 0, 0, 500)),
    }


def plan(
    specs: Sequence[TransferSpec],
    *,
    state: dict[LedgerAccountId, AccountState] | None = None,
    stored: dict[str, Transfer] | None = None,
    open_ids: set[str] | None = None,
    resolutions: dict[str, Transfer] | None = None,
    now: datetime = NOW,
) -> Plan:
    check_batch(specs)
    return plan_batch(
        specs,
        accounts=accounts() if state is None else state,
        stored=stored or {},
        open_pending_ids=open_ids or set(),
        resolutions=resolutions or {},
        now=now,
    )


def code_of(specs: Sequence[TransferSpec], **kwargs: object) -> str:
    with pytest.raises(BonafideError) as caught:
        plan(specs, **kwargs)  # type: ignore[arg-type]
    return caught.value.code


def hold(tid: str = "h", amount: int = 600, expires: datetime | None = None) -> TransferSpec:
    return TransferSpec(tid, ALICE, ESCROW, eur(amount), kind=TransferKind.PENDING,
                        expires_at=expires)


def post(tid: str, pending: str, amount: int) -> TransferSpec:
    return TransferSpec(tid, None, None, eur(amount), kind=TransferKind.POST_PENDING,
                        pending_id=pending)


def void(tid: str, pending: str) -> TransferSpec:
    return TransferSpec(tid, None, None, eur(0), kind=TransferKind.VOID_PENDING, pending_id=pending)


def stored_hold(amount: int = 600, expires: datetime | None = None) -> Transfer:
    """A hold as the store returns it, with ALICE's balance already reserving it."""
    return Transfer("h", ALICE, ESCROW, eur(amount), TransferKind.PENDING, None, expires, "", "",
                    NOW - timedelta(hours=1), 7, TransferState.PENDING)


def held_state(amount: int = 600) -> dict[LedgerAccountId, AccountState]:
    state = accounts()
    state[ALICE] = AccountState(ALICE, AccountKind.WALLET, Balance("EUR", amount, 0, 0, 1_000))
    state[ESCROW] = AccountState(ESCROW, AccountKind.ESCROW, Balance("EUR", 0, 0, amount, 0))
    return state


def test_a_single_transfer_moves_posted_funds_between_two_accounts() -> None:
    result = plan([TransferSpec("t", ALICE, BOB, eur(250))])
    assert result.balances[ALICE] == Balance("EUR", 0, 250, 0, 1_000)
    assert result.balances[BOB] == Balance("EUR", 0, 0, 0, 250)
    assert result.balances[ALICE].available == eur(750)
    assert [t.state for t in result.results] == [TransferState.POSTED]


def test_a_pending_transfer_holds_funds_out_and_announces_them_in() -> None:
    result = plan([hold(amount=600)])
    alice, escrow = result.balances[ALICE], result.balances[ESCROW]
    assert (alice.available, alice.held) == (eur(400), eur(600))
    assert (escrow.available, escrow.incoming) == (eur(0), eur(600))
    assert [t.id for t in result.holds_opened] == ["h"]


def test_a_partial_post_moves_part_and_returns_the_rest_to_the_debit_account() -> None:
    result = plan([post("p", "h", 450)], state=held_state(), stored={"h": stored_hold()},
                  open_ids={"h"})
    assert result.balances[ALICE] == Balance("EUR", 0, 450, 0, 1_000)
    assert result.balances[ESCROW] == Balance("EUR", 0, 0, 0, 450)
    assert result.holds_closed == ["h"]
    assert result.results[0].debit_account_id == ALICE  # taken from the pending


def test_a_void_returns_everything_held() -> None:
    result = plan([void("v", "h")], state=held_state(), stored={"h": stored_hold()},
                  open_ids={"h"})
    assert result.balances[ALICE] == Balance("EUR", 0, 0, 0, 1_000)
    assert result.results[0].amount == eur(600)
    assert result.results[0].state is TransferState.VOIDED


def test_a_hold_and_its_post_can_share_a_linked_batch() -> None:
    result = plan([hold(), post("p", "h", 600), TransferSpec("fee", ESCROW, BOB, eur(30))])
    assert result.results[0].state is TransferState.POSTED
    assert result.holds_opened == [] and result.holds_closed == []
    assert result.balances[ESCROW].available == eur(570)


@pytest.mark.parametrize(
    ("specs", "code"),
    [
        ([TransferSpec("t", ALICE, BOB, eur(1_001))], "exceeds_available_balance"),
        ([hold(amount=700), TransferSpec("t", ALICE, BOB, eur(301))], "exceeds_available_balance"),
        ([TransferSpec("t", ALICE, ALICE, eur(1))], "accounts_must_be_different"),
        ([TransferSpec("t", ALICE, YEN, eur(1))], "currencies_must_match"),
        ([TransferSpec("t", ALICE, BOB, Money(1, "USD"))], "currencies_must_match"),
        ([TransferSpec("t", ALICE, LedgerAccountId(99), eur(1))], "account_not_found"),
        ([TransferSpec("t", ALICE, BOB, eur(0))], "amount_must_be_positive"),
        ([TransferSpec("t", ALICE, BOB, eur(-5))], "amount_must_be_positive"),
        ([TransferSpec("t", None, BOB, eur(5))], "accounts_must_not_be_none"),
        ([TransferSpec("t", ALICE, BOB, eur(5), pending_id="x")], "pending_id_must_be_none"),
        ([TransferSpec("t", None, None, eur(5), kind=TransferKind.POST_PENDING)],
         "pending_id_must_not_be_none"),
        ([TransferSpec("t", ALICE, BOB, eur(5), expires_at=NOW + timedelta(1))],
         "expires_at_reserved_for_pending_transfer"),
        ([hold(expires=NOW)], "expires_at_must_be_in_the_future"),
        ([hold(expires=datetime(2027, 1, 1))], "expires_at_must_be_timezone_aware"),
        ([post("p", "nope", 5)], "pending_transfer_not_found"),
        ([post("p", "t", 5)], "pending_transfer_not_found"),
        ([hold(), post("p", "h", 601)], "exceeds_pending_transfer_amount"),
        ([hold(), post("p", "h", 0)], "amount_must_be_positive"),
        ([hold(), post("p", "h", 1), void("v", "h")], "pending_transfer_already_posted"),
        ([hold(), void("v", "h"), post("p", "h", 1)], "pending_transfer_already_voided"),
        ([hold(), TransferSpec("p", BOB, None, eur(1), kind=TransferKind.POST_PENDING,
                               pending_id="h")],
         "pending_transfer_has_different_debit_account_id"),
        ([TransferSpec("t", ALICE, BOB, eur(1)), TransferSpec("t", ALICE, BOB, eur(1))],
         "transfer_ids_must_be_unique_in_batch"),
        ([TransferSpec("has space", ALICE, BOB, eur(1))], "transfer_id_invalid"),
        ([TransferSpec("", ALICE, BOB, eur(1))], "transfer_id_invalid"),
        ([TransferSpec("x" * 129, ALICE, BOB, eur(1))], "transfer_id_invalid"),
        ([TransferSpec("~mine", ALICE, BOB, eur(1))], "transfer_id_reserved"),
        ([TransferSpec("t", ALICE, BOB, eur(1), memo="m" * 501)], "memo_too_long"),
    ],
)
def test_each_broken_rule_has_its_named_error(specs: list[TransferSpec], code: str) -> None:
    assert code_of(specs) == code


def test_a_linked_batch_fails_whole_on_its_first_error() -> None:
    # The first transfer alone is fine; the second fails, so the plan raises and yields nothing.
    with pytest.raises(Rejected) as caught:
        plan([TransferSpec("a", ALICE, BOB, eur(10)), TransferSpec("b", BOB, ALICE, eur(11))])
    assert caught.value.code == "exceeds_available_balance"


def test_the_external_account_may_go_negative_and_nothing_else_may() -> None:
    result = plan([TransferSpec("d", EXT, BOB, eur(VALUE_MAX - 1_000))])
    assert result.balances[EXT].available.value == -VALUE_MAX
    assert code_of([TransferSpec("t", BOB, ALICE, eur(1))]) == "exceeds_available_balance"


def test_counters_past_their_limit_overflow_by_name() -> None:
    state = accounts()
    state[BOB] = AccountState(BOB, AccountKind.WALLET, Balance("EUR", 0, 0, 0, VALUE_MAX))
    assert code_of([TransferSpec("t", ALICE, BOB, eur(1))], state=state) == "overflows_balance"


def test_a_retry_with_the_same_fields_returns_the_stored_transfer_and_moves_nothing() -> None:
    first = plan([TransferSpec("t", ALICE, BOB, eur(5), memo="rent")]).results[0]
    again = plan([TransferSpec("t", ALICE, BOB, eur(5), memo="rent")], stored={"t": first})
    assert again.results == [first] and again.new == [] and again.balances == {}


@pytest.mark.parametrize(
    "changed",
    [TransferSpec("t", ALICE, BOB, eur(6), memo="rent"),
     TransferSpec("t", ALICE, ESCROW, eur(5), memo="rent"),
     TransferSpec("t", ALICE, BOB, eur(5), memo="food"),
     TransferSpec("t", ALICE, BOB, eur(5), memo="rent", kind=TransferKind.PENDING)],
)
def test_a_retry_with_different_fields_is_a_conflict(changed: TransferSpec) -> None:
    first = plan([TransferSpec("t", ALICE, BOB, eur(5), memo="rent")]).results[0]
    with pytest.raises(Conflict) as caught:
        plan([changed], stored={"t": first})
    assert caught.value.code == "transfer_exists_with_different_fields"


def test_an_expired_pending_cannot_be_posted_but_can_be_voided() -> None:
    expires = NOW - timedelta(seconds=1)
    kwargs = {"state": held_state(), "stored": {"h": stored_hold(expires=expires)},
              "open_ids": {"h"}}
    assert code_of([post("p", "h", 1)], **kwargs) == "pending_transfer_expired"
    voided = plan([void("v", "h")], **kwargs)  # type: ignore[arg-type]
    assert voided.balances[ALICE].available == eur(1_000)


def test_a_resolved_pending_names_how_it_was_resolved() -> None:
    pending = stored_hold(expires=NOW)
    by_post = Transfer("p", ALICE, ESCROW, eur(600), TransferKind.POST_PENDING, "h", None, "", "",
                       NOW - timedelta(minutes=1), 8, TransferState.POSTED)
    by_sweep = Transfer("~h", ALICE, ESCROW, eur(600), TransferKind.VOID_PENDING, "h", None, "",
                        "", NOW, 8, TransferState.VOIDED)
    for by, code in ((by_post, "pending_transfer_already_posted"),
                     (by_sweep, "pending_transfer_expired")):
        got = code_of([void("v", "h")], stored={"h": pending}, resolutions={"h": by})
        assert got == code


def test_unknown_account_is_not_found() -> None:
    with pytest.raises(NotFound):
        plan([TransferSpec("t", LedgerAccountId(42), BOB, eur(1))])


def test_account_keys_give_one_wallet_per_owner_and_currency() -> None:
    key = account_key(kind=AccountKind.WALLET, currency="EUR", owner_id="u1", name=None)
    assert key != account_key(kind=AccountKind.WALLET, currency="USD", owner_id="u1", name=None)
    assert key != account_key(kind=AccountKind.WALLET, currency="EUR", owner_id="u2", name=None)
    with pytest.raises(Rejected, match="wallet_needs_owner"):
        account_key(kind=AccountKind.WALLET, currency="EUR", owner_id=None, name=None)
    with pytest.raises(Rejected, match="escrow_needs_name"):
        account_key(kind=AccountKind.ESCROW, currency="EUR", owner_id=None, name=None)


# --- journal and audit, pure -------------------------------------------------------------------
Heads = dict[int, tuple[int, str]]


def sealed_journal() -> tuple[list[StoredAccount], list[JournalEntry], Heads]:
    empty = {a.id: AccountState(a.id, a.kind, Balance(a.currency)) for a in accounts().values()}
    result = plan([TransferSpec("d", EXT, ALICE, eur(1_000)), hold("h", 600), post("p", "h", 500),
                   hold("h2", 100)], state=empty)
    # Two lanes, as two concurrent writers would leave them: odd entries on lane 0, even on 1.
    entries = []
    lanes = {0: (0, GENESIS_HASH), 1: (0, GENESIS_HASH)}
    for sequence, transfer in enumerate(result.new, start=1):
        lane = sequence % 2
        [entry], _ = seal([transfer], sequences=[sequence], lane=lane,
                          lane_sequence=lanes[lane][0], lane_hash=lanes[lane][1])
        lanes[lane] = (entry.lane_sequence, entry.hash)
        entries.append(entry)
    stored = []
    for account_id, state in empty.items():
        b = result.balances.get(account_id, state.balance)
        stored.append(StoredAccount(account_id, str(state.kind), state.currency,
                                    b.debits_pending, b.debits_posted, b.credits_pending,
                                    b.credits_posted))
    return stored, entries, lanes


def audit(
    stored: list[StoredAccount], entries: list[JournalEntry], heads: Heads, holds: set[str],
) -> list[tuple[str, int | None]]:
    run = Audit(stored)
    for entry in entries:
        run.feed(entry)
    report = run.finish(heads=heads, open_holds=holds)
    assert report.ok == (not report.problems)
    return [(p.code, p.entry or p.account) for p in report.problems]


def test_each_lane_links_each_entry_to_the_lanes_one_before() -> None:
    _, entries, _ = sealed_journal()
    for lane in (0, 1):
        chain = [e for e in entries if e.lane == lane]
        assert chain[0].prev_hash == GENESIS_HASH
        assert [e.lane_sequence for e in chain] == list(range(1, len(chain) + 1))
        for before, after in itertools.pairwise(chain):
            assert after.prev_hash == before.hash
            assert entry_hash(after) == after.hash


def test_audit_of_an_untouched_journal_finds_nothing() -> None:
    assert audit(*sealed_journal(), {"h2"}) == []


def test_audit_names_a_changed_amount_a_missing_entry_and_a_cut_off_end() -> None:
    stored, entries, head = sealed_journal()
    changed = [*entries]
    changed[2] = changed[2]._replace(amount=499)
    found = audit(stored, changed, head, {"h2"})
    assert found[0] == ("entry_hash_mismatch", 3)
    assert ("account_balance_mismatch", ALICE) in found
    # Entry 2 is lane 0's first; without it lane 0 starts at position 2, at entry 4.
    missing = [e for e in entries if e.sequence != 2]
    assert ("entry_missing", 4) in audit(stored, missing, head, {"h2"})
    # Entry 4 (lane 0's last) removed: the head of lane 0 no longer matches its last entry, 2.
    assert ("journal_head_mismatch", 2) in audit(stored, entries[:-1], head, {"h2"})


def test_audit_names_a_rehashed_entry_by_the_broken_link_after_it() -> None:
    stored, entries, head = sealed_journal()
    forged = entries[1]._replace(amount=1)
    forged = forged._replace(hash=entry_hash(forged))
    found = audit(stored, [entries[0], forged, *entries[2:]], head, {"h2"})
    assert ("entry_chain_broken", 4) in found  # the next entry of entry 2's lane
    assert ("entry_hash_mismatch", 2) not in found  # the forger recomputed its hash


def test_audit_finds_a_balance_changed_on_the_account_row_and_a_lost_hold() -> None:
    stored, entries, head = sealed_journal()
    bob = next(i for i, a in enumerate(stored) if a.id == BOB)
    stored[bob] = StoredAccount(BOB, "wallet", "EUR", 0, 0, 0, 50)
    found = audit(stored, entries, head, set())
    assert ("account_balance_mismatch", BOB) in found
    assert ("currency_does_not_sum_to_zero", None) in found
    assert ("hold_missing", None) in found
