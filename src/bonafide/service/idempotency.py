"""Idempotency keys: a retried money-moving request returns the first response, never moves twice.

Owns: ``run_idempotent`` and ``fingerprint``. Imports: ``bonafide.store`` and the standard
library.

How it holds
    The key is claimed (a row inserted), the work done and the response stored in ONE transaction.
    A second request with the same key either finds the committed row and gets the stored
    response back, or (when it arrives while the first is still running) waits on the row: on
    PostgreSQL the insert blocks on the unique key until the first transaction ends; on SQLite
    writers are serialised by ``BEGIN IMMEDIATE``. If the first one fails (an expected error or a
    crash) its transaction rolls back, the key was never taken, and a retry runs afresh: only
    successful responses are stored, so a request refused for, say, insufficient funds can be
    retried with the same key once money has arrived.

    Same key, different request (method, path or body) → ``Conflict(idempotency_key_reused)``.
    Keys are scoped per account: two accounts may use the same key string.

Limits: keys are 1 to 255 printable ASCII characters (``check_key``). Retention: keys are kept
for ``BONAFIDE_IDEMPOTENCY_RETENTION`` (30 days by default) after the request that stored them;
the scheduler's tick deletes older ones (``purge_expired``, at most ``PURGE_BATCH_MAX`` per
batch and ``PURGE_BATCHES_MAX`` batches per tick). A retry arriving later than that is a new
request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from bonafide.errors import Conflict, Rejected
from bonafide.store.market_repo import IdempotencyRepository
from bonafide.store.uow import UnitOfWork

OpenUnitOfWork = UnitOfWork
"""What an ``Action`` receives: an entered unit of work (re-exported so interfaces need not import
``bonafide.store`` to type their actions)."""

Action = Callable[[OpenUnitOfWork], tuple[int, dict[str, Any]]]
"""Work to run once per key: gets the open unit of work, returns ``(status, json_body)``."""

KEY_LENGTH_MAX = 255
PURGE_BATCH_MAX = 5_000
PURGE_BATCHES_MAX = 20
"""Limits on one ``purge_expired`` call (its own transaction per batch); the next tick goes on."""
IN_FLIGHT = 0
"""The status a claimed key has until its response is stored (never visible once committed)."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    replayed: bool
    """True when this is the stored response of an earlier request with the same key."""
    content: bytes
    """``body`` as JSON bytes, exactly as stored (serialised once, answered as is)."""


def check_key(key: str) -> str:
    if not (1 <= len(key) <= KEY_LENGTH_MAX) or not all(33 <= ord(ch) <= 126 for ch in key):
        raise Rejected(
            "idempotency_key_invalid",
            f"an Idempotency-Key is 1 to {KEY_LENGTH_MAX} printable ASCII characters, no spaces",
        )
    return key


def fingerprint(*, method: str, path: str, body: Any) -> str:
    """SHA-256 of the request's method, path and body in canonical JSON (sorted keys)."""
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    uow: UnitOfWork,
    *,
    account_id: str,
    key: str,
    request_hash: str,
    now: datetime,
    action: Action,
) -> StoredResponse:
    """Run ``action`` once per ``(account_id, key)`` and store its ``(status, body)``.

    ``action`` receives the open unit of work and must neither enter nor commit it; it does its
    writes there (ledger transfers, order rows) and returns the HTTP status and JSON body of its
    success. This function commits the work and the stored response together.
    """
    check_key(key)
    with uow:
        repo = uow.repo(IdempotencyRepository)
        if not repo.claim(account_id=account_id, key=key, request_hash=request_hash, now=now):
            return _stored(repo, account_id=account_id, key=key, request_hash=request_hash)
        status, body = action(uow)
        assert 200 <= status < 300, "only successful responses are stored"
        content = orjson.dumps(body)
        repo.complete(
            account_id=account_id, key=key, status=status, response_json=content.decode()
        )
        uow.commit()
    return StoredResponse(status=status, body=body, replayed=False, content=content)


def _stored(
    repo: IdempotencyRepository, *, account_id: str, key: str, request_hash: str
) -> StoredResponse:
    found = repo.get(account_id=account_id, key=key)
    if found is None or found[1] == IN_FLIGHT:
        # The claim clashed with a row that is not (or no longer) readable as complete: the
        # other request is still running, or rolled back in between. The client may retry.
        raise Conflict(
            "idempotency_key_in_flight",
            "a request with this Idempotency-Key is still being processed; retry shortly",
            transient=True,
        )
    stored_hash, status, response_json = found
    if stored_hash != request_hash:
        raise Conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        )
    return StoredResponse(
        status=status,
        body=json.loads(response_json),
        replayed=True,
        content=response_json.encode(),
    )


def purge_expired(
    new_uow: Callable[[], UnitOfWork], *, retention: timedelta, now: datetime
) -> int:
    """Delete keys stored more than ``retention`` before ``now``, oldest first; how many.

    Each batch commits on its own, so a purge never holds many row locks for long."""
    assert retention > timedelta(0), "a key is kept for some time"
    purged = 0
    for _ in range(PURGE_BATCHES_MAX):
        with new_uow() as uow:
            deleted = uow.repo(IdempotencyRepository).delete_created_before(
                now - retention, limit=PURGE_BATCH_MAX
            )
            uow.commit()
        purged += deleted
        if deleted < PURGE_BATCH_MAX:
            break
    return purged
