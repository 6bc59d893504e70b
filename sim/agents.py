"""The actors of a warrant visit as Mesa agents over R worlds at once.

Every state variable is a numpy array of shape ``(R,)`` (or a scalar that
broadcasts when it does not vary across worlds); every step updates all
worlds with array operations.  Equations are documented in ``docs/MODEL.md``.
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import expit, logit

from . import catalogue as cat
from .outcomes import ARREST, CANCELLED, HOSTED, LEFT_EARLY, PENDING


def either(*shares) -> np.ndarray | float:
    """Probability that at least one of independent pressures bites: 1 - prod(1 - x)."""
    out = 1.0
    for x in shares:
        out = out * (1.0 - x)
    return 1.0 - out


def wavering(stance) -> np.ndarray:
    """4 p (1 - p) with p = sigmoid(stance): 1 when the host is torn, 0 when decided."""
    p = expit(stance)
    return 4.0 * p * (1.0 - p)


class Actor(mesa.Agent):
    """An actor of the scenario; reads its parameters by its scenario id."""

    role: str = ""

    def __init__(self, model, actor_id: str, name: str):
        super().__init__(model)
        self.actor_id = actor_id
        self.name = name

    def param(self, name: str):
        return self.model.values[f"actors.{self.actor_id}.params.{name}"]

    def escalate(self, level, rate):
        """Raise ``level`` towards 1 in proportion to how much the host wavered yesterday."""
        return level + rate * self.model.host.wavering * (1.0 - level)


class Court(Actor):
    """The ICC: public engagement that escalates when the host wavers; rules on compliance."""

    role = cat.COURT

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        self.engagement = self.param("engagement")
        self.sanction_credibility = self.param("sanction_credibility")

    @property
    def pressure(self):
        return self.engagement * (1.0 + self.sanction_credibility) / 2.0

    def respond(self):
        self.engagement = self.escalate(self.engagement, self.param("escalation"))

    def rule_on_compliance(self, outcome, u):
        """A non-compliance finding is likelier the more engaged the Court and binding the duty."""
        defied = (outcome == HOSTED) | (outcome == LEFT_EARLY)
        return defied & (u < self.model.host.obligation * self.engagement)


class WesternActor(Actor):
    """A 'third neighbour': courting whose conditionality on compliance can harden."""

    role = cat.WESTERN

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        self.courting = self.param("courting")
        self.conditionality = self.param("conditionality")

    @property
    def pressure(self):
        return self.courting * self.conditionality

    def respond(self):
        self.conditionality = self.escalate(self.conditionality, self.param("escalation"))


class LobbyingState(Actor):
    """A state pressing the host to arrest (e.g. Ukraine's démarches)."""

    role = cat.LOBBY

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        self.intensity = self.param("intensity")

    @property
    def pressure(self):
        return self.intensity

    def respond(self):
        self.intensity = self.escalate(self.intensity, self.param("escalation"))


class EconomicPartner(Actor):
    """A third state with a stake in the host-visitor relation (e.g. China as pipeline buyer)."""

    role = cat.PARTNER

    @property
    def pressure(self):
        return self.param("pressure_against_arrest")

    def respond(self):
        """Its pressure is a standing interest; it does not escalate in the model."""


class DomesticLegalActor(Actor):
    """Courts and NGOs at home: a petition may be filed, and a court may order an arrest."""

    role = cat.DOMESTIC

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        streams = model.streams
        self.petition = streams.random() < self.param("petition_pending")
        self.order = np.zeros(streams.n, dtype=bool)
        # spread the chance of filing over the whole window as a constant daily hazard
        capacity = self.param("litigation_capacity")
        self.filing_hazard = 1.0 - (1.0 - capacity) ** (1.0 / model.horizon)

    def litigate(self):
        m = self.model
        u_file, u_order = m.streams.random(2)
        self.petition = self.petition | (u_file < self.filing_hazard)
        ruling = m.weights["order_rate"] * m.host.court_independence
        self.order = self.order | (self.petition & (u_order < ruling))

    @property
    def pressure(self):
        return 0.5 * self.petition + 0.5 * self.order


class VisitingState(Actor):
    """The visitor: adds offers and threats when the host wavers; travels or stays away,
    stays or leaves, by comparing its perceived arrest risk with the risk it accepts."""

    role = cat.VISITOR

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        w = model.weights
        tie = model.tie
        self.deals = tie("deals_on_offer")
        self.threat = tie("threat_credibility")
        self.awareness = self.param("warrant_awareness")
        # the visitor's persistent misreading of the host, one per world
        self.misreading = w["perception_sd"] * model.streams.normal()
        with np.errstate(divide="ignore"):  # a tolerance of 0 is logit -inf: never accepted
            self.accepted_risk = expit(logit(w["risk_tolerance"])
                                       + w["visit_value_weight"] * self.param("visit_value"))
        self.perceived_risk = np.zeros(model.streams.n)

    def respond(self):
        rate = self.param("escalation")
        self.deals = self.escalate(self.deals, rate)
        self.threat = self.escalate(self.threat, rate)

    def decide(self):
        """Stay away (before the visit) or leave (during it) when the risk looks too high."""
        m = self.model
        shock = m.weights["order_shock"] * m.court_order
        self.perceived_risk = self.awareness * expit(m.host.stance + self.misreading + shock)
        too_risky = (m.outcome == PENDING) & (self.perceived_risk > self.accepted_risk)
        m.outcome[too_risky] = LEFT_EARLY if m.visiting else CANCELLED


class HostGovernment(Actor):
    """The decision-maker.  Its stance (logit of the intent to execute the warrant) moves
    towards the balance of pressures with inertia and noise; on visit days it may arrest."""

    role = cat.HOST

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        tie = model.tie
        self.court_independence = self.param("court_independence")
        self.obligation = self.param("arrest_obligation")
        self.legal = self.obligation * (1.0 + self.param("implementing_law")
                                        + self.court_independence) / 3.0
        self.energy = (np.maximum(tie("fuel_import_share"), tie("electricity_import_share"))
                       * (1.0 + tie("supply_interruption_memory")) / 2.0)
        self.regional = either(self.param("regional_non_cooperation"),
                               self.param("neutrality_doctrine"))
        self.disposition = model.weights["disposition_sd"] * model.streams.normal()
        self.pressures: dict[str, np.ndarray] = {}
        self.stance = self.target()
        self.wavering = wavering(self.stance)

    def target(self):
        """The stance the current pressures point to (logits); also records each pressure."""
        m, w = self.model, self.model.weights
        tie = m.tie
        economic = (tie("trade_share") + tie("pipeline_prospect") + m.visitor.deals) / 3.0
        p = {
            "legal": w["legal"] * self.legal,
            "court": w["court"] * m.court.pressure,
            "western": w["western"] * either(*(a.pressure for a in m.western)),
            "lobbying": w["lobbying"] * either(*(a.pressure for a in m.lobbies)),
            "litigation": w["litigation"] * m.litigation,
            "energy": -w["energy"] * self.energy,
            "economic": -w["economic"] * economic,
            "partner": -w["partner"] * either(*(a.pressure for a in m.partners)),
            "regional": -w["regional"] * self.regional,
            "security": -w["security"] * self.param("military_exposure") * m.visitor.threat,
        }
        self.pressures = p
        return w["baseline"] + self.disposition + sum(p.values())

    def weigh(self):
        """Move the stance towards today's target, with inertia and noise."""
        w = self.model.weights
        inertia = w["stance_inertia"]
        self.stance = (inertia * self.stance + (1.0 - inertia) * self.target()
                       + w["stance_noise"] * self.model.streams.normal())
        self.wavering = wavering(self.stance)

    def decide(self):
        """On a visit day, execute the warrant with probability sigmoid(stance)."""
        m = self.model
        arrest = (m.outcome == PENDING) & (m.streams.random() < expit(self.stance))
        m.outcome[arrest] = ARREST


ROLE_CLASSES: dict[str, type[Actor]] = {
    cls.role: cls for cls in (HostGovernment, VisitingState, Court, WesternActor,
                              EconomicPartner, LobbyingState, DomesticLegalActor)
}
