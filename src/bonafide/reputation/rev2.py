"""REV2 trust propagation: fairness of raters, goodness of ratees, reliability of ratings.

Owns: ``rev2`` and ``Rev2Params`` / ``Rev2Result``. Imports: NumPy, SciPy (sparse) and
``reputation.graph``.

The in-process loop here is REV2's fast path: precomputed sparse sums, in-place edge buffers and
selection medians. The chunked (Dask) engine iterates the same formulas through the per-chunk
kernels of ``reputation.kernels`` (``rev2_step`` and its finishes); the scale tests hold the two to
1e-9 and the same iteration count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from bonafide.reputation.graph import ConvergenceError, FloatArray, IndexArray, RatingGraph


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
    raters, rater, given = _compact(graph.rater, n)
    ratees, ratee, received = _compact(graph.ratee, n)
    n_f, n_g = raters.shape[0], ratees.shape[0]
    rating = np.asarray(graph.rating, dtype=np.float64)  # float32 graphs: float64 arithmetic
    weighted_s = rating
    if rater_weight is not None:
        edge_weight = np.take(np.asarray(rater_weight, dtype=np.float64), graph.rater)
        weighted_s = edge_weight * rating
        received = np.bincount(ratee, weights=edge_weight, minlength=n_g).astype(np.float64)
    gamma = p.gamma1 + p.gamma2 + p.gamma3
    edge_prior = None
    if suspicion_rating is not None:
        edge_prior = (p.gamma3 / gamma) * (1.0 - _checked(suspicion_rating, m))
    loop = _Rev2Loop(
        rater=rater,
        ratee=ratee,
        half_s=(0.5 * p.gamma2 / gamma) * rating,
        base_r=p.gamma2 / gamma + (p.gamma3 / gamma if edge_prior is None else 0.0),
        edge_prior=edge_prior,
        sum_f=_sum_matrix(rater, n_f, np.ones(m)),
        sum_g=_sum_matrix(ratee, n_g, weighted_s),
        finish_f=_Finish(p.alpha1, p.alpha2 * (1.0 - _prior(suspicion_rater, n, raters)),
                         p.alpha1 + p.alpha2 + given, low=0.0),
        finish_g=_Finish(p.beta1, p.beta2 * (1.0 - 2.0 * _prior(suspicion_ratee, n, ratees)),
                         p.beta1 + p.beta2 + received, low=-1.0),
        fairness_weight=p.gamma1 / gamma,
        half_agreement_weight=0.5 * p.gamma2 / gamma,
    )
    fairness, goodness, reliability, iterations = loop.run(iterations_max, tolerance)
    fairness_all = np.full(n, np.nan)
    fairness_all[raters] = fairness
    goodness_all = np.full(n, np.nan)
    goodness_all[ratees] = goodness
    return Rev2Result(fairness_all, goodness_all, reliability, iterations)


class _Finish:
    r"""One side's update :math:`X = \mathrm{clip}((k_1 \mu + k_2 I + \Sigma) / d, low, 1)`.

    ``prior`` is :math:`k_2 I` per account, ``denominator`` :math:`k_1 + k_2 + |\mathrm{edges}|`
    (weighted for goodness). An account whose denominator is not positive (no evidence and no
    smoothing) keeps its start value 1 instead of 0/0.
    """

    def __init__(self, smoothing: float, prior: FloatArray | float, denominator: FloatArray, *,
                 low: float) -> None:
        self.smoothing, self.prior, self.low = smoothing, prior, low
        keep = denominator <= 0
        self.keep = keep if keep.any() else None
        self.inverse = 1.0 / np.where(keep, 1.0, denominator)
        self.size = denominator.shape[0]
        self.scratch = np.empty(self.size)  # the median's selection buffer

    def __call__(self, total: FloatArray, current: FloatArray) -> FloatArray:
        """The next values from the edge sums ``total`` and the ``current`` values (median)."""
        mu = _median(current, self.scratch) if current.size else 0.0
        new = total + self.prior
        new += self.smoothing * mu
        new *= self.inverse
        np.clip(new, self.low, 1.0, out=new)
        if self.keep is not None:
            new[self.keep] = 1.0
        return new


@dataclass(frozen=True, eq=False)
class _Rev2Loop:
    """REV2's fixed point iteration over compact raters / ratees with preallocated edge buffers.

    Every iteration makes a fixed, small number of NumPy calls: two sparse matrix-vector products
    for the sums (precomputed CSR matrices, no per-call index checks as in ``np.bincount``),
    two medians by selection on a reused buffer, and the reliability update in place.
    """

    rater: IndexArray
    ratee: IndexArray
    half_s: FloatArray  # gamma2 / gamma * s / 2 per edge
    base_r: float  # gamma2 / gamma, plus gamma3 / gamma when I_R = 1 on every edge
    edge_prior: FloatArray | None  # gamma3 / gamma * I_R per edge, when given
    sum_f: sparse.csr_array  # raters x edges, ones: fairness sums
    sum_g: sparse.csr_array  # ratees x edges, w_u s: goodness sums
    finish_f: _Finish
    finish_g: _Finish
    fairness_weight: float  # gamma1 / gamma
    half_agreement_weight: float  # gamma2 / gamma / 2

    def run(self, iterations_max: int, tolerance: float) -> tuple[FloatArray, FloatArray,
                                                                  FloatArray, int]:
        """Iterate from F = G = R = 1 until nothing moves by more than ``tolerance``."""
        m = self.rater.shape[0]
        fairness = np.ones(self.finish_f.size)
        goodness = np.ones(self.finish_g.size)
        reliability, new_r, scratch = np.ones(m), np.empty(m), np.empty(m)
        total_g = self.sum_g @ reliability
        delta = np.inf
        for iteration in range(1, iterations_max + 1):
            new_g = self.finish_g(total_g, goodness)
            self.reliability(fairness, new_g, out=new_r, scratch=scratch)
            total_f = self.sum_f @ new_r
            total_g = self.sum_g @ new_r
            new_f = self.finish_f(total_f, fairness)
            delta = max(_max_abs(new_g - goodness), _max_abs(new_f - fairness))
            if delta <= tolerance or iteration == iterations_max:
                # The reliability's change decides only when nothing else moves too much: one
                # pass over the edges in the last iteration instead of three in every one.
                delta = max(delta, _max_abs(np.subtract(new_r, reliability, out=scratch)))
            fairness, goodness, reliability, new_r = new_f, new_g, new_r, reliability
            if delta <= tolerance:
                return fairness, goodness, reliability, iteration
        raise ConvergenceError("rev2", iterations=iterations_max, delta=delta,
                               tolerance=tolerance)

    def reliability(self, fairness: FloatArray, goodness: FloatArray, *, out: FloatArray,
                    scratch: FloatArray) -> None:
        r""":math:`R = \gamma_1 F / \gamma + \gamma_2 / \gamma \cdot (1 - |s - G| / 2)
        + \gamma_3 I_R / \gamma`, clipped to [0, 1], written into ``out``."""
        # mode="wrap" lets take write straight into ``out`` (mode "raise" buffers a copy);
        # compact positions are always in range, so nothing wraps.
        np.take(fairness * self.fairness_weight + self.base_r, self.rater, out=out, mode="wrap")
        if self.edge_prior is not None:
            out += self.edge_prior
        if self.half_agreement_weight:
            np.take(goodness * self.half_agreement_weight, self.ratee, out=scratch, mode="wrap")
            scratch -= self.half_s
            np.abs(scratch, out=scratch)
            out -= scratch
        np.clip(out, 0.0, 1.0, out=out)


def _sum_matrix(index: IndexArray, size: int, data: FloatArray) -> sparse.csr_array:
    """CSR matrix ``A`` (size x edges) with ``A[index[e], e] = data[e]``: ``A @ x`` sums ``data *
    x`` per index, in edge order within each row, like ``np.bincount(index, data * x)``."""
    m = index.shape[0]
    # Built as the transpose of the edges x size matrix with one entry per row (no sorting in
    # Python; SciPy's conversion is a counting sort that keeps edge order within each row).
    by_edge = sparse.csr_array((data, index, np.arange(m + 1)), shape=(m, size))
    return by_edge.T.tocsr()


def _median(values: FloatArray, scratch: FloatArray) -> float:
    """``np.median(values)`` by a partial sort of ``scratch`` (same size) in place.

    One partition at the upper middle position, then the largest value below it: a single
    ``kth`` takes NumPy's SIMD selection, while a pair of ``kth`` (what ``np.median`` asks
    for on even sizes) falls back to a generic introselect that is several times slower.
    """
    size = values.shape[0]
    middle = size // 2
    scratch[:] = values
    scratch.partition(middle)
    upper = float(scratch[middle])
    if size % 2:
        return upper
    return (float(scratch[:middle].max()) + upper) / 2


def _compact(index: IndexArray, n: int) -> tuple[IndexArray, IndexArray, FloatArray]:
    """The accounts that occur in ``index`` (sorted), each entry's position among them, and how
    often each of them occurs."""
    count = np.bincount(index, minlength=n)
    present = count > 0
    position = np.cumsum(present) - 1
    return np.flatnonzero(present), np.take(position, index), count[present].astype(np.float64)


def _checked(values: FloatArray, size: int) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    assert array.shape == (size,), "suspicion arrays have one value per account or rating"
    return array


def _prior(values: FloatArray | None, n: int, accounts: IndexArray) -> FloatArray | float:
    """Suspicion of ``accounts`` (0 when no suspicion is given)."""
    return 0.0 if values is None else np.take(_checked(values, n), accounts)


def _max_abs(values: NDArray[np.float64]) -> float:
    """Largest absolute value, without an array of absolute values (0 for no values)."""
    return max(float(values.max()), -float(values.min())) if values.size else 0.0
