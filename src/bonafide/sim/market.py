"""A market simulator: honest buyers and sellers plus labelled attacks, deterministic by seed.

Owns: ``MarketConfig``, ``SIZES``, ``Market``, ``simulate_market``. Imports: NumPy and
``bonafide.reputation.graph`` (to hand a ``RatingGraph`` to the engine); never the store or the
service. The demo seeder can reuse ``simulate_market`` directly: it returns plain arrays of
accounts (role, label, attack kind, seller quality) and of rated orders (rater, ratee, stars,
timestamp, order value).

Honest market: sellers have a quality (chance an order goes well), a popularity drawn from a
Pareto law and a start date; buyers have Pareto activity. Each order's buyer rates the seller
(J-shaped stars: a good order is mostly 5 stars, a bad one mostly 1) and the seller often rates
the buyer back (almost always 5 stars). Attacks, with the ``kind`` that labels their accounts:

=================  ===========================================================================
``sock``           fresh accounts that give their master seller 5 stars, spread over weeks
``sock_master``    the low-quality seller they boost (rates some socks back)
``ring``           accounts that all rate each other 5 stars over months
``camouflage``     a ring whose members also give 5 stars to many popular honest sellers
``hired``          reviewers for hire: 5 stars to many new sellers in each one's first weeks
``hired_client``   the new low-quality sellers who buy those reviews
``burst``          fresh accounts that give one seller 5 stars within a few hours
``burst_target``   the seller that buys the burst
``scammer``        sellers who never deliver; honest buyers rate them 1 star, a few socks 5
=================  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bonafide.reputation.graph import RatingGraph

DAY = 86_400.0
EPOCH = 1_700_000_000.0  # 2023-11-14: a fixed start so runs are reproducible

KINDS = (
    "honest",
    "sock",
    "sock_master",
    "ring",
    "camouflage",
    "hired",
    "hired_client",
    "burst",
    "burst_target",
    "scammer",
)


@dataclass(frozen=True)
class MarketConfig:
    """Sizes of the honest market and of each attack."""

    buyers: int = 3000
    sellers: int = 300
    orders: int = 30_000
    days: float = 365.0
    rate_share: float = 0.8
    rate_back_share: float = 0.5
    sock_attacks: int = 4
    socks_per_attack: int = 50
    rings: int = 3
    ring_size: int = 10
    camouflage_rings: int = 2
    camouflage_per_member: int = 15
    hired_reviewers: int = 15
    hired_clients: int = 12
    bursts: int = 4
    burst_size: int = 40
    scammers: int = 5
    scam_socks: int = 8

    def __post_init__(self) -> None:
        assert self.buyers > 0 and self.sellers > 0 and self.orders > 0 and self.days > 0
        assert 0 <= self.rate_share <= 1 and 0 <= self.rate_back_share <= 1


SIZES: dict[str, MarketConfig] = {
    "small": MarketConfig(buyers=600, sellers=60, orders=5_000, sock_attacks=2, rings=2,
                          camouflage_rings=1, hired_reviewers=8, hired_clients=10, bursts=2,
                          scammers=3),
    "medium": MarketConfig(),
    "large": MarketConfig(buyers=100_000, sellers=8_000, orders=1_000_000, sock_attacks=20,
                          rings=15, camouflage_rings=10, hired_reviewers=80, hired_clients=60,
                          bursts=20, scammers=40),
}


@dataclass(frozen=True, eq=False)
class Market:
    """A simulated market: accounts and rated orders (one row per rating)."""

    account_id: NDArray[np.object_]
    role: NDArray[np.object_]
    kind: NDArray[np.object_]
    quality: NDArray[np.float64]
    rater: NDArray[np.int64]
    ratee: NDArray[np.int64]
    stars: NDArray[np.int64]
    timestamp: NDArray[np.float64]
    value: NDArray[np.int64]
    config: MarketConfig = field(default_factory=MarketConfig)

    @property
    def fraudulent(self) -> NDArray[np.bool_]:
        """Ground truth per account."""
        result: NDArray[np.bool_] = self.kind != "honest"
        return result

    def graph(self) -> RatingGraph:
        """The ratings as a ``RatingGraph`` (stars 1..5 scaled to [-1, 1], value in cents)."""
        return RatingGraph.from_indices(
            self.rater,
            self.ratee,
            (self.stars - 3.0) / 2.0,
            accounts=self.account_id,
            timestamp=self.timestamp,
            value=self.value.astype(np.float64),
        )


class _Builder:
    """Accumulates accounts and ratings while the attacks are planted."""

    def __init__(self, rng: np.random.Generator, config: MarketConfig) -> None:
        self.rng = rng
        self.config = config
        self.role: list[NDArray[np.object_]] = []
        self.kind: list[NDArray[np.object_]] = []
        self.quality: list[NDArray[np.float64]] = []
        self.edges: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64],
                               NDArray[np.float64], NDArray[np.int64]]] = []
        self.count = 0

    def accounts(self, size: int, role: str, kind: str, quality: float | NDArray[np.float64]
                 = np.nan) -> NDArray[np.int64]:
        first = self.count
        self.count += size
        self.role.append(np.full(size, role, dtype=object))
        self.kind.append(np.full(size, kind, dtype=object))
        self.quality.append(np.broadcast_to(np.asarray(quality, dtype=np.float64), (size,)).copy())
        return np.arange(first, first + size, dtype=np.int64)

    def ratings(self, rater: NDArray[np.int64], ratee: NDArray[np.int64],
                stars: NDArray[np.int64], timestamp: NDArray[np.float64]) -> None:
        value = np.round(self.rng.lognormal(np.log(3000), 0.8, rater.shape[0])).astype(np.int64)
        self.edges.append((rater, ratee, stars, timestamp, value))

    def stars_for(self, good: NDArray[np.bool_]) -> NDArray[np.int64]:
        """J-shaped stars: good orders mostly 5, bad orders mostly 1."""
        n = good.shape[0]
        if_good = self.rng.choice([5, 4, 3], size=n, p=[0.8, 0.15, 0.05])
        if_bad = self.rng.choice([1, 2, 3, 4, 5], size=n, p=[0.55, 0.2, 0.12, 0.08, 0.05])
        stars: NDArray[np.int64] = np.where(good, if_good, if_bad).astype(np.int64)
        return stars


def simulate_market(config: MarketConfig | None = None, *, seed: int = 0) -> Market:
    """Simulate a market with honest trade and labelled attacks.

    Parameters
    ----------
    config : MarketConfig, optional
        Sizes; ``SIZES["medium"]`` by default.
    seed : int
        Everything random comes from ``numpy.random.default_rng(seed)``.

    Examples
    --------
    >>> m = simulate_market(SIZES["small"], seed=1)
    >>> m2 = simulate_market(SIZES["small"], seed=1)
    >>> bool((m.stars == m2.stars).all()), sorted(set(m.kind))[:3]
    (True, ['burst', 'burst_target', 'camouflage'])
    """
    c = config or MarketConfig()
    rng = np.random.default_rng(seed)
    b = _Builder(rng, c)
    horizon = c.days * DAY
    quality = rng.beta(6.0, 1.2, c.sellers)
    sellers = b.accounts(c.sellers, "seller", "honest", quality)
    buyers = b.accounts(c.buyers, "buyer", "honest")
    # Buyers drift towards good sellers, so popularity grows with quality.
    popularity = (rng.pareto(1.2, c.sellers) + 0.05) * quality**2
    activity = rng.pareto(1.5, c.buyers) + 0.1
    start = rng.uniform(0.0, 0.8 * horizon, c.sellers)
    _honest_orders(b, sellers, buyers, popularity, activity, start, c.orders, horizon)

    _plant_socks(b, buyers, popularity, sellers, horizon, activity)
    _plant_rings(b, sellers, popularity, horizon)
    _plant_hired(b, buyers, activity, horizon)
    _plant_bursts(b, buyers, activity, horizon)
    _plant_scammers(b, buyers, activity, horizon)
    return _finish(b, rng)


def _honest_orders(
    b: _Builder,
    sellers: NDArray[np.int64],
    buyers: NDArray[np.int64],
    popularity: NDArray[np.float64],
    activity: NDArray[np.float64],
    start: NDArray[np.float64],
    orders: int,
    horizon: float,
    quality: NDArray[np.float64] | None = None,
) -> None:
    rng, c = b.rng, b.config
    seller_pick = rng.choice(sellers.shape[0], size=orders, p=popularity / popularity.sum())
    buyer = rng.choice(buyers, size=orders, p=activity / activity.sum())
    seller = sellers[seller_pick]
    when = rng.uniform(start[seller_pick], horizon)
    q = b.quality[0][seller] if quality is None else quality[seller_pick]
    good = rng.random(orders) < q
    rated = rng.random(orders) < c.rate_share
    b.ratings(buyer[rated], seller[rated], b.stars_for(good[rated]), when[rated] + DAY)
    back = rng.random(orders) < c.rate_back_share
    back_stars = rng.choice([5, 4, 1], size=orders, p=[0.9, 0.08, 0.02]).astype(np.int64)
    b.ratings(seller[back], buyer[back], back_stars[back], when[back] + 2 * DAY)


def _new_sellers(b: _Builder, size: int, kind: str, quality_max: float,
                 buyers: NDArray[np.int64], activity: NDArray[np.float64], horizon: float,
                 orders_each: int = 25, quality_min: float = 0.15,
                 ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Sellers with some honest trade of their own (they start in the first 70% of the year)."""
    if size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    quality = b.rng.uniform(quality_min, quality_max, size)
    sellers = b.accounts(size, "seller", kind, quality)
    start = b.rng.uniform(0.1 * horizon, 0.7 * horizon, size)
    _honest_orders(b, sellers, buyers, np.ones(size), activity, start, orders_each * size,
                   horizon, quality)
    return sellers, start


def _plant_socks(b: _Builder, buyers: NDArray[np.int64], popularity: NDArray[np.float64],
                 sellers: NDArray[np.int64], horizon: float,
                 activity: NDArray[np.float64]) -> None:
    rng, c = b.rng, b.config
    masters, start = _new_sellers(b, c.sock_attacks, "sock_master", 0.45, buyers, activity,
                                  horizon)
    popular = sellers[np.argsort(-popularity)[: max(1, sellers.shape[0] // 10)]]
    for master, begin in zip(masters, start, strict=True):
        socks = b.accounts(c.socks_per_attack, "buyer", "sock")
        when = begin + rng.uniform(0, 21 * DAY, socks.shape[0])
        b.ratings(socks, np.full(socks.shape[0], master), np.full(socks.shape[0], 5), when)
        back = socks[rng.random(socks.shape[0]) < 0.5]
        b.ratings(np.full(back.shape[0], master), back, np.full(back.shape[0], 5),
                  begin + rng.uniform(0, 21 * DAY, back.shape[0]))
        cover = socks[rng.random(socks.shape[0]) < 0.3]
        b.ratings(cover, rng.choice(popular, cover.shape[0]), np.full(cover.shape[0], 5),
                  rng.uniform(begin, horizon, cover.shape[0]))


def _plant_rings(b: _Builder, sellers: NDArray[np.int64], popularity: NDArray[np.float64],
                 horizon: float) -> None:
    rng, c = b.rng, b.config
    popular = sellers[np.argsort(-popularity)[: max(1, sellers.shape[0] // 5)]]
    for index in range(c.rings + c.camouflage_rings):
        camouflage = index >= c.rings
        members = b.accounts(c.ring_size, "seller", "camouflage" if camouflage else "ring", 0.5)
        rater, ratee = np.meshgrid(members, members, indexing="ij")
        keep = (rater != ratee) & (rng.random(rater.shape) < 0.85)
        begin = rng.uniform(0, 0.5 * horizon)
        when = begin + rng.uniform(0, 120 * DAY, int(keep.sum()))
        b.ratings(rater[keep], ratee[keep], np.full(when.shape[0], 5), when)
        if camouflage:
            size = members.shape[0] * c.camouflage_per_member
            b.ratings(np.repeat(members, c.camouflage_per_member), rng.choice(popular, size),
                      rng.choice([5, 4], size=size, p=[0.8, 0.2]).astype(np.int64),
                      rng.uniform(begin, horizon, size))


def _plant_hired(b: _Builder, buyers: NDArray[np.int64], activity: NDArray[np.float64],
                 horizon: float) -> None:
    rng, c = b.rng, b.config
    if c.hired_reviewers == 0 or c.hired_clients == 0:
        return
    clients, start = _new_sellers(b, c.hired_clients, "hired_client", 0.5, buyers, activity,
                                  horizon, orders_each=15)
    reviewers = b.accounts(c.hired_reviewers, "buyer", "hired")
    rater, pick = np.meshgrid(reviewers, np.arange(clients.shape[0]), indexing="ij")
    keep = rng.random(rater.shape) < 0.6
    when = start[pick[keep]] + rng.uniform(0, 25 * DAY, int(keep.sum()))
    b.ratings(rater[keep], clients[pick[keep]], np.full(when.shape[0], 5), when)


def _plant_bursts(b: _Builder, buyers: NDArray[np.int64], activity: NDArray[np.float64],
                  horizon: float) -> None:
    rng, c = b.rng, b.config
    targets, start = _new_sellers(b, c.bursts, "burst_target", 0.5, buyers, activity, horizon)
    for target, begin in zip(targets, start, strict=True):
        raters = b.accounts(c.burst_size, "buyer", "burst")
        moment = begin + rng.uniform(30 * DAY, 90 * DAY)
        when = moment + rng.uniform(0, 6 * 3600.0, raters.shape[0])
        b.ratings(raters, np.full(raters.shape[0], target), np.full(raters.shape[0], 5), when)


def _plant_scammers(b: _Builder, buyers: NDArray[np.int64], activity: NDArray[np.float64],
                    horizon: float) -> None:
    rng, c = b.rng, b.config
    # A scammer never delivers: an order goes "well" only by the odd forgiving or confused buyer.
    scammers, start = _new_sellers(b, c.scammers, "scammer", 0.05, buyers, activity, horizon,
                                   orders_each=20, quality_min=0.0)
    for scammer, begin in zip(scammers, start, strict=True):
        socks = b.accounts(c.scam_socks, "buyer", "sock")
        when = begin + rng.uniform(0, 10 * DAY, socks.shape[0])
        b.ratings(socks, np.full(socks.shape[0], scammer), np.full(socks.shape[0], 5), when)


def _finish(b: _Builder, rng: np.random.Generator) -> Market:
    rater, ratee, stars, timestamp, value = (np.concatenate(parts) for parts in zip(*b.edges,
                                                                                   strict=True))
    # Ids carry no hint of the role or attack: a random permutation of neutral names.
    names = np.array([f"acct{i:07d}" for i in rng.permutation(b.count)], dtype=object)
    order = np.argsort(timestamp, kind="stable")
    return Market(
        account_id=names,
        role=np.concatenate(b.role),
        kind=np.concatenate(b.kind),
        quality=np.concatenate(b.quality),
        rater=rater[order].astype(np.int64),
        ratee=ratee[order].astype(np.int64),
        stars=stars[order].astype(np.int64),
        timestamp=EPOCH + timestamp[order],
        value=value[order],
        config=b.config,
    )
