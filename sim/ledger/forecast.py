"""Make a ledger entry: run a scenario and gather what identifies the forecast."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..outcomes import OUTCOMES
from .entries import NewForecast, OutcomeForecast, ScenarioFile

if TYPE_CHECKING:
    from ..results import RunResult

#: Replications of a forecast's Monte Carlo run when none is given.
DEFAULT_RUNS = 100_000


def scenario_files(path: str | Path) -> tuple[ScenarioFile, ...]:
    """The scenario file and each file it inherits from (``base:``), with their sha256."""
    from ..output import file_sha256
    from ..scenario.inheritance import chain_files

    return tuple(ScenarioFile(os.path.normpath(name), file_sha256(name))
                 for name in chain_files(path))


def outcome_forecasts(summary: Mapping) -> dict[str, OutcomeForecast]:
    """Each outcome's forecast from a run's summary (:meth:`sim.results.RunResult.summary`,
    what ``summary.json`` holds): probability, count, 95% interval, and the epistemic
    ``credible80`` / ``credible95`` intervals when the run reports them."""
    out = {}
    for o in OUTCOMES:
        s = summary["outcomes"][o]
        low, high = s["ci95"]
        out[o] = OutcomeForecast(o, int(s["count"]), float(s["probability"]),
                                 (float(low), float(high)), _interval(s.get("credible80")),
                                 _interval(s.get("credible95")))
    return out


def _interval(pair) -> tuple[float, float] | None:
    if pair is None:
        return None
    low, high = pair
    return float(low), float(high)


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed, ``python -m sim ...`` when run as a module."""
    argv = list(sys.argv if argv is None else argv)
    if argv and Path(argv[0]).name == "__main__.py" and Path(argv[0]).parent.name == "sim":
        argv = ["python", "-m", "sim", *argv[1:]]
    return shlex.join(argv)


def make_forecast(scenario: str | Path, question: str, *, runs: int = DEFAULT_RUNS,
                  seed: int | None = None, weights: str | Path | None = None,
                  supersedes: int | None = None, progress: bool | None = None,
                  argv: Sequence[str] | None = None) -> tuple[NewForecast, RunResult]:
    """Run ``scenario`` and describe the forecast for the ledger.

    Parameters
    ----------
    scenario : path
        The scenario (or counterfactual) file.
    question : str
        The question the forecast answers, in words.
    runs, seed, weights
        As for :func:`sim.run` and :func:`sim.load_scenario` (a fresh seed is drawn and
        recorded when none is given; the shipped weights when none are given).
    supersedes : int, optional
        The id of the entry this one replaces.
    argv : list of str, optional
        The command line to record (default ``sys.argv``).

    Returns
    -------
    (NewForecast, RunResult)
        The entry to add with :meth:`sim.ledger.Ledger.add_forecast`, and the run.
    """
    from .. import engine
    from ..output import file_sha256, git_commit
    from ..scenario import default_weights_file, load_scenario

    files = scenario_files(scenario)  # before loading: the bytes the run reads
    loaded = load_scenario(scenario, weights=weights)
    weights_path = Path(weights) if weights else default_weights_file()
    weights_sha = file_sha256(weights_path)
    result = engine.run(loaded, runs=runs, seed=seed, progress=progress)
    forecast = NewForecast(
        question=question, scenario_id=loaded.id, scenario_files=files,
        scenario_content_sha256=loaded.content_hash, forecast_date=loaded.forecast_date,
        weights_file=str(weights_path), weights_sha256=weights_sha, runs=result.runs,
        seed=result.seed, outcomes=outcome_forecasts(result.summary()),
        command_line=command_line(argv), git_commit=git_commit() or "unknown",
        supersedes=supersedes)
    return forecast, result
