"""The rating graph every scoring method reads, and the engine's named errors.

Owns: ``RatingGraph`` (int-coded edge arrays plus the id ↔ index mapping) and
``ConvergenceError``. Imports: NumPy and ``bonafide.errors`` only.

Raters and ratees share one index space: on a marketplace a seller rates buyers and a buyer may
also sell, so account ``i`` is the same account whichever end of an edge it sits on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bonafide.errors import BonafideError, Rejected

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
# A graph's account indices: int32 while the accounts fit (half the memory), else int64.
EdgeIndexArray = NDArray[np.signedinteger[Any]]
# A graph's ratings: float32 when that holds every value exactly (star ratings do), else
# float64. Arithmetic on them widens to float64 first, so the numbers are the same either way.
RatingArray = NDArray[np.floating[Any]]
INDEX32_ACCOUNTS_MAX = int(np.iinfo(np.int32).max)


class ConvergenceError(BonafideError):
    """An iterative method did not settle within its iteration limit.

    ``code`` is ``did_not_converge``; ``iterations`` and ``delta`` record how far it got.
    """

    def __init__(self, method: str, *, iterations: int, delta: float, tolerance: float) -> None:
        super().__init__(
            "did_not_converge",
            f"{method} changed by {delta:.3g} after {iterations} iterations "
            f"(tolerance {tolerance:.3g})",
        )
        self.iterations = iterations
        self.delta = delta


@dataclass(frozen=True, eq=False)
class RatingGraph:
    """Ratings as parallel edge arrays over accounts ``0 .. n_accounts - 1``.

    Parameters
    ----------
    rater, ratee : ndarray of int32 or int64, shape (m,)
        Account index of the author and of the subject of each rating (``from_indices`` and
        ``from_ids`` store int32 while the accounts fit: 8 bytes less per rating).
    rating : ndarray of float32 or float64, shape (m,)
        The rating scaled to [-1, 1] (-1 worst, +1 best); stored as float32 by the
        constructors when that is exact for every rating. Widen before arithmetic
        (``np.asarray(g.rating, np.float64)``): NumPy keeps float32 * float in float32.
    accounts : ndarray of str (object), shape (n_accounts,)
        ``accounts[i]`` is the external id of account ``i``.
    timestamp : ndarray of float64, shape (m,), optional
        Unix seconds of each rating.
    value : ndarray of float64, shape (m,), optional
        Value of the order a rating belongs to (any positive unit; only ratios matter).

    Examples
    --------
    >>> g = RatingGraph.from_ids(["a", "b"], ["b", "c"], [1.0, -1.0])
    >>> g.n_accounts, g.rater.tolist(), g.ratee.tolist(), list(g.accounts)
    (3, [0, 1], [1, 2], ['a', 'b', 'c'])
    """

    rater: EdgeIndexArray
    ratee: EdgeIndexArray
    rating: RatingArray
    accounts: NDArray[np.object_]
    timestamp: FloatArray | None = None
    value: FloatArray | None = None

    def __post_init__(self) -> None:
        m = self.rater.shape[0]
        assert self.rater.shape == (m,) and self.ratee.shape == (m,) and self.rating.shape == (m,)
        assert self.timestamp is None or self.timestamp.shape == (m,)
        assert self.value is None or self.value.shape == (m,)

    @property
    def n_accounts(self) -> int:
        """Number of accounts (rows of every per-account array)."""
        return int(self.accounts.shape[0])

    @property
    def n_ratings(self) -> int:
        """Number of ratings (edges)."""
        return int(self.rater.shape[0])

    @classmethod
    def from_ids(
        cls,
        rater_ids: Sequence[str] | ArrayLike,
        ratee_ids: Sequence[str] | ArrayLike,
        rating: ArrayLike,
        *,
        timestamp: ArrayLike | None = None,
        value: ArrayLike | None = None,
        accounts_extra: Sequence[str] | None = None,
    ) -> RatingGraph:
        """Build a graph from external string ids; accounts are indexed in sorted id order.

        ``accounts_extra`` adds accounts that have no rating (e.g. labelled accounts) so they
        get an index too. Ratings must already be scaled to [-1, 1] and finite.
        """
        raters = np.asarray(rater_ids).astype(str).astype(object)
        ratees = np.asarray(ratee_ids).astype(str).astype(object)
        extra = np.asarray(list(accounts_extra or []), dtype=object)
        m = raters.shape[0]
        if ratees.shape[0] != m:
            raise Rejected("columns_must_have_equal_length", "rater and ratee differ in length")
        every = np.concatenate([raters, ratees, extra]).astype(str)
        accounts, inverse = np.unique(every, return_inverse=True)
        return cls.from_indices(
            inverse[:m],
            inverse[m : 2 * m],
            rating,
            accounts=accounts.astype(object),
            timestamp=timestamp,
            value=value,
        )

    @classmethod
    def from_indices(
        cls,
        rater: ArrayLike,
        ratee: ArrayLike,
        rating: ArrayLike,
        *,
        accounts: ArrayLike | None = None,
        n_accounts: int | None = None,
        timestamp: ArrayLike | None = None,
        value: ArrayLike | None = None,
    ) -> RatingGraph:
        """Build a graph from integer indices, checking ranges (ids default to ``str(i)``).

        Indices are stored as int32 when the accounts fit, ratings as float32 when exact.
        """
        rater_a = _integers(rater)
        ratee_a = _integers(ratee)
        rating_a = np.asarray(rating, dtype=np.float64)
        if accounts is None:
            top = max(int(rater_a.max(initial=-1)), int(ratee_a.max(initial=-1))) + 1
            count = top if n_accounts is None else n_accounts
            accounts_a = np.array([str(i) for i in range(count)], dtype=object)
        else:
            accounts_a = np.asarray(accounts, dtype=object)
        if rater_a.shape != ratee_a.shape or rater_a.shape != rating_a.shape:
            raise Rejected("columns_must_have_equal_length", "edge arrays differ in length")
        n = accounts_a.shape[0]
        if rater_a.size and (min(rater_a.min(), ratee_a.min()) < 0
                             or max(rater_a.max(), ratee_a.max()) >= n):
            raise Rejected("account_index_out_of_range", f"indices must lie in 0..{n - 1}")
        if not np.all(np.isfinite(rating_a)) or np.any(np.abs(rating_a) > 1.0):
            raise Rejected("rating_outside_scale", "scaled ratings must be finite and in [-1, 1]")
        ts = None if timestamp is None else np.asarray(timestamp, dtype=np.float64)
        if ts is not None and (ts.shape != rating_a.shape or not np.all(np.isfinite(ts))):
            raise Rejected("timestamp_not_numeric", "timestamps must be finite numbers")
        val = None if value is None else np.asarray(value, dtype=np.float64)
        if val is not None and (val.shape != rating_a.shape or np.any(~(val >= 0))):
            raise Rejected("order_value_invalid", "order values must be finite and >= 0")
        if n <= INDEX32_ACCOUNTS_MAX:
            rater_a, ratee_a = rater_a.astype(np.int32), ratee_a.astype(np.int32)
        return cls(rater_a, ratee_a, _narrow_if_exact(rating_a), accounts_a, ts, val)

    def index_of(self, ids: Sequence[str] | ArrayLike) -> IndexArray:
        """Indices of external ids; -1 for ids that are not in the graph."""
        wanted = np.asarray(ids).astype(str)
        known = self.accounts.astype(str)
        order = np.argsort(known, kind="stable")
        position = np.searchsorted(known[order], wanted)
        position = np.minimum(position, max(known.shape[0] - 1, 0))
        if known.shape[0] == 0:
            return np.full(wanted.shape[0], -1, dtype=np.int64)
        found = known[order][position] == wanted
        return np.where(found, order[position], -1).astype(np.int64)

    def degrees(self) -> tuple[IndexArray, IndexArray]:
        """(ratings given, ratings received) per account."""
        n = self.n_accounts
        return (
            np.bincount(self.rater, minlength=n).astype(np.int64),
            np.bincount(self.ratee, minlength=n).astype(np.int64),
        )

    def relabel(self, permutation: ArrayLike) -> RatingGraph:
        """The same graph with account ``i`` renamed to index ``permutation[i]`` (for tests)."""
        perm = np.asarray(permutation, dtype=np.int64)
        accounts = np.empty_like(self.accounts)
        accounts[perm] = self.accounts
        return RatingGraph(
            perm[self.rater], perm[self.ratee], self.rating, accounts, self.timestamp, self.value
        )


def _integers(values: ArrayLike) -> EdgeIndexArray:
    """Integer indices as given (int32 stays int32), anything else as int64."""
    array = np.asarray(values)
    if array.dtype.kind in "iu" and array.dtype.itemsize <= 8 and array.dtype != np.uint64:
        return array if array.dtype.kind == "i" else array.astype(np.int64)
    return np.asarray(values, dtype=np.int64)


def _narrow_if_exact(rating: FloatArray) -> RatingArray:
    """``rating`` as float32 when every value survives the round trip, else as given."""
    narrow = rating.astype(np.float32)
    return narrow if np.array_equal(narrow, rating) else rating
