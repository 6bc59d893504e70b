"""Itinerary runs as single-scenario runs (issue 14): credible ranges across the weights'
posterior draws, and ``--resume`` of an interrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim import cli
from sim.itinerary import load_itinerary, run_itinerary
from sim.itinerary import simulate as itinerary_simulate
from sim.itinerary.precedent import prior_file
from sim.outcomes import OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
PUTIN = ROOT / "scenarios" / "itineraries" / "putin_2023_2025.yaml"
#: 40 worlds per posterior draw of the shipped weights (200 draws): credible ranges reported.
RUNS = 8_000


@pytest.fixture(scope="module")
def putin():
    return load_itinerary(PUTIN)


@pytest.fixture(scope="module")
def putin_result(putin):
    return run_itinerary(putin, runs=RUNS, seed=5, progress=False)


def cli_run(capsys, *argv) -> tuple[int, str, str]:
    """``python -m sim ...`` in process: exit code, stdout, stderr."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------- credible ranges

def test_credible_ranges_hold_the_estimates_and_are_epistemic(putin_result):
    """Each reported range holds its Monte Carlo estimate (for states that are not rare:
    with a handful of worlds in all, most draws have none and an 80% range can be [0, 0]),
    the 95% range holds the 80% range, and the ranges are far wider than the Monte Carlo
    interval (the weights' uncertainty dominates at this run size)."""
    assert putin_result.draw_counts is not None
    doc = putin_result.summary()
    assert doc["epistemic"]["credible_reported"] is True
    assert doc["epistemic"]["posterior_draws"] == len(putin_result.draw_counts)
    for visit in doc["visits"]:
        for state, entry in [*visit["outcomes"].items(), ("not_reached", visit["not_reached"])]:
            lo80, hi80 = entry["credible80"]
            lo95, hi95 = entry["credible95"]
            assert lo95 <= lo80 <= hi80 <= hi95, (visit["id"], state)
            if entry["probability"] >= 0.02:
                assert lo80 <= entry["probability"] <= hi80, (visit["id"], state)
    p = doc["p_at_least_one_arrest"]
    lo80, hi80 = doc["p_at_least_one_arrest_credible80"]
    lo95, hi95 = doc["p_at_least_one_arrest_credible95"]
    assert lo95 <= lo80 <= p <= hi80 <= hi95
    ci_lo, ci_hi = doc["p_at_least_one_arrest_ci95"]
    assert hi80 - lo80 > 4 * (ci_hi - ci_lo)
    frame = putin_result.frame()
    assert {"credible80_low", "credible95_high"} <= set(frame.columns)
    assert "credible ranges across the weights' posterior draws" in putin_result.table()
    assert "80% credible [" in putin_result.table()


def test_the_first_visit_has_the_per_draw_counts_and_ranges_of_its_standalone_run(tmp_path):
    """Nothing precedes the first visit, so each posterior draw's worlds there are exactly
    those of the visit's own run (world i takes draw i mod draws in both), and its credible
    ranges are the single run's.  With 30 draws a block of 10,000 worlds does not start at
    draw 0, and three blocks run as one chunk of two models: the draws follow the worlds."""
    doc = yaml.safe_load(sim.scenario.default_weights_file().read_text())
    doc["posterior"]["samples"] = doc["posterior"]["samples"][:30]
    weights = tmp_path / "weights.yaml"
    weights.write_text(yaml.safe_dump(doc))
    putin = load_itinerary(PUTIN, weights=weights)
    assert putin.posterior_draws == 30
    result = run_itinerary(putin, runs=30_000, seed=5, progress=False)
    alone = sim.run(putin.visits[0].scenario, runs=30_000, seed=5, chunk_size=10_000,
                    progress=False)
    assert alone.draw_counts is not None and alone.credible is not None
    np.testing.assert_array_equal(result.draw_counts[:, 0, :len(OUTCOMES)], alone.draw_counts)
    first = result.credible["visits"][0]
    for level, ranges in alone.credible.items():
        for outcome in OUTCOMES:
            assert first[level][outcome] == pytest.approx(ranges[outcome], abs=1e-12)
    # every visit's per-draw counts add up to its state counts
    for k in range(len(putin.visits)):
        np.testing.assert_array_equal(result.draw_counts[:, k].sum(axis=0),
                                      result.state_counts(k))


def test_credible_ranges_do_not_depend_on_chunks_or_executor(putin):
    # three blocks: one chunk of two models (of 20,000 and 10,000 worlds), or three chunks
    whole = run_itinerary(putin, runs=30_000, seed=3, executor="serial", progress=False)
    split = run_itinerary(putin, runs=30_000, seed=3, chunk_size=10_000, executor="threads",
                          workers=2, progress=False)
    np.testing.assert_array_equal(whole.draw_counts, split.draw_counts)
    assert whole.credible == split.credible
    assert whole.summary() == split.summary()


def test_a_run_too_short_for_credible_ranges_says_so_instead(putin, putin_result):
    short = run_itinerary(putin, runs=1_000, seed=5, progress=False)
    assert short.credible is None
    doc = short.summary()
    assert doc["epistemic"]["credible_reported"] is False
    assert "credible80" not in doc["visits"][1]["outcomes"]["hosted_no_arrest"]
    assert "p_at_least_one_arrest_credible80" not in doc
    assert "run 4,000 or more" in short.table()
    assert "credible80_low" not in short.frame().columns
    short.plot()  # no ranges to draw: no crash
    # a conditioned result has no per-draw counts: none either, and no note
    given = putin_result.given(mongolia_2024="hosted_no_arrest")
    assert given.credible is None and "credible" not in given.table()
    assert "p_at_least_one_arrest_credible80" not in given.summary(conditional=False)


# ----------------------------------------------------------------- resume

def _fail_at(block: int):
    """simulate_itinerary_chunk, but a Ctrl-C at the chunk that starts at ``block``."""
    real = itinerary_simulate.simulate_itinerary_chunk

    def chunk(itinerary, precedent, seed, first_block, sizes):
        if first_block == block:
            raise KeyboardInterrupt
        return real(itinerary, precedent, seed, first_block, sizes)

    return chunk


def test_an_interrupted_run_resumes_to_the_uninterrupted_result_bit_for_bit(
        tmp_path, capsys, monkeypatch):
    settings = ["--runs", 30_000, "--chunk-size", 10_000, "--seed", 9, "--quiet",
                "--executor", "serial"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert cli_run(capsys, "run", PUTIN, *settings, "--out", whole)[0] == 0

    with monkeypatch.context() as patch:
        patch.setattr(itinerary_simulate, "simulate_itinerary_chunk", _fail_at(2))
        code, _, err = cli_run(capsys, "run", PUTIN, *settings, "--out", part)
    assert code == cli.EXIT_INTERRUPTED
    assert f"--resume {part}" in err.splitlines()[-1]
    assert sorted(p.name for p in (part / "chunks").iterdir()) == ["part-000000.json",
                                                                    "part-000001.json"]
    assert not (part / "summary.json").exists()

    # a damaged record is not used but recomputed
    record = part / "chunks" / "part-000001.json"
    info = json.loads(record.read_text())
    info["paths"][0][1][0] += 1
    record.write_text(json.dumps(info))
    code, out, err = cli_run(capsys, "run", PUTIN, "--resume", part, "--quiet")
    assert code == 0, err
    assert "part-000001 of" in err and "does not match its checksum" in err
    assert "leading paths" in out
    for name in ("summary.json", "visits.csv", "paths.csv"):
        assert (part / name).read_bytes() == (whole / name).read_bytes(), name


@pytest.mark.parametrize("change", ["seed", "runs", "itinerary", "precedent", "complete"])
def test_a_resume_with_other_settings_is_refused_in_one_line(tmp_path, capsys, monkeypatch,
                                                             change):
    folder = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(itinerary_simulate, "simulate_itinerary_chunk", _fail_at(1))
        code, _, _ = cli_run(capsys, "run", PUTIN, "--runs", 20_000, "--chunk-size", 10_000,
                             "--seed", 4, "--out", folder, "--quiet", "--executor", "serial")
    assert code == cli.EXIT_INTERRUPTED
    path, extra = PUTIN, []
    if change == "seed":
        extra, says = ["--seed", 5], "was run with seed 4, not 5"
    elif change == "runs":
        extra, says = ["--runs", 30_000], "--runs cannot be changed when resuming"
    elif change == "itinerary":  # one visit's host placed in another region
        doc = yaml.safe_load(PUTIN.read_text())
        for visit in doc["visits"]:
            visit["scenario"] = str(PUTIN.parent / visit["scenario"])
        doc["visits"][2]["region"] = "elsewhere"
        path = tmp_path / "changed.yaml"
        path.write_text(yaml.safe_dump(doc))
        says = "was not run with this itinerary"
    elif change == "precedent":
        doc = yaml.safe_load(prior_file().read_text())
        doc["precedent_weights"]["court_wear"]["value"] = 0.6
        weights = tmp_path / "precedent.yaml"
        weights.write_text(yaml.safe_dump(doc))
        extra, says = ["--precedent-weights", weights], "was not run with this itinerary"
    else:
        assert cli_run(capsys, "run", PUTIN, "--resume", folder, "--quiet")[0] == 0
        says = "is already complete"
    code, _, err = cli_run(capsys, "run", path, "--resume", folder, *extra)
    assert code == 2
    assert err.splitlines()[0].startswith("error: ") and says in err.splitlines()[0]
    assert err.count("error:") == 1


def test_a_condition_no_world_met_keeps_the_worlds_for_a_resume(tmp_path, capsys):
    out = tmp_path / "never"
    code, _, err = cli_run(capsys, "run", PUTIN, "--runs", 2_000, "--seed", 2, "--out", out,
                           "--quiet", "--given", "mongolia_2024=left_early")
    assert code == 2
    assert "error: no world of the 2,000 run met mongolia_2024=left_early" in err
    assert f"--resume {out}" in err and not (out / "summary.json").exists()
    code, out_text, err = cli_run(capsys, "run", PUTIN, "--resume", out, "--quiet",
                                  "--given", "mongolia_2024=hosted_no_arrest")
    assert code == 0, err
    doc = json.loads((out / "summary.json").read_text())
    assert doc["runs"] == 2_000 and doc["given_result"]["given"] == {
        "mongolia_2024": "hosted_no_arrest"}


def test_a_resumed_run_to_a_precision_target_stops_where_the_whole_run_stops(putin, tmp_path):
    folder = tmp_path / "run"
    whole = run_itinerary(putin, precision=0.006, seed=8, out=folder, progress=False)
    records = sorted((folder / "chunks").iterdir())
    assert len(records) == whole.runs // 10_000 > 1  # one record per block, none beyond
    (folder / "summary.json").unlink()  # as if interrupted before its last block
    records[-1].unlink()
    resumed = run_itinerary(putin, resume=folder, progress=False)
    assert resumed.runs == whole.runs
    assert resumed.summary() == whole.summary()
    np.testing.assert_array_equal(resumed.draw_counts, whole.draw_counts)
