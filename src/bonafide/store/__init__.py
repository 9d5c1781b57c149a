"""Storage: SQLAlchemy 2 tables, repositories, the unit of work and Alembic migrations.

Owns: everything that knows SQL. May import: SQLAlchemy, Alembic, the pure domain packages,
``bonafide.money`` and ``bonafide.errors``. Nothing above ``service/`` imports this package.

- ``base``: the shared ``MetaData`` that every table module registers on.
- ``db``: engine creation with the per-dialect rules (SQLite: WAL, foreign keys, writes in
  ``BEGIN IMMEDIATE``; PostgreSQL: READ COMMITTED plus explicit row locks in the repositories).
- ``uow``: ``UnitOfWork``; leaving it without ``commit()`` rolls back.
- ``migrate``: programmatic Alembic (``upgrade``, ``current``, ``check_schema_matches``).
"""
