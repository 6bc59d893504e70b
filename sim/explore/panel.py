"""The interactive panel: sliders and dropdowns for a scenario's knobs, and the baseline
against the variant they set, run on the same worlds.

It is an ipywidgets box, so it shows in JupyterLab, Notebook, VS Code and on the page served
by ``python -m sim explore``.  Every update runs :func:`sim.analysis.compare.compare` on the
baseline and the variant with the panel's seed, so the variant's numbers are exactly those of
``sim.run(variant, runs=..., seed=...)`` and its change from the baseline comes from paired
worlds.
"""

from __future__ import annotations

import html
import time

import ipywidgets as widgets  # type: ignore[import-untyped]

from ..analysis.compare import Comparison, compare
from ..errors import SimError, UsageError
from ..scenario import Scenario
from . import DEFAULT_RUNS, DEFAULT_SEED, MAX_RUNS, views
from .knobs import Knob, knobs_for, variant_of

#: The dropdowns' first option: the scenario's own values (and ranges).
AS_IN_SCENARIO = "as in the scenario"
#: The panel's controls wrap into as many columns of this width as fit.
GROUP_WIDTH = "290px"


def check_settings(runs: object, seed: object) -> tuple[int, int]:
    """``runs`` and ``seed`` as whole numbers, or a :class:`UsageError` saying what is wrong."""
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise UsageError(f"runs per update must be a whole number from 1 to {MAX_RUNS:,}, "
                         f"got {runs!r}",
                         hint="more runs make each slider move slower; 50,000 take about "
                              "half a second")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"the seed must be a whole number >= 0, got {seed!r}")
    return runs, seed


class Explorer(widgets.VBox):
    """The panel for one scenario; see :func:`sim.explore.explore`.

    Attributes
    ----------
    scenario : Scenario
        The baseline.
    knobs : list of Knob
        The controls' parameters, from :func:`sim.explore.knobs.knobs_for`.
    controls : dict of str to ipywidgets.Widget
        One slider or dropdown per knob, by knob name.
    comparison : Comparison or None
        The latest baseline-against-variant result (``comparison.results[1]`` is the variant).
    updates : int
        How many times the panel has computed and drawn (a reset counts once).
    """

    def __init__(self, scenario: Scenario, runs: int = DEFAULT_RUNS, seed: int = DEFAULT_SEED):
        self.runs, self.seed = check_settings(runs, seed)
        self.scenario = scenario
        self.knobs = knobs_for(scenario)
        self.controls = {k.name: self._control(k) for k in self.knobs}
        self.start = {name: c.value for name, c in self.controls.items()}
        self.comparison: Comparison | None = None
        self.updates = 0
        self.seconds = 0.0  # how long the latest update took
        self._holding = False

        self.status = widgets.HTML(layout=widgets.Layout(width="auto"))
        self.status.add_class("sim-status")
        self.table = widgets.HTML(layout=widgets.Layout(width="auto", overflow="auto"))
        self.table.add_class("sim-table")
        chart = {"width": "100%", "max_width": "650px", "height": "auto"}
        self.outcome_chart = widgets.Image(format="png", layout=widgets.Layout(**chart))
        self.outcome_chart.add_class("sim-outcome-chart")
        self.drivers_chart = widgets.Image(format="png", layout=widgets.Layout(**chart))
        self.drivers_chart.add_class("sim-drivers-chart")
        self.reset_button = widgets.Button(description="Reset", icon="undo",
                                           tooltip="Put every knob back to the scenario",
                                           layout=widgets.Layout(width="auto"))
        self.reset_button.on_click(lambda _: self.reset())

        heading = widgets.HTML(
            f"<b>{html.escape(scenario.title)}</b><br><span style='color:#555'>Move a knob: "
            f"the variant is run again ({self.runs:,} runs, seed {self.seed}) and compared "
            "with the baseline on the same worlds. Untouched knobs keep the scenario's values "
            "and ranges.</span>", layout=widgets.Layout(width="auto"))
        groups = widgets.Box([self._group(g) for g in dict.fromkeys(k.group for k in self.knobs)],
                             layout=widgets.Layout(display="flex", flex_flow="row wrap",
                                                   width="auto"))
        bar = widgets.Box([self.reset_button, self.status],
                          layout=widgets.Layout(display="flex", flex_flow="row wrap",
                                                align_items="center", width="auto"))
        super().__init__([heading, groups, bar, self.table, self.outcome_chart,
                          self.drivers_chart], layout=widgets.Layout(width="auto"))
        self.add_class("sim-explorer")
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.update()

    def __repr__(self) -> str:  # what a static rendering of a notebook shows
        return (f"sim.explore panel: {self.scenario.title}\n{len(self.knobs)} knobs, "
                f"{self.runs:,} runs per update, seed {self.seed} (the widgets need a live "
                "kernel)")

    # -- building
    def _control(self, knob: Knob) -> widgets.Widget:
        layout = widgets.Layout(width="auto")
        if knob.choices:
            first = f"{AS_IN_SCENARIO}: {knob.described(self.scenario)}"
            control: widgets.Widget = widgets.Dropdown(
                options=[first, *(label for label, _ in knob.choices)], layout=layout)
        else:
            decimals = max(0, -int(f"{knob.step:e}".split("e")[1]))
            control = widgets.FloatSlider(
                value=knob.start(self.scenario), min=knob.low, max=knob.high, step=knob.step,
                readout_format=f".{decimals}f", continuous_update=False, layout=layout)
        control.add_class(f"sim-knob-{knob.name}")
        return control

    def _group(self, title: str) -> widgets.Widget:
        rows: list[widgets.Widget] = [widgets.HTML(f"<b>{html.escape(title)}</b>")]
        for knob in self.knobs:
            if knob.group == title:
                label = widgets.HTML(f'<span title="{html.escape(knob.meaning)}">'
                                     f"{html.escape(knob.label)}</span>",
                                     layout=widgets.Layout(width="auto"))
                rows += [label, self.controls[knob.name]]
        return widgets.VBox(rows, layout=widgets.Layout(flex=f"1 1 {GROUP_WIDTH}", width="auto",
                                                        min_width="0", margin="0 12px 10px 0"))

    # -- state
    def settings(self) -> dict[str, float]:
        """The knobs moved away from their start, and their values."""
        settings = {}
        for knob in self.knobs:
            value = self.controls[knob.name].value
            if knob.choices:
                chosen = dict(knob.choices).get(value)
                if chosen is not None:
                    settings[knob.name] = chosen
            elif abs(value - self.start[knob.name]) > knob.step / 2:
                settings[knob.name] = float(value)
        return settings

    def variant(self) -> Scenario:
        """The scenario with the moved knobs fixed at their values."""
        return variant_of(self.scenario, self.settings(), self.knobs)

    # -- updates
    def _changed(self, _change) -> None:
        if not self._holding:
            self.update()

    def reset(self) -> None:
        """Put every knob back to its start, then compute and draw once."""
        self._holding = True
        try:
            for name, control in self.controls.items():
                control.value = self.start[name]
        finally:
            self._holding = False
        self.update()

    def update(self) -> None:
        """Run the baseline and the variant on the same worlds and redraw; the status line
        says "computing…" while it runs."""
        self.status.value = "<span class='sim-busy'>\u23f3 computing\u2026</span>"
        self.add_class("sim-computing")
        started = time.perf_counter()
        try:
            comparison = compare(self.scenario, [self.variant()], runs=self.runs,
                                 seed=self.seed)
            self.table.value = views.table_html(comparison)
            self.outcome_chart.value = views.png(views.outcome_figure(comparison))
            self.drivers_chart.value = views.png(views.drivers_figure(comparison.results[1]))
        except SimError as exc:
            self.status.value = (f"<span class='sim-error' style='color:#b00'>"
                                 f"{html.escape(str(exc))}</span>")
            return
        finally:
            self.remove_class("sim-computing")
        self.comparison = comparison
        self.updates += 1
        self.seconds = time.perf_counter() - started
        moved = ", ".join(f"{name} = {value:g}" for name, value in self.settings().items())
        self.status.value = (f"<span class='sim-done' data-update='{self.updates}'>"
                             f"{html.escape(moved or 'no knob moved')}: "
                             f"{self.runs:,} runs in {self.seconds:.2f} s</span>")
