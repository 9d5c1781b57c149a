"""Command-line interface: translate arguments into one service call and print the result.

Owns: the ``bonafide`` command. May import: ``bonafide.service``, ``bonafide.bootstrap``, the pure
domain packages and ``bonafide.settings``; never ``bonafide.store`` or SQLAlchemy.

Each command module registers itself on ``bonafide.cli.app.app``; ``main`` imports them all, so
importing ``bonafide.cli`` stays cheap. Expected failures (``BonafideError``) print one line,
``error: <code>: <message>``, on stderr and exit 1; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys

from bonafide.errors import BonafideError

COMMAND_MODULES = (
    "bonafide.cli.db",
    "bonafide.cli.ledger",
    "bonafide.cli.score",
    "bonafide.cli.simulate",
    "bonafide.cli.market",
    "bonafide.cli.orders",
    "bonafide.cli.demo",
    "bonafide.cli.attest",
    "bonafide.cli.scale",
)


def _check_asserts_enabled() -> None:
    # Invariants are asserts (STYLE.md); python -O strips them, so refuse to run that way.
    try:
        assert False  # noqa: B011
    except AssertionError:
        return
    sys.stderr.write("error: asserts_disabled: bonafide refuses to run under python -O\n")
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``bonafide`` command."""
    _check_asserts_enabled()
    from bonafide.cli.app import app

    for name in COMMAND_MODULES:
        importlib.import_module(name)
    try:
        code = app(args=argv, standalone_mode=False)
    except BonafideError as error:
        sys.stderr.write(f"error: {error.code}: {error.message}\n")
        raise SystemExit(1) from None
    except SystemExit:
        raise
    except Exception as error:
        # Usage errors come from click, or from the copy of click that typer vendors; both carry
        # format_message() and exit_code, so recognise them by that rather than by class.
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):
            sys.stderr.write(f"error: usage: {error.format_message()}\n")
            raise SystemExit(error.exit_code or 2) from None
        if type(error).__name__ == "Abort":
            raise SystemExit(130) from None
        raise
    # Without standalone mode, typer.Exit(code) comes back as a return value.
    if isinstance(code, int) and code != 0:
        raise SystemExit(code)
