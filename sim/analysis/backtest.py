"""Score the model's forecasts of the historical cases against what happened.

Each case's forecast (its four outcome probabilities, from a Monte Carlo run in
which every replication draws its weights from a calibration's weights file) is
scored with two proper scoring rules, both losses (lower is better):

* the multiclass Brier score ``sum_k (p_k - y_k)^2`` (0 perfect, 2 worst);
* the log score ``-log p_outcome`` (natural log).

Three modes say which weights forecast each case:

``as_of`` (rolling origin, the honest headline)
    Cases are forecast in date order, each with weights fitted only on the cases
    resolved before its forecast date (the prior alone when there are none): what an
    analyst could have run at the time.
``loo`` (leave-one-out)
    Each case with weights fitted on all the other cases, later ones included.
``in_sample``
    Every case with one weights file (by default the shipped calibration, which saw
    them all).

The base rate is scored the same way on the same information: the outcome frequencies
(add-one smoothing) of the cases the weights saw.  Mean scores come with 95% bootstrap
intervals over cases; the skill score's interval resamples model and base rate
together (paired).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..scenario import Scenario, load_scenario
from . import calibration as cal
from .asof import DEFAULT_CACHE, FitSettings, fit_task
from .cases import (
    as_files,
    in_date_order,
    load_cases,
    resolution_date,
    resolved_outcome,
)
from .defaults import DEFAULT_FORECAST_RUNS

# The engine (Mesa, pandas, pyarrow), the executors, the output folders and tqdm are
# imported where they are used.

FORECAST_SEED = 7
MODES = ("in_sample", "loo", "as_of")
#: Bootstrap resamples of the cases for the score intervals.
BOOTSTRAP = 4000
#: A visitor with at least this many cases is scored as a subject of its own.
SUBJECT_MIN_CASES = 5


# --------------------------------------------------------------------------- scores

def _onehot(outcome: str | int) -> np.ndarray:
    y = np.zeros(len(OUTCOMES))
    y[OUTCOMES.index(outcome) if isinstance(outcome, str) else outcome] = 1.0
    return y


def _vector(p) -> np.ndarray:
    if isinstance(p, dict):
        return np.array([p[o] for o in OUTCOMES], dtype=float)
    return np.asarray(p, dtype=float)


def brier(p, outcome: str | int) -> float:
    """Multiclass Brier score: sum over the four outcomes of (p_k - y_k)^2."""
    return float(np.sum((_vector(p) - _onehot(outcome)) ** 2))


def log_score(p, outcome: str | int, floor: float = 1e-12) -> float:
    """Log score as a loss: -ln p[outcome] (0 perfect)."""
    y = OUTCOMES.index(outcome) if isinstance(outcome, str) else outcome
    return float(-np.log(max(_vector(p)[y], floor)))


def base_rate(outcomes: Sequence[str]) -> np.ndarray:
    """Outcome frequencies with add-one smoothing: (n_k + 1) / (N + 4)."""
    counts = np.array([sum(o == k for o in outcomes) for k in OUTCOMES], dtype=float)
    return (counts + 1.0) / (counts.sum() + len(OUTCOMES))


def skill(score: float, reference: float) -> float:
    """Skill score 1 - score / reference (1 perfect, 0 no better, < 0 worse)."""
    return float(1.0 - score / reference) if reference else float("nan")


def entropy(p) -> float:
    """Shannon entropy of a forecast (nats): lower is sharper."""
    p = _vector(p)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def bootstrap_scores(model: np.ndarray, base: np.ndarray, seed: int = FORECAST_SEED,
                     resamples: int = BOOTSTRAP) -> dict[str, list[float]]:
    """95% percentile intervals of the mean model score, the mean base-rate score and
    the skill ``1 - model / base``, resampling cases with replacement (paired)."""
    model, base = np.asarray(model, float), np.asarray(base, float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, len(model)]))
    idx = rng.integers(0, len(model), size=(resamples, len(model)))
    m, b = model[idx].mean(axis=1), base[idx].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1.0 - m / b

    def ci(x: np.ndarray) -> list[float]:
        return [float(v) for v in np.nanpercentile(x, [2.5, 97.5])]

    return {"model": ci(m), "base_rate": ci(b), "skill": ci(s)}


# --------------------------------------------------------------------------- forecasts

def forecast(case_file: str | Path, weights: str | Path | None, runs: int,
             seed: int = FORECAST_SEED) -> np.ndarray:
    """A case's forecast: smoothed outcome probabilities with the given weights file."""
    from ..engine import run

    scenario = load_scenario(case_file, weights=weights)
    return cal.smoothed(run(scenario, runs=runs, seed=seed, progress=False).counts)


# --------------------------------------------------------------------------- the result

@dataclass
class BacktestResult:
    """A backtest: each case's forecast and scores, and the mean scores with intervals.

    ``doc`` is what ``backtest.json`` holds: ``mode``, ``cases`` (one row per case),
    ``scores`` and ``settings``.
    """

    doc: dict

    @property
    def mode(self) -> str:
        return self.doc["mode"]

    @property
    def scores(self) -> dict:
        return self.doc["scores"]

    def frame(self):
        """One row per case: outcome, the four probabilities, scores, subject."""
        import pandas as pd

        rows = []
        for r in self.doc["cases"]:
            rows.append({"id": r["id"], "forecast_date": r.get("forecast_date"),
                         "subject": r.get("subject"), "outcome": r["outcome"],
                         **{f"p_{o}": r["probabilities"][o] for o in OUTCOMES},
                         "p_outcome": r["probabilities"][r["outcome"]],
                         "brier": r["brier"], "log": r["log"],
                         "base_rate_brier": r["base_rate_brier"],
                         "base_rate_log": r["base_rate_log"],
                         "cases_seen": r.get("cases_seen")})
        return pd.DataFrame(rows)

    def table(self) -> str:
        return table(self.doc)

    def plot(self, ax=None, kind: str = "cases"):
        """``kind="cases"``: each case's forecast against its outcome; ``"reliability"``:
        the reliability diagram."""
        from ..plots import case_forecasts, reliability_diagram

        return (reliability_diagram(self.doc, ax=ax) if kind == "reliability"
                else case_forecasts(self.doc, ax=ax))

    def write(self, out: str | Path) -> Path:
        """Write the charts, then ``backtest.json`` (last: it marks the folder complete)."""
        return write(self.doc, out)


def backtest(source: str | Path | Sequence[str | Path], mode: str = "in_sample",
             out: str | Path | None = None, *, loo: bool = False,
             weights: str | Path | None = None, prior: str | Path | None = None,
             fitted: Sequence[str] = cal.FITTED, runs: int = cal.DEFAULT_RUNS,
             seed: int = cal.DEFAULT_SEED, max_evals: int = cal.DEFAULT_MAX_EVALS,
             forecast_runs: int = DEFAULT_FORECAST_RUNS, executor: str = "serial",
             workers: int | None = None, scheduler: str | None = None,
             progress: bool | None = None, cases: Sequence[str] | None = None,
             replace: bool = False, cache: str | Path = DEFAULT_CACHE) -> BacktestResult:
    """Score every case's forecast.

    Parameters
    ----------
    source : folder of case files (or a list of files).
    mode : ``"as_of"``, ``"loo"`` or ``"in_sample"`` (see the module's description);
        ``loo=True`` is the same as ``mode="loo"``.
    weights : the weights file for in-sample forecasts (default: the shipped calibration).
    prior, fitted, runs, seed, max_evals : each fold's calibration (``as_of``, ``loo``).
    forecast_runs : replications of each forecast.
    executor, workers, scheduler : where the folds' fits run.
    cases : ids of the cases to score (default all); folds still fit on every case
        their mode allows.
    out : folder for backtest.json and the charts (and each fold's weights); claimed
        before anything is computed (see :class:`sim.output.OutputFolder`);
        ``backtest.json`` is written last and marks it complete.
    replace : replace ``out`` if it holds an earlier (or interrupted) backtest.
    cache : folder of cached fits (``as_of``): a fit on the same cases with the same
        settings is read back, not recomputed.
    """
    mode = "loo" if loo else mode
    if mode not in MODES:
        raise UsageError(f"backtest mode must be one of {', '.join(MODES)}, got {mode!r}")
    fitted = cal.check_fitted(fitted)
    if isinstance(forecast_runs, bool) or not isinstance(forecast_runs, int) \
            or forecast_runs < 10:
        raise UsageError(f"forecast_runs must be a whole number >= 10, got {forecast_runs!r}")
    files = [str(f) for f in as_files(source)]
    settings = FitSettings(prior=cal.read_prior(prior).path, fitted=fitted, runs=runs,
                           seed=seed, max_evals=max_evals)
    scenarios = load_cases(files, weights=settings.prior)  # validates every case first
    ids = [s.id for s in scenarios]
    if cases is not None and set(cases) - set(ids):
        raise UsageError(f"unknown case ids: {sorted(set(cases) - set(ids))}")
    chosen = (list(range(len(files))) if cases is None
              else sorted({ids.index(c) for c in cases}))  # each case once
    if mode == "loo" and len(files) < 3:
        raise UsageError("leave-one-out needs at least 3 cases")
    out = Path(out) if out is not None else None
    folder = None
    if out is not None:  # claimed before computing; never over an earlier backtest
        from ..output import OutputFolder

        folder = OutputFolder.claim(out, "backtest", "backtest.json", replace=replace)
    try:
        doc = _score(files, scenarios, chosen, mode, settings, weights, forecast_runs,
                     executor, workers, scheduler, progress, cache, out)
        if folder is not None:
            write(doc, folder.path)
            folder.finish()  # backtest.json, written last, marks it complete
    except BaseException:
        if folder is not None:
            folder.fail()
        raise
    return BacktestResult(doc)


def _training_sets(files: list[str], scenarios: list[Scenario], chosen: list[int],
                   mode: str) -> dict[int, list[int]]:
    """The cases each chosen case's weights may see (indices into ``files``)."""
    if mode == "loo":
        return {i: [j for j in range(len(files)) if j != i] for i in chosen}
    # as of: the cases resolved before the case's forecast date
    return {i: [j for j in range(len(files))
                if resolution_date(scenarios[j]) < scenarios[i].forecast_date]
            for i in chosen}


def _score(files: list[str], scenarios: list[Scenario], chosen: list[int], mode: str,
           settings: FitSettings, weights, forecast_runs: int, executor: str,
           workers: int | None, scheduler: str | None, progress: bool | None,
           cache: str | Path, out: Path | None) -> dict:
    """Fit each fold (distinct training sets once, on the executor), then forecast and
    score every case."""
    import shutil
    import tempfile

    from ..executors import in_order, make_executor

    start = time.perf_counter()
    outcomes = [resolved_outcome(s) for s in scenarios]
    order = [scenarios.index(s) for s in in_date_order(scenarios[i] for i in chosen)]
    subjects = _subjects(scenarios)
    if mode == "in_sample":
        train = {i: list(range(len(files))) for i in order}
        shared: dict[int, dict[str, Any]] = {
            i: {"weights": str(weights) if weights else None} for i in order}
        return _document(files, scenarios, outcomes, subjects, order, train, shared, mode,
                         settings, weights, forecast_runs, executor, progress, start)
    train = _training_sets(files, scenarios, order, mode)
    with tempfile.TemporaryDirectory() as tmp:
        # as-of fits are cached; leave-one-out fits go with the folder (or nowhere)
        where = (Path(cache) if mode == "as_of" else out / "loo" if out is not None
                 else Path(tmp))
        tasks = sorted({tuple(train[i]) for i in order})  # each training set fitted once
        # folds one after the other: each fit shares its cases out among the cores instead
        fit_workers = (os.cpu_count() or 1) if executor == "serial" else 1
        with make_executor(executor, workers, scheduler) as pool:
            results = in_order(pool, fit_task,
                               [([files[j] for j in t], settings, str(where), fit_workers)
                                for t in tasks],
                               progress=progress, total=len(tasks), unit="fit",
                               desc=f"{mode.replace('_', '-')} fits")
            done = dict(zip(tasks, results, strict=True))
        folds: dict[int, dict[str, Any]] = {i: dict(done[tuple(train[i])]) for i in order}
        if out is not None and mode == "as_of":  # the folder keeps the weights it used
            (out / "as_of").mkdir(exist_ok=True)
            for i in order:
                copy = out / "as_of" / f"weights_for_{scenarios[i].id}.yaml"
                shutil.copyfile(folds[i]["weights"], copy)
                folds[i]["weights"] = str(copy)
        return _document(files, scenarios, outcomes, subjects, order, train, folds, mode,
                         settings, weights, forecast_runs, executor, progress, start)


def _document(files, scenarios, outcomes, subjects, order, train, folds, mode, settings,
              weights, forecast_runs, executor, progress, start) -> dict:
    """Forecast each case with its fold's weights, and score: the backtest document."""
    from tqdm.auto import tqdm

    rows: list[dict[str, Any]] = []
    for i in tqdm(order, unit="case", disable=progress is False, delay=2.0, leave=False,
                  desc="forecasts"):
        p = forecast(files[i], folds[i]["weights"], forecast_runs)
        b = base_rate([outcomes[j] for j in train[i]])
        row: dict[str, Any] = {
            "id": scenarios[i].id, "title": scenarios[i].title, "file": files[i],
            "forecast_date": str(scenarios[i].forecast_date),
            "resolved": str(resolution_date(scenarios[i])),
            "subject": subjects[i], "outcome": outcomes[i],
            "probabilities": {o: float(v) for o, v in zip(OUTCOMES, p, strict=True)},
            "base_rate": {o: float(v) for o, v in zip(OUTCOMES, b, strict=True)},
            "brier": brier(p, outcomes[i]), "log": log_score(p, outcomes[i]),
            "base_rate_brier": brier(b, outcomes[i]),
            "base_rate_log": log_score(b, outcomes[i]),
            "entropy": entropy(p), "cases_seen": len(train[i])}
        if mode != "in_sample":
            row["fold"] = {"cases": [scenarios[j].id for j in train[i]],
                           "weights": folds[i]["weights"], "cached": folds[i]["cached"],
                           "seconds": round(folds[i]["seconds"], 1)}
        rows.append(row)
    seconds = time.perf_counter() - start
    return {
        "mode": mode,
        "cases": rows,
        "scores": summarise(rows),
        "by_subject": {s: summarise([r for r in rows if r["subject"] == s])
                       for s in sorted({r["subject"] for r in rows})},
        "settings": {"mode": mode, "leave_one_out": mode == "loo", "cases": len(rows),
                     "forecast_runs": forecast_runs, "forecast_seed": FORECAST_SEED,
                     "weights": (str(weights or "shipped calibration")
                                 if mode == "in_sample" else None),
                     "calibration": (None if mode == "in_sample" else
                                     {"prior": Path(settings.prior).name,
                                      "fitted": list(settings.fitted),
                                      "runs_per_case": settings.runs, "seed": settings.seed,
                                      "max_evals": settings.max_evals}),
                     "bootstrap_resamples": BOOTSTRAP,
                     "executor": executor, "seconds": round(seconds, 1)},
    }


def _subjects(scenarios: list[Scenario]) -> list[str]:
    """Each case's subject: its visitor, if it has several cases, else "others"."""
    names = [s.visitor.name for s in scenarios]
    return [n if names.count(n) >= SUBJECT_MIN_CASES else "others" for n in names]


def summarise(rows: list[dict]) -> dict:
    """Mean scores of the model, the uniform forecast and the base rate over ``rows``, with
    95% bootstrap intervals, skill scores, and the forecasts' sharpness."""
    if not rows:
        return {}
    uniform = np.full(len(OUTCOMES), 1 / len(OUTCOMES))
    scores: dict[str, Any] = {"cases": len(rows)}
    model_scores: dict[str, Any] = {}
    base_scores: dict[str, Any] = {}
    for rule in ("brier", "log"):
        m = np.array([r[rule] for r in rows])
        b = np.array([r[f"base_rate_{rule}"] for r in rows])
        ci = bootstrap_scores(m, b)
        model_scores[rule], model_scores[f"{rule}_ci95"] = float(m.mean()), ci["model"]
        base_scores[rule], base_scores[f"{rule}_ci95"] = float(b.mean()), ci["base_rate"]
        scores[f"{rule}_skill_vs_base_rate"] = skill(float(m.mean()), float(b.mean()))
        scores[f"{rule}_skill_vs_base_rate_ci95"] = ci["skill"]
    scores["model"], scores["base_rate"] = model_scores, base_scores
    scores["uniform"] = {"brier": _mean(brier(uniform, r["outcome"]) for r in rows),
                         "log": _mean(log_score(uniform, r["outcome"]) for r in rows)}
    scores["brier_skill_vs_uniform"] = skill(model_scores["brier"], scores["uniform"]["brier"])
    scores["sharpness"] = {
        "mean_entropy": _mean(entropy(r["probabilities"]) for r in rows),
        "base_rate_mean_entropy": _mean(entropy(r["base_rate"]) for r in rows),
        "uniform_entropy": entropy(uniform),
        "mean_top_probability": _mean(max(r["probabilities"].values()) for r in rows)}
    return scores


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def write(doc: dict, out: str | Path) -> Path:
    """Write the two charts, then ``backtest.json`` (last: it marks the folder complete)
    into ``out``, each atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)

    from ..output import save_chart, write_json
    from ..plots import case_forecasts, reliability_diagram

    out = Path(out)
    save_chart(reliability_diagram(doc), out / "reliability.png", dpi=130)
    save_chart(case_forecasts(doc), out / "cases.png", dpi=130)
    write_json(out / "backtest.json", doc)
    return out / "backtest.json"


def read(path: str | Path) -> BacktestResult:
    """Read a ``backtest.json`` (or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "backtest.json"
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read a backtest from {path}: {exc}") from None
    if not isinstance(doc, dict) or "cases" not in doc or "scores" not in doc:
        raise UsageError(f"{path} is not a backtest (no cases and scores)")
    doc.setdefault("mode", "loo" if doc.get("settings", {}).get("leave_one_out")
                   else "in_sample")
    return BacktestResult(doc)


MODE_NAMES = {"as_of": "rolling origin (as of each forecast date)",
              "loo": "leave-one-out", "in_sample": "in-sample"}


def table(doc: dict | BacktestResult) -> str:
    """Per-case and mean scores as text, with the intervals."""
    if isinstance(doc, BacktestResult):
        doc = doc.doc
    mode = doc.get("mode", "loo" if doc["settings"].get("leave_one_out") else "in_sample")
    lines = [f"{'case':<32}{'outcome':<18}{'p(outcome)':>11}{'Brier':>8}{'log':>8}"
             f"{'base Brier':>11}{'seen':>6}"]
    for r in doc["cases"]:
        lines.append(f"{r['id'][:31]:<32}{r['outcome']:<18}"
                     f"{r['probabilities'][r['outcome']]:>11.3f}{r['brier']:>8.3f}"
                     f"{r['log']:>8.3f}{r['base_rate_brier']:>11.3f}"
                     f"{r.get('cases_seen', ''):>6}")
    s = doc["scores"]
    lines += ["", f"{'forecaster':<12}{'Brier':>8}{'95% interval':>17}{'log':>8}"
                  f"{'95% interval':>17}"]
    for name in ("model", "base_rate", "uniform"):
        sc = s[name]
        lines.append(f"{name:<12}{sc['brier']:>8.3f}{_ci(sc.get('brier_ci95')):>17}"
                     f"{sc['log']:>8.3f}{_ci(sc.get('log_ci95')):>17}")
    lines.append(f"Brier skill vs base rate ({MODE_NAMES[mode]}): "
                 f"{s['brier_skill_vs_base_rate']:.3f}"
                 + (f"  95% interval {_ci(s['brier_skill_vs_base_rate_ci95']).strip()}"
                    if "brier_skill_vs_base_rate_ci95" in s else ""))
    for subject, sub in doc.get("by_subject", {}).items():
        lines.append(f"  {subject[:40]} ({sub['cases']} cases): Brier {sub['model']['brier']:.3f}"
                     f" vs base rate {sub['base_rate']['brier']:.3f}, skill "
                     f"{sub['brier_skill_vs_base_rate']:.3f} "
                     f"{_ci(sub['brier_skill_vs_base_rate_ci95']).strip()}")
    if "sharpness" in s:
        sh = s["sharpness"]
        lines.append(f"sharpness: mean entropy {sh['mean_entropy']:.3f} nats (base rate "
                     f"{sh['base_rate_mean_entropy']:.3f}, uniform {sh['uniform_entropy']:.3f})"
                     f", mean top probability {sh['mean_top_probability']:.2f}")
    return "\n".join(lines)


def _ci(ci) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""


__all__ = ["MODES", "BacktestResult", "FitSettings", "backtest", "base_rate", "brier",
           "bootstrap_scores", "entropy", "forecast", "log_score", "read",
           "skill", "summarise", "table", "write"]
