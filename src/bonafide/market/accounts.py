"""Accounts of the market: roles, statuses, handles, and who may grant which role.

Owns: the pure rules about members of the market. Imports: the standard library and
``bonafide.errors``. No database, no clock: the service layer passes everything in.

Roles
    ``buyer`` and ``seller`` are chosen at sign-up (either or both) and a member may add either to
    themselves later. ``moderator`` is granted by an operator. ``operator`` is never granted over
    the API: an operator's key comes from the CLI (``bonafide accounts create-operator``), so that
    taking over one operator key cannot mint more.
Status
    ``active`` or ``suspended``. A suspended account cannot list, order or review (the callers
    check ``Principal.is_active``); it can still sign in, read its own data and withdraw its money,
    and its open orders resolve normally.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bonafide.errors import Forbidden, Rejected


class Role(enum.StrEnum):
    buyer = "buyer"
    seller = "seller"
    moderator = "moderator"
    operator = "operator"


class AccountStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"


SIGNUP_ROLES = frozenset({Role.buyer, Role.seller})
"""The roles anyone may take at sign-up."""

HANDLE_LENGTH_MIN = 3
HANDLE_LENGTH_MAX = 32
_HANDLE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def check_handle(handle: str) -> str:
    """Return the handle in its stored form (lower case) or raise ``Rejected(handle_invalid)``.

    Handles are public names: 3 to 32 characters of lower-case ASCII letters, digits, ``_`` and
    ``-``, starting with a letter or digit. ASCII only, so that no two handles look alike.
    """
    folded = handle.strip().lower()
    if not (HANDLE_LENGTH_MIN <= len(folded) <= HANDLE_LENGTH_MAX) or not _HANDLE.match(folded):
        raise Rejected(
            "handle_invalid",
            f"a handle is {HANDLE_LENGTH_MIN} to {HANDLE_LENGTH_MAX} characters of a-z, 0-9, _ "
            "and -, starting with a letter or digit",
        )
    return folded


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Roles from their names; unknown names raise ``Rejected(role_unknown)``."""
    roles: set[Role] = set()
    for name in names:
        try:
            roles.add(Role(name))
        except ValueError:
            raise Rejected("role_unknown", f"{name!r} is not a role") from None
    return frozenset(roles)


def check_signup_roles(roles: frozenset[Role]) -> frozenset[Role]:
    """Sign-up takes buyer and/or seller, at least one."""
    if not roles:
        raise Rejected("roles_must_not_be_empty", "sign up as a buyer, a seller or both")
    extra = roles - SIGNUP_ROLES
    if extra:
        raise Forbidden(
            "role_not_available_at_signup",
            f"{', '.join(sorted(extra))}: only buyer and seller can be chosen at sign-up",
        )
    return roles


def encode_roles(roles: Iterable[Role]) -> str:
    """The stored form of a role set: names sorted and comma-joined."""
    return ",".join(sorted(role.value for role in roles))


def decode_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(name) for name in text.split(",") if name)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an authenticated account with its roles and status."""

    id: str
    handle: str
    roles: frozenset[Role]
    status: AccountStatus

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def has_any(self, roles: Iterable[Role]) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.active

    @property
    def is_operator(self) -> bool:
        return Role.operator in self.roles


def check_may_grant(*, granter: Principal, target_id: str, role: Role) -> None:
    """Raise ``Forbidden`` unless ``granter`` may give ``role`` to account ``target_id``.

    - anyone may add buyer or seller to their own account (an operator to anyone's);
    - only an operator grants moderator;
    - nobody grants operator over the API.
    """
    if role is Role.operator:
        raise Forbidden("operator_role_granted_only_by_cli", "operators are made with the CLI")
    if role is Role.moderator:
        if not granter.is_operator:
            raise Forbidden("role_required", "only an operator grants the moderator role")
        return
    if granter.id != target_id and not granter.is_operator:
        raise Forbidden("not_account_owner", "you may change only your own roles")


def check_may_revoke(*, granter: Principal, target_id: str, role: Role) -> None:
    """Only an operator removes roles, and never the operator role (that is the CLI's)."""
    if role is Role.operator:
        raise Forbidden("operator_role_granted_only_by_cli", "operators are managed with the CLI")
    if not granter.is_operator:
        raise Forbidden("role_required", "only an operator removes roles")


def check_may_view_account(*, viewer: Principal, account_id: str) -> None:
    """An account's private data is visible to itself and to operators."""
    if viewer.id != account_id and not viewer.is_operator:
        raise Forbidden("not_account_owner", "only the account itself or an operator may see this")
