"""The Monte Carlo engine: reproducibility, chunking, probabilities and their intervals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import sim
from sim.engine import plan_chunks
from sim.outcomes import OUTCOMES


def test_same_seed_same_result_different_seed_differs(baseline):
    a = sim.run(baseline, runs=30_000, seed=11, progress=False)
    b = sim.run(baseline, runs=30_000, seed=11, progress=False)
    c = sim.run(baseline, runs=30_000, seed=12, progress=False)
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.stance_sample, b.stance_sample)
    assert not np.array_equal(a.counts, c.counts)


@pytest.mark.parametrize("chunk_size", [10_000, 20_000, 50_000, 1])
def test_results_do_not_depend_on_chunk_size(baseline, chunk_size):
    reference = sim.run(baseline, runs=45_000, seed=5, chunk_size=100_000, progress=False)
    other = sim.run(baseline, runs=45_000, seed=5, chunk_size=chunk_size, progress=False)
    assert np.array_equal(reference.counts, other.counts)
    assert reference.noncompliance == other.noncompliance
    assert np.array_equal(reference.stance_sample, other.stance_sample)


def test_per_replication_table_does_not_depend_on_chunk_size(baseline, tmp_path):
    sim.run(baseline, runs=25_000, seed=2, chunk_size=10_000, out=tmp_path / "a",
            progress=False)
    sim.run(baseline, runs=25_000, seed=2, chunk_size=30_000, out=tmp_path / "b",
            progress=False)
    a = pd.read_parquet(tmp_path / "a" / "replications")
    b = pd.read_parquet(tmp_path / "b" / "replications")
    pd.testing.assert_frame_equal(a.sort_values("replication").reset_index(drop=True),
                                  b.sort_values("replication").reset_index(drop=True))


def test_chunks_cover_every_replication_once():
    for runs, chunk in [(1, 1), (10_000, 10_000), (123_457, 30_000), (250_000, 100_000)]:
        plan = plan_chunks(runs, chunk)
        assert sum(sum(sizes) for _, sizes in plan) == runs


def test_probabilities_sum_to_one_and_intervals_bracket_them(baseline):
    r = sim.run(baseline, runs=20_000, seed=1, progress=False)
    assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-12)
    for o in OUTCOMES:
        lo, hi = r.intervals[o]
        assert 0 <= lo <= r.probabilities[o] <= hi <= 1
    frame = r.frame()
    assert list(frame.outcome) == list(OUTCOMES) and frame["count"].sum() == 20_000


@pytest.mark.slow
def test_wilson_intervals_cover_at_the_nominal_rate(baseline):
    """200 independent small runs: each outcome's 95% interval should hold the probability
    estimated from a large run in ~95% of them; a binomial 99.9% bound on that rate."""
    truth = sim.run(baseline, runs=1_000_000, seed=999, progress=False).probabilities
    m, n = 200, 2_000
    hits = {o: 0 for o in OUTCOMES}
    for seed in range(m):
        r = sim.run(baseline, runs=n, seed=seed, progress=False)
        for o in OUTCOMES:
            lo, hi = r.intervals[o]
            hits[o] += lo <= truth[o] <= hi
    se = np.sqrt(0.95 * 0.05 / m)
    for o in OUTCOMES:
        assert hits[o] / m > 0.95 - 3.3 * se, (o, hits[o])


def test_results_folder(baseline, tmp_path):
    out = tmp_path / "run"
    r = sim.run(baseline, runs=20_000, seed=4, out=out, progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "mongolia_2024" and summary["runs"] == 20_000
    assert summary["seed"] == 4 and set(summary["outcomes"]) == set(OUTCOMES)
    for o in OUTCOMES:
        assert summary["outcomes"][o]["probability"] == pytest.approx(r.probabilities[o])
        assert summary["outcomes"][o]["ci95"] == pytest.approx(list(r.intervals[o]))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["scenario_sha256"] == baseline.content_hash and prov["seed"] == 4
    assert {"numpy", "mesa", "python"} <= set(prov["packages"])
    assert "git_commit" in prov and "command_line" in prov
    table = pd.read_parquet(out / "replications")
    assert len(table) == 20_000 and set(baseline.uncertain()) <= set(table.columns)
    counts = table.outcome.value_counts()
    assert all(counts.get(o, 0) == c for o, c in zip(OUTCOMES, r.counts, strict=True))
    for chart in ("outcomes.png", "stance.png"):
        assert (out / chart).stat().st_size > 10_000
    assert not list(out.rglob("*.tmp"))


def test_never_writes_into_a_used_folder(baseline, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("precious")
    with pytest.raises(sim.UsageError, match="not empty"):
        sim.run(baseline, runs=10, seed=1, out=tmp_path / "used", progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(sim.UsageError, match="is a file"):
        sim.run(baseline, runs=10, seed=1, out=tmp_path / "file", progress=False)
    assert (tmp_path / "used" / "x").read_text() == "precious"


@pytest.mark.parametrize("kwargs", [{"runs": 0}, {"runs": -5}, {"runs": 2.5},
                                    {"runs": 10, "seed": -1}, {"runs": 10, "chunk_size": 0}])
def test_bad_run_arguments(baseline, kwargs):
    with pytest.raises(sim.UsageError):
        sim.run(baseline, progress=False, **kwargs)
