"""Use cases: one function per use case, and the only code that begins and commits transactions.

Owns: the order in which a use case loads, decides and persists. May import: the pure domain
(``bonafide.ledger``, ``bonafide.market``, ``bonafide.reputation``), ``bonafide.store`` (through
the unit of work and repositories), ``bonafide.money``, ``bonafide.errors`` and
``bonafide.settings``; never an interface (``api``, ``web``, ``cli``).

Functions that move money take keyword-only arguments and ``now`` as an argument. Building blocks
that run inside a caller's unit of work say so and never commit; use cases that own their
transaction open it with ``with uow:`` and end with ``uow.commit()``.
"""
