"""Precedents: what earlier visits of an itinerary do to a later one, in the same world.

Three actors carry a memory from visit to visit (docs/itineraries.md, equations P1-P6):

* **the Court.**  Its credibility wears down after each unpunished defiance (a host that
  received the visitor, or let it leave, without a non-compliance finding) and recovers
  after a finding (an arrest ends the itinerary, so it recovers nothing within it).  The
  later visit's ``sanction_credibility`` and ``engagement`` of the Court are shifted on the
  logit scale by ``court_recovery * findings - court_wear * unpunished`` (P1, P2);
* **the visitor.**  Its confidence grows with each stay that ended without arrest and shrinks
  after a visit it had to cut short: ``weights.risk_tolerance`` is shifted on the logit scale
  by ``visitor_emboldened * hosted - visitor_deterred * left_early`` (P3);
* **later hosts.**  They see the precedents of the earlier hosts, weighted by how close each
  is (P4): ``proximity = proximity_visitor + proximity_region * [same region] +
  proximity_bloc * [a bloc in common]`` (the same host counts as both), times
  ``0.5 ** (years / memory_half_life_years)``.  Unpunished defiance nearby raises the host's
  ``regional_non_cooperation`` towards 1, ``1 - (1 - r) exp(-host_imitation * S)`` (P5); a
  finding nearby lowers it, ``r exp(-host_deterrence * F)`` (P6).

Every effect is a weight of :data:`PRECEDENT_PARAMS`, with its prior in
``sim/data/precedent_prior.yaml``.  With every effect at 0 a parameter is left exactly as
drawn (bit for bit: see :func:`carry_over`), so each visit gives its standalone forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from ..catalogue import Spec
from ..errors import ABSENT, Problem, ScenarioError
from ..outcomes import HOSTED, LEFT_EARLY

#: The precedent weights: bounds and meaning (the catalogue of this package).
PRECEDENT_PARAMS: dict[str, Spec] = {
    "court_wear": Spec(0.0, 5.0, "Logits the Court's sanction credibility and engagement lose "
                       "after each unpunished defiance (hosted or left early, no finding) (P1)."),
    "court_recovery": Spec(0.0, 5.0, "Logits they regain after each non-compliance finding "
                           "(P1)."),
    "visitor_emboldened": Spec(0.0, 5.0, "Logits the visitor's risk tolerance gains after "
                               "each visit it completed without arrest (P3)."),
    "visitor_deterred": Spec(0.0, 5.0, "Logits its risk tolerance loses after each visit it "
                             "cut short under arrest pressure (P3)."),
    "host_imitation": Spec(0.0, 5.0, "Rate at which proximity-weighted unpunished defiance "
                           "raises a later host's regional_non_cooperation towards 1 (P5)."),
    "host_deterrence": Spec(0.0, 5.0, "Rate at which proximity-weighted non-compliance "
                            "findings lower a later host's regional_non_cooperation (P6)."),
    "proximity_visitor": Spec(0.0, 5.0, "Proximity of any earlier host of the same visitor "
                              "(every visit of an itinerary shares it) (P4)."),
    "proximity_region": Spec(0.0, 5.0, "Added proximity when the earlier host is in the same "
                             "region (or is the same state) (P4)."),
    "proximity_bloc": Spec(0.0, 5.0, "Added proximity when the earlier host shares a bloc "
                           "with the later one (or is the same state) (P4)."),
    "memory_half_life_years": Spec(0.01, 100.0, "Years after which a precedent counts half "
                                   "(P4)."),
}

#: Parameters shifted on the Court (P1, P2) and the visitor (P3).
COURT_KEYS = ("sanction_credibility", "engagement")
VISITOR_KEY = "weights.risk_tolerance"
HOST_KEY = "regional_non_cooperation"


def prior_file() -> Path:
    """The shipped prior of the precedent weights, ``sim/data/precedent_prior.yaml``."""
    return Path(str(resources.files("sim") / "data" / "precedent_prior.yaml"))


@dataclass(frozen=True)
class PrecedentWeights:
    """Values of the precedent weights (:data:`PRECEDENT_PARAMS`), and where they came from."""

    values: Mapping[str, float]
    file: str = ""

    def __getitem__(self, name: str) -> float:
        return float(self.values[name])

    @classmethod
    def zero(cls) -> PrecedentWeights:
        """Every effect off (the half-life stays finite): each visit stands alone."""
        return cls({name: (1.0 if name == "memory_half_life_years" else 0.0)
                    for name in PRECEDENT_PARAMS}, "zero")

    def with_values(self, **changes: float) -> PrecedentWeights:
        """These weights with some changed (checked against their bounds)."""
        values = {**self.values, **changes}
        problems = _problems(values, "with_values", lambda name: name)
        if problems:
            raise ScenarioError(problems)
        return PrecedentWeights(values, f"{self.file} (changed: {', '.join(sorted(changes))})")


def _problems(values: Mapping, name: str, where) -> list[Problem]:
    known = ", ".join(PRECEDENT_PARAMS)
    found = [Problem(name, where(key), values[key], f"a precedent weight: one of {known}")
             for key in values if key not in PRECEDENT_PARAMS]
    for key, spec in PRECEDENT_PARAMS.items():
        value = values.get(key, ABSENT)
        ok = (not isinstance(value, bool) and isinstance(value, int | float)
              and math.isfinite(value) and spec.admits(value, value))
        if not ok:
            found.append(Problem(name, where(key), value, f"{spec.expected()}: {spec.meaning}"))
    return found


def load_precedent_weights(path: str | Path | None = None) -> PrecedentWeights:
    """Read a precedent weights file (default: the shipped prior).

    Each of :data:`PRECEDENT_PARAMS` is given as ``NAME: {value: X, source: ... |
    assumption: ...}``, and nothing else.

    Raises
    ------
    ScenarioError
        One problem per missing, unknown, out-of-bounds or unsourced weight.
    """
    from ..scenario import read_yaml

    path = Path(path) if path is not None else prior_file()
    doc, problems = read_yaml(path)
    if problems:
        raise ScenarioError(problems)
    assert doc is not None
    node = doc.get("precedent_weights", ABSENT)
    if not isinstance(node, dict):
        raise ScenarioError([Problem(str(path), "precedent_weights", node,
                                     "a mapping of each precedent weight to its value")])
    found: list[Problem] = []
    values: dict[str, object] = {}
    for key, spec in node.items():
        if not isinstance(spec, dict) or "value" not in spec:
            found.append(Problem(str(path), f"precedent_weights.{key}", spec,
                                 "a mapping with value and a source or an assumption"))
            continue
        if not any(isinstance(spec.get(k), str) and spec[k].strip()
                   for k in ("source", "assumption")):
            found.append(Problem(str(path), f"precedent_weights.{key}", ABSENT,
                                 "a source or an assumption for the value"))
        values[key] = spec["value"]
    found += [p for p in _problems(values, str(path), lambda k: f"precedent_weights.{k}.value")
              if p.path.split(".")[1] not in {q.path.split(".")[1] for q in found}]
    if found:
        raise ScenarioError(found)
    return PrecedentWeights({k: float(v) for k, v in values.items()}, str(path))  # type: ignore[arg-type]


@dataclass
class History:
    """What happened at the earlier visits of one chunk of worlds, per world.

    ``outcome[j]`` holds visit ``j``'s outcome codes (``NOT_REACHED`` where the itinerary
    had ended) and ``finding[j]`` its non-compliance findings.
    """

    outcome: list[np.ndarray]
    finding: list[np.ndarray]


def _unpunished(outcome: np.ndarray, finding: np.ndarray) -> np.ndarray:
    return ((outcome == HOSTED) | (outcome == LEFT_EARLY)) & ~finding


def carry_over(values: Mapping[str, np.ndarray | float], visit: int, itinerary,
               history: History, weights: PrecedentWeights) -> dict:
    """Visit ``visit``'s parameter values, shifted by the precedents of the earlier visits.

    ``values`` are those a standalone run draws (:func:`sim.sampling.draw_parameters`);
    only the Court's ``sanction_credibility`` and ``engagement``, the visitor's
    ``weights.risk_tolerance`` and the host's ``regional_non_cooperation`` change (P1-P6),
    and each only in the worlds where its shift is not 0: elsewhere the drawn value is kept
    bit for bit, so with every effect at 0 the values are the standalone ones.
    """
    out = dict(values)
    if visit == 0:
        return out
    this = itinerary.visits[visit]
    scenario = this.scenario
    n = len(history.outcome[0])
    court_shift = np.zeros(n)
    visitor_shift = np.zeros(n)
    imitation = np.zeros(n)
    deterrence = np.zeros(n)
    half_life = weights["memory_half_life_years"]
    for j in range(visit):
        before = itinerary.visits[j]
        outcome, finding = history.outcome[j], history.finding[j]
        unpunished = _unpunished(outcome, finding)
        years = (this.arrival - before.arrival).days / 365.25
        memory = 0.5 ** (years / half_life)
        court_shift += memory * (weights["court_recovery"] * finding
                                 - weights["court_wear"] * unpunished)
        visitor_shift += memory * (weights["visitor_emboldened"] * (outcome == HOSTED)
                                   - weights["visitor_deterred"] * (outcome == LEFT_EARLY))
        near = memory * proximity(before, this, weights)
        imitation += near * weights["host_imitation"] * unpunished
        deterrence += near * weights["host_deterrence"] * finding
    court = f"actors.{scenario.court.id}.params."
    for key in COURT_KEYS:
        out[court + key] = _shifted(values[court + key], court_shift)
    out[VISITOR_KEY] = _shifted(values[VISITOR_KEY], visitor_shift)
    host = f"actors.{scenario.host.id}.params.{HOST_KEY}"
    if imitation.any() or deterrence.any():
        r = np.broadcast_to(np.asarray(values[host], dtype=float), (n,))
        moved = 1.0 - (1.0 - r) * np.exp(-imitation)
        moved = moved * np.exp(-deterrence)
        out[host] = np.where((imitation == 0) & (deterrence == 0), r, moved)
    return out



def _shifted(value, logits: np.ndarray) -> np.ndarray:
    """``value`` moved by ``logits`` on the logit scale, where ``logits`` is not 0 (P1-P3);
    exactly ``value`` elsewhere."""
    if not logits.any():
        return value  # the drawn value itself: nothing moved it
    base = np.broadcast_to(np.asarray(value, dtype=float), logits.shape)
    with np.errstate(divide="ignore"):
        moved = expit(logit(base) + logits)
    return np.where(logits == 0, base, moved)


def proximity(before, later, weights: PrecedentWeights) -> float:
    """How close the host of visit ``before`` is to that of ``later`` (P4): the same visitor
    always, the same region, a bloc in common (the same state: both)."""
    same_host = before.scenario.host.id == later.scenario.host.id
    region = same_host or (before.region is not None and before.region == later.region)
    bloc = same_host or bool(set(before.blocs) & set(later.blocs))
    return (weights["proximity_visitor"] + weights["proximity_region"] * region
            + weights["proximity_bloc"] * bloc)
