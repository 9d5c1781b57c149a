"""Random small rating graphs for the reputation tests (seeded, so failures reproduce)."""

from __future__ import annotations

import numpy as np

from bonafide.reputation import RatingGraph

DAY = 86_400.0


def random_graph(seed: int, *, accounts: int = 12, ratings: int = 40, levels: int = 5,
                 days: float = 90.0) -> RatingGraph:
    """A random graph with ratings on a ``levels``-step scale in [-1, 1] and timestamps."""
    rng = np.random.default_rng(seed)
    rater = rng.integers(0, accounts, ratings)
    ratee = (rater + rng.integers(1, accounts, ratings)) % accounts  # no self-ratings
    rating = np.linspace(-1, 1, levels)[rng.integers(0, levels, ratings)]
    timestamp = 1.7e9 + np.sort(rng.uniform(0, days * DAY, ratings))
    return RatingGraph.from_indices(rater, ratee, rating, n_accounts=accounts,
                                    timestamp=timestamp)


def edges_of(graph: RatingGraph) -> list[tuple[int, int, float, float]]:
    ts = graph.timestamp if graph.timestamp is not None else np.zeros(graph.n_ratings)
    return [(int(u), int(p), float(s), float(t)) for u, p, s, t in
            zip(graph.rater, graph.ratee, graph.rating, ts, strict=True)]
