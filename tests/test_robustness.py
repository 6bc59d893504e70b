"""Robustness suite: hostile input, extreme scenarios, faults during a run, safety.

Whatever the input, the loader either returns a Scenario or raises the project's
own ScenarioError naming the key path; the CLI never shows a traceback; a run
that fails or is interrupted never leaves a folder that looks complete.
"""

from __future__ import annotations

import copy
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import BASELINE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim import catalogue as cat
from sim.scenario import load_scenario

pytestmark = pytest.mark.robustness

# --------------------------------------------------------------------------- hostile input

scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20)
           | st.dates())
documents = st.recursive(scalars, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(st.text(max_size=10) | st.integers(), children,
                                           max_size=4), max_leaves=30)


def _load_or_scenario_error(path: Path):
    try:
        return load_scenario(path)
    except sim.ScenarioError as exc:
        assert exc.problems and all(str(path) in p.file or p.file for p in exc.problems)
        return None


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_arbitrary_documents_load_or_fail_cleanly(tmp_path, doc):
    path = tmp_path / "any.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert _load_or_scenario_error(path) is None or isinstance(doc, dict)


def _paths(node, prefix=()):
    """Every key path of a nested mapping."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))


BASE_DOC = yaml.safe_load(BASELINE.read_text())
BASE_PATHS = list(_paths(BASE_DOC))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(BASE_PATHS), value=scalars | st.lists(scalars, max_size=3)
       | st.dictionaries(st.text(max_size=6), scalars, max_size=3))
def test_any_single_corruption_of_the_baseline_is_caught_or_valid(tmp_path, where, value):
    doc = copy.deepcopy(BASE_DOC)
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    path = tmp_path / "corrupt.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        load_scenario(path)
    except sim.ScenarioError as exc:
        dotted = ".".join(map(str, where))
        # the problem is reported at (or next to) the corrupted key; the timeline is counted
        # from the forecast date, and a count and a date of it must agree, so a problem with
        # either may be named at another timeline key
        near = (("forecast_date", "timeline") if dotted.split(".")[0] in
                ("forecast_date", "timeline") else ())
        assert any(p.path.startswith(dotted.rsplit(".", 1)[0]) or dotted.startswith(p.path)
                   or p.path.startswith(near) for p in exc.problems), [str(p) for p in
                                                                        exc.problems]


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_random_bytes_are_rejected_quickly(tmp_path, data):
    path = tmp_path / "bytes.yaml"
    path.write_bytes(data)
    start = time.perf_counter()
    _load_or_scenario_error(path)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("content", [
    "a: " + "[" * 5000 + "]" * 5000,                      # deeply nested
    "a: " + "{b: " * 200 + "1" + "}" * 200,
    "x: 1e99999\n",                                       # huge number
    "x: " + "9" * 10000 + "\n",
])
def test_pathological_documents_fail_in_bounded_time(tmp_path, content):
    path = tmp_path / "weird.yaml"
    path.write_text(content)
    start = time.perf_counter()
    with pytest.raises(sim.ScenarioError):
        load_scenario(path)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("levels, fragment", [
    (12, "aliases"),  # 110 aliases: over the cap on aliases
    (10, "nodes"),    # 90 aliases, 10^10 leaves once expanded: sized, not expanded
])
def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path, levels, fragment):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(sim.ScenarioError, match=fragment):
        load_scenario(path)
    assert time.perf_counter() - start < 2.0


def test_an_oversized_file_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * 200_000)
    with pytest.raises(sim.ScenarioError, match="under"):
        load_scenario(path)


# --------------------------------------------------------------------------- extreme scenarios

def _valid(result):
    p = np.array(list(result.probabilities.values()))
    assert np.isfinite(p).all() and (p >= 0).all() and p.sum() == pytest.approx(1.0)
    assert np.isfinite(result.stance_sample).all()


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_every_share_at_its_bound(baseline, share):
    values = {p: share for p, par in baseline.parameters.items()
              if par.spec.low == 0 and par.spec.high == 1 and not p.startswith("weights.")}
    _valid(sim.run(baseline.with_values(values), runs=10_000, seed=1, progress=False))


def test_extreme_weights(baseline):
    zero = {f"weights.{n}": 0.0 for n, spec in cat.WEIGHT_PARAMS.items() if spec.low == 0}
    _valid(sim.run(baseline.with_values(zero), runs=10_000, seed=1, progress=False))
    huge = {f"weights.{n}": 1e6 for n, spec in cat.WEIGHT_PARAMS.items()
            if spec.high == np.inf and n != "baseline"}
    _valid(sim.run(baseline.with_values(huge), runs=10_000, seed=1, progress=False))


def test_minimal_cast_no_western_actor(write_scenario, baseline_doc):
    def edit(doc):
        for actor in ("united_states", "japan", "european_union", "china", "ukraine",
                      "civil_society"):
            del doc["actors"][actor]

    s = load_scenario(write_scenario(edit))
    assert not s.with_role(cat.WESTERN) and not s.with_role(cat.DOMESTIC)
    _valid(sim.run(s, runs=10_000, seed=1, progress=False))


def test_zero_variance_distributions(write_scenario):
    def edit(doc):
        tie = doc["actors"]["mongolia"]["ties"]["russia"]
        tie["pipeline_prospect"] = {"dist": "uniform", "low": 0.3, "high": 0.3, "source": "s"}
        tie["trade_share"] = {"dist": "truncnormal", "mean": 0.1, "sd": 0.0, "low": 0.0,
                              "high": 1.0, "source": "s"}
        tie["deals_on_offer"] = {"dist": "triangular", "low": 0.5, "mode": 0.5, "high": 0.5,
                                 "source": "s"}

    _valid(sim.run(load_scenario(write_scenario(edit)), runs=10_000, seed=1, progress=False))


# --------------------------------------------------------------------------- command line

def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _clean_failure(proc, fragment=""):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.strip(), "an explanation on stderr"
    assert fragment.lower() in proc.stderr.lower(), proc.stderr


@pytest.mark.parametrize("args, fragment", [
    ([], "required"),
    (["fly"], "invalid choice"),
    (["run", BASELINE, "--bogus"], "unrecognized"),
    (["run", BASELINE, "--runs", "0"], ">= 1"),
    (["run", BASELINE, "--runs", "-5"], ""),
    (["run", BASELINE, "--runs", "lots"], "whole number"),
    (["run", BASELINE, "--runs", "10000000000000"], "at most"),
    (["run", BASELINE, "--chunk-size", "999999999"], "at most"),
    (["run", BASELINE, "--seed", "-1"], "seed"),
    (["run", BASELINE, "--precision", "2"], "half-width"),
    (["run", "missing.yaml"], "existing file"),
    (["run", "scenarios"], "not a directory"),
    (["run", BASELINE, "--runs", "10", "--out", "README.md"], "is a file"),
    (["run", BASELINE, "--runs", "10", "--out", "/proc/forbidden/x"], "cannot create"),
    (["run", BASELINE, "--resume", "docs"], "resumed"),
    (["validate", "missing.yaml"], "existing file"),
    (["compare", BASELINE], "required"),
    (["compare", BASELINE, "missing.yaml"], "existing file"),
    (["sweep", BASELINE, "--vary", "nope"], "KEY=LOW:HIGH:STEPS"),
    (["sweep", BASELINE, "--vary", "actors.x.params.y=0:1:3"], "numeric parameter"),
    (["sweep", BASELINE, "--vary", "weights.legal=0:1:3", "--runs", "0"], ">= 1"),
    (["sensitivity", BASELINE, "--method", "fast"], "invalid choice"),
    (["sensitivity", BASELINE, "--samples", "0"], ">= 1"),
    (["run", BASELINE, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9",
      "--runs", "10"], "scheduler"),
])
def test_bad_command_lines_fail_with_one_clear_line(args, fragment):
    _clean_failure(cli(*args), fragment)


def test_unreadable_scenario_file(tmp_path, monkeypatch):
    """Permissions cannot stop root (who runs CI), so the read itself is made to fail."""
    import errno

    path = tmp_path / "secret.yaml"
    path.write_text(BASELINE.read_text())

    def refuse(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    from sim.scenario import reader

    monkeypatch.setattr(reader, "_read_regular", refuse)  # the reader opens the file itself
    with pytest.raises(sim.ScenarioError, match="readable file"):
        load_scenario(path)


# --------------------------------------------------------------------------- faults during a run

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_an_interrupted_run_resumes_to_the_exact_result(baseline, tmp_path, sig):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", BASELINE, "--runs", "300000",
                             "--chunk-size", "10000", "--seed", "5", "--out", out, "--quiet"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(list((out / "chunks").glob("*.json"))) < 3:
        time.sleep(0.02)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert not (out / "summary.json").exists(), "an interrupted run must not look complete"
    resumed = sim.run(baseline, resume=out, progress=False)
    whole = sim.run(baseline, runs=300_000, seed=5, chunk_size=10_000, progress=False)
    assert np.array_equal(resumed.counts, whole.counts)
    assert (out / "summary.json").exists()


def test_a_full_disk_ends_with_a_clear_error_and_no_summary(baseline, tmp_path, monkeypatch):
    import errno

    from sim import output

    real = output._atomic_write
    calls = {"n": 0}

    def flaky(path, write):
        calls["n"] += 1
        if calls["n"] > 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(output, "_atomic_write", flaky)
    out = tmp_path / "run"
    with pytest.raises(sim.errors.OutputError, match="No space left"):
        sim.run(baseline, runs=50_000, seed=1, chunk_size=10_000, out=out, progress=False)
    assert not (out / "summary.json").exists()
    monkeypatch.setattr(output, "_atomic_write", real)
    resumed = sim.run(baseline, resume=out, progress=False)
    assert resumed.runs == 50_000


def test_a_vanished_output_folder_ends_with_a_clear_error(baseline, tmp_path, monkeypatch):
    import shutil

    from sim import engine

    out = tmp_path / "run"
    real = engine.simulate_chunk

    def vanish(*args, **kwargs):
        result = real(*args, **kwargs)
        if args[2] == 1:  # the second chunk
            shutil.rmtree(out)
        return result

    monkeypatch.setattr(engine, "simulate_chunk", vanish)
    with pytest.raises(sim.errors.OutputError, match="cannot write"):
        sim.run(baseline, runs=30_000, seed=1, chunk_size=10_000, out=out, progress=False)
    assert not (out / "summary.json").exists()


def test_two_runs_at_once_never_share_a_folder(tmp_path):
    out = tmp_path / "shared"
    cmd = [sys.executable, "-m", "sim", "run", BASELINE, "--runs", "50000", "--seed", "1",
           "--out", out, "--quiet"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], results
    loser = results[[p.returncode for p in procs].index(2)][1]
    assert "Traceback" not in loser and ("already" in loser or "not empty" in loser)
    assert len(list((out / "replications").glob("*.parquet"))) == 1


# --------------------------------------------------------------------------- safety

UNSAFE = [r"yaml\.load\((?![^)]*Loader=_SafeLoader)", r"yaml\.unsafe_load", r"yaml\.full_load",
          r"\bpickle\.loads?\(", r"\beval\(", r"\bexec\(", r"allow_pickle\s*=\s*True",
          r"\bmarshal\.loads?\(", r"\bshelve\.", r"pd\.read_pickle"]


def test_no_unsafe_loaders_in_the_package():
    found = []
    for path in (ROOT / "sim").rglob("*.py"):
        text = path.read_text()
        for pattern in UNSAFE:
            for match in re.finditer(pattern, text):
                line = text[:match.start()].count("\n") + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not found, found


def test_yaml_python_tags_are_never_constructed(tmp_path):
    path = tmp_path / "tag.yaml"
    marker = tmp_path / "pwned"
    path.write_text(f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(sim.ScenarioError):
        load_scenario(path)
    assert not marker.exists()


# --------------------------------------------------------------------------- found in review

def test_a_key_given_twice_is_an_error(write_scenario):
    path = write_scenario()
    path.write_text(path.read_text() + "id: another_id\n")
    with pytest.raises(sim.ScenarioError, match="appears twice"):
        load_scenario(path)


@pytest.mark.parametrize("source", [5, {"a": 1}, [], [""]])
def test_a_resolution_source_must_be_citations(write_scenario, source):
    def edit(doc):
        doc["resolution"] = {"outcome": "hosted_no_arrest", "date": "2024-09-04",
                             "source": source}

    with pytest.raises(sim.ScenarioError, match="resolution.source"):
        load_scenario(write_scenario(edit))


def test_correlations_must_be_possible_together_with_the_weights_file(write_scenario, tmp_path,
                                                                      v2_weights):
    weights = yaml.safe_load(v2_weights.read_text())
    weights["weights"]["legal"] = {"dist": "lognormal", "median": 5.0, "sigma": 0.5,
                                   "assumption": "a"}
    weights["weights"]["court"] = {"dist": "lognormal", "median": 1.5, "sigma": 0.5,
                                   "assumption": "a"}
    weights["correlations"] = [{"between": ["weights.legal", "weights.court"], "rho": 0.6,
                                "assumption": "a fitted correlation"}]
    wpath = tmp_path / "correlated_weights.yaml"
    wpath.write_text(yaml.safe_dump(weights))

    def edit(doc):
        doc["correlations"] = [
            {"between": ["weights.legal", "actors.mongolia.params.implementing_law"],
             "rho": 0.6, "assumption": "a"},
            {"between": ["weights.court", "actors.mongolia.params.implementing_law"],
             "rho": -0.6, "assumption": "a"}]

    # each scenario correlation is fine alone, and with the weights file's legal-court
    # correlation the pairs are possible two by two; the three together are not
    path = write_scenario(edit)
    with pytest.raises(sim.ScenarioError, match="jointly possible together with the weights"):
        load_scenario(path, weights=wpath)
    del weights["correlations"]
    wpath.write_text(yaml.safe_dump(weights))
    assert len(load_scenario(path, weights=wpath).correlations) == 2


def test_sensitivity_when_an_outcome_never_varies(baseline):
    from sim.analysis.sensitivity import sensitivity

    s = baseline.with_values({"actors.russia.params.warrant_awareness": 0.0})  # never cancels
    frame = sensitivity(s, samples=8, runs_per_point=50, seed=1).frame()
    cancelled = frame[frame.outcome == "visit_cancelled"]
    assert cancelled.ST.isna().all() and "ST" in frame


@pytest.mark.parametrize("kwargs, fragment", [
    ({"executor": "dask", "scheduler": "foo"}, "cannot reach"),
    ({"executor": "serial", "scheduler": "tcp://127.0.0.1:1"}, "needs the dask executor"),
    ({"executor": "serial", "workers": 2}, "need the processes or dask"),
])
def test_executor_options_are_checked(baseline, kwargs, fragment):
    with pytest.raises(sim.UsageError, match=fragment):
        sim.run(baseline, runs=10, seed=1, progress=False, **kwargs)


@pytest.mark.parametrize("content", ["[]", "{}", '{"seed": "x", "runs": 1, "chunk_size": 1}'])
def test_resume_with_a_damaged_run_json(baseline, tmp_path, content):
    (tmp_path / "run.json").write_text(content)
    with pytest.raises(sim.UsageError, match="can be resumed"):
        sim.run(baseline, resume=tmp_path, progress=False)


def test_resume_refuses_new_settings(tmp_path):
    _clean_failure(cli("run", BASELINE, "--resume", tmp_path, "--runs", "5"),
                   "cannot be changed when resuming")


def test_a_precision_run_stops_at_the_same_block_whatever_the_chunking(baseline, tmp_path):
    import pandas as pd

    a = sim.run(baseline, precision=0.01, seed=1, chunk_size=50_000, out=tmp_path / "a",
                progress=False)
    b = sim.run(baseline, precision=0.01, seed=1, chunk_size=10_000, executor="processes",
                workers=2, out=tmp_path / "b", progress=False)
    assert np.array_equal(a.counts, b.counts)
    for folder, result in ((tmp_path / "a", a), (tmp_path / "b", b)):
        assert len(pd.read_parquet(folder / "replications")) == result.runs


def test_bad_input_never_leaves_an_empty_analysis_folder(tmp_path):
    out = tmp_path / "sweep"
    _clean_failure(cli("sweep", BASELINE, "--vary", "timeline.visit_days=1:4:3", "--out", out),
                   "whole number")
    assert not out.exists()
