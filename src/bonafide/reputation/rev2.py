"""REV2 trust propagation: fairness of raters, goodness of ratees, reliability of ratings.

Owns: ``rev2`` and ``Rev2Params`` / ``Rev2Result``. Imports: NumPy and ``reputation.graph``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bonafide.reputation.graph import ConvergenceError, FloatArray, RatingGraph
from bonafide.reputation.kernels import (
    EdgeChunk,
    Rev2Setup,
    rev2_fairness_finish,
    rev2_goodness_finish,
    rev2_goodness_partial,
    rev2_step,
)


@dataclass(frozen=True)
class Rev2Params:
    """Smoothing parameters of REV2 (Kumar et al. 2018, eq. 1-3), all >= 0.

    ``alpha1`` / ``beta1`` pull fairness / goodness of accounts with few ratings towards the
    median over all raters / ratees (cold-start smoothing); ``alpha2`` / ``beta2`` / ``gamma3``
    pull them towards behavioural priors; ``gamma1`` / ``gamma2`` weigh the rater's fairness
    against the rating's agreement with the ratee's goodness in a rating's reliability.
    """

    alpha1: float = 1.0
    alpha2: float = 1.0
    beta1: float = 1.0
    beta2: float = 1.0
    gamma1: float = 1.0
    gamma2: float = 1.0
    gamma3: float = 1.0

    def __post_init__(self) -> None:
        values = (self.alpha1, self.alpha2, self.beta1, self.beta2, self.gamma1, self.gamma2,
                  self.gamma3)
        assert all(v >= 0 for v in values), "REV2 parameters are non-negative"
        assert self.gamma1 + self.gamma2 + self.gamma3 > 0, "reliability needs some weight"


@dataclass(frozen=True, eq=False)
class Rev2Result:
    """Fixed point of REV2.

    ``fairness`` (per account, in [0, 1], NaN for accounts that rate no one), ``goodness`` (per
    account, in [-1, 1], NaN for accounts nobody rates), ``reliability`` (per rating, in [0, 1]),
    and the number of ``iterations`` used.
    """

    fairness: FloatArray
    goodness: FloatArray
    reliability: FloatArray
    iterations: int


def rev2(
    graph: RatingGraph,
    *,
    params: Rev2Params | None = None,
    suspicion_rater: FloatArray | None = None,
    suspicion_ratee: FloatArray | None = None,
    suspicion_rating: FloatArray | None = None,
    rater_weight: FloatArray | None = None,
    iterations_max: int = 500,
    tolerance: float = 1e-6,
) -> Rev2Result:
    r"""Fairness, goodness and reliability by the REV2 fixed point.

    Kumar, Hooi, Makhija, Kumar, Faloutsos, Subrahmanian, "REV2: Fraudulent User Prediction in
    Rating Platforms", WSDM 2018. With ratings :math:`s(u,p) \in [-1, 1]`, iterate until no value
    moves by more than ``tolerance``:

    .. math::

        G(p) &= \frac{\beta_1 \mu_G + \beta_2 I_G(p) + \sum_{u} R(u,p)\, s(u,p)}
                     {\beta_1 + \beta_2 + |\mathrm{In}(p)|} \\
        R(u,p) &= \frac{\gamma_1 F(u) + \gamma_2 (1 - |s(u,p) - G(p)| / 2) + \gamma_3 I_R(u,p)}
                       {\gamma_1 + \gamma_2 + \gamma_3} \\
        F(u) &= \frac{\alpha_1 \mu_F + \alpha_2 I_F(u) + \sum_{p} R(u,p)}
                     {\alpha_1 + \alpha_2 + |\mathrm{Out}(u)|}

    updated in that order (goodness, reliability, fairness) as in the authors' release, with
    :math:`\mu_F`, :math:`\mu_G` the medians of the current fairness over raters and goodness over
    ratees, values clipped to their ranges, and start values :math:`F = R = G = 1`. Behavioural
    priors are :math:`I_F = 1 - b_u`, :math:`I_G = 1 - 2 b_p`, :math:`I_R = 1 - b_{up}` for
    suspicion scores ``b`` in [0, 1] (BIRDNEST in the paper), which default to 0, so with
    ``alpha2 > 0`` they act as a constant "fair" prior.

    Parameters
    ----------
    graph : RatingGraph
    params : Rev2Params, optional
        The seven smoothing parameters; all 1 by default.
    suspicion_rater, suspicion_ratee : ndarray, shape (n_accounts,), optional
        Behavioural suspicion of each account as a rater / a ratee, in [0, 1].
    suspicion_rating : ndarray, shape (n_ratings,), optional
        Behavioural suspicion of each rating, in [0, 1].
    rater_weight : ndarray, shape (n_accounts,), optional
        Extension, not in the paper (1 by default): multiplies each rating's term in the
        goodness sum and counts ``rater_weight`` instead of 1 in the denominator, so ratings by
        known or suspected fraudsters (weight 0) are ignored in goodness. Used by the default
        method to anchor labels; with all ones it is exactly REV2.
    iterations_max : int
        Limit on iterations.
    tolerance : float
        Stop when the largest change of any F, G or R is at most this.

    Returns
    -------
    Rev2Result

    Raises
    ------
    ConvergenceError
        ``did_not_converge`` when the limit is reached first.

    Examples
    --------
    Two raters praise ``p``; ``u3`` pans it. With one rating each, :math:`F = R` and
    :math:`R = 1 - |s - G| / 2`, so the fixed point is :math:`G = 1/3`, :math:`F = 2/3, 2/3, 1/3`:

    >>> g = RatingGraph.from_ids(["u1", "u2", "u3"], ["p", "p", "p"], [1.0, 1.0, -1.0])
    >>> r = rev2(g, params=Rev2Params(0, 0, 0, 0, 1, 1, 0))
    >>> u = g.index_of(["u1", "u2", "u3", "p"])
    >>> [round(float(x), 4) for x in r.fairness[u[:3]]], round(float(r.goodness[u[3]]), 4)
    ([0.6667, 0.6667, 0.3333], 0.3333)
    """
    p = params or Rev2Params()
    n, m = graph.n_accounts, graph.n_ratings
    # Work on compact arrays of raters and of ratees so the loop needs no masks or NaNs.
    raters, rater = _compact(graph.rater, n)
    ratees, ratee = _compact(graph.ratee, n)
    s = graph.rating
    n_f, n_g = raters.shape[0], ratees.shape[0]
    weight = np.ones(n) if rater_weight is None else np.asarray(rater_weight, dtype=np.float64)
    edge_weight = weight[graph.rater]
    weighted_s = edge_weight * s
    denominator_g = p.beta1 + p.beta2 + np.bincount(ratee, weights=edge_weight, minlength=n_g)
    denominator_f = p.alpha1 + p.alpha2 + np.bincount(rater, minlength=n_f).astype(np.float64)
    # An account with no evidence and no smoothing keeps its start value instead of 0/0.
    keep_g = denominator_g <= 0
    keep_f = denominator_f <= 0
    inverse_g = 1.0 / np.where(keep_g, 1.0, denominator_g)
    inverse_f = 1.0 / np.where(keep_f, 1.0, denominator_f)
    prior_g = p.beta2 * (1.0 - 2.0 * _or_zeros(suspicion_ratee, n)[ratees])
    prior_f = p.alpha2 * (1.0 - _or_zeros(suspicion_rater, n)[raters])
    gamma = p.gamma1 + p.gamma2 + p.gamma3
    prior_r = (p.gamma3 / gamma) * (1.0 - _or_zeros(suspicion_rating, m))

    # One chunk holding every edge: the same kernels the chunked (Dask) engine maps over
    # partitions (``kernels.rev2_step``), here over compact rater and ratee positions.
    setup = Rev2Setup(gamma1=p.gamma1, gamma2=p.gamma2, gamma3=p.gamma3, alpha1=p.alpha1,
                      beta1=p.beta1, prior_f=prior_f, prior_g=prior_g, inverse_f=inverse_f,
                      inverse_g=inverse_g, keep_f=keep_f, keep_g=keep_g)
    chunk = EdgeChunk(rater, ratee, s, None, {"weighted_s": weighted_s, "prior_r": prior_r,
                                              "reliability": np.ones(m)})
    every_rater, every_ratee = np.ones(n_f, dtype=bool), np.ones(n_g, dtype=bool)
    fairness = np.ones(n_f)
    goodness = np.ones(n_g)
    (total_g,) = rev2_goodness_partial(chunk, n_g)
    delta = np.inf
    for iteration in range(1, iterations_max + 1):
        new_g = rev2_goodness_finish(total_g, goodness, every_ratee, setup)
        chunk, (total_f, total_g, change) = rev2_step(chunk, fairness, new_g, setup, n_f, n_g)
        new_f = rev2_fairness_finish(total_f, fairness, every_rater, setup)
        delta = max(_max_abs(new_g - goodness), change, _max_abs(new_f - fairness))
        fairness, goodness = new_f, new_g
        if delta <= tolerance:
            fairness_all = np.full(n, np.nan)
            fairness_all[raters] = fairness
            goodness_all = np.full(n, np.nan)
            goodness_all[ratees] = goodness
            return Rev2Result(fairness_all, goodness_all, chunk.state["reliability"], iteration)
    raise ConvergenceError("rev2", iterations=iterations_max, delta=delta, tolerance=tolerance)


def _compact(index: NDArray[np.int64], n: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The accounts that occur in ``index`` (sorted) and each entry's position among them."""
    present = np.bincount(index, minlength=n) > 0
    position = np.cumsum(present) - 1
    return np.flatnonzero(present), position[index]


def _or_zeros(values: FloatArray | None, size: int) -> FloatArray:
    if values is None:
        return np.zeros(size)
    array = np.asarray(values, dtype=np.float64)
    assert array.shape == (size,), "suspicion arrays have one value per account or rating"
    return array


def _max_abs(values: NDArray[np.float64]) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0
