"""Settings: every ``BONAFIDE_*`` environment variable, read once into one object.

Owns: configuration names, defaults and parsing of durations (``14d``, ``2s``). Imports:
pydantic-settings. Nothing here runs at import time; ``Settings()`` reads the environment when
called, which the composition root (``bootstrap.py``) and the CLI do once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bonafide.errors import Rejected

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d|w)\s*$")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str | int | timedelta) -> timedelta:
    """Parse ``14d``, ``2s``, ``90m``, ``500ms`` (or a number of seconds) into a ``timedelta``.

    >>> parse_duration("14d")
    datetime.timedelta(days=14)
    """
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int) and not isinstance(text, bool):
        return timedelta(seconds=text)
    match = _DURATION.match(str(text))
    if not match:
        raise Rejected("duration_unreadable", f"{text!r}: use a number and a unit, like 14d or 2s")
    return timedelta(seconds=int(match[1]) * _UNIT[match[2]])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def default_database_url() -> str:
    return "sqlite:///" + str(Path("var") / "bonafide.db")


class Settings(BaseSettings):
    """bonafide's configuration; each field is ``BONAFIDE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="BONAFIDE_", extra="ignore", frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    database_pool_size: int = Field(default=8, ge=1, le=500)
    """PostgreSQL connections each process keeps open, and how many requests of one server
    process do their database work at once (the others wait their turn, holding no thread).
    A few per core of a nearby database: on two cores beside it, 8 per process served the order
    benchmark best (5 left its durable commits' waits idle on the table; 10 and more, measured
    when each request cost more CPU, lost it to threads contending for the interpreter and for
    PostgreSQL's locks); a database further away, where each statement waits longer, wants
    more."""
    ship_window: Duration = timedelta(days=7)
    release_window: Duration = timedelta(days=14)
    review_window: Duration = timedelta(days=30)
    fee_basis_points: int = Field(default=500, ge=0, le=10_000)
    currency: str = "EUR"
    seller_bond: int = Field(default=0, ge=0)
    tick_interval: Duration = timedelta(seconds=5)
    key_path: Path = Path("var") / "market.key"
    api_key_pepper: str = ""
    """Secret mixed into API-key hashes; empty means a per-database pepper is generated."""
    bond_return_orders: int = Field(default=10, ge=1, le=1_000_000)
    """Orders completed without loss after which a seller's bond goes back to their wallet."""
    signup_limit_per_minute: int = Field(default=10, ge=1)
    """Sign-ups allowed per client IP per minute (a token bucket; bursts up to the same number)."""
    auth_failure_limit_per_minute: int = Field(default=20, ge=1)
    """Failed authentications allowed per client IP per minute before it gets 429 for a while."""
    request_body_max_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Largest request body the HTTP API reads; larger ones get 413."""
    idempotency_retention: Duration = timedelta(days=30)
    """How long a stored Idempotency-Key (and its response) is kept; the scheduler deletes older
    ones. A retry after that runs afresh, so keep it well past any client's retry horizon."""
    market_id: str = Field(default="", pattern=r"^([A-Za-z0-9][A-Za-z0-9_.:-]{0,127})?$")
    """This market's public id in signed documents; empty means one is made with the first key
    and kept in the keyring file beside ``key_path``."""
    market_name: str = Field(default="bonafide market", min_length=1, max_length=200)
    """This market's name in signed documents and ``/.well-known/bonafide-market.json``."""
    attestation_lifetime: Duration = timedelta(days=90)
    """How long an exported seller attestation stays valid (at most 400 days)."""
    imported_evidence_weight_bp: int = Field(default=2_500, ge=0, le=10_000)
    """Weight, in basis points, given to evidence imported from another market's attestation."""
    quote_ttl: Duration = timedelta(minutes=15)
    """How long a price quote (``POST /v1/quotes``) can be turned into an order."""
    loyalty_earn_points_per_unit: int = Field(default=1, ge=0, le=1_000)
    """Loyalty points a completed, unrefunded order earns per whole unit of money paid."""
    loyalty_redeem_points_per_unit: int = Field(default=100, ge=1, le=1_000_000)
    """Loyalty points that buy one whole unit of money off an order."""
    loyalty_redeem_max_basis_points: int = Field(default=5_000, ge=0, le=10_000)
    """The largest share of an order's price that points may pay, in basis points."""
    loyalty_points_validity: Duration = timedelta(days=365)
    """How long awarded points stay spendable before they expire (oldest first)."""
    score_interval: Duration = timedelta(hours=1)
    """How often the scheduler re-runs the fraud engine when no input changed (evidence decays);
    new revealed reviews or moderators' decisions make the next tick re-run it anyway."""
    fraud_flag_threshold: float = Field(default=0.65, gt=0.5, le=1.0)
    """Fraud score from which the engine files an account in the moderation queue (above the
    cold-start 0.5 of an account nobody rated; ``service.trust.FLAG_THRESHOLD`` by default)."""
