"""The one ``MetaData`` every table module registers its tables on, with stable constraint names.

Alembic autogenerate and the schema-drift test compare against this object, so every table module
must be imported by ``bonafide.store.tables`` (the list below).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, MetaData
from sqlalchemy.dialects import postgresql, sqlite

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# 64-bit integers everywhere money or ids are stored. On SQLite an INTEGER PRIMARY KEY must be
# spelled INTEGER to be the rowid alias, hence the variant.
BigInt = BigInteger().with_variant(sqlite.INTEGER(), "sqlite").with_variant(
    postgresql.BIGINT(), "postgresql"
)
