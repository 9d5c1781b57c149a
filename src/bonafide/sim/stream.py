"""Synthetic rating graphs of any size, generated and written chunk by chunk as Parquet.

Owns: ``GraphConfig``, ``generate_chunks`` and ``write_graph`` (``bonafide simulate-graph``).
Imports: NumPy and pyarrow; never the store or the service.

Memory is bounded by the chunk, not the graph: only per-account tables (cumulative popularity
of buyers and sellers, ``O(accounts)``) are held, and each chunk of ``chunk_rows`` ratings is drawn
from its own generator seeded by ``(seed, chunk index)``: the same seed and chunk size give the
same graph, and any chunk can be regenerated alone (or in parallel).

The graph: buyers rate sellers, and for a share ``rate_back_share`` of orders the seller rates the
buyer back (5 stars). Buyer activity and seller popularity follow Pareto laws (power-law
degrees), capped so that no one account expects more than ``share_max`` of the orders: with
shape 1.2 the law has no variance, and an uncapped draw once gave one seller 38 % of a 10 M
graph, a market no size of which looks like the others. Each seller has a quality (its chance
of a good order) and ratings are J-shaped (a good order is mostly 5 stars, a bad one mostly 1).
Planted attacks, with labels:

* ``ring``: groups of ``ring_size`` accounts that all rate each other 5 stars;
* ``sock``: fresh accounts that give one master seller (``sock_master``) 5 stars (self-dealing).

A share ``attack_share`` of each chunk's rows are attack ratings, spread evenly over the chunks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

DAY = 86_400.0
EPOCH = 1_700_000_000.0
RATINGS_MAX = 20_000_000_000
CHUNK_ROWS_MAX = 10_000_000


@dataclass(frozen=True)
class GraphConfig:
    """Size and shape of a generated graph; accounts scale with ``ratings`` by default."""

    ratings: int
    buyers: int = 0  # 0: ratings // 10
    sellers: int = 0  # 0: ratings // 100
    days: float = 365.0
    pareto_shape: float = 1.2
    share_max: float = 0.002  # the largest share of orders one buyer or seller may expect
    attack_share: float = 0.01
    rate_back_share: float = 0.5
    ring_size: int = 10
    rings: int = 0  # 0: ratings // 100_000 (at least 1)
    socks_per_master: int = 50
    masters: int = 0  # 0: ratings // 100_000 (at least 1)

    def __post_init__(self) -> None:
        assert 0 < self.ratings <= RATINGS_MAX, "ratings in 1 .. RATINGS_MAX"
        assert 0 <= self.rate_back_share <= 1
        assert self.days > 0 and self.pareto_shape > 0 and 0 <= self.attack_share < 1
        assert 0 < self.share_max <= 1
        assert self.ring_size >= 3 and self.socks_per_master >= 1

    @property
    def n_buyers(self) -> int:
        """Buyers (accounts ``0 .. n_buyers - 1``)."""
        return self.buyers or max(self.ratings // 10, 10)

    @property
    def n_sellers(self) -> int:
        """Sellers (the next ``n_sellers`` accounts)."""
        return self.sellers or max(self.ratings // 100, 3)

    @property
    def n_rings(self) -> int:
        """Rings planted."""
        return self.rings or max(self.ratings // 100_000, 1)

    @property
    def n_masters(self) -> int:
        """Self-dealing sellers, each with its own socks."""
        return self.masters or max(self.ratings // 100_000, 1)

    @property
    def n_accounts(self) -> int:
        """Every account: buyers, sellers, ring members, socks and their masters."""
        return (self.n_buyers + self.n_sellers + self.n_rings * self.ring_size
                + self.n_masters * (1 + self.socks_per_master))


@dataclass(frozen=True, eq=False)
class _Tables:
    """Per-account tables the chunks draw from (O(accounts) memory)."""

    buyer_cdf: NDArray[np.float64]
    seller_cdf: NDArray[np.float64]
    seller_quality: NDArray[np.float64]


def _tables(config: GraphConfig, seed: int) -> _Tables:
    rng = np.random.default_rng([seed, 0xACC])
    buyer = capped(rng.pareto(config.pareto_shape, config.n_buyers) + 1.0, config.share_max)
    seller = capped(rng.pareto(config.pareto_shape, config.n_sellers) + 1.0, config.share_max)
    quality = rng.beta(9.0, 1.0, config.n_sellers)
    return _Tables(np.cumsum(buyer) / buyer.sum(), np.cumsum(seller) / seller.sum(), quality)


CAP_ITERATIONS_MAX = 200


def capped(weights: NDArray[np.float64], share_max: float) -> NDArray[np.float64]:
    """``weights`` with the largest lowered to a cap ``c`` at which every share
    ``min(w, c) / sum(min(w, c))`` is at most ``share_max``; unchanged when none is over it, or
    when ``share_max`` is under an equal share (no cap could hold then).

    The cap is the fixed point of ``c = share_max * sum(min(w, c))``, reached from above: each
    step lowers ``c``, and the sum with it, until they agree.

    Examples
    --------
    >>> [round(w, 9) for w in capped(np.array([1.0, 1.0, 1.0, 7.0]), 0.5).tolist()]
    [1.0, 1.0, 1.0, 3.0]
    """
    total = float(weights.sum())
    if weights.shape[0] * share_max <= 1.0 or weights.max() <= share_max * total:
        return weights
    cap = share_max * total
    for _ in range(CAP_ITERATIONS_MAX):
        lower = share_max * float(np.minimum(weights, cap).sum())
        if lower >= cap * (1.0 - 1e-12):
            break
        cap = lower
    result: NDArray[np.float64] = np.minimum(weights, cap)
    return result


def _draw(cdf: NDArray[np.float64], rng: np.random.Generator, size: int) -> NDArray[np.int64]:
    index: NDArray[np.int64] = np.minimum(np.searchsorted(cdf, rng.random(size)),
                                          cdf.shape[0] - 1).astype(np.int64)
    return index


def _stars(good: NDArray[np.bool_], rng: np.random.Generator) -> NDArray[np.int64]:
    """J-shaped stars: good orders 5/4/3 = 85/12/3 %, bad ones 1/2/3 = 70/20/10 %."""
    u = rng.random(good.shape[0])
    good_stars = np.where(u < 0.85, 5, np.where(u < 0.97, 4, 3))
    bad_stars = np.where(u < 0.70, 1, np.where(u < 0.90, 2, 3))
    stars: NDArray[np.int64] = np.where(good, good_stars, bad_stars).astype(np.int64)
    return stars


def generate_chunks(
    config: GraphConfig, *, seed: int, chunk_rows: int = 1_000_000
) -> Iterator[dict[str, NDArray[Any]]]:
    """Yield the graph as chunks of at most ``chunk_rows`` ratings (columns as NumPy arrays).

    Columns: ``rater``, ``ratee`` (int64 account numbers), ``rating`` (int64 stars 1..5) and
    ``timestamp`` (float64 Unix seconds).

    Examples
    --------
    >>> chunks = list(generate_chunks(GraphConfig(ratings=2500), seed=1, chunk_rows=1000))
    >>> [c["rater"].shape[0] for c in chunks]
    [1000, 1000, 500]
    """
    assert 0 < chunk_rows <= CHUNK_ROWS_MAX
    tables = _tables(config, seed)
    rings_first = config.n_buyers + config.n_sellers
    masters_first = rings_first + config.n_rings * config.ring_size
    for index, start in enumerate(range(0, config.ratings, chunk_rows)):
        size = min(chunk_rows, config.ratings - start)
        rng = np.random.default_rng([seed, index])
        attacks = round(size * config.attack_share)
        # Of the honest rows, ``back`` are sellers rating the buyer of an order (5 stars).
        back = round((size - attacks) * config.rate_back_share
                         / (1.0 + config.rate_back_share))
        orders = size - attacks - back
        buyer = _draw(tables.buyer_cdf, rng, orders)
        seller = _draw(tables.seller_cdf, rng, orders)
        stars = _stars(rng.random(orders) < tables.seller_quality[seller], rng)
        half = attacks // 2
        # Rings: a random member rates another member of its ring.
        ring = rng.integers(0, config.n_rings, half)
        member = rng.integers(0, config.ring_size, half)
        other = (member + rng.integers(1, config.ring_size, half)) % config.ring_size
        ring_rater = rings_first + ring * config.ring_size + member
        ring_ratee = rings_first + ring * config.ring_size + other
        # Self-dealing: a sock rates its master.
        master = rng.integers(0, config.n_masters, attacks - half)
        sock = rng.integers(0, config.socks_per_master, attacks - half)
        block = masters_first + master * (1 + config.socks_per_master)
        rater = np.concatenate([buyer, config.n_buyers + seller[:back], ring_rater,
                                block + 1 + sock])
        ratee = np.concatenate([config.n_buyers + seller, buyer[:back], ring_ratee, block])
        rating = np.concatenate([stars, np.full(back + attacks, 5, dtype=np.int64)])
        timestamp = EPOCH + np.round(rng.random(size) * config.days * DAY, 3)
        yield {"rater": rater.astype(np.int64), "ratee": ratee.astype(np.int64),
               "rating": rating, "timestamp": timestamp}


def labels(config: GraphConfig) -> dict[str, NDArray[Any]]:
    """``account, fraudulent, kind`` for every planted attacker (honest accounts are omitted)."""
    rings_first = config.n_buyers + config.n_sellers
    ring = np.arange(rings_first, rings_first + config.n_rings * config.ring_size)
    masters_first = ring[-1] + 1 if ring.size else rings_first
    block = np.arange(config.n_masters * (1 + config.socks_per_master)) + masters_first
    is_master = (block - masters_first) % (1 + config.socks_per_master) == 0
    account = np.concatenate([ring, block])
    kind = np.concatenate([np.full(ring.shape[0], "ring", dtype=object),
                           np.where(is_master, "sock_master", "sock").astype(object)])
    return {"account": account, "fraudulent": np.ones(account.shape[0], dtype=np.int64),
            "kind": kind}


def write_graph(
    config: GraphConfig,
    directory: Path,
    *,
    seed: int,
    chunk_rows: int = 1_000_000,
    chunks_per_file: int = 10,
) -> tuple[list[Path], Path]:
    """Write ``ratings/part-NNNNN.parquet`` (one row group per chunk) and ``labels.parquet``.

    Each file is written to a temporary name and renamed when complete. Returns the rating files
    and the labels file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    assert chunks_per_file >= 1
    ratings_dir = directory / "ratings"
    ratings_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    writer: Any = None
    temporary = target = Path()
    for index, chunk in enumerate(generate_chunks(config, seed=seed, chunk_rows=chunk_rows)):
        if index % chunks_per_file == 0:
            if writer is not None:
                writer.close()
                os.replace(temporary, target)
                files.append(target)
            target = ratings_dir / f"part-{len(files):05d}.parquet"
            temporary = ratings_dir / f".{target.name}.{os.getpid()}.tmp"
            writer = None
        table = pa.table(chunk)
        if writer is None:
            writer = pq.ParquetWriter(temporary, table.schema)
        writer.write_table(table, row_group_size=chunk_rows)
    if writer is not None:
        writer.close()
        os.replace(temporary, target)
        files.append(target)
    label_path = directory / "labels.parquet"
    label_table = labels(config)
    pq.write_table(pa.table({"account": pa.array(label_table["account"].astype(str)),
                             "fraudulent": label_table["fraudulent"],
                             "kind": pa.array(label_table["kind"].astype(str))}), label_path)
    return files, label_path
