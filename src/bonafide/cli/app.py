"""The Typer application object that every CLI module adds its commands to.

Kept apart from ``__init__`` so command modules can import it without a cycle.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="bonafide",
    help="bonafide: escrow, verified reviews and fraud-resistant reputation for marketplaces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
