"""Scenario discovery (PRIM, CART) and the lever search: known answers, common random
numbers, the files the commands write, and one-line errors for bad input."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, CASES

from sim.analysis.discovery import discover, find_boxes, worlds
from sim.analysis.levers import Constraint, Goal, Lever, search_levers
from sim.cli import main

pytest.importorskip("ema_workbench")

US = "actors.united_states.params.conditionality"
FUEL = "actors.mongolia.ties.russia.fuel_import_share"
ICC = "actors.icc.params.engagement"


@pytest.fixture(scope="module")
def planted():
    """Six independent uniform inputs; the outcome happens exactly when court_independence
    > 0.6 and litigation_capacity > 0.7 (12% of the worlds)."""
    rng = np.random.default_rng(20240902)
    names = ["court_independence", "fuel_import_share", "litigation_capacity", "engagement",
             "conditionality", "visit_value"]
    x = pd.DataFrame(rng.uniform(size=(4000, len(names))), columns=names)
    y = ((x.court_independence > 0.6) & (x.litigation_capacity > 0.7)).to_numpy()
    return x, y


@pytest.mark.parametrize("method", ["prim", "cart"])
def test_first_box_recovers_the_two_planted_thresholds(planted, method):
    x, y = planted
    result = find_boxes(x, y, method=method)
    box = result.box.set_index("input")
    assert set(box.index) == {"court_independence", "litigation_capacity"}  # others free
    assert abs(box.at["court_independence", "lower"] - 0.6) <= 0.05
    assert abs(box.at["litigation_capacity", "lower"] - 0.7) <= 0.05
    # high means up to the top of the range: the upper limits are not restricted
    assert (box.upper == box["max"]).all()
    stats = result.boxes.loc[result.chosen]
    assert stats.density >= 0.8 and stats.coverage >= 0.9
    if method == "prim":
        assert (box.qp_lower < 1e-6).all()  # the limits are far beyond chance
        assert box.qp_upper.isna().all()


def test_the_planted_box_is_found_among_a_scenarios_own_drawn_inputs(baseline):
    """The baseline's 26 drawn inputs (uniform, triangular, correlated), with an outcome
    planted where two of them are both high: PRIM restricts those two, near the planted
    thresholds, and no other input."""
    names = [p for p in baseline.uncertain() if not p.startswith("weights.")]
    x, _ = worlds(baseline, 6000, 3, names)
    law, courts = "actors.mongolia.params.implementing_law", \
        "actors.mongolia.params.court_independence"
    # implementing_law ~ uniform(0.1, 0.3), court_independence ~ triangular(0.35, 0.45, 0.55)
    y = ((x[law] > 0.2) & (x[courts] > 0.45)).to_numpy()
    box = find_boxes(x, y).box.set_index("input")
    assert set(box.index) == {law, courts}
    assert abs(box.at[law, "lower"] - 0.2) <= 0.05 * (0.3 - 0.1)
    assert abs(box.at[courts, "lower"] - 0.45) <= 0.05 * (0.55 - 0.35)


def test_prim_lifts_limits_that_chance_explains():
    """An outcome unrelated to the inputs leaves no significant restriction."""
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.uniform(size=(3000, 4)), columns=list("abcd"))
    y = rng.uniform(size=3000) < 0.2
    result = find_boxes(x, y)
    assert not result.threshold_met
    kept = result.box
    assert ((kept.qp_lower.fillna(0) <= 0.05) & (kept.qp_upper.fillna(0) <= 0.05)).all()
    unfiltered = find_boxes(x, y, significance=1.0)
    assert len(unfiltered.box) > len(kept)  # PRIM did peel on noise; the test removed it


def test_discovery_runs_the_same_worlds_as_sim_run(baseline, tmp_path):
    import sim
    from sim.outcomes import OUTCOMES

    names = [p for p in baseline.uncertain() if not p.startswith("weights.")]
    inputs, codes = worlds(baseline, 3000, 11, names)
    run = sim.run(baseline, runs=3000, seed=11, out=tmp_path / "run", progress=False)
    table = run.replications()
    assert np.array_equal(np.asarray(OUTCOMES)[codes], table.outcome.astype(str).to_numpy())
    assert np.array_equal(inputs[names].to_numpy(np.float32), table[names].to_numpy())


@pytest.mark.slow
def test_discover_on_the_baseline(baseline):
    import sim

    result = discover(baseline, "arrest_surrender+visit_cancelled", runs=5000, seed=3)
    run = sim.run(baseline, runs=5000, seed=3, progress=False)
    p = run.probabilities
    assert result.base_rate == pytest.approx(p["arrest_surrender"] + p["visit_cancelled"])
    assert result.outcome == "arrest_surrender+visit_cancelled"
    # the inputs are the scenario's uncertain facts; the weights join only when asked
    assert set(result.ranges.index) == {n for n in baseline.uncertain()
                                        if not n.startswith("weights.")}
    stats = result.boxes.loc[result.chosen]
    assert stats.density >= result.base_rate - 1e-12  # no box is worse than the whole space
    with_weights = discover(baseline, "arrest_surrender", runs=3000, seed=3,
                            include_weights=True, method="cart")
    assert any(n.startswith("weights.") for n in with_weights.ranges.index)


@pytest.mark.slow
def test_discovery_finds_the_petition_that_kept_putin_from_south_africa():
    """South Africa 2023 with the petition and the litigant's capacity opened up to uniform
    [0, 1]: Putin comes where both are low, so the box restricts both from above."""
    import sim
    from sim.distributions import Distribution

    scenario = sim.load_scenario(CASES / "p01_putin_south_africa_2023.yaml")
    da = "actors.democratic_alliance.params."
    uniform = Distribution("uniform", {"low": 0.0, "high": 1.0})
    opened = scenario.with_values({da + "petition_pending": uniform,
                                   da + "litigation_capacity": uniform})
    result = discover(opened, "hosted_no_arrest+arrest_surrender", runs=10_000, seed=2)
    box = result.box.set_index("input")
    for name in ("petition_pending", "litigation_capacity"):
        row = box.loc[da + name]
        assert row.lower == row["min"] and row.upper < 0.7 and row.qp_upper < 1e-6
    assert result.boxes.loc[result.chosen].density > 2 * result.base_rate


def test_discover_command_writes_its_files(tmp_path, capsys):
    out = tmp_path / "disc"
    code = main(["discover", str(BASELINE), "--outcome", "visit_cancelled", "--runs", "3000",
                 "--seed", "5", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "where 'visit_cancelled' happens" in printed
    for name in ("discovery.json", "discovery.csv", "boxes.csv", "tradeoff.png", "box.png",
                 "provenance.json"):
        assert (out / name).stat().st_size > 0, name
    doc = json.loads((out / "discovery.json").read_text())
    assert doc["outcome"] == "visit_cancelled" and doc["runs"] == 3000 and doc["seed"] == 5
    box = doc["chosen_box"]
    assert 0 < box["coverage"] <= 1 and 0 < box["density"] <= 1
    frame = pd.read_csv(out / "discovery.csv")
    assert {"box", "input", "lower", "upper", "min", "max", "coverage", "density",
            "chosen"} <= set(frame.columns)


def test_lever_settings_run_on_common_random_numbers(baseline):
    import sim

    result = search_levers(baseline, [Lever.parse(f"{US}=0:0.8:3")],
                           [Goal.parse("arrest_surrender+visit_cancelled")], runs=2000, seed=4)
    assert result.candidates[:, 0].tolist() == [0.0, 0.4, 0.8]
    for i, value in enumerate(result.candidates[:, 0]):
        alone = sim.run(baseline.with_values({US: float(value)}), runs=2000, seed=4,
                        progress=False)
        assert result.counts[i, 0] == alone.counts[0] + alone.counts[3]  # the same worlds
    as_given = sim.run(baseline, runs=2000, seed=4, progress=False).probabilities
    assert result.status_quo[0] == pytest.approx(as_given["arrest_surrender"]
                                                 + as_given["visit_cancelled"])


def test_regret_is_the_shortfall_from_the_best_setting(baseline):
    levers = [Lever.parse(f"{FUEL}=0.3:0.95:3"), Lever.parse(f"{ICC}=0.3:1:2")]
    one = search_levers(baseline, levers, [Goal.parse("visit_cancelled")], runs=2000, seed=9,
                        bins=1)
    p = one.probabilities[:, 0]
    # one quantile bin: every scenario is all the worlds, so regret is best minus own
    assert np.allclose(one.max_regret[:, 0], p.max() - p)
    assert np.allclose(one.worst_case[:, 0], p)
    four = search_levers(baseline, levers, [Goal.parse("visit_cancelled")], runs=2000, seed=9)
    assert (four.max_regret[:, 0] >= one.max_regret[:, 0] - 1e-12).all()  # finer, worse
    assert (four.worst_case[:, 0] <= p + 1e-12).all()
    robust = four.most_robust()
    assert four.max_regret[robust, 0] == four.max_regret[:, 0].min()
    low = search_levers(baseline, levers, [Goal.parse("visit_cancelled:min")], runs=2000,
                        seed=9, bins=1)
    assert np.allclose(low.max_regret[:, 0], p - p.min())
    assert low.best() == int(np.argmin(p))


def test_two_goals_give_a_pareto_front_and_constraints_bind(baseline):
    levers = [Lever.parse(f"{ICC}=0.3:1:3"), Lever.parse(f"{US}=0:0.8:3")]
    result = search_levers(baseline, levers, [Goal.parse("arrest_surrender"),
                                              Goal.parse("hosted_no_arrest:min")],
                           runs=2000, seed=2, costs={US: 1.0},
                           constraints=[Constraint.parse("cost<=0.5")])
    base = float(baseline.parameters[US].dist.mean())
    assert np.allclose(result.cost, np.abs(result.candidates[:, 1] - base))
    assert np.array_equal(result.feasible, result.cost <= 0.5)
    score = result.probabilities * np.array([1.0, -1.0])
    front = result.pareto
    assert front.any() and not front[~result.feasible].any()
    for i in np.flatnonzero(result.feasible):
        others = score[result.feasible]
        dominated = ((others >= score[i]).all(axis=1) & (others > score[i]).any(axis=1)).any()
        assert front[i] == (not dominated)
    frame = result.frame()
    assert len(frame) == 2 * len(result.candidates)


def test_levers_command_writes_its_files(tmp_path, capsys):
    out = tmp_path / "levers"
    code = main(["levers", str(BASELINE), "--lever", f"{US}=0:0.8", "--lever",
                 f"{FUEL}=0.3:0.95", "--steps", "3", "--goal",
                 "arrest_surrender+visit_cancelled", "--runs", "2000", "--seed", "1",
                 "--out", str(out)])
    assert code == 0
    assert "most robust" in capsys.readouterr().out
    for name in ("levers.csv", "levers.json", "levers.png", "provenance.json"):
        assert (out / name).stat().st_size > 0, name
    frame = pd.read_csv(out / "levers.csv")
    assert len(frame) == 9 and frame.max_regret.min() == 0.0
    assert ((frame.ci95_low <= frame.probability) & (frame.probability <= frame.ci95_high)).all()


BAD = [
    (["discover", str(BASELINE), "--outcome", "arrest"], "unknown outcome 'arrest'"),
    (["discover", str(BASELINE), "--outcome", "left_early", "--runs", "2000", "--seed", "1"],
     "'left_early' never happens"),
    (["levers", str(BASELINE), "--lever", "actors.mongolia.params.nope=0:1", "--goal",
      "visit_cancelled"], "is not a parameter of mongolia_2024"),
    (["levers", str(BASELINE), "--lever", f"{US}=low:0.5", "--goal", "visit_cancelled"],
     "'low' is not a number"),
    (["levers", str(BASELINE), "--lever", f"{US}=0.2:1.5", "--goal", "visit_cancelled"],
     "outside its bounds"),
    (["levers", str(BASELINE), "--lever", f"{US}=0:0.5", "--goal", "visit_canceled"],
     "unknown outcome 'visit_canceled'"),
    (["levers", str(BASELINE), "--lever", f"{US}=0:0.5", "--goal", "visit_cancelled",
      "--cost", f"{US}=1", "--constraint", "cost<=-1", "--runs", "1000"],
     "no lever setting meets the constraints"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default results/ folder, if any, lands here
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.startswith("error: ") and len(err.strip().splitlines()) <= 2  # error (+ hint)
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.*"))


def test_missing_workbench_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis.prim", None)
    assert main(["discover", str(BASELINE), "--outcome", "visit_cancelled"]) == 2
    err = capsys.readouterr().err
    assert "ema_workbench" in err and 'pip install -e ".[discovery]"' in err
