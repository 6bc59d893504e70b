"""Wall time of a 100-point sweep at 10^5 replications per point on the Mongolia baseline:
serial, threads of the process, the local process pool and a local Dask cluster, with
speed-up and efficiency per core.

    python benchmarks/sweep.py [--points 100] [--runs 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.analysis.sweep import Axis, sweep  # noqa: E402

KEY = "actors.mongolia.ties.russia.fuel_import_share"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    scenario = sim.load_scenario(ROOT / "scenarios" / "mongolia_2024.yaml")
    axes = [Axis(KEY, 0.0, 1.0, args.points)]
    print(f"{args.points}-point sweep x {args.runs:,} runs per point "
          f"({args.points * args.runs:,} replications), {args.workers} workers")
    times, counts = {}, {}
    for executor in ("serial", "threads", "processes", "dask"):
        workers = None if executor == "serial" else args.workers
        start = time.perf_counter()
        result = sweep(scenario, axes, runs=args.runs, seed=1, executor=executor,
                       workers=workers, progress=False)
        times[executor] = time.perf_counter() - start
        counts[executor] = result.counts
        speedup = times["serial"] / times[executor]
        cores = 1 if executor == "serial" else args.workers
        print(f"{executor:<10} {times[executor]:>8.1f} s   speed-up {speedup:>5.2f}x   "
              f"efficiency per core {speedup / cores:>5.0%}")
    same = all(np.array_equal(counts["serial"], c) for c in counts.values())
    print(f"identical results under every executor: {same}")


if __name__ == "__main__":
    main()
