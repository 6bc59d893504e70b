"""Results of a Monte Carlo run: probabilities, intervals, tables and summary files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .outcomes import OUTCOMES

#: Quantiles drawn in the stance fan chart.
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (via scipy)."""
    from scipy import stats  # here: importing scipy.stats takes a while

    if trials == 0:
        return 0.0, 1.0
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(level, method="wilson")
    return float(ci.low), float(ci.high)


@dataclass
class RunResult:
    """Outcome counts of a run and what is derived from them.

    Attributes
    ----------
    counts : numpy.ndarray
        Replications ending in each outcome, in the order of :data:`sim.outcomes.OUTCOMES`.
    noncompliance : int
        Replications in which the Court found the host in non-compliance.
    stance_sample : numpy.ndarray
        The host's intent (probability that it executes the warrant), shape
        ``(days + 1, k)``, for the first ``k`` replications (the same ones whatever the
        chunking), for fan charts.
    drivers : dict
        Each driver's mean over all worlds at the forecast date (``host.<drive>``: change
        in the host's intent due to that drive; ``visitor.<drive>``: change in the share
        of worlds in which the visitor stays away), as from ``sim.model.measure_drivers``.
    """

    scenario_id: str
    title: str
    seed: int
    counts: np.ndarray
    noncompliance: int
    stance_sample: np.ndarray
    days_before_visit: int
    drivers: dict[str, float] = field(default_factory=dict)
    folder: Path | None = None
    provenance: dict = field(default_factory=dict, repr=False)

    @property
    def runs(self) -> int:
        return int(self.counts.sum())

    @property
    def probabilities(self) -> dict[str, float]:
        return {o: float(c) / self.runs for o, c in zip(OUTCOMES, self.counts, strict=True)}

    @property
    def intervals(self) -> dict[str, tuple[float, float]]:
        """95% Wilson intervals of each outcome's probability."""
        return {o: wilson_interval(c, self.runs) for o, c in zip(OUTCOMES, self.counts,
                                                                  strict=True)}

    @property
    def standard_errors(self) -> dict[str, float]:
        """Monte Carlo standard error of each probability, sqrt(p (1 - p) / n)."""
        return {o: float(np.sqrt(p * (1 - p) / self.runs)) for o, p in self.probabilities.items()}

    @property
    def half_width(self) -> float:
        """The widest half-width of the outcomes' 95% intervals (what ``precision`` bounds)."""
        return max((hi - lo) / 2 for lo, hi in self.intervals.values())

    @property
    def noncompliance_probability(self) -> float:
        return self.noncompliance / self.runs

    def frame(self) -> pd.DataFrame:
        """A tidy table: one row per outcome with probability, interval and standard error."""
        ci = self.intervals
        se = self.standard_errors
        return pd.DataFrame({
            "scenario": self.scenario_id,
            "outcome": list(OUTCOMES),
            "probability": list(self.probabilities.values()),
            "ci95_low": [ci[o][0] for o in OUTCOMES],
            "ci95_high": [ci[o][1] for o in OUTCOMES],
            "mcse": [se[o] for o in OUTCOMES],
            "count": self.counts.astype(int),
            "runs": self.runs,
        })

    def stance_quantiles(self) -> pd.DataFrame:
        """Quantiles of the host's stance per day, relative to the visitor's arrival."""
        q = np.quantile(self.stance_sample, FAN_QUANTILES, axis=1)
        days = np.arange(self.stance_sample.shape[0]) - self.days_before_visit
        return pd.DataFrame(q.T, index=pd.Index(days, name="day"),
                            columns=[f"q{int(x * 100):02d}" for x in FAN_QUANTILES])

    def summary(self) -> dict:
        ci = self.intervals
        se = self.standard_errors
        lo, hi = wilson_interval(self.noncompliance, self.runs)
        return {
            "scenario": self.scenario_id,
            "title": self.title,
            "runs": self.runs,
            "seed": self.seed,
            "outcomes": {o: {"probability": p, "ci95": list(ci[o]), "mcse": se[o],
                             "count": int(c)}
                         for (o, p), c in zip(self.probabilities.items(), self.counts,
                                              strict=True)},
            "secondary": {"icc_noncompliance_finding": {
                "probability": self.noncompliance_probability, "ci95": [lo, hi]}},
            "drivers": self.drivers_summary(),
        }

    def drivers_summary(self) -> dict:
        """The ``drivers`` block of ``summary.json``: what each pressure did, on average."""
        host = {k.removeprefix("host."): v for k, v in self.drivers.items()
                if k.startswith("host.")}
        visitor = {k.removeprefix("visitor."): v for k, v in self.drivers.items()
                   if k.startswith("visitor.")}
        return {
            "host_intent": host,
            "visitor_stays_away": visitor,
            "about": "At the forecast date, averaged over worlds. host_intent: how much each "
                     "drive raises (+) or lowers (-) the host's probability of executing the "
                     "warrant, against the same world without that drive. visitor_stays_away: "
                     "how much it raises or lowers the share of worlds in which the visitor "
                     "would call the trip off. Drives interact, so they need not add up.",
        }

    def drivers_frame(self) -> pd.DataFrame:
        """Drivers as a tidy table: actor (host or visitor), drive, effect."""
        rows = [(k.split(".")[0], k.split(".", 1)[1], v) for k, v in self.drivers.items()]
        return pd.DataFrame(rows, columns=["actor", "drive", "effect"])

    def table(self) -> str:
        """The outcome table as text, for terminals and notebooks."""
        ci = self.intervals
        se = self.standard_errors
        lines = [f"{self.title} ({self.scenario_id}): {self.runs:,} runs, seed {self.seed}",
                 f"{'outcome':<20}{'probability':>12}{'95% interval':>22}{'MC s.e.':>10}"]
        for o, p in self.probabilities.items():
            lo, hi = ci[o]
            lines.append(f"{o:<20}{p:>12.4f}{f'[{lo:.4f}, {hi:.4f}]':>22}{se[o]:>10.4f}")
        nc = self.noncompliance_probability
        lines.append(f"secondary: ICC non-compliance finding {nc:.4f}")
        top = sorted(((v, k.removeprefix("host.")) for k, v in self.drivers.items()
                      if k.startswith("host.") and abs(v) >= 0.0005),
                     key=lambda x: -abs(x[0]))[:4]
        if top:
            lines.append("drivers of the host's intent: " + ", ".join(
                f"{name} {100 * v:+.1f} pts" for v, name in top))
        return "\n".join(lines)

    def plot(self, ax=None):
        """Outcome bars with 95% interval whiskers; returns the axes."""
        from .plots import outcome_bars

        return outcome_bars(self, ax=ax)

    def plot_drivers(self, ax=None):
        """Bars of what each drive did to the host and to the visitor; returns the axes."""
        from .plots import drivers_chart

        return drivers_chart(self, ax=ax)

    def __repr__(self) -> str:
        return self.table()


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically: a temporary file in the same folder, then a rename."""
    from .output import atomic_write

    text = json.dumps(data, indent=2, default=str) + "\n"
    atomic_write(path, lambda fh: fh.write(text.encode()))
