"""The fraud and reputation engine: pure NumPy/SciPy over the edge arrays of a rating graph.

Owns: scoring accounts for fraud and ratees for reputation. Imports: NumPy, SciPy and
``bonafide.errors``; never the database, the clock or a global random generator (``now`` and
``seed`` are arguments). The service layer feeds it arrays and stores what it returns.

Public API::

    graph = RatingGraph.from_ids(rater_ids, ratee_ids, rating,      # rating scaled to [-1, 1]
                                 timestamp=ts, value=order_value)   # both optional
    result = score_graph(graph, method="default",                   # or "rev2"
                         labels=labels,   # int per account: 1 fraud, 0 good, -1 unknown
                         links=links,     # (k, 2) account index pairs sharing a fingerprint
                         now=now, seed=0)
    result.fraud_score[i]        # in [0, 1], higher = more likely fraudulent
    result.rating_weight[e]      # in [0, 1], how much rating e counts
    result.reputation[i]         # in [0, 1], chance of a good outcome with account i
    result.reputation_low[i], result.reputation_high[i]   # its interval
    result.reasons(i)            # [Reason(code, effect, detail)], largest effect first

    labels_from_ids(graph, ids, fraudulent)   # label array from external ids
    links_from_ids(graph, pairs)              # link index pairs from external ids

The building blocks are public too: ``rev2`` (Kumar et al., WSDM 2018), ``fraudar`` (Hooi et
al., KDD 2016), ``burst_suspicion``, ``hired_suspicion``, ``ring_suspicion`` and
``linked_ratings``. A method that does
not settle within its iteration limit raises ``ConvergenceError`` (code ``did_not_converge``).
See ``docs/reputation.md`` for the method and measured figures.
"""

from __future__ import annotations

from bonafide.reputation.behaviour import (
    burst_suspicion,
    hired_like_ratings,
    hired_suspicion,
    linked_ratings,
    ring_suspicion,
)
from bonafide.reputation.fraudar import Block, fraudar
from bonafide.reputation.graph import ConvergenceError, RatingGraph
from bonafide.reputation.ids import labels_from_ids, links_from_ids
from bonafide.reputation.rev2 import Rev2Params, Rev2Result, rev2
from bonafide.reputation.score import METHODS, Reason, ScoreParams, ScoreResult, score_graph

__all__ = [
    "METHODS",
    "Block",
    "ConvergenceError",
    "RatingGraph",
    "Reason",
    "Rev2Params",
    "Rev2Result",
    "ScoreParams",
    "ScoreResult",
    "burst_suspicion",
    "fraudar",
    "hired_like_ratings",
    "hired_suspicion",
    "labels_from_ids",
    "linked_ratings",
    "links_from_ids",
    "rev2",
    "ring_suspicion",
    "score_graph",
]
