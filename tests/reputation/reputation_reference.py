"""Slow, obvious twins of the vectorised methods: plain Python loops over edges and dicts.

They follow the papers' formulas line by line so the fast versions can be checked to 1e-9.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

Edge = tuple[int, int, float, float]  # rater, ratee, rating in [-1, 1], timestamp


@dataclass
class Rev2Slow:
    fairness: dict[int, float]
    goodness: dict[int, float]
    reliability: list[float]
    iterations: int


def rev2_slow(
    edges: list[Edge],
    params: tuple[float, float, float, float, float, float, float] = (1, 1, 1, 1, 1, 1, 1),
    *,
    b_rater: list[float] | None = None,
    b_ratee: list[float] | None = None,
    b_rating: list[float] | None = None,
    weight: list[float] | None = None,
    iterations_max: int = 500,
    tolerance: float = 1e-6,
) -> Rev2Slow:
    """REV2 (``rev2``'s docstring), with the optional suspicions ``b_*`` (default 0, indexed by
    account or by edge) and rater weights (default 1, indexed by account)."""
    a1, a2, b1, b2, g1, g2, g3 = params

    def w(u: int) -> float:
        return 1.0 if weight is None else weight[u]

    def b(values: list[float] | None, i: int) -> float:
        return 0.0 if values is None else values[i]

    raters = sorted({e[0] for e in edges})
    ratees = sorted({e[1] for e in edges})
    fairness = dict.fromkeys(raters, 1.0)
    goodness = dict.fromkeys(ratees, 1.0)
    reliability = [1.0] * len(edges)
    out_edges: dict[int, list[int]] = defaultdict(list)
    in_edges: dict[int, list[int]] = defaultdict(list)
    for k, (u, p, _, _) in enumerate(edges):
        out_edges[u].append(k)
        in_edges[p].append(k)
    for iteration in range(1, iterations_max + 1):
        mu_g = statistics.median(goodness.values())
        new_g = {}
        for p in ratees:
            total = 0.0
            denominator = b1 + b2
            for k in in_edges[p]:
                total += w(edges[k][0]) * reliability[k] * edges[k][2]
                denominator += w(edges[k][0])
            # No evidence and no smoothing: the start value stays (0/0 otherwise).
            value = (b1 * mu_g + b2 * (1 - 2 * b(b_ratee, p)) + total) / denominator \
                if denominator > 0 else 1.0
            new_g[p] = min(1.0, max(-1.0, value))
        new_r = []
        for k, (u, p, s, _) in enumerate(edges):
            value = (g1 * fairness[u] + g2 * (1 - abs(s - new_g[p]) / 2)
                     + g3 * (1 - b(b_rating, k))) / (g1 + g2 + g3)
            new_r.append(min(1.0, max(0.0, value)))
        mu_f = statistics.median(fairness.values())
        new_f = {}
        for u in raters:
            total = 0.0
            for k in out_edges[u]:
                total += new_r[k]
            value = (a1 * mu_f + a2 * (1 - b(b_rater, u)) + total) / (a1 + a2 + len(out_edges[u]))
            new_f[u] = min(1.0, max(0.0, value))
        delta = max(
            max(abs(new_g[p] - goodness[p]) for p in ratees),
            max(abs(x - y) for x, y in zip(new_r, reliability, strict=True)),
            max(abs(new_f[u] - fairness[u]) for u in raters),
        )
        fairness, goodness, reliability = new_f, new_g, new_r
        if delta <= tolerance:
            return Rev2Slow(fairness, goodness, reliability, iteration)
    raise RuntimeError("did not converge")


def assert_rev2_matches(fast: Any, slow: Rev2Slow) -> None:
    """``bonafide.reputation.rev2``'s result equals the twin's to 1e-9, in as many iterations."""
    assert fast.iterations == slow.iterations
    for u, value in slow.fairness.items():
        assert abs(fast.fairness[u] - value) <= 1e-9, (u, fast.fairness[u], value)
    for p, value in slow.goodness.items():
        assert abs(fast.goodness[p] - value) <= 1e-9, (p, fast.goodness[p], value)
    assert max((abs(a - b) for a, b in zip(fast.reliability, slow.reliability, strict=True)),
               default=0.0) <= 1e-9


def fraudar_slow(
    edges: list[Edge],
    *,
    blocks_max: int,
    column_offset: float = 5.0,
    epsilon: float = 0.1,
) -> list[tuple[set[int], set[int], float, float]]:
    """Batch peeling over positive, de-duplicated edges, one dict update at a time."""
    pairs: list[tuple[int, int]] = []
    seen = set()
    for u, p, s, _ in edges:
        if s > 0 and (u, p) not in seen:
            seen.add((u, p))
            pairs.append((u, p))
    degree_in: dict[int, int] = defaultdict(int)
    for _, p in pairs:
        degree_in[p] += 1
    weight = {(u, p): 1.0 / math.log(degree_in[p] + column_offset) for u, p in pairs}
    remaining = set(pairs)
    blocks = []
    for _ in range(blocks_max):
        if not remaining:
            break
        rows = {u for u, _ in remaining}
        cols = {p for _, p in remaining}
        best = (-1.0, set(rows), set(cols))
        first_density = -1.0
        while rows or cols:
            deg_row: dict[int, float] = dict.fromkeys(rows, 0.0)
            deg_col: dict[int, float] = dict.fromkeys(cols, 0.0)
            for u, p in pairs:
                if (u, p) in remaining and u in rows and p in cols:
                    deg_row[u] += weight[(u, p)]
                    deg_col[p] += weight[(u, p)]
            total = math.fsum(deg_row.values())
            density = total / (len(rows) + len(cols))
            if first_density < 0:
                first_density = density
            if density > best[0]:
                best = (density, set(rows), set(cols))
            cut = (1 + epsilon) * 2 * density
            rows = {u for u in rows if not deg_row[u] <= cut}
            cols = {p for p in cols if not deg_col[p] <= cut}
        blocks.append((best[1], best[2], best[0], first_density))
        remaining = {(u, p) for u, p in remaining if not (u in best[1] and p in best[2])}
    return blocks


def burst_slow(
    edges: list[Edge],
    *,
    windows: tuple[float, ...] = (86_400.0, 7 * 86_400.0, 30 * 86_400.0),
    count_min: float = 5.0,
    ratio_min: float = 2.0,
) -> list[float]:
    t0 = min(e[3] for e in edges)
    by_ratee: dict[int, list[float]] = defaultdict(list)
    for _, p, _, t in edges:
        by_ratee[p].append(t - t0)
    result = [0.0] * len(edges)
    for window in windows:
        for offset in (0.0, 0.5):
            for k, (_, p, _, t) in enumerate(edges):
                mine = math.floor((t - t0) / window + offset)
                times = by_ratee[p]
                count = sum(1 for x in times if math.floor(x / window + offset) == mine)
                span = max(times) - min(times)
                if span < 3 * window:
                    continue
                expected = (len(times) - count) * window / max(span - window, window)
                score = min(1.0, max(0.0, 1 - (ratio_min * expected + count_min) / count))
                result[k] = max(result[k], score)
    return result


def hired_slow(
    edges: list[Edge], n: int, *, young: float = 30 * 86_400.0, extreme: float = 0.99,
    prior: float = 1.0, scale: float = 3.0,
) -> list[float]:
    first: dict[int, float] = {}
    for _, p, _, t in edges:
        first[p] = min(first.get(p, math.inf), t)
    count = [0.0] * n
    degree = [0.0] * n
    for u, p, s, t in edges:
        degree[u] += 1
        if t - first[p] < young and abs(s) >= extreme:
            count[u] += 1
    return [
        c / (d + prior) * (1 - math.exp(-c / scale)) for c, d in zip(count, degree, strict=True)
    ]


def ring_slow(
    edges: list[Edge], n: int, *, degree_max: int = 50, prior: float = 2.0
) -> list[float]:
    neighbours: dict[int, set[int]] = defaultdict(set)
    for u, p, s, _ in edges:
        if s > 0 and u != p:
            neighbours[u].add(p)
            neighbours[p].add(u)
    small = {v for v in range(n) if len(neighbours[v]) <= degree_max}
    kept = {v: {w for w in neighbours[v] if w in small} if v in small else set() for v in range(n)}
    result = []
    for v in range(n):
        mine = kept[v]
        closed = sum(1 for a in mine for b in mine if a != b and b in kept[a])
        d = len(mine)
        result.append(closed / (d * (d - 1) + prior))
    return result


def linked_slow(edges: list[Edge], links: list[tuple[int, int]]) -> list[bool]:
    pairs = {frozenset(pair) for pair in links}
    return [frozenset((u, p)) in pairs for u, p, _, _ in edges]


@dataclass
class ScoreSlow:
    fraud: list[float]
    weight: list[float]
    reputation: list[float]


def score_slow(
    edges: list[Edge],
    n: int,
    *,
    labels: list[int] | None = None,
    links: list[tuple[int, int]] | None = None,
    now: float | None = None,
    floor: float = 0.5,
    prior_good: float = 1.0,
    prior_bad: float = 1.0,
    half_life: float = 2 * 365.25 * 86_400.0,
    prior_strength: float = 5.0,
    benefit_prior: float = 5.0,
    ratio_min: float = 3.0,
    bought: bool = True,
    iterations_max: int = 200,
    tolerance: float = 1e-6,
) -> ScoreSlow:
    """The default method of ``bonafide.reputation.score``, one account and one edge at a time."""
    label = labels or [-1] * n

    def floored(x: float) -> float:
        return min(1.0, max(0.0, (x - floor) / (1 - floor)))

    burst_raw = burst_slow(edges)
    burst = [floored(x) for x in burst_raw]
    hired = [floored(x) for x in hired_slow(edges, n)]
    ring = [floored(x) for x in ring_slow(edges, n)]
    linked = linked_slow(edges, links or [])
    block_account = [0.0] * n
    block_edge = [0.0] * len(edges)
    for rows, cols, density, density_graph in fraudar_slow(edges, blocks_max=3):
        ratio = density / density_graph if density_graph > 0 else 0.0
        if ratio < ratio_min:
            continue
        strength = 1 - ratio_min / ratio
        for v in rows:
            block_account[v] = max(block_account[v], strength)
        for k, (u, p, s, _) in enumerate(edges):
            if s > 0 and u in rows and p in cols:
                block_edge[k] = max(block_edge[k], strength)
    degree = [0] * n
    for u, _, _, _ in edges:
        degree[u] += 1
    burst_account = [0.0] * n
    linked_account = [0.0] * n
    for k, (u, _, _, _) in enumerate(edges):
        burst_account[u] += burst[k] / max(degree[u], 1)
        linked_account[u] += float(linked[k]) / max(degree[u], 1)
    behaviour = [
        1 - (1 - hired[v]) * (1 - block_account[v]) * (1 - burst_account[v])
        * (1 - linked_account[v]) * (1 - ring[v])
        for v in range(n)
    ]
    first: dict[int, float] = {}
    for _, p, _, t in edges:
        first[p] = min(first.get(p, math.inf), t)
    keep = []
    unbought = [1.0] * n  # per ratee: the chance that none of its ratings was bought
    for k, (u, p, s, t) in enumerate(edges):
        ring_edge = min(ring[u], ring[p]) if s > 0 else 0.0
        hired_like = t - first[p] < 30 * 86_400.0 and abs(s) >= 0.99
        hired_edge = hired[u] if hired_like else 0.0
        keep.append((1 - burst_raw[k]) * (1 - block_edge[k]) * (1 - float(linked[k]))
                    * (1 - ring_edge) * (1 - hired_edge))
        unbought[p] *= 1 - (hired_edge if s > 0 else 0.0)
    good = [max(0.0, s) for _, _, s, _ in edges]
    bad = [max(0.0, -s) for _, _, s, _ in edges]

    def rater_weight(v: int, trust: list[float]) -> float:
        return 1.0 - label[v] if label[v] >= 0 else trust[v] * (1 - behaviour[v])

    trust = [prior_good / (prior_good + prior_bad)] * n
    for _ in range(iterations_max):
        sum_good = [0.0] * n
        sum_bad = [0.0] * n
        for k, (u, p, _, _) in enumerate(edges):
            w = rater_weight(u, trust) * keep[k]
            sum_good[p] += w * good[k]
            sum_bad[p] += w * bad[k]
        new = [(prior_good + g) / (prior_good + prior_bad + g + b)
               for g, b in zip(sum_good, sum_bad, strict=True)]
        delta = max(abs(a - b) for a, b in zip(new, trust, strict=True))
        trust = new
        if delta <= tolerance:
            break
    else:
        raise RuntimeError("did not converge")
    fake = [0.0] * n
    praise = [0.0] * n
    for k, (u, p, _, _) in enumerate(edges):
        fake[p] += good[k] * (1 - keep[k] * (1 - behaviour[u]))
        praise[p] += good[k]
    fraud = []
    for v in range(n):
        if label[v] >= 0:
            fraud.append(float(label[v]))
        else:
            benefit = fake[v] / (praise[v] + benefit_prior)
            if bought:
                benefit = 1 - (1 - benefit) * unbought[v]
            fraud.append(1 - rater_weight(v, trust) * (1 - benefit))
    weight = [rater_weight(u, trust) * keep[k] for k, (u, _, _, _) in enumerate(edges)]
    reference = max(t for _, _, _, t in edges) if now is None else now
    rep_good = [0.0] * n
    rep_bad = [0.0] * n
    for k, (_, p, _, t) in enumerate(edges):
        decay = 0.5 ** (max(reference - t, 0.0) / half_life)
        rep_good[p] += weight[k] * decay * good[k]
        rep_bad[p] += weight[k] * decay * bad[k]
    total = sum(rep_good) + sum(rep_bad)
    share = sum(rep_good) / total if total > 0 else 0.5
    share = min(max(share, 0.01), 0.99)
    reputation = [
        (prior_strength * share + g) / (prior_strength + g + b)
        for g, b in zip(rep_good, rep_bad, strict=True)
    ]
    return ScoreSlow(fraud, weight, reputation)
