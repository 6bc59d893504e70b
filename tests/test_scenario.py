"""Scenario validation: every kind of bad input is reported with file, key path and value."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.scenario import load_scenario

HOST = "actors.mongolia"
TIE = "actors.mongolia.ties.russia"


def problems_of(path):
    with pytest.raises(sim.ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_baseline_is_valid_and_complete(baseline):
    assert baseline.id == "mongolia_2024"
    assert str(baseline.forecast_date) == "2024-09-02"
    assert baseline.host.id == "mongolia" and baseline.visitor.id == "russia"
    for par in baseline.parameters.values():
        assert par.source or par.assumption, f"{par.path} has neither source nor assumption"


def test_every_problem_is_found_in_one_pass(write_scenario):
    def edit(doc):
        doc["actors"]["mongolia"]["params"]["implementing_law"] = {"value": 1.5, "source": "x"}
        doc["actors"]["russia"]["params"]["visit_value"]["low"] = 0.9  # low > high
        doc["actors"]["icc"]["params"]["engagement"] = {"value": float("nan"), "source": "x"}
        doc["bogus"] = 1

    found = problems_of(write_scenario(edit))
    paths = {p.path for p in found}
    assert f"{HOST}.params.implementing_law" in paths
    assert "actors.russia.params.visit_value.low" in paths
    assert "actors.icc.params.engagement.value" in paths
    assert "bogus" in paths
    assert all(p.file.endswith("scenario.yaml") for p in found)


@pytest.mark.parametrize("edit, path, fragment", [
    (lambda d: d["actors"]["mongolia"]["params"].pop("court_independence"),
     f"{HOST}.params.court_independence", "missing"),
    (lambda d: d["actors"]["mongolia"]["params"].update(extra={"value": 1, "source": "s"}),
     f"{HOST}.params.extra", "no such key"),
    (lambda d: d["timeline"].update(visit_days={"value": "two", "source": "s"}),
     "timeline.visit_days.value", "a number"),
    (lambda d: d["timeline"].update(visit_days={"value": 2.5, "source": "s"}),
     "timeline.visit_days", "whole number"),
    (lambda d: d["timeline"].update(days_before_visit={"value": -3, "source": "s"}),
     "timeline.days_before_visit", "got -3; expected a whole number in [1, 365]"),
    (lambda d: d["actors"]["mongolia"]["ties"]["russia"].update(
        fuel_import_share={"value": 1.2, "source": "s"}),
     f"{TIE}.fuel_import_share", "share in [0, 1]"),
    (lambda d: d["weights"] if False else d.update(weights={"legal": {"value": -1, "source": "s"}}),
     "weights.legal", ">= 0"),
    (lambda d: d["actors"]["mongolia"]["ties"]["russia"].update(
        fuel_import_share={"value": float("inf"), "source": "s"}),
     f"{TIE}.fuel_import_share.value", "finite"),
    (lambda d: d["actors"]["mongolia"]["ties"]["russia"].update(
        fuel_import_share={"dist": "normal", "mean": 0.9, "sd": 0.1, "source": "s"}),
     f"{TIE}.fuel_import_share", "unbounded"),
    (lambda d: d["actors"]["mongolia"]["ties"]["russia"].update(
        fuel_import_share={"dist": "triangular", "low": 0.9, "mode": 0.5, "high": 0.97,
                           "source": "s"}),
     f"{TIE}.fuel_import_share.mode", "low <= mode <= high"),
    (lambda d: d["actors"]["mongolia"]["ties"]["russia"].update(
        fuel_import_share={"dist": "gamma", "k": 1, "source": "s"}),
     f"{TIE}.fuel_import_share.dist", "one of"),
    (lambda d: d["actors"]["mongolia"]["ties"]["russia"].update(
        fuel_import_share={"value": 0.9}),
     f"{TIE}.fuel_import_share.source", "source"),
    (lambda d: d["actors"]["mongolia"]["ties"].update(
        belarus=d["actors"]["mongolia"]["ties"]["russia"]),
     f"{HOST}.ties.belarus", "actor that exists"),
    (lambda d: d["actors"]["russia"].update(role="invader"),
     "actors.russia.role", "one of"),
    (lambda d: d["actors"].pop("icc"), "actors", "exactly one actor with role 'court'"),
    (lambda d: d.update(forecast_date="2nd of September"), "forecast_date", "YYYY-MM-DD"),
    (lambda d: d["correlations"][0].update(rho=1.5), "correlations.0.rho", "between -1 and 1"),
    (lambda d: d["correlations"][0]["between"].__setitem__(1, "actors.nope.params.x"),
     "correlations.0.between", "key path"),
])
def test_each_kind_of_bad_value_is_named(write_scenario, edit, path, fragment):
    found = problems_of(write_scenario(edit))
    assert any(p.path == path and fragment in str(p) for p in found), [str(p) for p in found]


@pytest.mark.parametrize("content, fragment", [
    ("id: [unclosed", "invalid YAML at line 1"),
    ("", "an empty file"),
    ("- just\n- a list\n", "mapping"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "UTF-8"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"b{i}: &b{i} [*{'a' if i == 0 else f'b{i-1}'}, *{'a' if i == 0 else f'b{i-1}'}]\n"
        for i in range(60)), "aliases"),
])
def test_unreadable_files_are_reported_not_raised(tmp_path, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    found = problems_of(path)
    assert len(found) == 1 and fragment in str(found[0]) and "bad.yaml" in str(found[0])


def test_a_folder_or_missing_path_is_not_a_file(tmp_path):
    assert "a file, not a directory" in str(problems_of(tmp_path)[0])
    assert "an existing file" in str(problems_of(tmp_path / "nope.yaml")[0])


def test_yaml_tags_that_construct_objects_are_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("id: !!python/object/apply:os.system ['echo pwned']\n")
    assert "invalid YAML" in str(problems_of(path)[0])


def test_counterfactual_overrides_only_what_it_names(tmp_path, baseline):
    cf = tmp_path / "cf.yaml"
    (tmp_path / "base.yaml").write_text(Path(baseline.file).read_text())
    cf.write_text(
        "base: base.yaml\nid: cf\ntitle: Pipeline signed\nrationale: because\n"
        "overrides:\n  actors:\n    mongolia:\n      ties:\n        russia:\n"
        "          pipeline_prospect: {value: 0.9, assumption: signed}\n")
    s = load_scenario(cf)
    assert s.id == "cf" and s.base.endswith("base.yaml")
    assert s.changes == ("actors.mongolia.ties.russia.pipeline_prospect",)
    assert s.value("actors.mongolia.ties.russia.pipeline_prospect") == 0.9
    others = [p for p in s.parameters if p != "actors.mongolia.ties.russia.pipeline_prospect"]
    assert all(s.parameters[p] == baseline.parameters[p] for p in others)


def test_counterfactual_problems_name_the_counterfactual_file(tmp_path, baseline):
    (tmp_path / "base.yaml").write_text(Path(baseline.file).read_text())
    cf = tmp_path / "cf.yaml"
    cf.write_text("base: base.yaml\nid: cf\ntitle: t\nrationale: r\noverrides:\n  actors:\n"
                  "    mongolia:\n      params:\n        implementing_law: {value: 7, source: s}\n")
    (problem,) = problems_of(cf)
    assert problem.file.endswith("cf.yaml") and problem.path.endswith("implementing_law")


def test_missing_and_circular_bases(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("base: b.yaml\nid: a\ntitle: a\nrationale: r\noverrides: {}\n")
    b.write_text("base: a.yaml\nid: b\ntitle: b\nrationale: r\noverrides: {}\n")
    assert "loop" in str(problems_of(a)[0])
    c = tmp_path / "c.yaml"
    c.write_text("base: gone.yaml\nid: c\ntitle: c\nrationale: r\noverrides: {}\n")
    (problem,) = problems_of(c)
    assert problem.file.endswith("c.yaml") and problem.path == "base"


def test_counterfactual_may_not_repeat_base_keys(tmp_path, baseline):
    (tmp_path / "base.yaml").write_text(Path(baseline.file).read_text())
    cf = tmp_path / "cf.yaml"
    cf.write_text("base: base.yaml\nid: cf\ntitle: t\nrationale: r\nforecast_date: 2024-01-01\n")
    assert any(p.path == "forecast_date" for p in problems_of(cf))


def test_with_values_checks_bounds_and_records_changes(baseline):
    path = "actors.mongolia.ties.russia.fuel_import_share"
    changed = baseline.with_values({path: 0.5})
    assert changed.value(path) == 0.5 and path in changed.changes
    assert changed.content_hash != baseline.content_hash
    with pytest.raises(sim.ScenarioError, match="share in"):
        baseline.with_values({path: 1.5})
    with pytest.raises(sim.ScenarioError, match="numeric parameter"):
        baseline.with_values({"actors.nobody.params.x": 0.5})
