"""Calibration (maximum likelihood with common random numbers) and backtest scoring."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import CASES, FEW

from sim import load_scenario
from sim.analysis import backtest as bt
from sim.analysis import calibration as cal
from sim.cli import main
from sim.errors import ScenarioError, UsageError
from sim.outcomes import OUTCOMES

# --------------------------------------------------------------------------- scores

def test_brier_and_log_score_by_hand():
    p = {"arrest_surrender": 0.5, "hosted_no_arrest": 0.25, "left_early": 0.25,
         "visit_cancelled": 0.0}
    assert bt.brier(p, "arrest_surrender") == pytest.approx(0.25 + 0.0625 + 0.0625)
    assert bt.brier(p, "visit_cancelled") == pytest.approx(0.25 + 0.0625 + 0.0625 + 1.0)
    assert bt.log_score(p, "arrest_surrender") == pytest.approx(math.log(2))
    assert bt.log_score(p, "hosted_no_arrest") == pytest.approx(math.log(4))
    assert math.isfinite(bt.log_score(p, "visit_cancelled"))  # floored, not infinite
    uniform = np.full(4, 0.25)
    for o in OUTCOMES:
        assert bt.brier(uniform, o) == pytest.approx(0.75)
        assert bt.log_score(uniform, o) == pytest.approx(math.log(4))
    assert bt.brier(np.eye(4)[1], "hosted_no_arrest") == 0.0
    assert bt.brier(np.eye(4)[1], "left_early") == 2.0


def test_base_rate_has_add_one_smoothing_and_skill():
    rate = bt.base_rate(["arrest_surrender", "arrest_surrender", "hosted_no_arrest"])
    assert rate == pytest.approx(np.array([3, 2, 1, 1]) / 7)
    assert bt.base_rate([]) == pytest.approx(np.full(4, 0.25))
    assert bt.skill(0.3, 0.6) == pytest.approx(0.5)
    assert bt.skill(0.9, 0.6) < 0


def test_smoothed_counts_never_zero_and_sum_to_one():
    p = cal.smoothed(np.array([[0, 10, 0, 0], [3, 3, 2, 2]]))
    assert (p > 0).all()
    assert p.sum(axis=1) == pytest.approx([1, 1])
    assert p[0, 1] == pytest.approx(10.5 / 12)


def test_transforms_round_trip():
    for name, value in (("stance_inertia", 0.6), ("legal", 4.0), ("risk_tolerance", 0.07)):
        x = cal.to_free(name, value)
        assert cal.from_free(name, x) == pytest.approx(value)
    assert cal.transform_of("legal") == "log"
    assert cal.transform_of("risk_tolerance") == "logit"
    assert cal.transform_of("legal") == "log"
    assert cal.transform_of("risk_tolerance") == "logit"


# --------------------------------------------------------------------------- calibration

def test_tiny_calibration_raises_the_likelihood_and_writes_a_loadable_file(few_cases, tmp_path):
    fit = cal.calibrate(few_cases, fitted=("energy", "legal", "risk_tolerance"), runs=400,
                        max_evals=40, progress=False)
    assert fit.log_likelihood > fit.log_likelihood_prior
    assert fit.evaluations <= 40 + 2 * 3 + 2  # the budget, plus the Fisher differences
    sd = fit.sd
    assert all(s > 0 and math.isfinite(s) for s in sd.values())
    path = fit.write(tmp_path / "w.yaml")
    doc = yaml.safe_load(path.read_text())
    assert set(doc) <= {"weights", "description", "calibration", "correlations", "posterior"}
    # without MCMC, the posterior draws forecasts cycle over come from the Laplace Gaussian
    assert "Laplace" in doc["posterior"]["sampler"] and len(doc["posterior"]["samples"]) == 200
    assert doc["calibration"]["cases"] == [f[:-5] for f in FEW]
    assert doc["weights"]["legal"]["dist"] == "lognormal"
    assert doc["weights"]["risk_tolerance"]["dist"] == "logitnormal"
    assert doc["weights"]["court"] == yaml.safe_load(
        cal.prior_weights_file().read_text())["weights"]["court"]  # unfitted: the prior
    scenario = load_scenario(few_cases / FEW[0], weights=path)
    assert scenario.parameters["weights.legal"].uncertain
    # an unfitted weight keeps its prior distribution, so its uncertainty reaches forecasts
    assert scenario.parameters["weights.court"].dist.kind == "lognormal"
    # the weights' joint uncertainty reaches the scenario as correlations
    pairs = {(c.a, c.b) for c in scenario.correlations}
    assert all(a.startswith("weights.") for a, _ in pairs)
    # fixing a weight (e.g. a notebook slider) drops its correlations
    fixed = scenario.with_values({"weights.legal": 4.0})
    assert all("weights.legal" not in (c.a, c.b) for c in fixed.correlations)


def test_calibration_is_deterministic(few_cases):
    a = cal.calibrate(few_cases, fitted=("legal",), runs=200, max_evals=12, progress=False)
    b = cal.calibrate(few_cases, fitted=("legal",), runs=200, max_evals=12, progress=False)
    assert a.estimate == b.estimate


def _synthetic_cases(folder: Path, true: dict[str, float], copies: int, runs: int) -> None:
    """Case files whose resolutions are drawn from the model with weights ``true``."""
    rng = np.random.default_rng(11)
    for name in FEW:
        case = load_scenario(CASES / name, weights=cal.prior_weights_file())
        p = cal.smoothed(cal.case_counts([case], true, runs, seed=99))[0]
        doc = yaml.safe_load((CASES / name).read_text())
        for k in range(copies):
            doc["id"] = f"{case.id}_syn{k}"
            doc["resolution"]["outcome"] = OUTCOMES[rng.choice(4, p=p)]
            (folder / f"{doc['id']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def test_recovery_moves_towards_the_true_weight(tmp_path):
    """Resolutions simulated with a bold visitor (risk tolerance 0.5 instead of the prior
    0.04): the fit of risk_tolerance moves from the prior towards the truth."""
    folder = tmp_path / "synthetic"
    folder.mkdir()
    true = {"risk_tolerance": 0.5}
    _synthetic_cases(folder, true, copies=5, runs=2000)
    fit = cal.calibrate(folder, fitted=("risk_tolerance",), runs=400, max_evals=25,
                        progress=False)
    logit = lambda v: math.log(v / (1 - v))  # noqa: E731
    start = abs(logit(fit.prior["risk_tolerance"]) - logit(true["risk_tolerance"]))
    end = abs(logit(fit.estimate["risk_tolerance"]) - logit(true["risk_tolerance"]))
    assert end < 0.5 * start


def test_bad_fitted_names_and_cases_are_usage_errors(few_cases, tmp_path, baseline_doc):
    with pytest.raises(UsageError):
        cal.calibrate(few_cases, fitted=("no_such_weight",), progress=False)
    with pytest.raises(UsageError):
        cal.calibrate(tmp_path / "nowhere", progress=False)
    (few_cases / "open.yaml").write_text(yaml.safe_dump(baseline_doc))  # no resolution
    with pytest.raises(UsageError, match="resolution"):
        cal.load_cases(few_cases)


def test_weights_file_correlations_are_validated(tmp_path):
    doc = yaml.safe_load(cal.prior_weights_file().read_text())
    doc["weights"]["legal"] = {"value": 5.0, "assumption": "test: a fixed weight"}
    doc["correlations"] = [{"between": ["weights.legal", "weights.energy"], "rho": 0.5,
                            "source": "test"}]
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ScenarioError, match="fixed value cannot be correlated"):
        load_scenario(CASES / FEW[0], weights=path)


# --------------------------------------------------------------------------- backtest

def test_backtest_json_format_and_charts(few_cases, tmp_path):
    out = tmp_path / "bt"
    result = bt.backtest(few_cases, out=out, forecast_runs=500, progress=False)
    doc = result.doc
    on_disk = json.loads((out / "backtest.json").read_text())
    assert on_disk["scores"]["model"] == doc["scores"]["model"]
    assert (out / "reliability.png").stat().st_size > 0
    assert (out / "cases.png").stat().st_size > 0
    assert len(on_disk["cases"]) == len(FEW)
    for case in on_disk["cases"]:
        assert set(case) >= {"id", "outcome", "probabilities"}
        assert set(case["probabilities"]) == set(OUTCOMES)
        assert sum(case["probabilities"].values()) == pytest.approx(1.0)
    scores = on_disk["scores"]
    for name in ("model", "base_rate"):
        assert set(scores[name]) == {"brier", "log", "brier_ci95", "log_ci95"}
        for rule in ("brier", "log"):
            low, high = scores[name][f"{rule}_ci95"]
            assert low <= scores[name][rule] <= high
    assert scores["uniform"]["brier"] == pytest.approx(0.75)
    assert scores["brier_skill_vs_base_rate"] == pytest.approx(
        1 - scores["model"]["brier"] / scores["base_rate"]["brier"])
    assert on_disk["mode"] == "in_sample"
    assert "Brier skill vs base rate (in-sample)" in result.table()
    frame = result.frame()
    assert len(frame) == len(FEW) and {"p_outcome", "brier", "subject"} <= set(frame.columns)
    assert bt.read(out).doc["scores"] == on_disk["scores"]


def test_leave_one_out_refits_without_the_case(few_cases, tmp_path):
    held = "o01_bemba_belgium_2008"
    doc = bt.backtest(few_cases, loo=True, out=tmp_path / "loo", cases=[held],
                      fitted=("legal",), runs=200, max_evals=10, forecast_runs=500,
                      progress=False).doc
    (row,) = doc["cases"]
    assert row["id"] == held and doc["mode"] == "loo"
    others = ["visit_cancelled", "hosted_no_arrest", "hosted_no_arrest"]  # b01, b10, p02
    assert list(row["base_rate"].values()) == pytest.approx(list(bt.base_rate(others)))
    weights = Path(row["fold"]["weights"])
    assert weights.parent == tmp_path / "loo" / "loo"
    fold = yaml.safe_load(weights.read_text())
    assert held not in fold["calibration"]["cases"]
    assert len(fold["calibration"]["cases"]) == 3


def test_as_of_backtest_fits_each_case_on_earlier_cases_only(few_cases, tmp_path):
    """Rolling origin: each case is forecast with weights fitted on the cases resolved
    before its forecast date; the first has none (the prior), and fits are cached."""
    cache = tmp_path / "cache"
    settings = dict(fitted=("legal",), runs=200, max_evals=10, forecast_runs=500,
                    progress=False, cache=cache)
    result = bt.backtest(few_cases, mode="as_of", out=tmp_path / "asof", **settings)
    doc = result.doc
    assert doc["mode"] == "as_of"
    rows = doc["cases"]
    assert [r["forecast_date"] for r in rows] == sorted(r["forecast_date"] for r in rows)
    assert [r["cases_seen"] for r in rows] == [0, 1, 2, 3]
    resolved = {r["id"]: r["resolved"] for r in rows}
    for r in rows:
        assert all(resolved[c] < r["forecast_date"] for c in r["fold"]["cases"])
        seen = yaml.safe_load(Path(r["fold"]["weights"]).read_text())
        assert (seen["calibration"]["cases"] or []) == r["fold"]["cases"]
    assert rows[0]["base_rate"] == pytest.approx(dict.fromkeys(OUTCOMES, 0.25))
    low, high = doc["scores"]["model"]["brier_ci95"]
    assert low <= doc["scores"]["model"]["brier"] <= high
    assert "rolling origin" in result.table()
    # a second run reads every fit back from the cache and forecasts the same
    again = bt.backtest(few_cases, mode="as_of", **settings).doc
    assert all(r["fold"]["cached"] for r in again["cases"])
    assert [r["probabilities"] for r in again["cases"]] == [r["probabilities"] for r in rows]


def test_bootstrap_intervals_cover_the_mean_and_are_paired():
    rng = np.random.default_rng(5)
    model = rng.uniform(0.2, 0.6, size=28)
    ci = bt.bootstrap_scores(model, model + 0.1)
    assert ci["model"][0] < model.mean() < ci["model"][1]
    assert 0 < ci["skill"][0] < ci["skill"][1] < 0.5  # paired: always better, by ~20%
    assert bt.bootstrap_scores(model, model + 0.1) == ci  # seeded


def test_calibration_before_a_date_uses_only_earlier_cases(few_cases, tmp_path):
    import datetime as dt

    fit = cal.calibrate(few_cases, fitted=("legal",), runs=200, max_evals=8, progress=False,
                        before=dt.date(2011, 1, 1))
    assert set(fit.case_ids) == {"o01_bemba_belgium_2008", "b01_bashir_south_africa_2009"}
    doc = yaml.safe_load(fit.write(tmp_path / "w.yaml").read_text())
    assert doc["calibration"]["resolved_before"] == "2011-01-01"
    none = cal.calibrate(few_cases, fitted=("legal",), runs=200, max_evals=8,
                         progress=False, before=dt.date(2000, 1, 1))
    assert none.case_ids == () and "prior" in none.table()
    prior = yaml.safe_load(cal.prior_weights_file().read_text())
    assert yaml.safe_load(none.write(tmp_path / "p.yaml").read_text())["weights"] == \
        prior["weights"]


def test_cli_run_as_of_fits_once_then_reads_the_cache(few_cases, tmp_path, monkeypatch,
                                                      capsys):
    from sim.analysis import asof

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(asof, "forecast_settings", lambda prior=None: asof.FitSettings(
        prior=str(cal.prior_weights_file()), fitted=("legal",), runs=200, max_evals=8))
    scenario = CASES.parent / "mongolia_2024.yaml"
    args = ["run", str(scenario), "--as-of", "--cases", str(few_cases), "--runs", "2000",
            "--seed", "3", "--quiet"]
    assert main([*args, "--out", "first"]) == 0
    assert "new fit, now cached" in capsys.readouterr().out
    assert main([*args, "--out", "second"]) == 0
    out = capsys.readouterr().out
    assert "fitted on the 3 cases resolved before it (from the cache" in out
    provenance = json.loads((tmp_path / "second" / "provenance.json").read_text())
    assert sorted(provenance["weights"]["cases"]) == sorted(
        ["o01_bemba_belgium_2008", "b01_bashir_south_africa_2009", "b10_bashir_djibouti_2011"])
    assert main([*args, "--out", "third", "--weights", "x.yaml"]) == 2


# --------------------------------------------------------------------------- command line

def test_cli_bad_input_exits_2_without_traceback(tmp_path, capsys, baseline_doc, few_cases):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["calibrate", str(empty)]) == 2
    assert main(["backtest", str(empty)]) == 2
    assert main(["backtest", str(tmp_path / "missing"), "--loo"]) == 2
    open_case = tmp_path / "open"
    open_case.mkdir()
    (open_case / "x.yaml").write_text(yaml.safe_dump(baseline_doc))
    assert main(["calibrate", str(open_case)]) == 2
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.yaml").write_text("id: [unclosed\n")
    assert main(["calibrate", str(broken)]) == 2
    assert main(["calibrate", str(few_cases), "--fit", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("error:") >= 6


def test_cli_calibrate_writes_a_weights_file(few_cases, tmp_path, capsys):
    out = tmp_path / "w.yaml"
    assert main(["calibrate", str(few_cases), "--fit", "legal", "--runs", "200",
                 "--max-evals", "8", "--out", str(out), "--quiet"]) == 0
    assert "legal" in capsys.readouterr().out
    assert load_scenario(few_cases / FEW[0], weights=out).parameters["weights.legal"].uncertain


def test_backtest_scores_each_chosen_case_once_and_refuses_unknown_ids(few_cases):
    held = "o01_bemba_belgium_2008"
    doc = bt.backtest(few_cases, cases=[held, held], forecast_runs=100, progress=False).doc
    assert [r["id"] for r in doc["cases"]] == [held]
    with pytest.raises(UsageError, match="zzz"):
        bt.backtest(few_cases, cases=[held, held, "zzz"], forecast_runs=100, progress=False)
