"""Helpers of the scale tests: comparing chunked results with ``score_graph``'s."""

from __future__ import annotations

from typing import Any

import numpy as np

from bonafide.reputation import RatingGraph
from bonafide.sim import SIZES, simulate_market

TOLERANCE = 1e-9


def market_graph(seed: int) -> RatingGraph:
    """A simulated market without order values (the score command reads none)."""
    g = simulate_market(SIZES["small"], seed=seed).graph()
    return RatingGraph(g.rater, g.ratee, g.rating, g.accounts, g.timestamp, None)


def assert_same_scores(expected: Any, accounts: Any, got: Any, graph: RatingGraph) -> None:
    """``got`` (chunked, accounts in its own order) equals ``expected`` within TOLERANCE."""
    index = graph.index_of(np.asarray(accounts, dtype=str))
    assert (index >= 0).all()
    raters = got.is_rater
    assert ((np.bincount(graph.rater, minlength=graph.n_accounts)[index] > 0) == raters).all()
    fraud_gap = np.abs(got.fraud_score[raters] - expected.fraud_score[index[raters]])
    ratees = got.is_ratee
    reputation_gap = np.abs(got.reputation[ratees] - expected.reputation[index[ratees]])
    low_gap = np.abs(got.reputation_low[ratees] - expected.reputation_low[index[ratees]])
    assert fraud_gap.max() <= TOLERANCE, fraud_gap.max()
    assert reputation_gap.max() <= TOLERANCE, reputation_gap.max()
    assert low_gap.max() <= TOLERANCE, low_gap.max()


