"""Throughput of parameter sampling (``sim.sampling.draw_parameters``), new against old.

Prints, on the Mongolia 2024 baseline (44 uncertain parameters), in one run:

1. ``draw_parameters`` for 100,000 worlds (10 blocks of 10,000, one call per block as
   the engine's serial chunks of one block, and one call for all 10 blocks), in worlds/s,
   for the reference kernel (the implementation before issue 11, copied below) and the
   current one, measured alternately, with their ratio;
2. a whole serial ``sim.run`` of the same worlds with each sampler (the reference is
   swapped in for the model's ``draw_parameters``), and the share of its time spent
   sampling;
3. the cost of a keyed stream for one parameter in one block of 10,000 worlds, per way of
   making it (what the choice of ``Streams.keyed_*`` rests on);
4. the quantile functions that changed: ``triangular`` and ``truncnormal``, closed forms
   against the frozen ``scipy.stats`` calls they replace.

    python benchmarks/sampling.py [--blocks 10] [--repeat 7]

Figures are medians over ``--repeat`` alternating repetitions (and the fastest, in
brackets); on a busy machine compare the ratios, which are measured side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import special, stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
import sim.model  # noqa: E402
from sim.distributions import Distribution  # noqa: E402
from sim.sampling import correlation_matrix, draw_parameters  # noqa: E402
from sim.streams import BLOCK, Streams, stream_tag  # noqa: E402

BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"


# --------------------------------------------------------------------------- reference kernel
# draw_parameters, keyed_normal and the triangular and truncnormal quantiles as they were
# before issue 11 (commit 883f65d): a SeedSequence and a PCG64 generator per parameter and
# block, every parameter through normal scores, ndtr, a BLAS matrix product for the
# copula, and frozen scipy.stats distributions.

def reference_keyed_normal(streams: Streams, key: str) -> np.ndarray:
    tag = stream_tag(key)
    parts = [np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        s.entropy, spawn_key=(*s.spawn_key, 1, *tag)))).standard_normal(n)
        for s, n in zip(streams.seeds, streams.sizes, strict=True)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def reference_ppf(dist: Distribution, u: np.ndarray) -> np.ndarray:
    a = dist.args
    if dist.is_fixed or dist.kind not in ("triangular", "truncnormal"):
        return dist.ppf(u)  # unchanged: uniform, normal, beta, lognormal, logitnormal
    with np.errstate(all="ignore"):
        if dist.kind == "triangular":
            width = a["high"] - a["low"]
            return stats.triang.ppf(u, (a["mode"] - a["low"]) / width, loc=a["low"],
                                    scale=width)
        lo = (a["low"] - a["mean"]) / a["sd"]
        hi = (a["high"] - a["mean"]) / a["sd"]
        return np.clip(stats.truncnorm(lo, hi, loc=a["mean"], scale=a["sd"]).ppf(u),
                       a["low"], a["high"])


def reference_draw_parameters(scenario, streams: Streams) -> dict[str, np.ndarray | float]:
    values: dict[str, np.ndarray | float] = {
        p: par.dist.mean() for p, par in scenario.parameters.items() if not par.uncertain}
    paths = scenario.uncertain()
    if paths:
        z = np.stack([reference_keyed_normal(streams, p) for p in paths])
        if scenario.correlations:
            z = np.linalg.cholesky(correlation_matrix(scenario, paths)) @ z
        u = special.ndtr(z)
        np.clip(u, 1e-12, 1 - 1e-12, out=u)
        for row, p in zip(u, paths, strict=True):
            drawn = reference_ppf(scenario.parameters[p].dist, row)
            if not np.isfinite(drawn).all():
                raise ValueError(f"non-finite draws of {p}")
            values[p] = drawn
    return values


# --------------------------------------------------------------------------- timing

def alternate(kernels: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds per call of each kernel, the kernels taking turns (after one warm-up each)."""
    times: dict[str, list[float]] = {name: [] for name in kernels}
    for f in kernels.values():
        f()
    for _ in range(repeat):
        for name, f in kernels.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return times


def rate(worlds: int, seconds: list[float]) -> str:
    return (f"{worlds / statistics.median(seconds):>12,.0f} worlds/s "
            f"[{worlds / min(seconds):>11,.0f}]")


def sampling(scenario, blocks: int, repeat: int) -> None:
    worlds = blocks * BLOCK
    one = [Streams.for_range(1, b, [BLOCK]) for b in range(blocks)]
    many = Streams.for_range(1, 0, [BLOCK] * blocks)
    kernels = {
        "reference, a call per block": lambda: [reference_draw_parameters(scenario, s)
                                                for s in one],
        "current,   a call per block": lambda: [draw_parameters(scenario, s) for s in one],
        "reference, one call": lambda: reference_draw_parameters(scenario, many),
        "current,   one call": lambda: draw_parameters(scenario, many),
    }
    times = alternate(kernels, repeat)
    print(f"1. draw_parameters, {scenario.id}, {len(scenario.uncertain())} uncertain "
          f"parameters, {worlds:,} worlds ({blocks} blocks of {BLOCK:,})")
    for name, t in times.items():
        print(f"   {name:<30}{rate(worlds, t)}")
    for how in ("a call per block", "one call"):
        ratio = (statistics.median(times[f"reference, {how}"])
                 / statistics.median(times[f"current,   {how}"]))
        print(f"   speed-up ({how}): {ratio:.1f}x")


def whole_run(scenario, blocks: int, repeat: int) -> None:
    worlds = blocks * BLOCK
    spent = {"sampling": 0.0}

    def timed(kernel):
        def draw(scenario, streams):
            start = time.perf_counter()
            try:
                return kernel(scenario, streams)
            finally:
                spent["sampling"] += time.perf_counter() - start
        return draw

    def run_with(kernel):
        def go():
            sim.model.draw_parameters = timed(kernel)
            try:
                sim.run(scenario, runs=worlds, seed=1, progress=False)
            finally:
                sim.model.draw_parameters = draw_parameters
        return go

    shares: dict[str, list[float]] = {"reference": [], "current": []}
    times: dict[str, list[float]] = {"reference": [], "current": []}
    kernels = {"reference": reference_draw_parameters, "current": draw_parameters}
    for kernel in kernels.values():
        run_with(kernel)()  # warm-up
    for _ in range(repeat):
        for name, kernel in kernels.items():
            spent["sampling"] = 0.0
            start = time.perf_counter()
            run_with(kernel)()
            elapsed = time.perf_counter() - start
            times[name].append(elapsed)
            shares[name].append(spent["sampling"] / elapsed)
    print(f"\n2. sim.run, {worlds:,} worlds, serial executor, default chunks")
    for name in kernels:
        print(f"   {name + ' sampling':<30}{rate(worlds, times[name])}   "
              f"sampling {statistics.median(shares[name]):.0%} of the run")
    print(f"   speed-up of the whole run: "
          f"{statistics.median(times['reference']) / statistics.median(times['current']):.2f}x")


def keyed_streams(scenario, repeat: int) -> None:
    """A keyed stream per parameter in one block, made each of the ways considered."""
    paths = scenario.uncertain()
    seed = Streams.for_range(1, 3, [BLOCK]).seeds[0]
    name = repr((seed.entropy, seed.spawn_key)).encode()

    def digest(key: str) -> bytes:
        tag = b"".join(w.to_bytes(4, "little") for w in stream_tag(key))
        return hashlib.blake2b(name + b"\0" + tag, digest_size=32).digest()

    pcg, sfc, philox = np.random.PCG64(0), np.random.SFC64(0), np.random.Philox(0)
    makers: dict[str, Callable[[str], np.random.Generator]] = {
        "SeedSequence + new PCG64 (reference)": lambda key: np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(
                seed.entropy, spawn_key=(*seed.spawn_key, 1, *stream_tag(key))))),
        "new Philox, key = BLAKE2b": lambda key: np.random.Generator(np.random.Philox(
            counter=0, key=int.from_bytes(digest(key)[:16], "little"))),
        "one Philox, key set = BLAKE2b": lambda key: _set(philox, {
            "bit_generator": "Philox", "state": {
                "counter": np.zeros(4, np.uint64),
                "key": np.frombuffer(digest(key)[:16], "<u8").astype(np.uint64)},
            "buffer": np.zeros(4, np.uint64), "buffer_pos": 4, "has_uint32": 0,
            "uinteger": 0}),
        "one SFC64, state set = BLAKE2b": lambda key: _set(sfc, {
            "bit_generator": "SFC64",
            "state": {"state": np.frombuffer(digest(key), "<u8").astype(np.uint64)},
            "has_uint32": 0, "uinteger": 0}),
        "one PCG64, state set = BLAKE2b (current)": lambda key: _set(pcg, {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(digest(key)[:16], "little"),
                      "inc": int.from_bytes(digest(key)[16:], "little") | 1},
            "has_uint32": 0, "uinteger": 0}),
    }
    draws = {"make only": lambda g: None, "+ 10,000 normals": lambda g: g.standard_normal(BLOCK),
             "+ 10,000 uniforms": lambda g: g.random(BLOCK)}
    print(f"\n3. a keyed stream for each of {len(paths)} parameters in one block "
          f"(microseconds per parameter; median [fastest])")
    print(f"   {'':<42}" + "".join(f"{d:>22}" for d in draws))
    for label, make in makers.items():
        cells = []
        for draw in draws.values():
            t = alternate({"x": lambda make=make, draw=draw: [draw(make(p)) for p in paths]},
                          repeat)["x"]
            cells.append(f"{statistics.median(t) / len(paths) * 1e6:>12.1f} "
                         f"[{min(t) / len(paths) * 1e6:>6.1f}]  ")
        print(f"   {label:<42}" + "".join(cells))


def _set(bits, state: dict) -> np.random.Generator:
    bits.state = state
    return np.random.Generator(bits)


def quantiles(repeat: int) -> None:
    u = np.random.default_rng(0).random(BLOCK)
    laws = [Distribution("triangular", {"low": 0.9, "mode": 0.95, "high": 0.97}),
            Distribution("truncnormal", {"mean": 0.5, "sd": 0.2, "low": 0.0, "high": 1.0}),
            Distribution("truncnormal", {"mean": 0.0, "sd": 1.0, "low": 3.0, "high": 9.0})]
    print("\n4. quantile functions, 10,000 uniforms (microseconds per call; median [fastest])")
    for law in laws:
        t = alternate({"scipy.stats": lambda law=law: reference_ppf(law, u),
                       "closed form": lambda law=law: law.ppf(u)}, repeat * 5)
        med = {k: statistics.median(v) * 1e6 for k, v in t.items()}
        ratio = med["scipy.stats"] / med["closed form"]
        print(f"   {law.describe():<38} scipy.stats {med['scipy.stats']:>8.0f} "
              f"[{min(t['scipy.stats']) * 1e6:>6.0f}]   closed form {med['closed form']:>6.0f} "
              f"[{min(t['closed form']) * 1e6:>5.0f}]   {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=10, help="blocks of 10,000 worlds")
    parser.add_argument("--repeat", type=int, default=7, help="alternating repetitions")
    args = parser.parse_args()
    scenario = sim.load_scenario(BASELINE)
    sampling(scenario, args.blocks, args.repeat)
    whole_run(scenario, args.blocks, max(3, args.repeat // 2))
    keyed_streams(scenario, args.repeat)
    quantiles(args.repeat)


if __name__ == "__main__":
    main()
