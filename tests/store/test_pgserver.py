"""The throwaway PostgreSQL server of the tests does not outlive a test run that is killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pgserver import PostgresUnavailable, find_bindir

ROOT = Path(__file__).resolve().parents[2]

STARTER = """
import sys, time
sys.path.insert(0, {scripts!r})
from pgserver import ThrowawayPostgres
server = ThrowawayPostgres()
server.start()
print(server.root, server.port, flush=True)
time.sleep(600)
"""


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.postgres
def test_a_killed_owner_takes_its_server_with_it() -> None:
    try:
        find_bindir()
    except PostgresUnavailable as error:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{error} (CI must run the PostgreSQL tests)")
        pytest.skip(str(error))
    with subprocess.Popen(
        [sys.executable, "-c", STARTER.format(scripts=str(ROOT / "scripts"))],
        stdout=subprocess.PIPE, text=True,
    ) as owner:
        assert owner.stdout is not None
        root_text, port_text = owner.stdout.readline().split()
        root, port = Path(root_text), int(port_text)
        assert root.is_dir() and _accepts(port)
        owner.send_signal(signal.SIGKILL)  # no stop(), no atexit: only the watchdog cleans up

    deadline = time.monotonic() + 60
    while (root.exists() or _accepts(port)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not root.exists(), "the data folder outlived its owner"
    assert not _accepts(port), "the server outlived its owner"
