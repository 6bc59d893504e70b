"""Hardening II (issue 15), the inputs: no silent nonsense from valid-looking input.

Degenerate or uncomputable laws, every way of making a distribution checked the same
way, immutable distributions, finite draws and intent, empty sources, whole-match ids,
huge integers, dates and bases that name their key, bounded strings and special files
(items 2, 4 and 7), and per-parameter random streams that cannot collide (item 3).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import pickle
import random
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import BASELINE, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim import catalogue as cat
from sim.distributions import KINDS, PROBE, Distribution, DistributionError
from sim.errors import NonFiniteError, ScenarioError, UsageError
from sim.model import WarrantVisitModel
from sim.sampling import draw_parameters, values_from_uniforms
from sim.scenario import MAX_BASE_CHAIN, load_scenario
from sim.scenario.checker import MAX_TITLE
from sim.scenario.inheritance import MAX_TEXT
from sim.streams import Streams, stream_tag

pytestmark = pytest.mark.robustness

TIE = "actors.mongolia.ties.russia"


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def _problems(path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def _paths_of(path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [p.path for p in info.value.problems]


# --------------------------------------------------------------------------- degenerate laws

def test_truncnormal_with_low_equal_high_is_fixed_at_that_value():
    dist = Distribution("truncnormal", {"mean": 0.2, "sd": 0.1, "low": 0.5, "high": 0.5})
    assert dist.is_fixed and dist.mean() == 0.5
    assert (dist.ppf(PROBE) == 0.5).all()


def test_a_scenario_with_truncnormal_low_equal_high_runs_as_the_fixed_value(write_scenario):
    """The issue's case: every draw was NaN and the run reported hosted_no_arrest = 1.0."""
    def law(doc):
        doc["actors"]["mongolia"]["ties"]["russia"]["trade_share"] = {
            "dist": "truncnormal", "mean": 0.2, "sd": 0.1, "low": 0.5, "high": 0.5,
            "source": "s"}

    def fixed(doc):
        doc["actors"]["mongolia"]["ties"]["russia"]["trade_share"] = {"value": 0.5,
                                                                       "source": "s"}

    degenerate = load_scenario(write_scenario(law, name="law.yaml"))
    assert not degenerate.parameters[f"{TIE}.trade_share"].uncertain
    a = sim.run(degenerate, runs=10_000, seed=3, progress=False)
    b = sim.run(load_scenario(write_scenario(fixed, name="fixed.yaml")), runs=10_000, seed=3,
                progress=False)
    assert a.probabilities == b.probabilities
    assert a.probabilities["hosted_no_arrest"] < 0.99


@pytest.mark.parametrize("kind, args", [
    ("truncnormal", {"mean": 0.0, "sd": 1e-320, "low": 0.5, "high": 1.0}),  # 1e320 sd away
    ("truncnormal", {"mean": -1e300, "sd": 1e-300, "low": 0.0, "high": 1.0}),
    ("lognormal", {"median": 1.0, "sigma": 40.0}),  # its mean overflows
    ("lognormal", {"median": 1e307, "sigma": 1.0}),  # its upper quantiles overflow
    ("beta", {"alpha": 1e308, "beta": 1e308}),
    ("uniform", {"low": -1e308, "high": 1e308}),  # high - low overflows
    ("triangular", {"low": -1e308, "mode": 0.0, "high": 1e308}),
    ("normal", {"mean": 0.0, "sd": 1e308}),
])
def test_laws_that_cannot_be_computed_are_refused(kind, args):
    with pytest.raises(DistributionError, match="can be computed"):
        Distribution(kind, args)


@pytest.mark.parametrize("kind, args", [
    ("truncnormal", {"mean": 0.0, "sd": 1.0, "low": 40.0, "high": 41.0}),  # far in a tail
    ("truncnormal", {"mean": 0.0, "sd": 1.0, "low": 1e10, "high": 1e10 + 1}),
    ("truncnormal", {"mean": 0.0, "sd": 1.0, "low": 0.5, "high": 0.5 + 1e-15}),  # a sliver
    ("truncnormal", {"mean": 0.5, "sd": 0.0, "low": 0.0, "high": 1.0}),
    ("beta", {"alpha": 1e-300, "beta": 1.0}),
    ("beta", {"alpha": 1e300, "beta": 1e300}),
    ("logitnormal", {"median": 1e-300, "sigma": 1e300}),
    ("triangular", {"low": 0.2, "mode": 0.2, "high": 0.2}),
])
def test_extreme_but_computable_laws_give_finite_values_inside_their_support(kind, args):
    dist = Distribution(kind, args)
    lo, hi = dist.support()
    values = dist.ppf(PROBE)
    assert np.isfinite(values).all() and ((values >= lo) & (values <= hi)).all()
    assert math.isfinite(dist.mean()) and lo <= dist.mean() <= hi


extreme = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, 1.0, 0.5, 1e-320, 1e-300, 1e300, 1e308, -1e308, 10**400]) | st.integers(-5, 5)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(sorted(KINDS)), values=st.lists(extreme, min_size=4, max_size=4),
       u=st.floats(1e-12, 1 - 1e-12))
def test_any_law_is_refused_or_gives_finite_values(kind, values, u):
    args = dict(zip(KINDS[kind], values, strict=False))
    try:
        dist = Distribution(kind, args)
    except DistributionError as exc:
        assert exc.problems and str(exc)
        return
    lo, hi = dist.support()
    x = dist.ppf(np.array([u, *PROBE]))
    assert np.isfinite(x).all() and (x >= lo).all() and (x <= hi).all()
    assert math.isfinite(dist.mean())


# --------------------------------------------------------------------------- one check, every path

@pytest.mark.parametrize("kind, args, key", [
    ("beta", {"alpha": -1, "beta": 2}, "alpha"),
    ("normal", {"mean": 0, "sd": -5}, "sd"),
    ("uniform", {"low": 0, "high": math.nan}, "high"),
    ("fixed", {"value": math.inf}, "value"),
    ("fixed", {"value": 10**400}, "value"),  # too large for a float
    ("lognormal", {"median": 0, "sigma": 1}, "median"),
    ("uniform", {"low": 0.5}, "high"),
    ("uniform", {"low": 0.5, "high": 0.7, "mode": 0.6}, "mode"),
    ("gamma", {"shape": 1}, "dist"),
])
def test_the_api_distribution_refuses_what_the_loader_refuses(write_scenario, kind, args, key):
    with pytest.raises(DistributionError) as info:
        Distribution(kind, args)
    assert isinstance(info.value, ValueError) and isinstance(info.value, UsageError)
    assert key in {k for k, _, _ in info.value.problems}
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)

    # the same arguments in a scenario file: refused at the argument's key
    def edit(doc):
        node = {"dist": kind, **args, "source": "s"} if kind != "fixed" else {
            "value": args["value"], "source": "s"}
        doc["actors"]["mongolia"]["ties"]["russia"]["trade_share"] = node

    expected = f"{TIE}.trade_share.{'value' if kind == 'fixed' else key}"
    assert expected in _paths_of(write_scenario(edit))


def test_a_huge_integer_literal_gets_exit_2_naming_its_key(write_scenario, capsys):
    from sim.cli import main

    path = write_scenario(lambda doc: doc["actors"]["mongolia"]["params"].update(
        {"implementing_law": {"value": 10**400, "source": "s"}}))
    assert "1" + "0" * 400 in path.read_text()  # a YAML integer, not a float
    for args in (["validate", path], ["run", path, "--runs", "100", "--seed", "1"]):
        assert main([str(a) for a in args]) == 2  # (an OverflowError would raise here)
        err = capsys.readouterr().err
        assert "actors.mongolia.params.implementing_law.value" in err and "finite" in err


def test_an_integer_of_too_many_digits_is_refused_at_its_key(write_scenario, tmp_path):
    text = BASELINE.read_text().replace("id: mongolia_2024", "id: mongolia_2024\nx: 1", 1)
    path = tmp_path / "long.yaml"
    path.write_text(text.replace("x: 1", "x: " + "9" * 5000))
    assert any(p.startswith("x") for p in _paths_of(path))


def test_with_values_refuses_non_finite_values_and_weights_naming_the_key(baseline):
    for value in (math.inf, -math.inf, math.nan, 10**400, "0.5", None, True):
        for path in ("weights.legal", f"{TIE}.trade_share"):
            with pytest.raises(ScenarioError) as info:
                baseline.with_values({path: value})
            assert [p.path for p in info.value.problems] == [path]
    with pytest.raises(ScenarioError, match=">= 0"):
        baseline.with_values({"weights.legal": -1.0})
    with pytest.raises(ScenarioError, match="share"):
        baseline.with_values({f"{TIE}.trade_share": 1.5})
    # a distribution is checked when it is made, before with_values sees it
    with pytest.raises(DistributionError):
        baseline.with_values({"weights.legal": Distribution("lognormal",
                                                            {"median": 1, "sigma": -1})})
    with pytest.raises(ScenarioError, match="within the bounds"):
        baseline.with_values({"weights.risk_tolerance": Distribution(
            "uniform", {"low": 0.5, "high": 2})})


def test_a_sweep_to_infinity_is_refused_before_it_runs(baseline):
    from sim.analysis.sweep import Axis, sweep

    with np.errstate(all="ignore"), pytest.raises(UsageError):
        sweep(baseline, [Axis("weights.legal", 0.0, math.inf, 3)], runs=100, seed=1,
              progress=False)


# --------------------------------------------------------------------------- immutable

def test_distributions_are_immutable_and_share_nothing():
    args = {"low": 0.1, "high": 0.3}
    dist = Distribution("uniform", args)
    args["low"] = 0.29  # the caller's dict is copied, not kept
    assert dist.args["low"] == 0.1 and dist.args == {"low": 0.1, "high": 0.3}
    with pytest.raises(TypeError):
        dist.args["low"] = 0.2  # type: ignore[index]
    with pytest.raises(AttributeError):
        dist.args._items = {}  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        dist.args = {"low": 0.0, "high": 1.0}  # type: ignore[misc]
    other = dataclasses.replace(dist)
    assert other == dist and hash(other) == hash(dist)
    assert copy.deepcopy(dist) == dist and dict(dist.args) == {"low": 0.1, "high": 0.3}
    # replace re-checks
    with pytest.raises(DistributionError):
        dataclasses.replace(dist, args={"low": 0.3, "high": 0.1})


def test_distributions_and_scenarios_pickle_to_worker_processes(baseline):
    for par in baseline.parameters.values():
        again = pickle.loads(pickle.dumps(par.dist))
        assert again == par.dist and again.args["value" if par.dist.kind == "fixed" else
                                                 KINDS[par.dist.kind][0]] is not None
    scenario = pickle.loads(pickle.dumps(baseline))
    assert scenario.content_hash == baseline.content_hash
    serial = sim.run(baseline, runs=20_000, seed=4, progress=False)
    parallel = sim.run(baseline, runs=20_000, seed=4, executor="processes", workers=2,
                       chunk_size=10_000, progress=False)
    assert np.array_equal(serial.counts, parallel.counts)


# --------------------------------------------------------------------------- NaN and infinity

@pytest.fixture
def poisoned(monkeypatch, baseline):
    """Make one uncertain parameter's law return NaN in one world."""
    target = f"{TIE}.fuel_import_share"
    dist = baseline.parameters[target].dist
    assert not dist.is_fixed
    original = Distribution.ppf

    def ppf(self, u):
        out = original(self, u)
        if self == dist:
            out = np.array(out, dtype=float)
            out.flat[0] = np.nan
        return out

    monkeypatch.setattr(Distribution, "ppf", ppf)
    return [p for p, par in baseline.parameters.items() if par.dist == dist]


def test_nan_draws_stop_the_run_naming_the_parameter(baseline, poisoned):
    with pytest.raises(NonFiniteError, match="NaN or infinite") as info:
        draw_parameters(baseline, Streams.for_range(1, 0, [1000]))
    assert any(p in str(info.value) for p in poisoned)
    with pytest.raises(NonFiniteError):
        sim.run(baseline, runs=10_000, seed=1, progress=False)
    with pytest.raises(NonFiniteError, match="fuel_import_share"):
        values_from_uniforms(baseline, [f"{TIE}.fuel_import_share"], np.full((4, 1), 0.5))


def test_nan_draws_give_exit_2_and_no_summary(baseline, poisoned, tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "run"
    code = main(["run", str(BASELINE), "--runs", "10000", "--seed", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "NaN or infinite" in err and any(p in err for p in poisoned)
    assert not (out / "summary.json").exists()


def test_a_nan_host_intent_stops_the_run(baseline):
    huge = {f"weights.{n}": 1e308 for n, spec in cat.WEIGHT_PARAMS.items()
            if spec.high == math.inf}
    scenario = baseline.with_values(huge)  # every value finite and within its bounds
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError, match="host's intent"):
        WarrantVisitModel(scenario, Streams.for_range(1, 0, [2000])).run_to_end()
    with np.errstate(all="ignore"), pytest.raises(NonFiniteError, match="host's intent"):
        sim.run(scenario, runs=10_000, seed=1, progress=False)


def test_a_host_intent_that_turns_nan_on_a_later_day_stops_the_run(baseline, monkeypatch):
    from sim.agents import HostGovernment

    original = HostGovernment.weigh

    def weigh(self):
        original(self)
        if self.model.day == 1:
            self.intent = np.where(np.arange(self.intent.size) == 3, np.inf, self.intent)

    monkeypatch.setattr(HostGovernment, "weigh", weigh)
    scenario = baseline.with_values({"timeline.days_before_visit": 3.0})
    with pytest.raises(NonFiniteError, match="host's intent.*day 1"):
        WarrantVisitModel(scenario, Streams.for_range(1, 0, [100])).run_to_end()


# --------------------------------------------------------------------------- sources and ids

@pytest.mark.parametrize("source", [None, "", "   ", [], [""], ["  "], ["ok", ""]])
def test_an_empty_source_is_not_a_source(write_scenario, source):
    def edit(doc):
        doc["actors"]["mongolia"]["params"]["implementing_law"] = {"value": 0.2,
                                                                   "source": source}

    assert "actors.mongolia.params.implementing_law.source" in _paths_of(write_scenario(edit))

    def with_assumption(doc):  # not even beside an assumption: remove the key instead
        doc["actors"]["mongolia"]["params"]["implementing_law"] = {
            "value": 0.2, "source": source, "assumption": "reasoned"}

    assert "actors.mongolia.params.implementing_law.source" in _paths_of(
        write_scenario(with_assumption))


@pytest.mark.parametrize("source", [None, "", "  "])
def test_empty_sources_of_correlations_and_resolutions_are_refused(write_scenario, source):
    def corr(doc):
        doc["correlations"][0].pop("assumption", None)
        doc["correlations"][0]["source"] = source

    assert "correlations.0.source" in _paths_of(write_scenario(corr))

    def resolution(doc):
        doc["resolution"] = {"outcome": "hosted_no_arrest", "date": "2024-09-03",
                             "source": source}

    assert "resolution.source" in _paths_of(write_scenario(resolution))


@pytest.mark.parametrize("bad", ["mongolia_2024\n", "mongolia_2024\n\n", "a" * 65, "x y"])
def test_ids_must_match_in_full(write_scenario, bad):
    assert "id" in _paths_of(write_scenario(lambda doc: doc.update(id=bad)))

    def actor(doc):
        doc["actors"][bad] = doc["actors"].pop("ukraine")

    assert f"actors.{bad}" in _paths_of(write_scenario(actor))


# --------------------------------------------------------------------------- random streams

def _crc32_collision(budget: float = 10.0) -> tuple[str, str]:
    """Two parameter paths with the same CRC32, by a birthday search over random actor ids.

    (Ids that differ only in a few decimal digits never collide: CRC32 catches every error
    burst of up to 32 bits.  Random 12-hex-digit ids do, after ~10^4-10^5 tries.)
    """
    rng = random.Random(0)
    seen: dict[int, str] = {}
    start = time.perf_counter()
    while time.perf_counter() - start < budget:
        for _ in range(10_000):
            key = f"actors.h{rng.getrandbits(48):012x}.params.p"
            crc = zlib.crc32(key.encode())
            if crc in seen and seen[crc] != key:
                return seen[crc], key
            seen[crc] = key
    pytest.fail("no CRC32 collision found within the time budget")


def test_paths_with_equal_crc32_get_different_streams():
    a, b = _crc32_collision()
    assert a != b and zlib.crc32(a.encode()) == zlib.crc32(b.encode())
    streams = Streams.for_range(11, 0, [10_000, 10_000])
    # what keying by CRC32 gave: the same stream, drawn identically (correlation 1)
    old = [np.concatenate([np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        s.entropy, spawn_key=(*s.spawn_key, 1, zlib.crc32(k.encode()))))).standard_normal(n)
        for s, n in zip(streams.seeds, streams.sizes, strict=True)]) for k in (a, b)]
    assert np.array_equal(*old)
    # keyed by a cryptographic hash: different streams, uncorrelated
    assert stream_tag(a) != stream_tag(b)
    x, y = streams.keyed_normal(a), streams.keyed_normal(b)
    assert not np.array_equal(x, y)
    assert abs(np.corrcoef(x, y)[0, 1]) < 0.05  # 20,000 draws: sd of r is 0.007
    # and still a pure function of the seed, the block and the path
    assert np.array_equal(x, Streams.for_range(11, 0, [10_000, 10_000]).keyed_normal(a))
    assert np.array_equal(x[10_000:], Streams.for_range(11, 1, [10_000]).keyed_normal(a))


def test_stream_tags_of_the_shipped_parameters_are_distinct(baseline):
    tags = [stream_tag(p) for p in baseline.parameters]
    assert len(set(tags)) == len(tags)
    assert all(len(t) == 2 and all(0 <= w < 2**32 for w in t) for t in tags)


# --------------------------------------------------------------------------- dates and bases

@pytest.mark.parametrize("key, date, edit", [
    ("forecast_date", "2024-02-30", lambda doc, d: doc.update(forecast_date=d)),
    ("timeline.arrival.value", "2024-09-31",
     lambda doc, d: doc["timeline"]["arrival"].update(value=d)),
    ("resolution.date", "2023-02-29", lambda doc, d: doc.update(resolution={
        "outcome": "hosted_no_arrest", "date": d, "source": "s"})),
])
def test_a_date_that_does_not_exist_is_refused_at_its_key(write_scenario, key, date, edit):
    path = write_scenario(lambda doc: edit(doc, date))
    # written as a YAML date (unquoted), as a user would: it once failed the whole file
    # ("unreadable YAML (day is out of range for month)") without naming the key
    text = path.read_text()
    assert f"'{date}'" in text
    path.write_text(text.replace(f"'{date}'", date))
    problems = _problems(path)
    assert any(f": {key}: " in p and "YYYY-MM-DD" in p for p in problems), problems
    assert not any("YAML" in p for p in problems)


def _counterfactual(path: Path, base: str, cid: str = "cf") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"base: {base}\nid: {cid}\ntitle: t\nrationale: r\noverrides: {{}}\n")
    return path


def test_the_base_chain_limit_says_what_it_enforces(tmp_path):
    (tmp_path / "f0.yaml").write_text(BASELINE.read_text())
    for i in range(1, MAX_BASE_CHAIN + 1):
        _counterfactual(tmp_path / f"f{i}.yaml", f"f{i - 1}.yaml", f"f{i}")
    load_scenario(tmp_path / f"f{MAX_BASE_CHAIN - 1}.yaml")  # 20 files: allowed
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / f"f{MAX_BASE_CHAIN}.yaml")  # 21 files
    (problem,) = info.value.problems
    assert problem.path == "base" and problem.file.endswith("f1.yaml")
    assert problem.value == "f0.yaml"
    assert f"at most {MAX_BASE_CHAIN} scenario files" in problem.expected
    assert f"file {MAX_BASE_CHAIN + 1}" in problem.expected


def test_every_shipped_counterfactual_keeps_its_base():
    for path in sorted((ROOT / "scenarios" / "counterfactuals").glob("*.yaml")):
        assert load_scenario(path).base.endswith("mongolia_2024.yaml")


@pytest.mark.parametrize("base", ["../../../../../../../../etc/passwd", "/etc/passwd",
                                  "../../../outside/secret.yaml", "link.yaml"])
def test_a_base_outside_the_scenario_tree_is_refused_unread(tmp_path, base):
    outside = tmp_path / "outside" / "secret.yaml"
    outside.parent.mkdir()
    outside.write_text("TOP-SECRET-TOKEN: [unclosed\n")
    tree = tmp_path / "project" / "scenarios"
    (tree / "counterfactuals").mkdir(parents=True)
    (tree / "counterfactuals" / "link.yaml").symlink_to(outside)
    cf = _counterfactual(tree / "counterfactuals" / "cf.yaml", base)
    with pytest.raises(ScenarioError) as info:
        load_scenario(cf)
    (problem,) = info.value.problems
    assert problem.path == "base" and problem.file == str(cf)
    assert "inside" in problem.expected and str(tree.resolve()) in problem.expected
    assert "TOP-SECRET" not in str(info.value) and "root:" not in str(info.value)
    if base == "link.yaml":  # and from the command line
        proc = cli("validate", cf)
        assert proc.returncode == 2 and "TOP-SECRET" not in proc.stderr + proc.stdout


def test_a_base_one_level_up_is_inside_the_tree(tmp_path):
    tree = tmp_path / "scenarios"
    tree.mkdir()
    (tree / "base.yaml").write_text(BASELINE.read_text())
    cf = _counterfactual(tree / "counterfactuals" / "cf.yaml", "../base.yaml")
    assert load_scenario(cf).base.endswith("base.yaml")
    # the whole chain stays in the tree of the file given: a chain cannot climb a level
    # per base (twenty bases would reach the root of the disk)
    deep = _counterfactual(tree / "counterfactuals" / "more" / "cf2.yaml", "../cf.yaml", "cf2")
    with pytest.raises(ScenarioError) as info:
        load_scenario(deep)
    (problem,) = info.value.problems
    assert problem.file.endswith("cf.yaml") and problem.value == "../base.yaml"
    far = _counterfactual(tree / "counterfactuals" / "more" / "cf3.yaml", "../../base.yaml",
                          "cf3")
    assert _paths_of(far) == ["base"]


# --------------------------------------------------------------------------- bounded input

@pytest.mark.parametrize("key, path, size", [
    ("title", "title", MAX_TITLE + 1),
    ("description", "description", MAX_TEXT + 1),
])
def test_oversized_texts_are_refused(write_scenario, key, path, size):
    assert path in _paths_of(write_scenario(lambda doc: doc.update({key: "x" * size})))
    load_scenario(write_scenario(lambda doc: doc.update({key: "x" * (size - 1)})))


def test_a_problem_with_a_huge_key_is_shown_in_one_short_line(write_scenario):
    problems = _problems(write_scenario(lambda doc: doc.update({"k" * 100_000: "v" * 100_000})))
    assert problems and all(len(p) < 1000 and "\n" not in p for p in problems)


@pytest.mark.parametrize("meta", ["source", "assumption", "note"])
def test_oversized_sources_assumptions_and_notes_are_refused(write_scenario, meta):
    def edit(doc):
        doc["actors"]["mongolia"]["params"]["implementing_law"] = {
            "value": 0.2, "assumption": "a", meta: "x" * (MAX_TEXT + 1)}

    assert f"actors.mongolia.params.implementing_law.{meta}" in _paths_of(write_scenario(edit))


def test_oversized_actor_names_and_rationales_are_refused(write_scenario, tmp_path):
    def name(doc):
        doc["actors"]["russia"]["name"] = "R" * (MAX_TITLE + 1)

    assert "actors.russia.name" in _paths_of(write_scenario(name))
    base = write_scenario(name="base.yaml")
    cf = tmp_path / "cf.yaml"
    cf.write_text(f"base: {base.name}\nid: cf\ntitle: t\nrationale: {'r' * (MAX_TEXT + 1)}\n")
    assert _paths_of(cf) == ["rationale"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_validate_never_blocks_on_a_fifo_or_a_device(tmp_path):
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    proc = cli("validate", fifo, "/dev/zero", BASELINE, timeout=60)
    assert time.perf_counter() - start < 30
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("not a directory or device") == 2
    # the file checked on the open file itself: a FIFO swapped in after the first look
    # is refused without waiting for a writer
    from sim.scenario import reader

    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(_try(reader._read_regular, fifo)),
                              daemon=True)
    thread.start()
    thread.join(10)
    assert outcome and isinstance(outcome[0], reader._NotRegular)


def _try(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the test looks at which one
        return exc


def test_a_file_longer_than_it_says_is_read_no_further_than_the_limit(monkeypatch, tmp_path):
    from sim.scenario import reader

    path = tmp_path / "grows.yaml"
    path.write_text("a: 1\n" * 100)
    monkeypatch.setattr(reader, "MAX_FILE_BYTES", 50)
    with pytest.raises(reader._TooLarge):
        reader._read_regular(path)
    doc, problems = reader.read_yaml(path)
    assert doc is None and "under 50 bytes" in problems[0].expected
    if Path("/proc/self/status").exists():  # reports 0 bytes, holds more
        doc, problems = reader.read_yaml(Path("/proc/self/status"))
        assert doc is None and problems


def test_yaml_documents_still_load(tmp_path):
    """The loader's custom constructors keep ordinary dates and integers."""
    path = tmp_path / "x.yaml"
    path.write_text("a: 2024-09-02\nb: 12\nc: 0x1f\nd: 1_000\n")
    from sim.scenario import read_yaml

    doc, problems = read_yaml(path)
    assert not problems and doc == {"a": yaml.safe_load("2024-09-02"), "b": 12, "c": 31,
                                    "d": 1000}
