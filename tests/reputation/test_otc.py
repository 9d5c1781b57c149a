"""Bitcoin OTC, protocol of its README: the default method reaches the issue's targets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from bonafide.reputation import RatingGraph, score_graph

LABEL_DEFINING = ("2125", "1", "1810", "1386")


@pytest.mark.shared_data
def test_default_method_reaches_auc_and_ap_of_095_on_bitcoin_otc(shared_data: Path) -> None:
    folder = shared_data / "bitcoin-otc"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not present")
    strings = pacsv.ConvertOptions(column_types={"rater": pa.string(), "ratee": pa.string(),
                                                 "account": pa.string()})
    ratings = pacsv.read_csv(folder / "ratings.csv", convert_options=strings).to_pydict()
    labels = pacsv.read_csv(folder / "labels.csv", convert_options=strings).to_pydict()
    keep = [r not in LABEL_DEFINING for r in ratings["rater"]]
    graph = RatingGraph.from_ids(
        np.array(ratings["rater"])[keep], np.array(ratings["ratee"])[keep],
        np.array(ratings["rating"], dtype=float)[keep] / 10.0,
        timestamp=np.array(ratings["timestamp"])[keep],
    )
    assert graph.n_ratings == 34_404
    result = score_graph(graph)
    index = graph.index_of(labels["account"])
    given = np.bincount(graph.rater, minlength=graph.n_accounts)
    chosen = [i for i, account in zip(index, labels["account"], strict=True)
              if i >= 0 and given[i] > 0 and account not in LABEL_DEFINING]
    truth = np.array(labels["fraudulent"])[[list(index).index(i) for i in chosen]]
    assert len(chosen) == 236 and truth.sum() == 115
    score = result.fraud_score[chosen]
    assert roc_auc_score(truth, score) >= 0.95
    assert average_precision_score(truth, score) >= 0.95
