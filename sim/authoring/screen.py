"""Which uncertain inputs move the forecast most: a quick one-at-a-time screen.

Every uncertain input of the scenario (not the global weights) is set in turn to its
10th and then its 90th percentile, in the same worlds: every other parameter keeps the
values it drew (:func:`sim.sampling.draw_parameters`, once) and every world keeps its
agent noise (the same seed).  The change in each outcome's probability between the two
settings is estimated from paired worlds, as :mod:`sim.analysis.compare` does, and the
inputs are ranked by the total change (half the sum of the absolute changes: the share
of worlds whose outcome the input moves, net).  It is a screen, not a variance
decomposition: interactions and the shape of each law between its percentiles are not
seen (``sim sensitivity`` gives Sobol indices).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.compare import Z95
from ..engine import check_run_arguments, chunk_within_budget, outcomes_with
from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..sampling import draw_parameters
from ..scenario import Scenario
from ..streams import BLOCK, Streams, block_sizes

#: The two percentiles each input is set to.
LOW_Q, HIGH_Q = 0.10, 0.90
#: Most worlds in a screen (each input costs two runs of them).
MAX_SCREEN_RUNS = 1_000_000


@dataclass(frozen=True)
class Effect:
    """What moving one input from its 10th to its 90th percentile does.

    Attributes
    ----------
    path : str
        The input's key path.
    low, high : float
        Its 10th and 90th percentiles.
    change : numpy.ndarray
        Each outcome's probability at ``high`` minus at ``low`` (order of OUTCOMES).
    half_width : numpy.ndarray
        The 95% half-width of each change, from paired worlds.
    """

    path: str
    low: float
    high: float
    change: np.ndarray
    half_width: np.ndarray

    @property
    def shift(self) -> float:
        """Half the sum of the absolute changes: the net share of worlds moved."""
        return float(np.abs(self.change).sum() / 2)


@dataclass(frozen=True)
class Screen:
    """The screen's effects, the largest first, and the forecast of its worlds."""

    runs: int
    seed: int
    base: np.ndarray  # each outcome's probability with every input drawn
    effects: tuple[Effect, ...]

    def top(self, k: int = 5) -> tuple[Effect, ...]:
        return self.effects[:k]


def screen(scenario: Scenario, runs: int = 20_000, seed: int = 1,
           paths: list[str] | None = None) -> Screen:
    """Screen the scenario's uncertain inputs one at a time on common random numbers.

    Parameters
    ----------
    scenario : Scenario
    runs : int
        Worlds per setting (two settings per input, and one run with every input drawn).
    seed : int
        Fixes the worlds, hence the result.
    paths : list of str, optional
        Inputs to screen; by default every uncertain parameter of the scenario outside
        the global behavioural weights.

    Returns
    -------
    Screen
        Effects sorted by :attr:`Effect.shift`, largest first (ties by key path).
    """
    check_run_arguments(runs, seed, BLOCK)
    if runs > MAX_SCREEN_RUNS:
        raise UsageError(f"a screen runs at most {MAX_SCREEN_RUNS:,} worlds per setting, "
                         f"got {runs:,}", hint="a screen ranks inputs; 20,000 worlds do")
    if runs > chunk_within_budget(scenario, runs):
        raise UsageError(f"{runs:,} worlds of this scenario do not fit in memory at once",
                         hint="give fewer --runs")
    if paths is None:
        paths = [p for p in scenario.uncertain() if not p.startswith("weights.")]
    sizes = block_sizes(runs)
    values = draw_parameters(scenario, Streams.for_range(seed, 0, sizes))

    def outcomes(changed: dict) -> np.ndarray:
        return outcomes_with(scenario, seed, 0, sizes, {**values, **changed})[0]

    base = outcomes({})
    effects = []
    for path in paths:
        low, high = (float(x) for x in scenario.parameters[path].dist.ppf(
            np.array([LOW_Q, HIGH_Q])))
        at_low, at_high = outcomes({path: low}), outcomes({path: high})
        change, half = np.zeros(len(OUTCOMES)), np.zeros(len(OUTCOMES))
        for o in range(len(OUTCOMES)):
            d = (at_high == o).astype(np.int8) - (at_low == o)
            change[o] = d.mean()
            half[o] = Z95 * d.std() / np.sqrt(runs)
        effects.append(Effect(path, low, high, change, half))
    effects.sort(key=lambda e: (-e.shift, e.path))
    probabilities = np.bincount(base, minlength=len(OUTCOMES)) / runs
    return Screen(runs, seed, probabilities, tuple(effects))
