"""Translate external account ids into the engine's index arrays (labels and links).

Owns: ``labels_from_ids``, ``links_from_ids``. Imports: NumPy and ``reputation.graph``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from bonafide.reputation.graph import IndexArray, RatingGraph


def labels_from_ids(
    graph: RatingGraph, ids: Sequence[str] | ArrayLike, fraudulent: ArrayLike
) -> IndexArray:
    """Per-account labels (1 fraud, 0 good, -1 unknown); ids not in the graph are ignored.

    Examples
    --------
    >>> g = RatingGraph.from_ids(["a"], ["b"], [1.0])
    >>> labels_from_ids(g, ["b", "zz"], [1, 0]).tolist()
    [-1, 1]
    """
    index = graph.index_of(ids)
    flag = np.asarray(fraudulent, dtype=np.int64)
    assert flag.shape == index.shape and np.isin(flag, (0, 1)).all()
    label = np.full(graph.n_accounts, -1, dtype=np.int64)
    known = index >= 0
    label[index[known]] = flag[known]
    return label


def links_from_ids(graph: RatingGraph, pairs: Sequence[tuple[str, str]]) -> IndexArray:
    """Index pairs of linked accounts; pairs with an id not in the graph are dropped.

    Examples
    --------
    >>> g = RatingGraph.from_ids(["a", "b"], ["b", "c"], [1.0, 1.0])
    >>> links_from_ids(g, [("c", "a"), ("a", "x")]).tolist()
    [[2, 0]]
    """
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    left = graph.index_of([a for a, _ in pairs])
    right = graph.index_of([b for _, b in pairs])
    keep = (left >= 0) & (right >= 0)
    return np.stack([left[keep], right[keep]], axis=1)
