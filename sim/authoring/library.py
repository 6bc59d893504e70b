"""How the case library scored each parameter: the resolved cases in ``scenarios/cases``.

Each parameter is known by its *slot*: the role and name of an actor's parameter
(``("host", "implementing_law")``), ``("tie", name)`` for the host's tie to the visitor,
or ``("timeline", name)`` for a day count.  For each slot the library keeps every case's
value or range (:func:`sim.authoring.laws.span`), so that a writer sees what is typical
("median 0, range 0–0.97 over 28 cases") and which cases to read.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from .. import catalogue as cat
from ..errors import UsageError
from ..scenario import Scenario, load_scenario
from .laws import interval, num, span

#: The resolved historical cases shipped with the repository.
DEFAULT_CASES = Path(__file__).resolve().parents[2] / "scenarios" / "cases"

Slot = tuple[str, str]


def slot_of(scenario: Scenario, path: str) -> Slot | None:
    """The slot of a parameter key path of ``scenario`` (None for the weights)."""
    parts = path.split(".")
    if parts[0] == "timeline":
        return ("timeline", parts[1])
    if parts[0] != "actors":
        return None
    if parts[2] == "ties":
        return ("tie", parts[-1])
    role = next(a.role for a in scenario.actors if a.id == parts[1])
    return (role, parts[-1])


def tokens(name: str) -> frozenset[str]:
    """The words of a name, lower case: ``"Russia (Vladimir Putin)"`` -> russia, vladimir, putin."""
    return frozenset(w for w in re.split(r"[^a-z0-9]+", name.lower()) if w)


@dataclass(frozen=True)
class Scored:
    """One case's value for one slot (one actor's, for roles with several actors)."""

    case: str
    actor: str
    low: float
    high: float
    mean: float

    def shown(self) -> str:
        return f"{interval(self.low, self.high)} ({self.case})"


@dataclass(frozen=True)
class SlotStats:
    """Every case's score of one slot."""

    slot: Slot
    scores: tuple[Scored, ...]

    @property
    def cases(self) -> int:
        return len({s.case for s in self.scores})

    @property
    def median(self) -> float:
        return statistics.median(s.mean for s in self.scores)

    @property
    def low(self) -> float:
        return min(s.low for s in self.scores)

    @property
    def high(self) -> float:
        return max(s.high for s in self.scores)

    @property
    def lowest(self) -> Scored:
        return min(self.scores, key=lambda s: (s.mean, s.case))

    @property
    def highest(self) -> Scored:
        return max(self.scores, key=lambda s: (s.mean, s.case))

    def summary(self) -> str:
        """``median 0, range 0–0.97 over 28 cases`` (and the actors, when there are more)."""
        actors = f" ({len(self.scores)} actors)" if len(self.scores) > self.cases else ""
        return (f"median {num(self.median)}, range {interval(self.low, self.high)} over "
                f"{self.cases} case{'s' if self.cases != 1 else ''}{actors}")

    def covers(self, lo: float, hi: float) -> bool:
        """Whether ``lo``–``hi`` lies within the range the cases span."""
        return self.low - 1e-12 <= lo and hi <= self.high + 1e-12


@dataclass(frozen=True)
class CaseLibrary:
    """The resolved cases and each slot's scores across them."""

    folder: Path
    cases: tuple[Scenario, ...]
    stats: dict[Slot, SlotStats]

    @classmethod
    def load(cls, folder: str | Path = DEFAULT_CASES, exclude: str | None = None) -> CaseLibrary:
        """Read every ``*.yaml`` case in ``folder`` (each must validate).

        ``exclude`` leaves out the case with that id (a case explained against the others).
        """
        folder = Path(folder)
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if not files:
            raise UsageError(f"no case library at {folder} (no *.yaml files there)",
                             hint="give the folder of resolved cases with --cases DIR")
        cases = tuple(c for c in (load_scenario(f) for f in files) if c.id != exclude)
        scores: dict[Slot, list[Scored]] = {}
        for case in cases:
            for path, par in case.parameters.items():
                slot = slot_of(case, path)
                if slot is None or par.defaulted:  # not scored by the case: a default
                    continue
                lo, hi = span(par.dist)
                actor = path.split(".")[1] if slot[0] != "timeline" else ""
                scores.setdefault(slot, []).append(Scored(case.id, actor, lo, hi,
                                                          par.dist.mean()))
        return cls(folder, cases, {k: SlotStats(k, tuple(v)) for k, v in scores.items()})

    def analogues(self, *names: str) -> list[Scenario]:
        """Cases whose host or visitor is one of ``names`` (by id or by the words of its name)."""
        wanted = [tokens(n) for n in names if tokens(n)]
        out = []
        for case in self.cases:
            sides = (case.host, case.visitor)
            if any(w <= tokens(a.id) or w <= tokens(a.name) for w in wanted for a in sides):
                out.append(case)
        return out

    def scores_in(self, case: Scenario, slot: Slot) -> list[Scored]:
        stats = self.stats.get(slot)
        return [s for s in stats.scores if s.case == case.id] if stats else []


def all_slots() -> list[tuple[Slot, cat.Spec]]:
    """Every slot the catalogue names, in the catalogue's order."""
    out: list[tuple[Slot, cat.Spec]] = [(("timeline", n), s)
                                        for n, s in cat.TIMELINE_PARAMS.items()]
    for role in cat.ROLES:
        out += [((role, n), s) for n, s in cat.ROLE_PARAMS[role].items()]
    out += [(("tie", n), s) for n, s in cat.TIE_PARAMS.items()]
    return out
