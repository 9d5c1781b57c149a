"""The ledger's repository: load, lock and persist accounts, journal entries, holds and the head.

Owns: every SQL statement on the ledger tables. Imports: SQLAlchemy, ``bonafide.store``,
``bonafide.ledger`` and ``bonafide.errors``. It decides nothing about money: ``bonafide.ledger``
plans, ``bonafide.service.ledger`` calls this in the order that makes concurrent batches safe.

Locking (PostgreSQL, READ COMMITTED): ``lock_accounts`` takes ``FOR UPDATE`` row locks in
ascending id order, ``lock_holds`` locks the holds a batch resolves, and ``lock_head`` locks the
journal head last, so every transaction takes its locks in the same order (accounts, holds, head)
and none can deadlock. On SQLite the unit of work's ``BEGIN IMMEDIATE`` already serialises
writers, so no row locks are taken.

Statements are Core, with executemany for the batch path: a batch of a thousand transfers is a
handful of round trips, not thousands of ORM objects.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

import psycopg
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Connection,
    String,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bonafide.errors import Conflict
from bonafide.ledger.audit import StoredAccount
from bonafide.ledger.journal import JournalEntry, to_transfer
from bonafide.ledger.model import (
    AccountKind,
    AccountState,
    Balance,
    LedgerAccountId,
    Transfer,
    TransferKind,
    TransferState,
)
from bonafide.ledger.transfers import resolved_state
from bonafide.store.ledger_tables import ledger_accounts, ledger_chain, ledger_holds, ledger_journal

JOURNAL_CHUNK_ROWS = 20_000
"""Rows fetched per round trip when streaming the journal."""

_A = ledger_accounts.c
_J = ledger_journal.c
_COUNTERS = (_A.debits_pending, _A.debits_posted, _A.credits_pending, _A.credits_posted)
_JOURNAL_COLUMNS = tuple(ledger_journal.c)
_RESOLUTION = aliased(ledger_journal, name="resolution")

_JOURNAL_NAMES = ", ".join(c.name for c in _JOURNAL_COLUMNS)
_COPY_JOURNAL = f"COPY ledger_journal ({_JOURNAL_NAMES}) FROM STDIN"
# Built from the table's own column names, never from input.
_INSERT_JOURNAL = (
    f"INSERT INTO ledger_journal ({_JOURNAL_NAMES}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _JOURNAL_COLUMNS)})"
)

_update_balance = (
    update(ledger_accounts)
    .where(_A.id == bindparam("b_id"))
    .values(
        debits_pending=bindparam("b_dp"),
        debits_posted=bindparam("b_dpo"),
        credits_pending=bindparam("b_cp"),
        credits_posted=bindparam("b_cpo"),
    )
)


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def connection(self) -> Connection:
        return self.session.connection()

    @property
    def _locks_rows(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _in(self, column: Any, values: Collection[Any]) -> Any:
        """``column IN values``; on PostgreSQL ``= ANY(array)``, one short statement whatever
        the count (a thousand-item IN list costs more to parse than to run)."""
        if self._locks_rows:
            element = BigInteger() if isinstance(column.type, BigInteger) else String()
            return column == any_(bindparam(None, list(values), type_=ARRAY(element)))
        return column.in_(list(values))

    def _insert(self, table: Any) -> Any:
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            return postgresql.insert(table)
        if dialect == "sqlite":
            return sqlite.insert(table)
        raise AssertionError(f"unsupported dialect {dialect}")

    def begin_snapshot(self) -> None:
        """Make this transaction read one snapshot (call first; PostgreSQL only needs it)."""
        if self._locks_rows:
            self.connection.exec_driver_sql(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )

    # --- accounts -----------------------------------------------------------------------------
    def insert_account(
        self,
        *,
        key: str,
        kind: AccountKind,
        currency: str,
        owner_id: str | None,
        name: str | None,
    ) -> LedgerAccountId | None:
        """Insert an account with zero balances; ``None`` if one with ``key`` exists already.

        ``ON CONFLICT DO NOTHING`` rather than catching the unique violation: on PostgreSQL a
        failed statement would abort the caller's whole transaction.
        """
        stmt = (
            self._insert(ledger_accounts)
            .values(
                key=key, kind=str(kind), currency=currency, owner_id=owner_id, name=name,
                debits_pending=0, debits_posted=0, credits_pending=0, credits_posted=0,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(_A.id)
        )
        found = self.connection.execute(stmt).scalar_one_or_none()
        return None if found is None else LedgerAccountId(found)

    def account_id_by_key(self, key: str) -> LedgerAccountId | None:
        found = self.connection.execute(select(_A.id).where(_A.key == key)).scalar_one_or_none()
        return None if found is None else LedgerAccountId(found)

    def lock_accounts(self, ids: Collection[int]) -> dict[LedgerAccountId, AccountState]:
        """Load the accounts ``ids`` (missing ones are left out), locked in ascending id order."""
        if not ids:
            return {}
        stmt = (
            select(_A.id, _A.kind, _A.currency, *_COUNTERS)
            .where(self._in(_A.id, sorted(ids)))
            .order_by(_A.id)
        )
        if self._locks_rows:
            stmt = stmt.with_for_update()
        return {
            LedgerAccountId(r[0]): AccountState(
                LedgerAccountId(r[0]), AccountKind(r[1]), Balance(r[2], r[3], r[4], r[5], r[6])
            )
            for r in self.connection.execute(stmt)
        }

    def balance(self, account_id: int) -> Balance | None:
        row = self.connection.execute(
            select(_A.currency, *_COUNTERS).where(_A.id == account_id)
        ).one_or_none()
        return None if row is None else Balance(row[0], row[1], row[2], row[3], row[4])

    def balances_of_owner(
        self, owner_id: str
    ) -> list[tuple[LedgerAccountId, AccountKind, Balance]]:
        stmt = (
            select(_A.id, _A.kind, _A.currency, *_COUNTERS)
            .where(_A.owner_id == owner_id)
            .order_by(_A.id)
        )
        return [
            (LedgerAccountId(r[0]), AccountKind(r[1]), Balance(r[2], r[3], r[4], r[5], r[6]))
            for r in self.connection.execute(stmt)
        ]

    def update_balances(self, balances: dict[LedgerAccountId, Balance]) -> None:
        if not balances:
            return
        self.connection.execute(
            _update_balance,
            [
                {
                    "b_id": account_id,
                    "b_dp": b.debits_pending,
                    "b_dpo": b.debits_posted,
                    "b_cp": b.credits_pending,
                    "b_cpo": b.credits_posted,
                }
                for account_id, b in balances.items()
            ],
        )

    def stored_accounts(self) -> list[StoredAccount]:
        stmt = select(_A.id, _A.kind, _A.currency, *_COUNTERS).order_by(_A.id)
        return [StoredAccount(*row) for row in self.connection.execute(stmt)]

    # --- transfers ----------------------------------------------------------------------------
    def transfers(
        self, ids: Collection[str]
    ) -> tuple[dict[str, Transfer], dict[str, Transfer]]:
        """Stored transfers among ``ids``, and for the resolved pending ones their resolution."""
        if not ids:
            return {}, {}
        r = _RESOLUTION.c
        stmt = (
            select(*_JOURNAL_COLUMNS, *r)
            .outerjoin(_RESOLUTION, r.pending_id == _J.id)
            .where(self._in(_J.id, ids))
        )
        found: dict[str, Transfer] = {}
        resolutions: dict[str, Transfer] = {}
        width = len(_JOURNAL_COLUMNS)
        for row in self.connection.execute(stmt):
            entry = JournalEntry._make(row[:width])
            if entry.kind != TransferKind.PENDING:
                found[entry.id] = to_transfer(entry)
                continue
            if row[width] is None:
                found[entry.id] = to_transfer(entry, state=TransferState.PENDING)
                continue
            resolution = to_transfer(JournalEntry._make(row[width:]))
            pending = to_transfer(entry, state=TransferState.PENDING)
            found[entry.id] = to_transfer(entry, state=resolved_state(pending, resolution))
            resolutions[entry.id] = resolution
        return found, resolutions

    def lock_holds(self, pending_ids: Collection[str]) -> set[str]:
        """Which of ``pending_ids`` are still unresolved; their hold rows stay locked."""
        if not pending_ids:
            return set()
        stmt = select(ledger_holds.c.transfer_id).where(
            self._in(ledger_holds.c.transfer_id, pending_ids)
        )
        if self._locks_rows:
            stmt = stmt.order_by(ledger_holds.c.transfer_id).with_for_update()
        return set(self.connection.execute(stmt).scalars())

    def due_holds(self, *, now_us: int, limit: int) -> list[tuple[str, str]]:
        """Pending transfers expiring at or before ``now_us``: (id, currency), oldest first."""
        stmt = (
            select(ledger_holds.c.transfer_id, _J.currency)
            .join(ledger_journal, _J.id == ledger_holds.c.transfer_id)
            .where(ledger_holds.c.expires_at_us <= now_us)
            .order_by(ledger_holds.c.expires_at_us, ledger_holds.c.transfer_id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.connection.execute(stmt)]

    def hold_ids(self) -> set[str]:
        return set(self.connection.execute(select(ledger_holds.c.transfer_id)).scalars())

    # --- the journal --------------------------------------------------------------------------
    def lock_head(self) -> tuple[int, str]:
        stmt = select(ledger_chain.c.sequence, ledger_chain.c.hash).where(ledger_chain.c.id == 1)
        if self._locks_rows:
            stmt = stmt.with_for_update()
        row = self.connection.execute(stmt).one()
        return int(row[0]), str(row[1])

    def head(self) -> tuple[int, str]:
        row = self.connection.execute(
            select(ledger_chain.c.sequence, ledger_chain.c.hash).where(ledger_chain.c.id == 1)
        ).one()
        return int(row[0]), str(row[1])

    def append(
        self,
        entries: Sequence[JournalEntry],
        *,
        holds_opened: Iterable[tuple[str, int | None]],
        holds_closed: Collection[str],
    ) -> None:
        """Append sealed ``entries``, move the head, and open/close holds. Caller holds the head."""
        if not entries:
            return
        connection = self.connection
        try:
            self._insert_entries(entries)
        except IntegrityError as error:
            # Only a concurrent request with the same transfer id gets here: every other case
            # is refused by the plan, under the locks, before anything is written.
            if "pending_id" in str(error.orig):
                raise Conflict("pending_transfer_resolved_concurrently", transient=True) from None
            raise Conflict(
                "transfer_id_in_flight",
                "a concurrent request with this transfer id is being written; retry it",
                transient=True,
            ) from None
        opened = [{"transfer_id": t, "expires_at_us": e} for t, e in holds_opened]
        if opened:
            connection.execute(insert(ledger_holds), opened)
        if holds_closed:
            connection.execute(
                delete(ledger_holds).where(self._in(ledger_holds.c.transfer_id, holds_closed))
            )
        last = entries[-1]
        connection.execute(
            update(ledger_chain)
            .where(ledger_chain.c.id == 1)
            .values(sequence=last.sequence, hash=last.hash)
        )

    def _insert_entries(self, entries: Sequence[JournalEntry]) -> None:
        """Bulk insert: COPY on PostgreSQL, executemany on SQLite; no per-row statement compile."""
        connection = self.connection
        if self._locks_rows:
            raw = connection.connection.driver_connection
            try:
                with raw.cursor() as cursor, cursor.copy(_COPY_JOURNAL) as copy:
                    for entry in entries:
                        copy.write_row(entry)
            except psycopg.errors.UniqueViolation as error:
                raise IntegrityError(_COPY_JOURNAL, None, error) from error
            return
        connection.exec_driver_sql(_INSERT_JOURNAL, list(entries))

    def journal(self, *, chunk_rows: int = JOURNAL_CHUNK_ROWS) -> Iterator[JournalEntry]:
        """Every entry in sequence order, streamed (server-side cursor on PostgreSQL)."""
        result = self.connection.execution_options(
            stream_results=True, yield_per=chunk_rows
        ).execute(select(*_JOURNAL_COLUMNS).order_by(_J.sequence))
        make = JournalEntry._make
        for partition in result.partitions():
            for row in partition:
                yield make(row)

    def entry_count(self) -> int:
        stmt = select(func.count()).select_from(ledger_journal)
        return int(self.connection.execute(stmt).scalar_one())

