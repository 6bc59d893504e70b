"""The actors of a warrant visit as Mesa agents over R worlds at once.

Every state variable is a numpy array of shape ``(R,)`` (or a scalar that
broadcasts when it does not vary across worlds); every step updates all
worlds with array operations.  The equations are documented, one by one, in
``docs/MODEL.md``; the names below follow it.

The host's *intent* is the probability that it executes the warrant when it
decides; it comes from its reasons for arresting ``F`` and against ``A`` as
``F e^d / (F e^d + A + 1)``, where ``d`` is its unobserved disposition and the
``1`` is the cost of acting at all.  Without a duty or a pressure towards
arrest, ``F = 0`` and the intent is exactly 0.  The visitor fears exactly this
quantity (read with error), so beliefs and behaviour come from one number.
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import expit, logit

from . import catalogue as cat
from .outcomes import ARREST, CANCELLED, LEFT_EARLY, PENDING

#: The host's drives, in the order they are reported.  Each gives a push towards
#: arrest and a push against it (one of them is zero unless the factor is signed).
DRIVES: tuple[str, ...] = ("legal", "court", "western", "lobbying", "litigation",
                           "public_position", "energy", "economic", "partner", "regional",
                           "neutrality", "security")
#: The drivers a run reports (``sim.model.measure_drivers``), in order: what each drive
#: does to the host's intent, then to the visitor's choice to stay away.
DRIVER_KEYS: tuple[str, ...] = (*(f"host.{d}" for d in DRIVES),
                                *(f"visitor.{d}" for d in DRIVES),
                                "visitor.visit_value")


def either(*shares) -> np.ndarray | float:
    """Probability that at least one of independent pressures bites: 1 - prod(1 - x)."""
    out: np.ndarray | float = 1.0
    for x in shares:
        out = out * (1.0 - x)
    return 1.0 - out


def intent_from(pro, con, disposition) -> np.ndarray:
    """The host's probability of executing the warrant: F e^d / (F e^d + A + 1).

    ``pro`` (F) and ``con`` (A) are non-negative drives; with ``pro == 0`` the
    intent is exactly 0, whatever the disposition.
    """
    # on the logit scale, so that huge weights cannot overflow; log(0) = -inf gives 0
    with np.errstate(divide="ignore"):
        return expit(np.log(pro) + disposition - np.log1p(con))


def shift(p, logits) -> np.ndarray:
    """``p`` moved by ``logits`` on the logit scale; 0 and 1 stay where they are."""
    with np.errstate(divide="ignore"):
        return expit(logit(p) + logits)


def wavering(intent) -> np.ndarray:
    """4 p (1 - p): 1 when the host is torn, 0 when decided either way."""
    return 4.0 * intent * (1.0 - intent)


class Actor(mesa.Agent):
    """An actor of the scenario; reads its parameters by its scenario id."""

    role: str = ""

    def __init__(self, model, actor_id: str, name: str):
        super().__init__(model)
        self.actor_id = actor_id
        self.name = name

    def param(self, name: str):
        return self.model.values[f"actors.{self.actor_id}.params.{name}"]

    def escalate(self, level, rate, news):
        """Raise ``level`` towards 1, in the worlds with ``news``, in proportion to how much
        the host wavers: campaigns intensify on events, not with the calendar."""
        return level + news * rate * self.model.host.wavering * (1.0 - level)

    def respond(self, news) -> None:
        """React to news (a per-world mask); actors without a campaign do nothing."""


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

    def respond(self, news):
        self.engagement = self.escalate(self.engagement, self.param("escalation"), news)

    def rule_on_compliance(self, defied, u):
        """A non-compliance finding is likelier the more engaged the Court and binding the duty."""
        return defied & (u < self.model.host.obligation * self.engagement)


def _split(signed_pressures) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Combine signed pressures into (towards arrest, against arrest), each by ``either``."""
    pos = [np.maximum(s, 0.0) for s in signed_pressures]
    neg = [np.maximum(-s, 0.0) for s in signed_pressures]
    return either(*pos), either(*neg)


class WesternActor(Actor):
    """A 'third neighbour': courting conditioned on the warrant, in the direction of its
    ``icc_stance`` (+1 for compliance, -1 hostile to the Court)."""

    role = cat.WESTERN

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        self.courting = self.param("courting")
        self.conditionality = self.param("conditionality")

    @property
    def pressure(self):
        """Signed: positive pushes towards arrest."""
        return self.param("icc_stance") * self.courting * self.conditionality

    def respond(self, news):
        self.conditionality = self.escalate(self.conditionality, self.param("escalation"),
                                            news)


class LobbyingState(Actor):
    """A state pressing the host to arrest (e.g. Ukraine's démarches)."""

    role = cat.LOBBY

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        self.intensity = self.param("intensity")

    @property
    def pressure(self):
        return self.intensity

    def respond(self, news):
        self.intensity = self.escalate(self.intensity, self.param("escalation"), news)


class EconomicPartner(Actor):
    """A third state with a stake in the host-visitor relation (e.g. China as pipeline
    buyer); a standing interest that does not escalate."""

    role = cat.PARTNER

    @property
    def pressure(self):
        """Signed: positive pushes towards arrest (``icc_stance`` defaults to -1)."""
        return self.param("icc_stance") * self.param("pressure_against_arrest")


class DomesticLegalActor(Actor):
    """Courts and NGOs at home: a petition may be filed, and a court may order an arrest.

    A pending petition is ruled on each day with probability ``order_rate`` times the
    independence of the courts: a captured court never orders.
    """

    role = cat.DOMESTIC

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        streams = model.streams
        self.petition = streams.random() < self.param("petition_pending")
        self.order = np.zeros(streams.n, dtype=bool)
        # the chance of filing before the visit ends, spread evenly over the days to come
        capacity = self.param("litigation_capacity")
        days = model.departure_day
        self.filing_hazard = 1.0 - (1.0 - capacity) ** (1.0 / days) if days else 0.0

    def litigate(self) -> np.ndarray:
        """Rule on a pending petition, then perhaps file one; returns where there is news."""
        m = self.model
        u_order, u_file = m.streams.random(2)
        order = self.order | (self.petition & (u_order < m.ruling_rate))
        petition = self.petition | (u_file < self.filing_hazard)
        news = (order != self.order) | (petition != self.petition)
        self.order, self.petition = order, petition
        return news


class VisitingState(Actor):
    """The visitor: adds offers and threats on news when the host wavers; travels, stays or
    leaves by comparing the host's chance of arresting, as it reads it, with the risk it
    accepts.  The host decides once unless something changes, so that chance is the risk
    of the whole stay as far as the visitor can foresee it (it does not forecast news)."""

    role = cat.VISITOR

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        w = model.weights
        tie = model.tie
        self.deals = tie("deals_on_offer")
        self.threat = tie("threat_credibility")
        self.cutoff_threat = tie("supply_cutoff_threat")
        self.awareness = self.param("warrant_awareness")
        # how the visitor misreads the host's intent, one persistent error per world
        self.misreading = w["perception_sd"] * model.streams.normal()
        with np.errstate(divide="ignore"):  # a tolerance of 0 is logit -inf: never accepted
            self.accepted_risk = expit(logit(w["risk_tolerance"])
                                       + w["visit_value_weight"] * self.param("visit_value"))
        self.perceived_risk = np.zeros(model.streams.n)

    def respond(self, news):
        rate = self.param("escalation")
        self.deals = self.escalate(self.deals, rate, news)
        self.threat = self.escalate(self.threat, rate, news)
        self.cutoff_threat = self.escalate(self.cutoff_threat, rate, news)

    def risk(self, intent, order) -> np.ndarray:
        """The arrest risk as the visitor reads it: the host's chance of arresting (its
        intent, or a court order its executive obeys), with the visitor's misreading of
        the intent.  With nothing new, the host does not decide again, so this is also
        the risk over the whole stay."""
        m = self.model
        read = shift(intent, self.misreading)
        return self.awareness * (1.0 - (1.0 - read) * (1.0 - m.obedience * order))

    def threshold(self, intent, order) -> np.ndarray:
        """The misreading above which :meth:`risk` exceeds the accepted risk, per world
        (``-inf``: whatever the misreading, ``+inf``: never), for
        :class:`sim.expected.ExpectedOutcomes`.

        The risk is ``floor + (awareness - floor) * read`` with ``read = shift(intent,
        misreading)``, so it exceeds the accepted risk exactly when ``read`` exceeds
        ``need`` below, that is when the misreading exceeds ``logit(need) -
        logit(intent)``.  Where that is undefined (0/0, a negative ratio), the risk does
        not depend on the misreading: it exceeds the accepted risk everywhere or nowhere,
        as the floor does (a ``need`` above 1 is clipped to 1 so that it reads "nowhere").
        """
        floor = self.awareness * self.model.obedience * order  # an obeyed court order
        accepted = self.accepted_risk
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.minimum((accepted - floor) / (self.awareness - floor), 1.0)
            cut = np.log(need * (1.0 - intent) / ((1.0 - need) * intent))
        return np.where(np.isnan(cut), np.where(floor > accepted, -np.inf, np.inf), cut)

    def plan(self):
        """Before it is committed: call the trip off when the risk is too high."""
        m = self.model
        self.perceived_risk = self.risk(m.host.intent, m.court_order)
        calls_off = (m.outcome == PENDING) & (self.perceived_risk > self.accepted_risk)
        m.outcome[calls_off] = CANCELLED

    def stay_or_leave(self):
        """During the visit, before the last scheduled day: leave when the risk is too high.

        The risk moves only when something new happens (a petition, a court order, a
        pressure that moved), so only news makes the visitor leave.
        """
        m = self.model
        self.perceived_risk = self.risk(m.host.intent, m.court_order)
        leaves = (m.outcome == PENDING) & (self.perceived_risk > self.accepted_risk)
        m.outcome[leaves] = LEFT_EARLY


class HostGovernment(Actor):
    """The decision-maker.  Its intent (the probability that it executes the warrant)
    follows the balance of its drives, with inertia when they move.  It decides at the
    visitor's arrival and again whenever something changes, against one resolve drawn
    per world, so that an unchanged intent never turns into a new lottery."""

    role = cat.HOST

    def __init__(self, model, actor_id, name):
        super().__init__(model, actor_id, name)
        tie = model.tie
        self.court_independence = self.param("court_independence")
        self.obligation = self.param("arrest_obligation")
        # the duty and the means to carry it out; the courts act through the courts
        # (petitions and orders), not here
        self.legal = self.obligation * (1.0 + self.param("implementing_law")) / 2.0
        self.dependence = np.maximum(tie("fuel_import_share"), tie("electricity_import_share"))
        self.disposition = model.weights["disposition_sd"] * model.streams.normal()
        # arrest when the chance of arrest exceeds this; drawn once: the host's own resolve
        self.resolve = model.streams.random()
        self.drives: dict[str, tuple] = {}
        self.intent = self.target()
        self.wavering = wavering(self.intent)

    def drive_terms(self) -> dict[str, tuple]:
        """Each drive as (push towards arrest, push against), weighted, per world."""
        m, w = self.model, self.model.weights
        tie = m.tie
        visitor = m.visitor
        western_for, western_against = _split([a.pressure for a in m.western])
        partner_for, partner_against = _split([a.pressure for a in m.partners])
        position = self.param("public_position")
        energy_risk = either(tie("supply_interruption_memory"), visitor.cutoff_threat)
        economic = (tie("trade_share") + tie("pipeline_prospect") + visitor.deals) / 3.0
        return {
            "legal": (w["legal"] * self.legal, 0.0),
            "court": (w["court"] * m.court.pressure, 0.0),
            "western": (w["western"] * western_for, w["western"] * western_against),
            "lobbying": (w["lobbying"] * either(*(a.pressure for a in m.lobbies)), 0.0),
            "litigation": (w["litigation"] * self.court_independence * m.litigation, 0.0),
            "public_position": (w["public_position"] * np.maximum(position, 0.0),
                                w["public_position"] * np.maximum(-position, 0.0)),
            "energy": (0.0, w["energy"] * self.dependence * (1.0 + energy_risk) / 2.0),
            "economic": (0.0, w["economic"] * economic),
            "partner": (w["partner"] * partner_for, w["partner"] * partner_against),
            "regional": (0.0, w["regional"] * self.param("regional_non_cooperation")),
            "neutrality": (0.0, w["neutrality"] * self.param("neutrality_doctrine")),
            "security": (0.0, w["security"] * self.param("military_exposure") * visitor.threat),
        }

    def target(self) -> np.ndarray:
        """The intent today's drives point to; records the drives."""
        self.drives = self.drive_terms()
        pro = sum(p for p, _ in self.drives.values())
        con = sum(c for _, c in self.drives.values())
        return intent_from(pro, con, self.disposition)

    def intent_without(self, name: str) -> np.ndarray:
        """The intent today's drives would give without drive ``name`` (for the drivers)."""
        pro = sum(p for k, (p, _) in self.drives.items() if k != name)
        con = sum(c for k, (_, c) in self.drives.items() if k != name)
        return intent_from(pro, con, self.disposition)

    def weigh(self):
        """Move the intent towards today's target, with inertia (nothing moves if nothing
        changed)."""
        inertia = self.model.weights["stance_inertia"]
        target = self.target()
        # where nothing changed, keep the intent bit for bit (no drift from rounding)
        self.intent = np.where(target == self.intent, self.intent,
                               inertia * self.intent + (1.0 - inertia) * target)
        self.wavering = wavering(self.intent)

    @property
    def arrest_chance(self) -> np.ndarray:
        """Chance that the host executes the warrant now: its own intent, or a court order
        that its executive obeys."""
        m = self.model
        return 1.0 - (1.0 - self.intent) * (1.0 - m.obedience * m.court_order)

    def decide(self):
        """With the visitor present: execute the warrant when the chance exceeds the resolve."""
        m = self.model
        arrest = (m.outcome == PENDING) & (self.resolve < self.arrest_chance)
        m.outcome[arrest] = ARREST


ROLE_CLASSES: dict[str, type[Actor]] = {
    cls.role: cls for cls in (HostGovernment, VisitingState, Court, WesternActor,
                              EconomicPartner, LobbyingState, DomesticLegalActor)
}
