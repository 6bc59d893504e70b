"""Agent-based Monte Carlo forecasts of visits by people wanted by the ICC.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/mongolia_2024.yaml")
>>> result = sim.run(scenario, runs=100_000, seed=1)
>>> result.probabilities, result.intervals
>>> result.plot()
"""

from . import plots
from .engine import run
from .errors import Problem, ScenarioError, SimError, UsageError
from .outcomes import OUTCOMES
from .results import RunResult
from .scenario import Scenario, load_scenario

__all__ = ["load_scenario", "run", "plots", "Scenario", "RunResult", "OUTCOMES", "Problem",
           "ScenarioError", "SimError", "UsageError"]
