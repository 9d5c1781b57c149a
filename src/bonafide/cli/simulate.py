"""CLI command ``bonafide simulate``: write a simulated market with ground-truth labels.

Owns: the ``simulate`` command. Imports: ``bonafide.sim`` and ``bonafide.errors``; never
``bonafide.store`` or SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from bonafide.cli.app import app
from bonafide.errors import Rejected
from bonafide.sim import SIZES, simulate_market, write_market

ACCOUNTS_MAX = 50_000_000
ORDERS_MAX = 200_000_000


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Directory for ratings.csv and labels.csv.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same market.")] = 0,
    size: Annotated[str, typer.Option("--size", help="small, medium or large.")] = "medium",
    buyers: Annotated[int | None, typer.Option("--buyers", help="Override: buyers.")] = None,
    sellers: Annotated[int | None, typer.Option("--sellers", help="Override: sellers.")] = None,
    orders: Annotated[int | None, typer.Option("--orders", help="Override: orders.")] = None,
    days: Annotated[float | None, typer.Option("--days", help="Override: days.")] = None,
) -> None:
    """Simulate a market (honest trade plus labelled attacks) and write it as CSV."""
    if size not in SIZES:
        raise Rejected("size_unknown", f"--size must be one of {', '.join(SIZES)}")
    overrides: dict[str, Any] = {
        name: value
        for name, value in (("buyers", buyers), ("sellers", sellers), ("orders", orders),
                            ("days", days))
        if value is not None
    }
    if any(value <= 0 for value in overrides.values()):
        raise Rejected("size_must_be_positive", "--buyers, --sellers, --orders, --days must be > 0")
    config = dataclasses.replace(SIZES[size], **overrides)
    if config.buyers + config.sellers > ACCOUNTS_MAX or config.orders > ORDERS_MAX:
        raise Rejected(
            "size_over_limit", f"at most {ACCOUNTS_MAX:,} accounts and {ORDERS_MAX:,} orders"
        )
    if out.exists() and not out.is_dir():
        raise Rejected("output_not_a_directory", f"{out} exists and is not a directory")
    market = simulate_market(config, seed=seed)
    try:
        ratings, labels = write_market(market, out)
    except OSError as error:
        raise Rejected("output_not_writable", f"{out}: {error.strerror}") from None
    typer.echo(f"wrote {market.stars.shape[0]:,} ratings to {ratings} and "
               f"{market.account_id.shape[0]:,} accounts to {labels}")
