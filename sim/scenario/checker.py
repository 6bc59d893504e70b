"""Walking a scenario document: problems collected, numbers and dates parsed.

:class:`Checker` records every problem with the file that set the key (see
:func:`sim.scenario.inheritance.file_for`), the dotted key path, the value and what
was expected, and parses the two kinds of leaf a scenario has: a parameter
(``{value: ...}`` or ``{dist: ...}``) and a date (``{value: YYYY-MM-DD}``), each
with its ``source`` or ``assumption``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .. import catalogue as cat
from ..distributions import Distribution
from ..distributions import problems as distribution_problems
from ..errors import ABSENT, Problem
from .inheritance import MAX_TEXT, file_for
from .types import Parameter, bounds_problem, shown

PARAM_META = {"source", "assumption", "note"}
DATE_KEYS = {"value"} | PARAM_META

#: Longest title (and actor name) accepted, in characters: it heads charts and tables.
#: (Descriptions, rationales, sources, assumptions and notes: :data:`MAX_TEXT`.)
MAX_TITLE = 200


@dataclass(frozen=True)
class Dated:
    """A timeline date as the file gives it, with its provenance."""

    path: str
    day: dt.date
    source: tuple[str, ...]
    assumption: str


class Checker:
    """Collects problems while walking a merged document."""

    def __init__(self, origin: dict[str, str]):
        self.origin = origin
        self.problems: list[Problem] = []

    def add(self, path: str, value: object, expected: str, related: tuple[str, ...] = ()) -> None:
        """Record a problem at ``path``.

        A problem about two keys (``related``) names the file a user has to edit:
        the counterfactual that set one of them, if any, rather than the base.
        """
        files = [file_for(p, self.origin) for p in (path, *related)]
        file = next((f for f in files if f != self.origin[""]), files[0])
        self.problems.append(Problem(file, path, value, expected))

    def mapping(self, node: object, path: str) -> dict | None:
        if not isinstance(node, dict):
            self.add(path, ABSENT if node is None else node, "a mapping (key: value pairs)")
            return None
        for key in node:
            if not isinstance(key, str):
                self.add(f"{path}.{key}", key, "text keys")
        return node

    def keys(self, node: dict, path: str, allowed: set[str] | dict, required=()) -> None:
        for key in node:
            if key not in allowed:
                self.add(join(path, key), node[key],
                         f"no such key here (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in node:
                self.add(join(path, key), ABSENT, "this key")

    def text(self, node: dict, key: str, path: str, required: bool = True,
             limit: int = MAX_TEXT) -> str:
        value = node.get(key, ABSENT)
        if value is ABSENT and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            if value is not ABSENT or required:
                self.add(join(path, key), value, "non-empty text")
            return ""
        if len(value) > limit:
            self.add(join(path, key), value, f"text of at most {limit:,} characters "
                     f"(this is {len(value):,})")
            return ""
        return value

    def parameter(self, node: object, path: str, spec: cat.Spec) -> Parameter | None:
        if not isinstance(node, dict):
            if node is not None and not isinstance(node, list):
                expected = ("a mapping such as {value: 0.5, source: ...} or "
                            "{dist: uniform, low: 0.2, high: 0.6, assumption: ...}")
            else:
                expected = "a parameter mapping with value or dist, and a source or assumption"
            self.add(path, ABSENT if node is None else node, expected)
            return None
        before = len(self.problems)
        sources, assumption = self.provenance(node, path, "number")
        if "value" in node and "dist" in node:
            self.add(path, sorted(node), "either 'value' or 'dist', not both")
            return None
        args = {k: v for k, v in node.items() if k not in PARAM_META and k != "dist"}
        kind = node.get("dist", "fixed")
        for key, problem_value, expected in distribution_problems(kind, args):
            self.add(join(path, key), problem_value,
                     expected if key != "dist" else expected + " (or give 'value')")
        if len(self.problems) > before:
            return None
        dist = Distribution(kind, {k: float(v) for k, v in args.items()})
        problem = bounds_problem(dist, spec)
        if problem:
            self.add(path, shown(dist), problem)
            return None
        return Parameter(path, dist, spec, sources, assumption)

    def provenance(self, node: dict, path: str, what: str) -> tuple[tuple[str, ...], str]:
        """The ``source`` citations and ``assumption`` of a value; one of them is required.

        An empty source (``source:`` with nothing, ``""``, blanks, ``[]``) is not a
        source: it is refused, and does not stand in for the assumption.
        """
        source = node.get("source", ABSENT)
        sources: tuple[str, ...] = ()
        if isinstance(source, str) and source.strip():
            sources = (source,)
        elif isinstance(source, list) and source and all(
                isinstance(s, str) and s.strip() for s in source):
            sources = tuple(source)
        elif source is not ABSENT:
            self.add(f"{path}.source", source, "a citation (text) or a list of citations "
                     "(an empty source is not a source: cite one, or remove the key and give "
                     "an 'assumption')")
        if any(len(s) > MAX_TEXT for s in sources):
            self.add(f"{path}.source", source, f"citations of at most {MAX_TEXT:,} characters "
                     "each")
            sources = ()
        assumption = node.get("assumption")
        if assumption is not None and not (isinstance(assumption, str) and assumption.strip()):
            self.add(f"{path}.assumption", assumption, "text giving the reasoning")
            assumption = None
        elif isinstance(assumption, str) and len(assumption) > MAX_TEXT:
            self.add(f"{path}.assumption", assumption, f"text of at most {MAX_TEXT:,} "
                     f"characters (this is {len(assumption):,})")
            assumption = None
        note = node.get("note")
        if note is not None and not (isinstance(note, str) and len(note) <= MAX_TEXT):
            self.add(f"{path}.note", note, f"text of at most {MAX_TEXT:,} characters")
        if not sources and assumption is None and source is ABSENT:
            self.add(f"{path}.source", ABSENT,
                     f"a source for this {what}, or an 'assumption' with its reasoning")
        return sources, assumption or ""

    def date(self, node: object, path: str) -> Dated | None:
        """A timeline date written like a parameter: ``{value: 2024-09-02, source: ...}``."""
        if not isinstance(node, dict):
            self.add(path, ABSENT if node is None else node,
                     "a mapping such as {value: 2024-09-02, source: ...} (a date needs a "
                     "source or an assumption, like every number)")
            return None
        before = len(self.problems)
        for key in node:
            if key not in DATE_KEYS:
                self.add(join(path, key), node[key], "no such key here: a date takes "
                         f"{', '.join(sorted(DATE_KEYS))} (it is never uncertain)")
        sources, assumption = self.provenance(node, path, "date")
        value = node.get("value", ABSENT)
        day = as_date(value)
        if day is None:
            self.add(f"{path}.value", value, DATE_EXPECTED)
        if day is None or len(self.problems) > before:
            return None
        return Dated(path, day, sources, assumption)

    def parameters(self, node: object, path: str, specs: dict[str, cat.Spec],
                   out: dict[str, Parameter]) -> None:
        node = self.mapping(node, path)
        if node is None:
            return
        self.keys(node, path, specs, required=[n for n, s in specs.items() if s.default is None])
        for name, spec in specs.items():
            if name in node:
                par = self.parameter(node[name], f"{path}.{name}", spec)
                if par:
                    out[par.path] = par
            elif spec.default is not None:
                out[f"{path}.{name}"] = catalogue_default(f"{path}.{name}", spec)

    def weight_keys(self, node: dict, path: str, required=()) -> None:
        """:meth:`keys` for weights, naming a retired weight and why it went."""
        for name in node:
            if name in cat.RETIRED_WEIGHTS:
                self.add(join(path, name), node[name],
                         f"no weight '{name}' (retired: {cat.RETIRED_WEIGHTS[name]}); remove it")
        known = {k: v for k, v in node.items() if k not in cat.RETIRED_WEIGHTS}
        self.keys(known, path, cat.WEIGHT_PARAMS, required)


#: A value left for the writer to fill in (``sim new`` writes ``TODO`` in every slot):
#: the text ``TODO``, alone or followed by a colon, a blank or a dash and more text.
TODO = re.compile(r"\s*TODO(?:$|[\s:\-(])")

#: What each kind of slot expects in place of a TODO marker, by its last key.
_TODO_EXPECTED = {
    "value": "a number in place of the TODO marker (or 'dist' and its arguments instead of "
             "'value')",
    "source": "a citation with its date in place of the TODO marker (or an 'assumption' "
              "with its reasoning instead of 'source')",
    "assumption": "the reasoning behind the number in place of the TODO marker",
    "forecast_date": "the date the forecast is made (YYYY-MM-DD) in place of the TODO marker",
}
_TODO_DATE = "a date YYYY-MM-DD in place of the TODO marker"
_TODO_TEXT = "text in place of the TODO marker"


def todo_markers(node: object, path: str = "") -> list[tuple[str, str]]:
    """Every TODO marker in a document, as ``(key path, expected)`` in document order.

    ``sim new`` writes a skeleton whose values are all ``TODO``; validation refuses each
    marker at its key path, so that nothing unsourced runs by accident.
    """
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, child in node.items():
            found += todo_markers(child, join(path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += todo_markers(child, join(path, i))
    elif isinstance(node, str) and TODO.match(node):
        keys = [k for k in path.split(".") if not k.isdigit()]
        last = keys[-1] if keys else ""
        is_date = (len(keys) == 3 and keys[0] == "timeline" and last == "value"
                   and keys[1] in cat.TIMELINE_DATES)
        found.append((path, _TODO_DATE if is_date else _TODO_EXPECTED.get(last, _TODO_TEXT)))
    return found


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def catalogue_default(path: str, spec: cat.Spec) -> Parameter:
    assert spec.default is not None, f"{path} has no catalogue default"
    value = float(spec.default)
    return Parameter(path, Distribution.fixed(value), spec, (),
                     f"catalogue default ({value:g}: not given in the file, which is what files "
                     "written before this parameter existed meant)", defaulted=True)


def as_date(value: object) -> dt.date | None:
    """A YAML date (or datetime), or an ISO 'YYYY-MM-DD' string, as a date; else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return None


#: What a date must be; a date that does not exist (2024-02-30) is refused at its key.
DATE_EXPECTED = "a date written YYYY-MM-DD (one that exists on the calendar)"


def parse_date(value: object, path: str, check: Checker) -> dt.date:
    day = as_date(value)
    if day is None:
        check.add(path, value, DATE_EXPECTED)
        return dt.date(1970, 1, 1)
    return day
