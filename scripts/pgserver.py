"""A throwaway PostgreSQL server from the installed binaries, for tests and benchmarks.

``initdb`` refuses to run as root, so under root the server runs as the ``postgres`` system user
(Debian's ``postgresql`` package creates it). The data folder, socket and log live in one
temporary folder that ``stop()`` removes. A watchdog process (this file with ``--watch``) stops the
server and removes the folder when the process that started it dies without calling ``stop()``
(a test run killed by a timeout or SIGKILL), so interrupted runs leave no servers behind.

Run by hand: ``python scripts/pgserver.py`` prints a URL and keeps the server until Ctrl-C.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed here."""


def find_bindir() -> Path:
    explicit = os.environ.get("BONAFIDE_PG_BINDIR")
    candidates = [explicit] if explicit else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for candidate in candidates:
        if candidate and all((Path(candidate) / b).exists() for b in ("initdb", "pg_ctl")):
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install the 'postgresql' package"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayPostgres:
    def __init__(self, *, durable: bool = False, max_connections: int = 200,
                 settings: dict[str, str] | None = None) -> None:
        self.bindir = find_bindir()
        self.durable = durable
        self.settings = dict(settings or {})
        """Server settings (``-c name=value``) on top of the ones below."""
        self.max_connections = max_connections
        self.root = Path(tempfile.mkdtemp(prefix="bonafide-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        self._watchdog: subprocess.Popen[bytes] | None = None

    def _run(self, *args: str) -> None:
        _run_as_owner(self.root, *args)

    def start(self) -> str:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
        options = [
            f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1",
            f"-c max_connections={self.max_connections}",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                  "-o", " ".join(options), "-w", "-t", "60", "start")
        # Its own session, so a signal to the test run's process group does not reach it.
        self._watchdog = subprocess.Popen(  # noqa: S603 (our own file and arguments)
            [sys.executable, str(Path(__file__).resolve()), "--watch", str(os.getpid()),
             str(self.root), str(self.bindir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self.url("postgres")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def psql_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        _stop_server(self.root, self.bindir)


def _run_as_owner(root: Path, *args: str) -> None:
    cmd = list(args)
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    # Only our own arguments: installed binaries, a temporary folder, a port number.
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        log = root / "log"
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr}{result.stdout}\n{tail}")


def _stop_server(root: Path, bindir: Path) -> None:
    try:
        _run_as_owner(root, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate",
                      "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def watch(owner: int, root: Path, bindir: Path, *, poll: float = 0.5) -> None:
    """Stop the server in ``root`` once process ``owner`` is gone (``stop()`` kills us first).

    The watchdog is ``owner``'s child, so the owner's death shows as a change of parent
    (re-parenting to init or a subreaper), which, unlike probing the pid, survives pid reuse.
    """
    while os.getppid() == owner:
        time.sleep(poll)
    _stop_server(root, bindir)


if __name__ == "__main__" and sys.argv[1:2] == ["--watch"]:
    watch(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
elif __name__ == "__main__":
    server = ThrowawayPostgres()
    print(server.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
