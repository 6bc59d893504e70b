"""The weights' posterior: draws in the weights file, carried into forecasts, and the
credible intervals they give."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import CASES, FEW

from sim import load_scenario
from sim.analysis import calibration as cal
from sim.credible import credible_intervals
from sim.errors import ScenarioError
from sim.sampling import draw_parameters
from sim.streams import BLOCK, Streams, block_sizes

BASELINE = CASES.parent / "mongolia_2024.yaml"


def _weights_with_posterior(tmp_path, samples: np.ndarray, names=("legal", "energy"),
                            name="w.yaml"):
    doc = yaml.safe_load(cal.prior_weights_file().read_text())
    doc["posterior"] = {"sampler": "test", "weights": list(names),
                        "samples": [[float(v) for v in row] for row in samples]}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def test_world_i_takes_posterior_draw_i_mod_k_whatever_the_chunking(tmp_path):
    rng = np.random.default_rng(1)
    samples = np.column_stack([rng.uniform(1, 30, 7), rng.uniform(1, 30, 7)])
    scenario = load_scenario(BASELINE, weights=_weights_with_posterior(tmp_path, samples))
    assert scenario.posterior is not None and scenario.posterior.weights == ("legal", "energy")
    runs = 2 * BLOCK + 500
    whole = draw_parameters(scenario, Streams.for_range(5, 0, block_sizes(runs)))
    assert np.array_equal(whole["weights.legal"], samples[np.arange(runs) % 7, 0])
    assert np.array_equal(whole["weights.energy"], samples[np.arange(runs) % 7, 1])
    last = draw_parameters(scenario, Streams.for_range(5, 2, [500]))  # a chunk on its own
    assert np.array_equal(last["weights.legal"], whole["weights.legal"][2 * BLOCK:])
    # other weights are drawn as before: the posterior changes only its own columns
    plain = load_scenario(BASELINE, weights=cal.prior_weights_file())
    other = draw_parameters(plain, Streams.for_range(5, 0, block_sizes(runs)))
    assert np.array_equal(other["weights.court"], whole["weights.court"])


def test_a_weight_set_by_hand_leaves_the_posterior(tmp_path):
    samples = np.array([[5.0, 1.0], [6.0, 2.0]])
    scenario = load_scenario(BASELINE, weights=_weights_with_posterior(tmp_path, samples))
    fixed = scenario.with_values({"weights.legal": 4.0})
    assert fixed.posterior is not None and fixed.posterior.weights == ("energy",)
    values = draw_parameters(fixed, Streams.for_range(1, 0, [10]))
    assert values["weights.legal"] == 4.0
    assert fixed.content_hash != scenario.content_hash


@pytest.mark.parametrize("block, where", [
    ({"weights": ["legal", "nonsense"], "samples": [[1.0], [2.0]]}, "posterior.weights"),
    ({"weights": ["legal"], "samples": [[1.0]]}, "posterior.samples"),
    ({"weights": ["legal"], "samples": [[1.0], [2.0, 3.0]]}, "posterior.samples[1]"),
    ({"weights": ["legal"], "samples": [[1.0], [-2.0]]}, "posterior.samples[1]"),
    ({"weights": ["risk_tolerance"], "samples": [[0.5], [".nan"]]}, "posterior.samples[1]"),
])
def test_a_bad_posterior_block_is_refused_with_its_key_path(tmp_path, block, where):
    doc = yaml.safe_load(cal.prior_weights_file().read_text())
    doc["posterior"] = block
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(doc).replace("'.nan'", ".nan"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(BASELINE, weights=path)
    assert any(p.path == where for p in err.value.problems), err.value.problems


def test_credible_intervals_recover_the_spread_across_draws():
    """Each draw's probability is known; with many worlds per draw the 80% interval is
    the 10-90% range of those probabilities, and the Monte Carlo noise of few worlds per
    draw is removed, not reported as uncertainty about the weights."""
    rng = np.random.default_rng(2)
    truth = rng.beta(4, 6, size=400)  # the arrest probability under each posterior draw
    for worlds in (20_000, 50):
        arrests = rng.binomial(worlds, truth)
        counts = np.column_stack([arrests, worlds - arrests, np.zeros(400), np.zeros(400)])
        ci = credible_intervals(counts)["credible80"][0]
        expected = np.quantile(truth, [0.1, 0.9])
        assert ci == pytest.approx(expected, abs=0.02 if worlds > 1000 else 0.05)
    # no uncertainty about the weights: every draw has the same probability
    same = rng.binomial(50, 0.3, size=400)
    counts = np.column_stack([same, 50 - same, np.zeros(400), np.zeros(400)])
    low, high = credible_intervals(counts)["credible95"][0]
    naive = np.quantile(same / 50, [0.025, 0.975])
    assert high - low < 0.35 * (naive[1] - naive[0])


def test_sampled_posterior_is_written_loaded_and_reproducible(few_cases, tmp_path):
    kw = dict(fitted=("legal", "risk_tolerance"), runs=200, max_evals=12, progress=False,
              mcmc_steps=20)
    fit = cal.calibrate(few_cases, **kw)
    assert fit.chain is not None
    assert fit.chain.samples.shape == (min(200, 6 * 10), 2)  # 6 walkers x 10 kept steps
    assert 0 < fit.chain.acceptance <= 1
    doc = yaml.safe_load(fit.write(tmp_path / "w.yaml").read_text())
    assert doc["posterior"]["weights"] == ["legal", "risk_tolerance"]
    scenario = load_scenario(few_cases / FEW[0], weights=tmp_path / "w.yaml")
    assert scenario.posterior is not None and scenario.posterior.samples.shape == (60, 2)
    # the file's marginal of a weight summarises its draws
    legal = scenario.posterior.samples[:, 0]
    assert doc["weights"]["legal"]["median"] == pytest.approx(np.exp(np.median(np.log(legal))),
                                                              rel=1e-4)
    assert np.array_equal(cal.calibrate(few_cases, **kw).chain.samples, fit.chain.samples)
    # with no case before the date, the draws come from the prior itself
    import datetime as dt

    prior = cal.calibrate(few_cases, before=dt.date(2000, 1, 1), **kw)
    assert prior.chain is not None and prior.chain.steps == 0
    assert prior.chain.samples.mean(axis=0) == pytest.approx(prior.free_estimate, abs=0.3)


# --------------------------------------------------------------------------- forecasts

def test_credible_intervals_hold_the_estimate_and_widen_with_the_posterior(tmp_path):
    """With the shipped weights, each outcome's credible ranges contain its Monte Carlo
    estimate; spreading one weight's posterior draws (energy, three times as far from
    their median on the log scale) widens the ranges of the outcomes it moves."""
    import sim

    shipped = load_scenario(BASELINE)
    assert shipped.posterior is not None  # the shipped calibration carries draws
    result = sim.run(shipped, runs=40_000, seed=8, progress=False)
    summary = result.summary()
    for outcome in ("arrest_surrender", "hosted_no_arrest", "visit_cancelled"):
        entry = summary["outcomes"][outcome]
        for level in ("credible80", "credible95"):
            assert entry[level][0] <= entry["probability"] <= entry[level][1], (outcome, level)
        assert entry["credible95"][0] <= entry["credible80"][0]
        assert entry["credible80"][1] <= entry["credible95"][1]
        # epistemic spread is far wider than Monte Carlo error here
        assert entry["credible80"][1] - entry["credible80"][0] > 4 * (
            entry["ci95"][1] - entry["ci95"][0])

    doc = yaml.safe_load(sim.scenario.default_weights_file().read_text())
    j = doc["posterior"]["weights"].index("energy")
    column = np.log([row[j] for row in doc["posterior"]["samples"]])
    spread = np.exp(np.median(column) + 3 * (column - np.median(column)))
    for row, value in zip(doc["posterior"]["samples"], spread, strict=True):
        row[j] = float(value)
    wide = tmp_path / "wide.yaml"
    wide.write_text(yaml.safe_dump(doc))
    widened = sim.run(load_scenario(BASELINE, weights=wide), runs=40_000, seed=8,
                      progress=False).credible
    narrow = result.credible
    assert narrow is not None and widened is not None
    for outcome in ("hosted_no_arrest", "visit_cancelled"):
        before = narrow["credible80"][outcome][1] - narrow["credible80"][outcome][0]
        after = widened["credible80"][outcome][1] - widened["credible80"][outcome][0]
        assert after > before + 0.03, (outcome, before, after)


def test_credible_intervals_survive_a_resume_and_any_chunking(tmp_path):
    import sim

    scenario = load_scenario(BASELINE)
    whole = sim.run(scenario, runs=30_000, seed=4, progress=False)
    folder = tmp_path / "run"
    chunked = sim.run(scenario, runs=30_000, seed=4, progress=False, out=folder,
                      chunk_size=10_000)
    assert np.array_equal(whole.draw_counts, chunked.draw_counts)
    (folder / "summary.json").unlink()  # as if interrupted before the end,
    (folder / "chunks" / "part-000002.json").unlink()  # with its last chunk unfinished
    resumed = sim.run(scenario, progress=False, resume=folder)
    assert np.array_equal(resumed.draw_counts, whole.draw_counts)
    assert resumed.credible == whole.credible


def test_a_run_too_short_for_credible_ranges_says_so_instead():
    """With fewer than 20 worlds per posterior draw the spread across draws cannot be told
    from Monte Carlo noise: no credible ranges are reported, and the table says why."""
    import sim

    result = sim.run(load_scenario(BASELINE), runs=150, seed=2, progress=False)
    assert result.credible is None
    summary = result.summary()
    assert "credible80" not in summary["outcomes"]["hosted_no_arrest"]
    assert summary["epistemic"]["credible_reported"] is False
    assert "run 4,000 or more" in result.table()


def test_a_posterior_block_with_odd_values_is_refused_not_a_traceback(tmp_path):
    doc = yaml.safe_load(cal.prior_weights_file().read_text())
    for block in ({"weights": [["legal"]], "samples": [[1.0], [2.0]]},
                  {"weights": ["legal"], "samples": [[10**400], [2.0]]}):
        doc["posterior"] = block
        path = tmp_path / "w.yaml"
        path.write_text(yaml.safe_dump(doc))
        with pytest.raises(ScenarioError):
            load_scenario(BASELINE, weights=path)
