"""The Mesa model of a warrant visit: one model, R worlds stepped together."""

from __future__ import annotations

import mesa
import numpy as np

from . import catalogue as cat
from .agents import (
    DRIVER_KEYS,
    DRIVES,
    ROLE_CLASSES,
    Actor,
    Court,
    DomesticLegalActor,
    EconomicPartner,
    HostGovernment,
    LobbyingState,
    VisitingState,
    WesternActor,
)
from .errors import NonFiniteError
from .expected import ExpectedOutcomes
from .outcomes import HOSTED, LEFT_EARLY, PENDING
from .sampling import draw_parameters
from .scenario import Scenario
from .streams import Noise, Streams

#: Order in which actors are created: each one's random draws come in this order.
_CREATION_ORDER = (cat.COURT, cat.WESTERN, cat.PARTNER, cat.LOBBY, cat.DOMESTIC, cat.VISITOR,
                   cat.HOST)


class WarrantVisitModel(mesa.Model):
    """A warrant visit from the forecast date to the visitor's planned departure.

    One step is one day; day 0 is the forecast date, whose state is the scenario's
    input.  Until its commitment day the visitor may call the trip off; from the
    arrival day it is present: the host decides, then the visitor may leave, until
    the scheduled departure day, when staying is not leaving early.  From day 1
    on, domestic litigation and the actors' campaigns move before anyone decides.
    Every state variable holds one value per world.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    streams : Streams or Noise
        Random streams, one per block of worlds; all randomness comes from here.
    values : dict, optional
        Parameter values per world (as from :func:`sim.sampling.draw_parameters`).
        Drawn from ``streams`` when omitted (which then must be :class:`Streams`).
    collect : bool, default True
        Record the daily means with Mesa's DataCollector.  Calibration, which reads
        only the outcomes, turns it off: it costs about 40% of a short run.
    expected : bool, default False
        Accumulate each world's outcome probabilities integrated over the host's resolve
        and the visitor's misreading (:mod:`sim.expected`), in ``probabilities`` once
        finished, instead of drawing the outcomes (``outcome`` is then not simulated);
        for calibration's likelihood.
    """

    def __init__(self, scenario: Scenario, streams: Noise, values: dict | None = None,
                 collect: bool = True, expected: bool = False):
        if expected and collect:  # the daily records read the drawn outcomes
            raise ValueError("a model integrating the outcomes (expected=True) does not "
                             "draw them: it cannot also collect daily records")
        # Mesa's own generators are never used for the model's randomness (which all
        # goes through ``streams``); a fixed seed keeps them out of any global state.
        super().__init__(rng=np.random.default_rng(0))
        # not ``self.scenario``: Mesa 3.5's Model owns that name for its own scenarios
        self.warrant_scenario = scenario
        host, visitor = scenario.host.id, scenario.visitor.id
        self._tie_prefix = f"actors.{host}.ties.{visitor}."
        self.streams = streams
        if values is None:
            assert isinstance(streams, Streams), "parameters are drawn from Streams only"
            values = draw_parameters(scenario, streams)
        self.values = values
        self.weights = {name: self.values[f"weights.{name}"] for name in cat.WEIGHT_PARAMS}
        self.arrival_day = scenario.days_before_visit
        self.commitment_day = min(scenario.days_before_commitment, self.arrival_day)
        self.departure_day = self.arrival_day + scenario.visit_days - 1
        self.horizon = self.departure_day + 1
        self.day = 0
        self.outcome = np.full(streams.n, PENDING, dtype=np.int8)
        self.noncompliance = np.zeros(streams.n, dtype=bool)
        self.stance_path = np.empty((self.horizon + 1, streams.n), dtype=np.float32)

        # lists of the roles that take any number of actors; single roles become attributes
        self.western: list[WesternActor] = []
        self.partners: list[EconomicPartner] = []
        self.lobbies: list[LobbyingState] = []
        self.domestic: list[DomesticLegalActor] = []
        lists = {cat.WESTERN: self.western, cat.PARTNER: self.partners, cat.LOBBY: self.lobbies,
                 cat.DOMESTIC: self.domestic}
        self.court: Court
        self.visitor: VisitingState
        self.host: HostGovernment
        self._courts_of_host(scenario)
        for role in _CREATION_ORDER:
            for actor in scenario.with_role(role):
                agent = ROLE_CLASSES[role](self, actor.id, actor.name)
                if role in lists:
                    lists[role].append(agent)
                else:
                    setattr(self, role, agent)  # self.court, self.visitor, self.host
        self.responders: list[Actor] = [self.court, *self.western, *self.lobbies, self.visitor]
        self.expected = ExpectedOutcomes(streams.n, self.weights["perception_sd"]) \
            if expected else None
        self.probabilities: np.ndarray | None = None
        self._check_intent()
        self.stance_path[0] = self.host.intent

        self.collect = collect
        self.datacollector = mesa.DataCollector(model_reporters={
            "day": "day",
            "intent": lambda m: float(np.mean(m.host.intent)),
            "arrest_chance": lambda m: float(np.mean(m.host.arrest_chance)),
            "perceived_risk": lambda m: float(np.mean(m.visitor.perceived_risk)),
            "accepted_risk": lambda m: float(np.mean(m.visitor.accepted_risk)),
            "petition": lambda m: float(np.mean(m.litigation)),
            "court_order": lambda m: float(np.mean(m.court_order)),
            "pending": lambda m: float(np.mean(m.outcome == PENDING)),
            **{f"drive_{name}": _mean_drive(name) for name in DRIVES},
        })
        if collect:
            self.datacollector.collect(self)

    def _courts_of_host(self, scenario: Scenario) -> None:
        """The host's courts, needed by domestic actors created before the host."""
        independence = self.values[f"actors.{scenario.host.id}.params.court_independence"]
        self.obedience = independence  # how far the executive obeys a court order
        self.ruling_rate = self.weights["order_rate"] * independence

    def _check_intent(self) -> None:
        """Stop with a :class:`~sim.errors.NonFiniteError` if the host's intent is NaN or
        infinite in any world (extreme values overflowing the arithmetic): no probabilities
        are ever reported from such worlds."""
        intent = self.host.intent
        if not np.isfinite(intent).all():
            bad = int(np.count_nonzero(~np.isfinite(intent)))
            raise NonFiniteError(
                f"the host's intent is NaN or infinite in {bad:,} of {self.streams.n:,} worlds "
                f"on day {self.day} of scenario {self.warrant_scenario.id}: its parameter "
                "values (e.g. very large weights) overflow the model's arithmetic; the run "
                "stops without reporting probabilities")

    def tie(self, name: str):
        """A parameter of the host's tie to the visitor."""
        return self.values[self._tie_prefix + name]

    @property
    def visiting(self) -> bool:
        return self.arrival_day <= self.day <= self.departure_day

    @property
    def court_order(self):
        """Whether any domestic court has ordered the arrest, per world."""
        if not self.domestic:
            return np.zeros(self.streams.n, dtype=bool)
        return np.logical_or.reduce([a.order for a in self.domestic])

    @property
    def litigation(self):
        """Whether a petition is before the host's courts (or has produced an order)."""
        if not self.domestic:
            return np.zeros(self.streams.n, dtype=bool)
        return np.logical_or.reduce([a.petition | a.order for a in self.domestic])

    def step(self) -> None:
        # the visit beginning is news to every campaign, as is a petition or a court order;
        # the rest of day 0 (the forecast date) is the scenario's input
        news = np.full(self.streams.n, self.day == self.arrival_day)
        if self.day > 0:
            for actor in self.domestic:
                news |= actor.litigate()
        if news.any():
            for actor in self.responders:
                actor.respond(news)
        self.host.weigh()
        self._check_intent()
        if self.expected is None:
            self._choose()
        else:
            self._choose_expected(self.expected)
        self.day += 1
        self.stance_path[self.day] = self.host.intent
        if self.day == self.horizon:
            self._finish()
        if self.collect:
            self.datacollector.collect(self)

    def _choose(self) -> None:
        """The day's choices, drawn: the visitor plans (until committed), the host decides
        and the visitor stays or leaves (while visiting)."""
        if self.day <= self.commitment_day:
            self.visitor.plan()
        if self.visiting:
            self.host.decide()
            if self.day < self.departure_day:
                self.visitor.stay_or_leave()

    def _choose_expected(self, expected: ExpectedOutcomes) -> None:
        """The same choices, integrated over the host's resolve and the visitor's
        misreading."""
        host, visitor = self.host, self.visitor
        if self.day <= self.commitment_day:
            expected.plan(visitor.threshold(host.intent, self.court_order))
        if self.visiting:
            expected.decide(host.arrest_chance)
            if self.day < self.departure_day:
                expected.stay_or_leave(visitor.threshold(host.intent, self.court_order))

    def _finish(self) -> None:
        self.outcome[self.outcome == PENDING] = HOSTED
        defied = (self.outcome == HOSTED) | (self.outcome == LEFT_EARLY)
        self.noncompliance = self.court.rule_on_compliance(defied, self.streams.random())
        if self.expected is not None:
            self.probabilities = self.expected.finish()
        self.running = False

    def run_to_end(self) -> WarrantVisitModel:
        while self.running:
            self.step()
        return self


def measure_drivers(model: WarrantVisitModel) -> dict[str, np.ndarray]:
    """What each drive does at the forecast date, per world.

    ``host.<drive>``: the host's intent minus its intent without that drive (positive:
    the drive pushes towards arrest).  ``visitor.<drive>``: whether the visitor would
    stay away minus whether it would without that drive (through the host's intent,
    the one quantity both read); ``visitor.visit_value`` is the visitor's own reason to
    come.  Averages over worlds are the forecast's drivers.
    """
    host, visitor = model.host, model.visitor
    order = model.court_order
    stays_away = visitor.risk(host.intent, order) > visitor.accepted_risk
    out: dict[str, np.ndarray] = {}
    for name in DRIVES:
        without = host.intent_without(name)
        out[f"host.{name}"] = host.intent - without
        out[f"visitor.{name}"] = stays_away.astype(float) - (
            visitor.risk(without, order) > visitor.accepted_risk)
    out["visitor.visit_value"] = stays_away.astype(float) - (
        visitor.risk(host.intent, order) > model.weights["risk_tolerance"])
    n = model.streams.n
    return {k: np.broadcast_to(out[k], (n,)).astype(float) for k in DRIVER_KEYS}


def driver_block_sums(model: WarrantVisitModel) -> np.ndarray:
    """Sums of each driver over each block of worlds, shape ``(blocks, len(DRIVER_KEYS))``.

    Measured on a model that has not stepped yet (the forecast date's state); only runs
    that report drivers pay for it, not calibration or sensitivity.  Kept per block so
    that totals are added in block order whatever the chunking.
    """
    assert model.day == 0, "drivers are measured at the forecast date, before any step"
    drivers = measure_drivers(model)
    table = np.stack([drivers[k] for k in DRIVER_KEYS], axis=1)
    assert isinstance(model.streams, Streams), "blocks are those of Streams"
    edges = np.cumsum([0, *model.streams.sizes])
    return np.stack([table[a:b].sum(axis=0) for a, b in zip(edges[:-1], edges[1:],
                                                             strict=True)])


def _mean_drive(name: str):
    """Mean net drive (towards arrest minus against) for the DataCollector."""
    def mean(m):
        pro, con = m.host.drives[name]
        return float(np.mean(np.asarray(pro) - np.asarray(con)))
    return mean
