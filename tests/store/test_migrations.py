"""The migrations build exactly the schema the table modules describe, on both backends."""

from __future__ import annotations

from sqlalchemy import Engine, select

from bonafide.ledger.journal import GENESIS_HASH
from bonafide.store.ledger_tables import LANES, ledger_chain
from bonafide.store.migrate import current, head, schema_differences


def test_tables_match_the_migrations_after_upgrade(engine: Engine) -> None:
    assert current(engine) == head()
    assert schema_differences(engine) == []


def test_the_ledger_tables_match_migration_0001(engine: Engine) -> None:
    ledger_only = [
        d for d in schema_differences(engine)
        if "ledger_" in repr(d)
    ]
    assert ledger_only == []


def test_every_journal_lane_starts_at_genesis(engine: Engine) -> None:
    with engine.connect() as c:
        rows = c.execute(select(ledger_chain.c.id, ledger_chain.c.sequence, ledger_chain.c.hash)
                         .order_by(ledger_chain.c.id))
        assert rows.all() == [(lane, 0, GENESIS_HASH) for lane in range(LANES)]
