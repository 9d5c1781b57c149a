"""Benchmark: the Dask engine on generated graphs of 10 M / 30 M / 100 M ratings.

Usage::

    .venv/bin/python bench/scale.py --ratings 10000000 [--ratings 30000000 ...]
        [--workers 2] [--memory-limit 8GB] [--data DIR] [--method default]

For each size it generates the graph once (``bonafide simulate-graph``'s generator, seed 0,
1 M-row chunks, 10 chunks per file, default ``share_max``) into ``--data`` (default:
``bonafide-scale`` in the system's temporary directory) unless the directory exists, then
scores it on a fresh ``LocalCluster`` and prints one JSON line: wall time (read + score), the
time of each stage, CPU seconds of the workers and the driver, map + reduce rounds, and the peak
resident memory (``VmHWM`` from ``/proc``) of each worker process and of the driver. Wall time
on a shared machine depends on its load (recorded with the run); CPU seconds are the figures to
compare.
Not a CI test: a 100 M run takes a long time on two cores.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Python puts this script's folder first on sys.path, and spawned Dask workers inherit it: a
# script in bench/ named like a standard-library module would then shadow it in every worker.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from bonafide.reputation.distributed import (  # noqa: E402
    open_cluster,
    read_partitioned,
    score_chunked,
)
from bonafide.sim.stream import GraphConfig, write_graph  # noqa: E402


def peak_rss_bytes() -> int:
    """This process's peak resident set (``VmHWM``) from ``/proc/self/status``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes_since_mark() -> int:
    """``VmHWM`` since the last call, which resets it (``/proc/self/clear_refs``, Linux 4.0+):
    the peak of one stage."""
    peak = peak_rss_bytes()
    Path("/proc/self/clear_refs").write_text("5")
    return peak


def rss_bytes() -> int:
    """This process's current resident set (``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds() -> float:
    """User + system CPU time of this process so far, from ``/proc/self/stat``."""
    import os

    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def generate(ratings: int, data: Path) -> Path:
    config = GraphConfig(ratings=ratings)
    # The cap in the name: graphs drawn before it (or with another) are not reused.
    directory = data / f"graph-{ratings}-share{config.share_max:g}"
    if not (directory / "labels.parquet").exists():
        started = time.monotonic()
        write_graph(config, directory, seed=0, chunk_rows=1_000_000)
        print(f"generated {ratings:,} ratings in {time.monotonic() - started:.1f}s",
              file=sys.stderr, flush=True)
    return directory / "ratings"


def run(ratings: int, args: argparse.Namespace) -> dict[str, Any]:
    source = generate(ratings, args.data)
    stages: list[tuple[str, float, float, float, float, float]] = []
    started = time.monotonic()
    cluster: list[Any] = []
    peaks: dict[str, int] = {}  # per worker, over the stages

    def stage_peak() -> float:
        """The largest worker's peak since the last mark (GB); remembers each worker's."""
        marks = cluster[0].run(peak_rss_bytes_since_mark)
        for worker, peak in marks.items():
            peaks[worker] = max(peaks.get(worker, 0), peak)
        return max(marks.values()) / 1e9

    def progress(message: str) -> None:
        # Seconds since the start; the largest worker's peak resident memory (GB) in the stage
        # that ends here and its resident memory now; the CPU seconds all workers and the driver
        # (the scheduler included: it runs in this process) have used so far, and the driver's.
        peak = stage_peak()
        rss = max(cluster[0].run(rss_bytes).values()) / 1e9
        driver = cpu_seconds()
        cpu = sum(cluster[0].run(cpu_seconds).values()) + driver
        stages.append((message, round(time.monotonic() - started, 1), round(rss, 2),
                       round(cpu, 1), round(driver, 1), round(peak, 2)))
        print(f"[{time.monotonic() - started:7.1f}s] {message} (worker {rss:.2f} GB, peak of "
              f"the stage before {peak:.2f} GB, cpu {cpu:.1f} s, driver {driver:.1f} s)",
              file=sys.stderr, flush=True)

    with open_cluster(n_workers=args.workers, memory_limit=args.memory_limit) as client:
        cluster.append(client)
        ready = time.monotonic()
        runner, read = read_partitioned(source, rating_min=1.0, rating_max=5.0, client=client,
                                        progress=progress)
        result = score_chunked(runner, read.accounts.shape[0], method=args.method,
                               progress=progress)
        wall = time.monotonic() - ready
        last_peak = stage_peak()
        worker_cpu = client.run(cpu_seconds)
    return {
        "ratings": ratings,
        "accounts": int(read.accounts.shape[0]),
        "workers": args.workers,
        "memory_limit": args.memory_limit,
        "method": args.method,
        "wall_seconds": round(wall, 1),
        "iterations": result.iterations,
        "peak_worker_bytes": sorted(peaks.values()),
        "peak_last_stage_gb": round(last_peak, 2),
        "cpu_seconds_workers": round(sum(worker_cpu.values()), 1),
        "cpu_seconds_driver": round(cpu_seconds(), 1),
        "peak_driver_bytes": peak_rss_bytes(),
        "rounds": getattr(runner, "rounds", None),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "stages": stages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, action="append", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="8GB")
    parser.add_argument("--method", default="default", choices=("default", "rev2"))
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "bonafide-scale")
    args = parser.parse_args()
    for ratings in args.ratings:
        print(json.dumps(run(ratings, args)), flush=True)


if __name__ == "__main__":
    main()
