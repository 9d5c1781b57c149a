"""Service figures per seller over a rolling window, and the service tier (badge) they earn.

Owns: the definitions of every customer-service figure, the 7 × 24 heat map and the tier
thresholds. Imports: the standard library, ``bonafide.errors`` and ``bonafide.market`` (hours,
support). Pure: the service layer gathers the records, ``now`` is passed in.

Definitions (window ``W = [now - 90 days, now)``; every duration is whole seconds, rounded down;
each duration figure also comes "in business hours", measured with the seller's schedule)

first response
    For each thread whose first buyer message falls in ``W``: the time from that message to the
    seller's first message after it. Automatic acknowledgements never count as replies. Median and
    p90 over answered threads, by nearest rank (the value at rank ``ceil(p / 100 * n)`` of the
    sorted list: no interpolation, always an observed value; the median of 4 values is the 2nd).
answered within 24 h
    Threads answered within 24 h (24 business hours for the business figure) over threads that are
    answered or have waited at least that long: a thread still inside its first 24 h unanswered is
    not yet decided and counts in neither.
after-hours coverage
    Buyer messages in ``W`` sent outside business hours that the seller answered (a seller message
    in the same thread after it) within 4 h (4 business hours for the business figure), over such
    messages that are answered or have waited that long.
heat map
    For every buyer message in ``W``, its response time (to the seller's next message in the
    thread), grouped by the hour of the week of the buyer's message in the seller's zone: 7 rows
    (Monday first) × 24 columns, each with the number answered, the number unanswered and the
    median response (wall clock and business hours).
dispute resolution
    Disputes resolved in ``W``: time from opening to resolution (median, p90); open disputes are
    counted apart.
order rates
    Over orders placed in ``W``: refunded (any refund), disputed, and defective (refunded,
    disputed, or cancelled because the seller did not ship) — each as a share.
CSAT
    Ratings given in ``W``: count, mean (exact fraction, shown to two decimals) and the share of
    4s and 5s.

Tiers (``TierThresholds``; each criterion without data is skipped, and says so)
    ``new``: fewer than ``orders_min`` orders in ``W`` — not enough evidence either way.
    ``below_standard``: within-24 h share under 60 %, dispute rate over 5 %, defect rate over
    10 % or CSAT mean under 3.0.
    ``top``: business-hours median first response at most 2 h, within-24 h share at least 95 %,
    after-hours coverage at least 50 %, dispute rate at most 1 %, defect rate at most 2 %, CSAT mean
    at least 4.5.
    ``good``: business-hours median at most 8 h, within-24 h at least 85 %, dispute rate at most
    3 %, defect rate at most 5 %, CSAT mean at least 4.0.
    ``standard``: everyone else. The first of below_standard, top, good that matches wins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from bonafide.market.hours import SPAN_DAYS_MAX, BusinessHours
from bonafide.market.support import Message, Role, Thread

WINDOW = timedelta(days=90)
ANSWER_WITHIN = timedelta(hours=24)
AFTER_HOURS_WITHIN = timedelta(hours=4)


@dataclass(frozen=True, slots=True)
class Ratio:
    """An exact share: ``numerator`` of ``denominator`` (``None`` as a value when 0 of 0)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else round(self.numerator / self.denominator, 4)

    def at_least(self, percent: int) -> bool:
        return self.numerator * 100 >= percent * self.denominator

    def above(self, percent: int) -> bool:
        return self.numerator * 100 > percent * self.denominator

    def to_json(self) -> dict[str, object]:
        return {"numerator": self.numerator, "denominator": self.denominator, "share": self.value}


@dataclass(frozen=True, slots=True)
class Durations:
    """Nearest-rank median and p90 of whole-second durations, and how many there were."""

    count: int
    median_seconds: int | None
    p90_seconds: int | None

    @classmethod
    def of(cls, seconds: Sequence[int]) -> Durations:
        ordered = sorted(seconds)
        return cls(len(ordered), nearest_rank(ordered, 50), nearest_rank(ordered, 90))

    def to_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


def nearest_rank(ordered: Sequence[int], percent: int) -> int | None:
    """The ``percent``-th percentile of sorted ``ordered`` by nearest rank; ``None`` if empty.

    >>> nearest_rank([10, 20, 30, 40], 50), nearest_rank([10, 20, 30, 40], 90)
    (20, 40)
    """
    if not ordered:
        return None
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    thread: Thread
    messages: Sequence[Message]


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    placed_at: datetime
    refunded: bool
    disputed: bool
    defect: bool


@dataclass(frozen=True, slots=True)
class HeatCell:
    answered: int
    unanswered: int
    median_seconds: int | None
    median_business_seconds: int | None

    def to_json(self) -> dict[str, object]:
        return {
            "answered": self.answered,
            "unanswered": self.unanswered,
            "median_seconds": self.median_seconds,
            "median_business_seconds": self.median_business_seconds,
        }


@dataclass(frozen=True, slots=True)
class Csat:
    count: int
    total: int
    satisfied: int

    @property
    def mean(self) -> Fraction | None:
        return None if self.count == 0 else Fraction(self.total, self.count)

    def to_json(self) -> dict[str, object]:
        mean = self.mean
        return {
            "count": self.count,
            "mean": None if mean is None else round(float(mean), 2),
            "satisfied": Ratio(self.satisfied, self.count).to_json(),
        }


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    window_start: datetime
    window_end: datetime
    threads: int
    first_response: Durations
    first_response_business: Durations
    answered_within_24h: Ratio
    answered_within_24h_business: Ratio
    after_hours_coverage: Ratio
    after_hours_coverage_business: Ratio
    heat_map: tuple[tuple[HeatCell, ...], ...]
    dispute_resolution: Durations
    dispute_resolution_business: Durations
    disputes_open: int
    orders: int
    refund_rate: Ratio
    dispute_rate: Ratio
    defect_rate: Ratio
    csat: Csat

    def to_json(self) -> dict[str, object]:
        return {
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "threads": self.threads,
            "first_response": self.first_response.to_json(),
            "first_response_business": self.first_response_business.to_json(),
            "answered_within_24h": self.answered_within_24h.to_json(),
            "answered_within_24h_business": self.answered_within_24h_business.to_json(),
            "after_hours_coverage": self.after_hours_coverage.to_json(),
            "after_hours_coverage_business": self.after_hours_coverage_business.to_json(),
            "dispute_resolution": self.dispute_resolution.to_json(),
            "dispute_resolution_business": self.dispute_resolution_business.to_json(),
            "disputes_open": self.disputes_open,
            "orders": self.orders,
            "refund_rate": self.refund_rate.to_json(),
            "dispute_rate": self.dispute_rate.to_json(),
            "defect_rate": self.defect_rate.to_json(),
            "csat": self.csat.to_json(),
        }

    def heat_map_json(self) -> list[list[dict[str, object]]]:
        return [[cell.to_json() for cell in row] for row in self.heat_map]


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def _buyer_messages(messages: Iterable[Message]) -> list[Message]:
    return sorted((m for m in messages if m.role is Role.BUYER), key=lambda m: m.sent_at)


def _reply_to(message: Message, messages: Sequence[Message]) -> Message | None:
    """The seller's first (non-automatic) message at or after ``message``."""
    replies = [m for m in messages if m.role is Role.SELLER and m.sent_at >= message.sent_at]
    return min(replies, key=lambda m: m.sent_at, default=None)


@dataclass
class _Tally:
    """Counts one "answered within a limit" share, wall clock and business hours together."""

    hours: BusinessHours
    now: datetime
    limit: timedelta
    wall: list[int] = field(default_factory=lambda: [0, 0])
    business: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, asked: datetime, answered: datetime | None) -> None:
        end = answered if answered is not None else self.now
        wall = end - asked
        business = self.hours.business_time_between(asked, end)
        for counts, waited in ((self.wall, wall), (self.business, business)):
            if answered is not None and waited <= self.limit:
                counts[0] += 1
                counts[1] += 1
            elif waited >= self.limit:  # answered late, or unanswered for at least the limit
                counts[1] += 1

    def ratios(self) -> tuple[Ratio, Ratio]:
        return Ratio(*self.wall), Ratio(*self.business)


@dataclass
class _Threads:
    """What one pass over the threads gathers (first responses, shares, heat-map cells)."""

    hours: BusinessHours
    now: datetime
    start: datetime
    counted: int = 0
    first_wall: list[int] = field(default_factory=list)
    first_business: list[int] = field(default_factory=list)
    within_24h: _Tally | None = None
    after_hours: _Tally | None = None
    cells: list[list[tuple[list[int], list[int], list[int]]]] = field(
        default_factory=lambda: [[([], [], [0]) for _ in range(24)] for _ in range(7)]
    )

    def __post_init__(self) -> None:
        self.within_24h = _Tally(hours=self.hours, now=self.now, limit=ANSWER_WITHIN)
        self.after_hours = _Tally(hours=self.hours, now=self.now, limit=AFTER_HOURS_WITHIN)

    def inside(self, at: datetime) -> bool:
        return self.start <= at < self.now

    def add(self, record: ThreadRecord) -> None:
        assert self.within_24h is not None and self.after_hours is not None
        messages = [m for m in record.messages if m.sent_at < self.now]
        buyer = _buyer_messages(messages)
        if buyer and self.inside(buyer[0].sent_at):
            self.counted += 1
            first = buyer[0].sent_at
            reply = _reply_to(buyer[0], messages)
            self.within_24h.add(first, None if reply is None else reply.sent_at)
            if reply is not None:
                self.first_wall.append(_seconds(reply.sent_at - first))
                self.first_business.append(_business_seconds(self.hours, first, reply.sent_at))
        zone = self.hours.zone
        for message in (m for m in buyer if self.inside(m.sent_at)):
            reply = _reply_to(message, messages)
            replied_at = None if reply is None else reply.sent_at
            if not self.hours.is_open(message.sent_at):
                self.after_hours.add(message.sent_at, replied_at)
            local = message.sent_at.astimezone(zone)
            wall, business, unanswered = self.cells[local.weekday()][local.hour]
            if replied_at is None:
                unanswered[0] += 1
            else:
                wall.append(_seconds(replied_at - message.sent_at))
                business.append(_business_seconds(self.hours, message.sent_at, replied_at))

    def heat_map(self) -> tuple[tuple[HeatCell, ...], ...]:
        return tuple(
            tuple(
                HeatCell(
                    answered=len(wall),
                    unanswered=unanswered[0],
                    median_seconds=nearest_rank(sorted(wall), 50),
                    median_business_seconds=nearest_rank(sorted(business), 50),
                )
                for wall, business, unanswered in row
            )
            for row in self.cells
        )


def _business_seconds(hours: BusinessHours, start: datetime, end: datetime) -> int:
    """Business seconds in ``[start, end)``, counting at most the last ``SPAN_DAYS_MAX`` days
    (a dispute open for years still gets a figure instead of an error)."""
    start = max(start, end - timedelta(days=SPAN_DAYS_MAX))
    return _seconds(hours.business_time_between(start, end))


def compute_figures(
    *,
    threads: Sequence[ThreadRecord],
    disputes: Sequence[DisputeRecord],
    orders: Sequence[OrderRecord],
    hours: BusinessHours,
    now: datetime,
    window: timedelta = WINDOW,
) -> ServiceFigures:
    """Every figure of the module docstring for one seller, as of ``now``."""
    tally = _Threads(hours=hours, now=now, start=now - window)
    for record in threads:
        tally.add(record)
    assert tally.within_24h is not None and tally.after_hours is not None
    resolved = [
        (d.opened_at, d.resolved_at)
        for d in disputes
        if d.resolved_at is not None and tally.inside(d.resolved_at)
    ]
    placed = [o for o in orders if tally.inside(o.placed_at)]
    ratings = [
        r.thread.csat
        for r in threads
        if r.thread.csat is not None
        and r.thread.csat_at is not None
        and tally.inside(r.thread.csat_at)
    ]
    within, within_business = tally.within_24h.ratios()
    coverage, coverage_business = tally.after_hours.ratios()
    return ServiceFigures(
        window_start=tally.start,
        window_end=now,
        threads=tally.counted,
        first_response=Durations.of(tally.first_wall),
        first_response_business=Durations.of(tally.first_business),
        answered_within_24h=within,
        answered_within_24h_business=within_business,
        after_hours_coverage=coverage,
        after_hours_coverage_business=coverage_business,
        heat_map=tally.heat_map(),
        dispute_resolution=Durations.of([_seconds(b - a) for a, b in resolved]),
        dispute_resolution_business=Durations.of(
            [_business_seconds(hours, a, b) for a, b in resolved]
        ),
        disputes_open=sum(1 for d in disputes if d.resolved_at is None or d.resolved_at >= now),
        orders=len(placed),
        refund_rate=Ratio(sum(o.refunded for o in placed), len(placed)),
        dispute_rate=Ratio(sum(o.disputed for o in placed), len(placed)),
        defect_rate=Ratio(sum(o.defect for o in placed), len(placed)),
        csat=Csat(
            count=len(ratings), total=sum(ratings), satisfied=sum(1 for r in ratings if r >= 4)
        ),
    )


# --- tiers -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierThresholds:
    """The documented thresholds (percentages are whole percent, durations business time)."""

    orders_min: int = 10
    top_median_first_response: timedelta = timedelta(hours=2)
    top_within_24h_percent: int = 95
    top_after_hours_percent: int = 50
    top_dispute_percent_max: int = 1
    top_defect_percent_max: int = 2
    top_csat_min: Fraction = Fraction(9, 2)
    good_median_first_response: timedelta = timedelta(hours=8)
    good_within_24h_percent: int = 85
    good_dispute_percent_max: int = 3
    good_defect_percent_max: int = 5
    good_csat_min: Fraction = Fraction(4)
    below_within_24h_percent: int = 60
    below_dispute_percent_max: int = 5
    below_defect_percent_max: int = 10
    below_csat_min: Fraction = Fraction(3)


TIERS = ("new", "below_standard", "standard", "good", "top")
BADGES = {
    "new": "New seller",
    "below_standard": "Below standard",
    "standard": "Standard service",
    "good": "Responsive seller",
    "top": "Top service",
}


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    badge: str
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "badge": self.badge, "reasons": list(self.reasons)}


Check = tuple[str, bool | None]
"""A criterion's description and whether it holds (``None``: no data, skipped)."""


def _criteria(
    figures: ServiceFigures,
    *,
    median: timedelta,
    within: int,
    dispute: int,
    defect: int,
    csat: Fraction,
    after_hours: int | None,
) -> list[Check]:
    first = figures.first_response_business.median_seconds
    mean = figures.csat.mean
    checks: list[Check] = [
        (
            f"median first response within {int(median.total_seconds() // 3600)} business hours",
            None if first is None else first <= median.total_seconds(),
        ),
        (
            f"at least {within}% answered within 24 h",
            _ratio_at_least(figures.answered_within_24h, within),
        ),
        (f"dispute rate at most {dispute}%", _ratio_at_most(figures.dispute_rate, dispute)),
        (f"defect rate at most {defect}%", _ratio_at_most(figures.defect_rate, defect)),
        (f"CSAT at least {float(csat):.1f}", None if mean is None else mean >= csat),
    ]
    if after_hours is not None:
        checks.append(
            (
                f"at least {after_hours}% of after-hours messages answered within 4 h",
                _ratio_at_least(figures.after_hours_coverage, after_hours),
            )
        )
    return checks


def _ratio_at_least(ratio: Ratio, percent: int) -> bool | None:
    return None if ratio.denominator == 0 else ratio.at_least(percent)


def _ratio_at_most(ratio: Ratio, percent: int) -> bool | None:
    return None if ratio.denominator == 0 else not ratio.above(percent)


def _explain(checks: Iterable[Check]) -> list[str]:
    return [
        f"{text}: {'no data' if holds is None else ('met' if holds else 'missed')}"
        for text, holds in checks
    ]


def service_tier(figures: ServiceFigures, thresholds: TierThresholds | None = None) -> Tier:
    """The tier ``figures`` earn under ``thresholds`` (the documented defaults), with reasons."""
    t = thresholds or TierThresholds()
    if figures.orders < t.orders_min:
        return _tier("new", [f"{figures.orders} orders in 90 days; a tier needs {t.orders_min}"])
    within = figures.answered_within_24h
    mean = figures.csat.mean
    below: list[Check] = [
        (
            f"under {t.below_within_24h_percent}% answered within 24 h",
            None if within.denominator == 0 else not within.at_least(t.below_within_24h_percent),
        ),
        (
            f"dispute rate over {t.below_dispute_percent_max}%",
            _negate(_ratio_at_most(figures.dispute_rate, t.below_dispute_percent_max)),
        ),
        (
            f"defect rate over {t.below_defect_percent_max}%",
            _negate(_ratio_at_most(figures.defect_rate, t.below_defect_percent_max)),
        ),
        (
            f"CSAT under {float(t.below_csat_min):.1f}",
            None if mean is None else mean < t.below_csat_min,
        ),
    ]
    if any(holds for _, holds in below):
        return _tier("below_standard", [text for text, holds in below if holds])
    top = _criteria(
        figures,
        median=t.top_median_first_response,
        within=t.top_within_24h_percent,
        dispute=t.top_dispute_percent_max,
        defect=t.top_defect_percent_max,
        csat=t.top_csat_min,
        after_hours=t.top_after_hours_percent,
    )
    if all(holds is not False for _, holds in top):
        return _tier("top", _explain(top))
    good = _criteria(
        figures,
        median=t.good_median_first_response,
        within=t.good_within_24h_percent,
        dispute=t.good_dispute_percent_max,
        defect=t.good_defect_percent_max,
        csat=t.good_csat_min,
        after_hours=None,
    )
    if all(holds is not False for _, holds in good):
        missed = [f"not top: {text}" for text, holds in top if holds is False]
        return _tier("good", missed + _explain(good))
    return _tier("standard", [f"not good: {text}" for text, holds in good if holds is False])


def _negate(holds: bool | None) -> bool | None:
    return None if holds is None else not holds


def _tier(name: str, reasons: Sequence[str]) -> Tier:
    return Tier(name=name, badge=BADGES[name], reasons=tuple(reasons))
