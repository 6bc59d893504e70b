"""Throughput of ``sim.run`` on the Mongolia 2024 baseline, next to a reference kernel run
in the same benchmark, and the other speed targets of issue 11.

Prints, in one run:

1. worlds per second of ``sim.run`` (defaults: chunks of 100,000, no folder) serial, on
   threads of the process (both cores, in-process) and on the local process pool (both
   cores), and of the reference kernel, the simplest vectorised plain-numpy model with
   the same agents and days (below), in one process; their ratios, per second of wall
   time and of CPU time, and the fastest rate against the target of 1,000,000 worlds/s;
2. the command line, ``python -m sim run scenarios/mongolia_2024.yaml --runs 1000000``
   with its results folder: wall time and folder size (targets 3 s and 50 MB);
3. peak memory of a 10^7-world ``sim.run`` in a child process (target 300 MB);
4. the plain-numpy *ensemble*: the same reference kernel run one world at a time
   (``--ensemble-runs`` worlds, each its own small numpy model of the same agents and days,
   the usual way to run an ensemble), and ``sim.run``'s ratio to it;
5. optionally (``--loop N``), N worlds run the idiomatic Mesa way, one model each.

The issue's ">= 5 times a plain numpy ensemble" is printed against both: the ensemble of
one-world models (4) and the kernel vectorised over all worlds at once (1), which uses the
same trick as the engine and so measures only how much simpler its model is.

    python benchmarks/throughput.py [--runs 1000000] [--pool-runs 4000000] [--repeat 3]
                                    [--big 10000000] [--ensemble-runs 20000] [--loop 0]

The machine may be shared: rates are the best of ``--repeat`` repetitions, sim.run and
the reference kernel measured alternately, so their ratio compares like with like.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import special

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim import catalogue as cat  # noqa: E402
from sim.model import WarrantVisitModel  # noqa: E402
from sim.outcomes import ARREST, CANCELLED, HOSTED, LEFT_EARLY, OUTCOMES, PENDING  # noqa: E402
from sim.streams import Streams  # noqa: E402

BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"
TARGET_RATE = 1_000_000
TARGET_CLI_SECONDS, TARGET_FOLDER_MB, TARGET_PEAK_MB = 3.0, 50.0, 300.0

# --------------------------------------------------------------------------- reference kernel
#: Sign of each role's pressure on the host's intent to arrest (+: towards arrest).
_SIGN = {cat.COURT: 1.0, cat.WESTERN: 1.0, cat.LOBBY: 1.0, cat.DOMESTIC: 1.0,
         cat.PARTNER: -1.0, cat.VISITOR: -1.0, cat.HOST: -1.0}


def reference_kernel(scenario, runs: int, seed: int, chunk: int = 100_000) -> np.ndarray:
    """Outcome counts of the simplest vectorised model with the same agents and days.

    Plain numpy over all worlds of a chunk at once, no Mesa, no seed blocks: each
    uncertain parameter drawn independently by its quantile function; each actor's
    pressure the sum of its parameters, signed by its role; every day the host's intent
    moves towards the logistic of the pressures plus noise; before its commitment day
    the visitor calls the trip off when its noisy view of that intent exceeds its risk
    tolerance; while it visits, the host arrests with probability equal to its intent
    and the visitor may leave early; the Court rules on compliance at the end.
    """
    rng = np.random.default_rng(seed)
    paths = scenario.uncertain()
    laws = [scenario.parameters[p].dist for p in paths]
    fixed = {p: par.dist.mean() for p, par in scenario.parameters.items() if not par.uncertain}
    arrival = scenario.days_before_visit
    commitment = min(scenario.days_before_commitment, arrival)
    departure = arrival + scenario.visit_days - 1
    counts = np.zeros(len(OUTCOMES), dtype=np.int64)
    for start in range(0, runs, chunk):
        n = min(chunk, runs - start)
        u = rng.random((len(paths), n))
        values = {**fixed, **{p: law.ppf(u[i]) for i, (p, law) in enumerate(zip(
            paths, laws, strict=True))}}
        weight = {k.removeprefix("weights."): v for k, v in values.items()
                  if k.startswith("weights.")}
        pressure = np.zeros(n)
        for actor in scenario.actors:
            own = [v for k, v in values.items() if k.startswith(f"actors.{actor.id}.")]
            pressure += _SIGN[actor.role] * np.sum(np.broadcast_arrays(0.0, *own)[1:], axis=0)
        base = 0.1 * pressure
        inertia = weight["stance_inertia"]
        intent = special.expit(base)
        outcome = np.full(n, PENDING, dtype=np.int8)
        for day in range(departure + 1):
            noise = weight["disposition_sd"] * rng.standard_normal(n)
            intent = inertia * intent + (1 - inertia) * special.expit(base + noise)
            pending = outcome == PENDING
            if day <= commitment:
                seen = intent + weight["perception_sd"] * rng.standard_normal(n)
                outcome[pending & (seen > weight["risk_tolerance"])] = CANCELLED
            if arrival <= day <= departure:
                pending = outcome == PENDING
                outcome[pending & (rng.random(n) < intent)] = ARREST
                if day < departure:
                    leave = (outcome == PENDING) & (rng.random(n) < 0.05 * intent)
                    outcome[leave] = LEFT_EARLY
        outcome[outcome == PENDING] = HOSTED
        defied = (outcome == HOSTED) | (outcome == LEFT_EARLY)
        _ = defied & (rng.random(n) < 0.5)  # the Court's finding
        counts += np.bincount(outcome, minlength=len(OUTCOMES))
    return counts


# --------------------------------------------------------------------------- measurements

def rates(work, runs: int) -> tuple[float, float]:
    """Worlds per second of ``work()``, per second of wall time and per second of this
    process's CPU time (which a busy machine does not inflate)."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return runs / (time.perf_counter() - wall), runs / (time.process_time() - cpu)


def one_model_per_replication_rate(scenario, runs: int) -> float:
    """The idiomatic Mesa way: a fresh model (with R = 1) for every replication."""
    start = time.perf_counter()
    for i in range(runs):
        WarrantVisitModel(scenario, Streams.for_range(1, i, [1])).run_to_end()
    return runs / (time.perf_counter() - start)


def command_line(runs: int, repeat: int) -> tuple[float, float, float]:
    """Best wall time (s) of ``python -m sim run BASELINE --runs RUNS`` with its folder, its
    CPU time (s) and the folder's size (MB)."""
    best, cpu, size = float("inf"), float("inf"), 0.0
    for _ in range(repeat):
        where = Path(tempfile.mkdtemp(prefix="sim-bench-"))
        try:
            before = os.times()
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim", "run", str(BASELINE), "--runs",
                            str(runs), "--seed", "1", "--out", str(where / "run"), "--quiet"],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            best = min(best, time.perf_counter() - start)
            after = os.times()
            cpu = min(cpu, after.children_user - before.children_user
                      + after.children_system - before.children_system)
            size = sum(f.stat().st_size for f in (where / "run").rglob("*") if f.is_file())
        finally:
            shutil.rmtree(where)
    return best, cpu, size / 1e6


def peak_memory_mib(runs: int) -> tuple[float, float]:
    """Run ``runs`` worlds in a child process; its peak RSS (MiB) and wall time.

    The peak is the child's ``VmHWM`` (of its own address space), not ``ru_maxrss``,
    which a process inherits from the parent that forked it.
    """
    code = (f"import re, sys; sys.path.insert(0, {str(ROOT)!r}); import sim; "
            f"sim.run(sim.load_scenario({str(BASELINE)!r}), runs={runs}, seed=1, "
            f"progress=False); print(re.search(r'VmHWM:\\s*(\\d+)', "
            f"open('/proc/self/status').read())[1])")
    start = time.perf_counter()
    kib = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()[-1]
    return int(kib) / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1_000_000, help="worlds per timing")
    parser.add_argument("--pool-runs", type=int, default=4_000_000,
                        help="worlds per timing on the process pool (it has to start)")
    parser.add_argument("--repeat", type=int, default=3, help="timings; the best counts")
    parser.add_argument("--big", type=int, default=10_000_000, help="worlds for peak memory")
    parser.add_argument("--ensemble-runs", type=int, default=20_000,
                        help="worlds of the plain-numpy ensemble, one model each (0: skip)")
    parser.add_argument("--loop", type=int, default=0,
                        help="worlds run one Mesa model each (0: skip)")
    args = parser.parse_args()
    scenario = sim.load_scenario(BASELINE)
    sim.run(scenario, runs=10_000, seed=0, progress=False)  # warm imports and caches
    reference_kernel(scenario, 10_000, 0)
    cores = os.cpu_count() or 1

    best = dict.fromkeys(("serial", "threads", "processes", "reference"), (0.0, 0.0))
    work = {"serial": (args.runs, lambda: sim.run(scenario, runs=args.runs, seed=1,
                                                  executor="serial", progress=False)),
            "threads": (args.runs, lambda: sim.run(scenario, runs=args.runs, seed=1,
                                                   executor="threads", progress=False)),
            "reference": (args.runs, lambda: reference_kernel(scenario, args.runs, 1)),
            "processes": (args.pool_runs, lambda: sim.run(scenario, runs=args.pool_runs,
                                                          seed=1, executor="processes",
                                                          progress=False))}
    for _ in range(args.repeat):  # alternately, so a busy moment hits each alike
        for key, (runs, task) in work.items():
            wall, cpu = rates(task, runs)
            best[key] = (max(best[key][0], wall), max(best[key][1], cpu))
    reference, reference_cpu = best["reference"]
    print(f"best of {args.repeat}; {cores} cores; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(f"{'':<44}{'worlds':>11}{'worlds/s':>11}{'x ref.':>8}{'per CPU-s':>11}{'x ref.':>8}")
    for label, key in (("sim.run, serial", "serial"),
                       (f"sim.run, threads ({cores}, the default)", "threads"),
                       (f"sim.run, process pool ({cores} workers)", "processes"),
                       ("reference kernel (plain numpy, 1 process)", "reference")):
        wall, cpu = best[key]
        per_cpu = (f"{cpu:>11,.0f}{cpu / reference_cpu:>8.2f}" if key in ("serial", "reference")
                   else f"{'':>11}{'':>8}")  # threads share, processes hide their CPU time
        print(f"{label:<44}{work[key][0]:>11,}{wall:>11,.0f}{wall / reference:>8.2f}{per_cpu}")
    fastest = max(best[key][0] for key in ("serial", "threads", "processes"))
    print(f"\nsim.run at its fastest: {fastest:,.0f} worlds/s = {fastest / TARGET_RATE:.2f} of "
          f"the target {TARGET_RATE:,}/s, {fastest / reference:.2f} x the reference kernel "
          f"(target >= 5)")

    wall, cpu, size = command_line(1_000_000, args.repeat)
    print(f"python -m sim run BASELINE --runs 1000000 (with its folder): {wall:.2f} s = "
          f"{wall / TARGET_CLI_SECONDS:.2f} of the target {TARGET_CLI_SECONDS:g} s ({cpu:.2f} "
          f"CPU-s); folder {size:.1f} MB = {size / TARGET_FOLDER_MB:.2f} of the target "
          f"{TARGET_FOLDER_MB:g} MB (the reference kernel: 10^6 worlds in {1e6 / reference:.2f} s)")

    peak, elapsed = peak_memory_mib(args.big)
    megabytes = peak * 2**20 / 1e6
    print(f"peak memory for {args.big:,} worlds: {peak:,.0f} MiB ({megabytes:,.0f} MB) = "
          f"{megabytes / TARGET_PEAK_MB:.2f} of the target {TARGET_PEAK_MB:g} MB, in "
          f"{elapsed:.1f} s")

    if args.ensemble_runs:
        ensemble, _ = rates(lambda: reference_kernel(scenario, args.ensemble_runs, 1, chunk=1),
                            args.ensemble_runs)
        print(f"plain-numpy ensemble (the reference kernel one world at a time): "
              f"{ensemble:,.0f} worlds/s; sim.run at its fastest is {fastest / ensemble:,.0f} x "
              f"faster (target >= 5)")

    if args.loop:
        loop = one_model_per_replication_rate(scenario, args.loop)
        print(f"one Mesa model per world: {loop:,.0f} worlds/s; sim.run serial is "
              f"{best['serial'][0] / loop:,.0f} x faster")


if __name__ == "__main__":
    main()
