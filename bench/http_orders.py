"""Benchmark: the HTTP API under load, on a durable throwaway PostgreSQL (issue 3's targets).

Run on demand, never by the test suite::

    .venv/bin/python bench/http_orders.py [--workers 2] [--clients 16] [--place-seconds 20]
        [--place-rate 300] [--open-seconds 20] [--cycle-seconds 20] [--warmup-seconds 3]
        [--requests-max 20000]

What it does, in order:

1. starts PostgreSQL from the installed binaries (``scripts/pgserver.py``, ``fsync`` on), runs
   ``bonafide db upgrade`` and ``bonafide accounts create-operator`` against it, and starts
   ``bonafide serve --workers N`` (uvicorn's supervisor with N worker processes; the scheduler
   thread runs in the supervisor only), sign-up rate limits lifted;
2. set-up, not measured: one seller, one listing (stock 1,000,000) and one funded buyer per
   client (at least 64), so clients do not queue on each other's rows (as pgbench gives each
   client its own);
3. **placement, closed loop** (the most the server does): ``--clients`` asyncio tasks, each on
   its own HTTP/1.1 keep-alive connection, each ``POST /v1/orders`` with a fresh
   ``Idempotency-Key`` in a closed loop for ``--place-seconds`` (after ``--warmup-seconds`` not
   counted);
4. **placement, open loop** (latency at a given rate; issue 3's p99 target is judged here):
   ``--place-rate`` placements per second for ``--open-seconds``, each sent when it is due
   whatever the earlier ones are doing, on as many keep-alive connections as are in flight
   (``open_loop`` below); each latency counts from the request's due time, so queueing cannot
   hide behind a generator that waited (coordinated omission), and the phase fails its target if
   the generator could not keep to the schedule (``--warmup-seconds`` of the same schedule run
   first, not counted);
5. **life cycle**: the same tasks run place → ship → confirm → buyer's review → seller's review
   for ``--cycle-seconds``; an order counts when all five steps succeeded;
6. stops the server, prints ``bonafide ledger verify``, and checks that the database holds
   exactly as many orders as placements answered 201.

The load generator speaks HTTP/1.1 itself (``Connection`` below: one request at a time per
connection, ``Content-Length`` bodies, every response's status checked and its JSON parsed):
httpx did the same work for about 1.7 ms of CPU per request, which on two shared cores came out
of the server's share. Everything talks to 127.0.0.1 only; each phase stops at its deadline or after
``--requests-max`` requests, whichever comes first. Latencies are per request, measured by the
client (closed loop: a slow answer delays that client's next request, so overload shows up as
lower throughput more than as latency; open loop: from the time each request was due). CPU
seconds per phase are read from ``/proc`` for the load generator, the server's workers, its
supervisor (the scheduler) and PostgreSQL, so the figures can be read against what the two
shared cores gave each side, and per unit of work.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from pgserver import ThrowawayPostgres  # noqa: E402  (scripts/ is not a package)

BONAFIDE = str(Path(sys.executable).parent / "bonafide")
PRICE = 100
STOCK = 1_000_000
DEPOSIT = 10**12
CLIENTS_MAX = 256
SECONDS_MAX = 600
RATE_MAX = 5_000
REQUESTS_MAX = 1_000_000
TARGET_PLACE_PER_SECOND = 300
TARGET_PLACE_P99_MS = 100
TARGET_CYCLES_PER_SECOND = 100
OPEN_CONNECTIONS_WARM = 32
OPEN_CONNECTIONS_MAX = 1024
OPEN_PAIRS = 64
"""Buyers (and their sellers' listings) the open loop spreads its placements over."""
DRAIN_SECONDS = 10.0
"""How long the open loop waits for answers after its last request was due."""
LAG_MAX_S = 0.1
"""An open-loop request sent more than this after it was due means the generator fell behind."""

console = Console(width=132)  # wide enough for the tables when piped into a file


# ---------------------------------------------------------------- measurements


class ProtocolError(Exception):
    """The server answered something this client does not speak (e.g. a chunked body)."""


@dataclass
class Reply:
    status: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class Connection:
    """One HTTP/1.1 keep-alive connection: a request, then its response, then the next.

    Only what the API answers is understood: a status line, headers, and a body of exactly
    ``Content-Length`` bytes (no chunked bodies). Requests carry a JSON body when given one.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, *, json_body: Any = None,
                   headers: dict[str, str] | None = None) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = b"" if json_body is None else json.dumps(json_body).encode()
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}"]
        if json_body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise ProtocolError(f"transfer-encoding {value.strip()}")
        if length is None:
            raise ProtocolError("a response without Content-Length")
        content = await self.reader.readexactly(length)
        return Reply(status, content)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = self.reader = None


@dataclass
class Recorder:
    """Latencies (seconds) per step, statuses that were not the expected one, and 201s placed."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    placed: int = 0
    requests: int = 0

    async def call(self, client: Connection, step: str, path: str, expect: int, *,
                   json: Any = None, headers: dict[str, str] | None = None,
                   scheduled: float | None = None) -> dict[str, Any] | None:
        """One request; its latency counts from ``scheduled`` when given (open loop), else now."""
        self.requests += 1
        started = time.perf_counter() if scheduled is None else scheduled
        try:
            response = await client.post(path, json_body=json, headers=headers)
        except (OSError, asyncio.IncompleteReadError, ProtocolError, ValueError) as error:
            self.errors[f"{step}: {type(error).__name__}"] += 1
            await client.close()  # the next request starts on a fresh connection
            return None
        self.latency.setdefault(step, []).append(time.perf_counter() - started)
        if response.status != expect:
            code = response.json().get("code", "") if response.content else ""
            self.errors[f"{step}: {response.status} {code}".rstrip()] += 1
            return None
        if step == "place":
            self.placed += 1
        body: dict[str, Any] = response.json()
        return body


def percentile_ms(values: list[float], q: float) -> float:
    """Nearest-rank percentile in milliseconds (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    found: dict[int, float] = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        found[pid] = times.user + times.system
    return found


@dataclass
class Processes:
    """The pids whose CPU time a phase reports, by side."""

    server: psutil.Process
    postmaster: int

    def sides(self) -> dict[str, list[int]]:
        workers = [p.pid for p in self.server.children(recursive=True)]
        try:
            postgres = [self.postmaster] + [
                p.pid for p in psutil.Process(self.postmaster).children(recursive=True)
            ]
        except psutil.Error:
            postgres = []
        return {"load generator": [os.getpid()], "server workers": workers,
                "supervisor + scheduler": [self.server.pid], "postgres": postgres}

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {side: cpu_seconds(pids) for side, pids in self.sides().items()}


def cpu_used(before: dict[str, dict[int, float]],
             after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds per side between two snapshots (processes born in between count in full)."""
    return {side: sum(t - before.get(side, {}).get(pid, 0.0) for pid, t in now.items())
            for side, now in after.items()}


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Phase:
    name: str
    recorder: Recorder
    seconds: float
    units: int
    cpu: dict[str, float]
    machine_busy: float
    load_before: str
    load_after: str


async def measure(name: str, processes: Processes, recorder: Recorder,
                  run: Callable[[], Awaitable[int]]) -> Phase:
    load_before = load_average()
    before, busy_before = processes.snapshot(), machine_busy_seconds()
    started = time.perf_counter()
    units = await run()
    seconds = time.perf_counter() - started
    after, busy_after = processes.snapshot(), machine_busy_seconds()
    return Phase(name, recorder, seconds, units, cpu_used(before, after),
                 busy_after - busy_before, load_before, load_average())


# ---------------------------------------------------------------- the market's actors


@dataclass(frozen=True)
class Pair:
    """One client's buyer and seller (API keys) and the seller's listing."""

    buyer: dict[str, str]
    seller: dict[str, str]
    listing_id: str


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def fresh_key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def make_pair(client: Connection, rec: Recorder, operator_key: str,
                    index: int) -> Pair:
    tag = uuid.uuid4().hex[:6]
    buyer = await rec.call(client, "signup", "/v1/accounts", 201,
                           json={"handle": f"lb{index}-{tag}", "roles": ["buyer"]})
    seller = await rec.call(client, "signup", "/v1/accounts", 201,
                            json={"handle": f"ls{index}-{tag}", "roles": ["seller"]})
    assert buyer and seller, rec.errors
    deposit = await rec.call(
        client, "deposit", "/v1/deposits", 201,
        json={"account_id": buyer["id"], "amount": {"value": DEPOSIT, "currency": "EUR"}},
        headers={**bearer(operator_key), **fresh_key()},
    )
    listing = await rec.call(
        client, "listing", "/v1/listings", 201, headers=bearer(seller["api_key"]),
        json={"title": f"Load test item {index}", "description": "bench/http_orders.py",
              "price": {"value": PRICE, "currency": "EUR"}, "stock": STOCK},
    )
    assert deposit and listing, rec.errors
    return Pair(bearer(buyer["api_key"]), bearer(seller["api_key"]), listing["id"])


async def place(client: Connection, rec: Recorder, pair: Pair, *,
                scheduled: float | None = None) -> dict[str, Any] | None:
    return await rec.call(client, "place", "/v1/orders", 201,
                          json={"listing_id": pair.listing_id, "quantity": 1},
                          headers={**pair.buyer, **fresh_key()}, scheduled=scheduled)


async def life_cycle(client: Connection, rec: Recorder, pair: Pair) -> bool:
    order = await place(client, rec, pair)
    if order is None:
        return False
    base = f"/v1/orders/{order['id']}"
    steps: list[tuple[str, str, int, dict[str, Any]]] = [
        ("ship", f"{base}/ship", 200, {"json": {"tracking": "LOAD-1"}, "headers": pair.seller}),
        ("confirm", f"{base}/confirm", 200,
         {"json": {}, "headers": {**pair.buyer, **fresh_key()}}),
        ("buyer review", f"{base}/reviews", 201,
         {"json": {"overall": 5, "item_as_described": 5, "communication": 4,
                   "shipping_speed": 5, "text": "As described, quick."},
          "headers": pair.buyer}),
        ("seller review", f"{base}/reviews", 201,
         {"json": {"overall": 5, "text": "Paid at once."}, "headers": pair.seller}),
    ]
    for step, path, expect, kwargs in steps:
        if await rec.call(client, step, path, expect, **kwargs) is None:
            return False
    return True


async def closed_loop(pairs: list[Pair], clients: list[Connection], rec: Recorder, *,
                      seconds: float, requests_max: int, cycle: bool) -> int:
    """Every client repeats its unit of work until the deadline or the request budget."""
    deadline = time.perf_counter() + seconds

    async def one_client(pair: Pair, client: Connection) -> int:
        done = 0
        while time.perf_counter() < deadline and rec.requests < requests_max:
            if cycle:
                done += await life_cycle(client, rec, pair)
            else:
                done += await place(client, rec, pair) is not None
        return done

    return sum(await asyncio.gather(*(one_client(p, c) for p, c in zip(pairs, clients,
                                                                          strict=True))))


@dataclass
class Schedule:
    """How an open-loop phase kept to its schedule."""

    rate: float
    due: int = 0
    answered: int = 0
    unanswered: int = 0
    lag_max: float = 0.0
    connections: int = 0
    connections_max_reached: bool = False
    worst_by_second: list[float] = field(default_factory=list)
    """The slowest latency (ms) among the requests due in each second of the schedule."""

    def kept(self) -> bool:
        """Every scheduled request was sent on time (within ``LAG_MAX_S``) and answered."""
        return (self.unanswered == 0 and self.answered == self.due
                and self.lag_max <= LAG_MAX_S and not self.connections_max_reached)


async def open_loop(pairs: list[Pair], host: str, port: int, rec: Recorder, schedule: Schedule,
                    *, seconds: float, requests_max: int, drain_seconds: float) -> int:
    """Placements sent on a fixed schedule, ``schedule.rate`` per second, whatever the answers.

    Request i is due at ``start + i / rate``; its latency counts from that instant, not from when
    it was sent, so a generator or a server that falls behind shows the queueing it causes (no
    coordinated omission). A request goes out on an idle keep-alive connection, taken round-robin
    so the load spreads over every connection (and so over the server's workers); when none is
    idle a new one is opened, so no request waits for a connection, up to ``OPEN_CONNECTIONS_MAX``
    (reaching it fails the schedule). Requests still unanswered ``drain_seconds`` after the last
    one was due are counted as unanswered, with that wait as their latency.
    """
    idle: collections.deque[Connection] = collections.deque(
        Connection(host, port) for _ in range(OPEN_CONNECTIONS_WARM))
    opened: list[Connection] = list(idle)
    for connection in opened:  # connect now, not while the clock runs
        connection.reader, connection.writer = await asyncio.open_connection(host, port)
    due = min(int(seconds * schedule.rate), requests_max)
    pending: dict[asyncio.Task[None], float] = {}  # in flight: when each was due
    answered = 0

    async def one(index: int, scheduled: float) -> None:
        nonlocal answered
        if idle:
            connection = idle.popleft()
        elif len(opened) < OPEN_CONNECTIONS_MAX:
            connection = Connection(host, port)
            opened.append(connection)
        else:
            schedule.connections_max_reached = True
            rec.errors["place: no connection left"] += 1
            return
        try:
            if await place(connection, rec, pairs[index % len(pairs)],
                           scheduled=scheduled) is not None:
                answered += 1
        finally:
            idle.append(connection)
            second = int(index / schedule.rate)
            while len(schedule.worst_by_second) <= second:
                schedule.worst_by_second.append(0.0)
            schedule.worst_by_second[second] = max(schedule.worst_by_second[second], round(
                1000 * (time.perf_counter() - scheduled), 1))

    start = time.perf_counter() + 0.05
    try:
        for index in range(due):
            scheduled = start + index / schedule.rate
            wait = scheduled - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            schedule.lag_max = max(schedule.lag_max, time.perf_counter() - scheduled)
            task = asyncio.create_task(one(index, scheduled))
            pending[task] = scheduled
            task.add_done_callback(pending.pop)
        last_due = start + (due - 1) / schedule.rate if due else start
        if pending:
            _, late = await asyncio.wait(
                set(pending), timeout=max(0.0, last_due + drain_seconds - time.perf_counter()))
            cutoff = time.perf_counter()
            # At least this long: they count in the percentiles instead of vanishing.
            rec.latency.setdefault("place", []).extend(cutoff - pending[t] for t in late)
            if late:
                rec.errors["place: unanswered"] += len(late)
            schedule.unanswered = len(late)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
    finally:
        schedule.due, schedule.answered = due, answered
        schedule.connections = len(opened)
        for connection in opened:
            await connection.close()
    return answered


# ---------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bonafide(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BONAFIDE, *args], env=env, capture_output=True, text=True, check=False)


def wait_ready(url: str, server: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited while starting:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the server did not answer within {seconds:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # uvicorn's supervisor stops its workers on SIGINT
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def count_orders(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM orders")).scalar_one())
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the run


async def load(args: argparse.Namespace, url: str, operator_key: str,
               processes: Processes) -> tuple[list[Phase], Schedule, int]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    clients = [Connection(host, int(port)) for _ in range(args.clients)]
    try:
        setup = Recorder()
        gate = asyncio.Semaphore(8)

        async def gated(index: int) -> Pair:
            async with gate:
                connection = Connection(host, int(port))
                try:
                    return await make_pair(connection, setup, operator_key, index)
                finally:
                    await connection.close()

        pairs = list(await asyncio.gather(*(gated(i) for i in range(max(args.clients,
                                                                          OPEN_PAIRS)))))
        console.print(f"set-up: {len(pairs)} buyers, sellers and listings; "
                      f"{setup.requests} requests, errors {dict(setup.errors) or 'none'}")
        closed_pairs = pairs[:args.clients]
        warm = Recorder()
        await closed_loop(closed_pairs, clients, warm, seconds=args.warmup_seconds,
                          requests_max=args.requests_max, cycle=False)
        placing, scheduled, cycling = Recorder(), Recorder(), Recorder()
        schedule = Schedule(rate=args.place_rate)

        async def fresh(loop: Awaitable[int]) -> int:
            # The clients' connections sat idle through the open loop, past the server's
            # keep-alive timeout (uvicorn: 5 s): start the phase on new ones.
            for client in clients:
                await client.close()
            return await loop

        phases = [await measure("placement (closed loop)", processes, placing, lambda: closed_loop(
            closed_pairs, clients, placing, seconds=args.place_seconds,
            requests_max=args.requests_max, cycle=False))]
        # The open loop's schedule, unmeasured, first: its connections are opened and its other
        # buyers' first requests made before the clock runs.
        await open_loop(pairs, host, int(port), warm, Schedule(rate=args.place_rate),
                        seconds=args.warmup_seconds, requests_max=args.requests_max,
                        drain_seconds=DRAIN_SECONDS)
        phases.append(await measure(
            f"placement (open loop, {args.place_rate:g}/s)", processes, scheduled,
            lambda: open_loop(pairs, host, int(port), scheduled, schedule,
                              seconds=args.open_seconds, requests_max=args.requests_max,
                              drain_seconds=DRAIN_SECONDS)))
        phases.append(await measure("life cycle", processes, cycling, lambda: fresh(closed_loop(
            closed_pairs, clients, cycling, seconds=args.cycle_seconds,
            requests_max=args.requests_max, cycle=True))))
    finally:
        for client in clients:
            await client.close()
    placed = warm.placed + placing.placed + scheduled.placed + cycling.placed
    return phases, schedule, placed


def run(args: argparse.Namespace) -> dict[str, Any]:
    postgres = ThrowawayPostgres(durable=True, settings=dict(
        item.split("=", 1) for item in args.pg_setting))
    scratch = Path(tempfile.mkdtemp(prefix="bonafide-http-bench-"))
    database_url = postgres.start()
    server: subprocess.Popen[bytes] | None = None
    try:
        env = {**os.environ, "BONAFIDE_DATABASE_URL": database_url,
               "BONAFIDE_KEY_PATH": str(scratch / "market.key"),
               "BONAFIDE_SIGNUP_LIMIT_PER_MINUTE": "1000000",
               "BONAFIDE_AUTH_FAILURE_LIMIT_PER_MINUTE": "1000000"}
        upgraded = bonafide("db", "upgrade", "--db", database_url, env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        made = bonafide("accounts", "create-operator", "--handle", "loadop", "--db",
                        database_url, env=env)
        assert made.returncode == 0, made.stderr
        operator_key = made.stdout.strip().splitlines()[0]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = scratch / "serve.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [BONAFIDE, "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(args.workers), "--db", database_url],
                env=env, stdout=sink, stderr=subprocess.STDOUT,
            )
        wait_ready(url, server, log, seconds=120)
        postmaster = int((postgres.data / "postmaster.pid").read_text().split()[0])
        processes = Processes(psutil.Process(server.pid), postmaster)
        phases, schedule, placed = asyncio.run(load(args, url, operator_key, processes))
        stop_server(server)
        tracebacks = log.read_text(errors="replace").count("Traceback")
        verify = bonafide("ledger", "verify", "--db", database_url, env=env)
        orders = count_orders(database_url)
    finally:
        if server is not None:
            stop_server(server)
        postgres.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"phases": phases, "schedule": schedule, "placed": placed, "orders": orders,
            "verify": verify, "tracebacks": tracebacks}


# ---------------------------------------------------------------- the report


def phase_row(phase: Phase) -> dict[str, Any]:
    rec = phase.recorder
    every = [x for values in rec.latency.values() for x in values]
    return {
        "phase": phase.name, "seconds": round(phase.seconds, 1), "requests": rec.requests,
        "requests_per_second": round(rec.requests / phase.seconds, 1),
        "units": phase.units, "units_per_second": round(phase.units / phase.seconds, 1),
        "p50_ms": round(percentile_ms(every, 0.50), 1),
        "p90_ms": round(percentile_ms(every, 0.90), 1),
        "p99_ms": round(percentile_ms(every, 0.99), 1),
        "p999_ms": round(percentile_ms(every, 0.999), 1),
        "max_ms": round(percentile_ms(every, 1.0), 1),
        "steps": {step: {"n": len(v), "p50_ms": round(percentile_ms(v, 0.5), 1),
                         "p99_ms": round(percentile_ms(v, 0.99), 1)}
                  for step, v in rec.latency.items()},
        "errors": dict(rec.errors),
        "cpu_seconds": {side: round(s, 1) for side, s in phase.cpu.items()},
        "cpu_ms_per_unit": {side: round(1000 * s / max(1, phase.units), 2)
                            for side, s in phase.cpu.items()},
        "machine_busy_ms_per_unit": round(1000 * phase.machine_busy / max(1, phase.units), 2),
        "machine_busy_cpu_seconds": round(phase.machine_busy, 1),
        "load_before": phase.load_before, "load_after": phase.load_after,
    }


def verdict(met: bool) -> str:
    return "[green]met[/]" if met else "[red]missed[/]"


def cpu_table(title: str, rows: list[dict[str, Any]], sides: list[str], key: str,
              machine_key: str) -> Table:
    """One row per process group (``row[key][side]``) and one for the whole machine, a column
    per phase."""
    table = Table(title=title)
    table.add_column("side")
    for row in rows:
        table.add_column(row["phase"], justify="right")
    for side in sides:
        table.add_row(side, *(f"{row[key][side]}" for row in rows))
    table.add_row("whole machine (busy)", *(f"{row[machine_key]}" for row in rows))
    return table


def report(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    rows = [phase_row(phase) for phase in result["phases"]]
    closed, scheduled, cycle = rows
    schedule: Schedule = result["schedule"]
    table = Table(title=f"bonafide HTTP on PostgreSQL: {args.workers} workers, "
                        f"{args.clients} closed-loop clients")
    for column in ("phase", "s", "requests", "req/s", "p50 ms", "p99 ms", "errors",
                   "orders/s", "target"):
        table.add_column(column, justify="left" if column in ("phase", "target") else "right")
    # The placement target is a latency at a given rate: the open loop at --place-rate decides
    # it. The closed loop measures the most the server does and its latency at saturation.
    closed_met = (closed["requests_per_second"] >= TARGET_PLACE_PER_SECOND
                  and not closed["errors"])
    open_met = (args.place_rate >= TARGET_PLACE_PER_SECOND and schedule.kept()
                and not scheduled["errors"] and scheduled["p99_ms"] < TARGET_PLACE_P99_MS)
    cycle_met = cycle["units_per_second"] >= TARGET_CYCLES_PER_SECOND and not cycle["errors"]
    for row, target in (
        (closed, f">= {TARGET_PLACE_PER_SECOND} req/s at most: {verdict(closed_met)}"),
        (scheduled, f"p99 < {TARGET_PLACE_P99_MS} ms at >= {TARGET_PLACE_PER_SECOND}/s: "
                    f"{verdict(open_met)}"),
        (cycle, f">= {TARGET_CYCLES_PER_SECOND} orders/s: {verdict(cycle_met)}"),
    ):
        table.add_row(row["phase"], f"{row['seconds']}", f"{row['requests']:,}",
                      f"{row['requests_per_second']:,}", f"{row['p50_ms']}", f"{row['p99_ms']}",
                      f"{sum(row['errors'].values())}", f"{row['units_per_second']:,}", target)
    console.print(table)
    console.print(
        f"open loop: {schedule.due:,} placements due at {schedule.rate:g}/s, "
        f"{schedule.answered:,} answered 201, {schedule.unanswered} unanswered after "
        f"{DRAIN_SECONDS:g} s; latest send {1000 * schedule.lag_max:.1f} ms after due "
        f"(at most {1000 * LAG_MAX_S:g}); {schedule.connections} connections"
        f"{' (the most allowed)' if schedule.connections_max_reached else ''}; "
        f"schedule {'kept' if schedule.kept() else 'NOT KEPT'}; latency from each request's "
        f"due time: p50 {scheduled['p50_ms']} ms, p90 {scheduled['p90_ms']} ms, "
        f"p99 {scheduled['p99_ms']} ms, p99.9 {scheduled['p999_ms']} ms, "
        f"max {scheduled['max_ms']} ms; slowest per second of the schedule (ms): "
        f"{' '.join(f'{ms:.0f}' for ms in schedule.worst_by_second)}")
    steps = Table(title="life cycle, per step")
    for column in ("step", "n", "p50 ms", "p99 ms"):
        steps.add_column(column, justify="left" if column == "step" else "right")
    for step, figures in cycle["steps"].items():
        steps.add_row(step, f"{figures['n']:,}", f"{figures['p50_ms']}", f"{figures['p99_ms']}")
    console.print(steps)
    cpu = cpu_table("CPU seconds per phase (2 cores give 2 CPU-seconds per second)", rows,
                    list(closed["cpu_seconds"]), "cpu_seconds", "machine_busy_cpu_seconds")
    cpu.add_row("load average before → after",
                *(f"{row['load_before']} → {row['load_after']}" for row in rows))
    console.print(cpu)
    per_unit = cpu_table("ms of CPU per unit of work (a placement; a whole life cycle)", rows,
                         list(closed["cpu_seconds"]), "cpu_ms_per_unit", "machine_busy_ms_per_unit")
    console.print(per_unit)
    for row in rows:
        if row["errors"]:
            console.print(f"[red]{row['phase']} errors:[/] {row['errors']}")
    verify = result["verify"]
    console.print(f"ledger verify (exit {verify.returncode}):")
    console.print((verify.stdout or verify.stderr).strip(), markup=False, highlight=False)
    counted = result["orders"] == result["placed"]
    console.print(f"orders in the database: {result['orders']:,}; placements answered 201: "
                  f"{result['placed']:,} ({'equal' if counted else 'NOT EQUAL'})")
    console.print(f"tracebacks in the server log: {result['tracebacks']}")
    command = [".venv/bin/python", "bench/http_orders.py", *sys.argv[1:]]
    console.print("command: " + shlex.join(command))
    print(json.dumps({"phases": rows, "open_loop": dataclasses.asdict(schedule),
                      "open_loop_schedule_kept": schedule.kept(), "orders": result["orders"],
                      "placed": result["placed"],
                      "ledger_verify_exit": verify.returncode}), flush=True)
    return verify.returncode == 0 and counted


def bounded(limit: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = float(value)
        if not 0 <= number <= limit:
            raise argparse.ArgumentTypeError(f"must be between 0 and {limit:g}")
        return number

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, choices=range(1, 17), default=2, metavar="N",
                        help="bonafide serve --workers (1-16; default 2, one per core)")
    parser.add_argument("--clients", type=int, choices=range(1, CLIENTS_MAX + 1), default=16,
                        metavar="N", help="concurrent clients (keep-alive connections)")
    parser.add_argument("--place-seconds", type=bounded(SECONDS_MAX), default=20.0)
    parser.add_argument("--open-seconds", type=bounded(SECONDS_MAX), default=20.0,
                        help="length of the open-loop placement schedule")
    parser.add_argument("--place-rate", type=bounded(RATE_MAX), default=300.0,
                        help="open loop: placements sent per second, on a fixed schedule")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a PostgreSQL server setting for the run (repeatable), e.g. "
                             "commit_delay=200")
    parser.add_argument("--cycle-seconds", type=bounded(SECONDS_MAX), default=20.0)
    parser.add_argument("--warmup-seconds", type=bounded(SECONDS_MAX), default=3.0)
    parser.add_argument("--requests-max", type=int, default=20_000,
                        help=f"requests per phase at most (up to {REQUESTS_MAX:,})")
    args = parser.parse_args()
    if any("=" not in item or not item.split("=", 1)[0].replace("_", "").isalnum()
           for item in args.pg_setting):
        parser.error("--pg-setting takes NAME=VALUE")
    if not 1 <= args.requests_max <= REQUESTS_MAX:
        parser.error(f"--requests-max must be between 1 and {REQUESTS_MAX:,}")
    console.print(f"load average at start: {load_average()} ({os.cpu_count()} cores)")
    ok = report(args, run(args))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
