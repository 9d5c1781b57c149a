"""The one tree of expected failures, with stable codes.

Owns: every error a caller may meet in normal operation. Imports: the standard library only.

Bugs and broken invariants are ``assert`` statements and are never caught here; the unit of work
rolls back and the API answers 500. What may happen in normal use raises one of these::

    BonafideError                 code, message, transient
     ├── NotFound       (404)     unknown_account, order_not_found, ...
     ├── Forbidden      (403)     role_required, not_a_party, ...
     ├── Unauthorized   (401)     api_key_invalid, ...
     ├── Conflict       (409)     idempotency_key_reused, pending_transfer_already_posted, ...
     ├── Rejected       (422)     exceeds_available_balance, currencies_must_match, ...
     └── TooMany        (429)     rate_limited (transient)

``code`` is a snake_case sentence and part of the contract: the HTTP problem ``type`` and the
CLI's ``error: <code>: <message>`` line are derived from it. ``api/problems.py`` is the only table
that maps these classes to HTTP statuses.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"^[a-z][a-z0-9_]*[a-z0-9]$")


class BonafideError(Exception):
    """An expected failure with a stable, sentence-like ``code``."""

    transient_default: bool = False

    def __init__(self, code: str, message: str = "", *, transient: bool | None = None) -> None:
        assert _CODE.match(code), f"error codes are snake_case sentences, got {code!r}"
        self.code = code
        self.message = message or code.replace("_", " ")
        self.transient = self.transient_default if transient is None else transient
        super().__init__(f"{code}: {self.message}")


class NotFound(BonafideError):
    """The thing asked for does not exist (or the caller may not know that it does)."""


class Unauthorized(BonafideError):
    """The caller did not prove who they are."""


class Forbidden(BonafideError):
    """The caller is known but may not do this."""


class Conflict(BonafideError):
    """The request clashes with the current state (a used key, a transition already made)."""


class Rejected(BonafideError):
    """The request is well-formed but breaks a rule (limits, currencies, ranges)."""


class TooMany(BonafideError):
    """The caller is over a rate limit; retrying later may succeed."""

    transient_default = True
