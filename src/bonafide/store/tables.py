"""Imports every table module so that ``base.metadata`` knows the whole schema.

Add a line here when you add a table module; Alembic's env and the schema-drift test rely on it.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from bonafide.store.base import metadata

TABLE_MODULES: tuple[str, ...] = (
    "bonafide.store.ledger_tables",
    "bonafide.store.market_tables",
    "bonafide.store.order_tables",
    "bonafide.store.attest_tables",
    "bonafide.store.support_tables",
    "bonafide.store.promotion_tables",
    "bonafide.store.scoring_tables",
    "bonafide.store.fraud_tables",
)


def load_all() -> MetaData:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return metadata
