"""A resolved scenario document, checked against the catalogue, to a :class:`Scenario`.

Validation collects every problem in one pass (see :class:`~sim.scenario.checker.Checker`)
and raises them together.  This module knows the shape of a scenario: its top-level keys,
the actors and their roles, the host's tie to the visitor, correlations, the resolution of
a historical case, and the weights (a weights file's and the scenario's own overrides).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import catalogue as cat
from ..errors import ABSENT, Problem, ScenarioError
from ..outcomes import OUTCOMES
from .checker import MAX_TEXT, MAX_TITLE, Checker, parse_date, todo_markers
from .inheritance import file_for, merge_chain, resolve_chain
from .timeline import check_timeline
from .types import (
    ActorSpec,
    Correlation,
    Parameter,
    Posterior,
    ReadOnly,
    Resolution,
    Scenario,
    finite_number,
)

#: An id, matched in full (``fullmatch``: ``$`` alone would let a trailing newline through).
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,63}")

SCENARIO_KEYS = {"id", "title", "description", "forecast_date", "timeline", "actors",
                 "correlations", "resolution", "weights"}
REQUIRED_KEYS = ("id", "title", "forecast_date", "timeline", "actors")
ACTOR_KEYS = {"role", "name", "params", "ties", "notes"}



def weights_from_document(doc: dict, name: str):
    """Validate a weights file's document.

    Parameters
    ----------
    doc : dict
        The file's top-level mapping (see :func:`sim.scenario.read_yaml`).
    name : str
        The file name problems give.

    Returns
    -------
    (parameters, correlations, problems)
        ``weights.<name>`` parameters; correlations between fitted weights (a
        calibration's joint uncertainty); every problem found.

    Notes
    -----
    A weights file gives every weight of :data:`sim.catalogue.WEIGHT_PARAMS`; a
    weight that model v2 retired (:data:`sim.catalogue.RETIRED_WEIGHTS`) is refused
    with the reason it went.
    """
    check = Checker({"": name})
    check.keys(doc, "", {"weights", "description", "calibration", "correlations", "posterior"},
               ("weights",))
    params: dict[str, Parameter] = {}
    node = check.mapping(doc.get("weights"), "weights")
    if node is not None:
        check.weight_keys(node, "weights", required=cat.WEIGHT_PARAMS)
        for name, spec in cat.WEIGHT_PARAMS.items():
            if name in node:
                par = check.parameter(node[name], f"weights.{name}", spec)
                if par:
                    params[par.path] = par
    correlations = _correlations(doc.get("correlations"), check, params)
    return params, correlations, check.problems


#: Most posterior draws a weights file may hold (a calibration keeps 200).
MAX_POSTERIOR_DRAWS = 10_000


def posterior_from_document(doc: dict, name: str) -> tuple[Posterior | None, list[Problem]]:
    """The ``posterior`` block of a weights file: joint draws of fitted weights.

    ``posterior.weights`` lists distinct global weights; ``posterior.samples`` is a list
    of rows (at least 2, at most :data:`MAX_POSTERIOR_DRAWS`), each a value of every
    listed weight within its catalogue bounds.  Other keys (how the draws were made) are
    kept as documentation.
    """
    node = doc.get("posterior")
    if node is None:
        return None, []
    check = Checker({"": name})
    node = check.mapping(node, "posterior")
    if node is None:
        return None, check.problems
    names = node.get("weights")
    if (not isinstance(names, list) or not names
            or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names)
            or any(n not in cat.WEIGHT_PARAMS for n in names)):
        check.add("posterior.weights", names, "a list of distinct global weights")
        return None, check.problems
    rows = node.get("samples")
    if not isinstance(rows, list) or not 2 <= len(rows) <= MAX_POSTERIOR_DRAWS:
        check.add("posterior.samples", type(rows).__name__ if not isinstance(rows, list)
                  else f"{len(rows)} rows", f"a list of 2 to {MAX_POSTERIOR_DRAWS} rows")
        return None, check.problems
    for i, row in enumerate(rows):
        if (not isinstance(row, list) or len(row) != len(names)
                or any(finite_number(v) is None for v in row)):
            check.add(f"posterior.samples[{i}]", row,
                      f"a list of {len(names)} finite numbers (one per posterior.weights)")
            return None, check.problems
    samples = np.array(rows, dtype=float)
    for j, n in enumerate(names):
        spec = cat.WEIGHT_PARAMS[n]
        bad = (samples[:, j] < spec.low) | (samples[:, j] > spec.high)
        if bad.any():
            i = int(np.argmax(bad))
            check.add(f"posterior.samples[{i}]", rows[i][j],
                      f"{n} within [{spec.low}, {spec.high}]")
    if check.problems:
        return None, check.problems
    samples.setflags(write=False)
    return Posterior(tuple(names), samples), []


def build(doc: dict, origin: dict[str, str], chain, wdoc: dict, wname: str) -> Scenario:
    """Validate a resolved scenario document and the weights document together.

    Parameters
    ----------
    doc : dict
        The scenario with every base's overrides applied
        (:func:`sim.scenario.inheritance.merge_chain`).
    origin : dict
        The file that set each overridden key path (``""``: the base file).
    chain : list of (str, dict)
        The files read, most derived first.
    wdoc : dict
        The weights file's document; ``wname`` its name.

    Raises
    ------
    ScenarioError
        With every problem found.
    """
    check = Checker(origin)
    todo = todo_markers(doc)
    check.keys(doc, "", SCENARIO_KEYS, REQUIRED_KEYS)
    scenario_id = check.text(doc, "id", "")
    if scenario_id and not _ID.fullmatch(scenario_id):
        check.add("id", scenario_id, "an identifier: a letter, then letters, digits, _ or - "
                  "(at most 64 characters, nothing after them)")
    title = check.text(doc, "title", "", limit=MAX_TITLE)
    check.text(doc, "description", "", required=False)
    before = len(check.problems)
    forecast_date = parse_date(doc.get("forecast_date", ABSENT), "forecast_date", check)
    forecast_ok = len(check.problems) == before

    params: dict[str, Parameter] = {}
    moves: dict[str, set[str]] = {}
    dates = check_timeline(doc.get("timeline"), forecast_date if forecast_ok else None, check,
                           params, moves)

    # the shipped (or given) weights, then the scenario's own overrides of some of them
    wparams, wcorrelations, wproblems = weights_from_document(wdoc, wname)
    check.problems.extend(wproblems)
    posterior, pproblems = posterior_from_document(wdoc, wname)
    check.problems.extend(pproblems)
    own = doc.get("weights")
    if own is not None and check.mapping(own, "weights") is not None:
        check.weight_keys(own, "weights")
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
    if posterior is not None:  # a weight the scenario sets itself is not drawn from it
        posterior = posterior.without({p.removeprefix("weights.") for p in overridden})
    own_pairs = {frozenset((c.a, c.b)) for c in correlations}
    correlations += tuple(c for c in wcorrelations if not {c.a, c.b} & overridden
                          and frozenset((c.a, c.b)) not in own_pairs)
    if correlations and not check.problems and not jointly_possible(correlations):
        check.add("correlations", [c.rho for c in correlations if c.a.startswith("weights.")
                                   or c.b.startswith("weights.")],
                  "correlations that are jointly possible together with the weights file's "
                  f"correlations ({wname})")
    resolution = _resolution(doc.get("resolution"), check)
    if todo:
        _refuse_todo(check, todo)
    if check.problems:
        raise ScenarioError(check.problems)

    name, top = chain[0]
    changes = _changes(origin, moves)
    return Scenario(
        id=scenario_id, title=title, forecast_date=forecast_date, file=name,
        actors=actors, parameters=ReadOnly(params), correlations=correlations,
        resolution=resolution,
        base=chain[1][0] if len(chain) > 1 else None,
        changes=changes,
        rationale=top.get("rationale", "") if len(chain) > 1 else "",
        timeline_dates=ReadOnly(dates),
        content=doc,
        posterior=posterior,
        weights_info=ReadOnly(_weights_info(wdoc, wname, posterior)),
    )


def _weights_info(wdoc: dict, wname: str, posterior: Posterior | None) -> dict:
    """Which weights file a scenario was read with, and which cases it was fitted on."""
    calibration = wdoc.get("calibration")
    calibration = calibration if isinstance(calibration, dict) else {}
    cases = calibration.get("cases")
    return {"file": str(wname),
            "cases": [str(c) for c in cases] if isinstance(cases, list) else None,
            "resolved_before": calibration.get("resolved_before"),
            "posterior_draws": len(posterior.samples) if posterior is not None else None}


def _refuse_todo(check: Checker, todo: list[tuple[str, str]]) -> None:
    """Report each TODO marker at its key path, first, in place of what follows from it.

    A marker left in a value also makes that value wrong (not a number, not a date);
    those consequences are dropped, so that the writer sees one line per slot to fill.
    """
    marked = {path for path, _ in todo}
    slots = {path.rsplit(".", 1)[0] for path in marked if "." in path}
    others = [p for p in check.problems
              if p.path not in marked and p.path not in slots
              and not any(p.path.startswith(f"{m}.") for m in marked)]
    check.problems = []
    for path, expected in todo:
        check.add(path, "TODO", expected)
    check.problems += others


def _changes(origin: dict[str, str], moves: dict[str, set[str]]) -> tuple[str, ...]:
    """The key paths a counterfactual overrides, as parameter paths where it can.

    ``moves`` maps a timeline key to the day counts computed from it: an overridden
    date stands for the counts it moves (it is not a parameter itself), and a moved
    arrival moves a commitment that defaults to it.
    """
    paths = {p for p, f in origin.items()
             if f != origin[""] and p not in ("", "id", "title", "description")}
    todo = list(paths)
    while todo:
        for moved in moves.get(todo.pop(), ()):
            if moved not in paths:
                paths.add(moved)
                todo.append(moved)
    return tuple(sorted(p for p in paths
                        if p.removeprefix("timeline.") not in cat.TIMELINE_DATES))


def _actors(node: object, check: Checker,
            params: dict[str, Parameter]) -> tuple[ActorSpec, ...]:
    node = check.mapping(node, "actors")
    if node is None:
        return ()
    actors: list[ActorSpec] = []
    for actor_id, body in node.items():
        path = f"actors.{actor_id}"
        if not isinstance(actor_id, str) or not _ID.fullmatch(actor_id):
            check.add(path, actor_id, "an actor id: a letter, then letters, digits, _ or - "
                      "(at most 64 characters, nothing after them)")
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
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TITLE:
            check.add(f"{path}.name", name, f"non-empty text of at most {MAX_TITLE} characters")
            name = actor_id
        notes = body.get("notes")
        if notes is not None and not (isinstance(notes, str) and len(notes) <= MAX_TEXT):
            check.add(f"{path}.notes", notes, f"text of at most {MAX_TEXT:,} characters")
        actors.append(ActorSpec(actor_id, role, name))
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


def _correlations(node: object, check: Checker, params: dict[str, Parameter]):
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
        check.provenance(item, path, "correlation")
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
                    retired = cat.RETIRED_WEIGHTS.get(p.removeprefix("weights."))
                    check.add(f"{path}.between", p, "the key path of a parameter in this scenario"
                              + (f" ({p} is retired: {retired})"
                                 if p.startswith("weights.") and retired else ""))
                    ok = False
                elif not params[p].uncertain:
                    check.add(f"{path}.between", p, "a parameter given as a distribution "
                              "(a fixed value cannot be correlated)")
                    ok = False
        if isinstance(rho, bool) or not isinstance(rho, int | float) or not -1 < rho < 1:
            check.add(f"{path}.rho", rho, "a correlation strictly between -1 and 1")
            ok = False
        if ok:
            assert isinstance(pair, list) and isinstance(rho, int | float)  # checked above
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


def _resolution(node: object, check: Checker) -> Resolution | None:
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
    date = parse_date(node.get("date", ABSENT), "resolution.date", check)
    source = node.get("source")
    sources = (source,) if isinstance(source, str) else (
        tuple(source) if isinstance(source, list) else ())
    if not sources or not all(isinstance(s, str) and s.strip() and len(s) <= MAX_TEXT
                              for s in sources):
        check.add("resolution.source", source, "a citation (text) or a list of citations "
                  f"(not empty, at most {MAX_TEXT:,} characters each)")
    check.text(node, "note", "resolution", required=False)
    return Resolution(str(outcome), str(date), sources)


# --------------------------------------------------------------------------- warnings

@dataclass(frozen=True)
class ScenarioWarning:
    """Something a valid scenario should improve; printed, never a reason to refuse it."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


#: A source that is nothing but a web address.
_BARE_URL = re.compile(r"<?(?:https?://|www\.)\S+?>?")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
#: A date in a web address: a year and a month (``/2010/07/``, ``/2024/0830/``, ``2010-07``,
#: ``20100726``, ``/2010/jul/``), the year never inside a longer number.
_URL_DATE = re.compile(rf"(?<!\d)(?:19|20)\d{{2}}(?:(?:0[1-9]|1[0-2])"
                       rf"|[/_\-](?:0?[1-9]|1[0-2])(?:[0-3]\d)?(?!\d)|/(?:{_MONTHS}))",
                       re.IGNORECASE)


def source_warnings(doc: dict, origin: dict[str, str]) -> list[ScenarioWarning]:
    """Warnings about a resolved scenario document (see :func:`file_warnings`).

    A source that is only a web address, with no date in it, is warned about: a
    reviewer cannot tell what it says or whether it was known at the forecast date
    (pages change and disappear).  The document is assumed valid.
    """
    out: list[ScenarioWarning] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                here = f"{path}.{key}" if path else str(key)
                if key == "source":
                    cites = [child] if isinstance(child, str) else (
                        child if isinstance(child, list) else [])
                    for i, cite in enumerate(cites):
                        where = here if isinstance(child, str) else f"{here}.{i}"
                        if (isinstance(cite, str) and _BARE_URL.fullmatch(cite.strip())
                                and not _URL_DATE.search(cite)):
                            out.append(ScenarioWarning(
                                file_for(where, origin), where,
                                f"the source is a bare URL without a date ({cite.strip()}); "
                                "say what it is and when it was published, e.g. 'Reuters, "
                                "30 Aug 2024: ... (URL)'"))
                else:
                    walk(child, here)
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{path}.{i}")

    walk(doc, "")
    return out


def file_warnings(path: str | Path) -> list[ScenarioWarning]:
    """Warnings about a scenario file that :func:`sim.load_scenario` accepts.

    Warnings never make a file invalid: ``validate`` (and ``run``) print them as
    ``warning: FILE: KEY PATH: ...`` lines.  Each names the file that set the key (a
    counterfactual or its base).  A forecast date after the visit's arrival is not a
    warning but an error (the clock starts at the forecast date; see
    :func:`sim.scenario.timeline.check_timeline`).
    """
    chain, problems = resolve_chain(Path(path))
    if problems:
        return []
    doc, origin = merge_chain(chain)
    return source_warnings(doc, origin)
