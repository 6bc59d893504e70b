"""Policy levers: which settings of the parameters an actor controls serve a goal best,
across the uncertainty about everything else (robust decision making).

A lever is a parameter by key path (``actors.united_states.params.conditionality``,
``actors.mongolia.ties.russia.fuel_import_share``, ``timeline.days_before_visit``) and
the range its actor could set it in.  Every combination of lever settings on a grid (a
*candidate*) is run on the same worlds (common random numbers: one seed, so every other
uncertain parameter draws the same values in every candidate and the agents the same
noise), which makes the differences between candidates those of the levers alone.

For each candidate and goal (an outcome, or several joined by ``+``, to maximise or
minimise) it reports

* the goal's probability over all worlds, with its 95% Wilson interval;
* its **worst case** and **regret** across the uncertainty: the worlds are grouped into
  scenarios by quantile (for every uncertain parameter that is not a lever, its
  quartiles by default: "the worlds where ``fuel_import_share`` is in its top quarter");
  in each scenario the goal's probability is estimated for every candidate; a
  candidate's regret in a scenario is how far it falls short of the best candidate
  there, and its *maximum regret* is the largest over the scenarios (Savage's minimax
  regret, as in Lempert et al. 2006's robust decision making);
* with two goals, whether it is on the Pareto front (no other candidate does at least
  as well on both goals and better on one).

Costs and feasibility are simple bounds: ``cost`` is the sum, over the levers given a
unit cost, of the cost times the distance moved from the scenario's value, and a
constraint bounds the cost, a lever's value or an outcome's probability; candidates
that break one are reported but neither ranked nor used as the benchmark of regret.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ScenarioError, UsageError
from ..scenario import Scenario
from .discovery import occurred, outcome_set

#: Most candidates x worlds a lever search holds (one byte per world's outcome).
MAX_LEVER_WORLDS = 50_000_000
KEY_HINT = "list the scenario's key paths with Scenario.parameters (docs/MODEL.md)"


def _number(text: str, what: str) -> float:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{what}: need a finite number, got {text!r}")
    return value


@dataclass(frozen=True)
class Lever:
    """A parameter an actor controls, by key path, and the range it could set it in."""

    key: str
    low: float
    high: float
    steps: int = 0  # 0: the search's default

    @classmethod
    def parse(cls, text: str) -> Lever:
        """``KEY=LOW:HIGH`` or ``KEY=LOW:HIGH:STEPS``."""
        key, sep, spec = text.partition("=")
        parts = spec.split(":")
        if not sep or not key.strip() or len(parts) not in (2, 3):
            raise UsageError(f"cannot read --lever {text!r}",
                             hint="write KEY=LOW:HIGH or KEY=LOW:HIGH:STEPS, e.g. "
                                  "actors.united_states.params.conditionality=0:0.8")
        low = _number(parts[0], f"--lever {text!r}")
        high = _number(parts[1], f"--lever {text!r}")
        steps = 0
        if len(parts) == 3:
            if not parts[2].strip().isdigit() or not 2 <= int(parts[2]) <= 101:
                raise UsageError(f"--lever {text!r}: STEPS must be a whole number from 2 "
                                 "to 101")
            steps = int(parts[2])
        if low >= high:
            raise UsageError(f"--lever {text!r}: need LOW < HIGH")
        return cls(key.strip(), low, high, steps)

    def values(self, scenario: Scenario, steps: int) -> np.ndarray:
        """The lever's settings: ``steps`` evenly spaced (whole numbers, without repeats,
        for a whole-number parameter), checked against the parameter's bounds."""
        parameter = scenario.parameters.get(self.key)
        if parameter is None:
            close = difflib.get_close_matches(self.key, list(scenario.parameters), n=1)
            raise UsageError(f"lever {self.key!r} is not a parameter of {scenario.id}",
                             hint=f"did you mean {close[0]}?" if close else KEY_HINT)
        spec = parameter.spec
        if not spec.admits(self.low, self.high):
            raise UsageError(f"lever {self.key}: the range {self.low:g}:{self.high:g} is "
                             f"outside its bounds ({spec.expected()})")
        grid = np.linspace(self.low, self.high, self.steps or steps)
        if spec.integer:
            grid = np.unique(np.round(grid))
        return grid


@dataclass(frozen=True)
class Goal:
    """Outcomes whose probability (of any of them) is to be maximised or minimised."""

    outcomes: tuple[str, ...]
    maximise: bool = True

    @classmethod
    def parse(cls, text: str, maximise: bool = True) -> Goal:
        """``A``, ``A+B``, optionally with ``:max`` or ``:min`` (else ``maximise``)."""
        body, _, direction = str(text).partition(":")
        if direction and direction.strip() not in ("max", "min"):
            raise UsageError(f"--goal {text!r}: the direction after ':' must be max or min")
        if direction:
            maximise = direction.strip() == "max"
        return cls(outcome_set(body), maximise)

    @property
    def label(self) -> str:
        return "+".join(self.outcomes)

    @property
    def direction(self) -> str:
        return "maximise" if self.maximise else "minimise"


@dataclass(frozen=True)
class Constraint:
    """A simple bound: ``NAME<=VALUE`` or ``NAME>=VALUE``, NAME being ``cost``, a lever
    key or outcomes (their probability)."""

    name: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        match = re.fullmatch(r"\s*([^<>=\s]+)\s*(<=|>=)\s*(\S+)\s*", str(text))
        if not match:
            raise UsageError(f"cannot read --constraint {text!r}",
                             hint="write NAME<=VALUE or NAME>=VALUE; NAME is cost, a lever "
                                  "key or outcomes, e.g. left_early<=0.05")
        return cls(match[1], match[2], _number(match[3], f"--constraint {text!r}"))

    def holds(self, value: np.ndarray) -> np.ndarray:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.bound:g}"


def parse_cost(text: str) -> tuple[str, float]:
    """``KEY=PER_UNIT``: the cost of moving lever KEY by one unit."""
    key, sep, value = str(text).partition("=")
    if not sep or not key.strip():
        raise UsageError(f"cannot read --cost {text!r}", hint="write KEY=COST_PER_UNIT")
    cost = _number(value, f"--cost {text!r}")
    if cost < 0:
        raise UsageError(f"--cost {text!r}: a cost must be >= 0")
    return key.strip(), cost


@dataclass
class LeverResult:
    """The candidates of a lever search and how well each serves each goal.

    Arrays have one row per candidate; those per goal one column per goal.
    """

    scenario_id: str
    title: str
    levers: list[Lever]
    goals: list[Goal]
    candidates: np.ndarray  # (n, levers)
    counts: np.ndarray  # (n, goals): worlds in which the goal happened
    runs: int
    seed: int
    worst_case: np.ndarray  # (n, goals): the goal's probability in its worst scenario
    worst_scenario: list[list[str]]
    max_regret: np.ndarray  # (n, goals); NaN for infeasible candidates
    cost: np.ndarray  # (n,)
    feasible: np.ndarray  # (n,) bool
    status_quo: np.ndarray  # (goals,): the goal's probability in the scenario as given
    bins: int
    constraints: list[Constraint]

    @property
    def probabilities(self) -> np.ndarray:
        return self.counts / self.runs

    @property
    def pareto(self) -> np.ndarray:
        """Feasible candidates that no other feasible one does at least as well as on
        every goal and better on one (with one goal: those of the best probability)."""
        score = self.probabilities * np.where([g.maximise for g in self.goals], 1.0, -1.0)
        front = self.feasible.copy()
        for i in np.flatnonzero(self.feasible):
            others = score[self.feasible]
            beaten = (others >= score[i]).all(axis=1) & (others > score[i]).any(axis=1)
            front[i] = not beaten.any()
        return front

    def best(self, goal: int = 0) -> int:
        """The feasible candidate with the best probability of goal ``goal``."""
        p = self.probabilities[:, goal] * (1 if self.goals[goal].maximise else -1)
        return int(np.argmax(np.where(self.feasible, p, -np.inf)))

    def most_robust(self, goal: int = 0) -> int:
        """The feasible candidate of least maximum regret for goal ``goal`` (ties: the
        better probability)."""
        p = self.probabilities[:, goal] * (1 if self.goals[goal].maximise else -1)
        order = np.lexsort((-p, np.where(self.feasible, self.max_regret[:, goal], np.inf)))
        return int(order[0])

    def frame(self) -> pd.DataFrame:
        """Tidy: one row per candidate and goal."""
        from ..results import wilson_interval

        rows = []
        pareto = self.pareto
        for i, values in enumerate(self.candidates):
            for j, goal in enumerate(self.goals):
                lo, hi = wilson_interval(int(self.counts[i, j]), self.runs)
                rows.append({"candidate": i,
                             **{lv.key: float(v) for lv, v in zip(self.levers, values,
                                                                  strict=True)},
                             "goal": goal.label, "direction": goal.direction,
                             "probability": self.counts[i, j] / self.runs,
                             "ci95_low": lo, "ci95_high": hi,
                             "worst_case": self.worst_case[i, j],
                             "worst_scenario": self.worst_scenario[i][j],
                             "max_regret": self.max_regret[i, j], "cost": self.cost[i],
                             "feasible": bool(self.feasible[i]), "pareto": bool(pareto[i]),
                             "status_quo": self.status_quo[j], "runs": self.runs})
        return pd.DataFrame(rows)

    def table(self, top: int = 10) -> str:
        """The best candidates by the first goal, as text."""
        frame = self.frame()
        g0 = self.goals[0]
        lines = [f"{self.title} ({self.scenario_id}): {len(self.candidates)} lever settings x "
                 f"{self.runs:,} worlds each on common random numbers, seed {self.seed}",
                 "goals: " + "; ".join(f"{g.direction} P({g.label}) (as given "
                                        f"{self.status_quo[j]:.4f})"
                                        for j, g in enumerate(self.goals)),
                 f"regret: worst shortfall from the best setting over {self._scenarios()}"]
        if self.constraints:
            lines.append(f"constraints: {', '.join(map(str, self.constraints))} "
                         f"({int(self.feasible.sum())} of {len(self.feasible)} settings "
                         "feasible)")
        wide = frame[frame.goal == g0.label].set_index("candidate")
        for g in self.goals[1:]:
            other = frame[frame.goal == g.label].set_index("candidate")
            wide[f"P({g.label})"] = other.probability
            wide[f"regret({g.label})"] = other.max_regret
        wide = wide[wide.feasible].sort_values("probability", ascending=not g0.maximise)
        shown = wide.head(top)
        keys = [lv.key for lv in self.levers]
        columns = {k: _short(k) for k in keys}
        out = shown[keys].rename(columns=columns).copy()
        out[f"P({g0.label})"] = shown.probability.map("{:.4f}".format)
        out["95% interval"] = [f"[{a:.4f}, {b:.4f}]" for a, b in zip(shown.ci95_low,
                                                                     shown.ci95_high,
                                                                     strict=True)]
        out["worst case"] = shown.worst_case.map("{:.4f}".format)
        out["max regret"] = shown.max_regret.map("{:.4f}".format)
        for g in self.goals[1:]:
            out[f"P({g.label})"] = shown[f"P({g.label})"].map("{:.4f}".format)
            out[f"regret({g.label})"] = shown[f"regret({g.label})"].map("{:.4f}".format)
        if len(self.goals) == 2:
            out["pareto"] = shown.pareto.map({True: "yes", False: ""})
        if (self.cost > 0).any():
            out["cost"] = shown.cost.map("{:.3g}".format)
        lines.append(out.to_string())
        for j, g in enumerate(self.goals):
            b, r = self.best(j), self.most_robust(j)
            lines.append(f"{g.direction} P({g.label}): best setting {b} "
                         f"({self.probabilities[b, j]:.4f}); most robust {r} (max regret "
                         f"{self.max_regret[r, j]:.4f}, worst case {self.worst_case[r, j]:.4f} "
                         f"where {self.worst_scenario[r][j]})")
        if len(self.goals) == 2:
            lines.append(f"Pareto set: settings {', '.join(map(str, np.flatnonzero(self.pareto)))}")
        return "\n".join(lines)

    def _scenarios(self) -> str:
        return (f"scenarios of worlds grouped by the {self.bins}-quantiles of each "
                "uncertain parameter that is not a lever")

    def plot(self, ax=None):
        """One goal: each setting's probability (with its 95% interval) against its
        maximum regret; two goals: the settings on both goals, the Pareto front joined.
        Returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 5))
        frame = self.frame()
        g0 = self.goals[0]
        first = frame[frame.goal == g0.label].reset_index(drop=True)
        ok = first.feasible.to_numpy()
        if len(self.goals) == 1:
            x, y = first.probability, first.max_regret
            ax.errorbar(x[ok], y[ok], xerr=[x[ok] - first.ci95_low[ok],
                                           first.ci95_high[ok] - x[ok]],
                        fmt="o", color="tab:blue", ms=4, lw=0.8, label="lever setting")
            ax.set_ylabel(f"maximum regret in P({g0.label})")
            for name, i, colour, size in (("best", self.best(0), "crimson", 260),
                                          ("most robust", self.most_robust(0), "darkgreen",
                                           120)):
                ax.scatter([x[i]], [y[i]], s=size, facecolors="none", edgecolors=colour,
                           linewidths=1.8, zorder=4, label=f"{name}: {self._describe(i)}")
            ax.axvline(self.status_quo[0], color="0.4", ls="--", lw=0.8,
                       label=f"as given {self.status_quo[0]:.3f}")
            ax.set_xlabel(f"P({g0.label}) over all worlds, 95% interval ({g0.direction})")
        else:
            g1 = self.goals[1]
            second = frame[frame.goal == g1.label].reset_index(drop=True)
            x, y = first.probability, second.probability
            ax.scatter(x[ok], y[ok], s=18, color="tab:blue", label="lever setting")
            if (~ok).any():
                ax.scatter(x[~ok], y[~ok], s=18, color="0.75", label="infeasible")
            front = np.flatnonzero(self.pareto)
            front = front[np.argsort(x.to_numpy()[front])]
            ax.plot(x[front], y[front], "o-", color="crimson", ms=6, lw=1.2,
                    label="Pareto front")
            for i in front[:12]:
                ax.annotate(str(i), (x[i], y[i]), fontsize=7, xytext=(3, 3),
                            textcoords="offset points")
            ax.scatter([self.status_quo[0]], [self.status_quo[1]], marker="x", color="k",
                       s=50, label="as given")
            ax.set_xlabel(f"P({g0.label}) ({g0.direction})")
            ax.set_ylabel(f"P({g1.label}) ({g1.direction})")
        ax.set_title(f"{self.scenario_id}: lever settings ({len(self.candidates)}, "
                     f"{self.runs:,} worlds each)", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
        return ax

    def _describe(self, i: int) -> str:
        return ", ".join(f"{_short(lv.key)}={v:.3g}"
                         for lv, v in zip(self.levers, self.candidates[i], strict=True))

    def summary(self) -> dict:
        """What ``levers.json`` holds."""
        return {
            "scenario": self.scenario_id, "title": self.title, "runs": self.runs,
            "seed": self.seed, "bins": self.bins,
            "levers": [{"key": lv.key, "low": lv.low, "high": lv.high} for lv in self.levers],
            "goals": [{"outcomes": list(g.outcomes), "direction": g.direction,
                       "status_quo": float(self.status_quo[j])}
                      for j, g in enumerate(self.goals)],
            "constraints": [str(c) for c in self.constraints],
            "best": {g.label: {"candidate": self.best(j), "setting": self._setting(self.best(j))}
                     for j, g in enumerate(self.goals)},
            "most_robust": {g.label: {"candidate": self.most_robust(j),
                                      "setting": self._setting(self.most_robust(j))}
                            for j, g in enumerate(self.goals)},
            "pareto": [int(i) for i in np.flatnonzero(self.pareto)] if len(self.goals) == 2
            else None,
            "regret": "max over " + self._scenarios() + " of the best setting's probability "
                      "there minus this setting's (for a goal to minimise: this setting's "
                      "minus the best)",
        }

    def _setting(self, i: int) -> dict[str, float]:
        return {lv.key: float(v) for lv, v in zip(self.levers, self.candidates[i], strict=True)}

    def save(self, folder: str | Path) -> list[str]:
        """Write ``levers.csv`` (:meth:`frame`), ``levers.json`` and ``levers.png`` into
        ``folder`` (which exists); returns the names written."""
        from ..output import save_chart, write_csv, write_json

        folder = Path(folder)
        write_csv(self.frame(), folder / "levers.csv")
        write_json(folder / "levers.json", self.summary())
        save_chart(self.plot(), folder / "levers.png")
        return ["levers.csv", "levers.json", "levers.png"]

    def __repr__(self) -> str:
        return self.table()


def _short(name: str) -> str:
    from .discovery import _short as short

    return short(name)


def _candidate_outcomes(scenario: Scenario, seed: int, plan) -> np.ndarray:
    from ..engine import simulate_chunk

    parts = []
    for first, sizes in plan:
        chunk = simulate_chunk(scenario, seed, first, sizes, with_table=False,
                               with_outcomes=True)
        assert chunk.outcomes is not None
        parts.append(chunk.outcomes.astype(np.int8))
    return np.concatenate(parts)


def _scenario_groups(scenario: Scenario, seed: int, plan, names: list[str],
                     bins: int) -> tuple[np.ndarray, list[str]]:
    """Each world's quantile bin of each parameter in ``names``: shape (worlds, names),
    and a description of every (parameter, bin)."""
    from ..sampling import draw_parameters
    from ..streams import Streams

    parts = []
    for first, sizes in plan:
        values = draw_parameters(scenario, Streams.for_range(seed, first, sizes))
        parts.append(np.column_stack([np.asarray(values[n], dtype=np.float64) for n in names]))
    drawn = np.concatenate(parts)
    groups = np.empty(drawn.shape, dtype=np.int64)
    labels = []
    for j, name in enumerate(names):
        edges = np.quantile(drawn[:, j], np.linspace(0, 1, bins + 1)[1:-1])
        groups[:, j] = np.searchsorted(edges, drawn[:, j], side="right")
        for b in range(bins):
            labels.append(f"{_short(name)} in quantile {b + 1}/{bins}")
    return groups, labels


def search_levers(scenario: Scenario, levers: list[Lever], goals: list[Goal],
                  runs: int = 20_000,
                  seed: int | None = None, *, steps: int = 5, bins: int = 4,
                  costs: dict[str, float] | None = None,
                  constraints: list[Constraint] | None = None, executor: str = "serial",
                  workers: int | None = None, scheduler: str | None = None,
                  progress: bool | None = None) -> LeverResult:
    """Search a grid of lever settings for the ones that best serve the goals.

    Parameters
    ----------
    scenario : Scenario
    levers : list of Lever
        The parameters to set, by key path, and their ranges (within the parameter's
        bounds).  A lever given as a distribution in the scenario is fixed at each
        setting; declared correlations with it are dropped.
    goals : list of Goal
        One or two.
    runs, seed
        Worlds per setting; every setting runs on the same worlds.
    steps : int
        Settings per lever (a lever's own STEPS overrides it); every combination runs.
    bins : int
        Quantiles that group the worlds into scenarios for worst case and regret.
    costs : dict, optional
        Cost per unit of a lever moved from the scenario's value (its mean).
    constraints : list of Constraint, optional
        Bounds on ``cost``, a lever's value or outcomes' probability.
    executor, workers, scheduler
        Settings run in parallel on these (each setting itself serially).
    """

    from ..engine import (
        DEFAULT_CHUNK,
        check_design,
        check_run_arguments,
        chunk_within_budget,
        new_seed,
        plan_chunks,
    )
    from ..executors import in_order, make_executor

    check_run_arguments(runs, seed, 1)
    if not levers:
        raise UsageError("a lever search needs at least one --lever KEY=LOW:HIGH")
    if not 1 <= len(goals) <= 2:
        raise UsageError(f"give one or two goals, not {len(goals)}")
    keys = [lv.key for lv in levers]
    if len(set(keys)) != len(keys):
        raise UsageError("each lever may be given only once")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= 101:
        raise UsageError(f"steps must be a whole number from 2 to 101, got {steps!r}")
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 20:
        raise UsageError(f"bins must be a whole number from 1 to 20, got {bins!r}")
    grids = [lv.values(scenario, steps) for lv in levers]
    count = math.prod(len(g) for g in grids)
    check_design(count, runs, len(levers), f"the lever grid ({count:,} settings)",
                 "use fewer STEPS or levers, or fewer --runs")
    if count * runs > MAX_LEVER_WORLDS:
        raise UsageError(f"the lever search holds {count:,} settings x {runs:,} worlds; the "
                         f"limit is {MAX_LEVER_WORLDS:,}", hint="use fewer STEPS, levers or "
                                                                "--runs")
    costs = dict(costs or {})
    for key in costs:
        if key not in keys:
            raise UsageError(f"--cost {key}: not one of the levers", hint="give --lever first")
    constraints = list(constraints or [])
    for c in constraints:
        if c.name != "cost" and c.name not in keys:
            outcome_set(c.name)  # else a one-line error naming it
    candidates = np.array(list(itertools.product(*grids)), dtype=float)
    settings = []
    for values in candidates:
        try:
            settings.append(scenario.with_values(dict(zip(keys, map(float, values),
                                                          strict=True)),
                                                 note="set by a lever search"))
        except ScenarioError as exc:
            raise UsageError("; ".join(f"{p.path}: {p.expected}" for p in exc.problems),
                             hint=KEY_HINT) from None
    seed = new_seed() if seed is None else int(seed)
    plan = plan_chunks(runs, chunk_within_budget([scenario, *settings], DEFAULT_CHUNK))
    with make_executor(executor, workers, scheduler) as pool:
        outcomes = np.stack(list(in_order(
            pool, _candidate_outcomes, [(s, seed, plan) for s in [scenario, *settings]],
            progress=progress, total=len(settings) + 1, desc=f"levers {scenario.id}",
            unit="setting")))
    hits = np.stack([np.stack([occurred(o, g.outcomes) for g in goals]) for o in outcomes])
    status_quo, hits = hits[0].mean(axis=1), hits[1:]  # (goals,), (n, goals, worlds)
    counts = hits.sum(axis=2)

    base = np.array([float(scenario.parameters[k].dist.mean()) for k in keys])
    unit = np.array([costs.get(k, 0.0) for k in keys])
    cost = np.abs(candidates - base) @ unit if costs else np.zeros(len(candidates))
    feasible = np.ones(len(candidates), dtype=bool)
    for c in constraints:
        if c.name == "cost":
            value = cost
        elif c.name in keys:
            value = candidates[:, keys.index(c.name)]
        else:
            value = occurred(outcomes[1:], outcome_set(c.name)).mean(axis=1)
        feasible &= c.holds(value)
    if not feasible.any():
        raise UsageError(f"no lever setting meets the constraints "
                         f"({', '.join(map(str, constraints))})",
                         hint="loosen a constraint or widen the lever ranges")

    names = [p for p in scenario.uncertain() if p not in keys]
    if names:
        groups, labels = _scenario_groups(scenario, seed, plan, names, bins)
        width = bins
    else:  # nothing uncertain besides the levers: one scenario, all the worlds
        groups, labels, width = np.zeros((runs, 1), dtype=np.int64), ["all worlds"], 1
    worst = np.empty(counts.shape)
    regret = np.full(counts.shape, np.nan)
    where: list[list[str]] = [["" for _ in goals] for _ in candidates]
    for j, goal in enumerate(goals):
        # the goal's probability in each scenario: (n candidates, parameters x bins); a
        # quantile bin left empty (a parameter with few distinct values) is no scenario
        per = []
        for col in range(groups.shape[1]):
            size = np.bincount(groups[:, col], minlength=width).astype(float)
            size[size == 0] = np.nan
            per.append(np.stack([np.bincount(groups[:, col], weights=h[j], minlength=width)
                                 for h in hits]) / size)
        prob = np.concatenate(per, axis=1)
        score = prob if goal.maximise else -prob
        regret_all = np.nanmax(score[feasible], axis=0) - score
        regret[feasible, j] = np.nanmax(regret_all[feasible], axis=1)
        worst_at = np.nanargmin(score, axis=1)
        worst[:, j] = prob[np.arange(len(prob)), worst_at]
        for i, k in enumerate(worst_at):
            where[i][j] = labels[k]
    return LeverResult(scenario.id, scenario.title, list(levers), list(goals), candidates,
                       counts, runs, seed, worst, where, regret, cost, feasible, status_quo,
                       bins, constraints)
