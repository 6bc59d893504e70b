"""Hardening II (issue 15), bounded resources and Dask addresses (items 4 and 5).

Chunks are sized from a memory budget, so memory does not grow with (uncertain
parameters x chunk size), and the result stays that of any other chunk size;
analysis designs (sweep grids and samples, Sobol and Morris designs) are capped
before anything is allocated; ``--workers`` is capped; a ``--scheduler`` that
accepts connections but is no Dask scheduler fails within a timeout, naming the
address; and addresses other than tcp:// are refused up front.
"""

from __future__ import annotations

import copy
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest
import yaml
from conftest import BASELINE, ROOT

import sim
from sim import engine, executors
from sim.analysis.sensitivity import sensitivity
from sim.analysis.sweep import Axis, sweep
from sim.errors import UsageError
from sim.streams import BLOCK, block_sizes

pytestmark = pytest.mark.robustness

KEYS = ("actors.mongolia.params.implementing_law", "actors.mongolia.params.neutrality_doctrine",
        "actors.mongolia.params.military_exposure")


def cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def one_clear_line(proc, *fragments):
    """Exit 2, no traceback, one ``error:`` line (and at most a hint) naming ``fragments``."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and all(x.startswith("hint: ") for x in lines[1:2])
    assert len(lines) <= 2, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], proc.stderr


# --------------------------------------------------------------------------- scenarios


def _with_partners(extra: int) -> dict:
    """The baseline with ``extra`` more Western actors (three uncertain parameters each)."""
    doc = yaml.safe_load(BASELINE.read_text())
    model = doc["actors"]["united_states"]
    for i in range(extra):
        actor = copy.deepcopy(model)
        actor["name"] = f"Partner {i}"
        actor["params"]["courting"] = {"dist": "uniform", "low": 0.1, "high": 0.3,
                                       "assumption": "a test partner"}
        doc["actors"][f"partner_{i}"] = actor
    doc["id"] = f"partners_{extra}"
    return doc


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """Scenarios of growing size: 44, 224 and 644 uncertain parameters."""
    folder = tmp_path_factory.mktemp("large")
    out = {"baseline": sim.load_scenario(BASELINE)}
    for extra in (60, 200):
        path = folder / f"partners_{extra}.yaml"
        path.write_text(yaml.safe_dump(_with_partners(extra), sort_keys=False))
        out[f"partners_{extra}"] = sim.load_scenario(path)
    base = out["baseline"]
    out["fixed_long"] = base.with_values({
        **{p: base.parameters[p].dist.mean() for p in base.uncertain()},
        "timeline.days_before_visit": 365})
    return out


# --------------------------------------------------------------------------- memory budget


@pytest.mark.parametrize("name", ["baseline", "partners_60", "fixed_long"])
def test_bytes_per_world_bounds_the_measured_peak(scenarios, name):
    """The estimate that sizes chunks is an upper bound on the memory a chunk uses (the
    peak numpy allocations, which tracemalloc sees), and not wildly pessimistic."""
    scenario = scenarios[name]
    n = 20_000
    engine.simulate_chunk(scenario, 1, 0, [1000])  # warm caches and imports
    tracemalloc.start()
    try:
        chunk = engine.simulate_chunk(scenario, 1, 0, block_sizes(n))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert chunk.table is not None and chunk.table.num_rows == n
    estimate = engine.bytes_per_world(scenario)
    assert 0.4 * estimate < peak / n <= estimate, (peak / n, estimate)


def test_many_uncertain_parameters_get_a_smaller_chunk(scenarios):
    sizes = {name: len(s.uncertain()) for name, s in scenarios.items()}
    assert sizes["baseline"] == 44 and sizes["partners_200"] == 644
    chunk = {name: engine.chunk_within_budget(s, engine.DEFAULT_CHUNK)
             for name, s in scenarios.items()}
    assert chunk["baseline"] == engine.DEFAULT_CHUNK  # the usual case is unchanged
    assert chunk["partners_60"] == 30_000
    assert chunk["partners_200"] == BLOCK
    for name, s in scenarios.items():
        assert chunk[name] % BLOCK == 0
        assert chunk[name] * engine.bytes_per_world(s) <= engine.CHUNK_MEMORY
        # a larger request does not get past the budget; a smaller one is kept
        assert engine.chunk_within_budget(s, engine.MAX_CHUNK) == max(
            chunk[name], engine.CHUNK_MEMORY // engine.bytes_per_world(s) // BLOCK * BLOCK)
        assert engine.chunk_within_budget(s, 1) == BLOCK
    # with several scenarios on the same worlds (compare) the largest decides
    assert engine.chunk_within_budget([scenarios["baseline"], scenarios["partners_200"]],
                                      engine.DEFAULT_CHUNK) == BLOCK


def test_a_scenario_too_large_for_one_block_is_refused(scenarios, monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_MEMORY", 2**20)
    with pytest.raises(UsageError, match="one block of 10,000 worlds would need"):
        sim.run(scenarios["partners_200"], runs=10, seed=1, progress=False)


def _spy_chunks(monkeypatch, fail_at: int | None = None) -> list[int]:
    """Record the blocks of each chunk simulated (and interrupt at call ``fail_at``)."""
    seen: list[int] = []
    real = engine.simulate_chunk

    def spy(scenario, seed, first_block, sizes, *args):
        if fail_at is not None and len(seen) + 1 == fail_at:
            raise KeyboardInterrupt
        seen.append(len(sizes))
        return real(scenario, seed, first_block, sizes, *args)

    monkeypatch.setattr(engine, "simulate_chunk", spy)
    return seen


def test_a_capped_run_equals_a_run_with_small_chunks(scenarios, monkeypatch):
    scenario = scenarios["partners_60"]  # 8 kB a world: chunks of 30,000, not 100,000
    seen = _spy_chunks(monkeypatch)
    capped = sim.run(scenario, runs=40_000, seed=3, progress=False)
    assert seen == [3, 1]
    seen.clear()
    small = sim.run(scenario, runs=40_000, seed=3, chunk_size=10_000, progress=False)
    assert seen == [1] * 4
    assert np.array_equal(capped.counts, small.counts)
    assert capped.noncompliance == small.noncompliance
    assert np.array_equal(capped.stance_sample, small.stance_sample)
    assert capped.drivers == small.drivers


def test_a_resumed_run_keeps_the_chunks_it_started_with(scenarios, tmp_path, monkeypatch):
    baseline = scenarios["baseline"]
    out = tmp_path / "run"
    # a budget that fits two blocks of the baseline; the run is interrupted at its 3rd chunk
    monkeypatch.setattr(engine, "CHUNK_MEMORY", 2 * BLOCK * engine.bytes_per_world(baseline))
    _spy_chunks(monkeypatch, fail_at=3)
    with pytest.raises(KeyboardInterrupt):
        sim.run(baseline, runs=90_000, seed=8, out=out, progress=False)
    assert not (out / "summary.json").exists()
    monkeypatch.undo()  # the default budget would choose chunks of 100,000 now
    seen = _spy_chunks(monkeypatch)
    resumed = sim.run(baseline, resume=out, progress=False)
    assert seen and set(seen[:-1]) == {2} and seen[-1] == 1, seen
    whole = sim.run(baseline, runs=90_000, seed=8, chunk_size=10_000, progress=False)
    assert np.array_equal(resumed.counts, whole.counts)
    assert np.array_equal(resumed.stance_sample, whole.stance_sample)


# --------------------------------------------------------------------------- design caps


def test_a_huge_sweep_grid_is_refused_before_anything_is_allocated(scenarios):
    axes = [Axis(k, 0.0, 1.0, 1000) for k in KEYS]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UsageError, match=r"1,000,000,000 points; the limit is 100,000"):
            sweep(scenarios["baseline"], axes, runs=100, seed=1, progress=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20 and time.perf_counter() - started < 5


@pytest.mark.parametrize("axes, kwargs, fragment", [
    ([(KEYS[0], 100), (KEYS[1], 100)], {"runs": 200_000}, "2,000,000,000 worlds"),
    ([(KEYS[0], 0), (KEYS[1], 0)], {"runs": 20_000, "samples": 100_000}, "2,000,000,000 worlds"),
])
def test_sweep_worlds_are_capped(scenarios, axes, kwargs, fragment):
    axes = [Axis(k, 0.0, 1.0, steps) for k, steps in axes]
    with pytest.raises(UsageError, match=f"{fragment}.*the limit is 1,000,000,000") as info:
        sweep(scenarios["baseline"], axes, seed=1, progress=False, **kwargs)
    assert "fewer" in info.value.hint


@pytest.mark.parametrize("kwargs, fragment", [
    ({"method": "sobol", "samples": 2**20}, "29,360,128 points; the limit is 100,000"),
    ({"method": "morris", "samples": 10**7}, "270,000,000 points; the limit is 100,000"),
    ({"method": "sobol", "samples": 1024, "runs_per_point": 100_000},
     "2,867,200,000 worlds"),
    ({"method": "sobol", "samples": 2, "runs_per_point": 10**6}, "runs_per_point must be at most"),
])
def test_sensitivity_designs_are_capped(scenarios, kwargs, fragment):
    import SALib.analyze.morris
    import SALib.analyze.sobol
    import SALib.sample.morris
    import SALib.sample.sobol  # noqa: F401 - imported before memory is measured

    tracemalloc.start()
    try:
        with pytest.raises(UsageError, match=fragment):
            sensitivity(scenarios["baseline"], seed=1, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # refused before SALib builds the design


def test_a_design_holding_too_many_values_is_refused():
    engine.check_design(100_000, 1, 100, "a design", "smaller")
    with pytest.raises(UsageError, match="20,000,000 values .* the limit is 10,000,000"):
        engine.check_design(100_000, 1, 200, "a design", "smaller")


def test_the_sweep_command_refuses_a_huge_grid_in_one_line():
    proc = cli("sweep", BASELINE, *[f"--vary={k}=0:1:1000" for k in KEYS])
    one_clear_line(proc, "1,000,000,000 points", "100,000")


# --------------------------------------------------------------------------- workers


@pytest.mark.parametrize("kind", ["threads", "processes", "dask"])
def test_workers_are_capped(kind):
    cap = executors.max_workers()
    assert cap == 4 * (os.cpu_count() or 1)
    with pytest.raises(UsageError, match=f"workers must be at most {cap}"):
        executors.make_executor(kind, cap + 1)
    with pytest.raises(UsageError, match="whole number"):
        executors.make_executor(kind, True)


def test_workers_with_an_existing_cluster_are_refused():
    with pytest.raises(UsageError, match="existing Dask cluster"):
        executors.make_executor("dask", 2, "tcp://127.0.0.1:8786")


def test_the_run_command_refuses_a_million_workers_in_one_line():
    proc = cli("run", BASELINE, "--executor", "processes", "--workers", "1000000",
               "--runs", "10")
    one_clear_line(proc, "workers must be at most")


# --------------------------------------------------------------------------- Dask addresses


@pytest.fixture
def silent_listener():
    """A TCP port that accepts connections and never says anything."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def http_server():
    """A small HTTP server on 127.0.0.1."""

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("target", ["silent_listener", "http_server"])
def test_an_address_that_is_no_scheduler_fails_within_the_timeout(request, monkeypatch, target):
    address = request.getfixturevalue(target)
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 2.0)
    started = time.perf_counter()
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at") as info:
        sim.run(sim.load_scenario(BASELINE), runs=10, seed=1, executor="dask",
                scheduler=address, progress=False)
    assert time.perf_counter() - started < 6
    assert address in str(info.value) and "\n" not in str(info.value)


def test_the_run_command_gives_up_on_a_silent_scheduler_in_one_line(silent_listener, capsys,
                                                                   monkeypatch):
    from sim.cli import main

    assert executors.CONNECT_TIMEOUT == 10.0  # the default; 2 s here to keep the test short
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 2.0)
    code = main(["run", str(BASELINE), "--runs", "10", "--executor", "dask",
                 "--scheduler", silent_listener])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2 and "Traceback" not in err
    assert lines[0] == (f"error: cannot reach the Dask scheduler at {silent_listener}: "
                        "no answer within 2 s")


@pytest.mark.parametrize("address", [
    "tls://127.0.0.1:8786", "ucx://127.0.0.1:8786", "ws://127.0.0.1:8786",
    "wss://127.0.0.1:8786", "inproc://127.0.0.1/1/2", "http://127.0.0.1:8786", "",
    "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "tcp://127.0.0.1:8786/path",
])
def test_unsupported_scheduler_addresses_are_refused_up_front(address, monkeypatch):
    def never(*args):
        raise AssertionError("no connection may be tried")

    monkeypatch.setattr(executors, "probe_scheduler", never)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler") as info:
        executors.make_executor("dask", None, address)
    assert "tcp://HOST:PORT" in info.value.hint


def test_the_run_command_refuses_a_tls_address_in_one_line():
    proc = cli("run", BASELINE, "--runs", "10", "--executor", "dask",
               "--scheduler", "tls://127.0.0.1:8786")
    one_clear_line(proc, "tls:// protocol is not supported")


def test_a_real_scheduler_still_works_and_a_worker_is_refused():
    from dask.distributed import LocalCluster

    baseline = sim.load_scenario(BASELINE)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=None, host="127.0.0.1") as cluster:
        remote = sim.run(baseline, runs=20_000, seed=4, executor="dask",
                         scheduler=cluster.scheduler_address, progress=False)
        worker = next(iter(cluster.scheduler_info["workers"]))
        with pytest.raises(UsageError, match="a Dask Worker answered, not a scheduler"):
            executors.make_executor("dask", None, worker)
    local = sim.run(baseline, runs=20_000, seed=4, progress=False)
    assert np.array_equal(remote.counts, local.counts)
