"""The served page: a scenario picker over the panel.

``python -m sim explore`` serves this page with Voilà (see :mod:`sim.explore.serve`): each
visitor gets a kernel of their own, so one visitor's settings never reach another.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..errors import ScenarioError
from ..scenario import load_scenario
from .panel import Explorer, check_settings


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files under ``folder`` (``*.yaml``, sub-folders included), sorted;
    itineraries (several visits) are not scenarios the panel can show."""
    from ..itinerary.spec import is_itinerary

    return sorted(p for p in Path(folder).rglob("*.yaml")
                  if p.is_file() and not is_itinerary(p))


def page(scenarios: str | Path, initial: str | Path, runs: int, seed: int) -> widgets.VBox:
    """The page: a dropdown of the scenarios under ``scenarios`` and the panel of the one
    picked, which starts as ``initial``.

    Parameters
    ----------
    scenarios : path
        The folder whose ``*.yaml`` files the picker offers.
    initial : path
        The scenario shown first (added to the picker if it lies elsewhere).
    runs, seed : int
        As for :func:`sim.explore.explore` (runs capped at
        :data:`sim.explore.panel.MAX_RUNS`).
    """
    runs, seed = check_settings(runs, seed)
    folder, first = Path(scenarios).resolve(), Path(initial).resolve()
    files = scenario_files(folder)
    if first not in files:
        files.insert(0, first)

    def label(path: Path) -> str:
        return str(path.relative_to(folder)) if path.is_relative_to(folder) else str(path)

    picker = widgets.Dropdown(options=[(label(p), p) for p in files], value=first,
                              description="Scenario", layout=widgets.Layout(width="auto"))
    picker.add_class("sim-scenario-picker")
    holder = widgets.VBox(layout=widgets.Layout(width="auto"))

    def show(path: Path) -> None:
        holder.children = [widgets.HTML(f"<i>loading {html.escape(label(path))}\u2026</i>")]
        try:
            holder.children = [Explorer(load_scenario(path), runs=runs, seed=seed)]
        except ScenarioError as exc:
            problems = "".join(f"<li>{html.escape(str(p))}</li>" for p in exc.problems)
            holder.children = [widgets.HTML(f"<div class='sim-error' style='color:#b00'>"
                                            f"This file is not a valid scenario:<ul>{problems}"
                                            "</ul></div>")]

    picker.observe(lambda change: show(change["new"]), names="value")
    show(first)
    return widgets.VBox([picker, holder],
                        layout=widgets.Layout(width="auto", max_width="980px"))
