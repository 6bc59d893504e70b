"""Itinerary files: several visits of one visitor, in date order, read and validated.

An itinerary is a YAML file with a top-level ``visits`` list.  Each visit names a scenario
file (``scenario: PATH``, relative to the itinerary) or is a counterfactual written in place
(``base: PATH``, ``overrides``, ``rationale``, as in a counterfactual file), and says where
its host stands for the precedents: its ``region`` and its ``blocs``.  Every visit must have
the same visitor (id and name) and the same Court, and the arrivals must be in date order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ABSENT, Problem, ScenarioError
from ..scenario import Scenario, load_scenario, read_yaml
from ..scenario.inheritance import counterfactual_problems, merge_chain, resolve_chain

#: Keys of an itinerary file and of one visit.
ITINERARY_KEYS = {"id", "title", "description", "visits"}
VISIT_KEYS = {"id", "scenario", "base", "overrides", "rationale", "title", "description",
              "region", "blocs", "source", "noncompliance_finding"}
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: Most visits in one itinerary (a world holds one outcome code per visit in an int64).
MAX_VISITS = 27


@dataclass(frozen=True)
class Visit:
    """One visit of an itinerary: its id, its scenario and its host's place."""

    id: str
    scenario: Scenario
    region: str | None
    blocs: tuple[str, ...]
    #: Whether the Court found the host in non-compliance for this visit (a resolved case's
    #: record, read by the calibration of the precedent weights); None when not given.
    finding: bool | None = None

    @property
    def arrival(self) -> dt.date:
        return self.scenario.timeline_dates["arrival"]


@dataclass(frozen=True)
class Itinerary:
    """A validated itinerary: visits in date order, one visitor, one Court."""

    id: str
    title: str
    file: str
    visits: tuple[Visit, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.visits)

    @property
    def posterior_draws(self) -> int | None:
        """How many posterior draws of the weights the worlds take (world ``i`` takes draw
        ``i mod draws`` at every visit, :func:`sim.sampling.posterior_weights`: the visits
        share one weights file), or None when it carries none."""
        sizes = {len(v.scenario.posterior.samples) for v in self.visits
                 if v.scenario.posterior is not None}
        return sizes.pop() if len(sizes) == 1 else None

    def index(self, visit_id: str) -> int:
        """The position of visit ``visit_id``; a one-line error naming the visits if none."""
        if visit_id not in self.ids:
            from ..errors import UsageError
            raise UsageError(f"itinerary {self.id} has no visit {visit_id!r}",
                             hint=f"its visits are {', '.join(self.ids)}")
        return self.ids.index(visit_id)


def is_itinerary(path: str | Path) -> bool:
    """Whether ``path`` is a readable YAML mapping with a top-level ``visits`` key."""
    doc, problems = read_yaml(Path(path))
    return not problems and doc is not None and "visits" in doc


def load_itinerary(path: str | Path, weights: str | Path | None = None) -> Itinerary:
    """Read, resolve and validate an itinerary file and every visit's scenario.

    Parameters
    ----------
    path : str or Path
        The itinerary file.
    weights : str or Path, optional
        The behavioural weights file for every visit (default: the shipped calibration).

    Raises
    ------
    ScenarioError
        Every problem found, each naming the file and the key path (``visits[2].scenario``).
    """
    path = Path(path)
    name = str(path)
    doc, problems = read_yaml(path)
    if problems:
        raise ScenarioError(problems)
    assert doc is not None
    found = [Problem(name, str(k), doc[k], "only " + ", ".join(sorted(ITINERARY_KEYS)))
             for k in doc if k not in ITINERARY_KEYS]
    itinerary_id = doc.get("id", ABSENT)
    if not isinstance(itinerary_id, str) or not _ID.fullmatch(itinerary_id):
        found.append(Problem(name, "id", itinerary_id, "an identifier: a letter, then "
                             "letters, digits, _ or - (at most 64 characters)"))
    title = doc.get("title", ABSENT)
    if not isinstance(title, str) or not title.strip():
        found.append(Problem(name, "title", title, "a title"))
    entries = doc.get("visits")
    if not isinstance(entries, list) or not entries:
        found.append(Problem(name, "visits", entries, "a list of at least one visit"))
        raise ScenarioError(found)
    if len(entries) > MAX_VISITS:
        found.append(Problem(name, "visits", f"{len(entries)} visits",
                             f"at most {MAX_VISITS} visits"))
        raise ScenarioError(found)
    visits: list[Visit] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"visits[{i}]"
        visit, visit_problems = _visit(path, where, entry, weights)
        found += visit_problems
        if visit is None:
            continue
        if visit.id in seen:
            found.append(Problem(name, f"{where}.id", visit.id, "an id no other visit has"))
        seen.add(visit.id)
        visits.append(visit)
    if not found:
        found += _agreement(name, visits)
    if found:
        raise ScenarioError(found)
    assert isinstance(itinerary_id, str) and isinstance(title, str)
    return Itinerary(itinerary_id, title, name, tuple(visits))


def _visit(path: Path, where: str, entry: object, weights) -> tuple[Visit | None, list[Problem]]:
    name = str(path)
    if not isinstance(entry, dict):
        return None, [Problem(name, where, entry, "a mapping with id, scenario (or base and "
                              "overrides), region and blocs")]
    found = [Problem(name, f"{where}.{k}", entry[k], "only " + ", ".join(sorted(VISIT_KEYS)))
             for k in entry if k not in VISIT_KEYS]
    visit_id = entry.get("id", ABSENT)
    if not isinstance(visit_id, str) or not _ID.fullmatch(visit_id):
        found.append(Problem(name, f"{where}.id", visit_id, "an identifier: a letter, then "
                             "letters, digits, _ or - (at most 64 characters)"))
    region = entry.get("region")
    if region is not None and not (isinstance(region, str) and region.strip()):
        found.append(Problem(name, f"{where}.region", region, "a region's name"))
    blocs = entry.get("blocs", [])
    if not isinstance(blocs, list) or not all(isinstance(b, str) and b for b in blocs):
        found.append(Problem(name, f"{where}.blocs", blocs, "a list of blocs' names"))
    finding = entry.get("noncompliance_finding")
    if finding is not None and not (isinstance(finding, dict)
                                    and isinstance(finding.get("value"), bool)
                                    and isinstance(finding.get("source"), str)
                                    and finding["source"].strip()):
        found.append(Problem(name, f"{where}.noncompliance_finding", finding,
                             "a mapping with value (true or false) and its source"))
    if ("scenario" in entry) == ("base" in entry):
        found.append(Problem(name, f"{where}.scenario", entry.get("scenario", ABSENT),
                             "either scenario: a scenario file, or base: with overrides "
                             "(a counterfactual written in place), not both"))
    if found:
        return None, found
    try:
        if "scenario" in entry:
            file = entry["scenario"]
            if not isinstance(file, str) or not file:
                return None, [Problem(name, f"{where}.scenario", file, "a scenario file")]
            target = path.parent / file
            if not target.is_file():
                return None, [Problem(name, f"{where}.scenario", file,
                                      f"an existing scenario file ({target} does not exist)")]
            scenario = load_scenario(target, weights=weights)
        else:
            scenario = _load_inline(path, where, entry, weights)
    except ScenarioError as exc:
        return None, [Problem(name, f"{where}.{'scenario' if 'scenario' in entry else 'base'}",
                              entry.get("scenario", entry.get("base")),
                              f"a valid scenario ({p})") for p in exc.problems]
    return Visit(str(visit_id), scenario, region, tuple(blocs),
                 None if finding is None else bool(finding["value"])), []


def _load_inline(path: Path, where: str, entry: dict, weights) -> Scenario:
    """A counterfactual written in the itinerary: ``base`` (relative to the itinerary),
    ``overrides`` and ``rationale``, resolved by the scenario loader's own chain (which
    refuses loops of bases and missing files)."""
    from ..scenario import default_weights_file
    from ..scenario.validate import build

    label = f"{path}#{where}"
    doc = {k: entry[k] for k in ("base", "overrides", "rationale") if k in entry}
    doc["id"] = entry.get("id")
    for key in ("title", "description"):
        if key in entry:
            doc[key] = entry[key]
    problems = counterfactual_problems(label, doc)
    if problems:
        raise ScenarioError(problems)
    base = path.parent / entry["base"]
    chain, problems = resolve_chain(base)
    if problems:
        raise ScenarioError(problems)
    chain = [(label, doc), *chain]
    merged, origin = merge_chain(chain)
    weights_path = Path(weights) if weights else default_weights_file()
    wdoc, wproblems = read_yaml(weights_path)
    if wproblems:
        raise ScenarioError(wproblems)
    assert wdoc is not None
    return build(merged, origin, chain, wdoc, str(weights_path))


def _agreement(name: str, visits: list[Visit]) -> list[Problem]:
    """One visitor (id and name), one Court, arrivals in date order."""
    found = []
    first = visits[0].scenario
    for i, visit in enumerate(visits[1:], start=1):
        s = visit.scenario
        if (s.visitor.id, s.visitor.name) != (first.visitor.id, first.visitor.name):
            found.append(Problem(name, f"visits[{i}].scenario", s.file,
                                 f"a scenario with the same visitor as visits[0] "
                                 f"({first.visitor.id}: {first.visitor.name}), not "
                                 f"{s.visitor.id}: {s.visitor.name}"))
        if s.court.id != first.court.id:
            found.append(Problem(name, f"visits[{i}].scenario", s.file,
                                 f"a scenario with the same Court as visits[0] "
                                 f"({first.court.id}), not {s.court.id}"))
        before = visits[i - 1]
        if visit.arrival <= before.arrival:
            found.append(Problem(name, f"visits[{i}]", f"arrival {visit.arrival}",
                                 f"visits in date order: an arrival after that of "
                                 f"visits[{i - 1}] ({before.id}, {before.arrival})"))
    return found
