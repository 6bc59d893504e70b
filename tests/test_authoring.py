"""Scenario authoring: ``sim new`` skeletons, TODO markers, source warnings, ``sim explain``
with its one-at-a-time screen, and the walkthrough in docs/writing-scenarios.md."""

from __future__ import annotations

import copy
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim import catalogue as cat
from sim.authoring.explain import flags
from sim.authoring.library import CaseLibrary
from sim.authoring.screen import screen
from sim.cli import main
from sim.distributions import Distribution
from sim.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.validate import file_warnings

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"
CASES = ROOT / "scenarios" / "cases"
DOC = ROOT / "docs" / "writing-scenarios.md"
TIE = "actors.mongolia.ties.russia"


def cli(*args, cwd=ROOT, timeout=120):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def library():
    return CaseLibrary.load(CASES)


def _problems(path) -> list:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def _todo_paths(node, path="") -> list[str]:
    """Key paths of the TODO markers in a document, read independently of the checker."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _todo_paths(v, f"{path}.{k}" if path else k)]
    return [path] if isinstance(node, str) and node.startswith("TODO") else []


def _fill_from(doc: dict, ref: dict | None) -> None:
    """Replace every TODO slot of a skeleton with ``ref``'s node at the same key path; a slot
    ``ref`` leaves out is removed (it takes the catalogue default, as in ``ref``)."""
    for key, node in list(doc.items()):
        found = ref.get(key) if isinstance(ref, dict) else None
        if isinstance(node, dict) and node.get("value") == "TODO":
            if found is None:
                del doc[key]
            else:
                doc[key] = copy.deepcopy(found)
        elif isinstance(node, dict):
            _fill_from(node, found)
        elif node == "TODO":
            doc[key] = found


def _new(tmp_path, *args, name="new.yaml") -> Path:
    out = tmp_path / name
    assert main(["new", *map(str, args), "--out", str(out)]) == 0
    return out


# --------------------------------------------------------------------------- sim new

def test_a_skeleton_fails_validation_until_its_todos_are_filled(tmp_path, capsys):
    path = _new(tmp_path, "caldera_2026", "--host", "Caldera", "--visitor", "Norland")
    doc = yaml.safe_load(path.read_text())
    # every parameter of each role is present, as a TODO slot
    actors = doc["actors"]
    assert {a["role"] for a in actors.values()} == set(cat.ROLES)
    for aid, actor in actors.items():
        assert set(actor["params"]) == set(cat.ROLE_PARAMS[actor["role"]]), aid
    assert set(actors["caldera"]["ties"]["norland"]) == set(cat.TIE_PARAMS)
    todo = _todo_paths(doc)
    assert "actors.caldera.ties.norland.fuel_import_share.value" in todo
    # every marker is refused at its key path, naming the file, and nothing else is reported
    problems = _problems(path)
    assert [p.path for p in problems] == todo
    assert all(p.file == str(path) and "TODO marker" in p.expected for p in problems)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert (f"invalid: {path}: actors.caldera.params.implementing_law.source: got 'TODO'; "
            "expected a citation with its date in place of the TODO marker") in err

    # filled except one slot: that slot alone is refused; filled, it validates
    doc.update(title="Vell in Caldera", description="A test visit.", forecast_date="2026-04-20")
    for key, day in (("arrival", "2026-05-04"), ("departure", "2026-05-06")):
        doc["timeline"][key] = {"value": day, "source": "Forum programme, 2 Apr 2026"}
    for actor in actors.values():
        actor["name"] = "A test actor" if actor["name"] == "TODO" else actor["name"]
        slots = [*actor["params"].items(), *actor.get("ties", {}).get("norland", {}).items()]
        for name, node in slots:
            spec = cat.ROLE_PARAMS[actor["role"]].get(name) or cat.TIE_PARAMS[name]
            node.update(value=max(spec.low, 0.0), source="Test source, 1 Jan 2026")
    actors["caldera"]["params"]["court_independence"] = {"value": "TODO", "source": "TODO"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert [p.path for p in _problems(path)] == [
        "actors.caldera.params.court_independence.value",
        "actors.caldera.params.court_independence.source"]
    actors["caldera"]["params"]["court_independence"] = {"value": 0.5, "assumption": "a test"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert load_scenario(path).id == "caldera_2026"


def test_a_skeleton_of_the_baseline_filled_with_its_values_forecasts_the_same(tmp_path):
    path = _new(tmp_path, "mongolia_copy", "--host", "Mongolia", "--visitor", "Russia",
                "--from", BASELINE)
    assert _problems(path)  # the TODOs first
    base = yaml.safe_load(BASELINE.read_text())
    doc = yaml.safe_load(path.read_text())
    _fill_from(doc, base)
    doc["correlations"] = base["correlations"]
    assert not _todo_paths(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    filled, baseline = load_scenario(path), load_scenario(BASELINE)
    assert {p: par.dist for p, par in filled.parameters.items()} == \
        {p: par.dist for p, par in baseline.parameters.items()}
    a = sim.run(filled, runs=20_000, seed=11)
    b = sim.run(baseline, runs=20_000, seed=11)
    np.testing.assert_array_equal(a.counts, b.counts)


def test_skeleton_comments_give_meaning_bounds_library_scores_and_analogues(tmp_path, library):
    text = _new(tmp_path, "mongolia_copy", "--host", "Mongolia", "--visitor", "Russia",
                "--from", BASELINE).read_text()
    block = text[text.index("        fuel_import_share:"):]
    block = block[:block.index("source: TODO")]
    assert cat.TIE_PARAMS["fuel_import_share"].meaning[:40] in block
    assert "# Bounds: a share in [0, 1]." in block
    assert "Cases: median 0, range 0–0.97 over 28 cases" in block
    assert "highest 0.9–0.97 (p02_putin_mongolia_2024)" in block
    assert "mongolia_2024 (--from): between 0.9 and 0.97, most likely 0.95 (triangular)" in block
    header = text[:text.index("\nid: ")]
    for case in ("p01_putin_south_africa_2023", "p02_putin_mongolia_2024",
                 "p03_putin_brazil_2024_g20", "p05_putin_brazil_2025_brics"):
        assert case in header
    assert "b01_bashir" not in header  # neither the host nor the visitor
    # the library's figures, recomputed from the case files themselves
    values = []
    for f in sorted(CASES.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text())
        host = next(k for k, v in doc["actors"].items() if v["role"] == "host")
        node = next(iter(doc["actors"][host]["ties"].values()))["fuel_import_share"]
        values.append((node.get("value", node.get("low")), node.get("value", node.get("high"))))
    stats = library.stats[("tie", "fuel_import_share")]
    assert stats.cases == len(values) == 28
    assert (stats.low, stats.high) == (min(v[0] for v in values), max(v[1] for v in values))


def test_new_refuses_bad_input_in_one_line(tmp_path, capsys):
    out = tmp_path / "x.yaml"
    out.write_text("keep me")
    for args, message in (
            (["x_2026", "--host", "A", "--visitor", "B", "--out", out], "already exists"),
            (["1x", "--host", "A", "--visitor", "B", "--out", tmp_path / "y.yaml"],
             "is not a scenario id"),
            (["x_2026", "--host", "A", "--out", tmp_path / "y.yaml"], "needs --host"),
            (["x_2026", "--host", "!!", "--visitor", "B", "--out", tmp_path / "y.yaml"],
             "no usable actor id"),
            (["x_2026", "--host", "Chad", "--visitor", "chad", "--out", tmp_path / "y.yaml"],
             "would both be 'chad'")):
        assert main(["new", *map(str, args)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.startswith("error: ") and len(err.splitlines()) == 2
    assert out.read_text() == "keep me" and not (tmp_path / "y.yaml").exists()
    assert main(["new", "x_2026", "--host", "A", "--visitor", "B", "--out", str(out),
                 "--replace"]) == 0
    assert "value: TODO" in out.read_text()


# --------------------------------------------------------------------------- validation

def test_a_todo_marker_in_any_file_is_refused_at_its_key_path(write_scenario, tmp_path):
    path = write_scenario(lambda d: d["actors"]["mongolia"]["params"]["implementing_law"]
                          .update(source="TODO: find the act"))
    (problem,) = _problems(path)
    assert (problem.file, problem.path) == (str(path),
                                            "actors.mongolia.params.implementing_law.source")
    # text that merely mentions TODO is not a marker
    ok = write_scenario(lambda d: d["actors"]["mongolia"]["params"]["implementing_law"]
                        .update(source="The TODO list of the bill (Gazette, 2020)"), name="ok.yaml")
    assert load_scenario(ok)
    # in a counterfactual, the counterfactual is named
    (tmp_path / "scenarios" / "counterfactuals").mkdir(parents=True)
    (tmp_path / "scenarios" / "base.yaml").write_text(BASELINE.read_text())
    cf = tmp_path / "scenarios" / "counterfactuals" / "cf.yaml"
    todo = {"court_independence": {"value": "TODO", "assumption": "to check"}}
    cf.write_text(yaml.safe_dump({"base": "../base.yaml", "id": "cf", "rationale": "a test",
                                  "overrides": {"actors": {"mongolia": {"params": todo}}}}))
    (problem,) = _problems(cf)
    assert (problem.file, problem.path) == (str(cf), "actors.mongolia.params.court_independence"
                                            ".value")


def test_a_bare_url_source_is_warned_about_never_refused(write_scenario, capsys):
    def edit(doc):
        node = doc["actors"]["mongolia"]["ties"]["russia"]["fuel_import_share"]
        node["source"] = [node["source"][0], "https://news.mn/en/797299",
                          "https://www.rte.ie/news/2024/0830/1467490-putin-icc-mongolia"]
    path = write_scenario(edit)
    assert load_scenario(path)  # still valid
    (warning,) = file_warnings(path)
    assert (warning.file, warning.path) == (str(path), f"{TIE}.fuel_import_share.source.1")
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [f"warning: {warning}"]
    assert "bare URL without a date (https://news.mn/en/797299)" in err
    assert file_warnings(BASELINE) == []


def test_a_forecast_date_after_the_arrival_is_refused(write_scenario):
    path = write_scenario(lambda d: d.update(forecast_date="2024-09-05"))
    (problem,) = _problems(path)
    assert problem.path == "timeline.arrival" and "on or after forecast_date" in problem.expected


# --------------------------------------------------------------------------- explain

def test_explain_prints_a_readable_account_with_flags_and_the_top_five(capsys):
    assert main(["explain", str(BASELINE), "--runs", "5000"]) == 0
    out = capsys.readouterr().out
    baseline = load_scenario(BASELINE)
    for actor in baseline.actors:  # every actor, each under its own heading
        assert f"\n{actor.name} ({actor.role.replace('_', ' ')})\n" in out
    assert "  fuel_import_share: between 0.9 and 0.97, most likely 0.95 (triangular)" in out
    assert "Source: Russian Deputy PM Novak, TASS 3 Jul 2024" in out
    assert "  military_exposure: uniform between 0.2 and 0.4   [assumption only]" in out
    assert "10 inputs resting on an assumption alone" in out
    assert "6 inputs not given, taking the catalogue default" in out
    ranked = re.findall(r"^  (\d)\. (.+?), from", out, flags=re.MULTILINE)
    assert [n for n, _ in ranked] == ["1", "2", "3", "4", "5"]
    assert ranked[0][1] == "Russia (Vladimir Putin): visit_value"


def test_the_screen_runs_the_same_worlds_as_a_run(baseline):
    result = screen(baseline, runs=10_000, seed=3)
    run = sim.run(baseline, runs=10_000, seed=3)
    np.testing.assert_array_equal(np.rint(result.base * 10_000), run.counts)
    assert len(result.effects) == 26  # the uncertain inputs, not the weights
    shifts = [e.shift for e in result.effects]
    assert shifts == sorted(shifts, reverse=True)
    top = result.effects[0]
    assert top.path == "actors.russia.params.visit_value"
    cancelled = sim.outcomes.OUTCOMES.index("visit_cancelled")
    # a visit worth more is cancelled less: beyond the paired interval
    assert top.change[cancelled] + top.half_width[cancelled] < 0
    assert np.all(top.half_width > 0) or top.change[2] == 0
    # a fixed input is not screened
    fixed = baseline.with_values({"actors.russia.params.visit_value": 0.5})
    assert "actors.russia.params.visit_value" not in [
        e.path for e in screen(fixed, runs=2_000, seed=3).effects]


def test_flags_find_assumptions_wide_laws_and_values_outside_the_cases(baseline, library):
    found = flags(baseline, library)
    assert "actors.mongolia.params.military_exposure" in found.assumption_only
    assert "actors.mongolia.params.implementing_law" not in found.assumption_only
    assert "actors.mongolia.params.public_position" in found.defaulted
    assert not found.wide and not found.outside
    edited = baseline.with_values({
        "actors.mongolia.params.implementing_law": Distribution("uniform",
                                                                {"low": 0.0, "high": 0.9}),
        f"{TIE}.fuel_import_share": 0.99})
    found = flags(edited, library)
    assert found.wide == ["actors.mongolia.params.implementing_law"]
    assert found.outside == {f"{TIE}.fuel_import_share": "0–0.97"}


# --------------------------------------------------------------------------- the walkthrough

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _doc_steps() -> list[tuple[str, str, str]]:
    """The walkthrough's files (``yaml`` blocks that start ``# file: PATH``) and commands
    (``bash`` blocks), in order; a command's comment may say ``exits N``."""
    steps = []
    for lang, body in FENCE.findall(DOC.read_text()):
        if lang == "yaml" and body.startswith("# file: "):
            steps.append(("file", body.splitlines()[0].removeprefix("# file: ").strip(), body))
        elif lang == "bash":
            for line in body.splitlines():
                command, _, comment = line.partition("#")
                if command.strip():
                    steps.append(("run", command.strip(), comment))
    return steps


def _small(args: list[str]) -> list[str]:
    """The command with few worlds: every --runs lowered (explain's quick screen is kept,
    so that its output can be checked against the page)."""
    return [("2000" if i and args[i - 1] == "--runs" else a) for i, a in enumerate(args)]


@pytest.mark.slow
def test_the_walkthrough_in_the_docs_runs_as_written(tmp_path):
    steps = _doc_steps()
    commands = [s[1].split()[3] for s in steps if s[0] == "run"]
    assert commands == ["new", "validate", "validate", "explain", "run", "compare"]
    doc_text = DOC.read_text()
    for kind, what, extra in steps:
        if kind == "file":
            target = tmp_path / what
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(extra)
            continue
        args = shlex.split(what)
        assert args[:3] == ["python", "-m", "sim"], what
        expected = int(m.group(1)) if (m := re.search(r"exits (\d+)", extra)) else 0
        proc = cli(*_small(args[3:]), cwd=tmp_path, timeout=300)
        assert proc.returncode == expected, (what, proc.stderr)
        assert "Traceback" not in proc.stderr
        if args[3] == "validate" and expected:  # the doc shows the first lines as printed
            shown = [line for line in doc_text.splitlines() if line.startswith("invalid: ")]
            assert shown and proc.stderr.splitlines()[:len(shown)] == shown
        if args[3] == "explain":  # the doc shows the end of the output as printed
            start = doc_text.index("```text\nFlags\n") + len("```text\n")
            shown = doc_text[start:doc_text.index("```", start)]
            assert proc.stdout[proc.stdout.index("Flags\n"):] == shown
    # the warning the doc shows is the one validate prints for such a source
    line = next(x.strip() for x in doc_text.splitlines() if x.strip().startswith("warning: "))
    url = re.search(r"\((https://\S+)\)", line).group(1)
    path = tmp_path / "scenarios" / "caldera_2026.yaml"
    text = path.read_text()
    path.write_text(text.replace(
        'source: "Forum charter, 2019 (fictional): Norland co-chairs the forum"',
        f"source: {url}"))
    proc = cli("validate", "scenarios/caldera_2026.yaml", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr.splitlines() == [line]
