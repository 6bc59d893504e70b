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
                                               ("dask", 2), ("threads", 2)])
def test_every_executor_gives_the_serial_result(baseline, executor, workers):
    serial = sim.run(baseline, runs=60_000, seed=8, chunk_size=20_000, progress=False)
    other = sim.run(baseline, runs=60_000, seed=8, chunk_size=10_000, executor=executor,
                    workers=workers, progress=False)
    assert np.array_equal(serial.counts, other.counts)
    assert serial.noncompliance == other.noncompliance
    assert np.array_equal(serial.stance_sample, other.stance_sample)


def test_threads_give_the_serial_result_with_a_folder_and_a_precision_target(baseline,
                                                                             tmp_path):
    import pandas as pd

    serial = sim.run(baseline, precision=0.01, seed=6, chunk_size=10_000, progress=False)
    threads = sim.run(baseline, precision=0.01, seed=6, chunk_size=10_000, executor="threads",
                      out=tmp_path / "run", progress=False)
    assert np.array_equal(serial.counts, threads.counts)
    assert np.array_equal(serial.stance_sample, threads.stance_sample)
    assert serial.drivers == threads.drivers
    assert len(pd.read_parquet(tmp_path / "run" / "replications")) == serial.runs


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


@pytest.mark.parametrize("keep", [True, False])
def test_a_resumed_run_keeps_its_draws_setting(baseline, tmp_path, keep):
    import pandas as pd

    from sim.cli import main

    out = tmp_path / "run"
    args = ["run", str(BASELINE), "--runs", "20000", "--chunk-size", "10000", "--seed", "4",
            "--out", str(out), "--quiet"]
    assert main(args + (["--keep-draws"] if keep else [])) == 0
    whole = pd.read_parquet(out / "replications")
    (out / "summary.json").unlink()  # as if killed before its last chunk was recorded
    (out / "chunks" / "part-000001.json").unlink()
    (out / "replications" / "part-000001.parquet").unlink()
    assert main(["run", str(BASELINE), "--resume", str(out), "--keep-draws"]) == 2
    resumed = sim.run(baseline, resume=out, progress=False)
    again = pd.read_parquet(out / "replications")
    assert list(again.columns) == list(whole.columns)
    assert len(again.columns) == (3 + len(baseline.uncertain()) if keep else 3)
    pd.testing.assert_frame_equal(again, whole)
    table = resumed.replications()
    assert len(table) == 20_000 and len(table.columns) == 3 + len(baseline.uncertain())


def test_resume_refuses_another_scenario(baseline, tmp_path):
    out = tmp_path / "run"
    (out / "replications").mkdir(parents=True)
    (out / "run.json").write_text(json.dumps({"scenario_sha256": "other", "seed": 1,
                                              "runs": 10, "chunk_size": 10}))
    with pytest.raises(sim.UsageError, match="different scenario"):
        sim.run(baseline, resume=out, progress=False)
    with pytest.raises(sim.UsageError, match="cannot be resumed|not a run folder"):
        sim.run(baseline, resume=tmp_path / "nothing", progress=False)


# --------------------------------------------------------------------------- executors

def _square(x: int) -> int:
    return x * x


def _fail_at_two(x: int) -> int:
    if x == 2:
        raise ValueError("task 2 failed")
    return x


def test_in_order_yields_each_result_as_the_serial_executor_computes_it():
    """Serial tasks run one at a time as results are taken, so a progress bar moves (the
    sweep's did not) and a consumer that stops early wastes no task."""
    from sim.executors import SerialExecutor, completed, in_order

    log = []

    def task(x):
        log.append(f"run {x}")
        return x

    with SerialExecutor() as pool:
        for x in in_order(pool, task, [(0,), completed("stored"), (2,)]):
            log.append(f"got {x}")
    assert log == ["run 0", "got 0", "got stored", "run 2", "got 2"]

    log.clear()
    with SerialExecutor() as pool:
        for x in in_order(pool, task, [(i,) for i in range(10)]):
            if x == 1:
                break
    assert log == ["run 0", "run 1"]


def test_in_order_moves_its_progress_bar_with_every_result():
    import io

    from sim.executors import SerialExecutor, in_order

    shown = io.StringIO()
    seen = []
    with SerialExecutor() as pool:
        for _ in in_order(pool, _square, [(i,) for i in range(3)], progress=True, delay=0,
                          total=3, file=shown, mininterval=0):
            seen.append(shown.getvalue())
    # drawn as each result is taken, before the next task runs
    assert "1/3" in seen[0] and "2/3" in seen[1] and "3/3" not in seen[1]


@pytest.mark.parametrize("kind", ["serial", "threads", "processes"])
def test_in_order_keeps_submission_order_and_raises_the_first_failure(kind):
    from sim.executors import in_order, make_executor

    with make_executor(kind, None if kind == "serial" else 2) as pool:
        assert list(in_order(pool, _square, [(i,) for i in range(7)])) == [
            i * i for i in range(7)]
        got = []
        with pytest.raises(ValueError, match="task 2 failed"):
            for x in in_order(pool, _fail_at_two, [(i,) for i in range(5)]):
                got.append(x)
    assert got == [0, 1]


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["threads", "processes", "dask"])
def test_compare_and_sweep_give_the_serial_result_on_every_executor(baseline, executor):
    from sim.analysis.compare import compare
    from sim.analysis.sweep import Axis, sweep

    other = baseline.with_values({"actors.mongolia.ties.russia.fuel_import_share": 0.3})
    axes = [Axis("actors.mongolia.ties.russia.fuel_import_share", 0.2, 0.9, 3)]
    serial = compare(baseline, [other], runs=30_000, seed=3, chunk_size=20_000, progress=False)
    pooled = compare(baseline, [other], runs=30_000, seed=3, chunk_size=10_000,
                     executor=executor, workers=2, progress=False)
    assert np.array_equal(serial.differences, pooled.differences)
    for a, b in zip(serial.results, pooled.results, strict=True):
        assert np.array_equal(a.counts, b.counts)
        assert np.array_equal(a.stance_sample, b.stance_sample)
    a = sweep(baseline, axes, runs=10_000, seed=3, progress=False)
    b = sweep(baseline, axes, runs=10_000, seed=3, executor=executor, workers=2,
              progress=False)
    assert np.array_equal(a.counts, b.counts)
