"""Score the model's forecasts of the historical cases against what happened.

Each case's forecast (its four outcome probabilities, from a Monte Carlo run in
which every replication draws its weights from the calibrated distribution) is
scored with two proper scoring rules, both losses (lower is better):

* the multiclass Brier score ``sum_k (p_k - y_k)^2`` (0 perfect, 2 worst);
* the log score ``-log p_outcome`` (natural log).

Baselines are scored the same way in the same run: uniform (1/4 each) and the base
rate of the calibration set with add-one smoothing.  With ``loo=True`` each case is
forecast from a calibration on the other cases only (and the base rate is computed
without it): the honest, out-of-sample figure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..scenario import load_scenario
from . import calibration as cal

# The engine (Mesa, pandas, pyarrow), the executors, the output folders and tqdm are
# imported where they are used, so that the command line's --help, which reads the
# defaults below, answers without loading them.

DEFAULT_FORECAST_RUNS = 20_000
FORECAST_SEED = 7


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


# --------------------------------------------------------------------------- forecasts

def forecast(case_file: str | Path, weights: str | Path | None, runs: int,
             seed: int = FORECAST_SEED) -> np.ndarray:
    """A case's forecast: smoothed outcome probabilities with the given weights file."""
    from ..engine import run

    scenario = load_scenario(case_file, weights=weights)
    return cal.smoothed(run(scenario, runs=runs, seed=seed, progress=False).counts)


def _loo_fold(files: list[str], held: int, prior: str | None, fitted: tuple[str, ...],
              runs: int, seed: int, max_evals: int, forecast_runs: int,
              weights_out: str) -> dict:
    """Calibrate without case ``held``, write those weights, forecast the held-out case."""
    start = time.perf_counter()
    train = [f for i, f in enumerate(files) if i != held]
    fit = cal.calibrate(train, prior=prior, fitted=fitted, runs=runs, seed=seed,
                        max_evals=max_evals, progress=False)
    fit.write(weights_out)
    p = forecast(files[held], weights_out, forecast_runs)
    return {"probabilities": p, "estimate": fit.estimate, "sd": fit.sd,
            "log_likelihood": fit.log_likelihood, "seconds": time.perf_counter() - start}


def backtest(source: str | Path, loo: bool = False, out: str | Path | None = None, *,
             weights: str | Path | None = None, prior: str | Path | None = None,
             fitted: Sequence[str] = cal.FITTED, runs: int = cal.DEFAULT_RUNS,
             seed: int = cal.DEFAULT_SEED, max_evals: int = cal.DEFAULT_MAX_EVALS,
             forecast_runs: int = DEFAULT_FORECAST_RUNS, executor: str = "serial",
             workers: int | None = None, scheduler: str | None = None,
             progress: bool | None = None, cases: Sequence[str] | None = None,
             replace: bool = False) -> dict:
    """Score every case's forecast; returns the backtest document (see ``backtest.json``).

    Parameters
    ----------
    source : folder of case files (or a list of files).
    loo : recalibrate without each case before forecasting it (leave-one-out).
    weights : the weights file for in-sample forecasts (default: the shipped calibration).
    prior, fitted, runs, seed, max_evals : the calibration's settings (with ``loo``).
    forecast_runs : replications of each forecast.
    executor, workers, scheduler : where the leave-one-out folds run (``processes`` for a
        local pool, ``dask`` for a local or remote Dask cluster).
    cases : ids of the cases to score (default all); with ``loo`` every fold is still
        calibrated on all the other cases.
    out : folder for backtest.json, the charts, and (with ``loo``) each fold's weights.
        A new folder, claimed before anything is computed (see
        :class:`sim.output.OutputFolder`); ``backtest.json`` is written last and marks it
        complete.
    replace : replace ``out`` if it holds an earlier (or interrupted) backtest.
    """
    fitted = cal.check_fitted(fitted)
    if isinstance(forecast_runs, bool) or not isinstance(forecast_runs, int) \
            or forecast_runs < 10:
        raise UsageError(f"forecast_runs must be a whole number >= 10, got {forecast_runs!r}")
    files = [str(f) for f in (cal.case_files(source) if isinstance(source, str | Path)
                              else source)]
    prior_path = cal.read_prior(prior).path
    scenarios = cal.load_cases(files, weights=prior_path)  # validates every case first
    ids = [s.id for s in scenarios]
    outcomes = [cal.resolved_outcome(s) for s in scenarios]
    chosen = list(range(len(files))) if cases is None else [ids.index(c) for c in cases
                                                             if c in ids]
    if cases is not None and len(chosen) != len(set(cases)):
        raise UsageError(f"unknown case ids: {sorted(set(cases) - set(ids))}")
    if loo and len(files) < 3:
        raise UsageError("leave-one-out needs at least 3 cases")
    out = Path(out) if out is not None else None
    folder = None
    if out is not None:  # claimed before computing; never over an earlier backtest
        from ..output import OutputFolder

        folder = OutputFolder.claim(out, "backtest", "backtest.json", replace=replace)
    try:
        doc = _score(files, chosen, ids, outcomes, scenarios, loo, out, weights, prior_path,
                     fitted, runs, seed, max_evals, forecast_runs, executor, workers,
                     scheduler, progress)
        if folder is not None:
            write(doc, folder.path)
            folder.finish()  # backtest.json, written last, marks it complete
    except BaseException:
        if folder is not None:
            folder.fail()
        raise
    return doc


def _score(files, chosen, ids, outcomes, scenarios, loo, out, weights, prior_path, fitted,
           runs, seed, max_evals, forecast_runs, executor, workers, scheduler,
           progress) -> dict:
    """The folds (or in-sample forecasts) and their scores: the backtest document."""
    from tqdm.auto import tqdm

    from ..executors import make_executor

    if out is not None and loo:
        try:
            (out / "loo").mkdir(exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {out / 'loo'}: {exc.strerror or exc}") from None
    start = time.perf_counter()
    folds: dict[int, dict] = {}
    if loo:
        import tempfile

        tmp = None
        if out is None:
            tmp = tempfile.TemporaryDirectory()
            where = Path(tmp.name)
        else:
            where = out / "loo"
        pool = make_executor(executor, workers, scheduler)
        bar = tqdm(total=len(chosen), unit="fold", disable=progress is False,
                   desc="leave-one-out")
        try:
            futures = {pool.submit(_loo_fold, files, i, prior_path, fitted, runs, seed,
                                   max_evals, forecast_runs,
                                   str(where / f"weights_without_{ids[i]}.yaml")): i
                       for i in chosen}
            pending = list(futures)
            while pending:
                for fut in pool.wait_any(pending):
                    pending.remove(fut)
                    folds[futures[fut]] = fut.result()
                    bar.update(1)
        finally:
            bar.close()
            pool.close()
            if tmp is not None:
                tmp.cleanup()
    else:
        weights_path = str(weights) if weights else None
        for i in tqdm(chosen, unit="case", disable=progress is False, delay=2.0,
                      desc="forecasts"):
            folds[i] = {"probabilities": forecast(files[i], weights_path, forecast_runs)}
    seconds = time.perf_counter() - start

    rows: list[dict[str, Any]] = []
    for i in chosen:
        train = [o for j, o in enumerate(outcomes) if j != i] if loo else outcomes
        p = folds[i]["probabilities"]
        b = base_rate(train)
        row: dict[str, Any] = {
            "id": ids[i], "title": scenarios[i].title, "file": files[i],
            "outcome": outcomes[i],
            "probabilities": {o: float(v) for o, v in zip(OUTCOMES, p, strict=True)},
            "base_rate": {o: float(v) for o, v in zip(OUTCOMES, b, strict=True)},
            "brier": brier(p, outcomes[i]), "log": log_score(p, outcomes[i]),
            "base_rate_brier": brier(b, outcomes[i]),
            "base_rate_log": log_score(b, outcomes[i])}
        if loo:
            row["fold"] = {"estimate": folds[i]["estimate"], "sd": folds[i]["sd"],
                           "log_likelihood": folds[i]["log_likelihood"],
                           "seconds": round(folds[i]["seconds"], 1)}
        rows.append(row)
    uniform = np.full(len(OUTCOMES), 1 / len(OUTCOMES))
    model_scores = {"brier": _mean(r["brier"] for r in rows),
                    "log": _mean(r["log"] for r in rows)}
    uniform_scores = {"brier": _mean(brier(uniform, r["outcome"]) for r in rows),
                      "log": _mean(log_score(uniform, r["outcome"]) for r in rows)}
    base_scores = {"brier": _mean(r["base_rate_brier"] for r in rows),
                   "log": _mean(r["base_rate_log"] for r in rows)}
    scores: dict[str, dict[str, float] | float] = {
        "model": model_scores,
        "uniform": uniform_scores,
        "base_rate": base_scores,
        "brier_skill_vs_base_rate": skill(model_scores["brier"], base_scores["brier"]),
        "brier_skill_vs_uniform": skill(model_scores["brier"], uniform_scores["brier"]),
        "log_skill_vs_base_rate": skill(model_scores["log"], base_scores["log"]),
    }
    doc = {
        "cases": rows,
        "scores": scores,
        "settings": {"leave_one_out": loo, "cases": len(rows), "forecast_runs": forecast_runs,
                     "forecast_seed": FORECAST_SEED,
                     "weights": (None if loo else str(weights or "shipped calibration")),
                     "calibration": ({"prior": Path(prior_path).name, "fitted": list(fitted),
                                      "runs_per_case": runs, "seed": seed,
                                      "max_evals": max_evals} if loo else None),
                     "executor": executor, "seconds": round(seconds, 1)},
    }
    return doc


def _mean(values) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def write(doc: dict, out: str | Path) -> Path:
    """Write the two charts, then ``backtest.json`` (last: it marks the folder complete)
    into ``out``, each atomically."""
    import matplotlib

    matplotlib.use("Agg", force=False)

    from ..output import save_chart
    from ..plots import case_forecasts, reliability_diagram
    from ..results import write_json

    out = Path(out)
    save_chart(reliability_diagram(doc), out / "reliability.png", dpi=130)
    save_chart(case_forecasts(doc), out / "cases.png", dpi=130)
    write_json(out / "backtest.json", doc)
    return out / "backtest.json"


def read(path: str | Path) -> dict:
    """Read a ``backtest.json`` (or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "backtest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read a backtest from {path}: {exc}") from None


def table(doc: dict) -> str:
    """Per-case and average scores as text."""
    lines = [f"{'case':<32}{'outcome':<18}{'p(outcome)':>11}{'Brier':>8}{'log':>8}"
             f"{'base Brier':>11}"]
    for r in sorted(doc["cases"], key=lambda r: -r["brier"]):
        lines.append(f"{r['id']:<32}{r['outcome']:<18}{r['probabilities'][r['outcome']]:>11.3f}"
                     f"{r['brier']:>8.3f}{r['log']:>8.3f}{r['base_rate_brier']:>11.3f}")
    s = doc["scores"]
    lines.append("")
    lines.append(f"{'forecaster':<14}{'Brier':>8}{'log':>8}")
    for name in ("model", "uniform", "base_rate"):
        lines.append(f"{name:<14}{s[name]['brier']:>8.3f}{s[name]['log']:>8.3f}")
    kind = "leave-one-out" if doc["settings"]["leave_one_out"] else "in-sample"
    lines.append(f"Brier skill score vs base rate ({kind}): {s['brier_skill_vs_base_rate']:.3f}")
    return "\n".join(lines)


__all__ = ["backtest", "base_rate", "brier", "forecast", "log_score", "read", "skill", "table",
           "write"]
