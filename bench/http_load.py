"""Benchmark: the full order life cycle over HTTP against the API on PostgreSQL, several workers.

(Not ``bench/http.py``: a script of that name would shadow the standard library's ``http``
package for everything it imports.)

Usage::

    .venv/bin/python bench/http_load.py [--workers 4] [--users 16] [--cycles 20]
        [--database-url postgresql+psycopg://...]   # default: a throwaway server

It starts a throwaway PostgreSQL (``scripts/pgserver.py``) unless ``--database-url`` is given,
migrates it, makes an operator with ``bonafide accounts create-operator``, and serves the API
with ``uvicorn bonafide.api.app:from_environment --factory --workers N`` (the factory
``bonafide serve`` runs; ``serve`` itself has no ``--workers`` option). Then ``--users``
threads each sign up a buyer and a seller, fund the buyer, list an item, and run ``--cycles``
order life cycles: place → ship → confirm → buyer's review → seller's review → read the order.
Every request's latency and status are kept; the run prints one JSON line with requests per
second, p50 / p99 latency per step and overall, and errors, then runs ``bonafide ledger verify``
and reports whether it passed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BONAFIDE = str(ROOT / ".venv" / "bin" / "bonafide")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    """Latencies (seconds) and statuses per step, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def call(self, client: httpx.Client, step: str, method: str, path: str,
             expect: int, **kwargs: Any) -> dict[str, Any]:
        started = time.perf_counter()
        response = client.request(method, path, **kwargs)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[step].append(elapsed)
            if response.status_code != expect:
                self.errors[f"{step} {response.status_code}"] += 1
        if response.status_code != expect:
            return {}
        body: dict[str, Any] = response.json()
        return body


def idem() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def user(url: str, operator_key: str, index: int, cycles: int, rec: Recorder) -> None:
    with httpx.Client(base_url=url, timeout=60.0) as client:
        buyer = rec.call(client, "signup", "POST", "/v1/accounts", 201,
                         json={"handle": f"b{index}-{uuid.uuid4().hex[:8]}", "roles": ["buyer"]})
        seller = rec.call(client, "signup", "POST", "/v1/accounts", 201,
                          json={"handle": f"s{index}-{uuid.uuid4().hex[:8]}",
                                "roles": ["seller"]})
        if not buyer or not seller:
            return
        as_buyer = {"Authorization": f"Bearer {buyer['api_key']}"}
        as_seller = {"Authorization": f"Bearer {seller['api_key']}"}
        rec.call(client, "deposit", "POST", "/v1/deposits", 201,
                 json={"account_id": buyer["id"], "amount": {"value": 10_000_000,
                                                             "currency": "EUR"}},
                 headers={"Authorization": f"Bearer {operator_key}", **idem()})
        listing = rec.call(client, "listing", "POST", "/v1/listings", 201, headers=as_seller,
                           json={"title": "Tea", "description": "green",
                                 "price": {"value": 1999, "currency": "EUR"},
                                 "stock": cycles})
        if not listing:
            return
        for _ in range(cycles):
            order = rec.call(client, "place", "POST", "/v1/orders", 201,
                             json={"listing_id": listing["id"], "quantity": 1},
                             headers={**as_buyer, **idem()})
            if not order:
                continue
            base = f"/v1/orders/{order['id']}"
            rec.call(client, "ship", "POST", f"{base}/ship", 200, json={"tracking": "T1"},
                     headers={**as_seller, **idem()})
            rec.call(client, "confirm", "POST", f"{base}/confirm", 200, json={},
                     headers={**as_buyer, **idem()})
            rec.call(client, "review", "POST", f"{base}/reviews", 201, headers=as_buyer,
                     json={"overall": 5, "item_as_described": 5, "communication": 4,
                           "shipping_speed": 5, "text": "fine"})
            rec.call(client, "review", "POST", f"{base}/reviews", 201, headers=as_seller,
                     json={"overall": 5})
            rec.call(client, "read", "GET", base, 200, headers=as_buyer)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited before it was ready")
        try:
            if httpx.get(f"{url}/v1/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not become ready")


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    env = {**os.environ, "BONAFIDE_DATABASE_URL": database_url,
           "BONAFIDE_SIGNUP_LIMIT_PER_MINUTE": "1000000",
           "BONAFIDE_AUTH_FAILURE_LIMIT_PER_MINUTE": "1000000"}
    subprocess.run([BONAFIDE, "db", "upgrade"], env=env, check=True, capture_output=True)
    made = subprocess.run([BONAFIDE, "accounts", "create-operator", "--handle", "loadop"],
                          env=env, check=True, capture_output=True, text=True)
    operator_key = made.stdout.strip().splitlines()[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "uvicorn"), "bonafide.api.app:from_environment",
         "--factory", "--port", str(port), "--workers", str(args.workers), "--log-level",
         "warning", "--no-access-log"], env=env)
    try:
        wait_ready(url, server)
        rec = Recorder()
        threads = [threading.Thread(target=user, args=(url, operator_key, i, args.cycles, rec))
                   for i in range(args.users)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    verify = subprocess.run([BONAFIDE, "ledger", "verify"], env=env, capture_output=True,
                            text=True)
    every = [x for values in rec.latency.values() for x in values]
    return {
        "workers": args.workers, "users": args.users, "cycles_per_user": args.cycles,
        "requests": len(every), "wall_seconds": round(wall, 2),
        "requests_per_second": round(len(every) / wall, 1),
        "p50_ms": round(1000 * percentile(every, 0.50), 1),
        "p99_ms": round(1000 * percentile(every, 0.99), 1),
        "per_step": {step: {"n": len(v), "p50_ms": round(1000 * percentile(v, 0.5), 1),
                            "p99_ms": round(1000 * percentile(v, 0.99), 1)}
                     for step, v in sorted(rec.latency.items())},
        "errors": dict(rec.errors),
        "ledger_verify_exit": verify.returncode,
        "ledger_verify": verify.stdout.strip().splitlines()[-1:] or verify.stderr.strip()[:200],
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.database_url:
        print(json.dumps(run(args, args.database_url)), flush=True)
        return
    sys.path.insert(0, str(ROOT / "scripts"))
    from pgserver import ThrowawayPostgres

    server = ThrowawayPostgres()
    admin_url = server.start()
    try:
        print(json.dumps(run(args, admin_url)), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
