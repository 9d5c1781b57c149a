"""Verification: replay the journal from nothing and compare with what is stored.

Owns: ``Audit`` (fed entries in sequence order, then the stored accounts, holds and chain head),
``Problem`` and ``VerifyReport``. Imports: the standard library and ``bonafide.ledger``. The
caller streams rows from the database; nothing here does I/O.

What is checked, and the problem code when it fails:

- each lane is numbered without gaps (``entry_missing``, naming the lane position and the
  entries around it) and in the journal's order (``entry_out_of_order``);
- each entry's hash matches its fields (``entry_hash_mismatch``) and its ``prev_hash`` is the
  hash of its lane's entry before (``entry_chain_broken``); each lane's head row matches the
  lane's last entry (``journal_head_mismatch``, which catches entries removed from the end);
- each pending transfer is resolved at most once, by a post or void that names it and moves no
  more than it reserved (``pending_transfer_resolved_twice``, ``pending_transfer_not_found``,
  ``post_exceeds_pending_amount``, ``resolution_accounts_differ``);
- entries name known accounts of their currency (``entry_account_unknown``,
  ``entry_currency_differs``);
- no account but ``external`` ever has negative available funds (``balance_below_zero``);
- the four counters stored on every account equal the replayed ones
  (``account_balance_mismatch``), the open holds equal the unresolved pendings (``hold_missing``,
  ``hold_unexpected``), and per currency the balances sum to zero and pending debits equal
  pending credits (``currency_does_not_sum_to_zero``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bonafide.ledger.journal import GENESIS_HASH, JournalEntry, entry_hash
from bonafide.ledger.model import AccountKind

PROBLEMS_MAX = 1_000
"""Limit on the problems a report lists; ``problems_total`` still counts them all."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, and where: a journal entry (by sequence) or an account (by id)."""

    code: str
    detail: str
    entry: int | None = None
    transfer_id: str | None = None
    account: int | None = None

    @property
    def subject(self) -> str:
        if self.entry is not None:
            named = f" ({self.transfer_id})" if self.transfer_id else ""
            return f"entry {self.entry}{named}"
        if self.account is not None:
            return f"account {self.account}"
        return "ledger"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "detail": self.detail,
            "entry": self.entry,
            "transfer_id": self.transfer_id,
            "account": self.account,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify`` found. ``head`` commits to every lane's last hash (see ``Audit.head``):
    publish it, and any later rewrite of the journal up to here changes it."""

    ok: bool
    entries: int
    head: str
    accounts: int
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "accounts": self.accounts,
            "problems": [p.to_json() for p in self.problems],
            "problems_total": self.problems_total,
        }


@dataclass(frozen=True, slots=True)
class StoredAccount:
    id: int
    kind: str
    currency: str
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


# Replayed counters: [debits_pending, debits_posted, credits_pending, credits_posted]
_DP, _DPO, _CP, _CPO = 0, 1, 2, 3


class Audit:
    """Feed ``accounts`` first, then every entry in sequence order, then ``finish``."""

    def __init__(self, accounts: Iterable[StoredAccount]) -> None:
        self.accounts = {a.id: a for a in accounts}
        self.replayed: dict[int, list[int]] = {a: [0, 0, 0, 0] for a in self.accounts}
        self.open: dict[str, tuple[int, int, int]] = {}  # pending id -> debit, credit, amount
        self.resolved: set[str] = set()
        self.below_zero_reported: set[int] = set()
        self.problems: list[Problem] = []
        self.problems_total = 0
        # Per lane: the last lane position seen, its hash, and its entry's sequence.
        self.lanes: dict[int, tuple[int, str, int]] = {}
        self.count = 0

    def _problem(self, problem: Problem) -> None:
        self.problems_total += 1
        if len(self.problems) < PROBLEMS_MAX:
            self.problems.append(problem)

    def _entry_problem(self, e: JournalEntry, code: str, detail: str) -> None:
        self._problem(Problem(code, detail, entry=e.sequence, transfer_id=e.id))

    def feed(self, e: JournalEntry) -> None:
        """Check and replay the next entry; entries come in ``sequence`` order."""
        self.count += 1
        position, prev_hash, prev_entry = self.lanes.get(e.lane, (0, GENESIS_HASH, 0))
        gap = e.lane_sequence != position + 1
        if e.lane_sequence > position + 1:
            missing = (
                f"position {position + 1}"
                if e.lane_sequence == position + 2
                else f"positions {position + 1} to {e.lane_sequence - 1}"
            )
            after = f"after entry {prev_entry} " if prev_entry else ""
            self._entry_problem(
                e, "entry_missing", f"lane {e.lane}: {missing} missing {after}before this entry"
            )
        elif gap:
            self._entry_problem(
                e, "entry_out_of_order", f"lane {e.lane}: position {e.lane_sequence} "
                f"after position {position}"
            )
        if entry_hash(e) != e.hash:
            self._entry_problem(e, "entry_hash_mismatch", "stored fields do not match the hash")
        if e.prev_hash != prev_hash and not gap:
            self._entry_problem(
                e, "entry_chain_broken", f"prev_hash is not the hash of lane {e.lane}'s previous "
                f"entry ({prev_entry})"
            )
        self.lanes[e.lane] = (e.lane_sequence, e.hash, e.sequence)
        self._replay(e)

    def _counters(self, e: JournalEntry, account_id: int) -> list[int]:
        account = self.accounts.get(account_id)
        if account is None:
            self._entry_problem(e, "entry_account_unknown", f"account {account_id}")
            return self.replayed.setdefault(account_id, [0, 0, 0, 0])
        if account.currency != e.currency:
            self._entry_problem(
                e, "entry_currency_differs", f"account {account_id} is {account.currency}"
            )
        return self.replayed[account_id]

    def _replay(self, e: JournalEntry) -> None:
        d = self._counters(e, e.debit_account_id)
        c = self._counters(e, e.credit_account_id)
        amount = e.amount
        if e.kind == "single":
            d[_DPO] += amount
            c[_CPO] += amount
        elif e.kind == "pending":
            d[_DP] += amount
            c[_CP] += amount
            self.open[e.id] = (e.debit_account_id, e.credit_account_id, amount)
        elif e.kind in ("post_pending", "void_pending"):
            self._replay_resolution(e, d, c)
        else:
            self._entry_problem(e, "entry_kind_unknown", repr(e.kind))
        self._check_not_below_zero(e, e.debit_account_id, d)

    def _replay_resolution(self, e: JournalEntry, d: list[int], c: list[int]) -> None:
        pending_id = e.pending_id or ""
        found = self.open.pop(pending_id, None)
        if found is None:
            code = (
                "pending_transfer_resolved_twice"
                if pending_id in self.resolved
                else "pending_transfer_not_found"
            )
            self._entry_problem(e, code, f"pending {pending_id!r}")
            return
        self.resolved.add(pending_id)
        debit_id, credit_id, held = found
        if (debit_id, credit_id) != (e.debit_account_id, e.credit_account_id):
            self._entry_problem(e, "resolution_accounts_differ", f"pending {pending_id!r}")
        posting = e.kind == "post_pending"
        if e.amount > held or (not posting and e.amount != held):
            self._entry_problem(e, "post_exceeds_pending_amount", f"{e.amount} > {held}")
        held_d = self.replayed.setdefault(debit_id, [0, 0, 0, 0])
        held_c = self.replayed.setdefault(credit_id, [0, 0, 0, 0])
        held_d[_DP] -= held
        held_c[_CP] -= held
        if posting:
            d[_DPO] += e.amount
            c[_CPO] += e.amount

    def _check_not_below_zero(self, e: JournalEntry, account_id: int, d: list[int]) -> None:
        if d[_CPO] - d[_DPO] - d[_DP] >= 0 or account_id in self.below_zero_reported:
            return
        account = self.accounts.get(account_id)
        if account is not None and account.kind == AccountKind.EXTERNAL:
            return
        self.below_zero_reported.add(account_id)
        self._entry_problem(e, "balance_below_zero", f"account {account_id} goes below zero")

    def finish(
        self, *, heads: Mapping[int, tuple[int, str]], open_holds: Iterable[str]
    ) -> VerifyReport:
        """Compare with the stored lane heads (lane → position, hash), accounts and holds."""
        for lane in sorted(set(heads) | set(self.lanes)):
            head = heads.get(lane)
            position, last_hash, last_entry = self.lanes.get(lane, (0, GENESIS_HASH, 0))
            if head != (position, last_hash):
                said = "no head" if head is None else f"position {head[0]} ({head[1][:12]})"
                self._problem(
                    Problem(
                        "journal_head_mismatch",
                        f"lane {lane}: the head says {said}, the journal ends at position "
                        f"{position} ({last_hash[:12]})",
                        entry=last_entry or None,
                    )
                )
        self._compare_accounts()
        holds = set(open_holds)
        for pending_id in sorted(set(self.open) - holds):
            self._problem(Problem("hold_missing", f"pending {pending_id!r} is open but not held"))
        for pending_id in sorted(holds - set(self.open)):
            self._problem(Problem("hold_unexpected", f"pending {pending_id!r} is not open"))
        return VerifyReport(
            ok=self.problems_total == 0,
            entries=self.count,
            head=self.head(),
            accounts=len(self.accounts),
            problems=self.problems,
            problems_total=self.problems_total,
        )

    def head(self) -> str:
        """One hash that commits to every lane's head: SHA-256 over ``lane:hash`` lines."""
        lines = "".join(f"{lane}:{h}\n" for lane, (_, h, _) in sorted(self.lanes.items()))
        return hashlib.sha256(lines.encode()).hexdigest() if lines else GENESIS_HASH

    def _compare_accounts(self) -> None:
        sums: dict[str, list[int]] = {}
        for account_id, replayed in sorted(self.replayed.items()):
            stored = self.accounts.get(account_id)
            if stored is None:
                continue  # reported as entry_account_unknown
            counters = [
                stored.debits_pending, stored.debits_posted,
                stored.credits_pending, stored.credits_posted,
            ]
            if counters != replayed:
                self._problem(
                    Problem(
                        "account_balance_mismatch",
                        f"stored {counters}, journal gives {replayed} "
                        "(debits pending/posted, credits pending/posted)",
                        account=account_id,
                    )
                )
            dp, dpo, cp, cpo = counters
            if stored.kind != AccountKind.EXTERNAL and cpo - dpo - dp < 0:
                self._problem(
                    Problem("balance_below_zero", "stored balance is negative", account=account_id)
                )
            total = sums.setdefault(stored.currency, [0, 0])
            total[0] += cpo - dpo
            total[1] += cp - dp
        for currency, (posted, pending) in sorted(sums.items()):
            if posted or pending:
                self._problem(
                    Problem(
                        "currency_does_not_sum_to_zero",
                        f"{currency}: posted balances sum to {posted}, pending to {pending}",
                    )
                )
