"""Compare scenarios on common random numbers: the same worlds under each scenario.

Every scenario is run with the same seed, so each world draws the same values
for every parameter the scenarios share and the same agent noise.  The
difference in an outcome's probability is then estimated from paired worlds,
whose interval is far narrower than the difference of two independent runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..engine import (
    DEFAULT_CHUNK,
    check_run_arguments,
    chunk_within_budget,
    driver_means,
    new_seed,
    plan_chunks,
    simulate_chunk,
)
from ..errors import UsageError
from ..executors import in_order, make_executor
from ..outcomes import OUTCOMES
from ..results import RunResult
from ..scenario import Scenario

Z95 = 1.959963984540054


def _paired_chunk(scenarios: list[Scenario], seed: int, first_block: int, sizes: list[int]):
    """Outcome counts of each scenario and paired difference sums against the first."""
    chunks = [simulate_chunk(s, seed, first_block, sizes, with_table=False, with_outcomes=True)
              for s in scenarios]
    base = chunks[0].outcomes
    k = len(OUTCOMES)
    sums = np.zeros((len(scenarios), k))
    squares = np.zeros((len(scenarios), k))
    for i, chunk in enumerate(chunks):
        assert chunk.outcomes is not None  # asked for with with_outcomes=True
        for o in range(k):
            d = (chunk.outcomes == o).astype(np.int8) - (base == o)
            sums[i, o] = d.sum()
            squares[i, o] = (d * d).sum()
        chunk.outcomes = None
    return chunks, sums, squares


@dataclass
class Comparison:
    """Results of several scenarios on the same worlds, and their differences from the first.

    Attributes
    ----------
    results : list of RunResult
        The base first, then the others, in the order given.  Each one's ``scenario_id``
        is its label: the scenario's id, told apart when two share one (see :func:`labels`).
    differences : numpy.ndarray
        Shape ``(scenarios, outcomes, 3)``: difference from the base in each outcome's
        probability, and its 95% interval (paired normal approximation).
    """

    results: list[RunResult]
    differences: np.ndarray

    @property
    def base(self) -> RunResult:
        return self.results[0]

    def frame(self) -> pd.DataFrame:
        """One row per scenario and outcome: probability, interval, difference from the base."""
        rows = []
        for i, r in enumerate(self.results):
            ci = r.intervals
            for j, o in enumerate(OUTCOMES):
                d, lo, hi = self.differences[i, j]
                rows.append({"scenario": r.scenario_id, "outcome": o,
                             "probability": r.probabilities[o], "ci95_low": ci[o][0],
                             "ci95_high": ci[o][1], "difference": d, "difference_ci95_low": lo,
                             "difference_ci95_high": hi, "runs": r.runs})
        return pd.DataFrame(rows)

    def table(self) -> str:
        """Probabilities per scenario; below each, its change from the base +/- 95% half-width."""
        width = max(36, 2 + max(len(r.scenario_id) for r in self.results))  # never cut
        lines = [f"common random numbers: {self.base.runs:,} runs each, seed {self.base.seed}; "
                 f"changes against {self.base.scenario_id}",
                 f"{'scenario':<{width}}" + "".join(f"{o:>22}" for o in OUTCOMES)]
        for i, r in enumerate(self.results):
            lines.append(f"{r.scenario_id:<{width}}"
                         + "".join(f"{r.probabilities[o]:>22.4f}" for o in OUTCOMES))
            if i:
                lines.append(f"{'  change':<{width}}" + "".join(
                    f"{f'{d:+.4f} +/- {(hi - lo) / 2:.4f}':>22}"
                    for d, lo, hi in self.differences[i]))
        return "\n".join(lines)

    def plot(self, ax=None):
        from ..plots import comparison_chart

        return comparison_chart(self, ax=ax)


def compare(base: Scenario, others: list[Scenario], runs: int = 100_000,
            seed: int | None = None, *, chunk_size: int = DEFAULT_CHUNK,
            executor: str = "serial", workers: int | None = None,
            scheduler: str | None = None, progress: bool | None = None) -> Comparison:
    """Run ``base`` and ``others`` on the same worlds and estimate their differences.

    Parameters
    ----------
    base, others : Scenario
        The reference scenario and the scenarios to compare with it.
    runs, seed, chunk_size, executor, workers, scheduler, progress
        As for :func:`sim.run`; the seed is shared, which makes the numbers common.
    """
    if not others:
        raise UsageError("compare needs at least one scenario besides the base")
    check_run_arguments(runs, seed, chunk_size)
    seed = new_seed() if seed is None else int(seed)
    scenarios = [base, *others]
    # a chunk holds every scenario's worlds in turn: the largest scenario sets the budget
    chunk_size = chunk_within_budget(scenarios, chunk_size)
    k = len(OUTCOMES)
    counts = np.zeros((len(scenarios), k), dtype=np.int64)
    noncompliance = np.zeros(len(scenarios), dtype=np.int64)
    sums = np.zeros((len(scenarios), k))
    squares = np.zeros((len(scenarios), k))
    stance: list[list[np.ndarray]] = [[] for _ in scenarios]
    drivers: list[list[np.ndarray]] = [[] for _ in scenarios]
    calls = [(scenarios, seed, first, sizes) for first, sizes in plan_chunks(runs, chunk_size)]
    with make_executor(executor, workers, scheduler) as pool:
        # in block order, so the stance samples line up
        for chunks, s, q in in_order(pool, _paired_chunk, calls, progress=progress,
                                     amount=lambda r: int(r[0][0].counts.sum()), total=runs,
                                     unit="runs", unit_scale=True, desc=f"compare {base.id}"):
            sums += s
            squares += q
            for i, chunk in enumerate(chunks):
                counts[i] += chunk.counts
                noncompliance[i] += chunk.noncompliance
                drivers[i].append(chunk.drivers)
                if chunk.stance.shape[1]:
                    stance[i].append(chunk.stance)
    mean = sums / runs
    se = np.sqrt(np.maximum(squares / runs - mean**2, 0.0) / runs)
    differences = np.stack([mean, mean - Z95 * se, mean + Z95 * se], axis=-1)
    results = [RunResult(label, s.title, seed, counts[i], int(noncompliance[i]),
                         np.concatenate(stance[i], axis=1), s.days_before_visit,
                         driver_means(drivers[i], runs))
               for i, (s, label) in enumerate(zip(scenarios, labels(scenarios), strict=True))]
    return Comparison(results, differences)


def labels(scenarios: list[Scenario]) -> list[str]:
    """A distinct label per scenario: its id; a later scenario with the id of an earlier
    one gets its file name too (``id (file.yaml)``) or, from the same file, its place
    among them (``id #2``)."""
    out: list[str] = []
    for i, s in enumerate(scenarios):
        earlier = [t for t in scenarios[:i] if t.id == s.id]
        name = Path(s.file).name if s.file else ""
        if not earlier:
            label = s.id
        elif name and all(Path(t.file or "").name != name for t in earlier):
            label = f"{s.id} ({name})"
        else:
            label = f"{s.id} #{len(earlier) + 1}"
        k = len(earlier) + 1
        while label in out:  # e.g. "x (a.yaml)" given twice after "x" from a.yaml
            k += 1
            label = f"{s.id} #{k}"
        out.append(label)
    return out
