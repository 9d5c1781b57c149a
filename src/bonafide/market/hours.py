"""Business hours: a seller's weekly schedule in their own time zone, with holidays.

Owns: ``TimeRange``, ``BusinessHours`` and the questions asked of them — ``is_open(at)``,
``next_opening(after)``, ``business_time_between(start, end)`` and ``add_business_time``.
Imports: the standard library (``zoneinfo``) and ``bonafide.errors``. Pure: instants are passed in.

How a schedule reads
    Each weekday (Monday = 0) has up to ``RANGES_PER_DAY_MAX`` ranges of wall-clock time in the
    seller's zone, written ``"09:00"``–``"17:30"``. A range that runs past midnight is written with
    an end past 24:00, as timetables do: Friday ``22:00``–``26:00`` is open from Friday 22:00 to
    Saturday 02:00. An end at or before its start is an inverted range (``hours_range_inverted``);
    a range longer than a day or two ranges that overlap anywhere in the week (an overnight Sunday
    range runs into Monday) are refused (``hours_range_too_long``, ``hours_ranges_overlap``).
    Ranges that merely touch (``09:00``–``12:00`` and ``12:00``–``13:00``) are fine.

Holidays
    Dates in the seller's zone. On a holiday no range *starts*; an overnight range that began the
    evening before still runs to its end (it belongs to the day it started).

Daylight-saving changes
    Ranges are wall-clock times, so ``09:00``–``17:00`` is 8 hours on an ordinary day and also on
    the day the clocks change (unless the change falls inside the range, when it is 7 or 9). A wall
    time the clock skips (02:30 on a spring-forward night) is read with the offset in force before
    the change, which lands it just after the gap (03:30); a time that occurs twice means its first
    occurrence. All instants going in and out are aware datetimes; results are in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bonafide.errors import Rejected

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
RANGES_PER_DAY_MAX = 8
HOLIDAYS_MAX = 500
SPAN_DAYS_MAX = 800
"""Limit on the span of one ``business_time_between`` or ``add_business_time`` question."""
SEARCH_DAYS_MAX = 400
"""How far ``next_opening`` looks ahead before answering that the seller never opens."""
ZONE_NAME_LENGTH_MAX = 64

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names of the outside form, Monday first (``date.weekday()`` order)."""

_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Europe/Berlin``), or ``Rejected(unknown_time_zone)``."""
    if not isinstance(name, str) or not name or len(name) > ZONE_NAME_LENGTH_MAX:
        raise Rejected("unknown_time_zone", f"{name!r} is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: keys like "../etc/passwd" that zoneinfo refuses outright.
        raise Rejected("unknown_time_zone", f"{name!r} is not an IANA time zone name") from None


def parse_clock(text: str, *, end: bool) -> int:
    """``"09:30"`` → 570 minutes after midnight; an end may run to ``"48:00"`` (the next day)."""
    match = _CLOCK.match(text) if isinstance(text, str) else None
    hour_max = 48 if end else 23
    if not match or int(match[1]) > hour_max or int(match[2]) > 59:
        limit = "00:00 to 48:00" if end else "00:00 to 23:59"
        raise Rejected("hours_time_unreadable", f"{text!r}: write HH:MM, from {limit}")
    minutes = int(match[1]) * 60 + int(match[2])
    if minutes > 2 * MINUTES_PER_DAY:
        raise Rejected("hours_time_unreadable", f"{text!r} is past 48:00")
    return minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Open from ``start`` to ``end`` minutes after the local midnight of the day it belongs to."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < MINUTES_PER_DAY:
            raise Rejected("hours_time_unreadable", "a range starts between 00:00 and 23:59")
        if self.end <= self.start:
            raise Rejected(
                "hours_range_inverted",
                f"{format_clock(self.start)}-{format_clock(self.end)} ends before it starts; "
                "write a range past midnight with an end past 24:00 (22:00-26:00)",
            )
        if self.end - self.start > MINUTES_PER_DAY:
            raise Rejected(
                "hours_range_too_long",
                f"{format_clock(self.start)}-{format_clock(self.end)} is longer than a day",
            )

    @classmethod
    def parse(cls, start: str, end: str) -> TimeRange:
        return cls(parse_clock(start, end=False), parse_clock(end, end=True))

    def to_json(self) -> dict[str, str]:
        return {"start": format_clock(self.start), "end": format_clock(self.end)}


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """A weekly schedule (``weekly[0]`` is Monday), an IANA zone and holidays (local dates)."""

    zone_name: str
    weekly: tuple[tuple[TimeRange, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        load_zone(self.zone_name)
        assert len(self.weekly) == 7, "a week has seven days"
        for day in self.weekly:
            if len(day) > RANGES_PER_DAY_MAX:
                raise Rejected(
                    "hours_too_many_ranges", f"at most {RANGES_PER_DAY_MAX} ranges a day"
                )
        if len(self.holidays) > HOLIDAYS_MAX:
            raise Rejected("hours_too_many_holidays", f"at most {HOLIDAYS_MAX} holidays")
        _check_no_overlap(self.weekly)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def around_the_clock(cls, zone_name: str = "UTC") -> BusinessHours:
        """Always open: the reading for a seller who has not set hours (no acks, wall time)."""
        whole_day = (TimeRange(0, MINUTES_PER_DAY),)
        return cls(zone_name=zone_name, weekly=(whole_day,) * 7)

    @classmethod
    def parse(
        cls,
        *,
        time_zone: str,
        weekly: Mapping[str, Sequence[Mapping[str, str]]],
        holidays: Iterable[str] = (),
    ) -> BusinessHours:
        """Build from the outside form (``{"mon": [{"start": "09:00", "end": "17:00"}]}``)."""
        unknown = set(weekly) - set(WEEKDAYS)
        if unknown:
            raise Rejected("hours_weekday_unknown", f"{sorted(unknown)}: use {', '.join(WEEKDAYS)}")
        days: list[tuple[TimeRange, ...]] = []
        for name in WEEKDAYS:
            ranges = []
            for item in weekly.get(name, ()):
                if not isinstance(item, Mapping) or set(item) != {"start", "end"}:
                    raise Rejected("hours_time_unreadable", 'a range is {"start", "end"}')
                ranges.append(TimeRange.parse(item["start"], item["end"]))
            days.append(tuple(sorted(ranges, key=lambda r: r.start)))
        parsed_holidays = set()
        for text in holidays:
            try:
                parsed_holidays.add(date.fromisoformat(text))
            except (TypeError, ValueError):
                raise Rejected("holiday_unreadable", f"{text!r}: write YYYY-MM-DD") from None
        return cls(zone_name=time_zone, weekly=tuple(days), holidays=frozenset(parsed_holidays))

    def to_json(self) -> dict[str, object]:
        return {
            "time_zone": self.zone_name,
            "weekly": {
                WEEKDAYS[i]: [r.to_json() for r in day] for i, day in enumerate(self.weekly)
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    # --- questions ----------------------------------------------------------------------------
    def is_open(self, at: datetime) -> bool:
        """Whether the seller is open at the instant ``at``."""
        _check_aware(at)
        return any(start <= at < end for start, end in self.open_intervals(at, at))

    def next_opening(self, after: datetime) -> datetime | None:
        """The first instant at or after ``after`` when the seller is open (``after`` if open).

        ``None`` when the schedule opens nowhere in the next ``SEARCH_DAYS_MAX`` days.
        """
        _check_aware(after)
        for start, end in self._intervals(after, after + timedelta(days=SEARCH_DAYS_MAX)):
            if end > after:
                return max(start, after).astimezone(UTC)
        return None

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much of ``[start, end)`` falls inside business hours (zero if ``end <= start``)."""
        _check_aware(start)
        _check_aware(end)
        if end <= start:
            return timedelta(0)
        _check_span(start, end)
        total = timedelta(0)
        for a, b in self.open_intervals(start, end):
            total += min(b, end) - max(a, start)
        return total

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime | None:
        """The instant by which ``amount`` of business time has passed since ``start``.

        ``None`` when that is more than ``SPAN_DAYS_MAX`` days away (or the seller never opens).
        """
        _check_aware(start)
        assert amount >= timedelta(0)
        left = amount
        for a, b in self._intervals(start, start + timedelta(days=SPAN_DAYS_MAX)):
            a = max(a, start)
            if b <= a:
                continue
            if b - a >= left:
                return (a + left).astimezone(UTC)
            left -= b - a
        return None

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The merged open intervals (UTC) that meet ``[start, end]``, unclipped."""
        _check_span(start, end)
        return [(a, b) for a, b in self._intervals(start, end) if b > start and a <= end]

    def _intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Merged open intervals in time order, from the local day before ``start`` to ``end``."""
        zone = self.zone
        first = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        current: tuple[datetime, datetime] | None = None
        day = first
        while day <= last:
            if day not in self.holidays:
                for r in sorted(self.weekly[day.weekday()], key=lambda r: r.start):
                    a = _instant(day, r.start, zone)
                    b = _instant(day, r.end, zone)
                    if current is not None and a <= current[1]:
                        current = (current[0], max(current[1], b))
                        continue
                    if current is not None:
                        yield current
                    current = (a, b)
            day += timedelta(days=1)
        if current is not None:
            yield current


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``minutes`` after local midnight of ``day`` (may be > 24 h)."""
    days, minute_of_day = divmod(minutes, MINUTES_PER_DAY)
    local = datetime.combine(
        day + timedelta(days=days), time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone
    )
    return local.astimezone(UTC)


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise Rejected("time_must_have_offset", f"{at.isoformat()} has no time zone offset")


def _check_span(start: datetime, end: datetime) -> None:
    if end - start > timedelta(days=SPAN_DAYS_MAX):
        raise Rejected("hours_span_too_long", f"at most {SPAN_DAYS_MAX} days at a time")


def _check_no_overlap(weekly: Sequence[Sequence[TimeRange]]) -> None:
    """Refuse ranges that overlap anywhere in the week, including across Sunday → Monday."""
    spans: list[tuple[int, int, int]] = []
    for weekday, day in enumerate(weekly):
        for r in day:
            a, b = weekday * MINUTES_PER_DAY + r.start, weekday * MINUTES_PER_DAY + r.end
            if b > MINUTES_PER_WEEK:
                spans.append((a, MINUTES_PER_WEEK, weekday))
                spans.append((0, b - MINUTES_PER_WEEK, weekday))
            else:
                spans.append((a, b, weekday))
    spans.sort()
    for (_a1, b1, d1), (a2, _b2, d2) in pairwise(spans):
        if a2 < b1:
            raise Rejected(
                "hours_ranges_overlap",
                f"a {WEEKDAYS[d1]} range overlaps a {WEEKDAYS[d2]} range at "
                f"{WEEKDAYS[(a2 // MINUTES_PER_DAY) % 7]} {format_clock(a2 % MINUTES_PER_DAY)}",
            )
