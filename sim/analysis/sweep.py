"""Sweeps: outcome probabilities across values of one or more parameters.

A grid (``steps`` values per key, every combination) or a Latin hypercube of
``samples`` points (scipy.stats.qmc).  Every point runs with the same seed, so
the points differ only by the swept values (common random numbers) and the
curves are smooth rather than noisy.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from ..engine import check_design, check_run_arguments, new_seed, run
from ..errors import ScenarioError, UsageError
from ..executors import in_order, make_executor
from ..outcomes import OUTCOMES
from ..results import wilson_interval
from ..scenario import Scenario


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its key path and range."""

    key: str
    low: float
    high: float
    steps: int = 0  # 0 with Latin hypercube sampling

    @classmethod
    def parse(cls, text: str) -> Axis:
        """``KEY=LOW:HIGH:STEPS`` (or ``KEY=LOW:HIGH`` for Latin hypercube sampling)."""
        key, sep, spec = text.partition("=")
        parts = spec.split(":")
        if not sep or not key or len(parts) not in (2, 3):
            raise UsageError(f"cannot read --vary {text!r}",
                             hint="write KEY=LOW:HIGH:STEPS, e.g. "
                                  "actors.mongolia.ties.russia.fuel_import_share=0.2:1:9")
        try:
            low, high = float(parts[0]), float(parts[1])
            steps = int(parts[2]) if len(parts) == 3 else 0
        except ValueError:
            raise UsageError(f"--vary {text!r}: LOW and HIGH must be numbers, STEPS a whole "
                             "number") from None
        if not np.isfinite([low, high]).all() or low >= high:
            raise UsageError(f"--vary {text!r}: need finite LOW < HIGH")
        if len(parts) == 3 and not 2 <= steps <= 1000:
            raise UsageError(f"--vary {text!r}: STEPS must be between 2 and 1000")
        return cls(key.strip(), low, high, steps)


@dataclass
class SweepResult:
    """Outcome counts at every point of a sweep."""

    scenario_id: str
    title: str
    axes: list[Axis]
    points: np.ndarray  # (n_points, n_axes)
    counts: np.ndarray  # (n_points, n_outcomes)
    seed: int

    @property
    def runs(self) -> int:
        return int(self.counts[0].sum())

    def frame(self) -> pd.DataFrame:
        """Tidy: one row per point and outcome, with probability and 95% interval."""
        rows = []
        for i, point in enumerate(self.points):
            n = int(self.counts[i].sum())
            for j, o in enumerate(OUTCOMES):
                lo, hi = wilson_interval(self.counts[i, j], n)
                rows.append({"point": i, **{a.key: v for a, v in zip(self.axes, point,
                                                                      strict=True)},
                             "outcome": o, "probability": self.counts[i, j] / n,
                             "ci95_low": lo, "ci95_high": hi, "runs": n})
        return pd.DataFrame(rows)

    def plot(self, ax=None, outcome: str | None = None):
        """Lines against the parameter (one key) or a heat map of ``outcome`` (two keys)."""
        from ..plots import sweep_heatmap, sweep_lines

        if len(self.axes) == 1:
            return sweep_lines(self, ax=ax)
        if len(self.axes) == 2:
            return sweep_heatmap(self, outcome=outcome or "hosted_no_arrest", ax=ax)
        raise UsageError(f"a chart shows one or two swept keys, not {len(self.axes)}",
                         hint="read the table (frame()) or plot a slice of it")


def _point(scenario: Scenario, keys: list[str], values, runs: int, seed: int) -> np.ndarray:
    changed = scenario.with_values(dict(zip(keys, map(float, values), strict=True)))
    # serial: the points themselves run in parallel on the sweep's executor
    return run(changed, runs=runs, seed=seed, progress=False, executor="serial").counts


def design(axes: list[Axis], samples: int | None, seed: int, runs: int = 1) -> np.ndarray:
    """Points of the sweep: a full grid, or a Latin hypercube of ``samples`` points.

    Its size is checked against the caps (:func:`sim.engine.check_design`, with
    ``runs`` worlds per point) before anything is allocated.
    """
    if samples is None:
        if any(a.steps < 2 for a in axes):
            raise UsageError("a grid sweep needs STEPS for every --vary (KEY=LOW:HIGH:STEPS)",
                             hint="or give --samples N for a Latin hypercube")
        shape = " x ".join(str(a.steps) for a in axes)
        check_design(math.prod(a.steps for a in axes), runs, len(axes),
                     f"the sweep grid ({shape} steps)",
                     "use fewer STEPS or --vary keys, a Latin hypercube (--samples N), "
                     "or fewer --runs per point")
        grids = [np.linspace(a.low, a.high, a.steps) for a in axes]
        return np.array(list(itertools.product(*grids)))
    check_design(samples, runs, len(axes), f"the sweep's Latin hypercube ({samples:,} samples)",
                 "use fewer --samples or fewer --runs per point")
    unit = qmc.LatinHypercube(d=len(axes), seed=np.random.default_rng(seed)).random(samples)
    return qmc.scale(unit, [a.low for a in axes], [a.high for a in axes])


def sweep(scenario: Scenario, axes: list[Axis], runs: int = 20_000, seed: int | None = None,
          *, samples: int | None = None, executor: str = "serial", workers: int | None = None,
          scheduler: str | None = None, progress: bool | None = None) -> SweepResult:
    """Outcome probabilities across a grid or Latin hypercube of parameter values.

    Parameters
    ----------
    scenario : Scenario
    axes : list of Axis
        The parameters to vary, by key path (see ``scenario.parameters``), and ranges.
    runs : int
        Replications per point.
    samples : int, optional
        Latin hypercube points instead of a grid.
    executor, workers, scheduler
        Points run in parallel on these (each point itself runs serially).
    """
    check_run_arguments(runs, seed, 1)
    if not axes:
        raise UsageError("a sweep needs at least one --vary KEY=LOW:HIGH:STEPS")
    if samples is not None and (not isinstance(samples, int) or not 2 <= samples <= 100_000):
        raise UsageError(f"--samples must be a whole number from 2 to 100,000, got {samples!r}")
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise UsageError("each key may be varied only once")
    seed = new_seed() if seed is None else int(seed)
    points = design(axes, samples, seed, runs)
    # check every point up front: a bad key, bound or non-whole day count fails before any
    # work is done, not halfway through the sweep
    for point in points:
        try:
            scenario.with_values(dict(zip(keys, map(float, point), strict=True)))
        except ScenarioError as exc:
            raise UsageError("; ".join(f"{p.path}: {p.expected}" for p in exc.problems),
                             hint="list the scenario's key paths with "
                                  "'python -m sim validate' and docs/MODEL.md") from None
    calls = [(scenario, keys, p, runs, seed) for p in points]
    with make_executor(executor, workers, scheduler) as pool:
        counts = np.array(list(in_order(pool, _point, calls, progress=progress,
                                        total=len(points), unit="point",
                                        desc=f"sweep {scenario.id}")))
    return SweepResult(scenario.id, scenario.title, axes, points, counts, seed)
