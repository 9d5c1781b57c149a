"""Shared fixtures: a fresh, migrated database per test on SQLite and on a real PostgreSQL.

``database_url`` is parametrised over both backends. PostgreSQL comes from a throwaway server
started once per test session from the installed binaries (``scripts/pgserver.py``), or from
``BONAFIDE_TEST_POSTGRES_URL`` when that points at a server of your own. Where no server can be
had the PostgreSQL cases skip with the reason, except under CI (``CI=true``), where they fail:
CI must never pass by skipping them.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from pgserver import PostgresUnavailable, ThrowawayPostgres  # scripts/ is on pytest's pythonpath
from sqlalchemy import Engine, text

from bonafide.store.db import make_engine
from bonafide.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]

# Tests assert behaviour, not speed (speed is measured in bench/): no per-example deadline and no
# "generation is slow" health check, which only flake on a loaded two-core machine. A test may
# still set its own smaller max_examples.
settings.register_profile(
    "bonafide",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("bonafide")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DATA = ROOT.parent / "shared" / "data"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the PostgreSQL tests; .ci/run installs the server)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database, and a migrated template database."""
    own = os.environ.get("BONAFIDE_TEST_POSTGRES_URL")
    server = None
    if own:
        admin_url = own
    else:
        try:
            server = ThrowawayPostgres()
        except PostgresUnavailable as error:
            _unavailable(str(error))
        admin_url = server.start()
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS bonafide_template"))
        c.execute(text("CREATE DATABASE bonafide_template"))
    template = make_engine(_with_database(admin_url, "bonafide_template"), pool_size=1)
    upgrade(template)
    template.dispose()
    admin.dispose()
    try:
        yield admin_url
    finally:
        if server is not None:
            server.stop()


def _with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


_counter = itertools.count()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file we copy
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema, on each backend in turn."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "bonafide.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    admin_url: str = request.getfixturevalue("postgres_server")
    name = f"t_{os.getpid()}_{next(_counter)}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE bonafide_template'))
    try:
        yield _with_database(admin_url, name)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository; skips (fails under CI) when absent."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED_DATA} is missing; CI must run the shared-data tests")
        pytest.skip(f"{SHARED_DATA} is not present on this clone")
    return SHARED_DATA
