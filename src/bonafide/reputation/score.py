"""The default fraud and reputation method, and the ``score_graph`` entry point.

Owns: ``score_graph``, ``ScoreParams``, ``ScoreResult``, ``Reason``. Imports: NumPy, SciPy and
the other ``reputation`` modules. Pure: no clock (``now`` is an argument), no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
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
    ConvergenceError,
    FloatArray,
    IndexArray,
    RatingGraph,
)
from bonafide.reputation.kernels import (
    EdgeChunk,
    floor_signal,
    outcomes,
    trust_finish,
    trust_partial,
)
from bonafide.reputation.rev2 import Rev2Params, rev2

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
    chance that any of its ratings was bought from a reviewer for hire (see ``_bought``).
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
        Called with a short message as each stage starts.

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
    good, bad = _outcomes(graph.rating, p.threshold_good)
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
    else:
        fraud, weight, signals, blocks, iterations = _default(
            graph, p, label, links, good, bad, say
        )
    say("reputation")
    return _reputation(graph, p, method, fraud, weight, signals, blocks, iterations, now, good, bad)


def _labels(graph: RatingGraph, labels: ArrayLike | None) -> IndexArray:
    if labels is None:
        return np.full(graph.n_accounts, -1, dtype=np.int64)
    label = np.asarray(labels, dtype=np.int64)
    assert label.shape == (graph.n_accounts,), "one label per account"
    assert np.isin(label, (-1, 0, 1)).all(), "labels are -1 (unknown), 0 (good) or 1 (fraud)"
    return label


def _outcomes(rating: FloatArray, threshold: float) -> tuple[FloatArray, FloatArray]:
    return outcomes(rating, threshold)


def _default(
    graph: RatingGraph,
    p: ScoreParams,
    label: IndexArray,
    links: ArrayLike | None,
    good: FloatArray,
    bad: FloatArray,
    say: Progress,
) -> tuple[FloatArray, FloatArray, dict[str, FloatArray], list[Block], int]:
    n = graph.n_accounts
    degree_out = np.maximum(np.bincount(graph.rater, minlength=n), 1).astype(np.float64)
    say("bursts")
    # Discounting a rating costs little when wrong, accusing its rater costs more: the rating's
    # weight takes the whole burst signal, the rater's behaviour only the part above the floor.
    burst_raw = burst_suspicion(graph)
    burst_edge = _floor(burst_raw, p.signal_floor)
    burst_account = np.bincount(graph.rater, weights=burst_edge, minlength=n) / degree_out
    # Per-edge arrays are freed as soon as they are folded in: at 10^8 ratings each is 0.8 GB.
    del burst_edge
    say("reviewers for hire")
    hired = _floor(hired_suspicion(graph), p.signal_floor)
    linked_edge = linked_ratings(graph, links).astype(np.float64)
    linked_account = np.bincount(graph.rater, weights=linked_edge, minlength=n) / degree_out
    say("dense blocks")
    blocks = fraudar(graph, blocks_max=p.blocks_max)
    block_account, block_edge = _block_signals(graph, blocks, p.block_ratio_min)
    # keep = burst * block * link * ring * hired, multiplied in this order (left to right) by
    # both engines; the first three factors are known now.
    edge_keep = (1.0 - burst_raw) * (1.0 - block_edge) * (1.0 - linked_edge)
    del burst_raw, block_edge, linked_edge
    say("rings")
    ring = _floor(ring_suspicion(graph), p.signal_floor)
    ring_edge = np.where(graph.rating > 0, np.minimum(ring[graph.rater], ring[graph.ratee]), 0.0)
    behaviour = 1.0 - (1.0 - hired) * (1.0 - block_account) * (1.0 - burst_account) * (
        1.0 - linked_account
    ) * (1.0 - ring)
    edge_keep *= 1.0 - ring_edge
    del ring_edge
    hired_edge = hired[graph.rater] * hired_like_ratings(graph)
    edge_keep *= 1.0 - hired_edge
    bought = _bought(graph, hired_edge) if p.bought_reviews else None
    del hired_edge
    say("trust propagation")
    trust, iterations = _trust(graph, p, label, behaviour, edge_keep, good, bad)
    # A ratee whose praise comes mostly from suspicious ratings bought it: it is suspect too.
    fake = good * (1.0 - edge_keep * (1.0 - behaviour[graph.rater]))
    benefit = np.bincount(graph.ratee, weights=fake, minlength=n) / (
        np.bincount(graph.ratee, weights=good, minlength=n) + p.benefit_prior
    )
    if bought is not None:
        benefit = 1.0 - (1.0 - benefit) * (1.0 - bought)
    rater_weight = np.where(label >= 0, 1.0 - label, trust * (1.0 - behaviour))
    fraud = np.where(label >= 0, label, 1.0 - rater_weight * (1.0 - benefit))
    weight = rater_weight[graph.rater] * edge_keep
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
    return fraud, weight, signals, blocks, iterations


def _bought(graph: RatingGraph, hired_edge: FloatArray) -> FloatArray:
    r"""Per ratee: :math:`1 - \prod_e (1 - h_e)` over the positive ratings it received.

    ``h_e`` is the (floored) reviewer-for-hire score of a hired-like rating's rater, 0 for
    other ratings: the chance that at least one of the ratee's praises was bought. The benefit
    share fades when a seller that bought a few reviews also has honest praise; this does not,
    so a seller is not cleared by diluting what it bought. A bad rating from a hired-like
    account is no evidence that its target bought anything (a rival may have paid for it), so
    only positive ratings count; ``hired_edge`` still discounts the bad rating's weight.
    """
    bought = np.where(graph.rating > 0, np.minimum(hired_edge, 1.0 - 1e-12), 0.0)
    unbought = np.log1p(-bought)  # h < 1 already; log(0) guard
    result: FloatArray = 1.0 - np.exp(
        np.bincount(graph.ratee, weights=unbought, minlength=graph.n_accounts))
    return result


def _floor(signal: FloatArray, floor: float) -> FloatArray:
    """Rescale ``floor .. 1`` to ``0 .. 1``: weak behavioural evidence is treated as noise."""
    return floor_signal(signal, floor)


def _block_signals(
    graph: RatingGraph, blocks: list[Block], ratio_min: float
) -> tuple[FloatArray, FloatArray]:
    """Per account and per rating: 1 - ratio_min / (block density / graph density), or 0."""
    account = np.zeros(graph.n_accounts)
    edge = np.zeros(graph.n_ratings)
    for block in blocks:
        ratio = block.density / block.density_graph if block.density_graph > 0 else 0.0
        if ratio < ratio_min:
            continue
        strength = 1.0 - ratio_min / ratio
        account = np.maximum(account, np.where(block.raters, strength, 0.0))
        edge = np.maximum(edge, np.where(block.edges, strength, 0.0))
    return account, edge


def _trust(
    graph: RatingGraph,
    p: ScoreParams,
    label: IndexArray,
    behaviour: FloatArray,
    edge_keep: FloatArray,
    good: FloatArray,
    bad: FloatArray,
) -> tuple[FloatArray, int]:
    r"""Fixed point :math:`t = (a + \sum w g) / (a + b + \sum w (g + b))` over received ratings.

    ``w`` of a rating is its rater's weight :math:`t_u (1 - \beta_u)` (labels override) times the
    rating's own keep factor. Changes shrink each round because weights are bounded by trust.
    """
    n = graph.n_accounts
    a, b = p.trust_prior_good, p.trust_prior_bad
    trust = np.full(n, a / (a + b))
    delta = np.inf
    # One chunk holding every edge: the kernels the chunked (Dask) engine maps over partitions.
    chunk = EdgeChunk(graph.rater, graph.ratee, graph.rating, None,
                      {"keep": edge_keep, "good": good, "bad": bad})
    for iteration in range(1, p.iterations_max + 1):
        rater_weight = np.where(label >= 0, 1.0 - label, trust * (1.0 - behaviour))
        sum_good, sum_bad = trust_partial(chunk, rater_weight, n, p.threshold_good)
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
    good: FloatArray,
    bad: FloatArray,
) -> ScoreResult:
    n = graph.n_accounts
    decay = np.ones(graph.n_ratings)
    if graph.timestamp is not None and graph.n_ratings:
        reference = float(graph.timestamp.max()) if now is None else float(now)
        age = np.maximum(reference - graph.timestamp, 0.0)
        decay = 0.5 ** (age / p.half_life_seconds)
    value_factor = np.ones(graph.n_ratings)
    if graph.value is not None and graph.n_ratings:
        mean_value = float(graph.value.mean())
        if mean_value > 0:
            value_factor = np.minimum(graph.value / mean_value, p.value_weight_max)
    scale = decay * value_factor

    def sums(w: FloatArray) -> tuple[FloatArray, FloatArray]:
        sum_good = np.bincount(graph.ratee, weights=w * good, minlength=n)
        sum_bad = np.bincount(graph.ratee, weights=w * bad, minlength=n)
        return np.asarray(sum_good, dtype=np.float64), np.asarray(sum_bad, dtype=np.float64)

    good_sum, bad_sum = sums(weight * scale)
    good_full, bad_full = sums(scale)
    good_fresh, bad_fresh = sums(weight * value_factor)
    total = float(good_sum.sum() + bad_sum.sum())
    share = float(good_sum.sum()) / total if total > 0 else 0.5
    share = min(max(share, 0.01), 0.99)
    alpha = p.prior_strength * share
    beta = p.prior_strength * (1.0 - share)
    reputation = (alpha + good_sum) / (alpha + beta + good_sum + bad_sum)
    tail = (1.0 - p.interval_level) / 2.0
    # The quantile function is costly: evaluate it for rated accounts, once for the prior.
    rated = np.flatnonzero(np.bincount(graph.ratee, minlength=n))
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
        "ratings_received": np.bincount(graph.ratee, minlength=n).astype(np.float64),
    }
    return ScoreResult(
        graph=graph,
        method=method,
        fraud_score=np.clip(fraud, 0.0, 1.0),
        rating_weight=np.clip(weight, 0.0, 1.0),
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
