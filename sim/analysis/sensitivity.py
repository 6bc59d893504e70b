"""Global sensitivity analysis with SALib: which uncertain parameters drive each outcome.

The SALib problem lives in quantile space: every analysed parameter (by default
those the scenario gives as distributions, not the calibrated weights) gets bounds
[0, 1] and is mapped to its own distribution through its quantile function, so
Sobol indices apportion variance under the scenario's own uncertainty.  The
inputs are treated as independent (declared correlations are not used) and
parameters left out of the analysis are held at their means.

Each design point is evaluated as the outcome frequencies of ``runs_per_point``
worlds, all points sharing the same agent noise (common random numbers): a
parameter the model ignores then gives exactly the same output at every point
that differs only in it, and its indices vanish.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..engine import check_design, check_run_arguments, new_seed, release, worlds_in_budget
from ..errors import UsageError
from ..model import WarrantVisitModel
from ..outcomes import OUTCOMES
from ..sampling import values_from_uniforms
from ..scenario import Scenario
from ..streams import Streams, block_sizes

METHODS = ("sobol", "morris")
#: Worlds simulated together, at most.
BATCH_WORLDS = 250_000


class _CommonNoise:
    """Streams whose draws repeat for every design point: world ``i * m + j`` of point ``i``
    gets the noise of world ``j``."""

    def __init__(self, base: Streams, points: int):
        self.base = base
        self.points = points
        self.n = base.n * points

    def _tile(self, draw: np.ndarray) -> np.ndarray:
        return np.tile(draw, (1,) * (draw.ndim - 1) + (self.points,))

    def random(self, *shape: int) -> np.ndarray:
        return self._tile(self.base.random(*shape))

    def normal(self, *shape: int) -> np.ndarray:
        return self._tile(self.base.normal(*shape))


def evaluate(scenario: Scenario, names: list[str], u: np.ndarray, runs_per_point: int,
             seed: int) -> np.ndarray:
    """Outcome frequencies at each design point ``u`` (rows in [0, 1]^k): shape (points, 4)."""
    u = np.clip(u, 1e-9, 1 - 1e-9)  # Morris levels include 0 and 1; quantiles must be finite
    per_batch = max(1, min(BATCH_WORLDS, worlds_in_budget(scenario)) // runs_per_point)
    out = np.empty((len(u), len(OUTCOMES)))
    for start in range(0, len(u), per_batch):
        rows = u[start:start + per_batch]
        values = values_from_uniforms(scenario, names, rows)
        for name in names:
            values[name] = np.repeat(values[name], runs_per_point)
        streams = _CommonNoise(Streams.for_range(seed, 0, block_sizes(runs_per_point)),
                               len(rows))
        model = WarrantVisitModel(scenario, streams, values=values,
                                  collect=False).run_to_end()
        outcome = model.outcome.reshape(len(rows), runs_per_point)
        for j in range(len(OUTCOMES)):
            out[start:start + len(rows), j] = (outcome == j).mean(axis=1)
        release(model)
    return out


@dataclass
class SensitivityResult:
    """Sensitivity indices of every outcome's probability to every uncertain parameter."""

    scenario_id: str
    title: str
    method: str
    indices: pd.DataFrame  # one row per outcome and parameter
    points: int
    runs_per_point: int
    seed: int

    def frame(self) -> pd.DataFrame:
        return self.indices.copy()

    def plot(self, ax=None, outcome: str = "hosted_no_arrest", top: int = 15):
        """Tornado chart of ``outcome``'s indices; returns the axes."""
        from ..plots import tornado

        return tornado(self, outcome=outcome, ax=ax, top=top)


def sensitivity(scenario: Scenario, method: str = "sobol", samples: int = 128,
                runs_per_point: int = 500, seed: int | None = None,
                parameters: list[str] | None = None,
                include_weights: bool = False) -> SensitivityResult:
    """Sobol (first-order and total) or Morris indices for each outcome.

    Parameters
    ----------
    scenario : Scenario
    method : {"sobol", "morris"}
    samples : int
        SALib's base sample size N: Sobol evaluates N (k + 2) points, Morris N (k + 1)
        (k parameters).  A power of two for Sobol.
    runs_per_point : int
        Worlds per design point.
    parameters : list of str, optional
        Key paths to analyse; by default every parameter the scenario marks uncertain
        (its facts, not the global behavioural weights, whose uncertainty comes from
        calibration; pass ``include_weights=True`` to add those too).
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    check_run_arguments(runs_per_point, seed, 1)
    if not isinstance(samples, int) or samples < 2:
        raise UsageError(f"samples must be a whole number >= 2, got {samples!r}")
    if parameters is not None:
        names = list(parameters)
    else:
        names = [p for p in scenario.uncertain()
                 if include_weights or not p.startswith("weights.")]
    unknown = [n for n in names if n not in scenario.parameters]
    if unknown:
        raise UsageError(f"not parameters of {scenario.id}: {', '.join(unknown)}")
    if len(names) < 2:
        raise UsageError(f"{scenario.id} has {len(names)} uncertain parameter(s); sensitivity "
                         "analysis needs at least two given as distributions")
    # the design's size, checked before SALib allocates it
    each = len(names) + (2 if method == "sobol" else 1)  # Sobol N (k + 2), Morris N (k + 1)
    check_design(samples * each, runs_per_point, len(names),
                 f"the {method} design ({samples:,} samples x {each} points each)",
                 "use fewer --samples, --runs-per-point or parameters")
    fits = worlds_in_budget(scenario)
    if runs_per_point > fits:
        raise UsageError(f"runs_per_point must be at most {fits:,} for {scenario.id} (the "
                         f"worlds of a design point are simulated together), got "
                         f"{runs_per_point:,}", hint="use fewer --runs-per-point")
    seed = new_seed() if seed is None else int(seed)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    if method == "sobol":
        u = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    else:
        u = morris_sample.sample(problem, samples, num_levels=4, seed=seed)
    y = evaluate(scenario, names, u, runs_per_point, seed)

    rows: list[dict[str, Any]] = []
    for j, outcome in enumerate(OUTCOMES):
        if np.var(y[:, j]) == 0:  # the outcome never varies: nothing to apportion
            empty = dict.fromkeys(("S1", "S1_conf", "ST", "ST_conf") if method == "sobol"
                                  else ("mu_star", "mu_star_conf", "sigma"), np.nan)
            rows.extend({"outcome": outcome, "parameter": name, **empty} for name in names)
            continue
        if method == "sobol":
            res = sobol_analyze.analyze(problem, y[:, j], calc_second_order=False, seed=seed)
            for i, name in enumerate(names):
                rows.append({"outcome": outcome, "parameter": name, "S1": res["S1"][i],
                             "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                             "ST_conf": res["ST_conf"][i]})
        else:
            res = morris_analyze.analyze(problem, u, y[:, j], num_levels=4, seed=seed)
            for i, name in enumerate(names):
                rows.append({"outcome": outcome, "parameter": name,
                             "mu_star": res["mu_star"][i],
                             "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i]})
    return SensitivityResult(scenario.id, scenario.title, method, pd.DataFrame(rows), len(u),
                             runs_per_point, seed)
