"""``sim explain``: a scenario read back as prose, for a reviewer who does not read YAML.

For each actor, every input with its value or range and its source or assumption;
flags for inputs resting on assumptions alone, for distributions so wide that they
span most of their bounds and for values outside the range the resolved cases span;
and the inputs whose uncertainty moves the forecast most (:mod:`sim.authoring.screen`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import textwrap
from dataclasses import dataclass, field

import numpy as np

from .. import catalogue as cat
from ..outcomes import OUTCOMES
from ..scenario import Parameter, Scenario
from .laws import in_words, interval, span
from .library import CaseLibrary, slot_of
from .screen import Screen, screen

WIDTH = 100
#: A distribution is flagged as wide when its range covers more than this share of its bounds.
WIDE = 0.5


def wide(par: Parameter) -> bool:
    """Whether an uncertain input's range spans most (more than half) of its bounds."""
    spec = par.spec
    if not par.uncertain or math.isinf(spec.high) or spec.high <= spec.low:
        return False
    lo, hi = span(par.dist)
    return (hi - lo) / (spec.high - spec.low) > WIDE


@dataclass
class Flags:
    """The flagged inputs, by key path."""

    assumption_only: list[str] = field(default_factory=list)
    wide: list[str] = field(default_factory=list)
    outside: dict[str, str] = field(default_factory=dict)  # path -> the library's range
    defaulted: list[str] = field(default_factory=list)

    def of(self, path: str) -> list[str]:
        out = []
        if path in self.assumption_only:
            out.append("assumption only")
        if path in self.wide:
            out.append("wide: spans most of its bounds")
        if path in self.outside:
            out.append(f"outside the cases' range {self.outside[path]}")
        if path in self.defaulted:
            out.append("not given: catalogue default")
        return out


def flags(scenario: Scenario, library: CaseLibrary) -> Flags:
    """Flag the scenario's inputs (not the global weights)."""
    out = Flags()
    for path, par in scenario.parameters.items():
        slot = slot_of(scenario, path)
        if slot is None:
            continue
        if par.defaulted:
            if slot[0] != "timeline":
                out.defaulted.append(path)
            continue
        if par.assumption and not par.source:
            out.assumption_only.append(path)
        if wide(par):
            out.wide.append(path)
        stats = library.stats.get(slot)
        lo, hi = span(par.dist)
        if stats is not None and not stats.covers(lo, hi):
            out.outside[path] = interval(stats.low, stats.high)
    return out


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def para(self, text: str, indent: int = 0, hang: int = 0) -> None:
        self.lines += textwrap.wrap(text, WIDTH, initial_indent=" " * indent,
                                    subsequent_indent=" " * (indent + hang),
                                    break_on_hyphens=False, break_long_words=False) or [""]

    def blank(self) -> None:
        self.lines.append("")

    def heading(self, text: str) -> None:
        self.lines += ["", text, "-" * len(text)]


#: The end of a sentence: a full stop and a capital letter (not "e.g. the").
_SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z])")


def first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(".") + "."


def day(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def label(scenario: Scenario, path: str) -> str:
    """An input as a reviewer names it: ``Mongolia: implementing_law``."""
    parts = path.split(".")
    names = {a.id: a.name for a in scenario.actors}
    if parts[0] == "actors" and parts[2] == "ties":
        return f"{names[parts[1]]}'s tie to {names[parts[3]]}: {parts[-1]}"
    if parts[0] == "actors":
        return f"{names[parts[1]]}: {parts[-1]}"
    return ": ".join(parts)


def _input(t: _Text, par: Parameter, name: str, found: Flags, indent: int = 2) -> None:
    marks = found.of(par.path)
    t.para(f"{name}: {in_words(par.dist)}" + (f"   [{'; '.join(marks)}]" if marks else ""),
           indent, hang=4)
    t.para(first_sentence(par.spec.meaning), indent + 4, hang=2)
    for cite in par.source:
        t.para(f"Source: {' '.join(cite.split())}", indent + 4, hang=2)
    if par.assumption:
        t.para(f"Assumption: {' '.join(par.assumption.split())}", indent + 4, hang=2)


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def explain(scenario: Scenario, library: CaseLibrary, runs: int = 20_000, seed: int = 1,
            top: int = 5, result: Screen | None = None) -> str:
    """The scenario as prose, with flags and the inputs that move the forecast most.

    Parameters
    ----------
    scenario : Scenario
    library : CaseLibrary
        The resolved cases whose range each value is checked against (leave the
        scenario itself out when it is one of them).
    runs, seed : int
        The screen's worlds per setting and its seed (:func:`sim.authoring.screen.screen`).
    top : int
        How many inputs the screen lists.
    result : Screen, optional
        A screen already computed (then ``runs`` and ``seed`` are not used).
    """
    found = flags(scenario, library)
    t = _Text()
    t.para(scenario.title)
    t.para("=" * min(WIDTH, len(scenario.title)))
    t.para(f"Scenario {scenario.id} ({scenario.file}), as known on "
           f"{day(scenario.forecast_date)} (the forecast date, day 0)."
           + (f" A counterfactual of {os.path.normpath(scenario.base)}, changing "
              f"{', '.join(label(scenario, c) for c in scenario.changes)}."
              if scenario.base else ""))
    description = scenario.content.get("description")
    if isinstance(description, str) and description.strip():
        t.blank()
        t.para(" ".join(description.split()))
    if scenario.rationale:
        t.blank()
        t.para("Rationale: " + " ".join(scenario.rationale.split()))

    host, visitor = scenario.host, scenario.visitor
    dates = scenario.timeline_dates
    t.heading("The visit")
    t.para(f"{visitor.name} (the visitor) is due in {host.name} (the host) on "
           f"{day(dates['arrival'])} and to leave on {day(dates['departure'])} "
           f"({scenario.visit_days} day{'s' if scenario.visit_days != 1 else ''}, both "
           f"included); it can still call the trip off until {day(dates['commitment'])}.")
    for name in cat.TIMELINE_PARAMS:
        par = scenario.parameters[f"timeline.{name}"]
        _input(t, par, name, found)

    for role in cat.ROLES:
        for actor in scenario.with_role(role):
            t.heading(f"{actor.name} ({role.replace('_', ' ')})")
            prefix = f"actors.{actor.id}.params."
            for name in cat.ROLE_PARAMS[role]:
                _input(t, scenario.parameters[prefix + name], name, found)
            if role == cat.HOST:
                t.para(f"Its tie to {visitor.name}:", 2)
                prefix = f"actors.{actor.id}.ties.{visitor.id}."
                for name in cat.TIE_PARAMS:
                    _input(t, scenario.parameters[prefix + name], name, found, indent=4)

    t.heading("Correlations and weights")
    own = [c for c in scenario.correlations
           if not (c.a.startswith("weights.") or c.b.startswith("weights."))]
    notes = _correlation_notes(scenario)
    for c in own:
        second = label(scenario, c.b)
        if c.a.rsplit(".", 1)[0] == c.b.rsplit(".", 1)[0]:
            second = c.b.rsplit(".", 1)[1]
        t.para(f"{label(scenario, c.a)} and {second} move together "
               f"(rank correlation {c.rho:g}). {notes.get(frozenset((c.a, c.b)), '')}".strip(),
               2, hang=4)
    if not own:
        t.para("The scenario correlates none of its inputs.", 2)
    weights = [p for p in scenario.parameters if p.startswith("weights.")]
    overridden = sorted(scenario.content.get("weights") or {})
    t.para(f"The {len(weights)} global behavioural weights are the shipped calibration's "
           f"({sum(scenario.parameters[p].uncertain for p in weights)} of them uncertain); "
           + (f"the scenario overrides {', '.join(overridden)}." if overridden
              else "the scenario overrides none."), 2, hang=4)

    t.heading("Flags")
    n_cases = len(library.cases)
    groups = (
        ("resting on an assumption alone, with no source", found.assumption_only, None),
        (f"with a distribution spanning more than {WIDE:.0%} of the bounds", found.wide, None),
        (f"outside the range the {n_cases} resolved cases span", list(found.outside),
         found.outside),
        ("not given, taking the catalogue default", found.defaulted, None),
    )
    for what, paths, ranges in groups:
        t.para(f"{len(paths)} input{'s' if len(paths) != 1 else ''} {what}"
               + (":" if paths else "."), 2, hang=4)
        for p in paths:
            extra = f" (cases: {ranges[p]})" if ranges else ""
            t.para(f"- {label(scenario, p)}: {in_words(scenario.parameters[p].dist)}{extra}",
                   4, hang=2)

    result = result or screen(scenario, runs=runs, seed=seed)
    t.heading(f"The {min(top, len(result.effects))} inputs whose uncertainty moves the "
              "forecast most")
    t.para(f"A quick screen, not a variance decomposition: each of the "
           f"{len(result.effects)} uncertain inputs set in turn to its 10th and its 90th "
           f"percentile, on the same {result.runs:,} worlds (common random numbers, seed "
           f"{result.seed}); changes in percentage points from the 10th to the 90th, with "
           "95% intervals from paired worlds. 'python -m sim sensitivity' gives Sobol "
           "indices.", 2)
    t.para("Forecast on these worlds: " + ", ".join(
        f"{o} {100 * p:.1f}%" for o, p in zip(OUTCOMES, result.base, strict=True)) + ".", 2)
    for i, e in enumerate(result.top(top), 1):
        order = np.argsort(-np.abs(e.change), kind="stable")
        moves = [f"{OUTCOMES[o]} {_points(e.change[o])} (+/- {100 * e.half_width[o]:.1f})"
                 for o in order if abs(e.change[o]) >= 0.0005]
        t.para(f"{i}. {label(scenario, e.path)}, from {e.low:.3g} to {e.high:.3g}: "
               + ("; ".join(moves) if moves else "no outcome moves")
               + f". It moves {100 * e.shift:.1f}% of worlds.", 2, hang=3)
    if not result.effects:
        t.para("The scenario has no uncertain inputs: every input is fixed.", 2)
    return "\n".join(t.lines) + "\n"


def _correlation_notes(scenario: Scenario) -> dict[frozenset, str]:
    """Each correlation's source or assumption, from the file's content."""
    out: dict[frozenset, str] = {}
    for item in scenario.content.get("correlations") or []:
        if isinstance(item, dict) and isinstance(item.get("between"), list):
            text = item.get("source") or item.get("assumption") or ""
            if isinstance(text, list):
                text = "; ".join(str(x) for x in text)
            kind = "Source" if item.get("source") else "Assumption"
            out[frozenset(item["between"])] = f"{kind}: {' '.join(str(text).split())}"
    return out

