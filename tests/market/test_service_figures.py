"""Service figures on a hand-worked set of threads, disputes and orders, and the tiers.

The seller works Mon–Fri 09:00–17:00 in Berlin (CET all through: the window ends before the
March change). ``now`` is Monday 2026-03-16 12:00. Every expected value below is worked by hand
in the comments.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from bonafide.market.hours import BusinessHours
from bonafide.market.service_figures import (
    DisputeRecord,
    OrderRecord,
    Ratio,
    ServiceFigures,
    ThreadRecord,
    compute_figures,
    nearest_rank,
    service_tier,
)
from bonafide.market.support import Message, Role, Thread, ThreadKind, ThreadState

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = BusinessHours.parse(
    time_zone="Europe/Berlin",
    weekly={d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
)
NOW = datetime(2026, 3, 16, 12, 0, tzinfo=BERLIN)
_ids = itertools.count()


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def record(
    name: str, messages: list[tuple[Role, datetime]], csat: tuple[int, datetime] | None = None
) -> ThreadRecord:
    closed = csat[1] if csat else None
    thread = Thread(
        id=name,
        kind=ThreadKind.SELLER,
        buyer_id="b",
        seller_id="s",
        order_id=None,
        subject="",
        state=ThreadState.CLOSED if closed else ThreadState.OPEN,
        opened_at=messages[0][1],
        closed_at=closed,
        csat=csat[0] if csat else None,
        csat_at=closed,
    )
    return ThreadRecord(
        thread=thread,
        messages=[
            Message(
                id=f"m{next(_ids)}",
                thread_id=name,
                author_id=None if role is Role.SYSTEM else "x",
                role=role,
                body="…",
                sent_at=when,
                automatic=role is Role.SYSTEM,
            )
            for role, when in messages
        ],
    )


B, S, A = Role.BUYER, Role.SELLER, Role.SYSTEM
THREADS = [
    # T1 in hours, answered in 30 min: 1800 s wall and business. CSAT 5.
    record("t1", [(B, at(3, 2, 10)), (S, at(3, 2, 10, 30))], csat=(5, at(3, 2, 12))),
    # T2 Friday 20:00 (after hours, auto-acked), answered Monday 09:30:
    # wall 61.5 h = 221400 s, business 30 min = 1800 s.
    record("t2", [(B, at(3, 6, 20)), (A, at(3, 6, 20)), (S, at(3, 9, 9, 30))]),
    # T3 Tuesday 16:00 and 16:30, answered Wednesday 10:00: first response wall 18 h = 64800 s,
    # business 1 h + 1 h = 7200 s; the 16:30 message waited 63000 s wall, 5400 s business. CSAT 3.
    record(
        "t3",
        [(B, at(3, 3, 16)), (B, at(3, 3, 16, 30)), (S, at(3, 4, 10))],
        csat=(3, at(3, 4, 12)),
    ),
    # T4 Saturday 11:00 (after hours), never answered: 43 business hours have passed since.
    record("t4", [(B, at(3, 7, 11))]),
    # T5 today 11:00, unanswered for 1 h: undecided for every within-limit share.
    record("t5", [(B, at(3, 16, 11))]),
    # T6 Thursday 22:00 (after hours), answered 23:00: 3600 s wall, 0 s business. CSAT 4.
    record("t6", [(B, at(3, 12, 22)), (S, at(3, 12, 23))], csat=(4, at(3, 13, 10))),
    # T7 before the window: ignored, and so is its CSAT of 1.
    record(
        "t7",
        [(B, at(11, 3, 10, year=2025)), (S, at(11, 3, 11, year=2025))],
        csat=(1, at(11, 4, 10, year=2025)),
    ),
]
DISPUTES = [
    # Mon 10:00 → Wed 10:00: 172800 s wall; business 7 h + 8 h + 1 h = 57600 s.
    DisputeRecord(opened_at=at(3, 2, 10), resolved_at=at(3, 4, 10)),
    # Fri 16:00 → Mon 10:00: 237600 s wall; business 1 h + 1 h = 7200 s.
    DisputeRecord(opened_at=at(3, 6, 16), resolved_at=at(3, 9, 10)),
    DisputeRecord(opened_at=at(3, 12, 10), resolved_at=None),
    DisputeRecord(opened_at=at(10, 1, 10, year=2025), resolved_at=at(11, 1, 10, year=2025)),
]


def order(refunded: bool = False, disputed: bool = False, defect: bool = False) -> OrderRecord:
    return OrderRecord(placed_at=at(3, 10, 10), refunded=refunded, disputed=disputed, defect=defect)


ORDERS = [
    order(refunded=True, defect=True),
    order(disputed=True, defect=True),
    order(refunded=True, disputed=True, defect=True),
    order(defect=True),  # cancelled because the seller never shipped
    *[order() for _ in range(6)],
    OrderRecord(placed_at=at(10, 1, 10, year=2025), refunded=True, disputed=False, defect=True),
]


@pytest.fixture(scope="module")
def figures() -> ServiceFigures:
    return compute_figures(threads=THREADS, disputes=DISPUTES, orders=ORDERS, hours=HOURS, now=NOW)


def test_first_response_median_and_p90_by_nearest_rank(figures: ServiceFigures) -> None:
    # Wall: [1800, 3600, 64800, 221400] → median (rank 2) 3600, p90 (rank 4) 221400.
    assert figures.threads == 6
    assert (figures.first_response.count, figures.first_response.median_seconds) == (4, 3600)
    assert figures.first_response.p90_seconds == 221400
    # Business: [0, 1800, 1800, 7200] → median 1800, p90 7200.
    assert figures.first_response_business.median_seconds == 1800
    assert figures.first_response_business.p90_seconds == 7200


def test_share_answered_within_24_hours(figures: ServiceFigures) -> None:
    # Wall: T1, T3, T6 in time; T2 (61.5 h) and T4 (unanswered) late; T5 undecided → 3 of 5.
    assert figures.answered_within_24h == Ratio(3, 5)
    # Business: T2 is 30 business minutes → 4 of 5.
    assert figures.answered_within_24h_business == Ratio(4, 5)


def test_after_hours_coverage(figures: ServiceFigures) -> None:
    # After-hours messages: T2 Fri 20:00, T4 Sat 11:00, T6 Thu 22:00. Within 4 h wall: T6 only.
    assert figures.after_hours_coverage == Ratio(1, 3)
    # Within 4 business hours: T2 and T6.
    assert figures.after_hours_coverage_business == Ratio(2, 3)


def test_heat_map_by_hour_of_week_in_the_sellers_zone(figures: ServiceFigures) -> None:
    cells = {
        (day, hour): cell
        for day, row in enumerate(figures.heat_map)
        for hour, cell in enumerate(row)
        if cell.answered or cell.unanswered
    }
    assert {k: (c.answered, c.unanswered) for k, c in cells.items()} == {
        (0, 10): (1, 0),
        (4, 20): (1, 0),
        (1, 16): (2, 0),
        (5, 11): (0, 1),
        (0, 11): (0, 1),
        (3, 22): (1, 0),
    }
    assert (cells[0, 10].median_seconds, cells[0, 10].median_business_seconds) == (1800, 1800)
    assert (cells[4, 20].median_seconds, cells[4, 20].median_business_seconds) == (221400, 1800)
    # Tuesday 16h: [63000, 64800] wall and [5400, 7200] business → the lower of each.
    assert (cells[1, 16].median_seconds, cells[1, 16].median_business_seconds) == (63000, 5400)
    assert (cells[3, 22].median_seconds, cells[3, 22].median_business_seconds) == (3600, 0)
    assert cells[5, 11].median_seconds is None
    assert len(figures.heat_map) == 7 and all(len(row) == 24 for row in figures.heat_map)


def test_dispute_resolution_time(figures: ServiceFigures) -> None:
    assert figures.dispute_resolution.count == 2
    assert figures.dispute_resolution.median_seconds == 172800
    assert figures.dispute_resolution.p90_seconds == 237600
    assert figures.dispute_resolution_business.median_seconds == 7200
    assert figures.dispute_resolution_business.p90_seconds == 57600
    assert figures.disputes_open == 1


def test_order_rates_and_csat(figures: ServiceFigures) -> None:
    assert figures.orders == 10
    assert figures.refund_rate == Ratio(2, 10)
    assert figures.dispute_rate == Ratio(2, 10)
    assert figures.defect_rate == Ratio(4, 10)
    assert figures.csat.count == 3
    assert figures.csat.mean == Fraction(4)
    assert figures.csat.satisfied == 2
    assert figures.csat.to_json()["mean"] == 4.0


def test_the_hand_worked_seller_is_below_standard_for_disputes_and_defects(
    figures: ServiceFigures,
) -> None:
    tier = service_tier(figures)
    assert tier.name == "below_standard"
    assert tier.reasons == ("dispute rate over 5%", "defect rate over 10%")


def clean(figures: ServiceFigures) -> ServiceFigures:
    return replace(
        figures,
        orders=100,
        dispute_rate=Ratio(1, 100),
        defect_rate=Ratio(2, 100),
        refund_rate=Ratio(1, 100),
        answered_within_24h=Ratio(19, 20),
        after_hours_coverage=Ratio(1, 2),
    )


def test_tiers_follow_the_documented_thresholds(figures: ServiceFigures) -> None:
    best = clean(figures)
    # CSAT mean 4.0 is under the 4.5 that top needs.
    assert service_tier(best).name == "good"
    top = replace(best, csat=replace(best.csat, total=14))
    assert service_tier(top).name == "top"
    assert service_tier(replace(top, after_hours_coverage=Ratio(2, 5))).name == "good"
    standard = replace(best, answered_within_24h=Ratio(16, 20))
    assert service_tier(standard).name == "standard"
    assert service_tier(replace(best, answered_within_24h=Ratio(11, 20))).name == "below_standard"
    assert service_tier(replace(best, orders=9)).name == "new"


def test_a_criterion_without_data_is_skipped_and_says_so(figures: ServiceFigures) -> None:
    quiet = replace(
        clean(figures),
        csat=replace(figures.csat, count=0, total=0, satisfied=0),
        after_hours_coverage=Ratio(0, 0),
    )
    tier = service_tier(quiet)
    assert tier.name == "top"
    assert "CSAT at least 4.5: no data" in tier.reasons


def test_nearest_rank_returns_observed_values() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9


def test_figures_serialise_to_json(figures: ServiceFigures) -> None:
    data = figures.to_json()
    assert data["answered_within_24h"] == {"numerator": 3, "denominator": 5, "share": 0.6}
    assert len(figures.heat_map_json()) == 7


def test_a_dispute_open_for_years_still_gets_a_business_time_figure() -> None:
    old = DisputeRecord(opened_at=at(1, 5, 10, year=2023), resolved_at=at(3, 10, 10))
    figures = compute_figures(threads=[], disputes=[old], orders=[], hours=HOURS, now=NOW)
    assert figures.dispute_resolution.count == 1
    business = figures.dispute_resolution_business.median_seconds
    assert business is not None and 0 < business <= 800 * 8 * 3600
