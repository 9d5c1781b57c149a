"""A writer killed by SIGKILL mid-stream loses no acknowledged transfer; the ledger stays sound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from sqlalchemy import Engine

from bonafide.service import ledger
from bonafide.store.uow import UnitOfWork

# The child deposits, then streams single transfers and two-phase pairs, printing each id once its
# unit of work has committed: a printed id is an acknowledged transfer.
CHILD = r"""
import sys
from datetime import UTC, datetime
from bonafide.ledger import AccountKind, TransferKind, TransferSpec
from bonafide.money import Money
from bonafide.service import ledger
from bonafide.store.db import make_engine
from bonafide.store.uow import UnitOfWork

engine = make_engine(sys.argv[1])
now = datetime(2026, 3, 1, tzinfo=UTC)
ledger.deposit(UnitOfWork(engine), transfer_id="seed", owner_id="a", amount=Money(10**12, "EUR"),
               now=now, actor="op")
uow = UnitOfWork(engine)
with uow:
    a = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="a")
    b = ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR", owner_id="b")
    uow.commit()
print("seed", flush=True)
i = 0
while True:
    i += 1
    if i % 2:
        specs = [TransferSpec(f"t{i}", a, b, Money(i, "EUR"))]
    else:
        specs = [TransferSpec(f"h{i}", a, b, Money(i, "EUR"), kind=TransferKind.PENDING),
                 TransferSpec(f"p{i}", None, None, Money(i // 2, "EUR"),
                              kind=TransferKind.POST_PENDING, pending_id=f"h{i}"),
                 TransferSpec(f"t{i}", b, a, Money(1, "EUR"))]
    uow = UnitOfWork(engine)
    with uow:
        ledger.execute(uow, specs, now=now)
        uow.commit()
    print(" ".join(s.id for s in specs), flush=True)
"""


def test_sigkill_mid_stream_loses_no_acknowledged_transfer(
    engine: Engine, database_url: str
) -> None:
    acknowledged: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        deadline = time.monotonic() + 60
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acknowledged.extend(line.split())
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        errors = child.stderr.read()
    assert child.returncode == -signal.SIGKILL, errors
    assert len(acknowledged) >= 150, f"the child acknowledged too little before the kill: {errors}"

    report = ledger.verify(UnitOfWork(engine, read_only=True))
    assert report.ok, report.problems
    uow = UnitOfWork(engine, read_only=True)
    with uow:
        missing = [t for t in acknowledged if t != "seed" and ledger.get_transfer(uow, t) is None]
    assert missing == []
    assert report.entries >= len(acknowledged)
