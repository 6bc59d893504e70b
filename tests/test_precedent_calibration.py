"""The calibration of the precedent weights on resolved itineraries (issue 14, item 4)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import cli
from sim.analysis.calibration import CaseSimulator, smoothed
from sim.errors import UsageError
from sim.itinerary import (
    PRECEDENT_PARAMS,
    PrecedentWeights,
    load_itinerary,
    load_precedent_weights,
)
from sim.itinerary.calibrate import (
    EFFECTS,
    SequenceSimulator,
    calibrate_precedents,
    check_fitted,
    sequential,
)
from sim.itinerary.precedent import prior_file
from sim.itinerary.result import NOT_REACHED
from sim.itinerary.simulate import simulate_worlds
from sim.outcomes import OUTCOMES
from sim.scenario.types import Resolution
from sim.streams import block_sizes

ROOT = Path(__file__).resolve().parent.parent
PUTIN = ROOT / "scenarios" / "itineraries" / "putin_2023_2025.yaml"
#: Small but real settings: a fit of the six effects on Putin's four visits takes ~1 s.
SMALL = {"runs": 300, "max_evals": 25, "seed": 5, "progress": False}


@pytest.fixture(scope="module")
def putin():
    return load_itinerary(PUTIN)


@pytest.fixture(scope="module")
def fit(putin):
    return calibrate_precedents([putin], **SMALL)


def test_the_fit_raises_the_likelihood_and_is_fixed_by_its_seed(fit, putin):
    # the mode maximises likelihood + log prior, which is 0 at the prior: never below it
    assert fit.log_likelihood >= fit.log_likelihood_prior
    assert fit.fitted == EFFECTS and fit.evaluations <= SMALL["max_evals"] + 2 * len(EFFECTS) + 1
    again = calibrate_precedents([PUTIN], **SMALL)  # a path loads the same itinerary
    np.testing.assert_array_equal(again.mode, fit.mode)
    np.testing.assert_array_equal(again.chain.samples, fit.chain.samples)
    assert again.log_likelihood == fit.log_likelihood
    for name, value in fit.estimate.items():
        lo80, hi80 = fit.interval(0.8)[name]
        lo95, hi95 = fit.interval(0.95)[name]
        assert lo95 <= lo80 <= value <= hi80 <= hi95  # Laplace draws centre on the mode
        spec = PRECEDENT_PARAMS[name]
        assert spec.low <= lo95 and hi95 <= spec.high
    text = fit.table()
    assert "court_wear" in text and "80% interval" in text
    summary = fit.summary()
    assert set(summary["fitted"]) == set(EFFECTS)
    assert [v["visit"] for v in summary["visits"]] == list(putin.ids)
    assert summary["visits"][0]["effective_worlds"] == pytest.approx(SMALL["runs"])


def test_the_first_visit_is_the_behavioural_calibrations_likelihood_of_its_case(putin):
    sequence = SequenceSimulator(putin, 400, 3)
    first = putin.visits[0].scenario
    with CaseSimulator([first], 400, 3) as alone:
        expected = smoothed(alone.counts({}))[0]
    np.testing.assert_allclose(sequence.probabilities(PrecedentWeights.zero())[0], expected,
                               rtol=1e-12)


def test_the_visits_probabilities_multiply_to_the_probability_of_the_sequence():
    rng = np.random.default_rng(8)
    p = rng.dirichlet(np.ones(4), size=(5, 30))  # 5 visits, 30 worlds
    codes = [0, 3, 1, 1, 2]
    out, n_eff = sequential(p, codes)
    raw = ((n_eff[:, None] + 2) * out - 0.5) / n_eff[:, None]  # undo the add-half smoothing
    chosen = raw[np.arange(5), codes]
    joint = np.mean(np.prod(p[np.arange(5), :, codes], axis=0))
    assert np.prod(chosen) == pytest.approx(joint, rel=1e-10)
    assert n_eff[0] == pytest.approx(30) and np.all(n_eff[1:] < 30)


def test_the_written_file_is_a_precedent_weights_file_for_sim_run(fit, tmp_path, capsys):
    path = fit.write(tmp_path / "precedents.yaml")
    loaded = load_precedent_weights(path)
    for name in PRECEDENT_PARAMS:
        assert loaded[name] == pytest.approx(fit.weights()[name], rel=1e-5)
    doc = yaml.safe_load(path.read_text())["precedent_weights"]
    prior = yaml.safe_load(prior_file().read_text())["precedent_weights"]
    for name in PRECEDENT_PARAMS:
        if name in fit.fitted:
            assert "calibrated on the resolved itineraries putin_2023_2025" in doc[name]["source"]
            assert "80% interval" in doc[name]["source"]
        else:
            assert doc[name] == prior[name]
    with pytest.raises(UsageError, match="already exists"):
        fit.write(path)
    assert fit.write(path, replace=True) == path
    code = cli.main(["run", str(PUTIN), "--runs", "200", "--seed", "1", "--precedent-weights",
                     str(path), "--out", str(tmp_path / "run")])
    capsys.readouterr()
    assert code == 0 and (tmp_path / "run" / "summary.json").is_file()


def _zero_prior(tmp_path: Path) -> Path:
    doc = yaml.safe_load(prior_file().read_text())
    doc["precedent_weights"]["court_wear"]["value"] = 0.0
    path = tmp_path / "zero.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _unresolved(itinerary):
    visit = itinerary.visits[1]
    open_visit = dataclasses.replace(
        visit, scenario=dataclasses.replace(visit.scenario, resolution=None))
    return dataclasses.replace(itinerary, visits=(itinerary.visits[0], open_visit))


@pytest.mark.parametrize("case, message", [
    ("unresolved", "is not a resolved case"),
    ("unknown", "distinct names"),
    ("zero", "cannot fit court_wear: prior value 0"),
    ("twice", "given more than once"),
    ("none", "no itinerary"),
    ("runs", "runs must be a whole number >= 10"),
    ("mcmc", "mcmc_steps must be 0"),
])
def test_bad_input_is_a_one_line_usage_error(putin, tmp_path, case, message):
    arguments = {
        "unresolved": {"itineraries": [_unresolved(putin)]},
        "unknown": {"itineraries": [putin], "fitted": ["court_wear", "no_such_weight"]},
        "zero": {"itineraries": [putin], "fitted": ["court_wear"],
                 "prior": _zero_prior(tmp_path)},
        "twice": {"itineraries": [putin, PUTIN]},
        "none": {"itineraries": []},
        "runs": {"itineraries": [putin], "runs": 5},
        "mcmc": {"itineraries": [putin], "mcmc_steps": 5},
    }[case]
    with pytest.raises(UsageError, match=message) as caught:
        calibrate_precedents(**arguments, progress=False)
    assert "\n" not in str(caught.value)


def test_a_weight_with_prior_value_zero_is_left_unfitted_by_default(tmp_path):
    prior = load_precedent_weights(_zero_prior(tmp_path))
    assert check_fitted(None, prior) == tuple(n for n in EFFECTS if n != "court_wear")


def _synthetic(itinerary, weights: PrecedentWeights, seed: int, worlds: int) -> list:
    """``worlds`` resolved itineraries, each a world the model drew with ``weights``: its
    outcomes and findings as the record (ended at an arrest, as a real itinerary would)."""
    states, findings, _ = simulate_worlds(itinerary, weights, seed, 0, block_sizes(worlds))
    out = []
    for w in range(worlds):
        visits = []
        for k, visit in enumerate(itinerary.visits):
            if states[k, w] == NOT_REACHED:
                break
            record = Resolution(OUTCOMES[states[k, w]], "2000-01-01", ("synthetic",))
            visits.append(dataclasses.replace(
                visit, scenario=dataclasses.replace(visit.scenario, resolution=record),
                finding=bool(findings[k, w])))
        out.append(dataclasses.replace(itinerary, id=f"world{w}", visits=tuple(visits)))
    return out


def test_a_weight_far_from_its_prior_is_recovered_from_sequences_the_model_drew(putin):
    """Twenty sequences drawn with visitor_emboldened 4 (prior 0.2) put 4, not 0.2, inside
    the fit's 95% interval; drawn with the prior, 0.2 stays inside.  The interval carries
    the twenty sequences' sampling error; the 300 worlds' Monte Carlo error is far smaller
    (common random numbers, probabilities integrated over the hosts' resolve)."""
    prior = load_precedent_weights()
    name = "visitor_emboldened"
    settings = {"fitted": [name], "runs": 300, "max_evals": 20, "seed": 11, "progress": False}
    bold = calibrate_precedents(_synthetic(putin, prior.with_values(**{name: 4.0}), 7, 20),
                                **settings)
    lo, hi = bold.interval(0.95)[name]
    assert lo <= 4.0 <= hi and lo > prior[name]
    assert abs(math.log(bold.estimate[name] / 4.0)) < abs(math.log(prior[name] / 4.0)) / 2
    plain = calibrate_precedents(_synthetic(putin, prior, 7, 20), **settings)
    lo, hi = plain.interval(0.95)[name]
    assert lo <= prior[name] <= hi


def test_sim_calibrate_precedents_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "precedents.yaml"
    code = cli.main(["calibrate", str(PUTIN), "--precedents", "--runs", "300", "--max-evals",
                     "25", "--seed", "5", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0 and "host_deterrence" in printed and f"wrote {out}" in printed
    assert set(load_precedent_weights(out).values) == set(PRECEDENT_PARAMS)
    # the same fit as the API's, fixed by its seed
    api = calibrate_precedents([PUTIN], **SMALL)
    for name in api.fitted:
        assert load_precedent_weights(out)[name] == pytest.approx(api.estimate[name], rel=1e-5)


@pytest.mark.parametrize("args, message", [
    (["calibrate", str(PUTIN), str(PUTIN)], "one folder of cases"),
    (["calibrate", str(PUTIN), "--precedents", "--before", "2020-01-01"], "--before"),
    (["calibrate", str(PUTIN), "--precedents", "--workers", "2"], "--workers"),
    (["calibrate", str(PUTIN), "--precedents", "--fit", "energy"], "energy"),
    (["calibrate", str(ROOT / "scenarios" / "mongolia_2024.yaml"), "--precedents"],
     "not an itinerary file"),
    (["calibrate", str(ROOT / "scenarios" / "cases"), "--precedents"], "not an itinerary file"),
])
def test_sim_calibrate_precedents_refuses_bad_arguments_in_one_line(args, message, tmp_path,
                                                                  capsys):
    code = cli.main([*args, "--out", str(tmp_path / "w.yaml"), "--quiet"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and message in err[0] and not (tmp_path / "w.yaml").exists()
