"""Price quotes: what an order costs, as lines that add up to its total.

Owns: quote lines and their JSON form, and the quantity limits of an order. Imports: the standard
library, ``bonafide.errors`` and ``bonafide.money``. Pure.

A quote is a list of lines, each with an amount (negative for a discount), so promotions
(DESIGN.md §6) can add their lines later without changing how an order is funded: the buyer pays
``total``, the sum of the lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bonafide.errors import Rejected
from bonafide.money import Money

QUANTITY_MAX = 1_000
"""The most units one order may buy."""

LINES_MAX = 50
"""The most lines one quote may have."""


def check_quantity(quantity: object) -> int:
    """Return ``quantity`` if it is a whole number from 1 to ``QUANTITY_MAX``."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise Rejected("quantity_must_be_an_integer", f"{quantity!r} is not a whole number")
    if not 1 <= quantity <= QUANTITY_MAX:
        raise Rejected("quantity_out_of_range", f"1 to {QUANTITY_MAX}, got {quantity}")
    return quantity


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One line of a quote: ``kind`` is ``item`` today; promotions add their own kinds."""

    kind: str
    description: str
    amount: Money
    unit_price: Money | None = None
    quantity: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "unit_price": None if self.unit_price is None else self.unit_price.to_json(),
            "quantity": self.quantity,
            "amount": self.amount.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuoteLine:
        unit = data.get("unit_price")
        return cls(
            kind=str(data["kind"]),
            description=str(data["description"]),
            amount=Money.parse(data["amount"]),
            unit_price=None if unit is None else Money.parse(unit),
            quantity=data.get("quantity"),
        )


@dataclass(frozen=True, slots=True)
class Quote:
    """Lines that add up to what the buyer pays; never empty, never negative in total."""

    lines: tuple[QuoteLine, ...]

    def __post_init__(self) -> None:
        assert 1 <= len(self.lines) <= LINES_MAX, "a quote has at least one line"
        currencies = {line.amount.currency for line in self.lines}
        assert len(currencies) == 1, "a quote is in one currency"
        assert self.total.value > 0, "a quote costs something"

    @property
    def currency(self) -> str:
        return self.lines[0].amount.currency

    @property
    def total(self) -> Money:
        total = Money.zero(self.lines[0].amount.currency)
        for line in self.lines:
            total = total + line.amount
        return total

    def to_json(self) -> dict[str, Any]:
        return {"lines": [line.to_json() for line in self.lines], "total": self.total.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Quote:
        lines: Sequence[Mapping[str, Any]] = data["lines"]
        quote = cls(lines=tuple(QuoteLine.from_json(line) for line in lines))
        assert quote.total == Money.parse(data["total"]), "a stored quote must add up"
        return quote


def quote_listing(*, title: str, unit_price: Money, quantity: int) -> Quote:
    """The quote for ``quantity`` units of a listing at ``unit_price``.

    >>> quote_listing(title="Tea", unit_price=Money(450, "EUR"), quantity=3).total.value
    1350
    """
    check_quantity(quantity)
    if unit_price.value <= 0:
        raise Rejected("listing_price_must_be_positive", f"{unit_price} cannot be sold")
    amount = unit_price * quantity  # Money refuses anything past VALUE_MAX (amount_exceeds_maximum)
    return Quote(
        lines=(
            QuoteLine(
                kind="item",
                description=title,
                unit_price=unit_price,
                quantity=quantity,
                amount=amount,
            ),
        )
    )
