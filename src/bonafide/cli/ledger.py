"""CLI commands: ledger (filled in by its feature)."""

from __future__ import annotations

from bonafide.cli.app import app  # noqa: F401
