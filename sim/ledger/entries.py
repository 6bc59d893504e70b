"""What a ledger entry holds: the forecast, its outcomes, its resolution.

Plain immutable records; :mod:`sim.ledger.store` writes and reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class OutcomeForecast:
    """One outcome of a recorded forecast.

    ``probability`` is the Monte Carlo frequency ``count / runs``; ``ci95`` its 95%
    interval; ``credible80`` and ``credible95`` the range of the probability across
    posterior weight draws (None when the run did not report them).
    """

    outcome: str
    count: int
    probability: float
    ci95: tuple[float, float]
    credible80: tuple[float, float] | None = None
    credible95: tuple[float, float] | None = None


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file the forecast read (the one given, then each ``base:`` in turn)."""

    file: str
    sha256: str


@dataclass(frozen=True)
class NewForecast:
    """What :meth:`Ledger.add_forecast` records (the ledger adds the id and the time)."""

    question: str
    scenario_id: str
    scenario_files: tuple[ScenarioFile, ...]
    scenario_content_sha256: str
    forecast_date: dt.date
    weights_file: str
    weights_sha256: str
    runs: int
    seed: int
    outcomes: Mapping[str, OutcomeForecast]
    command_line: str
    git_commit: str
    supersedes: int | None = None

    @property
    def scenario_file(self) -> str:
        return self.scenario_files[0].file

    @property
    def scenario_sha256(self) -> str:
        return self.scenario_files[0].sha256


@dataclass(frozen=True)
class Resolution:
    """What happened: the outcome, the date, the source that says so."""

    outcome: str
    resolved_on: dt.date
    source: str
    recorded_utc: str


@dataclass(frozen=True)
class Entry(NewForecast):
    """A forecast as stored, with its id, creation time, resolution and successor."""

    id: int = 0
    created_utc: str = ""
    resolution: Resolution | None = None
    superseded_by: int | None = None

    @property
    def status(self) -> str:
        """``open``, ``resolved`` or ``superseded``."""
        if self.superseded_by is not None:
            return "superseded"
        return "resolved" if self.resolution else "open"
