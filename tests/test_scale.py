"""Running at scale: executors, precision targets, and resuming an interrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import BASELINE, ROOT

import sim
from sim.engine import precise_enough


@pytest.mark.slow
@pytest.mark.parametrize("executor, workers", [("processes", 2), ("processes", 1),
                                               ("dask", 2)])
def test_every_executor_gives_the_serial_result(baseline, executor, workers):
    serial = sim.run(baseline, runs=60_000, seed=8, chunk_size=20_000, progress=False)
    other = sim.run(baseline, runs=60_000, seed=8, chunk_size=10_000, executor=executor,
                    workers=workers, progress=False)
    assert np.array_equal(serial.counts, other.counts)
    assert serial.noncompliance == other.noncompliance
    assert np.array_equal(serial.stance_sample, other.stance_sample)


def test_precision_target_stops_when_met(baseline):
    r = sim.run(baseline, precision=0.005, seed=1, chunk_size=10_000, progress=False)
    assert precise_enough(r.counts, 0.005)
    assert r.runs > 10_000  # 10,000 runs cannot reach +/- 0.005 on a probability near 0.7
    fewer = sim.run(baseline, runs=r.runs - 10_000, seed=1, chunk_size=10_000, progress=False)
    assert not precise_enough(fewer.counts, 0.005)
    capped = sim.run(baseline, runs=20_000, precision=0.0001, seed=1, chunk_size=10_000,
                     progress=False)
    assert capped.runs == 20_000


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_uninterrupted_result(baseline, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sim", "run", str(BASELINE), "--runs", "400000",
           "--chunk-size", "10000", "--seed", "21", "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and len(list((out / "chunks").glob("*.json"))) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((out / "chunks").glob("*.json")))
    assert 5 <= done < 40, "the run should have been killed partway"
    assert not (out / "summary.json").exists()
    # a damaged chunk is detected and recomputed, not used
    part = sorted((out / "replications").glob("*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:100])

    resumed = sim.run(baseline, resume=out, progress=False)
    whole = sim.run(baseline, runs=400_000, seed=21, chunk_size=10_000, progress=False)
    assert np.array_equal(resumed.counts, whole.counts)
    assert np.array_equal(resumed.stance_sample, whole.stance_sample)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 400_000
    with pytest.raises(sim.UsageError, match="already complete"):
        sim.run(baseline, resume=out, progress=False)


def test_resume_refuses_another_scenario(baseline, tmp_path):
    out = tmp_path / "run"
    (out / "replications").mkdir(parents=True)
    (out / "run.json").write_text(json.dumps({"scenario_sha256": "other", "seed": 1,
                                              "runs": 10, "chunk_size": 10}))
    with pytest.raises(sim.UsageError, match="different scenario"):
        sim.run(baseline, resume=out, progress=False)
    with pytest.raises(sim.UsageError, match="cannot be resumed|not a run folder"):
        sim.run(baseline, resume=tmp_path / "nothing", progress=False)
