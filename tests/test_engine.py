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
            progress=False, keep_draws=True)
    sim.run(baseline, runs=25_000, seed=2, chunk_size=30_000, out=tmp_path / "b",
            progress=False, keep_draws=True)
    a = pd.read_parquet(tmp_path / "a" / "replications")
    b = pd.read_parquet(tmp_path / "b" / "replications")
    pd.testing.assert_frame_equal(a.sort_values("replication").reset_index(drop=True),
                                  b.sort_values("replication").reset_index(drop=True))


def _bits(frame: pd.DataFrame) -> dict[str, bytes]:
    """Each column's bytes: equal only if bit for bit equal (NaN, -0.0 included); an
    outcome as its name."""
    return {c: (frame[c].astype(str).str.cat(sep=",").encode() if c == "outcome"
                else np.ascontiguousarray(frame[c].to_numpy()).tobytes())
            for c in frame.columns}


def test_regenerated_draws_equal_the_stored_ones_bit_for_bit(baseline, tmp_path):
    """A lean folder keeps the outcomes only; replications() regenerates the draws block
    by block, from a folder chunked otherwise, equal to what --keep-draws stored."""
    kept = sim.run(baseline, runs=25_000, seed=2, chunk_size=20_000, out=tmp_path / "kept",
                   progress=False, keep_draws=True)
    lean = sim.run(baseline, runs=25_000, seed=2, chunk_size=10_000, out=tmp_path / "lean",
                   progress=False)
    stored = pd.read_parquet(tmp_path / "kept" / "replications")
    assert len(stored.columns) == 3 + len(baseline.uncertain())
    assert list(pd.read_parquet(tmp_path / "lean" / "replications").columns) == [
        "replication", "outcome", "icc_noncompliance_finding"]
    regenerated = lean.replications()
    assert list(regenerated.columns) == list(stored.columns)
    assert (regenerated.dtypes == stored.dtypes).all()
    assert _bits(regenerated) == _bits(stored)
    assert _bits(kept.replications()) == _bits(stored)  # read back, not regenerated
    some = baseline.uncertain()[-3:]
    assert _bits(lean.replications(some)) == _bits(stored[["replication", "outcome",
                                                           "icc_noncompliance_finding",
                                                           *some]])
    blocks = list(lean.iter_replications(some[:1]))
    assert [len(b) for b in blocks] == [10_000, 10_000, 5_000]
    with pytest.raises(sim.UsageError, match="not uncertain parameters"):
        lean.replications(["no.such.key"])
    with pytest.raises(sim.UsageError, match="not run into a results folder"):
        sim.run(baseline, runs=100, seed=2, progress=False).replications()


def test_a_lean_folder_is_a_fraction_of_one_that_keeps_the_draws(baseline, tmp_path):
    for name, keep in (("kept", True), ("lean", False)):
        sim.run(baseline, runs=50_000, seed=3, out=tmp_path / name, progress=False,
                keep_draws=keep)

    def size(name):
        return sum(f.stat().st_size for f in (tmp_path / name / "replications").iterdir())

    assert size("lean") * 10 < size("kept")


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
    table = r.replications()
    assert len(table) == 20_000 and set(baseline.uncertain()) <= set(table.columns)
    assert len(pd.read_parquet(out / "replications")) == 20_000
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


@pytest.mark.parametrize("k, n, level", [(0, 1, 0.95), (1, 1, 0.95), (3, 10, 0.95),
                                         (828_310, 10**7, 0.95), (5, 7, 0.8), (0, 10, 0.99),
                                         (123_456, 987_654, 0.5)])
def test_wilson_intervals_are_scipys_to_the_last_bit(k, n, level):
    from scipy import stats

    from sim.results import wilson_interval

    ci = stats.binomtest(k, n).proportion_ci(level, method="wilson")
    assert wilson_interval(k, n, level) == (float(ci.low), float(ci.high))
