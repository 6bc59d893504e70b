"""Interactive exploration of a scenario: ``sim.explore(scenario)`` in a notebook, and
``python -m sim explore`` for the same panel served as a web page.

>>> import sim
>>> sim.explore(sim.load_scenario("scenarios/mongolia_2024.yaml"))   # sliders, charts

Modules: ``knobs`` (which parameters a scenario offers, from the catalogue), ``views`` (the
table and charts of a comparison), ``panel`` (the widgets), ``page`` (the served page: a
scenario picker over the panel), ``serve`` (starting Voilà) and ``commands`` (the command).
Importing this package loads none of them, so the command line stays fast.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..scenario import Scenario
    from .panel import Explorer

#: Runs per update at most: a slider move stays interactive (about half a second at 50,000),
#: and on a served page one visitor cannot occupy the machine.
MAX_RUNS = 200_000
DEFAULT_RUNS = 50_000
DEFAULT_SEED = 1


def explore(scenario: Scenario, runs: int = DEFAULT_RUNS, seed: int = DEFAULT_SEED) -> Explorer:
    """The interactive panel for ``scenario``: sliders and dropdowns for its knobs, the
    baseline against the variant with paired differences, and the variant's drivers.

    Parameters
    ----------
    scenario : Scenario
        The baseline, from :func:`sim.load_scenario`.
    runs : int
        Runs of the baseline and of the variant per update (at most 200,000).
    seed : int
        Fixes every number: the variant's probabilities are those of
        ``sim.run(variant, runs=runs, seed=seed)``.

    Returns
    -------
    Explorer
        An ipywidgets box: the last expression of a notebook cell shows it.  Its
        ``comparison`` holds the latest result, ``variant()`` the scenario the knobs set.

    Raises
    ------
    UsageError
        If ``runs`` or ``seed`` is not a whole number in range.
    """
    from .panel import Explorer

    return Explorer(scenario, runs=runs, seed=seed)


class _CallableModule(types.ModuleType):
    """``sim.explore`` is both this package and the function: importing a submodule binds
    the package to ``sim.explore``, and calling it calls :func:`explore`."""

    def __call__(self, scenario: Scenario, runs: int = DEFAULT_RUNS,
                 seed: int = DEFAULT_SEED) -> Explorer:
        return explore(scenario, runs=runs, seed=seed)


sys.modules[__name__].__class__ = _CallableModule
