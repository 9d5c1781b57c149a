"""Fraud engine benchmark: quality on Bitcoin OTC and on simulated markets, speed and memory.

Run on demand (not by the tests)::

    .venv/bin/python bench/fraud.py                      # everything except 100 M
    .venv/bin/python bench/fraud.py --only otc           # one section: otc, sim, speed, scale
    .venv/bin/python bench/fraud.py --only scale --scale-graph DIR  # a simulate-graph output

The OTC data is read from ``../shared/data/bitcoin-otc`` beside the repository, or from
``--otc DIR`` / ``BONAFIDE_OTC_DIR``. The protocol is the one in that directory's README: drop
the ratings given by the label-defining accounts, score the rest with ``bonafide score
--rating-scale -10 10``, and measure ROC AUC and average precision of ``fraud_score`` over the
labelled raters other than those accounts. Output is Markdown for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from bonafide.cli import main as cli_main
from bonafide.reputation import RatingGraph, Rev2Params, ScoreParams, rev2, score_graph
from bonafide.sim import KINDS, SIZES, MarketConfig, simulate_market

ROOT = Path(__file__).resolve().parents[1]
LABEL_DEFINING = ("2125", "1", "1810", "1386")


def otc_dir(argument: str | None) -> Path:
    return Path(argument or os.environ.get("BONAFIDE_OTC_DIR")
                or ROOT.parent / "shared" / "data" / "bitcoin-otc")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def baselines(graph: RatingGraph) -> dict[str, np.ndarray]:
    n = graph.n_accounts
    given = np.maximum(np.bincount(graph.rater, minlength=n), 1)
    received = np.maximum(np.bincount(graph.ratee, minlength=n), 1)
    negative = np.bincount(graph.ratee, weights=(graph.rating < 0).astype(float), minlength=n)
    mean_given = np.bincount(graph.rater, weights=graph.rating, minlength=n) / given
    return {"share of negative ratings received": negative / received,
            "mean rating given (negated)": -mean_given}


def section_otc(folder: Path) -> None:
    print("### Bitcoin OTC (README protocol)\n")
    if not folder.is_dir():
        print(f"skipped: {folder} is missing\n")
        return
    rows = [r for r in read_rows(folder / "ratings.csv") if r["rater"] not in LABEL_DEFINING]
    labels = {r["account"]: int(r["fraudulent"]) for r in read_rows(folder / "labels.csv")}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ratings.csv"
        with source.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["rater", "ratee", "rating", "timestamp"])
            writer.writeheader()
            writer.writerows(rows)
        scores: dict[str, dict[str, float]] = {}
        timings = {}
        for method in ("rev2", "default"):
            out = Path(tmp) / f"{method}.csv"
            argv = ["score", str(source), "--out", str(out), "--rating-scale", "-10", "10",
                    "--method", method]
            started = time.perf_counter()
            cli_main(argv)
            timings[method] = time.perf_counter() - started
            scores[method] = {r["account"]: float(r["fraud_score"]) for r in read_rows(out)}
    raters = set(scores["default"])
    chosen = sorted(a for a in labels if a in raters and a not in LABEL_DEFINING)
    truth = np.array([labels[a] for a in chosen])
    graph = RatingGraph.from_ids([r["rater"] for r in rows], [r["ratee"] for r in rows],
                                 [float(r["rating"]) / 10 for r in rows])
    index = graph.index_of(chosen)
    table = {name: values[index] for name, values in baselines(graph).items()}
    plain = rev2(graph, params=Rev2Params(0, 0, 0, 0, 1, 1, 0))
    table["REV2 fairness, α=β=γ3=0 (library call)"] = 1 - plain.fairness[index]
    table["`--method rev2` (REV2, all parameters 1)"] = np.array(
        [scores["rev2"][a] for a in chosen])
    table["`--method default`"] = np.array([scores["default"][a] for a in chosen])
    # What the bought-reviews signal (on by default) adds: the default without it, by a library
    # call on the same ratings (the command has no flag for it).
    dated = RatingGraph.from_ids([r["rater"] for r in rows], [r["ratee"] for r in rows],
                                 [float(r["rating"]) / 10 for r in rows],
                                 timestamp=[float(r["timestamp"]) for r in rows])
    unbought = score_graph(dated, params=ScoreParams(bought_reviews=False))
    table["default without `bought_reviews` (library call)"] = unbought.fraud_score[
        dated.index_of(chosen)]
    print(f"{len(rows):,} ratings scored; {len(chosen)} labelled raters, "
          f"{int(truth.sum())} fraudulent.\n")
    print("| score | ROC AUC | average precision |\n|---|---|---|")
    for name, score in table.items():
        print(f"| {name} | {roc_auc_score(truth, score):.3f} | "
              f"{average_precision_score(truth, score):.3f} |")
    print(f"\nCommand wall time (in-process, incl. CSV read/write): rev2 {timings['rev2']:.2f} s, "
          f"default {timings['default']:.2f} s.\n")


def rev2_python(edges: list[tuple[int, int, float]], *, tolerance: float,
                iterations_max: int) -> tuple[dict[int, float], int]:
    """REV2 (all parameters 1, priors 0) as a plain Python loop over edges, for the speed-up."""
    raters = sorted({u for u, _, _ in edges})
    ratees = sorted({p for _, p, _ in edges})
    fairness = dict.fromkeys(raters, 1.0)
    goodness = dict.fromkeys(ratees, 1.0)
    reliability = [1.0] * len(edges)
    out_edges: dict[int, list[int]] = defaultdict(list)
    in_edges: dict[int, list[int]] = defaultdict(list)
    for k, (u, p, _) in enumerate(edges):
        out_edges[u].append(k)
        in_edges[p].append(k)
    for iteration in range(1, iterations_max + 1):
        mu_g = statistics.median(goodness.values())
        new_g = {}
        for p in ratees:
            total = sum(reliability[k] * edges[k][2] for k in in_edges[p])
            new_g[p] = min(1.0, max(-1.0, (mu_g + 1.0 + total) / (2 + len(in_edges[p]))))
        new_r = [min(1.0, max(0.0, (fairness[u] + 1 - abs(s - new_g[p]) / 2 + 1.0) / 3))
                 for u, p, s in edges]
        mu_f = statistics.median(fairness.values())
        new_f = {}
        for u in raters:
            total = sum(new_r[k] for k in out_edges[u])
            new_f[u] = min(1.0, max(0.0, (mu_f + 1.0 + total) / (2 + len(out_edges[u]))))
        delta = max(max(abs(new_g[p] - goodness[p]) for p in ratees),
                    max(abs(a - b) for a, b in zip(new_r, reliability, strict=True)),
                    max(abs(new_f[u] - fairness[u]) for u in raters))
        fairness, goodness, reliability = new_f, new_g, new_r
        if delta <= tolerance:
            return fairness, iteration
    raise RuntimeError("did not converge")


def section_speed(folder: Path) -> None:
    print("### REV2: plain Python loop vs vectorised, on OTC (35,592 ratings)\n")
    if not folder.is_dir():
        print(f"skipped: {folder} is missing\n")
        return
    rows = read_rows(folder / "ratings.csv")
    graph = RatingGraph.from_ids([r["rater"] for r in rows], [r["ratee"] for r in rows],
                                 [float(r["rating"]) / 10 for r in rows])
    edges = [(int(u), int(p), float(s)) for u, p, s in
             zip(graph.rater, graph.ratee, graph.rating, strict=True)]
    load_before = os.getloadavg()
    slow_runs = []
    for _ in range(5):  # best of N for both, in the same run: the machine is shared
        started = time.perf_counter()
        slow, slow_iterations = rev2_python(edges, tolerance=1e-6, iterations_max=500)
        slow_runs.append(time.perf_counter() - started)
    slow_time = min(slow_runs)
    runs = []
    for _ in range(50):
        started = time.perf_counter()
        fast = rev2(graph, tolerance=1e-6)
        runs.append(time.perf_counter() - started)
    fast_time = min(runs)
    load_after = os.getloadavg()
    worst = max(abs(fast.fairness[u] - f) for u, f in slow.items())
    print("| implementation | iterations | wall time (best of 5 / 50; median) | speed-up |\n"
          "|---|---|---|---|")
    print(f"| plain Python loop | {slow_iterations} | {slow_time:.3f} s "
          f"({statistics.median(slow_runs):.3f} s) | 1× |")
    print(f"| `bonafide.reputation.rev2` (NumPy) | {fast.iterations} | {fast_time * 1000:.2f} ms"
          f" ({statistics.median(runs) * 1000:.2f} ms) | {slow_time / fast_time:.0f}× |")
    print(f"\nLoad average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
          f"after: {', '.join(f'{x:.2f}' for x in load_after)}.")
    print(f"\nLargest fairness difference between the two: {worst:.1e}.\n")


def section_sim(sizes: list[str], seeds: list[int]) -> None:
    print("### Simulated markets, ROC AUC per attack kind (that kind vs all honest accounts)\n")
    methods = ("share of negative ratings received", "mean rating given (negated)", "rev2",
               "default without bought", "default")
    for size in sizes:
        results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        percentiles = []
        for seed in seeds:
            market = simulate_market(SIZES[size], seed=seed)
            graph = market.graph()
            scores = baselines(graph)
            scores["rev2"] = score_graph(graph, method="rev2").fraud_score
            default = score_graph(graph)
            scores["default"] = default.fraud_score
            scores["default without bought"] = score_graph(
                graph, params=ScoreParams(bought_reviews=False)).fraud_score
            honest = market.kind == "honest"
            for kind in KINDS[1:]:
                chosen = honest | (market.kind == kind)
                truth = market.kind[chosen] == kind
                for method in methods:
                    results[kind][method].append(roc_auc_score(truth, scores[method][chosen]))
            sellers = market.role == "seller"
            ranks = np.sort(default.reputation[sellers])
            for master in np.flatnonzero(market.kind == "sock_master"):
                position = np.searchsorted(ranks, default.reputation[master], side="right")
                percentiles.append(position / ranks.shape[0])
        config = SIZES[size]
        print(f"**{size}** ({config.buyers:,} buyers, {config.sellers:,} sellers, "
              f"{config.orders:,} orders; seeds {seeds}; mean AUC, min in brackets)\n")
        print("| kind | " + " | ".join(methods) + " |\n|---|" + "---|" * len(methods))
        for kind, row in results.items():
            cells = [f"{np.mean(v):.3f} ({np.min(v):.3f})" for v in row.values()]
            print(f"| {kind} | " + " | ".join(cells) + " |")
        print(f"\nSock-boosted low-quality sellers (50 socks each): reputation percentile among "
              f"sellers {', '.join(f'{p:.2f}' for p in percentiles)} "
              f"(max {max(percentiles):.2f}; bottom third means <= 0.33).\n")


def scale_child(ratings: int) -> None:
    """Run in a subprocess: build a market of about ``ratings`` ratings and score it."""
    orders = int(ratings / 1.3)
    config = MarketConfig(buyers=max(orders // 10, 100), sellers=max(orders // 100, 20),
                          orders=orders, sock_attacks=20, rings=15, camouflage_rings=10,
                          hired_reviewers=80, hired_clients=60, bursts=20, scammers=40)
    started = time.perf_counter()
    market = simulate_market(config, seed=0)
    graph = market.graph()
    simulate_time = time.perf_counter() - started
    del market
    gc.collect()
    _score_and_report(graph, simulate_time)


def graph_child(folder: Path) -> None:
    """Run in a subprocess: read a ``bonafide simulate-graph`` directory and score it.

    ``simulate_market`` needs more than 10 GB for 10^8 ratings; ``simulate-graph`` writes them
    chunk by chunk (integer ids, stars 1-5, timestamps, no order values), and they are read
    here one file at a time into int32 / float32 arrays.
    """
    import pyarrow.parquet as pq

    started = time.perf_counter()
    files = sorted((folder / "ratings").glob("*.parquet"))
    rows = [pq.ParquetFile(f).metadata.num_rows for f in files]
    m = sum(rows)
    rater, ratee = np.empty(m, dtype=np.int32), np.empty(m, dtype=np.int32)
    stars, timestamp = np.empty(m, dtype=np.float32), np.empty(m)
    at = 0
    for path, size in zip(files, rows, strict=True):
        table = pq.read_table(path, columns=["rater", "ratee", "rating", "timestamp"])
        for target, name in ((rater, "rater"), (ratee, "ratee"), (stars, "rating"),
                             (timestamp, "timestamp")):
            target[at:at + size] = table.column(name).to_numpy()
        at += size
        del table
    n = int(max(rater.max(), ratee.max())) + 1
    graph = RatingGraph.from_indices(rater, ratee, (stars - np.float32(3.0)) / np.float32(2.0),
                                     n_accounts=n, timestamp=timestamp)
    del rater, ratee, stars, timestamp
    gc.collect()
    _score_and_report(graph, time.perf_counter() - started)


def _score_and_report(graph: RatingGraph, simulate_time: float) -> None:
    baseline = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    stages: list[tuple[str, float, int]] = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = score_graph(graph, now=None, progress=lambda stage: stages.append(
        (stage, time.perf_counter(), threading.get_ident())))
    score_time = time.perf_counter() - started
    cpu_time = time.process_time() - cpu_started
    peak = _rss_kb("VmHWM")
    assert np.isfinite(result.fraud_score).all()
    print(f"{graph.n_ratings},{graph.n_accounts},{simulate_time:.1f},{score_time:.1f},"
          f"{cpu_time:.1f},{baseline / 1e6:.2f},{peak / 1e6:.2f},"
          f"{_stage_split(stages, started, time.perf_counter())}")


def _stage_split(stages: list[tuple[str, float, int]], started: float, ended: float) -> str:
    """Wall time of each stage: until the next stage on its thread, or until the main thread
    moves on (FRAUDAR and the behavioural signals run on two threads; marked ``∥``)."""
    main = threading.get_ident()
    marks = [("setup", started, main), *stages, ("end", ended, main)]
    parts = []
    for i, (name, at, thread) in enumerate(marks[:-1]):
        later = marks[i + 1:]
        end = later[0] if thread == main else next(m for m in later if m[2] in (thread, main))
        parts.append(f"{name}{'' if thread == main else ' ∥'} {end[1] - at:.1f}s")
    return " ".join(parts)


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def section_scale(sizes: list[float], graphs: list[Path]) -> None:
    print("### Scaling: in-process `score_graph` (default method) on simulated markets\n")
    print("| ratings | accounts | simulate | score (wall) | score (CPU) | RSS before scoring | "
          "peak RSS while scoring | stages (wall) |\n|---|---|---|---|---|---|---|---|")
    runs = [["--scale-child", str(int(size))] for size in sizes]
    runs += [["--graph-child", str(folder)] for folder in graphs]
    for run in runs:
        child = subprocess.run([sys.executable, __file__, *run], capture_output=True, text=True,
                               check=False)
        if child.returncode != 0:
            reason = (child.stderr.strip().splitlines() or [f"exit {child.returncode}"])[-1]
            print(f"| {run[1]} | failed: {reason} |")
            continue
        m, n, simulate_time, score_time, cpu, before, peak, split = (
            child.stdout.strip().split(","))
        print(f"| {int(m):,} | {int(n):,} | {simulate_time} s | {score_time} s | {cpu} s | "
              f"{before} GB | {peak} GB | {split} |")
    print(f"\nMachine: {os.cpu_count()} cores; NumPy {np.__version__}.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--otc", help="Bitcoin OTC directory (default ../shared/data/...)")
    parser.add_argument("--only", choices=["otc", "speed", "sim", "scale"], action="append")
    parser.add_argument("--sim-sizes", nargs="+", default=["small", "medium"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--scale", nargs="*", type=float, default=[1e6, 1e7])
    parser.add_argument("--scale-graph", nargs="+", type=Path, default=[],
                        help="also score these `bonafide simulate-graph` directories")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--graph-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        scale_child(args.scale_child)
        return
    if args.graph_child:
        graph_child(args.graph_child)
        return
    sections = args.only or ["otc", "speed", "sim", "scale"]
    folder = otc_dir(args.otc)
    if "otc" in sections:
        section_otc(folder)
    if "speed" in sections:
        section_speed(folder)
    if "sim" in sections:
        section_sim(args.sim_sizes, args.seeds)
    if "scale" in sections:
        section_scale(args.scale, args.scale_graph)



if __name__ == "__main__":
    main()
