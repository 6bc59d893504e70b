"""What a scenario may contain: roles, their parameters, their bounds and meaning.

The catalogue is the single place where the model's inputs are named.  The
scenario loader validates against it, the agents read the parameters it
names, and ``docs/MODEL.md`` documents the same entries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One parameter: its admissible range and what it means."""

    low: float
    high: float
    meaning: str
    integer: bool = False
    open_high: bool = False  # high itself is excluded

    def expected(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.low == 0 and self.high == 1 and not self.integer:
            return "a share in [0, 1]"
        if self.high == math.inf:
            return f"{kind} >= {self.low:g}"
        bracket = ")" if self.open_high else "]"
        return f"{kind} in [{self.low:g}, {self.high:g}{bracket}"

    def admits(self, lo: float, hi: float) -> bool:
        upper_ok = hi < self.high if self.open_high else hi <= self.high
        return lo >= self.low and upper_ok


def share(meaning: str) -> Spec:
    return Spec(0.0, 1.0, meaning)


def weight(meaning: str) -> Spec:
    return Spec(0.0, math.inf, meaning)


HOST = "host"
VISITOR = "visitor"
COURT = "court"
WESTERN = "western_bloc"
PARTNER = "economic_partner"
LOBBY = "lobbying_state"
DOMESTIC = "domestic_legal"

#: Roles that exactly one actor must take; the others take zero or more actors.
SINGLE_ROLES = (HOST, VISITOR, COURT)
ROLES = (HOST, VISITOR, COURT, WESTERN, PARTNER, LOBBY, DOMESTIC)

ROLE_PARAMS: dict[str, dict[str, Spec]] = {
    HOST: {
        "arrest_obligation": share(
            "How binding the duty to arrest is: 1 for a State Party (Rome Statute arts 86, 89), "
            "lower when withdrawal is pending or the duty rests only on a UNSC resolution, "
            "0 for a state with no duty."),
        "implementing_law": share(
            "How far domestic law provides a procedure to arrest and surrender to the ICC."),
        "court_independence": share(
            "Independence of the host's courts from the executive (0 captured, 1 independent)."),
        "neutrality_doctrine": share(
            "Strength of a declared policy of neutrality or non-alignment invoked to avoid taking "
            "sides."),
        "regional_non_cooperation": share(
            "How strongly a regional organisation the host belongs to calls on members not to "
            "arrest (e.g. the African Union's 2009 decision)."),
        "military_exposure": share(
            "How exposed the host is to the visitor's military or security retaliation."),
    },
    VISITOR: {
        "visit_value": share(
            "How much the visitor values attending in person (a summit it hosts or leads "
            "scores high, a ceremonial visit lower)."),
        "warrant_awareness": share(
            "Whether the visitor knows of the warrant and reads the arrest risk (0 for a sealed "
            "warrant it does not know of)."),
        "escalation": share(
            "How fast the visitor adds offers and threats when the host wavers."),
    },
    COURT: {
        "engagement": share(
            "The Court's public engagement before the visit: requests, reminders, statements "
            "(0 silent, 1 urgent request and public campaign)."),
        "sanction_credibility": share(
            "Credibility that non-compliance will be sanctioned (historically near zero)."),
        "escalation": share("How fast the Court escalates when the host wavers."),
    },
    WESTERN: {
        "courting": share(
            "Weight of this actor's aid, investment and security ties in the host's calculus."),
        "conditionality": share(
            "How credibly those ties are conditioned on compliance with the warrant."),
        "escalation": share("How fast this actor escalates when the host wavers."),
    },
    PARTNER: {
        "pressure_against_arrest": share(
            "Pressure this partner puts on the host not to arrest (e.g. a pipeline buyer that "
            "needs the transit route)."),
    },
    LOBBY: {
        "intensity": share("Intensity of démarches and public calls to arrest."),
        "escalation": share("How fast the lobbying intensifies when the host wavers."),
    },
    DOMESTIC: {
        "litigation_capacity": share(
            "Probability that this actor files for a domestic arrest order before the visit ends."),
        "petition_pending": share(
            "Probability that a petition is already before a domestic court at the forecast date."),
    },
}

#: Parameters of the host's tie to the visitor (``actors.<host>.ties.<visitor>``).
TIE_PARAMS: dict[str, Spec] = {
    "fuel_import_share": share(
        "Share of the host's fuel (petroleum products) bought from the visitor."),
    "electricity_import_share": share("Share of the host's electricity imported from the visitor."),
    "trade_share": share("The visitor's share of the host's foreign trade."),
    "pipeline_prospect": share(
        "Value and likelihood of pipeline or transit revenue that depends on the visitor."),
    "deals_on_offer": share("Agreements the visitor brings to sign during the visit."),
    "supply_interruption_memory": share(
        "How vividly past supply interruptions are remembered (0 never, 1 recent and costly)."),
    "threat_credibility": share(
        "Credibility of the visitor's threat to retaliate if its leader is arrested."),
}

TIMELINE_PARAMS: dict[str, Spec] = {
    "days_before_visit": Spec(
        1, 365, "Days of build-up simulated before the visitor's arrival: from the "
        "announcement of the visit (or the forecast date, if later) to arrival. Parameters "
        "carry what was known at the forecast date.", integer=True),
    "visit_days": Spec(1, 60, "Planned length of the visit in days.", integer=True),
}

#: Global behavioural weights: shared by all scenarios, fitted by calibration.
WEIGHT_PARAMS: dict[str, Spec] = {
    "baseline": Spec(-math.inf, math.inf, "Intercept of the host's compliance drive (logits)."),
    "legal": weight("Weight of the legal obligation (logits per unit)."),
    "court": weight("Weight of the Court's pressure."),
    "western": weight("Weight of conditioned Western pressure."),
    "lobbying": weight("Weight of lobbying states' pressure."),
    "litigation": weight("Weight of domestic litigation (petition filed, order issued)."),
    "energy": weight("Weight of energy dependence on the visitor (against arrest)."),
    "economic": weight("Weight of trade, pipeline prospects and deals (against arrest)."),
    "partner": weight("Weight of economic partners' pressure (against arrest)."),
    "regional": weight("Weight of regional non-cooperation and neutrality (against arrest)."),
    "security": weight("Weight of military exposure times threat credibility (against arrest)."),
    "disposition_sd": weight("Spread of the host's unobserved disposition across worlds (logits)."),
    "stance_inertia": Spec(0.0, 1.0, "Share of yesterday's stance kept each day.",
                           open_high=True),
    "stance_noise": weight("Day-to-day noise in the host's stance (logits)."),
    "perception_sd": weight("Spread of the visitor's misreading of the host (logits)."),
    "risk_tolerance": Spec(0.0, 1.0, "Arrest probability the visitor accepts for a visit of "
                           "no particular value.", open_high=True),
    "visit_value_weight": weight("How much a valuable visit raises the risk accepted (logits)."),
    "order_rate": share("Daily chance that an independent court rules on a pending petition."),
    "order_shock": weight("Rise in the visitor's perceived risk when a court orders arrest "
                          "(logits)."),
}
