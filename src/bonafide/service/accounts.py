"""Use cases of accounts: sign up, API keys and authentication, roles, status.

Owns: making and checking API keys, and the account use cases. Imports: ``bonafide.store``,
``bonafide.market.accounts``, ``bonafide.settings``, ``bonafide.ids``.

API keys
    A key reads ``bfk_<prefix>_<secret>``: 12 random base32 characters of public *prefix* (stored
    in the clear, indexed, to find the account) and 256 random bits of *secret*. The database keeps
    only ``HMAC-SHA256(pepper, key)``, compared with ``hmac.compare_digest``. A keyed hash is
    enough for keys with 256 bits of entropy (nothing to brute-force, unlike passwords) and is
    cheap enough to run on every request; the pepper, which the database alone does not reveal
    when it comes from ``BONAFIDE_API_KEY_PEPPER``, means a stolen table cannot even be checked
    against guesses. Without that setting a random pepper is generated once and stored in
    ``server_secrets`` (weaker: it travels with the database, but keys are still unguessable).

Recently seen keys
    ``authenticate`` remembers, per database engine and for ``PRINCIPALS_CACHED_SECONDS``, the
    account a key proved to be (by the key's SHA-256, never the key), so a busy client's every
    request does not pay a database round trip for it; ``recently_authenticated`` answers from
    that memory without I/O. A role change or suspension made in this process forgets every
    remembered key at once; one made in another server process (``serve --workers N``) is seen
    after at most ``PRINCIPALS_CACHED_SECONDS``. Use cases where a suspension must bite at once
    (placing an order, listing, reviewing) re-read the account in their own transaction anyway.
    Failed attempts are never remembered.

Functions whose docstring says *inside an open unit of work* neither enter nor commit it; they
are for other use cases (the order flow) to call in their own transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bonafide.errors import Conflict, Forbidden, NotFound, Unauthorized
from bonafide.ids import new_id
from bonafide.market.accounts import (
    AccountStatus,
    Principal,
    Role,
    check_handle,
    check_may_grant,
    check_may_revoke,
    check_may_view_account,
    check_signup_roles,
)
from bonafide.settings import Settings
from bonafide.store.market_repo import AccountRepository, SecretRepository
from bonafide.store.uow import UnitOfWork

KEY_SCHEME = "bfk"
KEY_PREFIX_LENGTH = 12
KEY_LENGTH_MAX = 128
_PREFIX_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PEPPER_SECRET_NAME = "api_key_pepper"  # noqa: S105 (the secret's name, not the secret)

PRINCIPALS_CACHED_SECONDS = 1.0
"""How long a key, once checked, stands for its account without a database read (see above)."""
PRINCIPALS_CACHED_MAX = 10_000
"""Keys remembered per engine at most; past that the memory is cleared and refills."""

_principals: weakref.WeakKeyDictionary[Engine, dict[bytes, tuple[Principal, float]]] = (
    weakref.WeakKeyDictionary()
)
_principals_lock = threading.Lock()

# The pepper never changes once made, so each process reads it once per database.
_peppers: dict[tuple[str, str], bytes] = {}
_peppers_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """An account as its owner and operators see it."""

    principal: Principal
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A freshly made account and its API key, which is shown this once and never again."""

    account: AccountInfo
    api_key: str


def _pepper(uow: UnitOfWork, *, settings: Settings, now: datetime, create: bool) -> bytes | None:
    if settings.api_key_pepper:
        return settings.api_key_pepper.encode()
    cache_key = (str(uow.engine.url), settings.api_key_pepper)
    with _peppers_lock:
        cached = _peppers.get(cache_key)
    if cached is not None:
        return cached
    repo = uow.repo(SecretRepository)
    stored = repo.get(PEPPER_SECRET_NAME)
    if stored is None:
        if not create:
            return None
        # Two first sign-ups may race; the insert keeps whichever came first and both re-read it.
        repo.add_if_absent(name=PEPPER_SECRET_NAME, value=secrets.token_hex(32), now=now)
        stored = repo.get(PEPPER_SECRET_NAME)
        assert stored is not None
    pepper = bytes.fromhex(stored)
    with _peppers_lock:
        _peppers[cache_key] = pepper
    return pepper


def _key_hash(pepper: bytes, api_key: str) -> str:
    return hmac.new(pepper, api_key.encode(), hashlib.sha256).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(KEY_PREFIX_LENGTH))
    return prefix, f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


def _split_key(api_key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    if len(api_key) > KEY_LENGTH_MAX:
        return None
    scheme, _, rest = api_key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or len(prefix) != KEY_PREFIX_LENGTH or not secret:
        return None
    return prefix


def _create(
    uow: UnitOfWork, *, handle: str, roles: frozenset[Role], settings: Settings, now: datetime
) -> NewAccount:
    """Inside an open unit of work: write a new account and return it with its key."""
    pepper = _pepper(uow, settings=settings, now=now, create=True)
    assert pepper is not None
    prefix, api_key = _new_key()
    account_id = new_id("acc", now=now)
    added = uow.repo(AccountRepository).add(
        account_id=account_id,
        handle=handle,
        roles=roles,
        key_prefix=prefix,
        key_hash=_key_hash(pepper, api_key),
        now=now,
    )
    if not added:
        raise Conflict("handle_already_taken", f"the handle {handle!r} is taken")
    principal = Principal(id=account_id, handle=handle, roles=roles, status=AccountStatus.active)
    return NewAccount(account=AccountInfo(principal=principal, created_at=now), api_key=api_key)


def sign_up(
    uow: UnitOfWork, *, handle: str, roles: frozenset[Role], settings: Settings, now: datetime
) -> NewAccount:
    """Make a buyer and/or seller account; its API key is in the result and nowhere else."""
    handle = check_handle(handle)
    roles = check_signup_roles(roles)
    with uow:
        made = _create(uow, handle=handle, roles=roles, settings=settings, now=now)
        uow.commit()
    return made


def create_operator(
    uow: UnitOfWork, *, handle: str, settings: Settings, now: datetime
) -> NewAccount:
    """Make an operator account (the CLI's ``accounts create-operator``; never over HTTP)."""
    handle = check_handle(handle)
    with uow:
        made = _create(
            uow, handle=handle, roles=frozenset({Role.operator}), settings=settings, now=now
        )
        uow.commit()
    return made


def _key_digest(api_key: str) -> bytes:
    return hashlib.sha256(api_key.encode()).digest()


def recently_authenticated(uow: UnitOfWork, *, api_key: str) -> Principal | None:
    """The account ``api_key`` proved to be within ``PRINCIPALS_CACHED_SECONDS``, else None.
    No I/O: a None means "ask ``authenticate``", not "invalid"."""
    with _principals_lock:
        remembered = _principals.get(uow.engine, {}).get(_key_digest(api_key))
    if remembered is None or remembered[1] < time.monotonic():
        return None
    return remembered[0]


def forget_recent_keys() -> None:
    """Forget every remembered key (a role or status just changed)."""
    with _principals_lock:
        _principals.clear()


def _remember(uow: UnitOfWork, api_key: str, principal: Principal) -> None:
    expires = time.monotonic() + PRINCIPALS_CACHED_SECONDS
    with _principals_lock:
        remembered = _principals.setdefault(uow.engine, {})
        if len(remembered) >= PRINCIPALS_CACHED_MAX:
            remembered.clear()
        remembered[_key_digest(api_key)] = (principal, expires)


def authenticate(uow: UnitOfWork, *, api_key: str, settings: Settings, now: datetime) -> Principal:
    """The account that owns ``api_key``, or ``Unauthorized(api_key_invalid)``.

    Every failure looks the same to the caller: a malformed key, an unknown prefix and a wrong
    secret all raise the one error, and the hash is compared in constant time. A success is
    remembered briefly (see "Recently seen keys").
    """
    invalid = Unauthorized("api_key_invalid", "the API key is not valid")
    prefix = _split_key(api_key)
    if prefix is None:
        raise invalid
    with uow:
        pepper = _pepper(uow, settings=settings, now=now, create=False)
        found = uow.repo(AccountRepository).by_key_prefix(prefix)
    if pepper is None or found is None:
        raise invalid
    principal, stored_hash = found
    if not hmac.compare_digest(_key_hash(pepper, api_key), stored_hash):
        raise invalid
    _remember(uow, api_key, principal)
    return principal


def get_account(uow: UnitOfWork, *, viewer: Principal, account_id: str) -> AccountInfo:
    """An account's private view, for itself or an operator."""
    check_may_view_account(viewer=viewer, account_id=account_id)
    with uow:
        found = uow.repo(AccountRepository).get_with_created(account_id)
    if found is None:
        raise NotFound("account_not_found", f"no account {account_id}")
    return AccountInfo(principal=found[0], created_at=found[1])


def grant_role(
    uow: UnitOfWork, *, granter: Principal, account_id: str, role: Role, now: datetime
) -> AccountInfo:
    """Add ``role`` to an account (see ``check_may_grant`` for who may)."""
    check_may_grant(granter=granter, target_id=account_id, role=role)
    with uow:
        repo = uow.repo(AccountRepository)
        target = repo.lock(account_id)
        if target is None:
            raise NotFound("account_not_found", f"no account {account_id}")
        repo.set_roles(account_id, target.roles | {role})
        found = repo.get_with_created(account_id)
        uow.commit()
    forget_recent_keys()
    assert found is not None
    return AccountInfo(principal=found[0], created_at=found[1])


def revoke_role(
    uow: UnitOfWork, *, granter: Principal, account_id: str, role: Role, now: datetime
) -> AccountInfo:
    """Remove ``role`` from an account (operators only; never the operator role)."""
    check_may_revoke(granter=granter, target_id=account_id, role=role)
    with uow:
        repo = uow.repo(AccountRepository)
        target = repo.lock(account_id)
        if target is None:
            raise NotFound("account_not_found", f"no account {account_id}")
        if role not in target.roles:
            raise Conflict("account_lacks_role", f"{account_id} is not a {role.value}")
        if target.roles == {role}:
            raise Conflict("account_needs_a_role", "an account keeps at least one role")
        repo.set_roles(account_id, target.roles - {role})
        found = repo.get_with_created(account_id)
        uow.commit()
    forget_recent_keys()
    assert found is not None
    return AccountInfo(principal=found[0], created_at=found[1])


def grant_moderator_by_id(uow: UnitOfWork, *, account_id: str, now: datetime) -> AccountInfo:
    """The CLI's ``accounts grant-moderator``: the shell's user acts as an operator."""
    with uow:
        repo = uow.repo(AccountRepository)
        target = repo.lock(account_id)
        if target is None:
            raise NotFound("account_not_found", f"no account {account_id}")
        repo.set_roles(account_id, target.roles | {Role.moderator})
        found = repo.get_with_created(account_id)
        uow.commit()
    forget_recent_keys()
    assert found is not None
    return AccountInfo(principal=found[0], created_at=found[1])


# --- for other use cases, inside an open unit of work -------------------------------------------


def principal_of(uow: UnitOfWork, account_id: str) -> Principal:
    """Inside an open unit of work: the account's principal, or ``NotFound(account_not_found)``."""
    found = uow.repo(AccountRepository).get(account_id)
    if found is None:
        raise NotFound("account_not_found", f"no account {account_id}")
    return found


def principals_of(uow: UnitOfWork, *account_ids: str) -> dict[str, Principal]:
    """Inside an open unit of work: these accounts' principals, read in one statement, or
    ``NotFound(account_not_found)`` for the first that does not exist."""
    found = uow.repo(AccountRepository).get_many(set(account_ids))
    for account_id in account_ids:
        if account_id not in found:
            raise NotFound("account_not_found", f"no account {account_id}")
    return found


def set_account_status(uow: UnitOfWork, *, account_id: str, status: AccountStatus) -> Principal:
    """Inside an open unit of work: suspend or reinstate an account (enforcement calls this)."""
    repo = uow.repo(AccountRepository)
    found = repo.lock(account_id)
    if found is None:
        raise NotFound("account_not_found", f"no account {account_id}")
    repo.set_status(account_id, status)
    # Forgotten before the caller commits: a request in between may remember the old status
    # again, for at most PRINCIPALS_CACHED_SECONDS.
    forget_recent_keys()
    return Principal(id=found.id, handle=found.handle, roles=found.roles, status=status)


def require_active(principal: Principal, *, doing: str) -> None:
    """Raise ``Forbidden(account_suspended)`` when a suspended account tries ``doing``."""
    if not principal.is_active:
        raise Forbidden("account_suspended", f"a suspended account cannot {doing}")


def database_answers(uow: UnitOfWork) -> bool:
    """True when the database takes a trivial read (the health check)."""
    with uow:
        uow.repo(SecretRepository).get(PEPPER_SECRET_NAME)
    return True
