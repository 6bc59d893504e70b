"""The case library: resolved historical cases, read as scenarios, and their dates.

A case is a scenario file with a ``resolution`` block (what happened, when, and the
source).  Calibration fits the weights on a set of cases; an as-of fit uses only the
cases resolved before a date, and a case set is named by a hash of its files, so that
fits can be cached.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..scenario import Scenario, load_scenario


def case_files(folder: str | Path) -> list[Path]:
    """The case files (``*.yaml``) in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of case files",
                         hint="give the folder of historical cases, e.g. scenarios/cases (an "
                              "itinerary's precedent weights: add --precedents)")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise UsageError(f"{folder} holds no case files (*.yaml)",
                         hint="give the folder of historical cases, e.g. scenarios/cases")
    return files


def as_files(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """A folder of cases, or a list of case files, as the list of files."""
    if isinstance(source, str | Path):
        return case_files(source)
    files = [Path(f) for f in source]
    if not files:
        raise UsageError("no case files given")
    return files


def load_cases(source: str | Path | Sequence[str | Path],
               weights: str | Path | None = None) -> list[Scenario]:
    """Load the historical cases (a folder, or a list of files); each must have a resolution."""
    cases = []
    for f in as_files(source):
        scenario = load_scenario(f, weights=weights)
        if scenario.resolution is None:
            raise UsageError(f"{f}: no 'resolution' block, so it is not a resolved case",
                             hint="every case file needs resolution: {outcome, date, source}")
        cases.append(scenario)
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise UsageError(f"duplicate case ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return cases


def resolved_outcome(case: Scenario) -> str:
    """What happened in a resolved case (:func:`load_cases` refuses any other)."""
    assert case.resolution is not None, f"{case.id} is not a resolved case"
    return case.resolution.outcome


def outcome_index(case: Scenario) -> int:
    return OUTCOMES.index(resolved_outcome(case))


def resolution_date(case: Scenario) -> dt.date:
    """The day a case was resolved (validated as an ISO date when the case was read)."""
    assert case.resolution is not None, f"{case.id} is not a resolved case"
    return dt.date.fromisoformat(str(case.resolution.date))


def resolved_before(cases: Iterable[Scenario], date: dt.date) -> list[Scenario]:
    """The cases whose outcome was known before ``date`` (resolved strictly earlier)."""
    return [c for c in cases if resolution_date(c) < date]


def in_date_order(cases: Iterable[Scenario]) -> list[Scenario]:
    """Cases by forecast date (then resolution date and id, so that ties are ordered)."""
    return sorted(cases, key=lambda c: (c.forecast_date, resolution_date(c), c.id))


def case_set_hash(files: Iterable[str | Path], *extra: str) -> str:
    """A name for a set of case files: SHA-256 of their contents (in name order, each with
    the files it inherits from through ``base:``) and of ``extra`` (e.g. the prior and the
    fit's settings).  Editing any case, or a file a case inherits from, changes it."""
    from ..scenario.inheritance import chain_files

    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        for part in chain_files(path):
            digest.update(part.name.encode() + b"\0" + part.read_bytes() + b"\0")
    for text in extra:
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()


__all__ = ["as_files", "case_files", "case_set_hash", "in_date_order", "load_cases",
           "outcome_index", "resolution_date", "resolved_before",
           "resolved_outcome"]
