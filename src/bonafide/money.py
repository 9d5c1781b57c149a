"""Money: an integer amount of minor units in an ISO 4217 currency, and the one way to split it.

Owns: currencies and their minor units, parsing of amounts from the outside, and ``split``.
Imports: the standard library and ``bonafide.errors``.

There are no floats here, on purpose: ``Money.parse`` refuses them (a float cannot say 0.1 exactly,
and JSON numbers that look like floats are how rounding errors enter a ledger).

Amounts are bounded by ``VALUE_MAX`` (2**53 - 1) so that every value survives a round trip through
JavaScript and any JSON parser that reads numbers as doubles, and so that sums of a few million of
them still fit in a signed 64-bit database column.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bonafide.errors import Rejected

VALUE_MAX = 2**53 - 1
"""The largest absolute amount, in minor units, that the system accepts."""

# ISO 4217 active codes and their minor units (exponents). Funds codes and precious metals are
# left out: nobody escrows a troy ounce of gold through this ledger.
_ISO_4217 = """
AED 2 AFN 2 ALL 2 AMD 2 ANG 2 AOA 2 ARS 2 AUD 2 AWG 2 AZN 2 BAM 2 BBD 2 BDT 2 BGN 2 BHD 3 BIF 0
BMD 2 BND 2 BOB 2 BRL 2 BSD 2 BTN 2 BWP 2 BYN 2 BZD 2 CAD 2 CDF 2 CHF 2 CLP 0 CNY 2 COP 2 CRC 2
CUP 2 CVE 2 CZK 2 DJF 0 DKK 2 DOP 2 DZD 2 EGP 2 ERN 2 ETB 2 EUR 2 FJD 2 FKP 2 GBP 2 GEL 2 GHS 2
GIP 2 GMD 2 GNF 0 GTQ 2 GYD 2 HKD 2 HNL 2 HTG 2 HUF 2 IDR 2 ILS 2 INR 2 IQD 3 IRR 2 ISK 0 JMD 2
JOD 3 JPY 0 KES 2 KGS 2 KHR 2 KMF 0 KPW 2 KRW 0 KWD 3 KYD 2 KZT 2 LAK 2 LBP 2 LKR 2 LRD 2 LSL 2
LYD 3 MAD 2 MDL 2 MGA 2 MKD 2 MMK 2 MNT 2 MOP 2 MRU 2 MUR 2 MVR 2 MWK 2 MXN 2 MYR 2 MZN 2 NAD 2
NGN 2 NIO 2 NOK 2 NPR 2 NZD 2 OMR 3 PAB 2 PEN 2 PGK 2 PHP 2 PKR 2 PLN 2 PYG 0 QAR 2 RON 2 RSD 2
RUB 2 RWF 0 SAR 2 SBD 2 SCR 2 SDG 2 SEK 2 SGD 2 SHP 2 SLE 2 SOS 2 SRD 2 SSP 2 STN 2 SVC 2 SYP 2
SZL 2 THB 2 TJS 2 TMT 2 TND 3 TOP 2 TRY 2 TTD 2 TWD 2 TZS 2 UAH 2 UGX 0 USD 2 UYU 2 UYW 4 UZS 2
VES 2 VND 0 VUV 0 WST 2 XAF 0 XCD 2 XOF 0 XPF 0 YER 2 ZAR 2 ZMW 2 ZWG 2
"""

POINTS = "XLP"
"""bonafide's loyalty-point unit. ISO 4217 keeps codes starting with X for units outside any
country; points are whole (no minor unit) and live in the ledger like any currency, so the
zero-sum invariant covers them too."""

MINOR_UNITS: dict[str, int] = {
    code: int(digits)
    for code, digits in zip(_ISO_4217.split()[::2], _ISO_4217.split()[1::2], strict=True)
}
MINOR_UNITS[POINTS] = 0


def check_currency(currency: object) -> str:
    """Return ``currency`` if it is a known code, else raise ``Rejected(unknown_currency)``."""
    if not isinstance(currency, str) or currency not in MINOR_UNITS:
        raise Rejected("unknown_currency", f"{currency!r} is not a supported ISO 4217 code")
    return currency


def check_value(value: object, *, positive: bool = False) -> int:
    """Return ``value`` as a bounded integer of minor units, refusing floats and booleans."""
    # bool is an int subclass; True is not an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float):
            raise Rejected(
                "amount_must_be_integer_minor_units",
                f"{value!r} is a float; amounts are integers in minor units (1999 for 19.99)",
            )
        raise Rejected("amount_must_be_integer_minor_units", f"{value!r} is not an integer")
    if abs(value) > VALUE_MAX:
        raise Rejected("amount_exceeds_maximum", f"|{value}| exceeds {VALUE_MAX}")
    if positive and value <= 0:
        raise Rejected("amount_must_be_positive", f"{value} is not greater than zero")
    return value


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An integer number of minor units of one currency: ``Money(1999, "EUR")`` is €19.99.

    Arithmetic is defined only between amounts of the same currency; mixing raises
    ``Rejected(currencies_must_match)``.
    """

    value: int
    currency: str

    def __post_init__(self) -> None:
        check_value(self.value)
        check_currency(self.currency)

    # --- construction from the outside -------------------------------------------------------
    @classmethod
    def parse(cls, data: Any) -> Money:
        """Build from the JSON contract form ``{"value": 1999, "currency": "EUR"}``."""
        if not isinstance(data, dict) or set(data) != {"value", "currency"}:
            raise Rejected(
                "money_must_be_value_and_currency",
                'money is an object {"value": <integer minor units>, "currency": "<ISO 4217>"}',
            )
        return cls(check_value(data["value"]), check_currency(data["currency"]))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def to_json(self) -> dict[str, int | str]:
        return {"value": self.value, "currency": self.currency}

    # --- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise Rejected(
                "currencies_must_match", f"{self.currency} and {other.currency} do not mix"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.value + other.value, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.value - other.value, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.value, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money multiplies by integers only; use split() for fractions")
        return Money(self.value * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.value < other.value

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.value <= other.value

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.value > other.value

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.value >= other.value

    def format(self) -> str:
        """Human form, ``19.99 EUR``; for display only, never parsed back."""
        digits = MINOR_UNITS[self.currency]
        sign = "-" if self.value < 0 else ""
        whole, frac = divmod(abs(self.value), 10**digits)
        return f"{sign}{whole}.{frac:0{digits}d} {self.currency}" if digits else (
            f"{sign}{whole} {self.currency}"
        )

    def __str__(self) -> str:
        return self.format()


class Rounding(enum.Enum):
    """How ``split`` deals with the minor units that do not divide evenly.

    LARGEST_REMAINDER
        Each part gets the floor of its exact share; the units left over go one each to the parts
        with the largest fractional remainders (ties to the earlier part). The parts always add up
        to the whole, and no part is more than one unit from its exact share (Hamilton's method).
    REMAINDER_TO_FIRST
        Each part gets the floor of its exact share and the first part takes everything left over.
        Use it when one named party (say, the seller, listed first) must absorb rounding.
    """

    LARGEST_REMAINDER = "largest_remainder"
    REMAINDER_TO_FIRST = "remainder_to_first"


SHARES_MAX = 1_000
"""Limit on the number of parts of one split."""


def split(amount: Money, shares: Sequence[int], *, rounding: Rounding) -> list[Money]:
    """Split ``amount`` into parts proportional to integer ``shares``; the parts sum to it exactly.

    Parameters
    ----------
    amount
        What to split; may be negative (each part then carries the sign).
    shares
        Non-negative integer weights, at least one of them positive (basis points work well:
        ``[9_500, 500]`` for a 5 % fee).
    rounding
        Where the remainder goes; see ``Rounding``. Named on every call, so nobody splits money
        without deciding.

    Examples
    --------
    >>> thirds = split(Money(1000, "EUR"), [1, 1, 1], rounding=Rounding.LARGEST_REMAINDER)
    >>> [m.value for m in thirds]
    [334, 333, 333]
    >>> fee_split = split(Money(1999, "EUR"), [9500, 500], rounding=Rounding.REMAINDER_TO_FIRST)
    >>> [m.value for m in fee_split]
    [1900, 99]
    """
    if not shares or len(shares) > SHARES_MAX:
        raise Rejected("shares_count_out_of_range", f"1 to {SHARES_MAX} shares, got {len(shares)}")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in shares):
        raise Rejected("shares_must_be_non_negative_integers", f"{list(shares)!r}")
    total_shares = sum(shares)
    if total_shares == 0:
        raise Rejected("shares_must_not_all_be_zero", "at least one share must be positive")
    sign = -1 if amount.value < 0 else 1
    whole = abs(amount.value)
    floors = [whole * s // total_shares for s in shares]
    left = whole - sum(floors)
    if rounding is Rounding.REMAINDER_TO_FIRST:
        floors[0] += left
    else:
        remainders = [whole * s % total_shares for s in shares]
        # Sort by remainder descending, index ascending; the first `left` parts get one unit.
        order = sorted(range(len(shares)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            floors[i] += 1
    parts = [Money(sign * v, amount.currency) for v in floors]
    assert sum(p.value for p in parts) == amount.value, "a split must never create or lose money"
    return parts


def percent_of(amount: Money, *, basis_points: int, rounding: Rounding) -> Money:
    """``basis_points`` / 10 000 of ``amount`` (a fee or a discount), rounded as named.

    The result is the second part of ``split(amount, [10_000 - bp, bp])``, so it and the rest
    always add up to ``amount``. With REMAINDER_TO_FIRST the percentage part is rounded down.
    """
    if isinstance(basis_points, bool) or not isinstance(basis_points, int) or not (
        0 <= basis_points <= 10_000
    ):
        raise Rejected("basis_points_out_of_range", f"0 to 10000, got {basis_points!r}")
    return split(amount, [10_000 - basis_points, basis_points], rounding=rounding)[1]

