"""Idempotency keys on the real database: one execution per key, even when requests race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from bonafide.errors import BonafideError, Conflict, Rejected
from bonafide.service.idempotency import fingerprint, run_idempotent
from bonafide.store.uow import UnitOfWork

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_key_runs_its_action_once_and_replays_the_stored_response(engine: Engine) -> None:
    calls: list[int] = []

    def action(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        calls.append(1)
        return 201, {"n": len(calls)}

    digest = fingerprint(method="POST", path="/x", body={"a": 1})
    first = run_idempotent(UnitOfWork(engine), account_id="acc_a", key="k", request_hash=digest,
                           now=NOW, action=action)
    second = run_idempotent(UnitOfWork(engine), account_id="acc_a", key="k", request_hash=digest,
                            now=NOW, action=action)
    assert (first.status, first.body, first.replayed) == (201, {"n": 1}, False)
    assert (second.status, second.body, second.replayed) == (201, {"n": 1}, True)
    assert calls == [1]
    with pytest.raises(Conflict, match="idempotency_key_reused"):
        run_idempotent(UnitOfWork(engine), account_id="acc_a", key="k",
                       request_hash=fingerprint(method="POST", path="/x", body={"a": 2}),
                       now=NOW, action=action)


def test_a_failed_action_leaves_the_key_free(engine: Engine) -> None:
    def failing(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        raise Rejected("exceeds_available_balance")

    with pytest.raises(Rejected):
        run_idempotent(UnitOfWork(engine), account_id="acc_a", key="k", request_hash="h",
                       now=NOW, action=failing)
    done = run_idempotent(UnitOfWork(engine), account_id="acc_a", key="k", request_hash="h",
                          now=NOW, action=lambda uow: (200, {"ok": True}))
    assert done.replayed is False


def test_fingerprints_ignore_key_order_but_not_values() -> None:
    a = fingerprint(method="post", path="/v1/x", body={"a": 1, "b": [1, 2]})
    assert a == fingerprint(method="POST", path="/v1/x", body={"b": [1, 2], "a": 1})
    assert a != fingerprint(method="POST", path="/v1/x", body={"a": 1, "b": [2, 1]})
    assert a != fingerprint(method="POST", path="/v1/y", body={"a": 1, "b": [1, 2]})


def test_racing_duplicates_execute_once(engine: Engine) -> None:
    executions: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def action(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        with lock:
            executions.append(1)
        return 201, {"done": True}

    def worker() -> None:
        barrier.wait()
        try:
            stored = run_idempotent(UnitOfWork(engine), account_id="acc_a", key="race",
                                    request_hash="h", now=NOW, action=action)
            outcome = "replayed" if stored.replayed else "executed"
        except BonafideError as error:
            outcome = error.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert executions == [1]
    assert outcomes.count("executed") == 1
    assert set(outcomes) <= {"executed", "replayed", "idempotency_key_in_flight"}


def test_keys_past_the_retention_are_purged_and_then_run_afresh(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from bonafide.service import idempotency, scheduler
    from bonafide.settings import Settings

    calls: list[int] = []

    def action(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
        calls.append(1)
        return 201, {"n": len(calls)}

    def run(key: str, at: datetime) -> Any:
        return run_idempotent(UnitOfWork(engine), account_id="acc_a", key=key, request_hash="h",
                              now=at, action=action)

    old, recent = NOW, NOW + timedelta(days=20)
    for i in range(5):
        run(f"old-{i}", old)
    run("recent", recent)
    monkeypatch.setattr(idempotency, "PURGE_BATCH_MAX", 2)  # several batches in one tick
    settings = Settings(database_url=str(engine.url), idempotency_retention=timedelta(days=30))
    counts = scheduler.tick(lambda: UnitOfWork(engine), settings=settings,
                            now=NOW + timedelta(days=30))
    assert counts["idempotency_keys_purged"] == 0  # exactly 30 days old: still kept
    counts = scheduler.tick(lambda: UnitOfWork(engine), settings=settings,
                            now=NOW + timedelta(days=31))
    assert counts["idempotency_keys_purged"] == 5
    # The recent key still replays; a purged one is a new request now.
    assert run("recent", NOW + timedelta(days=31)).replayed is True
    again = run("old-0", NOW + timedelta(days=31))
    assert (again.replayed, again.body) == (False, {"n": 7})
