"""A first calibration of the precedent weights: the strength of the precedents, profiled
on the resolved itineraries (issue 14, item 4, in part).

The evidence is each resolved visit's outcome *given the earlier visits' recorded outcomes*
(and the Court's recorded findings, ``noncompliance_finding`` in the itinerary file): in every
world the history is what happened, not what the model drew, so the likelihood is the product
over the visits of the model's probability of each observed outcome given that history,
``prod_k P(o_k | o_1 .. o_{k-1})``, with the add-half smoothing of
:func:`sim.analysis.calibration.smoothed`.  This is the sequential form of the existing
calibration's likelihood, on the same worlds as a standalone run of each case.

Two parameters are fitted, the **strengths** of two groups of effects (:data:`GROUPS`):
*defiance* (``court_wear``, ``visitor_emboldened``, ``host_imitation``: what an unpunished
visit does) and *consequence* (``court_recovery``, ``host_deterrence``,
``visitor_deterred``: what a finding or a flight does), each group's prior weights times its
strength, with the proximity weights and the half-life kept.  Strength 0 is "no precedent"
(each case stands alone, as in the existing calibration), 1 the prior.  The log-likelihood is
evaluated on a grid on common random numbers; each interval is the likelihood-ratio one of its
profile (within ``chi2(1).ppf(level) / 2`` of the maximum).  The behavioural weights stay the
shipped calibration's (with its posterior draws): the two are not fitted jointly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..streams import Streams, block_sizes
from .precedent import History, PrecedentWeights, carry_over, load_precedent_weights
from .spec import Itinerary

#: The effect weights the strength scales (the proximity weights and half-life are kept).
EFFECTS = ("court_wear", "court_recovery", "visitor_emboldened", "visitor_deterred",
           "host_imitation", "host_deterrence")


def scaled(prior: PrecedentWeights, strengths: dict[str, float],
           groups: dict[str, tuple[str, ...]]) -> PrecedentWeights:
    """The prior with the effects of each group times that group's strength."""
    factor = {e: strengths[name] for name, effects in groups.items() for e in effects}
    shown = ", ".join(f"{k} x{v:g}" for k, v in strengths.items())
    return PrecedentWeights({k: v * factor.get(k, 1.0) for k, v in prior.values.items()},
                            f"{prior.file} ({shown})")


def observed(itinerary: Itinerary) -> tuple[list[int], list[bool]]:
    """Each visit's resolved outcome code and recorded finding (False when none is recorded).

    Raises
    ------
    UsageError
        If a visit's scenario has no resolution (a forecast, not a resolved case).
    """
    codes, findings = [], []
    for visit in itinerary.visits:
        resolution = visit.scenario.resolution
        if resolution is None:
            raise UsageError(f"visit {visit.id} of itinerary {itinerary.id} is not a resolved "
                             "case: the precedent weights are fitted on what happened",
                             hint="use itineraries of the case library's resolved cases")
        codes.append(OUTCOMES.index(resolution.outcome))
        findings.append(bool(visit.finding))
    return codes, findings


class SequenceSimulator:
    """Each visit of a resolved itinerary, given the recorded history, for candidate weights.

    The parameters of each visit are drawn once (they do not depend on the precedent
    weights); a candidate only shifts them and reruns the models.
    """

    def __init__(self, itinerary: Itinerary, runs: int, seed: int):
        from ..sampling import draw_parameters

        self.itinerary = itinerary
        self.seed, self.sizes = seed, block_sizes(runs)
        self.n = runs
        self.codes, self.findings = observed(itinerary)
        self._draws = [draw_parameters(v.scenario, Streams.for_range(seed, 0, self.sizes))
                       for v in itinerary.visits]

    def counts(self, precedent: PrecedentWeights) -> np.ndarray:
        """Outcome counts ``(visits, 4)``, each visit given the recorded earlier outcomes."""
        from ..engine import outcomes_with

        history = History([np.full(self.n, c, dtype=np.int8) for c in self.codes],
                          [np.full(self.n, f) for f in self.findings])
        out = np.zeros((len(self.codes), len(OUTCOMES)), dtype=np.int64)
        for k, visit in enumerate(self.itinerary.visits):
            values = carry_over(self._draws[k], k, self.itinerary, history, precedent)
            outcome, _ = outcomes_with(visit.scenario, self.seed, 0, self.sizes, values)
            out[k] = np.bincount(outcome, minlength=len(OUTCOMES))
        return out

    def log_likelihood(self, precedent: PrecedentWeights) -> np.ndarray:
        """Each visit's log-probability of its observed outcome given the recorded history."""
        from ..analysis.calibration import smoothed

        p = smoothed(self.counts(precedent))
        return np.log(p[np.arange(len(self.codes)), self.codes])


@dataclass(frozen=True)
class StrengthFit:
    """The profile of the precedents' strengths over a grid.

    ``log_likelihood`` has one axis per group of :attr:`groups`, over :attr:`grid`; each
    group's interval is that of its profile likelihood (the maximum over the other groups).
    """

    groups: dict[str, tuple[str, ...]]
    grid: tuple[float, ...]
    log_likelihood: np.ndarray
    best: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    level: float
    runs: int
    seed: int
    itineraries: tuple[str, ...]
    prior: PrecedentWeights

    def weights(self) -> PrecedentWeights:
        """The prior with each group's effects scaled by its fitted strength."""
        return scaled(self.prior, self.best, self.groups)

    def frame(self):
        """One row per grid point: each group's strength and the total log-likelihood."""
        import itertools

        import pandas as pd

        names = list(self.groups)
        rows = [{**dict(zip(names, point, strict=True)),
                 "log_likelihood": float(self.log_likelihood[index])}
                for index, point in zip(itertools.product(range(len(self.grid)),
                                                          repeat=len(names)),
                                        itertools.product(self.grid, repeat=len(names)),
                                        strict=True)]
        return pd.DataFrame(rows)

    def table(self) -> str:
        """The fitted strengths and, in natural units, the weights they scale."""
        lines = [f"precedent strengths fitted on {', '.join(self.itineraries)} "
                 f"({self.runs:,} worlds per visit, seed {self.seed}); "
                 f"{self.level:.0%} likelihood-ratio intervals on the grid {list(self.grid)}",
                 f"{'group':<14}{'strength':>10}{'interval':>16}   "
                 "weights (prior -> fitted [interval])"]
        for name, effects in self.groups.items():
            lo, hi = self.intervals[name]
            best = self.best[name]
            parts = [f"{e} {self.prior[e]:g} -> {self.prior[e] * best:.3g} "
                     f"[{self.prior[e] * lo:.3g}, {self.prior[e] * hi:.3g}]" for e in effects]
            lines.append(f"{name:<14}{best:>10.2f}{f'[{lo:g}, {hi:g}]':>16}   "
                         + "; ".join(parts))
        lines.append(f"log-likelihood: {self.log_likelihood.max():.3f} at the best point, "
                     f"{self._at(0.0):.3f} with no precedent "
                     f"(every strength 0), {self._at(1.0):.3f} at the prior")
        return "\n".join(lines)

    def _at(self, value: float) -> float:
        if value not in self.grid:
            return float("nan")
        return float(self.log_likelihood[(self.grid.index(value),) * len(self.groups)])

    def summary(self) -> dict:
        return {"groups": {k: list(v) for k, v in self.groups.items()},
                "strength": self.best, "intervals": {k: list(v) for k, v in
                                                     self.intervals.items()},
                "level": self.level, "runs": self.runs, "seed": self.seed,
                "itineraries": list(self.itineraries),
                "fitted_weights": dict(self.weights().values)}


#: The two groups fitted by default: what defiance does and what a consequence does.
GROUPS: dict[str, tuple[str, ...]] = {
    "defiance": ("court_wear", "visitor_emboldened", "host_imitation"),
    "consequence": ("court_recovery", "host_deterrence", "visitor_deterred"),
}
GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def fit_strength(itineraries: Sequence[Itinerary], runs: int = 20_000, seed: int = 1,
                 grid: Sequence[float] = GRID, level: float = 0.95,
                 groups: dict[str, tuple[str, ...]] | None = None,
                 prior: PrecedentWeights | None = None) -> StrengthFit:
    """Profile the log-likelihood of the resolved itineraries over the strengths of groups
    of precedent effects (default :data:`GROUPS`), each on ``grid``, on common random numbers.

    The best point is the grid point of highest likelihood; each group's interval is the grid
    points whose profile log-likelihood is within ``chi2(1).ppf(level) / 2`` of the maximum
    (an end at the grid's edge means the interval reaches at least that far).
    """
    import itertools

    from scipy.stats import chi2

    groups = dict(groups or GROUPS)
    prior = prior or load_precedent_weights()
    grid = tuple(float(g) for g in grid)
    simulators = [SequenceSimulator(it, runs, seed) for it in itineraries]
    shape = (len(grid),) * len(groups)
    total = np.empty(shape)
    for index in itertools.product(range(len(grid)), repeat=len(groups)):
        strengths = {name: grid[i] for name, i in zip(groups, index, strict=True)}
        weights = scaled(prior, strengths, groups)
        total[index] = sum(float(s.log_likelihood(weights).sum()) for s in simulators)
    best_index = np.unravel_index(int(np.argmax(total)), shape)
    cut = total.max() - chi2.ppf(level, 1) / 2
    intervals = {}
    for axis, name in enumerate(groups):
        profile = total.max(axis=tuple(a for a in range(len(groups)) if a != axis))
        inside = np.flatnonzero(profile >= cut)
        intervals[name] = (grid[inside[0]], grid[inside[-1]])
    best = {name: grid[i] for name, i in zip(groups, best_index, strict=True)}
    return StrengthFit(groups, grid, total, best, intervals, level, runs, seed,
                       tuple(it.id for it in itineraries), prior)
