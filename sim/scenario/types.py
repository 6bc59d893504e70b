"""The immutable objects a scenario file becomes: :class:`Scenario` and its parts.

Nothing here reads a file; :mod:`sim.scenario.validate` builds these objects and
:meth:`Scenario.with_values` derives new ones, checked against the same bounds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from .. import catalogue as cat
from ..distributions import Distribution
from ..errors import ABSENT, Problem, ScenarioError


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
    """One numeric input: its distribution and where its value comes from.

    Attributes
    ----------
    path : str
        Dotted key path, e.g. ``actors.mongolia.params.implementing_law``.
    dist : Distribution
        Its value (``fixed``) or the law it is drawn from in each replication.
    spec : catalogue.Spec
        Its bounds and meaning.
    source : tuple of str
        Citations for the value.
    assumption : str
        The reasoning where the value is assumed rather than sourced.
    defaulted : bool
        True when the file left the parameter out and the loader filled it in
        (a catalogue default, or the commitment day defaulting to the arrival day).
    """

    path: str
    dist: Distribution
    spec: cat.Spec
    source: tuple[str, ...] = ()
    assumption: str = ""
    defaulted: bool = False

    @property
    def uncertain(self) -> bool:
        return not self.dist.is_fixed


@dataclass(frozen=True)
class ActorSpec:
    """An actor as the scenario declares it (the simulated agent is ``sim.agents.Actor``)."""

    id: str
    role: str
    name: str


@dataclass(frozen=True)
class Correlation:
    """A rank correlation between two uncertain parameters (Gaussian copula)."""

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
class Posterior:
    """Joint draws of some weights from their posterior (a calibration's weights file).

    A forecast gives world ``i`` the weights of draw ``i mod len(samples)``, so the
    weights' joint uncertainty is carried exactly and each draw's worlds can be told
    apart (the credible intervals of :mod:`sim.analysis.posterior`).
    """

    weights: tuple[str, ...]  # names of global weights, the columns of samples
    samples: np.ndarray = field(compare=False)  # (draws, len(weights)), natural units

    def without(self, names: set[str]) -> Posterior | None:
        """The draws of the other weights (``None`` when none is left)."""
        keep = [i for i, n in enumerate(self.weights) if n not in names]
        if not keep:
            return None
        if len(keep) == len(self.weights):
            return self
        return Posterior(tuple(self.weights[i] for i in keep), self.samples[:, keep])

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(self.weights).encode()
                              + np.ascontiguousarray(self.samples, dtype="<f8").tobytes()
                              ).hexdigest()


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable scenario.

    ``parameters`` maps dotted key paths (``actors.mongolia.params.implementing_law``,
    ``weights.legal``, ...) to :class:`Parameter` objects.

    The clock starts at ``forecast_date`` (day 0).  The timeline is held twice:
    as the fixed whole-number parameters ``timeline.days_before_visit``,
    ``timeline.visit_days`` and ``timeline.days_before_commitment``, which the
    model reads and :meth:`with_values` can change, and as ``timeline_dates``
    (``arrival``, ``departure``, ``commitment``), for display: the dates the file
    gave, or those its counts imply.  A commitment date before the forecast date
    (the visitor had already committed) is kept as given; its count is 0.
    """

    id: str
    title: str
    forecast_date: dt.date
    file: str
    actors: tuple[ActorSpec, ...]
    parameters: Mapping[str, Parameter]
    correlations: tuple[Correlation, ...] = ()
    resolution: Resolution | None = None
    base: str | None = None
    changes: tuple[str, ...] = ()  # key paths a counterfactual overrides
    rationale: str = ""
    timeline_dates: Mapping[str, dt.date] = field(default_factory=lambda: ReadOnly({}))
    content: Mapping = field(default_factory=dict, repr=False, compare=False)
    #: the weights file's posterior draws of the weights it fitted, if it has them
    posterior: Posterior | None = None
    #: the weights file it was read with: ``file``, the ``cases`` its calibration saw
    #: (``None`` for the prior), ``resolved_before`` (an as-of fit), ``posterior_draws``
    weights_info: Mapping = field(default_factory=lambda: ReadOnly({}), compare=False)

    # -- actors
    def with_role(self, role: str) -> tuple[ActorSpec, ...]:
        return tuple(a for a in self.actors if a.role == role)

    @property
    def host(self) -> ActorSpec:
        return self.with_role(cat.HOST)[0]

    @property
    def visitor(self) -> ActorSpec:
        return self.with_role(cat.VISITOR)[0]

    @property
    def court(self) -> ActorSpec:
        return self.with_role(cat.COURT)[0]

    # -- parameters
    @property
    def days_before_visit(self) -> int:
        """Days from the forecast date (day 0) to the visitor's arrival."""
        return int(self.parameters["timeline.days_before_visit"].dist.args["value"])

    @property
    def visit_days(self) -> int:
        """Days of the visit, arrival and departure days included."""
        return int(self.parameters["timeline.visit_days"].dist.args["value"])

    @property
    def days_before_commitment(self) -> int:
        """Days from the forecast date to the last day the visitor can call the trip off.

        At most :attr:`days_before_visit`; by default equal to it (the arrival day).
        """
        par = self.parameters.get(COMMITMENT)
        return self.days_before_visit if par is None else int(par.dist.args["value"])

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

        Parameters
        ----------
        values : mapping of str to float or Distribution
            New values (or distributions) by key path, see :attr:`parameters`.
        note : str, optional
            The assumption recorded on the new parameters (default "set interactively").

        Returns
        -------
        Scenario
            The copy: the changed key paths added to ``changes``, a new content hash,
            and correlations involving a parameter made fixed dropped.

        Raises
        ------
        ScenarioError
            If a key path is unknown, a value is not a finite number (NaN, infinity,
            text) or is out of its catalogue bounds (weights included), or the commitment
            set here falls after the arrival.  A :class:`Distribution` given here was
            checked when it was made (``Distribution("beta", {"alpha": -1, ...})`` raises).

        Notes
        -----
        The commitment day never comes after the arrival.  A commitment the file left
        out defaults to the arrival day and keeps following ``days_before_visit`` when
        that changes here.  A commitment the file (or an earlier ``with_values``) set is
        kept, unless ``days_before_visit`` is moved before it: it is then clamped to the
        arrival day.  Setting ``days_before_commitment`` itself after the arrival is an
        error.  ``timeline_dates`` follow the new counts.
        """
        params = dict(self.parameters)
        found: list[Problem] = []
        for path, new in values.items():
            if path not in params:
                found.append(Problem(self.file, path, ABSENT, "a numeric parameter of this "
                                     "scenario (see Scenario.parameters)"))
                continue
            old = params[path]
            if isinstance(new, Distribution):  # checked when it was made
                dist = new
            else:
                value = finite_number(new)
                if value is None:
                    found.append(Problem(self.file, path, new, "a finite number (or a "
                                         "Distribution)"))
                    continue
                dist = Distribution.fixed(value)
            problem = bounds_problem(dist, old.spec)
            if problem:
                found.append(Problem(self.file, path, shown(dist), problem))
                continue
            params[path] = replace(old, dist=dist, source=(),
                                   assumption=note or "set interactively", defaulted=False)
        if not found:
            found = _commitment_follows(params, values, self.file)
        if found:
            raise ScenarioError(found)
        changed = {p for p in params if params[p] != self.parameters.get(p)} | set(values)
        changes = tuple(sorted(set(self.changes) | changed))
        content = dict(self.content)
        content["changes"] = {p: params[p].dist.describe() for p in sorted(changed)}
        # a parameter made fixed can no longer be correlated with anything
        correlations = tuple(c for c in self.correlations
                             if params[c.a].uncertain and params[c.b].uncertain)
        dates = _dates_following(self, params)
        # a weight set here is no longer drawn from the posterior
        posterior = self.posterior and self.posterior.without(
            {p.removeprefix("weights.") for p in values if p.startswith("weights.")})
        return replace(self, parameters=ReadOnly(params), changes=changes,
                       content=content, correlations=correlations, timeline_dates=dates,
                       posterior=posterior)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the fully resolved scenario (base, overrides and weights applied)."""
        canon = {p: [par.dist.kind, dict(par.dist.args)]
                 for p, par in sorted(self.parameters.items())}
        resolved = {"id": self.id, "date": str(self.forecast_date),
                    "timeline": {k: str(v) for k, v in sorted(self.timeline_dates.items())},
                    "actors": [a.__dict__ for a in self.actors], "params": canon,
                    "corr": [c.__dict__ for c in self.correlations]}
        if self.posterior is not None:  # (absent otherwise: earlier hashes stay valid)
            resolved["posterior"] = self.posterior.digest
        blob = json.dumps(resolved, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


# --------------------------------------------------------------------------- timeline

ARRIVAL = "timeline.days_before_visit"
LENGTH = "timeline.visit_days"
COMMITMENT = "timeline.days_before_commitment"


def count(par: Parameter) -> int:
    """The whole number a fixed timeline parameter holds."""
    return int(par.dist.args["value"])


def timeline_dates(forecast_date: dt.date, days_before_visit: int, visit_days: int,
                   days_before_commitment: int) -> dict[str, dt.date]:
    """The arrival, departure and commitment dates that the day counts imply."""
    arrival = forecast_date + dt.timedelta(days=days_before_visit)
    return {"arrival": arrival, "departure": arrival + dt.timedelta(days=visit_days - 1),
            "commitment": forecast_date + dt.timedelta(days=days_before_commitment)}


def _commitment_follows(params: dict[str, Parameter], values: Mapping,
                        file: str) -> list[Problem]:
    """Keep the commitment on or before the arrival after ``with_values`` (see its Notes)."""
    if COMMITMENT not in params or ARRIVAL not in params:
        return []
    arrival, commitment = count(params[ARRIVAL]), count(params[COMMITMENT])
    par = params[COMMITMENT]
    if COMMITMENT in values:
        if commitment > arrival:
            return [Problem(file, COMMITMENT, commitment,
                            f"a whole number at most {ARRIVAL} ({arrival}): the visitor "
                            "commits at the latest on the day it arrives")]
    elif par.defaulted:
        if commitment != arrival:
            params[COMMITMENT] = replace(par, dist=Distribution.fixed(float(arrival)))
    elif commitment > arrival:
        params[COMMITMENT] = replace(
            par, dist=Distribution.fixed(float(arrival)), source=(),
            assumption=f"clamped to {ARRIVAL} ({arrival}) when that was set before the "
                       "commitment: the visitor commits at the latest on the day it arrives")
    return []


def _dates_following(scenario: Scenario, params: dict[str, Parameter]) -> ReadOnly:
    """``scenario.timeline_dates`` moved to match changed counts in ``params``."""
    dates = dict(scenario.timeline_dates)
    if not dates or not all(p in params for p in (ARRIVAL, LENGTH, COMMITMENT)):
        return ReadOnly(dates)
    new = timeline_dates(scenario.forecast_date, count(params[ARRIVAL]), count(params[LENGTH]),
                         count(params[COMMITMENT]))
    moved = {p for p in (ARRIVAL, LENGTH, COMMITMENT)
             if count(params[p]) != count(scenario.parameters[p])}
    if ARRIVAL in moved:
        dates["arrival"] = new["arrival"]
    if moved & {ARRIVAL, LENGTH}:
        dates["departure"] = new["departure"]
    if COMMITMENT in moved:
        dates["commitment"] = new["commitment"]
    return ReadOnly(dates)


# --------------------------------------------------------------------------- bounds

def number(value: object) -> float:
    """``value`` as a finite float, or a :class:`ScenarioError` if it is not one."""
    out = finite_number(value)
    if out is None:
        raise ScenarioError([Problem("<value>", "", value, "a finite number")])
    return out


def finite_number(value: object) -> float | None:
    """``value`` as a float if it is a finite number (not a bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return None
    try:
        out = float(value)
    except (OverflowError, TypeError, ValueError):  # e.g. 10**400, a complex number
        return None
    return out if math.isfinite(out) else None


def shown(dist: Distribution) -> object:
    """How a value appears in an error: the number itself when fixed."""
    if dist.kind != "fixed":
        return dist.describe()
    value = dist.args["value"]
    return int(value) if value.is_integer() else value


#: Kinds whose support ends are approached but never taken (expit of a finite number):
#: their upper end may equal a bound the catalogue excludes (``open_high``).
_OPEN_SUPPORT = ("logitnormal",)


def bounds_problem(dist: Distribution, spec: cat.Spec) -> str:
    """What was expected if ``dist`` does not fit ``spec``, else ``""``."""
    lo, hi = dist.support()
    if dist.kind in _OPEN_SUPPORT and spec.open_high and hi == spec.high:
        hi = math.nextafter(hi, -math.inf)
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
