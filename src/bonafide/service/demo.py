"""The demo market: a simulated market replayed through the real use cases.

Owns: turning ``bonafide.sim`` output into accounts, deposits, listings, orders (escrow through
the ledger), shipping, confirmations, disputes with moderators' resolutions, two-sided reviews,
support conversations and fingerprints, in simulated time; and the records that mark a database
as a demo one (its demo logins). Imports: ``bonafide.sim``, ``bonafide.service`` use cases,
``bonafide.store`` (``trust_repo`` for the demo records), ``bonafide.clock``.

Every figure a page shows comes from these calls: nothing is written around the use cases. The
replay is fast because money-moving steps of one simulated day run in one unit of work through the
``*_in`` building blocks (the same code the API runs), and because time is a ``ManualClock`` that
the replay moves event by event; ``tick`` (the scheduler) runs at the end of every simulated day,
so unshipped orders are auto-cancelled and unconfirmed ones auto-released as they would be.

Attacks, with the simulator's labels (``sim.market``): a seller boosting itself through buyer
accounts that share its device fingerprint (``sock_master`` / ``sock``), reviewers for hire and
their clients (``hired`` / ``hired_client``), a ring of sellers buying from one another
(``ring``), a seller who takes orders and never ships (``scammer``) and a buyer who disputes
everything (added here: ``disputer``).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from bonafide.clock import ManualClock
from bonafide.errors import BonafideError
from bonafide.market.accounts import Principal, Role
from bonafide.money import Money
from bonafide.service import accounts as accounts_service
from bonafide.service import disputes as disputes_service
from bonafide.service import liabilities as liabilities_service
from bonafide.service import listings as listings_service
from bonafide.service import orders as orders_service
from bonafide.service import reviews as reviews_service
from bonafide.service import scheduler
from bonafide.service import support as support_service
from bonafide.service import wallets as wallets_service
from bonafide.service.trust import fingerprint_hash
from bonafide.settings import Settings
from bonafide.sim import MarketConfig, simulate_market
from bonafide.sim.market import DAY, EPOCH
from bonafide.store.trust_repo import TrustRepository
from bonafide.store.uow import UnitOfWork

NewUow = Callable[[], UnitOfWork]
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; called often, cheaply."""

LOGIN_ROLES = ("buyer", "seller", "moderator", "operator")
MARKER = "seeded_at"


@dataclass(frozen=True)
class DemoSize:
    market: MarketConfig
    disputer_orders: int
    thread_share: float


SIZES: dict[str, DemoSize] = {
    "full": DemoSize(
        MarketConfig(buyers=200, sellers=20, orders=2_200, days=150, rate_share=1.0,
                     sock_attacks=1, socks_per_attack=14, rings=1, ring_size=6,
                     camouflage_rings=0, hired_reviewers=8, hired_clients=8, bursts=0,
                     scammers=1, scam_socks=0),
        disputer_orders=14,
        thread_share=0.08,
    ),
    "small": DemoSize(
        MarketConfig(buyers=40, sellers=6, orders=150, days=60, rate_share=1.0,
                     sock_attacks=1, socks_per_attack=10, rings=0, ring_size=4,
                     camouflage_rings=0, hired_reviewers=0, hired_clients=0, bursts=0,
                     scammers=1, scam_socks=0),
        disputer_orders=4,
        thread_share=0.1,
    ),
}

SHOP_NAMES = (
    "copper-kettle", "linen-and-loom", "north-pier-books", "tin-soldier-toys", "oak-and-ember",
    "saltmarsh-ceramics", "little-lantern", "blue-heron-tea", "fieldnotes-paper", "quarry-stone",
    "kestrel-cycles", "moss-and-fern", "harbour-knits", "old-mill-spices", "brightwater-soap",
    "cinder-and-sage", "red-fox-leather", "tidewater-maps", "willow-baskets", "amber-honey",
    "granite-tools", "velvet-moth", "sunday-bakery", "ironbark-knives", "paper-crane",
    "clover-garden", "night-owl-lamps", "river-glass", "meadow-wool", "stormy-coffee",
    "lark-and-finch", "gilded-thimble", "pine-cone-crafts", "silver-birch", "wharf-records",
    "juniper-print", "hollow-oak-games", "seaglass-jewels", "bramble-jam", "cobalt-kites",
    "foxglove-herbs", "ember-forge", "driftwood-frames", "starling-socks", "marble-and-ink",
)
PRODUCTS = (
    ("Cast-iron teapot, 1 l", 3400), ("Linen tea towels, set of 3", 2200),
    ("Hand-thrown mug", 1800), ("Beeswax candles, pair", 1200), ("Wool beanie", 2600),
    ("Leather card wallet", 3900), ("Loose-leaf green tea, 100 g", 950),
    ("Notebook, dot grid A5", 1400), ("Enamel pin", 700), ("Bike light set", 2900),
    ("Olive-wood spoon", 1100), ("Vintage map print", 2400), ("Chef's knife, 20 cm", 7900),
    ("Raw honey, 500 g", 1300), ("Desk lamp", 5400), ("Vinyl record, used", 1900),
    ("Herb seed kit", 1500), ("Wicker basket", 3100), ("Ceramic planter", 2700),
    ("Soap bar trio", 1600),
)
BUYER_TEXT = {
    5: ("Exactly as described, quick delivery.", "Lovely quality, would buy again.",
        "Arrived well packed and early."),
    4: ("Good item, shipping took a little long.", "Nice, slightly smaller than expected."),
    3: ("It's fine. Nothing special.", "OK, but the photos flatter it."),
    2: ("Not as described, a scratch on the side.", "Slow to ship and slow to answer."),
    1: ("Never received what I paid for.", "Broken on arrival and no help from the seller."),
}
DISPUTE_REASONS = ("The item arrived damaged.", "The item is not as described.",
                   "Nothing has arrived.", "Wrong item sent.")


@dataclass
class DemoLogin:
    role: str
    handle: str
    account_id: str
    api_key: str


@dataclass
class DemoResult:
    logins: dict[str, DemoLogin]
    counts: dict[str, int]
    cast: dict[str, list[str]]
    started_at: datetime
    ended_at: datetime


@dataclass
class _Member:
    principal: Principal
    kind: str
    api_key: str


@dataclass
class _Order:
    buyer: int
    seller: int
    listing: str
    price: int
    order_id: str | None = None
    broken: bool = False


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    kind: str = field(compare=False)
    order: int = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


FAKE = frozenset({"sock", "hired", "ring"})
"""Buyers whose orders exist to leave a review (they ship fast and both sides rate 5 stars)."""
FAKE_MARGIN = timedelta(days=5)
OPEN_DISPUTES = 2
"""Disputes left open at the end of the replay, so the moderators' queue has work."""
BATCHED = frozenset({"place", "ship", "confirm", "resolve"})


class _Replay:
    """The state of one replay: members, listings, orders and the event queue."""

    def __init__(self, new_uow: NewUow, *, settings: Settings, clock: ManualClock,
                 size: DemoSize, seed: int, progress: Progress) -> None:
        self.new_uow = new_uow
        self.settings = settings
        self.clock = clock
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.progress = progress
        self.members: list[_Member] = []
        self.listings: dict[int, list[tuple[str, int]]] = {}
        self.orders: list[_Order] = []
        self.events: list[_Event] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.moderators: list[Principal] = []
        self.operator: _Member | None = None
        self.currency = settings.currency
        self.end = clock.now()

    # --- helpers ----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def event(self, at: datetime, kind: str, order: int, **data: Any) -> None:
        self.events.append(_Event(at, len(self.events), kind, order, data))

    def days(self, low: float, high: float) -> timedelta:
        return timedelta(days=float(self.rng.uniform(low, high)))

    def sign_up(self, handle: str, roles: set[Role], kind: str) -> _Member:
        made = accounts_service.sign_up(self.new_uow(), handle=handle, roles=frozenset(roles),
                                        settings=self.settings, now=self.now())
        member = _Member(made.account.principal, kind, made.api_key)
        self.members.append(member)
        return member


def _handles(kinds: list[str], roles: list[str], rng: np.random.Generator) -> list[str]:
    shops = list(SHOP_NAMES)
    rng.shuffle(shops)
    buyer_numbers = rng.permutation(len(kinds)) + 100
    out = []
    for i, role in enumerate(roles):
        out.append(shops.pop() if role == "seller" and shops else f"buyer-{buyer_numbers[i]}")
    return out


def _create_members(r: _Replay, market: Any) -> None:
    """Accounts for every simulated account, plus staff, the disputer and the demo buyer."""
    kinds = [str(k) for k in market.kind]
    roles = [str(x) for x in market.role]
    handles = _handles(kinds, roles, r.rng)
    total = len(kinds) + 4
    for i, (kind, role) in enumerate(zip(kinds, roles, strict=True)):
        wanted = {Role.seller, Role.buyer} if kind == "ring" else {Role(role)}
        r.sign_up(handles[i], wanted, kind)
        r.progress("accounts", i + 1, total)
    op = accounts_service.create_operator(r.new_uow(), handle="operator", settings=r.settings,
                                          now=r.now())
    r.operator = _Member(op.account.principal, "staff", op.api_key)
    for handle in ("moderator-ada", "moderator-ben"):
        member = r.sign_up(handle, {Role.buyer}, "staff")
        info = accounts_service.grant_moderator_by_id(r.new_uow(), account_id=member.principal.id,
                                                      now=r.now())
        member.principal = info.principal
        r.moderators.append(info.principal)
    r.sign_up("buyer-disputes-all", {Role.buyer}, "disputer")
    r.sign_up("demo-buyer", {Role.buyer}, "demo_buyer")
    r.progress("accounts", total, total)


def _create_listings(r: _Replay) -> None:
    sellers = [i for i, m in enumerate(r.members) if m.principal.has_role(Role.seller)]
    for done, i in enumerate(sellers):
        member = r.members[i]
        picks = r.rng.choice(len(PRODUCTS), size=int(r.rng.integers(2, 4)), replace=False)
        made = []
        for p in picks:
            title, base = PRODUCTS[int(p)]
            price = int(round(base * float(r.rng.uniform(0.8, 1.25)) / 10) * 10 - 1)
            listing = listings_service.create_listing(
                r.new_uow(), seller=member.principal, title=title,
                description=f"{title}. Sold by {member.principal.handle}; ships in 1-3 days.",
                price=Money(price, r.currency), stock=100_000, settings=r.settings, now=r.now(),
            )
            made.append((listing.id, price))
        r.listings[i] = made
        r.progress("listings", done + 1, len(sellers))


def _fingerprints(r: _Replay) -> None:
    """Device fingerprints (salted hashes): each account its own; socks share their master's."""
    salt = secrets.token_hex(16)
    master = next((m for m in r.members if m.kind == "sock_master"), None)
    with r.new_uow() as uow:
        repo = uow.repo(TrustRepository)
        for m in r.members:
            device = "device-master" if m.kind in ("sock", "sock_master") and master else \
                f"device-{m.principal.id}"
            repo.add_fingerprint(account_id=m.principal.id, now=r.now(),
                                 fingerprint_hash=fingerprint_hash(salt=salt, kind="device",
                                                                   value=device))
        uow.commit()


def _plan_orders(r: _Replay, market: Any, start: datetime) -> None:
    """One order per buyer → seller rating of the simulation, with its life as events."""
    kinds = [m.kind for m in r.members]
    for rater, ratee, stars, ts in zip(market.rater, market.ratee, market.stars,
                                       market.timestamp, strict=True):
        buyer, seller = int(rater), int(ratee)
        if buyer == seller or not r.members[buyer].principal.has_role(Role.buyer):
            continue
        if not r.members[seller].principal.has_role(Role.seller):
            continue
        placed = start + timedelta(seconds=float(ts - EPOCH - DAY))
        if kinds[buyer] in FAKE and placed > r.end - FAKE_MARGIN:
            # Attacks the simulator spread past the end fold back into the replayed months.
            placed = start + (placed - start) % (r.end - FAKE_MARGIN - start)
        _plan_one(r, buyer, seller, int(stars), placed, kinds)
    disputer = next(i for i, m in enumerate(r.members) if m.kind == "disputer")
    honest = [i for i, m in enumerate(r.members) if m.kind == "honest"
              and m.principal.has_role(Role.seller)]
    span = r.size.market.days * DAY
    for n in range(r.size.disputer_orders):
        placed = start + timedelta(seconds=float(r.rng.uniform(0.1, 0.9) * span))
        if n < OPEN_DISPUTES:  # the latest ones are still open when the demo starts
            placed = r.end - r.days(4.5, 6)
        _plan_one(r, disputer, int(r.rng.choice(honest)), 1, placed, kinds)


def _plan_one(r: _Replay, buyer: int, seller: int, stars: int, placed: datetime,
              kinds: list[str]) -> None:
    listing, price = r.listings[seller][int(r.rng.integers(len(r.listings[seller])))]
    index = len(r.orders)
    r.orders.append(_Order(buyer, seller, listing, price))
    r.event(placed, "place", index)
    fake = kinds[buyer] in FAKE
    if kinds[seller] == "scammer":
        if r.rng.random() < 0.5:  # half the victims dispute before the ship window closes
            disputed = placed + r.days(2, 5)
            r.event(disputed, "dispute", index, reason="Nothing has arrived.")
            resolved = disputed + r.days(1, 2.5)
            r.event(resolved, "resolve", index, refund=price)
            _plan_reviews(r, index, resolved, stars=1, rate_back=0.0)
        return  # the rest are auto-cancelled by the scheduler when the ship window closes
    shipped = placed + (r.days(0.1, 0.6) if fake else r.days(0.3, 2.5))
    r.event(shipped, "ship", index)
    if kinds[buyer] == "disputer":
        disputed = shipped + r.days(1, 3)
        r.event(disputed, "dispute", index, reason=str(r.rng.choice(DISPUTE_REASONS)))
        resolved = disputed + r.days(1, 3)
        r.event(resolved, "resolve", index, refund=0 if r.rng.random() < 0.8 else price // 10)
        _plan_reviews(r, index, resolved, stars=1, rate_back=1.0, back_stars=1)
        return
    if not fake and stars <= 2 and r.rng.random() < 0.4:
        disputed = shipped + r.days(1, 4)
        r.event(disputed, "dispute", index, reason=str(r.rng.choice(DISPUTE_REASONS)))
        resolved = disputed + r.days(1, 3)
        refund = int(r.rng.choice([price, price // 2, 0], p=[0.5, 0.3, 0.2]))
        r.event(resolved, "resolve", index, refund=refund)
        _plan_reviews(r, index, resolved, stars=stars, rate_back=0.3)
        return
    if fake or r.rng.random() < 0.85:
        finished = shipped + (r.days(0.5, 1.5) if fake else r.days(1, 5))
        r.event(finished, "confirm", index)
    else:  # left to the scheduler's auto-release after the release window
        finished = shipped + r.settings.release_window + timedelta(days=1)
    if fake or r.rng.random() < 0.92:
        _plan_reviews(r, index, finished, stars=stars, rate_back=1.0 if fake else 0.5)
    if not fake and r.rng.random() < r.size.thread_share:
        # The conversation ends before the order finishes (finishing closes the order's thread).
        r.event(shipped + r.days(0.05, 0.5), "thread", index, finished=finished)


def _plan_reviews(r: _Replay, index: int, finished: datetime, *, stars: int, rate_back: float,
                  back_stars: int | None = None) -> None:
    r.event(finished + r.days(0.05, 2), "review", index, by="buyer", stars=stars)
    if r.rng.random() < rate_back:
        back = back_stars or int(r.rng.choice([5, 4, 1], p=[0.9, 0.08, 0.02]))
        r.event(finished + r.days(0.1, 4), "review", index, by="seller", stars=back)


def _deposits(r: _Replay) -> None:
    spend: dict[int, int] = defaultdict(int)
    for order in r.orders:
        spend[order.buyer] += order.price
    assert r.operator is not None
    with r.new_uow() as uow:
        for i, m in enumerate(r.members):
            if not m.principal.has_role(Role.buyer):
                continue
            extra = 50_000 if m.kind == "demo_buyer" else 5_000
            wallets_service.deposit_in(uow, account_id=m.principal.id,
                                       amount=Money(spend[i] + extra, r.currency),
                                       actor=r.operator.principal.id, now=r.now())
        uow.commit()


def _hours(r: _Replay) -> None:
    zones = ("Europe/Berlin", "Europe/London", "America/New_York", "Europe/Madrid")
    for i, m in enumerate(r.members):
        if m.kind != "honest" or not m.principal.has_role(Role.seller):
            continue
        end = "17:00" if i % 3 else "20:00"
        weekly = {d: [{"start": "09:00", "end": end}] for d in ("mon", "tue", "wed", "thu", "fri")}
        if i % 2:
            weekly["sat"] = [{"start": "10:00", "end": "14:00"}]
        support_service.put_hours(r.new_uow(), actor=m.principal, seller_id=m.principal.id,
                                  time_zone=zones[i % len(zones)], weekly=weekly, holidays=[],
                                  now=r.now())


# --- running events ---------------------------------------------------------------------------


def _run_batched(r: _Replay, uow: UnitOfWork, e: _Event) -> None:
    order = r.orders[e.order]
    buyer, seller = r.members[order.buyer].principal, r.members[order.seller].principal
    s, now = r.settings, e.at
    if e.kind == "place":
        view = orders_service.place_order_in(uow, buyer=buyer, listing_id=order.listing,
                                             quantity=1, settings=s, now=now)
        order.order_id = view.order.id
    elif e.kind == "ship":
        orders_service.ship_order_in(uow, actor=seller, order_id=_id(order), now=now,
                                     tracking=f"TRK{int(r.rng.integers(10**8, 10**9))}",
                                     settings=s)
    elif e.kind == "confirm":
        orders_service.confirm_order_in(uow, actor=buyer, order_id=_id(order), settings=s,
                                        now=now)
    elif e.kind == "resolve":
        dispute = order_dispute(uow, order)
        moderator = r.moderators[e.order % len(r.moderators)]
        disputes_service.resolve_dispute_in(uow, actor=moderator, dispute_id=dispute,
                                            refund=Money(int(e.data["refund"]), r.currency),
                                            settings=s, now=now)
    r.counts[e.kind] += 1


def order_dispute(uow: UnitOfWork, order: _Order) -> str:
    view = orders_service.view_in(uow, order_id=_id(order))
    return view.disputes[-1].id


def _id(order: _Order) -> str:
    assert order.order_id is not None
    return order.order_id


def _run_single(r: _Replay, e: _Event) -> None:
    order = r.orders[e.order]
    buyer, seller = r.members[order.buyer].principal, r.members[order.seller].principal
    if e.kind == "dispute":
        disputes_service.open_dispute(r.new_uow(), actor=buyer, order_id=_id(order),
                                      reason=str(e.data["reason"]), now=e.at)
    elif e.kind == "review":
        by_buyer = e.data["by"] == "buyer"
        stars = int(e.data["stars"])
        texts = BUYER_TEXT[stars]
        draft = reviews_service.ReviewDraft(
            overall=stars, text=str(texts[e.seq % len(texts)]) if by_buyer else
            ("Smooth buyer, quick to pay." if stars >= 4 else "Disputed without cause."),
            item_as_described=stars if by_buyer else None,
            communication=min(5, stars + 1) if by_buyer else None,
            shipping_speed=stars if by_buyer else None,
        )
        reviews_service.submit_review(r.new_uow(), actor=buyer if by_buyer else seller,
                                      order_id=_id(order), draft=draft, settings=r.settings,
                                      now=e.at)
    elif e.kind == "thread":
        _conversation(r, order, buyer, seller, e.at, before=e.data["finished"])
    r.counts[e.kind] += 1


def _conversation(r: _Replay, order: _Order, buyer: Principal, seller: Principal,
                  at: datetime, *, before: datetime) -> None:
    view = support_service.open_order_thread(r.new_uow(), actor=buyer, order_id=_id(order),
                                             subject="Where is my parcel?", now=at)
    thread = view.thread.id
    support_service.post_message(r.new_uow(), actor=buyer, thread_id=thread, now=at,
                                 body="Hello! Any news on the delivery?")
    if r.rng.random() < 0.1:
        return  # never answered
    # Replies come sooner in office hours; the figures and heat map show the difference.
    local_hour = at.hour
    delay = r.days(0.02, 0.3) if 8 <= local_hour < 18 else r.days(0.3, 1.2)
    reply = min(at + delay, before - timedelta(minutes=30))
    if reply <= at or reply > r.end:
        return
    support_service.post_message(r.new_uow(), actor=seller, thread_id=thread, now=reply,
                                 body="It left yesterday; here is the tracking number.")
    support_service.close_thread(r.new_uow(), actor=buyer, thread_id=thread, now=reply)
    support_service.rate_thread(r.new_uow(), actor=buyer, thread_id=thread, now=reply,
                                score=int(r.rng.choice([5, 4, 3], p=[0.6, 0.3, 0.1])))


def _replay(r: _Replay) -> None:
    r.events.sort()
    by_day: dict[int, list[_Event]] = defaultdict(list)
    first = r.events[0].at if r.events else r.end
    for e in r.events:
        if e.at <= r.end:
            by_day[int((e.at - first).total_seconds() // DAY)].append(e)
    days = max(by_day) + 1 if by_day else 0
    done = 0
    total = sum(len(v) for v in by_day.values())
    for day in range(days):
        events = by_day.get(day, [])
        batched = [e for e in events if e.kind in BATCHED]
        if batched:
            with r.new_uow() as uow:
                for e in batched:
                    if not r.orders[e.order].broken:
                        r.clock.set(e.at)
                        _run_batched(r, uow, e)
                uow.commit()
        for e in events:
            if e.kind in BATCHED or r.orders[e.order].broken:
                continue
            r.clock.set(e.at)
            try:
                _run_single(r, e)
            except BonafideError as error:
                # Counted, never hidden: the summary and the tests read these.
                r.counts["refused"] += 1
                r.counts[f"refused:{e.kind}:{error.code}"] += 1
                r.orders[e.order].broken = True
        done += len(events)
        day_end = min(first + timedelta(days=day + 1), r.end)
        r.clock.set(day_end)
        for name, count in scheduler.tick(r.new_uow, settings=r.settings, now=day_end).items():
            r.counts[name] += count
        r.progress("orders", done, total)


# --- the use case -----------------------------------------------------------------------------


def seed_demo(
    new_uow: NewUow,
    *,
    read_uow: NewUow,
    settings: Settings,
    clock: ManualClock,
    end: datetime,
    size: str = "full",
    seed: int = 6,
    progress: Progress | None = None,
    publish_liabilities: bool = True,
) -> DemoResult:
    """Seed an empty database with the demo market, ending at ``end``; return its logins.

    ``clock`` is moved through the simulated months (the caller serves afterwards with a real
    clock). With ``publish_liabilities`` the operator publishes a signed liabilities root at the
    end (this creates the market's signing key at ``settings.key_path`` if there is none).
    Raises ``Conflict(database_not_empty)`` when the database already holds a demo.
    """
    from bonafide.errors import Conflict

    if demo_records(new_uow()):
        raise Conflict("database_not_empty", "this database already holds a demo market")
    plan = SIZES[size]
    market = simulate_market(plan.market, seed=seed)
    start = end - timedelta(days=plan.market.days + 3)
    clock.set(start)
    r = _Replay(new_uow, settings=settings, clock=clock, size=plan, seed=seed,
                progress=progress or (lambda stage, done, total: None))
    r.end = end
    _create_members(r, market)
    _create_listings(r)
    _fingerprints(r)
    _hours(r)
    _plan_orders(r, market, start)
    _deposits(r)
    _replay(r)
    clock.set(end)
    if publish_liabilities:
        liabilities_service.publish(new_uow(), read_uow=read_uow(), settings=settings, now=end,
                                    published_by=r.operator.principal.id if r.operator else "")
        r.counts["liabilities_published"] = 1
    logins = _logins(r)
    with new_uow() as uow:
        repo = uow.repo(TrustRepository)
        repo.add_demo_record(MARKER, end.isoformat(), now=end)
        for role, login in logins.items():
            repo.add_demo_record(f"login:{role}", f"{login.account_id} {login.api_key}", now=end)
        uow.commit()
    cast: dict[str, list[str]] = defaultdict(list)
    for m in r.members:
        cast[m.kind].append(m.principal.handle)
    r.counts["orders_planned"] = len(r.orders)
    return DemoResult(logins=logins, counts=dict(r.counts), cast=dict(cast), started_at=start,
                      ended_at=end)


def _logins(r: _Replay) -> dict[str, DemoLogin]:
    assert r.operator is not None
    sold: dict[int, int] = defaultdict(int)
    for order in r.orders:
        sold[order.seller] += 1
    honest = [i for i, m in enumerate(r.members) if m.kind == "honest"
              and m.principal.has_role(Role.seller)]
    seller = r.members[max(honest, key=lambda i: sold[i])]
    buyer = next(m for m in r.members if m.kind == "demo_buyer")
    moderator = next(m for m in r.members if m.principal.has_role(Role.moderator))
    chosen = {"buyer": buyer, "seller": seller, "moderator": moderator, "operator": r.operator}
    return {role: DemoLogin(role, m.principal.handle, m.principal.id, m.api_key)
            for role, m in chosen.items()}


def demo_records(uow: UnitOfWork) -> dict[str, str]:
    with uow:
        return uow.repo(TrustRepository).demo_records()


def demo_logins(uow: UnitOfWork) -> dict[str, DemoLogin] | None:
    """The demo logins when this is a demo database (``bonafide demo`` seeded it), else None."""
    records = demo_records(uow)
    if MARKER not in records:
        return None
    logins = {}
    for role in LOGIN_ROLES:
        value = records.get(f"login:{role}")
        if value is None:
            continue
        account_id, _, key = value.partition(" ")
        logins[role] = DemoLogin(role, "", account_id, key)
    found = handles_of(uow, [login.account_id for login in logins.values()])
    for login in logins.values():
        login.handle = found.get(login.account_id, login.account_id)
    return logins


def handles_of(uow: UnitOfWork, ids: list[str]) -> dict[str, str]:
    with uow:
        found = uow.repo(TrustRepository).principals(ids)
    return {a: p.handle for a, p in found.items()}
