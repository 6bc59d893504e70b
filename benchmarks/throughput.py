"""Throughput of the ensemble engine against one Mesa model per replication.

Prints replications per second on the Mongolia 2024 baseline for the ensemble
engine at R = 10^3 .. 10^6 (default chunking, one process), the same model run
the idiomatic Mesa way (one model per replication, in a loop), their ratio, and
the peak memory of a 10^7-replication run measured in a child process.

    python benchmarks/throughput.py [--big 10000000] [--loop 2000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.model import WarrantVisitModel  # noqa: E402
from sim.streams import Streams  # noqa: E402

BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"


def ensemble_rate(scenario, runs: int) -> float:
    start = time.perf_counter()
    sim.run(scenario, runs=runs, seed=1, progress=False)
    return runs / (time.perf_counter() - start)


def one_model_per_replication_rate(scenario, runs: int) -> float:
    """The idiomatic way: a fresh Mesa model (with R = 1) for every replication."""
    start = time.perf_counter()
    for i in range(runs):
        WarrantVisitModel(scenario, Streams.for_range(1, i, [1])).run_to_end()
    return runs / (time.perf_counter() - start)


def peak_memory_mib(runs: int) -> tuple[float, float]:
    """Run ``runs`` replications in a child process; its peak RSS (MiB) and wall time."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); import sim; "
            f"sim.run(sim.load_scenario({str(BASELINE)!r}), runs={runs}, seed=1, "
            f"progress=False)")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    elapsed = time.perf_counter() - start
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return kib / 1024, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big", type=int, default=10_000_000, help="runs for the memory test")
    parser.add_argument("--loop", type=int, default=2_000,
                        help="replications for the one-model-per-replication loop")
    args = parser.parse_args()
    scenario = sim.load_scenario(BASELINE)
    sim.run(scenario, runs=10_000, seed=0, progress=False)  # warm up imports and caches

    print(f"{'engine':<34}{'R':>12}{'runs/s':>14}")
    rates = {}
    for runs in (10**3, 10**4, 10**5, 10**6):
        rates[runs] = ensemble_rate(scenario, runs)
        print(f"{'ensemble (one model, R worlds)':<34}{runs:>12,}{rates[runs]:>14,.0f}")
    loop = one_model_per_replication_rate(scenario, args.loop)
    print(f"{'one Mesa model per replication':<34}{args.loop:>12,}{loop:>14,.0f}")
    print(f"\n10^6 replications: {10**6 / rates[10**6]:.2f} s "
          f"(target <= 10 s, i.e. >= 100,000 runs/s)")
    print(f"speed-up at R = 10^6 over one model per replication: {rates[10**6] / loop:,.0f}x "
          f"(target >= 100x)")
    peak, elapsed = peak_memory_mib(args.big)
    print(f"peak memory for {args.big:,} replications: {peak:,.0f} MiB in {elapsed:.1f} s "
          f"(target < 1024 MiB)")


if __name__ == "__main__":
    main()
