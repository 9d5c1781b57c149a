"""Price quotes: lines that add up, quantity limits, and their JSON round trip."""

from __future__ import annotations

import pytest

from bonafide.errors import Rejected
from bonafide.market.quotes import QUANTITY_MAX, Quote, quote_listing
from bonafide.money import VALUE_MAX, Money


def test_a_quote_is_unit_price_times_quantity() -> None:
    quote = quote_listing(title="Tea", unit_price=Money(450, "EUR"), quantity=3)
    assert quote.total == Money(1350, "EUR")
    assert [line.kind for line in quote.lines] == ["item"]


def test_a_quote_survives_its_json_form() -> None:
    quote = quote_listing(title="Tea", unit_price=Money(450, "EUR"), quantity=3)
    assert Quote.from_json(quote.to_json()) == quote


@pytest.mark.parametrize(
    ("quantity", "code"),
    [
        (0, "quantity_out_of_range"),
        (-3, "quantity_out_of_range"),
        (QUANTITY_MAX + 1, "quantity_out_of_range"),
        (1.5, "quantity_must_be_an_integer"),
        (True, "quantity_must_be_an_integer"),
        ("2", "quantity_must_be_an_integer"),
    ],
)
def test_bad_quantities_are_rejected(quantity: object, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        quote_listing(title="Tea", unit_price=Money(450, "EUR"), quantity=quantity)  # type: ignore[arg-type]
    assert caught.value.code == code


def test_a_total_past_the_largest_amount_is_rejected() -> None:
    with pytest.raises(Rejected) as caught:
        quote_listing(title="Gold", unit_price=Money(VALUE_MAX // 2, "EUR"), quantity=3)
    assert caught.value.code == "amount_exceeds_maximum"
