"""Comparison, sweeps and sensitivity: the analyses an analyst's questions run on."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.analysis.compare import compare
from sim.analysis.sensitivity import sensitivity
from sim.analysis.sweep import Axis, sweep

FUEL = "actors.mongolia.ties.russia.fuel_import_share"
THREAT = "actors.mongolia.ties.russia.threat_credibility"


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(baseline):
    c = compare(baseline, [baseline], runs=20_000, seed=3)
    assert np.array_equal(c.results[0].counts, c.results[1].counts)
    assert np.all(c.differences[1] == 0)


def test_compare_matches_separate_runs_and_pairing_narrows_intervals(baseline):
    other = baseline.with_values({FUEL: 0.5})
    c = compare(baseline, [other], runs=40_000, seed=9)
    alone = sim.run(other, runs=40_000, seed=9, progress=False)
    assert np.array_equal(c.results[1].counts, alone.counts)  # same worlds as a plain run
    frame = c.frame()
    # the same id twice: labelled apart
    assert set(frame.scenario) == {baseline.id, f"{baseline.id} #2"} and len(frame) == 8
    for j, o in enumerate(sim.OUTCOMES):
        d, lo, hi = c.differences[1, j]
        p = c.results[1].probabilities[o] - c.results[0].probabilities[o]
        assert d == pytest.approx(p) and lo <= d <= hi
        # an unpaired 95% half-width, for reference: pairing must do better
        pa, pb = c.results[0].probabilities[o], c.results[1].probabilities[o]
        if pa == pb == 0:  # an outcome that never happens has nothing to pair
            continue
        unpaired = 1.96 * np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 40_000)
        assert (hi - lo) / 2 < unpaired


def test_compare_needs_another_scenario(baseline):
    with pytest.raises(sim.UsageError):
        compare(baseline, [], runs=100, seed=1)


def test_grid_sweep_has_every_point_and_outcome(baseline):
    result = sweep(baseline, [Axis(FUEL, 0.2, 1.0, 5)], runs=10_000, seed=2, progress=False)
    frame = result.frame()
    assert len(frame) == 5 * 4
    assert sorted(frame[FUEL].unique()) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    sums = frame.groupby("point").probability.sum()
    assert np.allclose(sums, 1.0)
    # each point is the same as running that scenario alone with the sweep's seed
    alone = sim.run(baseline.with_values({FUEL: 0.6}), runs=10_000, seed=2, progress=False)
    assert np.array_equal(result.counts[2], alone.counts)


def test_latin_hypercube_sweep_covers_each_range(baseline):
    axes = [Axis(FUEL, 0.2, 1.0), Axis(THREAT, 0.0, 1.0)]
    result = sweep(baseline, axes, runs=2_000, seed=2, samples=8, progress=False)
    assert result.points.shape == (8, 2)
    # Latin hypercube: exactly one point in each eighth of each range
    for k, a in enumerate(axes):
        cells = np.floor((result.points[:, k] - a.low) / (a.high - a.low) * 8).astype(int)
        assert sorted(np.minimum(cells, 7)) == list(range(8))


@pytest.mark.parametrize("text", ["nokey", "x=1", "x=a:b:3", "x=2:1:3", "x=0:1:1"])
def test_bad_vary_specs_are_refused(text):
    with pytest.raises(sim.UsageError):
        Axis.parse(text)


def test_sweep_refuses_unknown_keys_and_out_of_bounds_ranges(baseline):
    with pytest.raises(sim.UsageError, match="numeric parameter"):
        sweep(baseline, [Axis("actors.nobody.params.x", 0, 1, 3)], runs=100, seed=1)
    with pytest.raises(sim.UsageError, match="share"):
        sweep(baseline, [Axis(FUEL, 0.5, 1.5, 3)], runs=100, seed=1)


def test_a_parameter_the_model_ignores_has_zero_sobol_indices(baseline):
    """With no threat, military exposure multiplies zero: the model provably ignores it."""
    ignored = "actors.mongolia.params.military_exposure"
    s = baseline.with_values({THREAT: 0.0, "actors.russia.params.escalation": 0.0})
    result = sensitivity(s, samples=32, runs_per_point=200, seed=1)
    f = result.frame()
    rows = f[f.parameter == ignored].dropna(subset=["S1"])  # outcomes that never vary: NaN
    assert len(rows) >= 2
    assert np.allclose(rows[["S1", "ST"]].to_numpy(), 0.0)
    # while a parameter that matters is clearly non-zero
    top = f[f.outcome == "hosted_no_arrest"].sort_values("ST").iloc[-1]
    assert top.ST - top.ST_conf > 0.05


def test_morris_ranks_and_refuses_bad_methods(baseline):
    result = sensitivity(baseline, method="morris", samples=10, runs_per_point=200, seed=1)
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(result.frame().columns)
    with pytest.raises(sim.UsageError):
        sensitivity(baseline, method="fast")


@pytest.mark.parametrize("args, files", [
    (["compare", "scenarios/mongolia_2024.yaml",
      "scenarios/counterfactuals/mongolia_2024_fuel_threat.yaml", "--runs", "2000"],
     ["comparison.csv", "comparison.png"]),
    (["sweep", "scenarios/mongolia_2024.yaml", "--vary", f"{FUEL}=0:1:3", "--runs", "2000"],
     ["sweep.csv", "sweep.png"]),
    (["sensitivity", "scenarios/mongolia_2024.yaml", "--method", "morris", "--samples", "4",
      "--runs-per-point", "50"], ["sensitivity.csv", "tornado_hosted_no_arrest.png"]),
])
def test_analysis_commands_write_tables_charts_and_provenance(tmp_path, args, files):
    import json
    import subprocess
    import sys

    from conftest import ROOT

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim", *args, "--seed", "3", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in files:
        assert (out / name).stat().st_size > 0
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["seed"] == 3 and provenance["scenarios"][0]["scenario_sha256"]
