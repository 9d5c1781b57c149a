"""The ledger's repository: load, lock and persist accounts, journal entries, holds and the head.

Owns: every SQL statement on the ledger tables. Imports: SQLAlchemy, ``bonafide.store``,
``bonafide.ledger`` and ``bonafide.errors``. It decides nothing about money: ``bonafide.ledger``
plans, ``bonafide.service.ledger`` calls this in the order that makes concurrent batches safe.

Locking (PostgreSQL, READ COMMITTED): ``lock_accounts`` takes ``FOR UPDATE`` row locks in
ascending id order, ``lock_holds`` locks the holds a batch resolves, and ``lock_lane`` locks one
journal lane's head last, so every transaction takes its locks in the same order (accounts,
holds, one lane) and none can deadlock. On SQLite the unit of work's ``BEGIN IMMEDIATE``
already serialises writers, so no row locks are taken.

Statements are Core, with executemany for the batch path: a batch of a thousand transfers is a
handful of round trips, not thousands of ORM objects.
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.pool import Pool

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
from bonafide.store import fastpath
from bonafide.store.ledger_tables import (
    LANES,
    ledger_accounts,
    ledger_chain,
    ledger_holds,
    ledger_journal,
)

JOURNAL_CHUNK_ROWS = 20_000
"""Rows fetched per round trip when streaming the journal."""

_A = ledger_accounts.c
_J = ledger_journal.c
_COUNTERS = (_A.debits_pending, _A.debits_posted, _A.credits_pending, _A.credits_posted)
_JOURNAL_COLUMNS = tuple(ledger_journal.c)
_RESOLUTION = aliased(ledger_journal, name="resolution")

_JOURNAL_NAMES = ", ".join(c.name for c in _JOURNAL_COLUMNS)
COPY_ROWS_MIN = 64
"""From this many entries on, PostgreSQL gets them by COPY rather than by INSERT."""

# Raw statements for the write path (built from the tables' own column names, never from input):
# a thousand-row batch must not pay SQLAlchemy's per-statement compile, and PostgreSQL gets
# them all in one pipeline.
_COPY_JOURNAL = f"COPY ledger_journal ({_JOURNAL_NAMES}) FROM STDIN"
_INSERT_JOURNAL = (
    f"INSERT INTO ledger_journal ({_JOURNAL_NAMES}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _JOURNAL_COLUMNS)})"
)
_INSERT_JOURNAL_PG = _INSERT_JOURNAL.replace("?", "%s")
_INSERT_HOLD = "INSERT INTO ledger_holds (transfer_id, expires_at_us) VALUES (?, ?)"
_INSERT_HOLD_PG = _INSERT_HOLD.replace("?", "%s")
_DELETE_HOLD = "DELETE FROM ledger_holds WHERE transfer_id = ?"
_DELETE_HOLDS_PG = "DELETE FROM ledger_holds WHERE transfer_id = ANY(%s)"
_UPDATE_COUNTERS = (
    "UPDATE ledger_accounts SET debits_pending = ?, debits_posted = ?, credits_pending = ?, "
    "credits_posted = ? WHERE id = ?"
)
_UPDATE_COUNTERS_PG = _UPDATE_COUNTERS.replace("?", "%s")
_UPDATE_LANE = "UPDATE ledger_chain SET sequence = ?, hash = ? WHERE id = ?"
_UPDATE_LANE_PG = _UPDATE_LANE.replace("?", "%s")
_LOCK_FREE_LANE = (
    "WITH lane AS (SELECT id, sequence, hash FROM ledger_chain ORDER BY random() LIMIT 1 "
    "FOR UPDATE SKIP LOCKED) SELECT id, sequence, hash, "
    "ARRAY(SELECT nextval('ledger_journal_sequence') FROM generate_series(1, %s)) FROM lane"
)
_LOCK_LANE = (
    "WITH lane AS (SELECT id, sequence, hash FROM ledger_chain WHERE id = %s FOR UPDATE) "
    "SELECT id, sequence, hash, "
    "ARRAY(SELECT nextval('ledger_journal_sequence') FROM generate_series(1, %s)) FROM lane"
)


@cache
def _account_statements(dialect: str) -> dict[str, Executable]:
    """The account statements of the order flow, built once per dialect (``store.fastpath``)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    insert: Any = module.insert(ledger_accounts).values(
        key=bindparam("key"), kind=bindparam("kind"), currency=bindparam("currency"),
        owner_id=bindparam("owner_id"), name=bindparam("name"),
        debits_pending=0, debits_posted=0, credits_pending=0, credits_posted=0,
    )
    return {
        "insert": insert.on_conflict_do_nothing(index_elements=["key"]).returning(_A.id),
        "id_by_key": select(_A.id).where(_A.key == bindparam("key")),
    }


# COPY's text format: tab-separated, \N for NULL, and these four characters escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(entries: Sequence[JournalEntry]) -> str:
    """The entries as COPY text, built in one pass (``write_row`` per row costs 5× more)."""
    lines = []
    for e in entries:
        pending = "\\N" if e.pending_id is None else e.pending_id.translate(_COPY_ESCAPES)
        expires = "\\N" if e.expires_at_us is None else str(e.expires_at_us)
        lines.append(
            f"{e.sequence}\t{e.lane}\t{e.lane_sequence}\t{e.id.translate(_COPY_ESCAPES)}\t"
            f"{e.kind}\t{e.debit_account_id}\t{e.credit_account_id}\t{e.amount}\t"
            f"{e.currency}\t{pending}\t{expires}\t{e.memo.translate(_COPY_ESCAPES)}\t"
            f"{e.actor.translate(_COPY_ESCAPES)}\t{e.created_at_us}\t{e.prev_hash}\t{e.hash}\n"
        )
    return "".join(lines)


_ACCOUNT_COLUMNS = (
    "id, kind, currency, debits_pending, debits_posted, credits_pending, credits_posted"
)
_LOCK_ACCOUNTS_PG = (
    f"SELECT {_ACCOUNT_COLUMNS} FROM ledger_accounts "  # noqa: S608
    "WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
)
_ACCOUNT_IDS_PG = "SELECT id FROM ledger_accounts WHERE key = ANY(%s) ORDER BY id"
_LOCK_HOLDS_PG = (
    "SELECT transfer_id FROM ledger_holds WHERE transfer_id = ANY(%s) "
    "ORDER BY transfer_id FOR UPDATE"
)
_READ_TRANSFERS_PG = (
    f"SELECT {', '.join('j.' + c.name for c in _JOURNAL_COLUMNS)}, "  # noqa: S608
    f"{', '.join('r.' + c.name for c in _JOURNAL_COLUMNS)} "
    "FROM ledger_journal j LEFT JOIN ledger_journal r ON r.pending_id = j.id "
    "WHERE j.id = ANY(%s)"
)


# Account ids by key, per database (keyed by the engine's pool, which the engine's option copies,
# such as the read-only units of work's, share): an account is never deleted nor re-keyed, so once
# a committed row has been seen its id stays right for the life of the engine. Only ids read back
# from the database by a transaction that did not itself insert that key are kept (an id this
# transaction created would dangle if it rolled back; those are kept by ``after_commit`` once the
# unit of work has committed them, so that a confirm finds the escrow its placement opened).
# Bounded: a market has one wallet per user and currency, so the cache stops growing at
# ACCOUNT_IDS_CACHED_MAX and is simply cleared then (one escrow per order also passes through it).
ACCOUNT_IDS_CACHED_MAX = 100_000
_account_ids: weakref.WeakKeyDictionary[Pool, dict[str, LedgerAccountId]] = (
    weakref.WeakKeyDictionary()
)
_account_ids_lock = threading.Lock()


def forget_account_ids(engine: Engine) -> None:
    """Forget the account ids remembered for ``engine``: only for tests that delete accounts,
    which the ledger itself never does."""
    with _account_ids_lock:
        _account_ids.pop(engine.pool, None)


def _account_states(rows: Iterable[Sequence[Any]]) -> dict[LedgerAccountId, AccountState]:
    return {
        LedgerAccountId(r[0]): AccountState(
            LedgerAccountId(r[0]), AccountKind(r[1]), Balance(r[2], r[3], r[4], r[5], r[6])
        )
        for r in rows
    }


def _transfers_of_rows(
    rows: Iterable[Sequence[Any]],
) -> tuple[dict[str, Transfer], dict[str, Transfer]]:
    """Rows of a journal entry joined with the entry that resolved it (if any)."""
    found: dict[str, Transfer] = {}
    resolutions: dict[str, Transfer] = {}
    width = len(_JOURNAL_COLUMNS)
    for row in rows:
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


class LedgerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._inserted_keys: dict[str, LedgerAccountId] = {}

    def _id_cache(self) -> dict[str, LedgerAccountId] | None:
        bind = self.session.get_bind()
        if not isinstance(bind, Engine):
            return None
        with _account_ids_lock:
            found = _account_ids.get(bind.pool)
            if found is None:
                found = _account_ids[bind.pool] = {}
            return found

    @property
    def connection(self) -> Connection:
        return self.session.connection()

    def _driver(self) -> psycopg.Connection[Any]:
        """psycopg's connection under this transaction (PostgreSQL): statements of the order
        flow's hot path run on it directly, without SQLAlchemy's per-statement work."""
        raw = self.connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        return raw

    @property
    def _locks_rows(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _array_rows(self, sql: str, values: Collection[Any]) -> list[Any]:
        """PostgreSQL: the rows of ``sql``, whose one parameter is the array ``values``
        (``= ANY(%s)``: one short statement whatever the count, where a thousand-item IN list
        costs more to parse than to run). Never prepared, so planned for its values each time
        (see ``store.db`` on generic plans)."""
        with self._driver().cursor() as cursor:
            cursor.execute(sql, (list(values),), prepare=False)
            return cursor.fetchall()

    def _statements(self) -> dict[str, Executable]:
        return _account_statements(self.session.get_bind().dialect.name)

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
        rows = fastpath.rows(
            self.session,
            self._statements()["insert"],
            {"key": key, "kind": str(kind), "currency": currency, "owner_id": owner_id,
             "name": name},
        )
        if not rows:
            return None
        account_id = LedgerAccountId(rows[0][0])
        self._inserted_keys[key] = account_id
        return account_id

    def account_id_by_key(self, key: str) -> LedgerAccountId | None:
        cache = self._id_cache()
        if cache is not None:
            cached = cache.get(key)
            if cached is not None:
                return cached
        rows = fastpath.rows(self.session, self._statements()["id_by_key"], {"key": key})
        if not rows:
            return None
        account_id = LedgerAccountId(rows[0][0])
        if cache is not None and key not in self._inserted_keys:
            with _account_ids_lock:
                if len(cache) >= ACCOUNT_IDS_CACHED_MAX:
                    cache.clear()
                cache[key] = account_id
        return account_id

    def after_commit(self) -> None:
        """The unit of work committed: the accounts this transaction created exist for good."""
        if not self._inserted_keys:
            return
        cache = self._id_cache()
        if cache is not None:
            with _account_ids_lock:
                if len(cache) + len(self._inserted_keys) > ACCOUNT_IDS_CACHED_MAX:
                    cache.clear()
                cache.update(self._inserted_keys)
        self._inserted_keys = {}

    def account_ids_by_keys(self, keys: Collection[str]) -> list[LedgerAccountId]:
        """The ids of the accounts with these keys that exist, ascending."""
        if not keys:
            return []
        if self._locks_rows:
            return [LedgerAccountId(row[0]) for row in self._array_rows(_ACCOUNT_IDS_PG, keys)]
        stmt = select(_A.id).where(_A.key.in_(list(keys))).order_by(_A.id)
        return [LedgerAccountId(found) for found in self.connection.execute(stmt).scalars()]

    def lock_accounts(self, ids: Collection[int]) -> dict[LedgerAccountId, AccountState]:
        """Load the accounts ``ids`` (missing ones are left out), locked in ascending id order."""
        accounts, _, _, _ = self.lock_accounts_then_read(ids, ())
        return accounts

    def lock_accounts_then_read(
        self,
        account_ids: Collection[int],
        transfer_ids: Collection[str],
        hold_ids: Collection[str] = (),
    ) -> tuple[
        dict[LedgerAccountId, AccountState], dict[str, Transfer], dict[str, Transfer], set[str]
    ]:
        """Lock ``account_ids`` (ascending), *then* read the stored transfers ``transfer_ids``
        (see ``transfers``), so the read sees every commit that released those locks, *then*
        lock the holds ``hold_ids`` (see ``lock_holds``: which of them are still open).

        On PostgreSQL the statements go in one pipeline with the transaction's BEGIN: one round
        trip. They still run in order, each after the previous one's locks were granted.
        """
        if not self._locks_rows or not account_ids or not transfer_ids:
            locked = self._lock_accounts(account_ids)
            found, resolutions = self.transfers(transfer_ids)
            return locked, found, resolutions, self.lock_holds(hold_ids)
        raw = self._driver()
        with raw.cursor() as lock, raw.cursor() as read, raw.cursor() as holds:
            with raw.pipeline():
                lock.execute(_LOCK_ACCOUNTS_PG, (sorted(account_ids),), prepare=False)
                read.execute(_READ_TRANSFERS_PG, (list(transfer_ids),), prepare=False)
                if hold_ids:
                    holds.execute(_LOCK_HOLDS_PG, (sorted(hold_ids),), prepare=False)
            accounts = _account_states(lock.fetchall())
            found, resolutions = _transfers_of_rows(read.fetchall())
            open_ids = {row[0] for row in holds.fetchall()} if hold_ids else set()
        return accounts, found, resolutions, open_ids

    def _lock_accounts(self, ids: Collection[int]) -> dict[LedgerAccountId, AccountState]:
        if not ids:
            return {}
        if self._locks_rows:
            return _account_states(self._array_rows(_LOCK_ACCOUNTS_PG, sorted(ids)))
        stmt = (
            select(_A.id, _A.kind, _A.currency, *_COUNTERS)
            .where(_A.id.in_(sorted(ids)))
            .order_by(_A.id)
        )
        return _account_states(self.connection.execute(stmt))

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
        if self._locks_rows:
            return _transfers_of_rows(self._array_rows(_READ_TRANSFERS_PG, ids))
        r = _RESOLUTION.c
        stmt = (
            select(*_JOURNAL_COLUMNS, *r)
            .outerjoin(_RESOLUTION, r.pending_id == _J.id)
            .where(_J.id.in_(list(ids)))
        )
        return _transfers_of_rows(self.connection.execute(stmt))

    def lock_holds(self, pending_ids: Collection[str]) -> set[str]:
        """Which of ``pending_ids`` are still unresolved; their hold rows stay locked."""
        if not pending_ids:
            return set()
        if self._locks_rows:
            return {row[0] for row in self._array_rows(_LOCK_HOLDS_PG, sorted(pending_ids))}
        stmt = select(ledger_holds.c.transfer_id).where(
            ledger_holds.c.transfer_id.in_(list(pending_ids))
        )
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
    def lock_lane(self, *, entries: int) -> tuple[int, int, str, list[int]]:
        """Lock one lane's head and draw ``entries`` journal sequence numbers; return (lane,
        its last position, its last hash, the numbers ascending).

        Call after the accounts are locked: then an entry that depends on another always draws
        a larger number. PostgreSQL: any lane no other transaction holds (``SKIP LOCKED``, in
        random order so clients spread out), in the same statement as the numbers; when all are
        busy, wait for one. SQLite: lane 0 (``BEGIN IMMEDIATE`` already serialises writers)
        and the numbers after the largest one used.
        """
        c = ledger_chain.c
        if not self._locks_rows:
            row = self.connection.execute(
                select(c.id, c.sequence, c.hash).where(c.id == 0)
            ).one()
            last = self.connection.execute(select(func.max(_J.sequence))).scalar_one_or_none()
            start = int(last or 0) + 1
            return int(row[0]), int(row[1]), str(row[2]), list(range(start, start + entries))
        with self._driver().cursor() as cursor:
            found = cursor.execute(_LOCK_FREE_LANE, (entries,)).fetchone()
            if found is None:
                lane = random.randrange(LANES)
                found = cursor.execute(_LOCK_LANE, (lane, entries)).fetchone()
                assert found is not None, f"lane {lane} exists"
        return int(found[0]), int(found[1]), str(found[2]), sorted(int(n) for n in found[3])

    def heads(self) -> dict[int, tuple[int, str]]:
        c = ledger_chain.c
        rows = self.connection.execute(select(c.id, c.sequence, c.hash))
        return {int(r[0]): (int(r[1]), str(r[2])) for r in rows}

    def append(
        self,
        entries: Sequence[JournalEntry],
        *,
        holds_opened: Iterable[tuple[str, int | None]],
        holds_closed: Collection[str],
        balances: Mapping[LedgerAccountId, Balance],
    ) -> None:
        """Write a sealed batch: its entries, the holds it opens and closes, the new balances of
        its accounts and its lane's head. The caller holds the accounts and the lane."""
        if not entries:
            return
        last = entries[-1]
        assert all(e.lane == last.lane for e in entries), "a batch is sealed onto one lane"
        opened = list(holds_opened)
        counters = [
            (b.debits_pending, b.debits_posted, b.credits_pending, b.credits_posted,
             int(account_id))
            for account_id, b in balances.items()
        ]
        try:
            if self._locks_rows:
                self._append_postgres(entries, opened, list(holds_closed), counters)
            else:
                self._append_sqlite(entries, opened, list(holds_closed), counters)
        except (IntegrityError, psycopg.errors.UniqueViolation) as error:
            # Only a concurrent request with the same transfer id gets here: every other case
            # is refused by the plan, under the locks, before anything is written.
            if "pending_id" in str(error):
                raise Conflict("pending_transfer_resolved_concurrently", transient=True) from None
            raise Conflict(
                "transfer_id_in_flight",
                "a concurrent request with this transfer id is being written; retry it",
                transient=True,
            ) from None

    def _append_sqlite(
        self,
        entries: Sequence[JournalEntry],
        opened: list[tuple[str, int | None]],
        closed: list[str],
        counters: list[tuple[int, int, int, int, int]],
    ) -> None:
        connection = self.connection
        connection.exec_driver_sql(_INSERT_JOURNAL, list(entries))
        if opened:
            connection.exec_driver_sql(_INSERT_HOLD, opened)
        if closed:
            connection.exec_driver_sql(_DELETE_HOLD, [(c,) for c in closed])
        if counters:
            connection.exec_driver_sql(_UPDATE_COUNTERS, counters)
        last = entries[-1]
        connection.exec_driver_sql(_UPDATE_LANE, (last.lane_sequence, last.hash, last.lane))

    def _append_postgres(
        self,
        entries: Sequence[JournalEntry],
        opened: list[tuple[str, int | None]],
        closed: list[str],
        counters: list[tuple[int, int, int, int, int]],
    ) -> None:
        # COPY for large batches; everything else goes in one pipeline: one round trip.
        raw = self._driver()
        with raw.cursor() as cursor:
            if len(entries) >= COPY_ROWS_MIN:
                with cursor.copy(_COPY_JOURNAL) as copy:
                    copy.write(_copy_text(entries))
            with raw.pipeline():
                if len(entries) < COPY_ROWS_MIN:
                    cursor.executemany(_INSERT_JOURNAL_PG, entries)
                if opened:
                    cursor.executemany(_INSERT_HOLD_PG, opened)
                if closed:
                    cursor.execute(_DELETE_HOLDS_PG, (closed,), prepare=False)
                if counters:
                    cursor.executemany(_UPDATE_COUNTERS_PG, counters)
                last = entries[-1]
                cursor.execute(_UPDATE_LANE_PG, (last.lane_sequence, last.hash, last.lane))

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

