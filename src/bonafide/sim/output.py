"""Write a simulated market as CSV: ``ratings.csv`` and ``labels.csv``.

Owns: the simulator's file format. Imports: pyarrow and ``sim.market``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from bonafide.sim.market import Market


def write_market(market: Market, directory: Path) -> tuple[Path, Path]:
    """Write ``ratings.csv`` (rater,ratee,rating,timestamp; rating 1..5) and ``labels.csv``
    (account,fraudulent,kind) into ``directory``, each through a temporary file and a rename.
    """
    import pyarrow as pa

    directory.mkdir(parents=True, exist_ok=True)
    ids = market.account_id
    ratings = pa.table(
        {
            "rater": pa.array(ids[market.rater], type=pa.string()),
            "ratee": pa.array(ids[market.ratee], type=pa.string()),
            "rating": pa.array(market.stars),
            "timestamp": pa.array(np.round(market.timestamp, 3)),
        }
    )
    labels = pa.table(
        {
            "account": pa.array(ids, type=pa.string()),
            "fraudulent": pa.array(market.fraudulent.astype(np.int64)),
            "kind": pa.array(market.kind, type=pa.string()),
        }
    )
    paths = []
    for name, table in (("ratings.csv", ratings), ("labels.csv", labels)):
        target = directory / name
        temporary = directory / f".{name}.{os.getpid()}.tmp"
        try:
            write_csv(temporary, table)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        paths.append(target)
    return paths[0], paths[1]


def write_csv(path: Path, columns: Any) -> None:
    """Write a table (pyarrow table or dict of columns) as CSV with a plain header row.

    Values are quoted only if one of them holds a comma, quote or line break (pyarrow would
    otherwise quote every string, header included).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = columns if isinstance(columns, pa.Table) else pa.table(
        {name: pa.array(values) for name, values in columns.items()}
    )
    special = False
    for column in table.columns:
        if pa.types.is_string(column.type) and len(column):
            special = special or bool(pc.any(pc.match_substring_regex(column, '[",\r\n]')).as_py())
    style = "needed" if special else "none"
    with path.open("wb") as sink:
        sink.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(
            include_header=False, quoting_style=style))
