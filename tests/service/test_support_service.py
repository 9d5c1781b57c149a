"""Customer-service use cases on a real database (SQLite and PostgreSQL): hours, threads,
auto-acknowledgements, read receipts, closing, CSAT and the figures they feed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bonafide.errors import Conflict, Forbidden, NotFound, Rejected
from bonafide.market.accounts import Principal, Role
from bonafide.market.support import ThreadState
from bonafide.money import Money
from bonafide.service import disputes, ledger, orders, support
from bonafide.service.accounts import grant_moderator_by_id, sign_up
from bonafide.service.listings import create_listing
from bonafide.service.service_figures import seller_service, service_figures
from bonafide.settings import Settings
from bonafide.store.uow import UnitOfWork

# Wednesday 2026-03-04, 20:00 UTC = 21:00 in Berlin: after hours.
EVENING = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://")
WEEKDAYS = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


@dataclass
class Shop:
    new_uow: Callable[[], UnitOfWork]
    buyer: Principal
    seller: Principal
    outsider: Principal
    moderator: Principal
    listing_id: str


@pytest.fixture
def shop(engine: Engine) -> Shop:
    def new_uow() -> UnitOfWork:
        return UnitOfWork(engine)

    def account(handle: str, roles: set[Role]) -> Principal:
        return sign_up(
            new_uow(), handle=handle, roles=frozenset(roles), settings=SETTINGS, now=EVENING
        ).account.principal

    buyer = account("buyer", {Role.buyer})
    seller = account("seller", {Role.seller})
    outsider = account("outsider", {Role.buyer})
    mod = account("mod", {Role.buyer})
    moderator = grant_moderator_by_id(new_uow(), account_id=mod.id, now=EVENING).principal
    ledger.deposit(
        new_uow(),
        transfer_id="dep-1",
        owner_id=buyer.id,
        amount=Money(10_000, "EUR"),
        now=EVENING,
        actor="test",
    )
    listing = create_listing(
        new_uow(),
        seller=seller,
        title="Tea",
        description="green",
        price=Money(1999, "EUR"),
        stock=5,
        settings=SETTINGS,
        now=EVENING,
    )
    support.put_hours(
        new_uow(),
        actor=seller,
        seller_id=seller.id,
        time_zone="Europe/Berlin",
        weekly=WEEKDAYS,
        holidays=["2026-03-06"],
        now=EVENING,
    )
    return Shop(new_uow, buyer, seller, outsider, moderator, listing.id)


def write(shop: Shop, who: Principal, thread_id: str, at: datetime) -> support.Posted:
    return support.post_message(shop.new_uow(), actor=who, thread_id=thread_id, body="hi", now=at)


def test_an_after_hours_message_gets_one_ack_a_day_and_none_after_a_recent_reply(
    shop: Shop,
) -> None:
    view = support.open_seller_thread(
        shop.new_uow(), actor=shop.buyer, seller_id=shop.seller.id, subject="Q", now=EVENING
    )
    tid = view.thread.id
    first = write(shop, shop.buyer, tid, EVENING)
    assert first.acknowledgement is not None and first.ack is not None
    # Next opening: Thursday 09:00 Berlin (08:00 UTC). No reply history yet.
    assert first.ack.next_opening_at == datetime(2026, 3, 5, 8, 0, tzinfo=UTC)
    assert first.ack.typical_reply is None
    # A second message an hour later: the thread already had an ack in the last 24 h.
    assert write(shop, shop.buyer, tid, EVENING + timedelta(hours=1)).acknowledgement is None
    # The seller answers late at night; the buyer replies 3 minutes later → no ack.
    later = EVENING + timedelta(days=1, hours=2)
    write(shop, shop.seller, tid, later)
    assert write(shop, shop.buyer, tid, later + timedelta(minutes=3)).acknowledgement is None
    # Ten minutes after the seller's reply and over 24 h after the first ack → a new ack,
    # now quoting the seller's typical reply time. Friday is a holiday: next opening Monday.
    again = write(shop, shop.buyer, tid, later + timedelta(minutes=10))
    assert again.ack is not None
    assert again.ack.next_opening_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    # Asked Wednesday 21:00, answered Thursday 23:00 (Berlin): all of Thursday, 8 business hours.
    assert again.ack.typical_reply == timedelta(hours=8)
    messages = support.get_thread(shop.new_uow(), viewer=shop.seller, thread_id=tid).messages
    assert [m.role.value for m in messages] == [
        "buyer",
        "system",
        "buyer",
        "seller",
        "buyer",
        "buyer",
        "system",
    ]


def test_no_ack_inside_business_hours_or_for_a_seller_without_hours(shop: Shop) -> None:
    thread = support.open_seller_thread(
        shop.new_uow(), actor=shop.buyer, seller_id=shop.seller.id, subject="", now=EVENING
    ).thread
    thursday_noon = datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    assert write(shop, shop.buyer, thread.id, thursday_noon).acknowledgement is None


def test_read_receipts_move_forward_and_name_the_reader(shop: Shop) -> None:
    tid = support.open_seller_thread(
        shop.new_uow(), actor=shop.buyer, seller_id=shop.seller.id, subject="", now=EVENING
    ).thread.id
    posted = write(shop, shop.buyer, tid, EVENING)
    view = support.get_thread(shop.new_uow(), viewer=shop.buyer, thread_id=tid)
    assert view.read_by(posted.message) == []
    view = support.mark_read(
        shop.new_uow(), actor=shop.seller, thread_id=tid, now=EVENING + timedelta(minutes=1)
    )
    assert view.read_by(posted.message) == [shop.seller.id]
    view = support.mark_read(shop.new_uow(), actor=shop.seller, thread_id=tid, now=EVENING)
    assert view.markers[shop.seller.id] == EVENING + timedelta(minutes=1)


def test_outsiders_do_not_see_threads_and_moderators_post_only_in_disputes(shop: Shop) -> None:
    order_id = orders.place_order(
        shop.new_uow(),
        buyer=shop.buyer,
        listing_id=shop.listing_id,
        quantity=1,
        settings=SETTINGS,
        now=EVENING,
    ).order.id
    view = support.open_order_thread(
        shop.new_uow(), actor=shop.seller, order_id=order_id, subject="", now=EVENING
    )
    again = support.open_order_thread(
        shop.new_uow(), actor=shop.buyer, order_id=order_id, subject="", now=EVENING
    )
    assert again.thread.id == view.thread.id
    with pytest.raises(NotFound, match="order_not_found"):
        support.open_order_thread(
            shop.new_uow(), actor=shop.outsider, order_id=order_id, subject="", now=EVENING
        )
    with pytest.raises(NotFound, match="thread_not_found"):
        support.get_thread(shop.new_uow(), viewer=shop.outsider, thread_id=view.thread.id)
    support.get_thread(shop.new_uow(), viewer=shop.moderator, thread_id=view.thread.id)
    with pytest.raises(Forbidden, match="moderator_joins_only_disputed_orders"):
        write(shop, shop.moderator, view.thread.id, EVENING)


def test_closing_and_rating_a_thread(shop: Shop) -> None:
    tid = support.open_seller_thread(
        shop.new_uow(), actor=shop.buyer, seller_id=shop.seller.id, subject="", now=EVENING
    ).thread.id
    write(shop, shop.buyer, tid, EVENING)
    with pytest.raises(Conflict, match="thread_not_closed"):
        support.rate_thread(shop.new_uow(), actor=shop.buyer, thread_id=tid, score=5, now=EVENING)
    closed = support.close_thread(shop.new_uow(), actor=shop.seller, thread_id=tid, now=EVENING)
    assert closed.state is ThreadState.CLOSED
    with pytest.raises(Conflict, match="thread_is_closed"):
        write(shop, shop.buyer, tid, EVENING)
    with pytest.raises(Forbidden, match="only_the_buyer_rates_support"):
        support.rate_thread(shop.new_uow(), actor=shop.seller, thread_id=tid, score=5, now=EVENING)
    with pytest.raises(Rejected, match="csat_out_of_range"):
        support.rate_thread(shop.new_uow(), actor=shop.buyer, thread_id=tid, score=9, now=EVENING)
    rated = support.rate_thread(
        shop.new_uow(), actor=shop.buyer, thread_id=tid, score=4, now=EVENING
    )
    assert rated.csat == 4
    # A closed thread is not reused: the buyer's next question opens a new one.
    fresh = support.open_seller_thread(
        shop.new_uow(), actor=shop.buyer, seller_id=shop.seller.id, subject="", now=EVENING
    )
    assert fresh.thread.id != tid


def test_hours_are_the_sellers_own_and_bad_ones_are_refused(shop: Shop) -> None:
    with pytest.raises(Forbidden, match="only_the_seller_sets_hours"):
        support.put_hours(
            shop.new_uow(),
            actor=shop.buyer,
            seller_id=shop.seller.id,
            time_zone="UTC",
            weekly={},
            holidays=[],
            now=EVENING,
        )
    with pytest.raises(Rejected, match="unknown_time_zone"):
        support.put_hours(
            shop.new_uow(),
            actor=shop.seller,
            seller_id=shop.seller.id,
            time_zone="Europe/Atlantis",
            weekly={},
            holidays=[],
            now=EVENING,
        )
    hours, hours_set = support.get_hours(shop.new_uow(), seller_id=shop.seller.id)
    assert hours_set and hours.zone_name == "Europe/Berlin"


def test_figures_and_tier_come_from_the_stored_threads(shop: Shop) -> None:
    tid = support.open_seller_thread(
        shop.new_uow(), actor=shop.buyer, seller_id=shop.seller.id, subject="", now=EVENING
    ).thread.id
    write(shop, shop.buyer, tid, EVENING)
    write(shop, shop.seller, tid, EVENING + timedelta(hours=2))
    figures = service_figures(
        shop.new_uow(), seller_id=shop.seller.id, now=EVENING + timedelta(days=1)
    )
    assert figures.threads == 1
    assert figures.first_response.median_seconds == 7200
    assert figures.first_response_business.median_seconds == 0
    assert (figures.after_hours_coverage.numerator, figures.after_hours_coverage.denominator) == (
        1,
        1,
    )
    profile = seller_service(
        shop.new_uow(), seller_id=shop.seller.id, now=EVENING + timedelta(days=1, hours=3)
    )
    assert profile.as_of == datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    assert profile.tier.name == "new"
    with pytest.raises(NotFound, match="seller_not_found"):
        service_figures(shop.new_uow(), seller_id=shop.buyer.id, now=EVENING)


def test_an_orders_thread_closes_when_the_order_finishes_and_can_then_be_rated(
    shop: Shop,
) -> None:
    order_id = orders.place_order(
        shop.new_uow(),
        buyer=shop.buyer,
        listing_id=shop.listing_id,
        quantity=1,
        settings=SETTINGS,
        now=EVENING,
    ).order.id
    tid = support.open_order_thread(
        shop.new_uow(), actor=shop.buyer, order_id=order_id, subject="", now=EVENING
    ).thread.id
    finished = EVENING + timedelta(hours=1)
    orders.cancel_order(
        shop.new_uow(), actor=shop.buyer, order_id=order_id, reason=None, now=finished
    )
    view = support.get_thread(shop.new_uow(), viewer=shop.seller, thread_id=tid)
    assert view.thread.state is ThreadState.CLOSED and view.thread.closed_at == finished
    with pytest.raises(Conflict, match="thread_is_closed"):
        write(shop, shop.seller, tid, finished + timedelta(minutes=1))
    rated = support.rate_thread(
        shop.new_uow(), actor=shop.buyer, thread_id=tid, score=5, now=finished
    )
    assert rated.csat == 5 and rated.closed_at == finished
    listed = support.list_threads(shop.new_uow(), viewer=shop.buyer, after_id=None, limit=10)
    assert [t.state for t in listed] == [ThreadState.CLOSED]


def test_a_moderator_joins_a_disputed_orders_thread_by_writing_in_it(shop: Shop) -> None:
    order_id = orders.place_order(
        shop.new_uow(),
        buyer=shop.buyer,
        listing_id=shop.listing_id,
        quantity=1,
        settings=SETTINGS,
        now=EVENING,
    ).order.id
    tid = support.open_order_thread(
        shop.new_uow(), actor=shop.buyer, order_id=order_id, subject="", now=EVENING
    ).thread.id
    disputes.open_dispute(
        shop.new_uow(), actor=shop.buyer, order_id=order_id, reason="broken", now=EVENING
    )
    posted = write(shop, shop.moderator, tid, EVENING + timedelta(minutes=1))
    assert posted.message.role.value == "moderator" and posted.acknowledgement is None
    view = support.get_thread(shop.new_uow(), viewer=shop.buyer, thread_id=tid)
    assert view.thread.moderator_id == shop.moderator.id
