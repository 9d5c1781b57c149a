"""CLI: ``accounts create-operator`` prints a working operator key; ``serve`` answers HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from uvicorn.supervisors import Multiprocess

from bonafide.bootstrap import connect
from bonafide.cli import main
from bonafide.market.accounts import Role
from bonafide.service import accounts as accounts_service
from bonafide.settings import Settings


def test_create_operator_prints_a_key_that_authenticates_as_an_operator(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["accounts", "create-operator", "--handle", "root", "--db", database_url])
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("bfk_") and "\n" not in key
    assert "root" in out.err
    container = connect(Settings(database_url=database_url), migrate=False)
    try:
        principal = accounts_service.authenticate(
            container.uow(read_only=True), api_key=key, settings=container.settings,
            now=container.clock.now(),
        )
    finally:
        container.close()
    assert principal.handle == "root"
    assert principal.roles == {Role.operator}


def test_grant_moderator_adds_the_role(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    container = connect(Settings(database_url=database_url), migrate=False)
    try:
        made = accounts_service.sign_up(
            container.uow(), handle="mia", roles=frozenset({Role.buyer}),
            settings=container.settings, now=container.clock.now(),
        )
    finally:
        container.close()
    main(["accounts", "grant-moderator", made.account.principal.id, "--db", database_url])
    assert capsys.readouterr().out.split()[-1] == "buyer,moderator"


def test_unknown_accounts_are_a_one_line_error(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["accounts", "grant-moderator", "acc_nobody", "--db", database_url])
    assert exited.value.code == 1
    assert capsys.readouterr().err.startswith("error: account_not_found:")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_the_api(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    port = _free_port()
    env = {**os.environ, "BONAFIDE_TICK_INTERVAL": "1s"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from bonafide.cli import main; main()", "serve",
         "--port", str(port), "--db", url],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=30)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json() == {"ok": True}
        openapi = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=60)
        assert openapi.status_code == 200
        time.sleep(1.5)  # let the scheduler tick at least once
        assert process.poll() is None
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert "scheduler tick failed" not in output


def test_serve_hands_workers_to_uvicorn_and_runs_one_scheduler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(supervisor: Multiprocess) -> None:
        seen["config"] = supervisor.config
        seen["protocols"] = [sock.proto for sock in supervisor.sockets]
        seen["schedulers"] = [t.name for t in threading.enumerate()].count("bonafide-scheduler")

    monkeypatch.setattr(Multiprocess, "run", fake_run)
    monkeypatch.delenv("BONAFIDE_DATABASE_URL", raising=False)
    main(["serve", "--workers", "3", "--port", "0", "--db", f"sqlite:///{tmp_path / 'w.db'}"])
    # uvicorn spawns the workers afresh from the factory string; the scheduler thread stays here.
    assert seen["config"].app == "bonafide.api.app:from_environment" and seen["config"].factory
    assert seen["config"].workers == 3
    assert seen["schedulers"] == 1
    # A TCP listener, so asyncio sets TCP_NODELAY on each connection (no 40 ms delayed ACKs).
    assert seen["protocols"] == [socket.IPPROTO_TCP]


def test_serve_with_two_workers_answers_from_child_processes(tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", "from bonafide.cli import main; main()", "serve",
         "--port", str(port), "--workers", "2", "--db", f"sqlite:///{tmp_path / 'serve.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=30)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve --workers 2 did not answer in 90 s"
                time.sleep(0.2)
        assert response.status_code == 200
        workers = [
            child for child in psutil.Process(process.pid).children()
            if "multiprocessing.spawn" in " ".join(child.cmdline())
        ]
        assert len(workers) == 2
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output
