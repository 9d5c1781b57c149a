"""Repositories for the market tables of ``market_tables``: rows in, domain objects out.

Owns: every SQL statement on accounts, secrets, seller profiles, listings, bonds and idempotency
keys. Imports: SQLAlchemy, ``bonafide.store``, the pure domain and ``bonafide.money``. Repositories
never commit; the unit of work does.

SQLite stores timestamps without a zone; everything written here is UTC, so ``_utc`` puts the
zone back on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Executable,
    Row,
    String,
    and_,
    any_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from bonafide.market.accounts import AccountStatus, Principal, Role, decode_roles, encode_roles
from bonafide.market.listings import Bond, BondStatus, Listing, SellerProfile
from bonafide.money import Money
from bonafide.store import fastpath
from bonafide.store.market_tables import (
    accounts,
    idempotency_keys,
    listings,
    seller_bonds,
    seller_profiles,
    server_secrets,
)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@cache
def _statements() -> dict[str, Executable]:
    """Statements of the hot path, built once and run with parameters (``store.fastpath``)."""
    by_key = and_(
        idempotency_keys.c.account_id == bindparam("of_account_id"),
        idempotency_keys.c.key == bindparam("of_key"),
    )
    return {
        "account": select(accounts).where(accounts.c.id == bindparam("account_id")),
        "account_by_key_prefix": select(accounts).where(
            accounts.c.key_prefix == bindparam("key_prefix")
        ),
        "listing": select(listings).where(listings.c.id == bindparam("listing_id")),
        "listing_for_update": select(listings)
        .where(listings.c.id == bindparam("listing_id"))
        .with_for_update(),
        "take_stock": update(listings)
        .where(
            and_(
                listings.c.id == bindparam("of_listing_id"),
                listings.c.stock >= bindparam("quantity"),
                listings.c.active.is_(True),
                listings.c.hidden.is_(False),
            )
        )
        .values(stock=listings.c.stock - bindparam("quantity"), updated_at=bindparam("now"))
        .returning(*listings.c),
        "complete_key": update(idempotency_keys)
        .where(by_key)
        .values(status=bindparam("new_status"), response_json=bindparam("new_response_json")),
    }


@cache
def _dialect_statements(dialect: str) -> dict[str, Executable]:
    """Hot-path statements whose SQL differs by dialect: a list parameter is an array on
    PostgreSQL (one statement whatever its length, planned per call: ``store.db``), an
    expanding IN elsewhere."""
    ids = (
        accounts.c.id == any_(bindparam("account_ids", type_=ARRAY(String())))
        if dialect == "postgresql"
        else accounts.c.id.in_(bindparam("account_ids", expanding=True))
    )
    return {"accounts": select(accounts).where(ids)}


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        account_id: str,
        handle: str,
        roles: frozenset[Role],
        key_prefix: str,
        key_hash: str,
        now: datetime,
    ) -> bool:
        """Insert the account; False when the handle is taken."""
        return fastpath.insert_or_ignore(
            self.session,
            accounts,
            {
                "id": account_id,
                "handle": handle,
                "roles": encode_roles(roles),
                "status": AccountStatus.active.value,
                "key_prefix": key_prefix,
                "key_hash": key_hash,
                "created_at": now,
            },
        )

    @staticmethod
    def _principal(row: Row[Any]) -> Principal:
        return Principal(
            id=row.id,
            handle=row.handle,
            roles=decode_roles(row.roles),
            status=AccountStatus(row.status),
        )

    def get(self, account_id: str) -> Principal | None:
        found = fastpath.rows(self.session, _statements()["account"], {"account_id": account_id})
        return self._principal(found[0]) if found else None

    def get_many(self, account_ids: Collection[str]) -> dict[str, Principal]:
        """The accounts among ``account_ids`` that exist, by id, in one statement."""
        rows = fastpath.rows(
            self.session,
            _dialect_statements(self.session.get_bind().dialect.name)["accounts"],
            {"account_ids": list(account_ids)},
        )
        return {row.id: self._principal(row) for row in rows}

    def get_with_created(self, account_id: str) -> tuple[Principal, datetime] | None:
        row = self.session.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return None if row is None else (self._principal(row), _utc(row.created_at))

    def by_key_prefix(self, key_prefix: str) -> tuple[Principal, str] | None:
        """The account whose key has this prefix, with the stored key hash."""
        rows = fastpath.rows(
            self.session, _statements()["account_by_key_prefix"], {"key_prefix": key_prefix}
        )
        return (self._principal(rows[0]), rows[0].key_hash) if rows else None

    def lock(self, account_id: str) -> Principal | None:
        """Read the account and lock its row until the transaction ends."""
        row = self.session.execute(
            select(accounts).where(accounts.c.id == account_id).with_for_update()
        ).first()
        return None if row is None else self._principal(row)

    def set_roles(self, account_id: str, roles: frozenset[Role]) -> None:
        self.session.execute(
            update(accounts).where(accounts.c.id == account_id).values(roles=encode_roles(roles))
        )

    def set_status(self, account_id: str, status: AccountStatus) -> None:
        self.session.execute(
            update(accounts).where(accounts.c.id == account_id).values(status=status.value)
        )


class SecretRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, name: str) -> str | None:
        value = self.session.execute(
            select(server_secrets.c.value).where(server_secrets.c.name == name)
        ).scalar_one_or_none()
        return None if value is None else str(value)

    def add_if_absent(self, *, name: str, value: str, now: datetime) -> None:
        fastpath.insert_or_ignore(
            self.session, server_secrets, {"name": name, "value": value, "created_at": now}
        )


class ProfileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, seller_id: str) -> SellerProfile | None:
        row = self.session.execute(
            select(seller_profiles).where(seller_profiles.c.seller_id == seller_id)
        ).first()
        if row is None:
            return None
        return SellerProfile(
            seller_id=row.seller_id,
            about=row.about,
            shipping_policy=row.shipping_policy,
            returns_policy=row.returns_policy,
            claims=tuple(json.loads(row.claims_json)),
            updated_at=_utc(row.updated_at),
        )

    def put(self, profile: SellerProfile) -> None:
        assert profile.updated_at is not None
        values = {
            "about": profile.about,
            "shipping_policy": profile.shipping_policy,
            "returns_policy": profile.returns_policy,
            "claims_json": json.dumps(list(profile.claims)),
            "updated_at": profile.updated_at,
        }
        written = fastpath.insert_or_ignore(
            self.session, seller_profiles, {"seller_id": profile.seller_id, **values}
        )
        if not written:
            self.session.execute(
                update(seller_profiles)
                .where(seller_profiles.c.seller_id == profile.seller_id)
                .values(**values)
            )


class ListingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _listing(row: Row[Any]) -> Listing:
        return Listing(
            id=row.id,
            seller_id=row.seller_id,
            title=row.title,
            description=row.description,
            price=Money(row.price_value, row.price_currency),
            stock=row.stock,
            active=bool(row.active),
            hidden=bool(row.hidden),
            created_at=_utc(row.created_at),
            updated_at=_utc(row.updated_at),
        )

    def add(self, listing: Listing) -> None:
        self.session.execute(
            insert(listings).values(
                id=listing.id,
                seller_id=listing.seller_id,
                title=listing.title,
                description=listing.description,
                price_value=listing.price.value,
                price_currency=listing.price.currency,
                stock=listing.stock,
                active=listing.active,
                hidden=listing.hidden,
                created_at=listing.created_at,
                updated_at=listing.updated_at,
            )
        )

    def get(self, listing_id: str, *, for_update: bool = False) -> Listing | None:
        statement = _statements()["listing_for_update" if for_update else "listing"]
        found = fastpath.rows(self.session, statement, {"listing_id": listing_id})
        return self._listing(found[0]) if found else None

    def page(
        self,
        *,
        after_id: str | None,
        limit: int,
        seller_id: str | None,
        active: bool | None,
        include_hidden: bool,
        hidden_of_seller: str | None = None,
    ) -> list[Listing]:
        """Listings by id after ``after_id``; hidden ones only with ``include_hidden`` or when
        they belong to ``hidden_of_seller`` (a seller sees their own)."""
        statement = select(listings).order_by(listings.c.id).limit(limit)
        if after_id is not None:
            statement = statement.where(listings.c.id > after_id)
        if seller_id is not None:
            statement = statement.where(listings.c.seller_id == seller_id)
        if active is not None:
            statement = statement.where(listings.c.active == active)
        if not include_hidden:
            visible: ColumnElement[bool] = listings.c.hidden.is_(False)
            if hidden_of_seller is not None:
                visible = or_(visible, listings.c.seller_id == hidden_of_seller)
            statement = statement.where(visible)
        return [self._listing(row) for row in self.session.execute(statement)]

    def change(self, listing_id: str, *, now: datetime, **values: Any) -> None:
        self.session.execute(
            update(listings).where(listings.c.id == listing_id).values(updated_at=now, **values)
        )

    def take_stock(self, listing_id: str, *, quantity: int, now: datetime) -> Listing | None:
        """Subtract ``quantity`` if that much stock is there and the listing is orderable;
        return the listing as it is now, or None when nothing was taken.

        One conditional UPDATE: on PostgreSQL a concurrent one waits for the row lock and then
        re-checks the condition on the new row, so stock is never oversold.
        """
        found = fastpath.rows(
            self.session,
            _statements()["take_stock"],
            {"of_listing_id": listing_id, "quantity": quantity, "now": now},
        )
        return self._listing(found[0]) if found else None

    def give_stock(self, listing_id: str, *, quantity: int, now: datetime) -> bool:
        result: Any = self.session.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(stock=listings.c.stock + quantity, updated_at=now)
        )
        return bool(result.rowcount == 1)


class BondRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, seller_id: str, *, for_update: bool = False) -> Bond | None:
        statement = select(seller_bonds).where(seller_bonds.c.seller_id == seller_id)
        if for_update:
            statement = statement.with_for_update()
        row = self.session.execute(statement).first()
        if row is None:
            return None
        return Bond(
            seller_id=row.seller_id,
            amount=Money(row.amount_value, row.currency),
            covered=Money(row.covered_value, row.currency),
            status=BondStatus(row.status),
            placed_at=_utc(row.placed_at),
            returned_at=None if row.returned_at is None else _utc(row.returned_at),
        )

    def add(self, *, seller_id: str, amount: Money, now: datetime) -> bool:
        return fastpath.insert_or_ignore(
            self.session,
            seller_bonds,
            {
                "seller_id": seller_id,
                "amount_value": amount.value,
                "covered_value": 0,
                "currency": amount.currency,
                "status": BondStatus.held.value,
                "placed_at": now,
                "returned_at": None,
            },
        )

    def add_covered(self, seller_id: str, *, amount: Money) -> None:
        self.session.execute(
            update(seller_bonds)
            .where(seller_bonds.c.seller_id == seller_id)
            .values(covered_value=seller_bonds.c.covered_value + amount.value)
        )

    def mark_returned(self, seller_id: str, *, now: datetime) -> None:
        self.session.execute(
            update(seller_bonds)
            .where(seller_bonds.c.seller_id == seller_id)
            .values(status=BondStatus.returned.value, returned_at=now)
        )


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, *, account_id: str, key: str, request_hash: str, now: datetime) -> bool:
        """Write the key as in flight (status 0); False when it is already there.

        The claim and the response are written in the same transaction as the work itself, so
        a committed key always has its response, and a rolled-back one never existed.
        """
        return fastpath.insert_or_ignore(
            self.session,
            idempotency_keys,
            {
                "account_id": account_id,
                "key": key,
                "request_hash": request_hash,
                "status": 0,
                "response_json": "",
                "created_at": now,
            },
        )

    def get(self, *, account_id: str, key: str) -> tuple[str, int, str] | None:
        """``(request_hash, status, response_json)`` of a stored key."""
        row = self.session.execute(
            select(
                idempotency_keys.c.request_hash,
                idempotency_keys.c.status,
                idempotency_keys.c.response_json,
            ).where(
                and_(idempotency_keys.c.account_id == account_id, idempotency_keys.c.key == key)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    def delete_created_before(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` keys created before ``cutoff``, oldest first; how many."""
        c = idempotency_keys.c
        oldest = (
            select(c.account_id, c.key)
            .where(c.created_at < cutoff)
            .order_by(c.created_at)
            .limit(limit)
        )
        result: Any = self.session.execute(
            delete(idempotency_keys).where(tuple_(c.account_id, c.key).in_(oldest))
        )
        return int(result.rowcount)

    def complete(self, *, account_id: str, key: str, status: int, response_json: str) -> None:
        fastpath.rows(
            self.session,
            _statements()["complete_key"],
            {
                "of_account_id": account_id,
                "of_key": key,
                "new_status": status,
                "new_response_json": response_json,
            },
        )
