"""``sim new``: a complete, commented scenario skeleton whose values are TODO markers.

Every parameter of each role is present, commented with its meaning and bounds (from
:mod:`sim.catalogue`), how the case library scored it and the analogous cases to read.
Each value and source is a ``TODO`` marker, which validation refuses
(:func:`sim.scenario.checker.todo_markers`): nothing unsourced runs by accident.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from pathlib import Path

import yaml

from .. import catalogue as cat
from ..errors import UsageError
from ..scenario import Scenario
from ..scenario.validate import _ID
from .laws import in_words
from .library import CaseLibrary, Slot, SlotStats

WIDTH = 100
COURT_ID, COURT_NAME = "icc", "International Criminal Court"
#: Placeholder actors for the roles that take zero or more actors.
OPTIONAL_ACTORS = ((cat.WESTERN, "western_partner"), (cat.PARTNER, "economic_partner"),
                   (cat.LOBBY, "lobbying_state"), (cat.DOMESTIC, "domestic_litigant"))
_OPTIONAL_NOTE = {
    cat.WESTERN: "a Western state or bloc that courts the host (aid, investment, security)",
    cat.PARTNER: "an economic partner of the host that presses for or against an arrest",
    cat.LOBBY: "a state that lobbies the host to arrest (e.g. the victims' state)",
    cat.DOMESTIC: "a domestic actor that can go to the host's courts (NGOs, opposition, bar)",
}
#: Most analogous cases quoted under a parameter.
MAX_ANALOGUES = 5


def actor_id(name: str, what: str) -> str:
    """An actor id from a name: ``"South Africa"`` -> ``south_africa``."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:64]
    if not slug or not slug[0].isalpha():
        raise UsageError(f"{what} {name!r} gives no usable actor id (it must start with a "
                         "letter)", hint=f"name the {what.lstrip('-')} with words, e.g. "
                         "--host 'South Africa'")
    return slug


def check_request(scenario_id: str, host: str | None, visitor: str | None,
                  base: object | None) -> None:
    """Refuse a bad id, a missing host or visitor, or names that give no actor id."""
    if not _ID.fullmatch(scenario_id):
        raise UsageError(f"{scenario_id!r} is not a scenario id",
                         hint="a letter, then letters, digits, _ or - (at most 64 "
                              "characters), e.g. brazil_2026_summit")
    if base is None and (host is None or visitor is None):
        raise UsageError("sim new needs --host NAME and --visitor NAME (or --from SCENARIO)",
                         hint="e.g. python -m sim new x_2026 --host Brazil --visitor Russia")
    ids = [actor_id(name, what) for name, what in ((host, "--host"), (visitor, "--visitor"))
           if name is not None]
    if len(ids) == 2 and ids[0] == ids[1]:
        raise UsageError(f"the host and the visitor would both be '{ids[0]}'",
                         hint="the actors' ids must differ: give them different names")


def shown_path(path: str) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    full = Path(path).resolve()
    return str(full.relative_to(Path.cwd())) if full.is_relative_to(Path.cwd()) else path


def quoted(text: str) -> str:
    """A YAML scalar that reads back as ``text``: as it is when it does, else a JSON string
    (which is YAML)."""
    try:
        plain = yaml.safe_load(f"x: {text}") == {"x": text}
    except yaml.YAMLError:
        plain = False
    return text if plain and "#" not in text else json.dumps(text, ensure_ascii=False)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, indent: int, text: str = "") -> None:
        self.lines.append(" " * indent + text if text else "")

    def comment(self, indent: int, text: str, hang: int = 2) -> None:
        prefix = " " * indent + "# "
        self.lines += textwrap.wrap(text, WIDTH, initial_indent=prefix,
                                    subsequent_indent=prefix + " " * hang,
                                    break_on_hyphens=False, break_long_words=False)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class Skeleton:
    """Builds the skeleton of a new scenario (see :func:`skeleton`)."""

    def __init__(self, scenario_id: str, host: str | None, visitor: str | None,
                 library: CaseLibrary, base: Scenario | None = None):
        check_request(scenario_id, host, visitor, base)
        self.id = scenario_id
        self.library = library
        self.base = base
        self.actors = self._actors(host, visitor)
        ids = [a[0] for a in self.actors]
        if len(set(ids)) != len(ids):
            raise UsageError(f"the actors' ids must differ, got {', '.join(ids)}",
                             hint="give the host and the visitor different names")
        self.host = next(a for a in self.actors if a[1] == cat.HOST)
        self.visitor = next(a for a in self.actors if a[1] == cat.VISITOR)
        names = [self.host[2], self.visitor[2]]
        if base is not None:
            names += [base.host.name, base.visitor.name]
        self.analogues = library.analogues(*names)
        self.w = _Writer()

    def _actors(self, host: str | None, visitor: str | None) -> list[tuple[str, str, str]]:
        """(id, role, name) of each actor: the base's, or the host, visitor, court and one
        placeholder of each optional role."""
        new = {cat.HOST: host, cat.VISITOR: visitor}
        what = {cat.HOST: "--host", cat.VISITOR: "--visitor"}
        if self.base is None:
            assert host is not None and visitor is not None
            return [(actor_id(host, "--host"), cat.HOST, host),
                    (actor_id(visitor, "--visitor"), cat.VISITOR, visitor),
                    (COURT_ID, cat.COURT, COURT_NAME),
                    *((aid, role, "TODO") for role, aid in OPTIONAL_ACTORS)]
        out = []
        for a in self.base.actors:
            name = new.get(a.role)
            out.append((actor_id(name, what[a.role]), a.role, name) if name
                       else (a.id, a.role, a.name))
        return out

    # ------------------------------------------------------------------ pieces
    def _base_path(self, path: str) -> str | None:
        """The key path in the base scenario of this skeleton's ``path``."""
        if self.base is None:
            return None
        ids = {self.host[0]: self.base.host.id, self.visitor[0]: self.base.visitor.id}
        parts = path.split(".")
        if parts[0] == "actors":
            parts[1] = ids.get(parts[1], parts[1])
            if len(parts) > 3 and parts[2] == "ties":
                parts[3] = ids.get(parts[3], parts[3])
        return ".".join(parts)

    def _library_lines(self, indent: int, slot: Slot, spec: cat.Spec, path: str,
                       what: str = "", date_key: str = "") -> None:
        stats: SlotStats | None = self.library.stats.get(slot)
        if stats is None:
            default = "" if spec.default is None else f" (all take the default {spec.default:g})"
            self.w.comment(indent, f"Cases: no case in the library gives it{default}.")
        else:
            self.w.comment(indent, f"Cases{what}: {stats.summary()}; lowest "
                           f"{stats.lowest.shown()}, highest {stats.highest.shown()}.")
            seen = [s.shown() for case in self.analogues
                    for s in self.library.scores_in(case, slot)][:MAX_ANALOGUES]
            if seen:
                self.w.comment(indent, "Analogous cases: " + "; ".join(seen) + ".")
        base_path = self._base_path(path)
        if self.base is not None and date_key and date_key in self.base.timeline_dates:
            day = self.base.timeline_dates[date_key]
            days = self.base.parameters[path].dist.mean()
            self.w.comment(indent, f"{self.base.id} (--from): {day} ({slot[1]} {days:g}).")
        elif self.base is not None and base_path is not None \
                and base_path in self.base.parameters:
            par = self.base.parameters[base_path]
            shown = in_words(par.dist) + (" (catalogue default)" if par.defaulted else "")
            self.w.comment(indent, f"{self.base.id} (--from): {shown}.")

    def _slot(self, indent: int, name: str, spec: cat.Spec, slot: Slot, path: str,
              meaning: str, value_hint: str = "") -> None:
        w = self.w
        w.line(indent, f"{name}:")
        w.comment(indent + 2, meaning)
        bounds = f"Bounds: {spec.expected()}."
        if spec.default is not None:
            bounds += f" Leave it out to take the default {spec.default:g}."
        w.comment(indent + 2, bounds)
        self._library_lines(indent + 2, slot, spec, path)
        w.line(indent + 2, f"value: TODO{value_hint}")
        w.line(indent + 2, "source: TODO")

    # ------------------------------------------------------------------ the file
    def text(self, today: dt.date | None = None) -> str:
        w = self.w
        today = today or dt.date.today()
        host, visitor = self.host[2], self.visitor[2]
        w.comment(0, f"Scenario skeleton written by 'python -m sim new' on {today}: a visit by "
                  f"{visitor} to {host}" + (f", with the structure of {shown_path(self.base.file)}"
                                            if self.base else "") + ".", hang=0)
        w.comment(0, "Replace every TODO: validation refuses the file until none is left "
                  "('python -m sim validate FILE' lists them). A number is fixed, {value: 0.4, "
                  "source: ...}, or a distribution, {dist: uniform, low: 0.2, high: 0.6, "
                  "assumption: ...} (also triangular low/mode/high, truncnormal "
                  "mean/sd/low/high, beta alpha/beta; README.md, 'Scenario format'). Every "
                  "number needs a 'source' (a citation with its date: \"Reuters, 30 Aug 2024: "
                  "... (URL)\") or an 'assumption' with its reasoning, or both. Write as of the "
                  "forecast date: what was known then.", hang=0)
        w.comment(0, f"Comments give each parameter's meaning and bounds (sim/catalogue.py), "
                  f"how the {len(self.library.cases)} resolved cases in scenarios/cases scored "
                  "it (a value, or the range of a distribution, with the case) and how "
                  "analogous cases scored it.", hang=0)
        if self.analogues:
            w.comment(0, "Analogous cases to read (same host or visitor):", hang=0)
            for case in self.analogues:
                outcome = case.resolution.outcome if case.resolution else "unresolved"
                w.comment(0, f"  {shown_path(case.file)}: {outcome}; {case.title}", hang=4)
        else:
            w.comment(0, "No case in the library has this host or visitor: read the cases "
                      "named at each parameter's lowest and highest scores.", hang=0)
        w.comment(0, "Then: 'python -m sim explain FILE' reads the file back as prose, flags "
                  "weak inputs and lists those that move the forecast most.", hang=0)
        w.line(0, f"id: {self.id}")
        w.line(0, "title: TODO  # e.g. \"<Visitor>'s visit to <host>, <month year>\"")
        w.line(0, "description: TODO  # what the visit is, who is wanted, what is at stake")
        w.line(0, "forecast_date: TODO  # YYYY-MM-DD: the day the forecast is made (day 0)")
        w.line(0)
        self._timeline()
        w.line(0)
        w.line(0, "actors:")
        for aid, role, name in self.actors:
            self._actor(aid, role, name)
        w.line(0)
        self._correlations()
        return w.text()

    def _timeline(self) -> None:
        w = self.w
        w.line(0, "timeline:")
        w.comment(2, "Dates YYYY-MM-DD, counted from forecast_date (day 0). Instead of "
                  "dates you may give counts: days_before_visit, visit_days, "
                  "days_before_commitment (each {value: N, source: ...}).")
        given = dict(self.base.content.get("timeline") or {}) if self.base else {}
        keys = [k for k in (*cat.TIMELINE_DATES, *cat.TIMELINE_PARAMS) if k in given] \
            or ["arrival", "departure"]
        counts = {"arrival": "days_before_visit", "departure": "visit_days",
                  "commitment": "days_before_commitment"}
        for key in keys:
            w.line(2, f"{key}:")
            if key in cat.TIMELINE_DATES:
                w.comment(4, cat.TIMELINE_DATES[key])
                count = counts[key]
                self._library_lines(4, ("timeline", count), cat.TIMELINE_PARAMS[count],
                                    f"timeline.{count}", what=f" ({count})", date_key=key)
                hint = "  # YYYY-MM-DD"
            else:
                spec = cat.TIMELINE_PARAMS[key]
                w.comment(4, spec.meaning)
                self._library_lines(4, ("timeline", key), spec, f"timeline.{key}")
                hint = "  # a whole number"
            w.line(4, f"value: TODO{hint}")
            w.line(4, "source: TODO")
        if "commitment" not in keys and "days_before_commitment" not in keys:
            w.comment(2, "commitment: {value: YYYY-MM-DD, source: ...}  (optional: "
                      "the last day the visitor can still call the trip off; default: the "
                      "arrival day)")

    def _actor(self, aid: str, role: str, name: str) -> None:
        w = self.w
        w.line(2, f"{aid}:")
        if self.base is None and role in _OPTIONAL_NOTE:
            w.comment(4, f"Optional ({role}: zero or more): {_OPTIONAL_NOTE[role]}. Rename "
                      "it (id and name), copy it for each further such actor, or delete it "
                      "if there is none.")
        w.line(4, f"role: {role}")
        w.line(4, f"name: {quoted(name) if name != 'TODO' else 'TODO'}")
        w.line(4, "params:")
        for pname, spec in cat.ROLE_PARAMS[role].items():
            self._slot(6, pname, spec, (role, pname), f"actors.{aid}.params.{pname}",
                       spec.meaning)
        if role == cat.HOST:
            vid = self.visitor[0]
            w.line(4, "ties:")
            w.line(6, f"{vid}:")
            w.comment(8, f"The host's tie to the visitor ({self.visitor[2]}).")
            for pname, spec in cat.TIE_PARAMS.items():
                self._slot(8, pname, spec, ("tie", pname),
                           f"actors.{aid}.ties.{vid}.{pname}", spec.meaning)

    def _correlations(self) -> None:
        w = self.w
        w.comment(0, "Optional: rank correlations between uncertain inputs (Gaussian copula), "
                  "each with a source or an assumption, e.g.", hang=0)
        host, visitor = self.host[0], self.visitor[0]
        for line in ("correlations:", "  - between:",
                     f"      - actors.{host}.ties.{visitor}.fuel_import_share",
                     f"      - actors.{host}.ties.{visitor}.supply_interruption_memory",
                     "    rho: 0.3", "    assumption: why the two move together"):
            w.line(0, f"# {line}")
        if self.base is not None and self.base.correlations:
            pairs = "; ".join(f"{c.a} with {c.b} (rho {c.rho:g})"
                              for c in self.base.correlations if not c.a.startswith("weights."))
            if pairs:
                w.comment(0, f"{self.base.id} (--from) correlates {pairs}.", hang=0)
        w.comment(0, "The global behavioural weights (sim/data/weights.yaml) apply; a "
                  "'weights:' block overrides one only with a source.", hang=0)


def skeleton(scenario_id: str, host: str | None, visitor: str | None, library: CaseLibrary,
             base: Scenario | None = None, today: dt.date | None = None) -> str:
    """The text of a new scenario file whose every value is a TODO marker.

    Parameters
    ----------
    scenario_id : str
        The new scenario's id.
    host, visitor : str, optional
        Their names (actor ids are made from them); with ``base`` they rename its host
        and visitor, and may be left out.
    library : CaseLibrary
        The resolved cases whose scores the comments quote.
    base : Scenario, optional
        A scenario whose structure (actors, their roles and names, timeline keys) is
        copied instead of the default one of each role; its values are quoted, not copied.
    today : date, optional
        The date written in the header (default: today).
    """
    return Skeleton(scenario_id, host, visitor, library, base).text(today)


def slots_to_fill(text: str) -> int:
    """How many ``value: TODO`` slots a skeleton holds."""
    return len(re.findall(r"^\s*value: TODO", text, flags=re.MULTILINE))
