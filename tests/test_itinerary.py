"""Itineraries (issue 14): several visits of one visitor in one world, with precedents."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import cli
from sim.engine import simulate_chunk
from sim.errors import ScenarioError, UsageError
from sim.itinerary import (
    PRECEDENT_PARAMS,
    STATES,
    PrecedentWeights,
    load_itinerary,
    load_precedent_weights,
    run_itinerary,
    simulate_worlds,
)
from sim.itinerary.precedent import prior_file
from sim.outcomes import ARREST, OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
ITINERARIES = ROOT / "scenarios" / "itineraries"
PUTIN = ITINERARIES / "putin_2023_2025.yaml"
CASES = ROOT / "scenarios" / "cases"


@pytest.fixture(scope="module")
def putin():
    return load_itinerary(PUTIN)


@pytest.fixture(scope="module")
def putin_result(putin):
    return run_itinerary(putin, runs=20_000, seed=5, progress=False)


def cli_run(capsys, monkeypatch, *argv) -> tuple[int, str, str]:
    """``python -m sim ...`` in process: exit code, stdout, stderr."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------- the zero-weight identity

def test_with_every_precedent_weight_at_zero_each_visit_is_its_standalone_forecast(putin):
    sizes, seed = [600, 400], 11  # two blocks
    states, findings, raw = simulate_worlds(putin, PrecedentWeights.zero(), seed, 3, sizes)
    reached = np.ones(sum(sizes), dtype=bool)
    for k, visit in enumerate(putin.visits):
        alone = simulate_chunk(visit.scenario, seed, 3, sizes, with_table=False,
                               with_outcomes=True)
        np.testing.assert_array_equal(raw[k], alone.outcomes)  # world by world
        np.testing.assert_array_equal(states[k][reached], alone.outcomes[reached])
        assert (states[k][~reached] == STATES.index("not_reached")).all()
        assert int(findings[k].sum()) <= alone.noncompliance
        reached &= raw[k] != ARREST
    # with the prior the first visit is unchanged and a later one is not
    states_p, _, raw_p = simulate_worlds(putin, load_precedent_weights(), seed, 3, sizes)
    np.testing.assert_array_equal(raw_p[0], raw[0])
    assert any((raw_p[k] != raw[k]).any() for k in range(1, len(putin.visits)))


def test_zero_weights_keep_the_values_themselves(putin):
    from sim.itinerary.precedent import History, carry_over
    from sim.sampling import draw_parameters
    from sim.streams import Streams

    visit = putin.visits[2]
    values = draw_parameters(visit.scenario, Streams.for_range(1, 0, [100]))
    hosted = np.full(100, OUTCOMES.index("hosted_no_arrest"), dtype=np.int8)
    history = History([hosted, hosted], [np.ones(100, bool), np.zeros(100, bool)])
    shifted = carry_over(values, 2, putin, history, PrecedentWeights.zero())
    assert all(shifted[k] is values[k] for k in values)
    moved = carry_over(values, 2, putin, history, load_precedent_weights())
    key = "actors.brazil.params.regional_non_cooperation"
    assert (np.asarray(moved[key]) > np.asarray(values[key])).all()  # imitation (P5)
    assert not np.array_equal(moved["weights.risk_tolerance"], values["weights.risk_tolerance"])


# ----------------------------------------------------------------- outputs

def test_paths_sum_to_one_and_give_every_number(putin_result):
    doc = putin_result.summary()
    assert math.isclose(math.fsum(p["probability"] for p in doc["paths"]), 1.0, abs_tol=1e-12)
    assert sum(p["count"] for p in doc["paths"]) == doc["runs"] == 20_000
    assert [v["id"] for v in doc["visits"]] == list(putin_result.visit_ids)
    for visit in doc["visits"]:
        total = sum(o["probability"] for o in visit["outcomes"].values())
        assert math.isclose(total + visit["not_reached"]["probability"], 1.0)
        if visit["reached"]["count"]:
            assert math.isclose(sum(o["probability_if_reached"]
                                    for o in visit["outcomes"].values()), 1.0)
    # after an arrest nothing is reached
    for path in doc["paths"]:
        seq = path["sequence"]
        if "arrest_surrender" in seq:
            assert all(s == "not_reached" for s in seq[seq.index("arrest_surrender") + 1:])
    arrests = sum(p["probability"] for p in doc["paths"] if "arrest_surrender" in p["sequence"])
    assert math.isclose(doc["p_at_least_one_arrest"], arrests)
    assert doc["expected_noncompliance_findings"] >= 0
    assert doc["conditional"] and all("given" in c for c in doc["conditional"])
    frame = putin_result.frame()
    assert set(frame["state"]) == set(STATES)
    json.dumps(doc)  # serialisable


def test_conditioning_on_an_earlier_outcome(putin_result):
    arrested = putin_result.given(mongolia_2024="arrest_surrender")
    assert arrested.p_any_arrest == 1.0
    later = arrested.state_counts(2)
    assert later[STATES.index("not_reached")] == arrested.runs
    hosted = putin_result.given(mongolia_2024="hosted_no_arrest")
    assert (hosted.state_counts(1)[OUTCOMES.index("hosted_no_arrest")] == hosted.runs)
    assert math.isclose(math.fsum(p for _, p, _ in hosted.path_probabilities()), 1.0)
    with pytest.raises(UsageError, match="no world of the 20,000 run met"):
        putin_result.given(mongolia_2024="left_early")
    with pytest.raises(UsageError, match="no visit"):
        putin_result.given(paris_2024="hosted_no_arrest")


def test_results_do_not_depend_on_chunks_or_executor(putin, putin_result):
    small = run_itinerary(putin, runs=20_000, seed=5, chunk_size=10_000, executor="threads",
                          workers=2, progress=False)
    assert small.paths.keys() == putin_result.paths.keys()
    for key, counts in putin_result.paths.items():
        np.testing.assert_array_equal(small.paths[key], counts)


def test_a_precision_target_stops_at_a_block_that_depends_on_the_seed_only(putin):
    from sim.engine import precise_enough

    first = run_itinerary(putin, precision=0.005, seed=8, progress=False, executor="serial")
    again = run_itinerary(putin, precision=0.005, seed=8, progress=False, executor="threads",
                          workers=2)
    assert first.runs == again.runs and first.runs % 10_000 == 0 and first.runs > 10_000
    assert all(precise_enough(first.state_counts(k), 0.005) for k in range(len(putin.visits)))
    assert first.paths.keys() == again.paths.keys()
    for sequence, counts in first.paths.items():
        np.testing.assert_array_equal(again.paths[sequence], counts)


# ----------------------------------------------------------------- command line

def test_sim_run_itinerary_writes_its_folder(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code, stdout, err = cli_run(capsys, monkeypatch, "run", PUTIN, "--runs", 10_000,
                                "--seed", 2, "--out", out, "--quiet",
                                "--given", "mongolia_2024=hosted_no_arrest")
    assert code == 0, err
    assert "leading paths" in stdout and "given mongolia_2024=hosted_no_arrest" in stdout
    for name in ("summary.json", "provenance.json", "visits.csv", "paths.csv", "paths.png",
                 "paths_given.png"):
        assert (out / name).is_file(), name
    doc = json.loads((out / "summary.json").read_text())
    assert doc["given_result"]["given"] == {"mongolia_2024": "hosted_no_arrest"}
    assert math.isclose(sum(p["probability"] for p in doc["paths"]), 1.0)


def test_a_condition_that_never_occurs_is_refused(tmp_path, capsys, monkeypatch):
    with pytest.raises(UsageError, match="no world of the 2,000 run met"):
        run_itinerary(load_itinerary(PUTIN), runs=2_000, seed=2, progress=False,
                      given={"mongolia_2024": "left_early"})
    # from the command line: tests/test_itinerary_runs.py (the worlds are kept for a resume)


@pytest.mark.parametrize("option", [["--keep-draws"], ["--as-of"]])
def test_options_itineraries_do_not_take_are_refused(capsys, monkeypatch, option):
    code, _, err = cli_run(capsys, monkeypatch, "run", PUTIN, *option)
    assert code == 2
    assert err.splitlines()[0].startswith(f"error: {option[0]} is not supported for "
                                          "itineraries")


# ----------------------------------------------------------------- bad itineraries

@pytest.fixture
def tree(tmp_path):
    """A scenarios tree with two Putin cases and one Bashir case; returns a writer of
    itineraries in its itineraries/ folder."""
    cases = tmp_path / "cases"
    cases.mkdir()
    for name in ("p01_putin_south_africa_2023", "p02_putin_mongolia_2024",
                 "b01_bashir_south_africa_2009"):
        shutil.copy(CASES / f"{name}.yaml", cases)
    (tmp_path / "itineraries").mkdir()

    def write(visits, name="bad.yaml"):
        path = tmp_path / "itineraries" / name
        path.write_text(yaml.safe_dump({"id": "bad", "title": "Bad", "visits": visits}))
        return path

    return write


def _visit(vid, case, **more):
    return {"id": vid, "scenario": f"../cases/{case}.yaml", "region": "r", "blocs": [], **more}


SA, MONGOLIA, BASHIR = ("p01_putin_south_africa_2023", "p02_putin_mongolia_2024",
                        "b01_bashir_south_africa_2009")


@pytest.mark.parametrize("case", ["visitors", "order", "missing", "cycle", "empty"])
def test_bad_itineraries_get_one_line_errors(tree, tmp_path, capsys, monkeypatch, case):
    if case == "visitors":
        path, where, says = tree([_visit("a", SA), _visit("b", BASHIR)]), "visits[1].scenario", \
            "the same visitor"
    elif case == "order":
        path, where, says = tree([_visit("a", MONGOLIA), _visit("b", SA)]), "visits[1]", \
            "date order"
    elif case == "missing":
        path, where, says = tree([_visit("a", SA), _visit("b", "nowhere")]), \
            "visits[1].scenario", "an existing scenario file"
    elif case == "cycle":
        for me, other in (("loop_a", "loop_b"), ("loop_b", "loop_a")):
            (tmp_path / "cases" / f"{me}.yaml").write_text(yaml.safe_dump(
                {"base": f"{other}.yaml", "rationale": "a loop", "overrides": {}}))
        path = tree([_visit("a", SA), {"id": "b", "base": "../cases/loop_a.yaml",
                                       "rationale": "why", "overrides": {}}])
        where, says = "visits[1].base", "does not lead back to itself"
    else:
        path, where, says = tree([]), "visits", "a list of at least one visit"
    with pytest.raises(ScenarioError) as caught:
        load_itinerary(path)
    assert any(p.file == str(path) and p.path == where for p in caught.value.problems)
    code, _, err = cli_run(capsys, monkeypatch, "run", path, "--runs", 100)
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith(f"error: {path}: {where}") and says in first


# ----------------------------------------------------------------- files

def test_the_example_itineraries_load():
    names = {p.name for p in ITINERARIES.glob("*.yaml")}
    assert {"putin_2023_2025.yaml", "putin_2023_2025_mongolia_arrests.yaml",
            "bashir_2009_2018.yaml"} <= names
    for path in ITINERARIES.glob("*.yaml"):
        itinerary = load_itinerary(path)
        assert len({v.scenario.visitor.name for v in itinerary.visits}) == 1
    bashir = load_itinerary(ITINERARIES / "bashir_2009_2018.yaml")
    assert len(bashir.visits) == 19
    counter = load_itinerary(ITINERARIES / "putin_2023_2025_mongolia_arrests.yaml")
    assert counter.visits[1].scenario.changes


def test_the_precedent_prior_lists_every_weight_with_a_source_or_assumption():
    doc = yaml.safe_load(prior_file().read_text())["precedent_weights"]
    assert set(doc) == set(PRECEDENT_PARAMS)
    for spec in doc.values():
        assert spec.get("source") or spec.get("assumption")
    prior = load_precedent_weights()
    assert all(PRECEDENT_PARAMS[k].admits(v, v) for k, v in prior.values.items())
    with pytest.raises(ScenarioError, match="court_wear"):
        prior.with_values(court_wear=-1.0)


# ----------------------------------------------------------------- calibration (item 4, in part)

def test_the_profile_of_the_precedents_strengths(putin):
    from sim.itinerary.calibrate import fit_strength

    fit = fit_strength([putin], runs=2_000, seed=4, grid=(0.0, 1.0))
    assert fit.log_likelihood.shape == (2, 2)
    for name, (lo, hi) in fit.intervals.items():
        assert lo <= fit.best[name] <= hi
    assert set(fit.weights().values) == set(PRECEDENT_PARAMS)
    assert "defiance" in fit.table()


def test_only_resolved_itineraries_can_be_fitted(tree):
    from sim.itinerary.calibrate import observed

    shutil.copy(ROOT / "scenarios" / "mongolia_2024.yaml", tree([]).parent.parent / "cases")
    path = tree([_visit("a", SA), _visit("b", "mongolia_2024")], name="open.yaml")
    with pytest.raises(UsageError, match="not a resolved case"):
        observed(load_itinerary(path))


def test_itinerary_options_are_refused_for_a_single_scenario(capsys, monkeypatch):
    code, _, err = cli_run(capsys, monkeypatch, "run", CASES / f"{MONGOLIA}.yaml", "--runs",
                           100, "--given", "mongolia_2024=hosted_no_arrest")
    assert code == 2 and "--given is for itineraries" in err.splitlines()[0]


@pytest.mark.slow
def test_a_process_pool_gives_the_same_paths(putin, putin_result):
    pooled = run_itinerary(putin, runs=20_000, seed=5, chunk_size=10_000,
                           executor="processes", workers=2, progress=False)
    assert pooled.paths.keys() == putin_result.paths.keys()
    for key, counts in putin_result.paths.items():
        np.testing.assert_array_equal(pooled.paths[key], counts)
