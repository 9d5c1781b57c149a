"""Repositories of proof of liabilities and attestations.

Owns: every SQL statement on the tables of ``attest_tables``, and the one read of the ledger's
tables that a liabilities snapshot needs (the liability accounts and the journal head, read in
the same transaction). Imports: SQLAlchemy, ``bonafide.store`` and ``bonafide.errors``.
``bonafide.service.liabilities`` and ``bonafide.service.attestations`` decide; this only reads
and writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bonafide.store import fastpath
from bonafide.store.attest_tables import (
    claim_verifications,
    imported_attestations,
    liability_leaves,
    liability_reserves,
    liability_roots,
    liability_snapshots,
    trusted_issuers,
)
from bonafide.store.ledger_tables import ledger_accounts, ledger_chain

ROWS_PER_STATEMENT_MAX = 2_000
"""Rows per multi-row INSERT of leaves (SQLite allows 32 766 bound values; a leaf has 5)."""
STREAM_CHUNK_ROWS = 20_000


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time bonafide stores is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LiabilityAccountRow:
    kind: str
    currency: str
    owner_id: str | None
    name: str | None
    balance_posted: int


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    id: str
    taken_at: datetime
    salt: str
    key_id: str
    ledger_sequence: int
    ledger_head: str
    document: str


@dataclass(frozen=True, slots=True)
class RootRow:
    currency: str
    root_hash: str
    total: int
    leaf_count: int


@dataclass(frozen=True, slots=True)
class ReserveRow:
    currency: str
    amount: int
    note: str
    declared_at: datetime
    declared_by: str


class LiabilityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def connection(self) -> Connection:
        return self.session.connection()

    # --- the snapshot read --------------------------------------------------------------------
    def begin_snapshot(self) -> None:
        """Make this transaction read one snapshot of the database (call it first).

        PostgreSQL: REPEATABLE READ, READ ONLY (every statement sees the database as of the first
        one). SQLite: the read-only unit of work's deferred transaction already reads one WAL
        snapshot from its first read to its end.
        """
        if self.session.get_bind().dialect.name == "postgresql":
            self.connection.exec_driver_sql(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
            )

    def ledger_heads(self) -> list[tuple[int, int, str]]:
        """``(chain, sequence, hash)`` of every hash chain of the journal (one row per chain)."""
        c = ledger_chain.c
        rows = self.connection.execute(select(c.id, c.sequence, c.hash).order_by(c.id))
        return [(int(row[0]), int(row[1]), str(row[2])) for row in rows]

    def liability_accounts(self, kinds: Sequence[str]) -> Iterator[LiabilityAccountRow]:
        """Every account of ``kinds`` with its posted balance, streamed."""
        a = ledger_accounts.c
        statement = (
            select(a.kind, a.currency, a.owner_id, a.name, a.credits_posted - a.debits_posted)
            .where(a.kind.in_(list(kinds)))
            .order_by(a.id)
        )
        result = self.connection.execution_options(
            stream_results=True, yield_per=STREAM_CHUNK_ROWS
        ).execute(statement)
        for partition in result.partitions():
            for row in partition:
                yield LiabilityAccountRow(row[0], row[1], row[2], row[3], int(row[4]))

    # --- published snapshots ------------------------------------------------------------------
    def add_snapshot(
        self,
        snapshot: SnapshotRow,
        *,
        published_by: str,
        roots: Iterable[RootRow],
        leaves: Iterable[tuple[str, str, str | None, int]],
    ) -> None:
        """Store a snapshot, its roots and its leaves ``(currency, account, owner_id, balance)``."""
        connection = self.connection
        connection.execute(
            insert(liability_snapshots).values(
                id=snapshot.id, taken_at=snapshot.taken_at, salt=snapshot.salt,
                key_id=snapshot.key_id, ledger_sequence=snapshot.ledger_sequence,
                ledger_head=snapshot.ledger_head, document=snapshot.document,
                published_by=published_by,
            )
        )
        root_rows = [
            {"snapshot_id": snapshot.id, "currency": r.currency, "root_hash": r.root_hash,
             "total": r.total, "leaf_count": r.leaf_count}
            for r in roots
        ]
        if root_rows:
            connection.execute(insert(liability_roots), root_rows)
        chunk: list[dict[str, Any]] = []
        for currency, account, owner_id, balance in leaves:
            chunk.append({"snapshot_id": snapshot.id, "currency": currency, "account": account,
                          "owner_id": owner_id, "balance": balance})
            if len(chunk) >= ROWS_PER_STATEMENT_MAX:
                connection.execute(insert(liability_leaves).values(chunk))
                chunk = []
        if chunk:
            connection.execute(insert(liability_leaves).values(chunk))

    @staticmethod
    def _snapshot(row: Any) -> SnapshotRow:
        return SnapshotRow(row.id, _utc(row.taken_at), row.salt, row.key_id,
                           int(row.ledger_sequence), row.ledger_head, row.document)

    def latest_snapshot(self) -> SnapshotRow | None:
        s = liability_snapshots.c
        row = self.connection.execute(
            select(liability_snapshots).order_by(s.taken_at.desc(), s.id.desc()).limit(1)
        ).first()
        return None if row is None else self._snapshot(row)

    def snapshot(self, snapshot_id: str) -> SnapshotRow | None:
        row = self.connection.execute(
            select(liability_snapshots).where(liability_snapshots.c.id == snapshot_id)
        ).first()
        return None if row is None else self._snapshot(row)

    def roots(self, snapshot_id: str) -> list[RootRow]:
        r = liability_roots.c
        rows = self.connection.execute(
            select(r.currency, r.root_hash, r.total, r.leaf_count)
            .where(r.snapshot_id == snapshot_id)
            .order_by(r.currency)
        )
        return [RootRow(row[0], row[1], int(row[2]), int(row[3])) for row in rows]

    def leaves(self, snapshot_id: str, currency: str) -> list[tuple[str, int]]:
        leaf = liability_leaves.c
        rows = self.connection.execute(
            select(leaf.account, leaf.balance)
            .where(leaf.snapshot_id == snapshot_id, leaf.currency == currency)
        )
        return [(row[0], int(row[1])) for row in rows]

    def owner_leaves(self, snapshot_id: str, owner_id: str) -> list[tuple[str, str]]:
        """``(currency, account)`` of every leaf of ``owner_id`` in the snapshot."""
        leaf = liability_leaves.c
        rows = self.connection.execute(
            select(leaf.currency, leaf.account)
            .where(leaf.snapshot_id == snapshot_id, leaf.owner_id == owner_id)
            .order_by(leaf.currency, leaf.account)
        )
        return [(row[0], row[1]) for row in rows]

    # --- reserves -----------------------------------------------------------------------------
    def declare_reserve(self, reserve: ReserveRow) -> None:
        self.connection.execute(
            insert(liability_reserves).values(
                currency=reserve.currency, amount=reserve.amount, note=reserve.note,
                declared_at=reserve.declared_at, declared_by=reserve.declared_by,
            )
        )

    def latest_reserves(self) -> dict[str, ReserveRow]:
        """The newest declaration per currency."""
        r = liability_reserves.c
        newest = (
            select(r.currency, func.max(r.id).label("id")).group_by(r.currency).subquery()
        )
        rows = self.connection.execute(
            select(r.currency, r.amount, r.note, r.declared_at, r.declared_by)
            .join(newest, newest.c.id == r.id)
        )
        return {
            row[0]: ReserveRow(row[0], int(row[1]), row[2], _utc(row[3]), row[4]) for row in rows
        }


@dataclass(frozen=True, slots=True)
class TrustedIssuerRow:
    issuer_id: str
    kind: str
    name: str
    keyring: str
    added_at: datetime
    added_by: str


class AttestationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- trusted issuers ----------------------------------------------------------------------
    def put_issuer(self, row: TrustedIssuerRow) -> bool:
        """Insert or replace an issuer's keyring; True when it was new."""
        t = trusted_issuers.c
        values = {"issuer_id": row.issuer_id, "kind": row.kind, "name": row.name,
                  "keyring": row.keyring, "added_at": row.added_at, "added_by": row.added_by}
        if fastpath.insert_or_ignore(self.session, trusted_issuers, values):
            return True
        self.session.execute(
            trusted_issuers.update().where(t.issuer_id == row.issuer_id).values(**values)
        )
        return False

    def issuers(self, kind: str | None = None) -> list[TrustedIssuerRow]:
        t = trusted_issuers.c
        statement = select(trusted_issuers).order_by(t.issuer_id)
        if kind is not None:
            statement = statement.where(t.kind == kind)
        return [
            TrustedIssuerRow(r.issuer_id, r.kind, r.name, r.keyring, _utc(r.added_at), r.added_by)
            for r in self.session.execute(statement)
        ]

    # --- imported attestations ----------------------------------------------------------------
    def add_imported(self, values: dict[str, Any]) -> bool:
        """Store an imported attestation; False if (issuer, attestation id) is already here."""
        return self._add_unique(imported_attestations, values)

    def imported_of(self, seller_id: str, *, limit: int) -> list[dict[str, Any]]:
        i = imported_attestations.c
        rows = self.session.execute(
            select(imported_attestations)
            .where(i.seller_id == seller_id)
            .order_by(i.imported_at, i.id)
            .limit(limit)
        )
        return [self._times(dict(row._mapping)) for row in rows]

    # --- claim verifications ------------------------------------------------------------------
    def add_claim(self, values: dict[str, Any]) -> bool:
        return self._add_unique(claim_verifications, values)

    def claims_of(self, listing_id: str, *, limit: int) -> list[dict[str, Any]]:
        c = claim_verifications.c
        rows = self.session.execute(
            select(claim_verifications)
            .where(c.listing_id == listing_id)
            .order_by(c.attached_at, c.id)
            .limit(limit)
        )
        return [self._times(dict(row._mapping)) for row in rows]

    # --- helpers ------------------------------------------------------------------------------
    def _add_unique(self, table: Any, values: dict[str, Any]) -> bool:
        # The unique key is (issuer_id, attestation_id); look first so the common duplicate is
        # a plain read, and let ON CONFLICT settle the race between two concurrent imports.
        c = table.c
        found = self.session.execute(
            select(c.id).where(c.issuer_id == values["issuer_id"],
                               c.attestation_id == values["attestation_id"])
        ).first()
        if found is not None:
            return False
        dialect = self.session.get_bind().dialect.name
        module: Any = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(table).values(**values).on_conflict_do_nothing().returning(c.id)
        return self.session.execute(statement).first() is not None

    @staticmethod
    def _times(row: dict[str, Any]) -> dict[str, Any]:
        return {k: _utc(v) if isinstance(v, datetime) else v for k, v in row.items()}
