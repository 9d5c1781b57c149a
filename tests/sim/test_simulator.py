"""The simulator: deterministic, realistic in shape, and its attacks are caught by the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from bonafide.reputation import score_graph
from bonafide.sim import KINDS, SIZES, simulate_market, write_market


def test_the_same_seed_gives_the_same_market_and_another_seed_a_different_one() -> None:
    a = simulate_market(SIZES["small"], seed=4)
    b = simulate_market(SIZES["small"], seed=4)
    c = simulate_market(SIZES["small"], seed=5)
    assert (a.account_id == b.account_id).all() and (a.stars == b.stars).all()
    assert (a.timestamp == b.timestamp).all() and (a.kind == b.kind).all()
    assert a.stars.shape != c.stars.shape or not (a.stars == c.stars).all()


def test_honest_ratings_are_j_shaped_and_activity_is_heavy_tailed() -> None:
    market = simulate_market(SIZES["small"], seed=0)
    honest = (market.kind[market.rater] == "honest") & (market.role[market.rater] == "buyer")
    honest &= market.kind[market.ratee] == "honest"
    share = np.bincount(market.stars[honest], minlength=6)[1:] / honest.sum()
    assert share[4] > 0.5 and share[0] > share[1] and share[0] > share[2]  # J: 5 >> 1 > 2, 3
    given = np.bincount(market.rater, minlength=market.account_id.shape[0])
    buyers = given[(market.role == "buyer") & (market.kind == "honest")]
    assert buyers.max() > 10 * max(np.median(buyers), 1)


def test_every_attack_kind_is_present_and_labelled_fraudulent() -> None:
    market = simulate_market(SIZES["small"], seed=0)
    assert set(market.kind) == set(KINDS)
    assert (market.fraudulent == (market.kind != "honest")).all()
    assert len(set(market.account_id)) == market.account_id.shape[0]


def test_ids_do_not_give_away_roles_or_attacks() -> None:
    market = simulate_market(SIZES["small"], seed=0)
    order = np.argsort(market.account_id)
    assert (market.kind[order][-50:] == "honest").mean() < 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_the_default_method_catches_each_attack_kind(seed: int) -> None:
    market = simulate_market(SIZES["small"], seed=seed)
    result = score_graph(market.graph())
    honest = market.kind == "honest"
    floors = {"hired_client": 0.75, "scammer": 0.85, "hired": 0.85}
    for kind in KINDS[1:]:
        chosen = honest | (market.kind == kind)
        auc = roc_auc_score(market.kind[chosen] == kind, result.fraud_score[chosen])
        assert auc >= floors.get(kind, 0.95), kind


def test_a_low_quality_seller_boosted_by_fifty_socks_stays_in_the_bottom_third() -> None:
    market = simulate_market(SIZES["small"], seed=3)
    assert market.config.socks_per_attack == 50
    result = score_graph(market.graph())
    sellers = market.role == "seller"
    cutoff = np.quantile(result.reputation[sellers], 1 / 3)
    masters = market.kind == "sock_master"
    assert (result.reputation[masters] <= cutoff).all()


def test_write_market_writes_ratings_and_labels_with_plain_headers(tmp_path: Path) -> None:
    market = simulate_market(SIZES["small"], seed=0)
    ratings, labels = write_market(market, tmp_path)
    lines = ratings.read_text().splitlines()
    assert lines[0] == "rater,ratee,rating,timestamp"
    assert len(lines) == market.stars.shape[0] + 1
    assert labels.read_text().splitlines()[0] == "account,fraudulent,kind"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv", "ratings.csv"]
