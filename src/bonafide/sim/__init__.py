"""Market simulator with ground-truth labels, for tests, benchmarks and the demo.

Owns: generating honest and adversarial market activity. Imports: NumPy and
``bonafide.reputation`` types; never the store or the service.

    market = simulate_market(SIZES["small"], seed=7)   # Market: accounts + rated orders
    graph = market.graph()                             # RatingGraph for score_graph
    write_market(market, directory)                    # ratings.csv and labels.csv
"""

from __future__ import annotations

from bonafide.sim.market import KINDS, SIZES, Market, MarketConfig, simulate_market
from bonafide.sim.output import write_market

__all__ = ["KINDS", "SIZES", "Market", "MarketConfig", "simulate_market", "write_market"]
