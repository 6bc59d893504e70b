"""YAML scenario files to validated, immutable :class:`Scenario` objects.

A scenario file is data: it is read with ``yaml.safe_load`` and nothing in it
is executed.  Validation collects every problem in one pass and reports each
with the file, the dotted key path, the offending value and what was expected.

A *counterfactual* file names a ``base`` scenario (a path relative to itself)
and ``overrides`` some of its values; everything else comes from the base.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from . import catalogue as cat
from .distributions import KINDS, Distribution
from .distributions import problems as distribution_problems
from .errors import ABSENT, Problem, ScenarioError
from .outcomes import OUTCOMES

MAX_FILE_BYTES = 1_000_000
MAX_ALIASES = 100
MAX_DEPTH = 40
MAX_NODES = 100_000
MAX_BASE_CHAIN = 20
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")

SCENARIO_KEYS = {"id", "title", "description", "forecast_date", "timeline", "actors",
                 "correlations", "resolution", "weights"}
REQUIRED_KEYS = ("id", "title", "forecast_date", "timeline", "actors")
COUNTERFACTUAL_KEYS = {"base", "id", "title", "description", "rationale", "overrides"}
ACTOR_KEYS = {"role", "name", "params", "ties", "notes"}
PARAM_META = {"source", "assumption", "note"}


# --------------------------------------------------------------------------- public objects

class ReadOnly(Mapping):
    """A read-only mapping that, unlike ``MappingProxyType``, can be pickled to workers."""

    def __init__(self, data: dict):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"ReadOnly({self._data!r})"


@dataclass(frozen=True)
class Parameter:
    """One numeric input: its distribution and where its value comes from."""

    path: str
    dist: Distribution
    spec: cat.Spec
    source: tuple[str, ...] = ()
    assumption: str = ""

    @property
    def uncertain(self) -> bool:
        return not self.dist.is_fixed


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    name: str


@dataclass(frozen=True)
class Correlation:
    a: str
    b: str
    rho: float


@dataclass(frozen=True)
class Resolution:
    """What actually happened (historical cases only)."""

    outcome: str
    date: str
    source: tuple[str, ...]


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable scenario.

    ``parameters`` maps dotted key paths (``actors.mongolia.params.implementing_law``,
    ``weights.legal``, ...) to :class:`Parameter` objects.
    """

    id: str
    title: str
    forecast_date: dt.date
    file: str
    actors: tuple[Actor, ...]
    parameters: Mapping[str, Parameter]
    correlations: tuple[Correlation, ...] = ()
    resolution: Resolution | None = None
    base: str | None = None
    changes: tuple[str, ...] = ()  # key paths a counterfactual overrides
    rationale: str = ""
    content: Mapping = field(default_factory=dict, repr=False, compare=False)

    # -- actors
    def with_role(self, role: str) -> tuple[Actor, ...]:
        return tuple(a for a in self.actors if a.role == role)

    @property
    def host(self) -> Actor:
        return self.with_role(cat.HOST)[0]

    @property
    def visitor(self) -> Actor:
        return self.with_role(cat.VISITOR)[0]

    @property
    def court(self) -> Actor:
        return self.with_role(cat.COURT)[0]

    # -- parameters
    @property
    def days_before_visit(self) -> int:
        return int(self.parameters["timeline.days_before_visit"].dist.args["value"])

    @property
    def visit_days(self) -> int:
        return int(self.parameters["timeline.visit_days"].dist.args["value"])

    def uncertain(self) -> list[str]:
        """Key paths of the parameters that vary across replications, in a fixed order."""
        return sorted(p for p, par in self.parameters.items() if par.uncertain)

    def value(self, path: str) -> float:
        """The mean of a parameter (its value when fixed)."""
        return self._param(path).dist.mean()

    def _param(self, path: str) -> Parameter:
        try:
            return self.parameters[path]
        except KeyError:
            raise ScenarioError([Problem(self.file, path, ABSENT,
                                         "a numeric parameter of this scenario")]) from None

    def with_values(self, values: Mapping[str, float | Distribution], note: str = "") -> Scenario:
        """A copy with some parameters replaced (e.g. by a notebook slider or a sweep).

        Values are checked against the same bounds as the file; the copy records the
        changed key paths in ``changes`` and gets a new content hash.
        """
        params = dict(self.parameters)
        found: list[Problem] = []
        for path, new in values.items():
            if path not in params:
                found.append(Problem(self.file, path, ABSENT, "a numeric parameter of this "
                                     "scenario (see Scenario.parameters)"))
                continue
            old = params[path]
            dist = new if isinstance(new, Distribution) else Distribution.fixed(_number(new))
            problem = _bounds_problem(dist, old.spec)
            if problem:
                found.append(Problem(self.file, path, _shown(dist), problem))
                continue
            params[path] = replace(old, dist=dist, source=(),
                                   assumption=note or "set interactively")
        if found:
            raise ScenarioError(found)
        changes = tuple(sorted(set(self.changes) | set(values)))
        content = dict(self.content)
        content["changes"] = {p: params[p].dist.describe() for p in values}
        # a parameter made fixed can no longer be correlated with anything
        correlations = tuple(c for c in self.correlations
                             if params[c.a].uncertain and params[c.b].uncertain)
        return replace(self, parameters=ReadOnly(params), changes=changes,
                       content=content, correlations=correlations)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the fully resolved scenario (base, overrides and weights applied)."""
        canon = {p: [par.dist.kind, par.dist.args] for p, par in sorted(self.parameters.items())}
        blob = json.dumps({"id": self.id, "date": str(self.forecast_date),
                           "actors": [a.__dict__ for a in self.actors], "params": canon,
                           "corr": [c.__dict__ for c in self.correlations]},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ScenarioError([Problem("<value>", "", value, "a number")])
    return float(value)


# --------------------------------------------------------------------------- reading files

class _SafeLoader(yaml.SafeLoader):
    """Safe YAML that refuses alias bombs (too many aliases) and duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} YAML aliases (*refs): refused")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        # a key given twice would silently drop one value (and its source)
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' appears twice in one mapping",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, label: str | None = None) -> tuple[object, list[Problem]]:
    """Read one YAML document safely; problems instead of exceptions."""
    name = label or str(path)
    if not path.exists():
        return None, [Problem(name, "", str(path), "an existing file")]
    if not path.is_file():
        return None, [Problem(name, "", str(path), "a file, not a directory or device")]
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem(name, "", f"{size} bytes",
                                  f"a scenario file under {MAX_FILE_BYTES} bytes")]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, "", exc.strerror or str(exc), "a readable file")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem(name, "", "binary content", "a UTF-8 text file holding YAML")]
    try:
        doc = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - _SafeLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        return None, [Problem(name, "", f"invalid YAML at {where}: {exc.problem}",
                              "valid YAML")]
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        return None, [Problem(name, "", f"unreadable YAML ({exc})", "valid YAML")]
    size, depth = _extent(doc, {})
    if depth > MAX_DEPTH or size > MAX_NODES:
        return None, [Problem(name, "", f"a document of {size:,} nodes nested {depth} deep "
                              "(after expanding aliases)",
                              f"a scenario document of at most {MAX_NODES:,} nodes nested at "
                              f"most {MAX_DEPTH} deep")]
    if not isinstance(doc, dict):
        return None, [Problem(name, "", type(doc).__name__ if doc is not None else "an empty file",
                              "a YAML mapping (key: value pairs) at the top level")]
    return doc, []


def _extent(node: object, memo: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, depth) of the document as it would be walked, aliases expanded.

    Shared (aliased) subtrees are measured once, so an alias bomb is sized in
    time proportional to its text, not to its expansion.
    """
    if not isinstance(node, dict | list):
        return 1, 0
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = (MAX_NODES + 1, MAX_DEPTH + 1)  # a cycle counts as too large
    children = node.values() if isinstance(node, dict) else node
    size, depth = 1, 0
    for child in children:
        child_size, child_depth = _extent(child, memo)
        size, depth = size + child_size, max(depth, child_depth)
        if size > MAX_NODES or depth > MAX_DEPTH:
            break
    memo[id(node)] = (size, depth + 1)
    return size, depth + 1


def default_weights_file() -> Path:
    return Path(str(resources.files("sim") / "data" / "weights.yaml"))


# --------------------------------------------------------------------------- loading

def load_scenario(path: str | Path, weights: str | Path | None = None) -> Scenario:
    """Load, resolve and validate a scenario or counterfactual file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    weights : str or Path, optional
        A weights file (global behavioural weights, e.g. a calibration's output).
        Defaults to the shipped calibration ``sim/data/weights.yaml``.

    Raises
    ------
    ScenarioError
        With every problem found, each naming the file and the key path.
    """
    path = Path(path)
    chain, problems = _resolve_chain(path)
    if problems:
        raise ScenarioError(problems)
    doc, origin = _merge_chain(chain)
    weights_path = Path(weights) if weights else default_weights_file()
    wdoc, wproblems = read_yaml(weights_path)
    if wproblems:
        raise ScenarioError(wproblems)
    return _build(doc, origin, chain, wdoc, str(weights_path))


def _resolve_chain(path: Path) -> tuple[list[tuple[str, dict]], list[Problem]]:
    """The file and its bases, most derived first."""
    chain: list[tuple[str, dict]] = []
    seen: list[Path] = []
    current = path
    while True:
        resolved = current.resolve()
        if resolved in seen:
            loop = " -> ".join(str(p) for p in [*seen, resolved])
            return chain, [Problem(str(chain[-1][0]), "base", str(current),
                                   f"a base that does not lead back to itself (loop: {loop})")]
        if len(seen) >= MAX_BASE_CHAIN:
            return chain, [Problem(str(current), "base", str(current),
                                   f"at most {MAX_BASE_CHAIN} levels of base scenarios")]
        seen.append(resolved)
        doc, problems = read_yaml(current)
        if problems:
            if chain:  # a missing base is the referring file's problem
                p = problems[0]
                return chain, [Problem(chain[-1][0], "base", chain[-1][1].get("base"),
                                       f"a base scenario file that can be read ({p.expected}; "
                                       f"{p.value})")]
            return chain, problems
        chain.append((str(current), doc))
        if "base" not in doc:
            return chain, []
        found = _counterfactual_problems(str(current), doc)
        if found:
            return chain, found
        current = current.parent / doc["base"]


def _counterfactual_problems(name: str, doc: dict) -> list[Problem]:
    found = []
    for key in doc:
        if key not in COUNTERFACTUAL_KEYS:
            found.append(Problem(name, str(key), doc[key],
                                 "only base, id, title, description, rationale and overrides "
                                 "in a counterfactual (everything else comes from the base)"))
    if not isinstance(doc.get("base"), str) or not doc["base"]:
        found.append(Problem(name, "base", doc.get("base"), "a path to the base scenario file"))
    if not isinstance(doc.get("overrides", {}), dict):
        found.append(Problem(name, "overrides", doc["overrides"],
                             "a mapping of the base's keys to new values"))
    if not isinstance(doc.get("rationale"), str) or not doc.get("rationale", "").strip():
        found.append(Problem(name, "rationale", doc.get("rationale", ABSENT),
                             "text saying why this counterfactual is plausible"))
    return found


def _is_param_spec(node: object) -> bool:
    return isinstance(node, dict) and ("value" in node or "dist" in node)


def _merge(base: dict, over: dict, prefix: str, origin: dict[str, str], name: str) -> dict:
    out = dict(base)
    for key, value in over.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if value is None:
            out.pop(key, None)
            origin[path] = name
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and not _is_param_spec(
                value):
            out[key] = _merge(out[key], value, path, origin, name)
        else:
            out[key] = value
            origin[path] = name
    return out


def _merge_chain(chain: list[tuple[str, dict]]) -> tuple[dict, dict[str, str]]:
    """Apply overrides from the base outwards; ``origin`` maps overridden paths to files."""
    base_name, doc = chain[-1]
    origin: dict[str, str] = {"": base_name}
    for name, cf in reversed(chain[:-1]):
        doc = _merge(doc, cf.get("overrides") or {}, "", origin, name)
        for key in ("id", "title", "description"):
            if key in cf:
                doc[key] = cf[key]
                origin[key] = name
    return doc, origin


def _file_for(path: str, origin: dict[str, str]) -> str:
    """The file that set ``path`` (the longest overridden prefix wins)."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in origin:
            return origin[prefix]
    return origin[""]


# --------------------------------------------------------------------------- validation

class _Checker:
    """Collects problems while walking a merged document."""

    def __init__(self, origin: dict[str, str]):
        self.origin = origin
        self.problems: list[Problem] = []

    def add(self, path: str, value: object, expected: str) -> None:
        self.problems.append(Problem(_file_for(path, self.origin), path, value, expected))

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
                self.add(_join(path, key), node[key],
                         f"no such key here (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in node:
                self.add(_join(path, key), ABSENT, "this key")

    def text(self, node: dict, key: str, path: str, required: bool = True) -> str:
        value = node.get(key, ABSENT)
        if value is ABSENT and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            if value is not ABSENT or required:
                self.add(_join(path, key), value, "non-empty text")
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
        source = node.get("source")
        sources: tuple[str, ...] = ()
        if isinstance(source, str) and source.strip():
            sources = (source,)
        elif isinstance(source, list) and source and all(
                isinstance(s, str) and s.strip() for s in source):
            sources = tuple(source)
        elif source is not None:
            self.add(f"{path}.source", source, "a citation (text) or a list of citations")
        assumption = node.get("assumption")
        if assumption is not None and not (isinstance(assumption, str) and assumption.strip()):
            self.add(f"{path}.assumption", assumption, "text giving the reasoning")
            assumption = None
        if not sources and assumption is None and "source" not in node:
            self.add(f"{path}.source", ABSENT,
                     "a source for this number, or an 'assumption' with its reasoning")
        if "value" in node and "dist" in node:
            self.add(path, sorted(node), "either 'value' or 'dist', not both")
            return None
        args = {k: v for k, v in node.items() if k not in PARAM_META and k != "dist"}
        kind = node.get("dist", "fixed")
        for key, problem_value, expected in distribution_problems(kind, args):
            self.add(_join(path, key), problem_value,
                     expected if key != "dist" else expected + " (or give 'value')")
        if len(self.problems) > before:
            return None
        dist = Distribution(kind, {k: float(v) for k, v in args.items()})
        problem = _bounds_problem(dist, spec)
        if problem:
            self.add(path, _shown(dist), problem)
            return None
        return Parameter(path, dist, spec, sources, assumption or "")

    def parameters(self, node: object, path: str, specs: dict[str, cat.Spec],
                   out: dict[str, Parameter]) -> None:
        node = self.mapping(node, path)
        if node is None:
            return
        self.keys(node, path, specs, required=specs)
        for name, spec in specs.items():
            if name in node:
                par = self.parameter(node[name], f"{path}.{name}", spec)
                if par:
                    out[par.path] = par


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _shown(dist: Distribution) -> object:
    """How a value appears in an error: the number itself when fixed."""
    if dist.kind != "fixed":
        return dist.describe()
    value = dist.args["value"]
    return int(value) if value.is_integer() else value


def _bounds_problem(dist: Distribution, spec: cat.Spec) -> str:
    lo, hi = dist.support()
    if spec.integer and not (dist.kind == "fixed" and float(dist.args["value"]).is_integer()):
        return f"a fixed 'value' that is {spec.expected()}"
    if not spec.admits(lo, hi):
        if dist.kind == "fixed":
            return spec.expected()
        if math.isinf(lo) or math.isinf(hi):
            return (f"a distribution that stays within the bounds ({spec.expected()}); "
                    f"'{dist.kind}' is unbounded: use truncnormal, uniform, triangular or beta")
        return f"a distribution whose values stay within the bounds ({spec.expected()})"
    return ""


def weights_from_document(doc: dict, name: str):
    """Validate a weights file's document.

    Returns
    -------
    (parameters, correlations, problems)
        ``weights.<name>`` parameters; correlations between fitted weights (a
        calibration's joint uncertainty); every problem found.
    """
    check = _Checker({"": name})
    check.keys(doc, "", {"weights", "description", "calibration", "correlations"}, ("weights",))
    params: dict[str, Parameter] = {}
    check.parameters(doc.get("weights"), "weights", cat.WEIGHT_PARAMS, params)
    correlations = _correlations(doc.get("correlations"), check, params)
    return params, correlations, check.problems


def _build(doc: dict, origin: dict[str, str], chain, wdoc: dict, wname: str) -> Scenario:
    check = _Checker(origin)
    check.keys(doc, "", SCENARIO_KEYS, REQUIRED_KEYS)
    scenario_id = check.text(doc, "id", "")
    if scenario_id and not _ID.match(scenario_id):
        check.add("id", scenario_id, "an identifier: a letter, then letters, digits, _ or -")
    title = check.text(doc, "title", "")
    check.text(doc, "description", "", required=False)
    forecast_date = _date(doc.get("forecast_date", ABSENT), "forecast_date", check)

    params: dict[str, Parameter] = {}
    check.parameters(doc.get("timeline"), "timeline", cat.TIMELINE_PARAMS, params)

    # the shipped (or given) weights, then the scenario's own overrides of some of them
    wparams, wcorrelations, wproblems = weights_from_document(wdoc, wname)
    check.problems.extend(wproblems)
    own = doc.get("weights")
    if own is not None and check.mapping(own, "weights") is not None:
        check.keys(own, "weights", cat.WEIGHT_PARAMS)
        for name, node in own.items():
            if name in cat.WEIGHT_PARAMS:
                par = check.parameter(node, f"weights.{name}", cat.WEIGHT_PARAMS[name])
                if par:
                    wparams[par.path] = par
    params.update(wparams)

    actors = _actors(doc.get("actors"), check, params)
    correlations = _correlations(doc.get("correlations"), check, params)
    # a weight the scenario sets itself leaves the weights file's correlations, and a pair
    # the scenario correlates itself takes the scenario's value
    overridden = {f"weights.{name}" for name in own} if isinstance(own, dict) else set()
    own_pairs = {frozenset((c.a, c.b)) for c in correlations}
    correlations += tuple(c for c in wcorrelations if not {c.a, c.b} & overridden
                          and frozenset((c.a, c.b)) not in own_pairs)
    if correlations and not check.problems and not jointly_possible(correlations):
        check.add("correlations", [c.rho for c in correlations if c.a.startswith("weights.")
                                   or c.b.startswith("weights.")],
                  "correlations that are jointly possible together with the weights file's "
                  f"correlations ({wname})")
    resolution = _resolution(doc.get("resolution"), check)
    if check.problems:
        raise ScenarioError(check.problems)

    name, top = chain[0]
    changes = tuple(sorted(p for p, f in origin.items()
                           if f != origin[""] and p not in ("", "id", "title", "description")))
    return Scenario(
        id=scenario_id, title=title, forecast_date=forecast_date, file=name,
        actors=actors, parameters=ReadOnly(params), correlations=correlations,
        resolution=resolution,
        base=chain[1][0] if len(chain) > 1 else None,
        changes=changes,
        rationale=top.get("rationale", "") if len(chain) > 1 else "",
        content=doc,
    )


def _date(value: object, path: str, check: _Checker) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    check.add(path, value, "a date written YYYY-MM-DD")
    return dt.date(1970, 1, 1)


def _actors(node: object, check: _Checker, params: dict[str, Parameter]) -> tuple[Actor, ...]:
    node = check.mapping(node, "actors")
    if node is None:
        return ()
    actors: list[Actor] = []
    for actor_id, body in node.items():
        path = f"actors.{actor_id}"
        if not isinstance(actor_id, str) or not _ID.match(actor_id):
            check.add(path, actor_id, "an actor id: a letter, then letters, digits, _ or -")
            continue
        body = check.mapping(body, path)
        if body is None:
            continue
        check.keys(body, path, ACTOR_KEYS, ("role", "params"))
        role = body.get("role")
        if role not in cat.ROLES:
            if "role" in body:
                check.add(f"{path}.role", role, f"one of {', '.join(cat.ROLES)}")
            continue
        name = body.get("name", actor_id)
        if not isinstance(name, str):
            check.add(f"{path}.name", name, "text")
            name = actor_id
        actors.append(Actor(actor_id, role, name))
        check.parameters(body.get("params"), f"{path}.params", cat.ROLE_PARAMS[role], params)
        if "ties" in body and role != cat.HOST:
            check.add(f"{path}.ties", body["ties"], "ties only on the host actor")

    for role in cat.SINGLE_ROLES:
        holders = [a.id for a in actors if a.role == role]
        if len(holders) != 1:
            check.add("actors", holders or "no such actor", f"exactly one actor with role '{role}'")
    hosts = [a for a in actors if a.role == cat.HOST]
    visitors = [a for a in actors if a.role == cat.VISITOR]
    if len(hosts) == 1:
        ids = {a.id for a in actors}
        path = f"actors.{hosts[0].id}.ties"
        ties = check.mapping(node[hosts[0].id].get("ties"), path)
        if ties is not None:
            for target in ties:
                if target not in ids:
                    check.add(f"{path}.{target}", target,
                              f"a tie to an actor that exists (actors: {', '.join(sorted(ids))})")
                elif visitors and target != visitors[0].id:
                    check.add(f"{path}.{target}", target,
                              f"a tie to the visitor '{visitors[0].id}' only")
            if len(visitors) == 1:
                vid = visitors[0].id
                if vid not in ties:
                    check.add(f"{path}.{vid}", ABSENT, "the host's tie to the visitor")
                else:
                    check.parameters(ties[vid], f"{path}.{vid}", cat.TIE_PARAMS, params)
    return tuple(actors)


def _correlations(node: object, check: _Checker, params: dict[str, Parameter]):
    if node is None:
        return ()
    if not isinstance(node, list):
        check.add("correlations", node, "a list of {between: [path, path], rho: ...}")
        return ()
    out: list[Correlation] = []
    for i, item in enumerate(node):
        path = f"correlations.{i}"
        item = check.mapping(item, path)
        if item is None:
            continue
        check.keys(item, path, {"between", "rho", "source", "assumption", "note"},
                   ("between", "rho"))
        if "source" not in item and "assumption" not in item:
            check.add(f"{path}.source", ABSENT, "a source or an 'assumption' with its reasoning")
        pair = item.get("between")
        rho = item.get("rho")
        ok = True
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
                and pair[0] != pair[1]):
            check.add(f"{path}.between", pair, "two different parameter key paths")
            ok = False
        else:
            for p in pair:
                if p not in params:
                    check.add(f"{path}.between", p, "the key path of a parameter in this scenario")
                    ok = False
                elif not params[p].uncertain:
                    check.add(f"{path}.between", p, "a parameter given as a distribution "
                              "(a fixed value cannot be correlated)")
                    ok = False
        if isinstance(rho, bool) or not isinstance(rho, int | float) or not -1 < rho < 1:
            check.add(f"{path}.rho", rho, "a correlation strictly between -1 and 1")
            ok = False
        if ok:
            out.append(Correlation(pair[0], pair[1], float(rho)))
    pairs = [frozenset((c.a, c.b)) for c in out]
    for i, pair in enumerate(pairs):
        if pair in pairs[:i]:
            check.add(f"correlations.{i}.between", sorted(pair), "each pair correlated once")
    if out and not check.problems and not jointly_possible(out):
        check.add("correlations", [c.rho for c in out],
                  "correlations that are jointly possible (a positive definite matrix)")
    return tuple(out)


def jointly_possible(correlations) -> bool:
    """Whether pairwise correlations form a positive definite correlation matrix."""
    names = sorted({p for c in correlations for p in (c.a, c.b)})
    matrix = np.eye(len(names))
    for c in correlations:
        i, j = names.index(c.a), names.index(c.b)
        matrix[i, j] = matrix[j, i] = c.rho
    return bool(np.linalg.eigvalsh(matrix).min() > 1e-9)


def _resolution(node: object, check: _Checker) -> Resolution | None:
    if node is None:
        return None
    node = check.mapping(node, "resolution")
    if node is None:
        return None
    check.keys(node, "resolution", {"outcome", "date", "source", "note"},
               ("outcome", "date", "source"))
    outcome = node.get("outcome")
    if outcome not in OUTCOMES:
        check.add("resolution.outcome", outcome, f"one of {', '.join(OUTCOMES)}")
    date = _date(node.get("date", ABSENT), "resolution.date", check)
    source = node.get("source")
    sources = (source,) if isinstance(source, str) else (
        tuple(source) if isinstance(source, list) else ())
    if not sources or not all(isinstance(s, str) and s for s in sources):
        check.add("resolution.source", source, "a citation (text) or a list of citations")
    return Resolution(str(outcome), str(date), sources)


__all__ = ["Scenario", "Parameter", "Actor", "Correlation", "Resolution", "load_scenario",
           "read_yaml", "KINDS"]
