"""The Mesa model of a warrant visit: one model, R worlds stepped together."""

from __future__ import annotations

import mesa
import numpy as np

from . import catalogue as cat
from .agents import (
    ROLE_CLASSES,
    Court,
    DomesticLegalActor,
    EconomicPartner,
    HostGovernment,
    LobbyingState,
    VisitingState,
    WesternActor,
)
from .outcomes import HOSTED, PENDING
from .sampling import draw_parameters
from .scenario import Scenario
from .streams import Streams

#: Order in which actors are created: each one's random draws come in this order.
_CREATION_ORDER = (cat.COURT, cat.WESTERN, cat.PARTNER, cat.LOBBY, cat.DOMESTIC, cat.VISITOR,
                   cat.HOST)


class WarrantVisitModel(mesa.Model):
    """A warrant visit from the forecast date to the visitor's planned departure.

    One step is one day.  Days ``0 .. days_before_visit - 1`` precede the visit
    (the visitor may cancel); the next ``visit_days`` days are the visit (the
    visitor may leave early, the host may arrest).  Every state variable holds
    one value per world.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    streams : Streams
        Random streams, one per block of worlds; all randomness comes from here.
    values : dict, optional
        Parameter values per world (as from :func:`sim.sampling.draw_parameters`).
        Drawn from ``streams`` when omitted.
    """

    def __init__(self, scenario: Scenario, streams: Streams, values: dict | None = None):
        # Mesa's own generators are never used for the model's randomness (which all
        # goes through ``streams``); a fixed seed keeps them out of any global state.
        super().__init__(rng=np.random.default_rng(0))
        # not ``self.scenario``: Mesa 3.5's Model owns that name for its own scenarios
        self.warrant_scenario = scenario
        host, visitor = scenario.host.id, scenario.visitor.id
        self._tie_prefix = f"actors.{host}.ties.{visitor}."
        self.streams = streams
        self.values = draw_parameters(scenario, streams) if values is None else values
        self.weights = {name: self.values[f"weights.{name}"] for name in cat.WEIGHT_PARAMS}
        self.days_before_visit = scenario.days_before_visit
        self.horizon = scenario.days_before_visit + scenario.visit_days
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
        for role in _CREATION_ORDER:
            for actor in scenario.with_role(role):
                agent = ROLE_CLASSES[role](self, actor.id, actor.name)
                if role in lists:
                    lists[role].append(agent)
                else:
                    setattr(self, role, agent)  # self.court, self.visitor, self.host
        self.court: Court
        self.visitor: VisitingState
        self.host: HostGovernment
        self.responders = [self.court, *self.western, *self.partners, *self.lobbies,
                           self.visitor]
        self.stance_path[0] = self.host.stance

        self.datacollector = mesa.DataCollector(model_reporters={
            "day": "day",
            "stance": lambda m: float(np.mean(m.host.stance)),
            "perceived_risk": lambda m: float(np.mean(m.visitor.perceived_risk)),
            "accepted_risk": lambda m: float(np.mean(m.visitor.accepted_risk)),
            "court_order": lambda m: float(np.mean(m.court_order)),
            "pending": lambda m: float(np.mean(m.outcome == PENDING)),
            **{f"pressure_{name}": _mean_pressure(name) for name in self.host.pressures},
        })
        self.datacollector.collect(self)

    def tie(self, name: str):
        """A parameter of the host's tie to the visitor."""
        return self.values[self._tie_prefix + name]

    @property
    def visiting(self) -> bool:
        return self.day >= self.days_before_visit

    @property
    def court_order(self):
        """Whether any domestic court has ordered the arrest, per world."""
        if not self.domestic:
            return np.zeros(self.streams.n, dtype=bool)
        return np.logical_or.reduce([a.order for a in self.domestic])

    @property
    def litigation(self):
        """Strongest domestic legal pressure: 0.5 for a petition, 1 with an order."""
        if not self.domestic:
            return 0.0
        return np.maximum.reduce([a.pressure for a in self.domestic])

    def step(self) -> None:
        for actor in self.domestic:
            actor.litigate()
        for actor in self.responders:
            actor.respond()
        self.host.weigh()
        self.visitor.decide()
        if self.visiting:
            self.host.decide()
        self.day += 1
        self.stance_path[self.day] = self.host.stance
        if self.day == self.horizon:
            self._finish()
        self.datacollector.collect(self)

    def _finish(self) -> None:
        self.outcome[self.outcome == PENDING] = HOSTED
        self.noncompliance = self.court.rule_on_compliance(self.outcome, self.streams.random())
        self.running = False

    def run_to_end(self) -> WarrantVisitModel:
        while self.running:
            self.step()
        return self


def _mean_pressure(name: str):
    return lambda m: float(np.mean(m.host.pressures[name]))
