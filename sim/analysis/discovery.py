"""Scenario discovery: the regions of input space in which an outcome is concentrated.

Each world of a run draws its uncertain inputs; scenario discovery looks at which
combinations of inputs lead to an outcome of interest (e.g. ``arrest_surrender``)
and describes them as boxes, each a range on a few inputs.  Two methods of the
EMA Workbench (TU Delft) do the work, :mod:`ema_workbench.analysis.prim` (PRIM,
Friedman and Fisher 1999, as used for scenario discovery by Bryant and Lempert
2010) and :mod:`ema_workbench.analysis.cart` (a classification tree whose leaves
are boxes); this module draws the worlds, calls them and reports what they find.

A box is judged by its *coverage* (the share of the worlds with the outcome that
fall in it), its *density* (the share of the worlds in it that have the outcome)
and its *mass* (the share of all worlds in it).  PRIM peels the input space in
small steps (its peeling trajectory) from the whole space, where coverage is 1 and
density the base rate, towards small dense boxes; the box reported is the one of
highest coverage whose density reaches ``threshold`` (or, when none does, the
densest).  Each restricted limit carries its quasi-p-value: a one-sided binomial
test of whether the restriction raises the density by more than chance would.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..scenario import Scenario

METHODS = ("prim", "cart")
#: Default density a box must reach (the EMA Workbench's tutorials use 0.8).
DEFAULT_THRESHOLD = 0.8
#: Most worlds a discovery takes (PRIM's peeling is quadratic-ish in pandas).
MAX_WORLDS = 500_000
INSTALL_HINT = 'install the optional extra: .venv/bin/pip install -e ".[discovery]"'


def workbench(module: str) -> Any:
    """Import ``ema_workbench.analysis.<module>``, or say in one line how to install it."""
    import importlib

    try:
        with warnings.catch_warnings():  # it warns on import about optional parallel back ends
            warnings.simplefilter("ignore")
            return importlib.import_module(f"ema_workbench.analysis.{module}")
    except ImportError:
        raise UsageError("scenario discovery and lever search need the EMA Workbench "
                         "(ema_workbench), which is not installed", hint=INSTALL_HINT) from None


def outcome_set(text: str) -> tuple[str, ...]:
    """Outcomes named by ``text``: one outcome, or several joined by ``+``
    (``arrest_surrender+visit_cancelled``: either of them)."""
    names = tuple(n.strip() for n in str(text).split("+"))
    unknown = [n for n in names if n not in OUTCOMES]
    if not names or unknown:
        raise UsageError(f"unknown outcome {', '.join(repr(n) for n in unknown) or repr(text)}",
                         hint=f"use one of {', '.join(OUTCOMES)}, or several joined by '+'")
    if len(set(names)) != len(names):
        raise UsageError(f"outcome {text!r} names an outcome twice")
    return names


def occurred(outcomes: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Whether each world's outcome code (as in :data:`sim.outcomes.OUTCOMES`) is one of
    ``names``."""
    return np.isin(outcomes, [OUTCOMES.index(n) for n in names])


def input_names(scenario: Scenario, include_weights: bool = False) -> list[str]:
    """The uncertain inputs of ``scenario`` by key path; the calibrated behavioural
    weights (drawn from their posterior) only with ``include_weights``."""
    return [p for p in scenario.uncertain() if include_weights or not p.startswith("weights.")]


def _chunk_worlds(scenario: Scenario, seed: int, first: int, sizes: list[int],
                  names: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    from ..engine import simulate_chunk
    from ..sampling import draw_parameters
    from ..streams import Streams

    chunk = simulate_chunk(scenario, seed, first, sizes, with_table=False, with_outcomes=True)
    assert chunk.outcomes is not None  # asked for
    # the same keyed streams as the model's own draws: exactly the values it simulated
    values = draw_parameters(scenario, Streams.for_range(seed, first, sizes))
    return {n: np.asarray(values[n], dtype=np.float64) for n in names}, chunk.outcomes


def worlds(scenario: Scenario, runs: int, seed: int, names: list[str], *,
           executor: str = "serial", workers: int | None = None,
           scheduler: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Each world's drawn inputs ``names`` (a DataFrame, one row per world) and its
    outcome code: the same worlds as ``sim.run(scenario, runs, seed)``."""
    from ..engine import DEFAULT_CHUNK, chunk_within_budget, plan_chunks
    from ..executors import in_order, make_executor

    plan = plan_chunks(runs, chunk_within_budget(scenario, DEFAULT_CHUNK))
    with make_executor(executor, workers, scheduler) as pool:
        parts = list(in_order(pool, _chunk_worlds,
                              [(scenario, seed, first, sizes, names) for first, sizes in plan],
                              progress=False))
    inputs = pd.DataFrame({n: np.concatenate([p[0][n] for p in parts]) for n in names})
    return inputs, np.concatenate([p[1] for p in parts])


@dataclass
class DiscoveryResult:
    """Boxes of input space where an outcome is concentrated.

    Attributes
    ----------
    outcome : str
        The outcome of interest (several joined by ``+``).
    method : {"prim", "cart"}
    ranges : pandas.DataFrame
        Each input's full range over the worlds (index: input; columns ``min``, ``max``).
    boxes : pandas.DataFrame
        One row per box (PRIM: each step of the peeling trajectory, then each box made
        by lifting an insignificant limit, ``step`` telling which (``peeling``,
        ``pruning``); CART: each leaf, ``step`` ``leaf``): ``box``, ``coverage``,
        ``density``, ``mass``, ``restricted`` (number of inputs restricted), ``worlds``
        and ``worlds_with_outcome``.
    limits : pandas.DataFrame
        One row per box and restricted input: ``box``, ``input``, ``lower``, ``upper``,
        ``min``, ``max`` and, for PRIM, ``qp_lower`` and ``qp_upper`` (quasi-p-values of
        the lower and upper limit; NaN where the limit is not restricted).
    peeled : int
        The box taken from PRIM's peeling trajectory (or CART's leaves): the one of
        highest coverage with density >= ``threshold`` (ties: the denser), or the
        densest when none reaches it.
    chosen : int
        The box reported: on PRIM's peeling trajectory or among CART's leaves, the one
        of highest coverage with density >= ``threshold`` (ties: the denser), or the
        densest when none reaches it; for PRIM, then stripped of its limits whose
        quasi-p-value is above ``significance``.
    """

    scenario_id: str
    title: str
    outcome: str
    method: str
    threshold: float
    runs: int
    seed: int
    base_rate: float
    ranges: pd.DataFrame
    boxes: pd.DataFrame
    limits: pd.DataFrame
    chosen: int
    peeled: int
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def threshold_met(self) -> bool:
        """Whether a box on the trajectory (a leaf) reached the density threshold."""
        return bool(self._stats(self.peeled)["density"] >= self.threshold)

    def _stats(self, box: int) -> dict[str, Any]:
        """The statistics of box ``box`` (a row of :attr:`boxes`)."""
        return {str(k): _plain(v) for k, v in self.boxes.iloc[box].to_dict().items()}

    @property
    def box(self) -> pd.DataFrame:
        """The chosen box's limits: one row per restricted input."""
        return self.limits[self.limits.box == self.chosen].reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        """Tidy: one row per box and restricted input, with the box's statistics and
        whether it is the chosen box."""
        stats = self.boxes.assign(chosen=self.boxes.box == self.chosen)
        return stats.merge(self.limits, on="box", how="right")

    def select(self, box: int) -> DiscoveryResult:
        """The same result with another box (of :attr:`boxes`) chosen."""
        if box not in set(self.boxes.box):
            raise UsageError(f"no box {box}: the boxes are 0 to {len(self.boxes) - 1}")
        return DiscoveryResult(**{**self.__dict__, "chosen": int(box), "peeled": int(box)})

    def summary(self) -> dict:
        """What ``discovery.json`` holds."""
        stats = self._stats(self.chosen)
        box = self.box
        return {
            "scenario": self.scenario_id, "title": self.title, "outcome": self.outcome,
            "method": self.method, "runs": self.runs, "seed": self.seed,
            "base_rate": self.base_rate, "threshold": self.threshold,
            "threshold_met": self.threshold_met, "settings": self.settings,
            "chosen_box": {
                "box": int(self.chosen), "from_box": int(self.peeled),
                **{k: stats[k] for k in ("coverage", "density", "mass", "worlds",
                                         "worlds_with_outcome")},
                "limits": [{k: _plain(v) for k, v in row.items() if k != "box"}
                           for row in box.to_dict("records")]},
            "boxes": [{k: _plain(v) for k, v in row.items()}
                      for row in self.boxes.to_dict("records")],
            "inputs": {name: {"min": float(r["min"]), "max": float(r["max"])}
                       for name, r in self.ranges.iterrows()},
        }

    def table(self) -> str:
        """The chosen box as text."""
        s = self._stats(self.chosen)
        kind = "PRIM box" if self.method == "prim" else "CART leaf"
        where = "boxes on the trajectory" if self.method == "prim" else "leaves"
        taken = (f"the box of most coverage with density >= {self.threshold:g}"
                 if self.threshold_met else
                 f"no box reaches density {self.threshold:g}: the densest")
        lines = [f"{self.title} ({self.scenario_id}): where '{self.outcome}' happens, "
                 f"{self.runs:,} worlds, seed {self.seed}",
                 f"base rate {self.base_rate:.4f}; {kind} {self.chosen}: coverage "
                 f"{s['coverage']:.3f}, density {s['density']:.3f}, mass {s['mass']:.3f}",
                 f"({int((self.boxes.step != 'pruning').sum()):,} {where}; {taken} is "
                 f"box {self.peeled}"
                 + (f", stripped of the limits with quasi-p > "
                    f"{self.settings.get('significance')}" if self.chosen != self.peeled
                    else "") + ")"]
        box = self.box
        if box.empty:
            lines.append("no input is restricted: the outcome is not concentrated in any "
                         "region of these inputs beyond chance (try --include-weights, or "
                         "--significance 1 to keep every restriction)")
            return "\n".join(lines)
        width = max(24, *(len(n) for n in box.input)) + 2
        has_qp = "qp_lower" in box
        lines.append(f"{'input':<{width}}{'lower':>10}{'upper':>10}{'full range':>22}"
                     + (f"{'quasi-p (low, high)':>24}" if has_qp else ""))
        for row in box.to_dict("records"):
            qp = ""
            if has_qp:
                qp = f"{_qp(row['qp_lower']) + ', ' + _qp(row['qp_upper']):>24}"
            lines.append(f"{row['input']:<{width}}{row['lower']:>10.4g}{row['upper']:>10.4g}"
                         f"{'[{:.4g}, {:.4g}]'.format(row['min'], row['max']):>22}{qp}")
        return "\n".join(lines)

    def plot(self, ax=None, kind: str = "box"):
        """``kind="box"``: the chosen box's limits against each restricted input's full
        range; ``kind="tradeoff"``: coverage against density of every box.  Returns the
        axes."""
        if kind == "box":
            return _plot_box(self, ax)
        if kind == "tradeoff":
            return _plot_tradeoff(self, ax)
        raise UsageError(f"unknown chart {kind!r}", hint="use kind='box' or kind='tradeoff'")

    def save(self, folder: str | Path) -> list[str]:
        """Write ``discovery.json``, ``discovery.csv`` (:meth:`frame`), ``boxes.csv``
        (every box's statistics), ``tradeoff.png`` and ``box.png`` into ``folder`` (which
        exists); returns the names written."""
        from ..output import save_chart, write_csv, write_json

        folder = Path(folder)
        write_json(folder / "discovery.json", self.summary())
        write_csv(self.frame(), folder / "discovery.csv")
        write_csv(self.boxes.assign(chosen=self.boxes.box == self.chosen), folder / "boxes.csv")
        save_chart(self.plot(kind="tradeoff"), folder / "tradeoff.png")
        save_chart(self.plot(kind="box"), folder / "box.png")
        return ["discovery.json", "discovery.csv", "boxes.csv", "tradeoff.png", "box.png"]

    def __repr__(self) -> str:
        return self.table()


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _qp(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.2g}"


def find_boxes(inputs: pd.DataFrame, occurred: np.ndarray, *, method: str = "prim",
               threshold: float = DEFAULT_THRESHOLD, mass_min: float = 0.05,
               peel_alpha: float = 0.05, significance: float = 0.05, seed: int = 0,
               outcome: str = "outcome",
               scenario_id: str = "", title: str = "") -> DiscoveryResult:
    """Boxes of ``inputs`` in which ``occurred`` is concentrated (PRIM or CART).

    Parameters
    ----------
    inputs : pandas.DataFrame
        One row per world, one numeric column per input.
    occurred : array of bool
        Whether the outcome of interest happened in each world.
    method : {"prim", "cart"}
    threshold : float
        Density the reported box should reach, in (0, 1].
    mass_min : float
        Smallest share of the worlds a box (or a CART leaf) may hold.
    peel_alpha : float
        Share of the worlds PRIM peels off at each step.
    significance : float
        PRIM: after the box is chosen, its limits whose quasi-p-value exceeds this are
        lifted, the weakest first (1 keeps them all).
    seed : int
        Breaks CART's ties between equally good splits (PRIM is deterministic); recorded
        as the result's seed.

    Raises
    ------
    UsageError
        If the outcome never happens, or always does, in these worlds, or an
        argument is out of range.
    """
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    for name, value, low, high in (("threshold", threshold, 0, 1), ("mass_min", mass_min, 0, 0.5),
                                   ("peel_alpha", peel_alpha, 0, 0.5),
                                   ("significance", significance, 0, 1)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                low < value <= high):
            raise UsageError(f"{name} must be a number in ({low}, {high}], got {value!r}")
    y = np.asarray(occurred, dtype=bool)
    if y.ndim != 1 or len(y) != len(inputs):
        raise UsageError(f"need one outcome per world: {len(inputs)} worlds, {y.shape} outcomes")
    if inputs.shape[1] == 0:
        raise UsageError("scenario discovery needs at least one uncertain input",
                         hint="the scenario gives every parameter as a fixed value; "
                              "try --include-weights")
    hits = int(y.sum())
    if hits == 0:
        raise UsageError(f"'{outcome}' never happens in the {len(y):,} worlds run",
                         hint="there is nothing to discover: choose another outcome, or more "
                              "--runs if it is rare")
    if hits == len(y):
        raise UsageError(f"'{outcome}' happens in every one of the {len(y):,} worlds run",
                         hint="there is nothing to discover: choose another outcome")
    x = inputs.astype(np.float64).reset_index(drop=True)
    ranges = pd.DataFrame({"min": x.min(), "max": x.max()})
    if method == "prim":
        boxes, limits, peeled, chosen = _prim(x, y, mass_min, peel_alpha, threshold,
                                              significance)
    else:
        boxes, limits = _cart(x, y, mass_min, seed)
        peeled = chosen = choose(boxes, threshold)
    limits = limits.merge(ranges, left_on="input", right_index=True)
    return DiscoveryResult(scenario_id, title, outcome, method, float(threshold), len(y),
                           int(seed), hits / len(y), ranges, boxes, limits.reset_index(drop=True),
                           chosen, peeled, {"mass_min": mass_min, "peel_alpha": peel_alpha,
                                    "significance": significance}
                           if method == "prim" else {"mass_min": mass_min})


def choose(boxes: pd.DataFrame, threshold: float) -> int:
    """The box of highest coverage among those of density >= ``threshold`` (ties: the
    denser, then the smaller index); the densest box when none reaches it."""
    dense = boxes[boxes.density >= threshold]
    if dense.empty:
        order = boxes.sort_values(["density", "coverage", "box"],
                                  ascending=[False, False, True])
    else:
        order = dense.sort_values(["coverage", "density", "box"],
                                  ascending=[False, False, True])
    return int(order.box.iloc[0])


def _prim(x: pd.DataFrame, y: np.ndarray, mass_min: float, peel_alpha: float,
          threshold: float, significance: float):
    prim = workbench("prim")
    # the Workbench's threshold both tells the worlds of interest (y >= threshold) and
    # rejects a final box less dense than it, keeping none of its trajectory; a tiny one
    # keeps every box, and the density the chosen box must reach is applied afterwards
    with warnings.catch_warnings():  # pandas deprecations inside the Workbench, not ours
        warnings.filterwarnings("ignore", module="ema_workbench")
        algorithm = prim.Prim(x, y.astype(int), threshold=1e-12, peel_alpha=peel_alpha,
                              paste_alpha=peel_alpha, mass_min=mass_min)
        found = algorithm.find_box()
    steps = len(found.peeling_trajectory)
    peeled = current = choose(_prim_boxes(found, steps), threshold)
    found.select(current)
    # lift the limits that chance would explain (quasi-p above the significance level),
    # the weakest first, until every one left is significant (Bryant and Lempert 2010)
    initial = found.box_lims[0]
    while True:
        weak = [(q, name, side) for name, pair in found.qp[current].items()
                for side, q in enumerate(pair) if q > significance]
        if not weak:
            break
        _, name, side = max(weak)
        lims = found.box_lims[current].copy()
        lims.at[side, name] = initial.at[side, name]
        values = x.to_numpy()
        inside = ((values >= lims.loc[0].to_numpy(dtype=float))
                  & (values <= lims.loc[1].to_numpy(dtype=float))).all(axis=1)
        found.update(lims, np.flatnonzero(inside))
        current = len(found.peeling_trajectory) - 1
    boxes = _prim_boxes(found, steps)
    rows = []
    for i, (lims, qp) in enumerate(zip(found.box_lims, found.qp, strict=True)):
        for name in x.columns:
            lower, upper = float(lims.at[0, name]), float(lims.at[1, name])
            if lower == float(initial.at[0, name]) and upper == float(initial.at[1, name]):
                continue
            q_low, q_high = qp.get(name, [-1, -1])
            rows.append({"box": i, "input": name, "lower": lower, "upper": upper,
                         "qp_lower": np.nan if q_low < 0 else float(q_low),
                         "qp_upper": np.nan if q_high < 0 else float(q_high)})
    limits = pd.DataFrame(rows, columns=["box", "input", "lower", "upper", "qp_lower",
                                         "qp_upper"])
    return boxes, limits, peeled, current


def _prim_boxes(found, steps: int) -> pd.DataFrame:
    """The boxes of a PRIM box's trajectory: the first ``steps`` peeled and pasted, the
    rest made by dropping restrictions."""
    t = found.peeling_trajectory.reset_index(drop=True)
    return pd.DataFrame({
        "box": np.arange(len(t)), "coverage": t.coverage.astype(float).to_numpy(),
        "density": t.density.astype(float).to_numpy(), "mass": t.mass.astype(float).to_numpy(),
        "restricted": t.res_dim.astype(int).to_numpy(), "worlds": t.n.astype(int).to_numpy(),
        "worlds_with_outcome": t.k.astype(int).to_numpy(),
        "step": np.where(np.arange(len(t)) < steps, "peeling", "pruning")})


def _cart(x: pd.DataFrame, y: np.ndarray, mass_min: float, seed: int):
    cart = workbench("cart")
    from sklearn import tree

    base: Any = cart.CART

    class SeededCART(base):
        """The Workbench's CART with a seeded tree: ties between splits are broken the
        same way on every run."""

        def build_tree(self):
            self.clf = tree.DecisionTreeClassifier(
                min_samples_leaf=max(1, int(self.mass_min * self.x.shape[0])),
                random_state=np.random.RandomState(seed % 2**32))
            self.clf.fit(self._x, self.y)

    algorithm = SeededCART(x, y.astype(int), mass_min=mass_min)
    algorithm.build_tree()
    low, high = x.min().to_dict(), x.max().to_dict()
    box_rows, rows = [], []
    for i, lims in enumerate(algorithm.boxes):
        inside = np.ones(len(x), dtype=bool)
        for name in x.columns:
            lower, upper = float(lims.at[0, name]), float(lims.at[1, name])
            inside &= (x[name].to_numpy() >= lower) & (x[name].to_numpy() <= upper)
            if lower == low[name] and upper == high[name]:
                continue
            rows.append({"box": i, "input": name, "lower": lower, "upper": upper})
        n, k = int(inside.sum()), int(y[inside].sum())
        box_rows.append({"box": i, "coverage": k / y.sum(), "density": k / n if n else 0.0,
                         "mass": n / len(y), "restricted": len({r["input"] for r in rows
                                                                 if r["box"] == i}),
                         "worlds": n, "worlds_with_outcome": k, "step": "leaf"})
    return (pd.DataFrame(box_rows),
            pd.DataFrame(rows, columns=["box", "input", "lower", "upper"]))


def discover(scenario: Scenario, outcome: str, *, method: str = "prim", runs: int = 20_000,
             seed: int | None = None, threshold: float = DEFAULT_THRESHOLD,
             include_weights: bool = False, mass_min: float = 0.05,
             peel_alpha: float = 0.05, significance: float = 0.05, executor: str = "serial",
             workers: int | None = None, scheduler: str | None = None) -> DiscoveryResult:
    """Run ``scenario`` and find the boxes of input space where ``outcome`` happens.

    Parameters
    ----------
    scenario : Scenario
    outcome : str
        An outcome (``arrest_surrender``), or several joined by ``+``.
    method : {"prim", "cart"}
    runs, seed
        The worlds: the same as ``sim.run(scenario, runs=runs, seed=seed)``.
    threshold, mass_min, peel_alpha, significance
        As for :func:`find_boxes`.
    include_weights : bool
        Count the behavioural weights drawn from their posterior as inputs too.
    executor, workers, scheduler
        Where the worlds are simulated, as for :func:`sim.run`.
    """
    from ..engine import check_run_arguments, new_seed

    names_out = outcome_set(outcome)
    check_run_arguments(runs, seed, 1)
    if runs > MAX_WORLDS:
        raise UsageError(f"runs must be at most {MAX_WORLDS:,} for scenario discovery, got "
                         f"{runs:,}", hint="PRIM needs far fewer worlds than a forecast does")
    if method not in METHODS:
        raise UsageError(f"unknown method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    workbench(method)  # before the worlds are run: say now if it is missing
    seed = new_seed() if seed is None else int(seed)
    names = input_names(scenario, include_weights)
    inputs, codes = worlds(scenario, runs, seed, names, executor=executor, workers=workers,
                           scheduler=scheduler)
    result = find_boxes(inputs, occurred(codes, names_out), method=method, threshold=threshold,
                        mass_min=mass_min, peel_alpha=peel_alpha,
                        significance=significance, seed=seed, outcome="+".join(names_out),
                        scenario_id=scenario.id, title=scenario.title)
    result.settings["include_weights"] = include_weights
    return result


# --------------------------------------------------------------------------- charts

def _short(name: str) -> str:
    """``actors.mongolia.ties.russia.fuel_import_share`` ->
    ``mongolia.russia.fuel_import_share``."""
    parts = name.split(".")
    if parts[0] == "actors" and len(parts) >= 4:
        return ".".join([parts[1], *parts[3:]])
    return name


def _plot_tradeoff(result: DiscoveryResult, ax=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.8))
    b = result.boxes
    main = b[b.step != "pruning"]
    points = ax.scatter(main.coverage, main.density, c=main.restricted, cmap="viridis", s=28,
                        zorder=3, vmin=0, vmax=max(1, int(b.restricted.max())))
    if result.method == "prim":
        ax.plot(main.coverage, main.density, color="0.7", lw=0.8, zorder=2)
        pruned = b[b.step == "pruning"]
        if len(pruned):
            ax.scatter(pruned.coverage, pruned.density, c=pruned.restricted, cmap="viridis",
                       vmin=0, vmax=max(1, int(b.restricted.max())), marker="s", s=22,
                       zorder=3, label="limits lifted (quasi-p too high)")
    ax.figure.colorbar(points, ax=ax, label="inputs restricted")
    taken = result._stats(result.peeled)
    if result.chosen != result.peeled:
        ax.scatter([taken["coverage"]], [taken["density"]], s=140, facecolors="none",
                   edgecolors="0.3", linewidths=1.2, ls="--", zorder=4,
                   label=f"box {result.peeled} taken from the "
                         + ("trajectory" if result.method == "prim" else "leaves"))
    c = result._stats(result.chosen)
    ax.scatter([c["coverage"]], [c["density"]], s=140, facecolors="none",
               edgecolors="crimson", linewidths=1.8, zorder=4,
               label=f"chosen box {result.chosen}")
    top = min(1.02, 1.2 * max(float(b.density.max()), result.base_rate))
    if result.threshold <= top:
        ax.axhline(result.threshold, color="crimson", lw=0.8, ls=":",
                   label=f"density threshold {result.threshold:g}")
    else:
        top = min(1.02, max(top, 0.1))
    ax.axhline(result.base_rate, color="0.4", lw=0.8, ls="--",
               label=f"base rate {result.base_rate:.3f}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, top)
    ax.set_xlabel("coverage (share of the outcome's worlds inside the box)")
    ax.set_ylabel("density (share of the box's worlds with the outcome)")
    what = "PRIM peeling trajectory" if result.method == "prim" else "CART leaves"
    note = ("" if result.threshold <= top
            else f"\n(density threshold {result.threshold:g} not reached)")
    ax.set_title(f"{result.scenario_id}: {what} for {result.outcome}{note}", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return ax


def _plot_box(result: DiscoveryResult, ax=None):
    import matplotlib.pyplot as plt

    box = result.box
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.2 + 0.5 * max(1, len(box))))
    s = result._stats(result.chosen)
    ax.set_title(f"{result.scenario_id}: box {result.chosen} for {result.outcome} "
                 f"(coverage {s['coverage']:.2f}, density {s['density']:.2f}, "
                 f"mass {s['mass']:.2f})",
                 fontsize=10)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("position within each input's full range over the worlds (grey: the full "
                  "range, its ends below; blue: the box, its limits above, with quasi-p)")
    if box.empty:
        ax.text(0.5, 0.5, "no input restricted", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_yticks([])
        return ax
    for i, row in enumerate(box.to_dict("records")):
        span = (row["max"] - row["min"]) or 1.0
        lo, hi = (row["lower"] - row["min"]) / span, (row["upper"] - row["min"]) / span
        ax.plot([0, 1], [i, i], color="0.85", lw=10, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color="tab:blue", lw=10, solid_capstyle="butt")
        if row["lower"] > row["min"]:  # label the limits the box sets, not the range's ends
            ax.text(lo, i - 0.3, f"{row['lower']:.3g}" + _qp_note(row, "qp_lower"),
                    ha="left", va="top", fontsize=7)
        if row["upper"] < row["max"]:
            ax.text(hi, i - 0.3, f"{row['upper']:.3g}" + _qp_note(row, "qp_upper"),
                    ha="right", va="top", fontsize=7)
        ax.text(0, i + 0.22, f"{row['min']:.3g}", ha="left", va="top", fontsize=7,
                color="0.45")
        ax.text(1, i + 0.22, f"{row['max']:.3g}", ha="right", va="top", fontsize=7,
                color="0.45")
    ax.set_yticks(range(len(box)), [_short(n) for n in box.input], fontsize=8)
    ax.set_ylim(len(box) - 0.3, -0.7)
    return ax


def _qp_note(row: dict, column: str) -> str:
    value = row.get(column, np.nan)
    return "" if not np.isfinite(value) else f" (qp {value:.1g})"


