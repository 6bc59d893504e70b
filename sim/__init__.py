"""Agent-based Monte Carlo forecasts of visits by people wanted by the ICC.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/mongolia_2024.yaml")
>>> result = sim.run(scenario, runs=100_000, seed=1)
>>> result.probabilities, result.intervals
>>> result.plot()

The names below are loaded when first used (``import sim`` itself stays light, so that
``python -m sim validate`` and ``--help`` answer without loading Mesa, pandas or
matplotlib).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import Problem, ScenarioError, SimError, UsageError
from .outcomes import OUTCOMES

if TYPE_CHECKING:
    from . import plots
    from .engine import run
    from .explore import explore
    from .results import RunResult
    from .scenario import Scenario, load_scenario

__all__ = ["load_scenario", "run", "plots", "Scenario", "RunResult", "OUTCOMES", "Problem",
           "ScenarioError", "SimError", "UsageError", "explore"]

#: Each name loaded on first use: the module that holds it, and its name there (None for
#: the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "load_scenario": (".scenario", "load_scenario"),
    "Scenario": (".scenario", "Scenario"),
    "run": (".engine", "run"),
    "explore": (".explore", "explore"),
    "RunResult": (".results", "RunResult"),
    "plots": (".plots", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # later uses find it without coming here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
