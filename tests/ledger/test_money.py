"""Money refuses what is not an exact amount, and split never creates or loses a unit."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bonafide.errors import Rejected
from bonafide.money import (
    MINOR_UNITS,
    VALUE_MAX,
    Money,
    Rounding,
    check_value,
    percent_of,
    split,
)


@pytest.mark.parametrize("value", [19.99, 1.0, 0.0, math.nan, math.inf, -math.inf])
def test_floats_are_refused_with_a_named_error(value: float) -> None:
    with pytest.raises(Rejected) as caught:
        Money(value, "EUR")  # type: ignore[arg-type]
    assert caught.value.code == "amount_must_be_integer_minor_units"


def test_nan_is_refused_when_parsed_from_json() -> None:
    with pytest.raises(Rejected) as caught:
        Money.parse({"value": float("nan"), "currency": "EUR"})
    assert caught.value.code == "amount_must_be_integer_minor_units"


@pytest.mark.parametrize("value", [True, False, "100", None, b"1"])
def test_booleans_strings_and_none_are_not_amounts(value: object) -> None:
    with pytest.raises(Rejected) as caught:
        Money(value, "EUR")  # type: ignore[arg-type]
    assert caught.value.code == "amount_must_be_integer_minor_units"


@pytest.mark.parametrize("value", [VALUE_MAX + 1, -VALUE_MAX - 1, 10**30])
def test_amounts_past_value_max_overflow(value: int) -> None:
    with pytest.raises(Rejected) as caught:
        Money(value, "EUR")
    assert caught.value.code == "amount_exceeds_maximum"


def test_value_max_itself_is_accepted_and_adding_past_it_is_refused() -> None:
    top = Money(VALUE_MAX, "EUR")
    with pytest.raises(Rejected) as caught:
        top + Money(1, "EUR")
    assert caught.value.code == "amount_exceeds_maximum"


@pytest.mark.parametrize("currency", ["EURO", "eur", "XXX", "", None, 978])
def test_unknown_currencies_are_refused(currency: object) -> None:
    with pytest.raises(Rejected) as caught:
        Money(100, currency)  # type: ignore[arg-type]
    assert caught.value.code == "unknown_currency"


def test_mixing_currencies_is_refused() -> None:
    with pytest.raises(Rejected) as caught:
        Money(1, "EUR") + Money(1, "USD")
    assert caught.value.code == "currencies_must_match"


def test_positive_check_refuses_zero_and_negative() -> None:
    for value in (0, -1):
        with pytest.raises(Rejected) as caught:
            check_value(value, positive=True)
        assert caught.value.code == "amount_must_be_positive"


def test_parse_reads_the_json_contract_form_and_nothing_else() -> None:
    assert Money.parse({"value": 1999, "currency": "EUR"}) == Money(1999, "EUR")
    for bad in ({"value": 1}, {"value": 1, "currency": "EUR", "x": 1}, [1999, "EUR"], "19.99"):
        with pytest.raises(Rejected) as caught:
            Money.parse(bad)
        assert caught.value.code == "money_must_be_value_and_currency"


def test_minor_units_follow_iso_4217() -> None:
    assert (MINOR_UNITS["EUR"], MINOR_UNITS["JPY"], MINOR_UNITS["KWD"]) == (2, 0, 3)
    assert Money(1999, "EUR").format() == "19.99 EUR"
    assert Money(-5, "JPY").format() == "-5 JPY"


def test_largest_remainder_gives_the_leftover_units_to_the_largest_remainders() -> None:
    parts = split(Money(1000, "EUR"), [1, 1, 1], rounding=Rounding.LARGEST_REMAINDER)
    assert [p.value for p in parts] == [334, 333, 333]
    parts = split(Money(100, "EUR"), [1, 2, 2], rounding=Rounding.LARGEST_REMAINDER)
    assert [p.value for p in parts] == [20, 40, 40]
    parts = split(Money(10, "EUR"), [1, 2], rounding=Rounding.LARGEST_REMAINDER)
    assert [p.value for p in parts] == [3, 7]  # 3.33 and 6.67: the 0.67 remainder wins


def test_remainder_to_first_gives_every_leftover_unit_to_the_first_part() -> None:
    parts = split(Money(1999, "EUR"), [9_500, 500], rounding=Rounding.REMAINDER_TO_FIRST)
    assert [p.value for p in parts] == [1900, 99]
    parts = split(Money(10, "EUR"), [1, 1, 1], rounding=Rounding.REMAINDER_TO_FIRST)
    assert [p.value for p in parts] == [4, 3, 3]


def test_percent_of_is_the_second_part_of_the_split() -> None:
    fee = percent_of(Money(1999, "EUR"), basis_points=500, rounding=Rounding.REMAINDER_TO_FIRST)
    assert fee == Money(99, "EUR")
    with pytest.raises(Rejected) as caught:
        percent_of(Money(1, "EUR"), basis_points=10_001, rounding=Rounding.LARGEST_REMAINDER)
    assert caught.value.code == "basis_points_out_of_range"


@pytest.mark.parametrize(
    ("shares", "code"),
    [([], "shares_count_out_of_range"), ([0, 0], "shares_must_not_all_be_zero"),
     ([1, -1], "shares_must_be_non_negative_integers"),
     ([1.5], "shares_must_be_non_negative_integers"),
     ([True], "shares_must_be_non_negative_integers")],
)
def test_bad_shares_are_refused_by_name(shares: list[int], code: str) -> None:
    with pytest.raises(Rejected) as caught:
        split(Money(100, "EUR"), shares, rounding=Rounding.LARGEST_REMAINDER)
    assert caught.value.code == code


@given(
    value=st.integers(min_value=-VALUE_MAX, max_value=VALUE_MAX),
    shares=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
        any
    ),
    rounding=st.sampled_from(list(Rounding)),
)
def test_split_sums_exactly_and_each_part_is_within_one_unit_of_its_share(
    value: int, shares: list[int], rounding: Rounding
) -> None:
    parts = split(Money(value, "EUR"), shares, rounding=rounding)
    assert sum(p.value for p in parts) == value
    assert all(p.currency == "EUR" for p in parts)
    total = sum(shares)
    for i, (part, share) in enumerate(zip(parts, shares, strict=True)):
        exact_abs = abs(value) * share / total
        slack = len(shares) if (rounding is Rounding.REMAINDER_TO_FIRST and i == 0) else 1
        assert abs(abs(part.value) - exact_abs) <= slack + 1e-6 * max(1.0, exact_abs)
        assert part.value == 0 or (part.value > 0) == (value > 0)
