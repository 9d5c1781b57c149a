"""The default fraud and reputation method, and the ``score_graph`` entry point.

Owns: ``score_graph``, ``ScoreParams``, ``ScoreResult``, ``Reason``. Imports: NumPy, SciPy and
the other ``reputation`` modules. Pure: no clock (``now`` is an argument), no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from bonafide.errors import Rejected
from bonafide.reputation.behaviour import (
    burst_suspicion,
    hired_like_ratings,
    hired_suspicion,
    linked_ratings,
    ring_suspicion,
)
from bonafide.reputation.fraudar import Block, fraudar
from bonafide.reputation.graph import (
    BoolArray,
    ConvergenceError,
    FloatArray,
    IndexArray,
    RatingGraph,
)
from bonafide.reputation.kernels import floor_signal, outcomes, trust_finish
from bonafide.reputation.rev2 import Rev2Params, rev2
from bonafide.reputation.sweep import PARALLEL_EDGES_MIN, Workers, add_by, count_by, edge_slices

METHODS = ("default", "rev2")
YEAR_SECONDS = 365.25 * 86_400.0
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScoreParams:
    """Parameters of the default method (see ``docs/reputation.md`` for how they were chosen).

    Trust: an account's trust is the posterior mean of "good outcome" among the ratings it
    received, each weighted by its rater's trust, with a Beta(``trust_prior_good``,
    ``trust_prior_bad``) prior. Reputation: the same evidence, also decayed with
    ``half_life_seconds`` and weighted by order value (capped at ``value_weight_max`` times the
    mean), shrunk towards the market's share of good outcomes with ``prior_strength`` pseudo
    ratings; ``interval_level`` is the central mass of the reported interval. A rating counts as
    good by ``(s - threshold_good) / (1 - threshold_good)`` when above the threshold and as bad by
    ``(threshold_good - s) / (1 + threshold_good)`` below it (so on a 1–5 scale with the default 0,
    5 stars is fully good, 4 half good, 3 neutral). A dense block counts when its density is at
    least ``block_ratio_min`` times the graph's. Burst, hired and ring signals below
    ``signal_floor`` count as noise (the rest is rescaled to [0, 1]); ``benefit_prior`` pseudo
    good ratings shrink the share of a ratee's praise that came from suspicious ratings.
    ``bought_reviews`` (on by default; both engines compute it) also counts against a ratee the
    chance that any of its ratings was bought from a reviewer for hire.
    """

    trust_prior_good: float = 1.0
    trust_prior_bad: float = 1.0
    threshold_good: float = 0.0
    half_life_seconds: float = 2 * YEAR_SECONDS
    value_weight_max: float = 10.0
    prior_strength: float = 5.0
    interval_level: float = 0.9
    blocks_max: int = 3
    block_ratio_min: float = 6.0
    benefit_prior: float = 5.0
    signal_floor: float = 0.35
    bought_reviews: bool = True
    iterations_max: int = 200
    tolerance: float = 1e-6
    rev2: Rev2Params = field(default_factory=Rev2Params)

    def __post_init__(self) -> None:
        assert self.trust_prior_good > 0 and self.trust_prior_bad > 0
        assert -1.0 < self.threshold_good < 1.0
        assert self.half_life_seconds > 0 and self.prior_strength > 0
        assert 0.0 < self.interval_level < 1.0 and self.block_ratio_min > 1.0


@dataclass(frozen=True)
class Reason:
    """One line of a breakdown: ``effect`` is its signed change to ``score``.

    ``score`` is ``"reputation"`` (effect: how much this part moved the reputation) or
    ``"fraud_score"`` (effect: how much this signal adds to the fraud score; for trust, how far
    the ratings received move it from the neutral 1/2).
    """

    code: str
    effect: float
    detail: str
    score: str = "reputation"


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """What ``score_graph`` found. Per-account arrays have ``graph.n_accounts`` rows.

    ``fraud_score`` in [0, 1] (higher = more likely fraudulent); ``rating_weight`` in [0, 1] per
    rating (how much it counts); ``reputation`` in [0, 1] with ``reputation_low`` /
    ``reputation_high`` its interval (accounts nobody rated get the prior); ``signals`` holds the
    per-account parts (``trust``, ``hired``, ``burst``, ``block``, ``linked``); ``evidence`` holds
    per-account sums used by ``reasons``.
    """

    graph: RatingGraph
    method: str
    fraud_score: FloatArray
    rating_weight: FloatArray
    reputation: FloatArray
    reputation_low: FloatArray
    reputation_high: FloatArray
    signals: dict[str, FloatArray]
    evidence: dict[str, FloatArray]
    blocks: list[Block]
    iterations: int
    prior_strength: float

    def raters(self) -> IndexArray:
        """Indices of accounts that gave at least one rating."""
        return np.flatnonzero(np.bincount(self.graph.rater, minlength=self.graph.n_accounts))

    def ratees(self) -> IndexArray:
        """Indices of accounts that received at least one rating."""
        return np.flatnonzero(np.bincount(self.graph.ratee, minlength=self.graph.n_accounts))

    def reasons(self, account: int) -> list[Reason]:
        """The breakdown of one account: reputation parts, then fraud signals, each by size."""
        return _reasons(self, account)


def score_graph(
    graph: RatingGraph,
    *,
    method: str = "default",
    labels: ArrayLike | None = None,
    links: ArrayLike | None = None,
    now: float | None = None,
    seed: int = 0,
    params: ScoreParams | None = None,
    progress: Progress | None = None,
    threads: int = 2,
) -> ScoreResult:
    """Score every account of ``graph`` for fraud and every ratee for reputation.

    Parameters
    ----------
    graph : RatingGraph
    method : {"default", "rev2"}
        ``rev2`` is the plain REV2 baseline (fraud = 1 - fairness, rating weight = reliability);
        ``default`` combines trust propagation, dense blocks, bursts, reviewers for hire and links.
    labels : ndarray of int, shape (n_accounts,), optional
        1 = known fraudulent, 0 = known good, -1 = unknown. Known accounts keep their label as
        fraud score and anchor the propagation.
    links : ndarray of int, shape (k, 2), optional
        Pairs of linked account indices; ratings between them count for nothing.
    now : float, optional
        Unix seconds used for decay; the latest timestamp when omitted.
    seed : int
        Reserved for randomised parts; the current methods are deterministic.
    params : ScoreParams, optional
    progress : callable, optional
        Called with a short message as each stage starts (from the thread running it).
    threads : int
        Threads for independent stages on graphs of a million ratings or more (FRAUDAR beside
        the behavioural signals); the results do not depend on it, bit for bit.

    Examples
    --------
    ``s1`` has three good ratings from established buyers; ``s2`` the same plus a bad one:

    >>> g = RatingGraph.from_ids(["a", "b", "c", "a", "b", "c", "d"],
    ...                          ["s1", "s1", "s1", "s2", "s2", "s2", "s2"],
    ...                          [1, 1, 1, 1, 1, 1, -1])
    >>> r = score_graph(g)
    >>> i1, i2 = g.index_of(["s1", "s2"])
    >>> bool(r.reputation[i1] > r.reputation[i2])
    True
    """
    del seed  # deterministic today; kept so callers already pass it (STYLE.md rule 1)
    if method not in METHODS:
        raise Rejected("method_unknown", f"method must be one of {', '.join(METHODS)}")
    p = params or ScoreParams()
    say = progress or (lambda message: None)
    label = _labels(graph, labels)
    if method == "rev2":
        say("rev2")
        bad_mask = label == 1
        result = rev2(graph, params=p.rev2, rater_weight=np.where(bad_mask, 0.0, 1.0))
        fairness = np.nan_to_num(result.fairness, nan=1.0)
        fraud = np.where(label >= 0, label, 1.0 - fairness).astype(np.float64)
        weight = result.reliability * np.where(bad_mask, 0.0, 1.0)[graph.rater]
        signals = {"fairness": fairness, "goodness": result.goodness}
        blocks: list[Block] = []
        iterations = result.iterations
        outcome = _outcome_arrays(graph, p.threshold_good)
    else:
        fraud, weight, signals, blocks, iterations, outcome = _default(
            graph, p, label, links, say, threads if graph.n_ratings >= PARALLEL_EDGES_MIN else 1)
    say("reputation")
    return _reputation(graph, p, method, fraud, weight, signals, blocks, iterations, now,
                       outcome)


def _labels(graph: RatingGraph, labels: ArrayLike | None) -> IndexArray:
    if labels is None:
        return np.full(graph.n_accounts, -1, dtype=np.int64)
    label = np.asarray(labels, dtype=np.int64)
    assert label.shape == (graph.n_accounts,), "one label per account"
    assert np.isin(label, (-1, 0, 1)).all(), "labels are -1 (unknown), 0 (good) or 1 (fraud)"
    return label


# [good, bad] per rating; a list so that the last stage can drop them (see ``_reputation``).
Outcomes = list[NDArray[np.floating[Any]]]


def _outcome_arrays(graph: RatingGraph, threshold: float) -> Outcomes:
    """Every rating's good and bad outcome (``kernels.outcomes``), computed once: as float32
    when that is exact for all (star ratings with the default threshold: 8 bytes a rating
    instead of 16), else as float64. Products with float64 widen them back, exactly."""
    good = np.empty(graph.n_ratings, dtype=np.float32)
    bad = np.empty(graph.n_ratings, dtype=np.float32)
    for part in edge_slices(graph.n_ratings):
        wide_good, wide_bad = outcomes(graph.rating[part], threshold)
        good[part], bad[part] = wide_good, wide_bad
        if not (np.array_equal(good[part], wide_good) and np.array_equal(bad[part], wide_bad)):
            return list(outcomes(graph.rating, threshold))
    return [good, bad]


@dataclass(frozen=True, eq=False)
class _Behaviour:
    """The behavioural signals: per-edge burst suspicion and hired-like flags, per-account
    reviewer-for-hire and ring scores (floored), and linked ratings when links were given."""

    burst_raw: FloatArray
    hired_like: BoolArray
    hired: FloatArray
    ring: FloatArray
    linked: BoolArray | None


def _behaviour(graph: RatingGraph, p: ScoreParams, links: ArrayLike | None,
               say: Progress) -> _Behaviour:
    say("bursts")
    burst_raw = burst_suspicion(graph)
    say("reviewers for hire")
    hired_like = hired_like_ratings(graph)
    hired = _floor(hired_suspicion(graph), p.signal_floor)
    linked = None if links is None else linked_ratings(graph, links)
    say("rings")
    ring = _floor(ring_suspicion(graph), p.signal_floor)
    return _Behaviour(burst_raw, hired_like, hired, ring, linked)


def _default(
    graph: RatingGraph,
    p: ScoreParams,
    label: IndexArray,
    links: ArrayLike | None,
    say: Progress,
    threads: int,
) -> tuple[FloatArray, FloatArray, dict[str, FloatArray], list[Block], int, Outcomes]:
    n = graph.n_accounts
    degree_out = np.maximum(count_by(graph.rater, n), 1).astype(np.float64)

    def dense_blocks() -> list[Block]:
        say("dense blocks")
        return fraudar(graph, blocks_max=p.blocks_max)

    # FRAUDAR and the behavioural signals are independent: one thread each.
    with Workers(threads) as workers:
        blocks, found = workers.all(dense_blocks, lambda: _behaviour(graph, p, links, say))
    say("combining signals")
    block_account, strengths = _block_accounts(graph, blocks, p.block_ratio_min)
    # Discounting a rating costs little when wrong, accusing its rater costs more: the rating's
    # weight takes the whole burst signal, the rater's behaviour only the part above the floor.
    # keep = burst * block * link * ring * hired, multiplied in this order (left to right) by
    # both engines, slice by slice, into the burst array (each value is read before written).
    edge_keep = found.burst_raw
    burst_account = np.zeros(n)
    linked_account = np.zeros(n)
    unbought = np.zeros(n)
    for part in edge_slices(graph.n_ratings):
        rater, ratee = graph.rater[part], graph.ratee[part]
        burst_raw = edge_keep[part]
        add_by(burst_account, rater, _floor(burst_raw, p.signal_floor))
        block_edge = np.zeros(burst_raw.shape[0])
        for block, strength in zip(blocks, strengths, strict=True):
            if strength > 0:
                block_edge = np.maximum(block_edge, np.where(block.edges[part], strength, 0.0))
        linked_edge = np.zeros(burst_raw.shape[0])
        if found.linked is not None:
            linked_edge = found.linked[part].astype(np.float64)
            add_by(linked_account, rater, linked_edge)
        keep = (1.0 - burst_raw) * (1.0 - block_edge) * (1.0 - linked_edge)
        ring_edge = np.where(graph.rating[part] > 0,
                             np.minimum(found.ring[rater], found.ring[ratee]), 0.0)
        keep *= 1.0 - ring_edge
        hired_edge = found.hired[rater] * found.hired_like[part]
        keep *= 1.0 - hired_edge
        if p.bought_reviews:
            # Praise only: a bad rating from a reviewer for hire is no sign that its target
            # bought anything (a rival may have paid for it); it still loses weight above.
            bought_edge = np.where(graph.rating[part] > 0, np.minimum(hired_edge, 1.0 - 1e-12),
                                   0.0)
            add_by(unbought, ratee, np.log1p(-bought_edge))
        edge_keep[part] = keep
    burst_account /= degree_out
    linked_account /= degree_out
    hired, ring = found.hired, found.ring
    behaviour = 1.0 - (1.0 - hired) * (1.0 - block_account) * (1.0 - burst_account) * (
        1.0 - linked_account
    ) * (1.0 - ring)
    # Bought reviews, per ratee: 1 - prod_e (1 - h_e) over the positive ratings it received, with
    # h_e the (floored) reviewer-for-hire score of a hired-like rating's rater and 0 for other
    # ratings: the chance that at least one of its praises was bought. The benefit share fades
    # when a seller that bought a few reviews also has honest praise; this does not, so a seller
    # is not cleared by diluting what it bought. (h < 1 already; the minimum guards log(0).)
    bought = 1.0 - np.exp(unbought) if p.bought_reviews else None
    say("trust propagation")
    # After the two threads' stages, whose temporaries were the peak of memory.
    outcome = _outcome_arrays(graph, p.threshold_good)
    with Workers(threads) as workers:
        trust, iterations = _trust(graph, p, label, behaviour, edge_keep, outcome, workers)
    # A ratee whose praise comes mostly from suspicious ratings bought it: it is suspect too.
    fake_sum, good_sum = _benefit_sums(graph, behaviour, edge_keep, outcome[0])
    benefit = fake_sum / (good_sum + p.benefit_prior)
    if bought is not None:
        benefit = 1.0 - (1.0 - benefit) * (1.0 - bought)
    rater_weight = np.where(label >= 0, 1.0 - label, trust * (1.0 - behaviour))
    fraud = np.where(label >= 0, label, 1.0 - rater_weight * (1.0 - benefit))
    # The rating's weight, in place of its keep factor (no longer needed).
    weight = edge_keep
    for part in edge_slices(graph.n_ratings):
        np.multiply(rater_weight[graph.rater[part]], weight[part], out=weight[part])
    signals = {
        "trust": trust,
        "hired": hired,
        "burst": burst_account,
        "block": block_account,
        "ring": ring,
        "linked": linked_account,
        "benefit": benefit,
    }
    if bought is not None:
        signals["bought"] = bought
    return fraud, weight, signals, blocks, iterations, outcome


def _benefit_sums(graph: RatingGraph, behaviour: FloatArray, edge_keep: FloatArray,
                  goods: NDArray[np.floating[Any]]) -> tuple[FloatArray, FloatArray]:
    """Per ratee: praise from suspicious ratings (``good * (1 - keep * (1 - behaviour))``) and
    all praise."""
    n = graph.n_accounts
    fake_sum, good_sum = np.zeros(n), np.zeros(n)
    for part in edge_slices(graph.n_ratings):
        good = goods[part]
        ratee = graph.ratee[part]
        add_by(fake_sum, ratee,
               good * (1.0 - edge_keep[part] * (1.0 - behaviour[graph.rater[part]])))
        add_by(good_sum, ratee, good)
    return fake_sum, good_sum


def _floor(signal: FloatArray, floor: float) -> FloatArray:
    """Rescale ``floor .. 1`` to ``0 .. 1``: weak behavioural evidence is treated as noise."""
    return floor_signal(signal, floor)


def _block_accounts(
    graph: RatingGraph, blocks: list[Block], ratio_min: float
) -> tuple[FloatArray, list[float]]:
    """Per account, and per block: 1 - ratio_min / (block density / graph density), or 0.

    A rating's block signal is the largest strength of the blocks holding it (``Block.edges``).
    """
    account = np.zeros(graph.n_accounts)
    strengths = []
    for block in blocks:
        ratio = block.density / block.density_graph if block.density_graph > 0 else 0.0
        strength = 1.0 - ratio_min / ratio if ratio >= ratio_min else 0.0
        strengths.append(strength)
        if strength > 0:
            account = np.maximum(account, np.where(block.raters, strength, 0.0))
    return account, strengths


def _trust(
    graph: RatingGraph,
    p: ScoreParams,
    label: IndexArray,
    behaviour: FloatArray,
    edge_keep: FloatArray,
    outcome: Outcomes,
    workers: Workers,
) -> tuple[FloatArray, int]:
    r"""Fixed point :math:`t = (a + \sum w g) / (a + b + \sum w (g + b))` over received ratings.

    ``w`` of a rating is its rater's weight :math:`t_u (1 - \beta_u)` (labels override) times the
    rating's own keep factor. Changes shrink each round because weights are bounded by trust.
    Each round sums over the edges slice by slice (the chunked engine's ``trust_partial``). The
    sums stay on the calling thread, in edge order (``np.add.at`` holds the GIL anyway); the
    weighted outcomes of the next slices, mostly random gathers that release it, are computed
    meanwhile on ``workers``. Same bits with one thread or two.
    """
    n = graph.n_accounts
    a, b = p.trust_prior_good, p.trust_prior_bad
    trust = np.full(n, a / (a + b))
    delta = np.inf
    parts = edge_slices(graph.n_ratings)
    for iteration in range(1, p.iterations_max + 1):
        rater_weight = np.where(label >= 0, 1.0 - label, trust * (1.0 - behaviour))
        sum_good, sum_bad = np.zeros(n), np.zeros(n)

        def weighted(part: slice, weight: FloatArray = rater_weight,
                     ) -> tuple[slice, FloatArray, FloatArray]:
            w = weight[graph.rater[part]] * edge_keep[part]
            return part, w * outcome[0][part], w * outcome[1][part]

        for part, w_good, w_bad in workers.ordered(weighted, parts):
            add_by(sum_good, graph.ratee[part], w_good)
            add_by(sum_bad, graph.ratee[part], w_bad)
        new = trust_finish(sum_good, sum_bad, a, b)
        delta = float(np.max(np.abs(new - trust))) if n else 0.0
        trust = new
        if delta <= p.tolerance:
            return trust, iteration
    raise ConvergenceError("trust", iterations=p.iterations_max, delta=delta,
                           tolerance=p.tolerance)


def _reputation(
    graph: RatingGraph,
    p: ScoreParams,
    method: str,
    fraud: FloatArray,
    weight: FloatArray,
    signals: dict[str, FloatArray],
    blocks: list[Block],
    iterations: int,
    now: float | None,
    outcome: Outcomes,
) -> ScoreResult:
    n = graph.n_accounts
    reference = None
    if graph.timestamp is not None and graph.n_ratings:
        reference = float(graph.timestamp.max()) if now is None else float(now)
    mean_value = None
    if graph.value is not None and graph.n_ratings:
        mean_value = float(graph.value.mean())
    parts = edge_slices(graph.n_ratings)

    def scales(part: slice) -> tuple[FloatArray, FloatArray]:
        """Decay times value factor, and the value factor, of one slice of ratings."""
        size = part.stop - part.start
        decay = np.ones(size)
        if graph.timestamp is not None and reference is not None:
            age = np.maximum(reference - graph.timestamp[part], 0.0)
            decay = 0.5 ** (age / p.half_life_seconds)
        value_factor = np.ones(size)
        if graph.value is not None and mean_value is not None and mean_value > 0:
            value_factor = np.minimum(graph.value[part] / mean_value, p.value_weight_max)
        return decay * value_factor, value_factor

    # The six sums in one pass over the edges (one thread: see ``_trust``).
    good_sum, bad_sum, good_full, bad_full, good_fresh, bad_fresh = (np.zeros(n) for _ in range(6))
    for part in parts:
        scale, value_factor = scales(part)
        ratee = graph.ratee[part]
        good, bad = outcome[0][part], outcome[1][part]
        for (good_to, bad_to), w in (((good_sum, bad_sum), weight[part] * scale),
                                     ((good_full, bad_full), scale),
                                     ((good_fresh, bad_fresh), weight[part] * value_factor)):
            add_by(good_to, ratee, w * good)
            add_by(bad_to, ratee, w * bad)
    # The last use of the outcomes: free them (8 or 16 bytes a rating) before the quantiles.
    del good, bad
    outcome.clear()
    received = count_by(graph.ratee, n)
    total = float(good_sum.sum() + bad_sum.sum())
    share = float(good_sum.sum()) / total if total > 0 else 0.5
    share = min(max(share, 0.01), 0.99)
    alpha = p.prior_strength * share
    beta = p.prior_strength * (1.0 - share)
    reputation = (alpha + good_sum) / (alpha + beta + good_sum + bad_sum)
    tail = (1.0 - p.interval_level) / 2.0
    # The quantile function is costly: evaluate it for rated accounts, once for the prior.
    rated = np.flatnonzero(received)
    low = np.full(n, float(stats.beta.ppf(tail, alpha, beta)))
    high = np.full(n, float(stats.beta.ppf(1.0 - tail, alpha, beta)))
    low[rated] = stats.beta.ppf(tail, alpha + good_sum[rated], beta + bad_sum[rated])
    high[rated] = stats.beta.ppf(1.0 - tail, alpha + good_sum[rated], beta + bad_sum[rated])
    evidence = {
        "prior_mean": np.full(n, share),
        "good": good_sum,
        "bad": bad_sum,
        "good_unweighted": good_full,
        "bad_unweighted": bad_full,
        "good_undecayed": good_fresh,
        "bad_undecayed": bad_fresh,
        "ratings_received": received.astype(np.float64),
    }
    return ScoreResult(
        graph=graph,
        method=method,
        fraud_score=np.clip(fraud, 0.0, 1.0),
        rating_weight=np.clip(weight, 0.0, 1.0, out=weight),
        reputation=reputation,
        reputation_low=np.asarray(low, dtype=np.float64),
        reputation_high=np.asarray(high, dtype=np.float64),
        signals=signals,
        evidence=evidence,
        blocks=blocks,
        iterations=iterations,
        prior_strength=p.prior_strength,
    )


def _posterior(prior: float, strength: float, good: float, bad: float) -> float:
    return (strength * prior + good) / (strength + good + bad)


def _reasons(result: ScoreResult, account: int) -> list[Reason]:
    e = {name: float(values[account]) for name, values in result.evidence.items()}
    k = result.prior_strength
    prior = e["prior_mean"]
    score = float(result.reputation[account])
    reasons = [
        Reason("good_ratings_received", score - _posterior(prior, k, 0.0, e["bad"]),
               f"{e['good']:.2f} weighted good outcomes"),
        Reason("bad_ratings_received", score - _posterior(prior, k, e["good"], 0.0),
               f"{e['bad']:.2f} weighted bad outcomes"),
        Reason("ratings_discounted_for_low_trust",
               score - _posterior(prior, k, e["good_unweighted"], e["bad_unweighted"]),
               f"{e['ratings_received']:.0f} ratings received, weighted to "
               f"{e['good'] + e['bad']:.2f} after trust, bursts, blocks and links"),
        Reason("old_ratings_decayed",
               score - _posterior(prior, k, e["good_undecayed"], e["bad_undecayed"]),
               "older ratings count less (half-life)"),
    ]
    evidence = e["good"] + e["bad"]
    if evidence > 0:
        reasons.append(Reason("few_ratings_shrunk_to_prior", score - e["good"] / evidence,
                              f"pulled towards the market's {prior:.2f}"))
    reasons.sort(key=lambda r: -abs(r.effect))
    fraud = float(result.fraud_score[account])
    signals: list[Reason] = []
    if "trust" in result.signals:
        trust = float(result.signals["trust"][account])
        signals.append(Reason("trust_from_ratings_received", 0.5 - trust,
                              f"trust {trust:.2f} from ratings received", "fraud_score"))
    for name in ("hired", "burst", "block", "ring", "linked", "benefit", "bought"):
        if name in result.signals and result.signals[name][account] > 0:
            signals.append(Reason(f"fraud_signal_{name}", float(result.signals[name][account]),
                                  f"fraud score {fraud:.2f}", "fraud_score"))
    signals.sort(key=lambda r: -abs(r.effect))
    return reasons + signals


__all__ = ["METHODS", "Reason", "ScoreParams", "ScoreResult", "score_graph"]
