"""The knobs of the explorer: which parameters a scenario offers, under which names.

A *knob* names one or more key paths that move together: the Western knobs, for instance,
set the same value for every actor in the ``western_bloc`` role.  Knobs come from the
catalogue (:mod:`sim.catalogue`): their bounds and their help text are the catalogue's, and a
knob whose role no actor of the scenario takes is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import catalogue as cat
from ..scenario import Scenario


@dataclass(frozen=True)
class Knob:
    """One control of the panel.

    Attributes
    ----------
    name : str
        The catalogue's name of the parameter (``fuel_import_share``).
    label : str
        What the panel shows, with the scenario's actor names.
    group : str
        The heading it is shown under (one per agent).
    paths : tuple of str
        The key paths it sets, all to the same value.
    meaning : str
        The catalogue's explanation, shown as the control's tooltip.
    low, high, step : float
        The slider's range and step.
    choices : tuple of (str, float)
        For a dropdown: labelled values; the dropdown's first option, "as in the scenario",
        keeps the scenario's own values.  Empty for a slider.
    """

    name: str
    label: str
    group: str
    paths: tuple[str, ...]
    meaning: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[tuple[str, float], ...] = ()

    def start(self, scenario: Scenario) -> float:
        """Where the slider starts: the scenario's mean over the knob's paths, on the grid."""
        mean = float(np.mean([scenario.value(p) for p in self.paths]))
        on_grid = round(round(mean / self.step) * self.step, 6)
        return float(min(max(on_grid, self.low), self.high))

    def described(self, scenario: Scenario) -> str:
        """The scenario's own values of the knob's paths, in words (``triangular(...)``)."""
        shown = sorted({scenario.parameters[p].dist.describe() for p in self.paths})
        return ", ".join(shown)


def _short(name: str) -> str:
    """An actor's name without its parenthesis: "Russia (Vladimir Putin)" -> "Russia"."""
    return name.split(" (")[0]


def knobs_for(scenario: Scenario) -> list[Knob]:
    """The knobs that ``scenario`` offers, grouped by agent, in the panel's order."""
    host, visitor, court = scenario.host, scenario.visitor, scenario.court
    tie = f"actors.{host.id}.ties.{visitor.id}"

    def role_paths(role: str, name: str) -> tuple[str, ...]:
        return tuple(f"actors.{a.id}.params.{name}" for a in scenario.with_role(role))

    western = ", ".join(_short(a.name) for a in scenario.with_role(cat.WESTERN))
    host_name, visitor_name = _short(host.name), _short(visitor.name)
    ties_group = f"{host_name}'s ties to {visitor_name}"
    knobs = [
        Knob("fuel_import_share", f"Fuel bought from {visitor_name}", ties_group,
             (f"{tie}.fuel_import_share",), cat.TIE_PARAMS["fuel_import_share"].meaning),
        Knob("pipeline_prospect", "Pipeline or transit prospect", ties_group,
             (f"{tie}.pipeline_prospect",), cat.TIE_PARAMS["pipeline_prospect"].meaning,
             choices=(("off the table (0)", 0.0), ("under negotiation (0.6)", 0.6),
                      ("agreement signed (0.9)", 0.9))),
        Knob("supply_cutoff_threat", "Threat to cut energy supply", ties_group,
             (f"{tie}.supply_cutoff_threat",), cat.TIE_PARAMS["supply_cutoff_threat"].meaning),
        Knob("courting", "Western courting (aid, ties)", f"Western partners ({western})",
             role_paths(cat.WESTERN, "courting"), cat.ROLE_PARAMS[cat.WESTERN]["courting"].meaning),
        Knob("conditionality", "Western aid conditioned on arrest",
             f"Western partners ({western})", role_paths(cat.WESTERN, "conditionality"),
             cat.ROLE_PARAMS[cat.WESTERN]["conditionality"].meaning),
        Knob("engagement", "ICC engagement", "The Court", (f"actors.{court.id}.params.engagement",),
             cat.ROLE_PARAMS[cat.COURT]["engagement"].meaning),
        Knob("sanction_credibility", "ICC sanction credibility", "The Court",
             (f"actors.{court.id}.params.sanction_credibility",),
             cat.ROLE_PARAMS[cat.COURT]["sanction_credibility"].meaning),
        Knob("litigation_capacity", "Litigation capacity", f"{host_name}'s courts and NGOs",
             role_paths(cat.DOMESTIC, "litigation_capacity"),
             cat.ROLE_PARAMS[cat.DOMESTIC]["litigation_capacity"].meaning),
        Knob("petition_pending", "Court petition at the forecast date",
             f"{host_name}'s courts and NGOs", role_paths(cat.DOMESTIC, "petition_pending"),
             cat.ROLE_PARAMS[cat.DOMESTIC]["petition_pending"].meaning,
             choices=(("none filed (0)", 0.0), ("already before a court (1)", 1.0))),
        Knob("public_position", "Public position (\u22121 immune, +1 arrest)",
             f"{host_name}'s government", (f"actors.{host.id}.params.public_position",),
             cat.ROLE_PARAMS[cat.HOST]["public_position"].meaning, low=-1.0, step=0.05),
        Knob("risk_tolerance", "Risk tolerance (all visitors)", f"The visitor: {visitor.name}",
             ("weights.risk_tolerance",), cat.WEIGHT_PARAMS["risk_tolerance"].meaning,
             low=0.005, high=0.3, step=0.005),
        Knob("visit_value", "Value of the visit", f"The visitor: {visitor.name}",
             (f"actors.{visitor.id}.params.visit_value",),
             cat.ROLE_PARAMS[cat.VISITOR]["visit_value"].meaning),
    ]
    return [k for k in knobs if k.paths and all(p in scenario.parameters for p in k.paths)]


def variant_of(scenario: Scenario, settings: dict[str, float], knobs: list[Knob]) -> Scenario:
    """``scenario`` with each knob named in ``settings`` fixed at its value (all its paths).

    Knobs not named keep the scenario's own values and ranges; with no settings the
    scenario itself is returned.
    """
    by_name = {k.name: k for k in knobs}
    values = {path: float(value) for name, value in settings.items()
              for path in by_name[name].paths}
    if not values:
        return scenario
    return scenario.with_values(values, note="set in the explorer (sim.explore)")
