"""Results of a Monte Carlo run: what a chunk contributes, and the run's probabilities,
intervals, tables and summary.

This module is below the engine and the output folders (see the import-linter contract
in pyproject.toml): it writes no files and runs no model; it reads a run's
per-replication table and regenerates its draws (:meth:`RunResult.replications`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import UsageError
from .outcomes import OUTCOMES

if TYPE_CHECKING:
    import pyarrow as pa

    from .scenario import Scenario

#: Quantiles drawn in the stance fan chart.
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Replications whose stance trajectory is kept for fan charts.
STANCE_SAMPLE = 20_000
#: The folder of a run's per-replication Parquet parts, and how the draws are stored there.
REPLICATIONS = "replications"
DRAW_DTYPE = np.float32
#: The columns every part holds, before the drawn parameters.
OUTCOME_COLUMNS = ("replication", "outcome", "icc_noncompliance_finding")


@dataclass
class ChunkResult:
    """What one chunk of a run contributes: counts, the stance sample rows it holds, its
    table.

    Attributes
    ----------
    first_block : int
        Index of the chunk's first block of :data:`sim.streams.BLOCK` worlds.
    counts : numpy.ndarray
        Worlds ending in each outcome (order of :data:`sim.outcomes.OUTCOMES`).
    noncompliance : int
        Worlds in which the Court found the host in non-compliance.
    stance : numpy.ndarray
        ``(days + 1, k)``: the host's intent in its worlds with index < :data:`STANCE_SAMPLE`.
    table : pyarrow.Table or None
        Its per-replication table, when asked for (None when read back from disk).
    drivers : numpy.ndarray
        ``(blocks, len(DRIVER_KEYS))``: per-block sums of the drivers.
    outcomes : numpy.ndarray, optional
        Each world's outcome code, when asked for.
    draw_counts : numpy.ndarray, optional
        ``(draws, outcomes)``: outcome counts of the worlds of each posterior draw of the
        weights, when the weights file has them (:mod:`sim.credible`).

    Summed over chunks in block order (:func:`sim.engine.run`), so a new field is added
    here, filled in :func:`sim.engine.simulate_chunk`, and (to survive a resume) recorded
    by :meth:`sim.output.RunFolder.write_chunk`.
    """

    first_block: int
    counts: np.ndarray
    noncompliance: int
    stance: np.ndarray
    table: pa.Table | None
    drivers: np.ndarray
    outcomes: np.ndarray | None = None
    draw_counts: np.ndarray | None = None


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    The formula of ``scipy.stats.binomtest(k, n).proportion_ci(level, "wilson")``
    (Newcombe 1998), to the last bit, without importing ``scipy.stats`` (about 0.4 s).
    """
    from scipy.special import ndtri

    k, n = int(successes), int(trials)
    if n == 0:
        return 0.0, 1.0
    p = k / n
    z = ndtri(0.5 + 0.5 * level)
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * np.sqrt(4 * n * p * (1 - p) + z**2)
    return (0.0 if k == 0 else float(center - delta)), (1.0 if k == n else float(center + delta))


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
    draw_counts : numpy.ndarray, optional
        Outcome counts of the worlds of each posterior draw of the weights ``(draws, 4)``,
        when the weights file carries draws: the source of :attr:`credible`.
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
    scenario: Scenario | None = field(default=None, repr=False)
    draw_counts: np.ndarray | None = field(default=None, repr=False)

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
    def credible(self) -> dict[str, dict[str, tuple[float, float]]] | None:
        """Epistemic intervals: ``{"credible80": {outcome: (low, high)}, "credible95":
        ...}``, the ranges of each outcome's probability across the posterior draws of the
        weights; see :mod:`sim.credible`.  None when the weights file carries no draws, or
        when some draw has fewer than :data:`sim.credible.MIN_WORLDS_PER_DRAW` worlds (too
        few to tell its spread from Monte Carlo noise)."""
        from .credible import MIN_WORLDS_PER_DRAW

        if self.draw_counts is None or self.draw_counts.sum(axis=1).min() < MIN_WORLDS_PER_DRAW:
            return None
        from .credible import credible_intervals

        ranges = credible_intervals(self.draw_counts)
        return {level: {o: (float(lo), float(hi))
                        for o, (lo, hi) in zip(OUTCOMES, bounds, strict=True)}
                for level, bounds in ranges.items()}

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
            **{f"{level}_{end}": [ranges[o][k] for o in OUTCOMES]
               for level, ranges in (self.credible or {}).items()
               for k, end in enumerate(("low", "high"))},
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
        credible = self.credible or {}
        lo, hi = wilson_interval(self.noncompliance, self.runs)
        doc = {
            "scenario": self.scenario_id,
            "title": self.title,
            "runs": self.runs,
            "seed": self.seed,
            "outcomes": {o: {"probability": p, "ci95": list(ci[o]), "mcse": se[o],
                             "count": int(c),
                             **{level: list(ranges[o]) for level, ranges in credible.items()}}
                         for (o, p), c in zip(self.probabilities.items(), self.counts,
                                              strict=True)},
            "secondary": {"icc_noncompliance_finding": {
                "probability": self.noncompliance_probability, "ci95": [lo, hi]}},
            "drivers": self.drivers_summary(),
        }
        if self.draw_counts is not None:
            doc["epistemic"] = {
                "posterior_draws": len(self.draw_counts),
                "worlds_per_draw": self.runs / len(self.draw_counts),
                "credible_reported": bool(credible),
                "about": "ci95 is the Monte Carlo interval of the probability (it shrinks "
                         "with more runs); credible80 and credible95 are the central 80% "
                         "and 95% ranges of the probability across the posterior draws of "
                         "the calibrated weights (what the historical cases leave unknown), "
                         "with each draw's Monte Carlo noise removed. They are reported when "
                         "every draw has at least 20 worlds (runs >= 20 x draws).",
            }
        return doc

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
        credible = self.credible
        lines = [f"{self.title} ({self.scenario_id}): {self.runs:,} runs, seed {self.seed}",
                 f"{'outcome':<20}{'probability':>12}{'95% interval':>22}{'MC s.e.':>10}"
                 + (f"{'80% credible':>18}{'95% credible':>18}" if credible else "")]
        for o, p in self.probabilities.items():
            lo, hi = ci[o]
            line = f"{o:<20}{p:>12.4f}{f'[{lo:.4f}, {hi:.4f}]':>22}{se[o]:>10.4f}"
            if credible:
                for level in ("credible80", "credible95"):
                    a, b = credible[level][o]
                    line += f"{f'[{a:.3f}, {b:.3f}]':>18}"
            lines.append(line)
        if credible:
            lines.append("(95% interval: Monte Carlo error, shrinks with more runs; credible: "
                         "range across the weights' posterior draws)")
        elif self.draw_counts is not None:
            lines.append(f"(credible ranges need at least 20 worlds per posterior draw: "
                         f"run {20 * len(self.draw_counts):,} or more)")
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

    def replications(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per replication: ``replication``, ``outcome``,
        ``icc_noncompliance_finding``, and the value of each uncertain parameter drawn in
        it (float32; all of them, in ``scenario.uncertain()`` order, or only ``columns``).

        The outcomes are read from the run's folder; draws that it does not hold (a run
        without ``keep_draws``) are regenerated from the seed, block by block, bit for
        bit equal to what the run drew.  For a large run, :meth:`iter_replications`
        gives the same rows a block at a time.
        """
        frames = list(self.iter_replications(columns))
        return pd.concat(frames, ignore_index=True)

    def iter_replications(self, columns: Sequence[str] | None = None,
                          ) -> Iterator[pd.DataFrame]:
        """The rows of :meth:`replications`, one block of 10,000 worlds at a time."""
        import pyarrow.parquet as pq

        from .sampling import draw_parameters
        from .streams import BLOCK, Streams

        if self.folder is None or self.scenario is None:
            raise UsageError("this result has no per-replication table: it was not run "
                             "into a results folder", hint="run it with out=FOLDER")
        paths = self.scenario.uncertain()
        wanted = list(paths if columns is None else columns)
        unknown = sorted(set(wanted) - set(paths))
        if unknown:
            raise UsageError(f"not uncertain parameters of {self.scenario_id}: "
                             f"{', '.join(unknown)}", hint="see scenario.uncertain()")
        parts = sorted((self.folder / REPLICATIONS).glob("part-*.parquet"))
        if not parts:
            raise UsageError(f"{self.folder / REPLICATIONS} holds no per-replication table")
        for part in parts:
            stored = set(pq.read_schema(part).names)
            table = pq.read_table(part, columns=[*OUTCOME_COLUMNS,
                                                 *(p for p in wanted if p in stored)])
            first = int(table.column("replication")[0].as_py()) if table.num_rows else 0
            for start in range(0, table.num_rows, BLOCK):
                block = table.slice(start, BLOCK)
                if (first + start) >= self.runs:
                    return
                frame = block.to_pandas()
                missing = [p for p in wanted if p not in block.column_names]
                if missing:  # the run's own draws: same seed, same block, same stream
                    streams = Streams.for_range(self.seed, (first + start) // BLOCK,
                                                [block.num_rows])
                    values = draw_parameters(self.scenario, streams)
                    for p in missing:
                        frame[p] = np.asarray(values[p], dtype=DRAW_DTYPE)
                yield frame[[*OUTCOME_COLUMNS, *wanted]]

    def __repr__(self) -> str:
        return self.table()
