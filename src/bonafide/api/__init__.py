"""HTTP API (FastAPI): translate requests into one service call and the result into JSON.

Owns: routes under ``/v1``, dependencies, API schemas and the problem+json table. May import:
``bonafide.service``, ``bonafide.bootstrap``, the pure domain packages, ``bonafide.money``,
``bonafide.errors`` and ``bonafide.settings``; never ``bonafide.store`` or SQLAlchemy.
``create_app`` is in ``bonafide.api.app``.
"""
