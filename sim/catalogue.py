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
    #: Value taken when a scenario leaves the parameter out; ``None`` makes it required.
    #: Defaults keep files written before the parameter existed meaning what they meant.
    default: float | None = None

    def expected(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.low == 0 and self.high == 1 and not self.integer:
            return "a share in [0, 1]"
        if self.low == -1 and self.high == 1:
            return "a signed score in [-1, 1]"
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


def signed(meaning: str, default: float) -> Spec:
    return Spec(-1.0, 1.0, meaning, default=default)


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
        "public_position": signed(
            "What the host has said in public before the forecast date: -1 it invited the visitor "
            "or promised not to arrest (e.g. declared it immune), +1 it said it would arrest, "
            "0 silent. Reversing a public commitment is costly; the visitor reads it through "
            "the host's intent.", default=0.0),
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
        "icc_stance": signed(
            "This actor's stance towards the Court: +1 its ties are conditioned on compliance "
            "with the warrant (the default), -1 it is hostile to the Court and conditions them "
            "on defiance.", default=1.0),
    },
    PARTNER: {
        "pressure_against_arrest": share(
            "Strength of the pressure this partner puts on the host over the warrant (e.g. a "
            "pipeline buyer that needs the transit route); its direction is icc_stance."),
        "icc_stance": signed(
            "Direction of this partner's pressure: -1 against arrest (the default, as the "
            "name of pressure_against_arrest says), +1 for compliance with the warrant.",
            default=-1.0),
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
    "supply_cutoff_threat": Spec(
        0.0, 1.0, "Credibility of a threat by the visitor to cut energy supply if its leader is "
        "arrested; it escalates like the other threats and bites through energy dependence.",
        default=0.0),
}

TIMELINE_PARAMS: dict[str, Spec] = {
    "days_before_visit": Spec(
        0, 365, "Days from the forecast date to the visitor's arrival (0: it arrives on the "
        "forecast date). The clock starts at the forecast date: what was known then is input.",
        integer=True),
    "visit_days": Spec(1, 60, "Planned length of the visit in days, arrival and departure "
                       "days included.", integer=True),
    "days_before_commitment": Spec(
        0, 365, "Days from the forecast date to the visitor's commitment, the last day on "
        "which it can still call the trip off (the summit opens, the plane leaves). Defaults "
        "to the arrival day; never later than it.", integer=True),
}

#: Timeline dates a scenario may give instead of (or with) the day counts.
TIMELINE_DATES: dict[str, str] = {
    "arrival": "The day the visitor arrives (planned).",
    "departure": "The day the visitor plans to leave.",
    "commitment": "Optional: the last day on which the visitor can still call the trip off "
                  "without a heavy cost (default: the arrival day).",
}

#: Global behavioural weights: shared by all scenarios, fitted by calibration.
#: Drive weights are in units of the cost of acting at all (the "1" in the host's
#: intent F / (F + A + 1), docs/MODEL.md): a weight of 19 on a factor at 1, alone,
#: gives an intent of 0.95.
WEIGHT_PARAMS: dict[str, Spec] = {
    "legal": weight("Drive towards arrest from the legal duty (obligation and implementing "
                    "law; the courts act through litigation)."),
    "court": weight("Drive towards arrest from the Court's engagement and sanction threat."),
    "western": weight("Drive from conditioned Western ties (signed by each actor's icc_stance)."),
    "lobbying": weight("Drive towards arrest from lobbying states' démarches."),
    "litigation": weight("Drive towards arrest from a petition pending before the host's courts "
                         "(scaled by their independence)."),
    "public_position": weight("Drive from the host's public position (a promise either way is "
                              "costly to reverse)."),
    "energy": weight("Drive against arrest from energy dependence on the visitor."),
    "economic": weight("Drive against arrest from trade, pipeline prospects and deals."),
    "partner": weight("Drive from economic partners' pressure (signed by their icc_stance)."),
    "regional": weight("Drive against arrest from a regional organisation's non-cooperation "
                       "call."),
    "neutrality": weight("Drive against arrest from a declared neutrality doctrine."),
    "security": weight("Drive against arrest from military exposure times threat credibility."),
    "disposition_sd": weight("Spread of the host's unobserved disposition across worlds "
                             "(logits of its intent)."),
    "stance_inertia": Spec(0.0, 1.0, "Share of yesterday's intent kept each day when the "
                           "pressures move.", open_high=True),
    "perception_sd": weight("Spread of the visitor's misreading of the host's intent (logits)."),
    "risk_tolerance": Spec(0.0, 1.0, "Risk of arrest over the whole stay that the visitor "
                           "accepts for a visit of no particular value.", open_high=True),
    "visit_value_weight": weight("How much a valuable visit raises the risk accepted (logits)."),
    "order_rate": share("Daily chance that a fully independent court rules on a pending "
                        "petition (scaled by the courts' independence)."),
}

#: Weights that version 1 had and version 2 dropped (they no longer mean anything);
#: a weights file that still gives them is refused with this explanation.
RETIRED_WEIGHTS: dict[str, str] = {
    "baseline": "model v2 has no intercept: without a duty or a pressure the host has no "
                "reason to act",
    "stance_noise": "model v2 has no daily noise in the host's stance: the visitor's "
                    "uncertainty about the host is perception_sd",
    "order_shock": "model v2 reads a court order through the host's obedience to its courts "
                   "(court_independence), the same quantity for host and visitor",
}
