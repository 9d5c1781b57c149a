"""Ledger benchmark: transfers per second and latency on SQLite and a durable PostgreSQL.

Run by ``make bench`` (never by the tests)::

    .venv/bin/python bench/ledger.py                       # everything, a few minutes
    .venv/bin/python bench/ledger.py --seconds 3 --verify-entries 100000   # quicker

Workloads, each with 1 and 8 concurrent clients (separate processes, each with its own engine):

- ``single``: one transfer per transaction (``execute`` + commit);
- ``hold+post``: a pending transfer, committed, then its post, committed (two transactions);
- ``batch``: linked batches of ``--batch-size`` transfers, one transaction each.

Each client moves money among its own ``--accounts`` wallets (clients do not contend for rows,
as in pgbench, where 8 clients rarely touch the same account). On PostgreSQL the same run
measures ``pgbench -b simple-update`` on the same server at the same client counts and prints our
ratio to it. Finally it fills the journal to ``--verify-entries`` (with batches) and times
``ledger verify``.

PostgreSQL runs durable (``fsync=on``, ``synchronous_commit=on``) from ``scripts/pgserver.py``.
SQLite runs in WAL mode with ``synchronous=NORMAL`` (bonafide's engine settings): a commit does
not wait for fsync there, so the two backends are not equally durable.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from pgserver import ThrowawayPostgres  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bonafide.ledger import AccountKind, LedgerAccountId, TransferKind, TransferSpec  # noqa: E402
from bonafide.money import Money  # noqa: E402
from bonafide.service import ledger  # noqa: E402
from bonafide.store.db import make_engine  # noqa: E402
from bonafide.store.migrate import upgrade  # noqa: E402
from bonafide.store.uow import UnitOfWork  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FUNDS = 10**13


@dataclass
class Result:
    backend: str
    workload: str
    clients: int
    transfers: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.transfers / self.seconds

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


# --- set-up -----------------------------------------------------------------------------------
def open_wallets(url: str, clients: int, per_client: int) -> dict[int, list[LedgerAccountId]]:
    engine = make_engine(url)
    wallets: dict[int, list[LedgerAccountId]] = {}
    uow = UnitOfWork(engine)
    with uow:
        external = ledger.account_for(uow, kind=AccountKind.EXTERNAL, currency="EUR")
        for c in range(clients):
            wallets[c] = [
                ledger.account_for(uow, kind=AccountKind.WALLET, currency="EUR",
                                   owner_id=f"bench-{c}-{i}")
                for i in range(per_client)
            ]
        ledger.execute(uow, [
            TransferSpec(f"fund-{a}", external, a, Money(FUNDS, "EUR"))
            for accounts in wallets.values() for a in accounts
        ], now=NOW)
        uow.commit()
    engine.dispose()
    return wallets


# --- one client -------------------------------------------------------------------------------
def client(args: tuple[str, str, int, list[int], float, int, str]) -> tuple[int, float, float,
                                                                            list[float]]:
    """Run one workload until the deadline; return (transfers, start, end, latencies in ms)."""
    url, workload, index, wallet_ids, deadline, batch_size, run = args
    accounts = [LedgerAccountId(a) for a in wallet_ids]
    engine = make_engine(url, pool_size=1, max_overflow=0) if "postgresql" in url else (
        make_engine(url)
    )
    rng = random.Random(index)
    latencies: list[float] = []
    transfers = 0
    n = 0

    count = len(accounts)

    def pair() -> tuple[LedgerAccountId, LedgerAccountId]:
        # Cheaper than rng.sample, which would cost the client more than the ledger does.
        a = rng.randrange(count)
        b = (a + 1 + rng.randrange(count - 1)) % count
        return accounts[a], accounts[b]

    def commit(specs: list[TransferSpec]) -> None:
        uow = UnitOfWork(engine)
        with uow:
            ledger.execute(uow, specs, now=NOW)
            uow.commit()

    start = time.perf_counter()
    while time.perf_counter() < deadline:
        n += 1
        tid = f"{run}-{index}-{n}"
        began = time.perf_counter()
        if workload == "single":
            a, b = pair()
            commit([TransferSpec(tid, a, b, Money(rng.randint(1, 1000), "EUR"))])
            transfers += 1
        elif workload == "hold+post":
            a, b = pair()
            value = rng.randint(2, 1000)
            commit([TransferSpec(tid, a, b, Money(value, "EUR"), kind=TransferKind.PENDING,
                                 expires_at=NOW + timedelta(days=3650))])
            commit([TransferSpec(tid + "p", None, None, Money(value - 1, "EUR"),
                                 kind=TransferKind.POST_PENDING, pending_id=tid)])
            transfers += 2
        else:
            specs = []
            for i in range(batch_size):
                a, b = pair()
                specs.append(TransferSpec(f"{tid}-{i}", a, b, Money(1 + i % 997, "EUR")))
            began = time.perf_counter()  # the batch's latency, not the bench building it
            commit(specs)
            transfers += batch_size
        latencies.append((time.perf_counter() - began) * 1000)
    end = time.perf_counter()
    engine.dispose()
    return transfers, start, end, latencies


def run_workload(
    url: str, backend: str, workload: str, clients: int, wallets: dict[int, list[LedgerAccountId]],
    *, seconds: float, batch_size: int,
) -> Result:
    run = f"{workload[:1]}{clients}-{os.getpid()}-{time.time_ns()}"
    deadline = time.perf_counter() + seconds + 1.0  # workers start within the first second
    jobs = [(url, workload, c, [int(a) for a in wallets[c]], deadline, batch_size, run)
            for c in range(clients)]
    context = multiprocessing.get_context("fork")
    with context.Pool(clients) as pool:
        outcomes = pool.map(client, jobs)
    transfers = sum(o[0] for o in outcomes)
    began = min(o[1] for o in outcomes)
    ended = max(o[2] for o in outcomes)
    latencies = [x for o in outcomes for x in o[3]]
    return Result(backend, workload, clients, transfers, ended - began, latencies)


# --- pgbench ----------------------------------------------------------------------------------
def pgbench(server: ThrowawayPostgres, clients: int, seconds: float) -> float:
    binary = server.bindir / "pgbench"
    common = [*server.psql_args(), "pgbench"]
    out = subprocess.run(
        [str(binary), "-b", "simple-update", "-n", "-c", str(clients), "-j", str(clients),
         "-T", str(int(seconds)), *common],
        capture_output=True, text=True, check=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    assert match, out
    return float(match[1])


def pgbench_init(server: ThrowawayPostgres, admin_url: str) -> None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as c:
        c.execute(text("CREATE DATABASE pgbench"))
    admin.dispose()
    subprocess.run([str(server.bindir / "pgbench"), "-i", "-q", "-s", "10",
                    *server.psql_args(), "pgbench"], capture_output=True, check=True)


# --- verify -----------------------------------------------------------------------------------
def count_entries(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as c:
        found = int(c.execute(text("SELECT count(*) FROM ledger_journal")).scalar_one())
    engine.dispose()
    return found


def top_up(url: str, wallets: dict[int, list[LedgerAccountId]], target: int,
           batch_size: int) -> float:
    """Add batches until the journal has ``target`` entries (2 processes); return seconds."""
    missing = target - count_entries(url)
    if missing <= 0:
        return 0.0
    procs = 2
    started = time.perf_counter()
    context = multiprocessing.get_context("fork")
    per = -(-missing // procs)
    with context.Pool(procs) as pool:
        pool.map(_fill, [(url, [int(a) for a in wallets[p % len(wallets)]], per, batch_size, p)
                         for p in range(procs)])
    return time.perf_counter() - started


def _fill(args: tuple[str, list[int], int, int, int]) -> None:
    url, wallet_ids, count, batch_size, index = args
    accounts = [LedgerAccountId(a) for a in wallet_ids]
    engine = make_engine(url)
    rng = random.Random(1000 + index)
    done = 0
    tag = f"fill-{index}-{time.time_ns()}"
    while done < count:
        size = min(batch_size, count - done)
        specs = []
        for i in range(size):
            a, b = rng.sample(accounts, 2)
            specs.append(TransferSpec(f"{tag}-{done + i}", a, b, Money(rng.randint(1, 99), "EUR")))
        uow = UnitOfWork(engine)
        with uow:
            ledger.execute(uow, specs, now=NOW)
            uow.commit()
        done += size
    engine.dispose()


def time_verify(url: str) -> tuple[float, int, bool]:
    engine = make_engine(url)
    started = time.perf_counter()
    report = ledger.verify(UnitOfWork(engine, read_only=True))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, report.entries, report.ok


# --- driver -----------------------------------------------------------------------------------
@contextlib.contextmanager
def database(backend: str) -> Iterator[tuple[str, ThrowawayPostgres | None, str]]:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="bonafide-bench-"))
        url = f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url, None, ""
        return
    server = ThrowawayPostgres(durable=True)
    admin_url = server.start()
    try:
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
        with admin.connect() as c:
            c.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        url = server.url("bench")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url, server, admin_url
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--workloads", default="single,hold+post,batch")
    parser.add_argument("--seconds", type=float, default=8.0, help="per measurement")
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--accounts", type=int, default=100, help="wallets per client")
    parser.add_argument("--verify-entries", type=int, default=1_000_000)
    parser.add_argument("--verify-backends", default="postgres")
    parser.add_argument("--no-pgbench", action="store_true")
    args = parser.parse_args(argv)
    clients_list = [int(c) for c in args.clients.split(",")]
    workloads = args.workloads.split(",")
    results: list[Result] = []
    pgbench_tps: dict[int, float] = {}
    verify_rows: list[str] = []
    print(f"ledger bench: cpus={os.cpu_count()} seconds={args.seconds} "
          f"batch={args.batch_size} load={os.getloadavg()[0]:.1f}", flush=True)
    for backend in args.backends.split(","):
        with database(backend) as (url, server, admin_url):
            wallets = open_wallets(url, max(clients_list), args.accounts)
            for workload in workloads:
                for clients in clients_list:
                    r = run_workload(url, backend, workload, clients, wallets,
                                     seconds=args.seconds, batch_size=args.batch_size)
                    results.append(r)
                    print(f"{backend:8} {workload:9} clients={clients}  "
                          f"{r.per_second:10,.0f} transfers/s  p50 {r.percentile(0.5):8.2f} ms  "
                          f"p99 {r.percentile(0.99):8.2f} ms", flush=True)
            if server is not None and not args.no_pgbench:
                pgbench_init(server, admin_url)
                for clients in clients_list:
                    pgbench_tps[clients] = pgbench(server, clients, args.seconds)
                    print(f"pgbench simple-update clients={clients}: "
                          f"{pgbench_tps[clients]:,.0f} tps", flush=True)
            if backend in args.verify_backends.split(",") and args.verify_entries:
                fill = top_up(url, wallets, args.verify_entries, args.batch_size)
                seconds, entries, ok = time_verify(url)
                line = (f"{backend}: verify {entries:,} entries in {seconds:.1f} s "
                        f"({entries / seconds:,.0f} entries/s, ok={ok}); filling took {fill:.0f} s")
                verify_rows.append(line)
                print(line, flush=True)
    print("\n| backend | workload | clients | transfers/s | p50 ms | p99 ms | vs pgbench |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        ratio = ""
        if r.backend == "postgres" and r.workload == "single" and r.clients in pgbench_tps:
            ratio = f"{r.per_second / pgbench_tps[r.clients]:.2f}×"
        print(f"| {r.backend} | {r.workload} | {r.clients} | {r.per_second:,.0f} | "
              f"{r.percentile(0.5):.2f} | {r.percentile(0.99):.2f} | {ratio} |")
    for clients, tps in pgbench_tps.items():
        print(f"| postgres | pgbench simple-update | {clients} | {tps:,.0f} tps | | | 1× |")
    for line in verify_rows:
        print(f"\n{line}")


if __name__ == "__main__":
    main()
