"""Schema use cases for the CLI: bring a database to the newest schema, and say where it stands.

Owns: ``upgrade_database`` and ``schema_revisions``. Imports: ``bonafide.store`` (engines and
programmatic Alembic). Lets ``bonafide db ...`` manage a database without the CLI touching
storage itself (import-linter holds interfaces away from ``bonafide.store``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bonafide.store.db import make_engine
from bonafide.store.migrate import current, head, upgrade


@dataclass(frozen=True, slots=True)
class SchemaRevisions:
    current: str | None
    """The revision the database is at (``None``: never migrated)."""
    head: str | None
    """The newest revision this code knows."""

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def schema_revisions(database_url: str) -> SchemaRevisions:
    engine = make_engine(database_url)
    try:
        return SchemaRevisions(current=current(engine), head=head())
    finally:
        engine.dispose()


def upgrade_database(database_url: str) -> SchemaRevisions:
    """Upgrade the database at ``database_url`` to the newest schema; return before and after."""
    engine = make_engine(database_url)
    try:
        before = current(engine)
        upgrade(engine)
        return SchemaRevisions(current=before, head=current(engine))
    finally:
        engine.dispose()
