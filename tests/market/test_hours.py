"""Business hours: schedules across time zones, DST changes, holidays, ranges past midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bonafide.errors import Rejected
from bonafide.market.hours import BusinessHours, TimeRange

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def office(zone: str = "Europe/Berlin", holidays: tuple[str, ...] = ()) -> BusinessHours:
    """Mon–Fri 09:00–17:00."""
    day = [{"start": "09:00", "end": "17:00"}]
    weekly = {name: day for name in ("mon", "tue", "wed", "thu", "fri")}
    return BusinessHours.parse(time_zone=zone, weekly=weekly, holidays=holidays)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another() -> None:
    # 2026-03-04 (a Wednesday) 15:00 UTC is 16:00 in Berlin and 10:00 in New York.
    instant = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    assert office("Europe/Berlin").is_open(instant)
    assert office("America/New_York").is_open(instant)
    # 17:00 UTC: 18:00 in Berlin (closed), 12:00 in New York (open).
    later = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    assert not office("Europe/Berlin").is_open(later)
    assert office("America/New_York").is_open(later)


def test_opening_and_closing_instants_are_half_open() -> None:
    hours = office()
    assert hours.is_open(local(BERLIN, 2026, 3, 4, 9, 0))
    assert not hours.is_open(local(BERLIN, 2026, 3, 4, 8, 59, 59))
    assert not hours.is_open(local(BERLIN, 2026, 3, 4, 17, 0))


def test_next_opening_skips_the_weekend_and_is_now_when_open() -> None:
    hours = office()
    friday_evening = local(BERLIN, 2026, 3, 6, 18, 0)
    assert hours.next_opening(friday_evening) == local(BERLIN, 2026, 3, 9, 9, 0)
    noon = local(BERLIN, 2026, 3, 4, 12, 0)
    assert hours.next_opening(noon) == noon


def test_a_holiday_is_closed_and_next_opening_skips_it() -> None:
    hours = office(holidays=("2026-12-24", "2026-12-25"))
    assert not hours.is_open(local(BERLIN, 2026, 12, 24, 10, 0))
    assert hours.next_opening(local(BERLIN, 2026, 12, 23, 18, 0)) == local(
        BERLIN, 2026, 12, 28, 9, 0
    )


def test_an_eight_hour_day_stays_eight_hours_on_both_dst_changes() -> None:
    hours = office()
    # Spring forward: Berlin goes 02:00 → 03:00 on Sunday 2026-03-29; Monday is a full day.
    monday = date(2026, 3, 30)
    start = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    end = datetime(2026, 3, 31, 0, 0, tzinfo=UTC)
    assert hours.business_time_between(start, end) == timedelta(hours=8)
    # Opening in UTC moved by the offset change: 08:00 UTC before, 07:00 UTC after.
    assert hours.next_opening(datetime(2026, 3, 27, 0, 0, tzinfo=UTC)) == datetime(
        2026, 3, 27, 8, 0, tzinfo=UTC
    )
    assert hours.next_opening(datetime(monday.year, 3, 30, 0, 0, tzinfo=UTC)) == datetime(
        2026, 3, 30, 7, 0, tzinfo=UTC
    )
    # Fall back on Sunday 2026-10-25: Monday opens at 08:00 UTC again.
    assert hours.next_opening(datetime(2026, 10, 24, 0, 0, tzinfo=UTC)) == datetime(
        2026, 10, 26, 8, 0, tzinfo=UTC
    )


def test_a_range_spanning_the_dst_change_is_an_hour_shorter_or_longer() -> None:
    night = {"sun": [{"start": "00:00", "end": "06:00"}]}
    hours = BusinessHours.parse(time_zone="Europe/Berlin", weekly=night)
    spring = hours.business_time_between(
        datetime(2026, 3, 28, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    )
    autumn = hours.business_time_between(
        datetime(2026, 10, 24, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    )
    assert spring == timedelta(hours=5)
    assert autumn == timedelta(hours=7)


def test_a_skipped_wall_time_is_read_just_after_the_gap() -> None:
    hours = BusinessHours.parse(
        time_zone="Europe/Berlin", weekly={"sun": [{"start": "02:30", "end": "04:00"}]}
    )
    # 02:30 does not exist on 2026-03-29; it reads as 03:30 CEST (01:30 UTC).
    assert hours.next_opening(datetime(2026, 3, 29, 0, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )


def test_a_range_past_midnight_belongs_to_the_day_it_starts() -> None:
    late = BusinessHours.parse(
        time_zone="America/New_York", weekly={"fri": [{"start": "22:00", "end": "26:00"}]}
    )
    assert late.is_open(local(NEW_YORK, 2026, 3, 6, 23, 0))
    assert late.is_open(local(NEW_YORK, 2026, 3, 7, 1, 59))
    assert not late.is_open(local(NEW_YORK, 2026, 3, 7, 2, 0))
    assert not late.is_open(local(NEW_YORK, 2026, 3, 6, 1, 0))
    week = late.business_time_between(
        local(NEW_YORK, 2026, 3, 2, 0, 0), local(NEW_YORK, 2026, 3, 9, 0, 0)
    )
    assert week == timedelta(hours=4)


def test_an_overnight_range_runs_on_into_a_holiday_it_started_before() -> None:
    late = BusinessHours.parse(
        time_zone="Europe/Berlin",
        weekly={
            "fri": [{"start": "22:00", "end": "26:00"}],
            "sat": [{"start": "10:00", "end": "12:00"}],
        },
        holidays=["2026-03-07"],
    )
    assert late.is_open(local(BERLIN, 2026, 3, 7, 1, 0))
    assert not late.is_open(local(BERLIN, 2026, 3, 7, 11, 0))


def test_touching_ranges_merge_and_sunday_night_runs_into_monday() -> None:
    hours = BusinessHours.parse(
        time_zone="Europe/Berlin",
        weekly={
            "sun": [{"start": "20:00", "end": "26:00"}],
            "mon": [{"start": "02:00", "end": "04:00"}],
        },
    )
    assert hours.is_open(local(BERLIN, 2026, 3, 9, 3, 0))
    assert hours.business_time_between(
        local(BERLIN, 2026, 3, 8, 0, 0), local(BERLIN, 2026, 3, 10, 0, 0)
    ) == timedelta(hours=8)


def test_business_time_counts_only_open_hours_between_two_instants() -> None:
    hours = office()
    # Wednesday 16:00 → Thursday 10:30: one hour on Wednesday, 1.5 on Thursday.
    elapsed = hours.business_time_between(
        local(BERLIN, 2026, 3, 4, 16, 0), local(BERLIN, 2026, 3, 5, 10, 30)
    )
    assert elapsed == timedelta(hours=2, minutes=30)
    assert hours.business_time_between(
        local(BERLIN, 2026, 3, 5, 10, 30), local(BERLIN, 2026, 3, 4, 16, 0)
    ) == timedelta(0)


def test_add_business_time_is_the_inverse_of_business_time_between() -> None:
    hours = office()
    start = local(BERLIN, 2026, 3, 6, 16, 0)  # Friday
    due = hours.add_business_time(start, timedelta(hours=3))
    assert due == local(BERLIN, 2026, 3, 9, 11, 0)
    assert due is not None
    assert hours.business_time_between(start, due) == timedelta(hours=3)


def test_a_schedule_without_ranges_never_opens() -> None:
    closed = BusinessHours.parse(time_zone="UTC", weekly={})
    assert closed.next_opening(datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert closed.add_business_time(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1)) is None


def test_around_the_clock_is_always_open() -> None:
    always = BusinessHours.around_the_clock()
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert always.is_open(start)
    assert always.business_time_between(start, start + timedelta(days=3)) == timedelta(days=3)


def test_the_outside_form_round_trips() -> None:
    hours = office(holidays=("2026-12-24",))
    again = BusinessHours.parse(
        time_zone=hours.to_json()["time_zone"],  # type: ignore[arg-type]
        weekly=hours.to_json()["weekly"],  # type: ignore[arg-type]
        holidays=hours.to_json()["holidays"],  # type: ignore[arg-type]
    )
    assert again == hours


@pytest.mark.parametrize(
    ("zone", "weekly", "code"),
    [
        ("Mars/Olympus_Mons", {}, "unknown_time_zone"),
        ("../../etc/passwd", {}, "unknown_time_zone"),
        ("UTC", {"mon": [{"start": "17:00", "end": "09:00"}]}, "hours_range_inverted"),
        ("UTC", {"mon": [{"start": "09:00", "end": "09:00"}]}, "hours_range_inverted"),
        ("UTC", {"mon": [{"start": "09:00", "end": "34:00"}]}, "hours_range_too_long"),
        ("UTC", {"mon": [{"start": "9", "end": "17:00"}]}, "hours_time_unreadable"),
        ("UTC", {"mon": [{"start": "24:00", "end": "25:00"}]}, "hours_time_unreadable"),
        ("UTC", {"funday": []}, "hours_weekday_unknown"),
        (
            "UTC",
            {"mon": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "17:00"}]},
            "hours_ranges_overlap",
        ),
        (
            "UTC",
            {
                "mon": [{"start": "22:00", "end": "27:00"}],
                "tue": [{"start": "02:00", "end": "05:00"}],
            },
            "hours_ranges_overlap",
        ),
        (
            "UTC",
            {
                "sun": [{"start": "22:00", "end": "27:00"}],
                "mon": [{"start": "02:00", "end": "05:00"}],
            },
            "hours_ranges_overlap",
        ),
    ],
)
def test_bad_schedules_are_refused_with_named_errors(
    zone: str, weekly: dict[str, list[dict[str, str]]], code: str
) -> None:
    with pytest.raises(Rejected) as caught:
        BusinessHours.parse(time_zone=zone, weekly=weekly)
    assert caught.value.code == code


def test_unreadable_holidays_and_naive_instants_are_refused() -> None:
    with pytest.raises(Rejected, match="holiday_unreadable"):
        office(holidays=("24.12.2026",))
    with pytest.raises(Rejected, match="time_must_have_offset"):
        office().is_open(datetime(2026, 3, 4, 12, 0))


def test_a_time_range_past_a_day_is_refused_even_when_built_directly() -> None:
    with pytest.raises(Rejected, match="hours_range_too_long"):
        TimeRange(60, 60 + 24 * 60 + 1)
