"""Scenario validation: every kind of bad input is reported with file, key path and value."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

import sim
from sim import catalogue as cat
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
     "timeline.days_before_visit", "got -3; expected a whole number in [0, 365]"),
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


# --------------------------------------------------------------------------- timeline as dates
# The baseline's forecast date is 2024-09-02 (day 0).

def _date(day, key="source", text="a dated report"):
    return {"value": day, key: text}


def _with_timeline(write_scenario, **timeline):
    """The baseline with its timeline replaced by ``timeline`` (None values dropped)."""

    def edit(doc):
        doc["timeline"] = {k: v for k, v in timeline.items() if v is not None}

    return write_scenario(edit)


def _count(n, text="a count"):
    return {"value": n, "source": text}


def _problems(path, weights):
    with pytest.raises(sim.ScenarioError) as info:
        load_scenario(path, weights=weights)
    return info.value.problems


@pytest.mark.parametrize("arrival, departure", [
    (dt.date(2024, 9, 4), dt.date(2024, 9, 6)),  # YAML dates
    ("2024-09-04", "2024-09-06"),                # ISO text
])
def test_a_timeline_of_dates_only(write_scenario, v2_weights, arrival, departure):
    path = _with_timeline(write_scenario, arrival=_date(arrival, text="Kremlin, 30 Aug"),
                          departure=_date(departure, "assumption", "leaves after the parade"))
    s = load_scenario(path, weights=v2_weights)
    assert (s.days_before_visit, s.visit_days, s.days_before_commitment) == (2, 3, 2)
    assert dict(s.timeline_dates) == {"arrival": dt.date(2024, 9, 4),
                                      "departure": dt.date(2024, 9, 6),
                                      "commitment": dt.date(2024, 9, 4)}
    arrive = s.parameters["timeline.days_before_visit"]
    assert arrive.source == ("from timeline.arrival: Kremlin, 30 Aug",)
    assert not arrive.uncertain and arrive.dist.args == {"value": 2.0}
    length = s.parameters["timeline.visit_days"]
    assert "from timeline.arrival: Kremlin, 30 Aug" in length.source
    assert length.assumption == "from timeline.departure: leaves after the parade"


def test_dates_written_in_yaml_load(tmp_path, baseline_doc, v2_weights):
    """The documented syntax, as a user types it (YAML reads the date itself)."""
    doc = dict(baseline_doc)
    del doc["timeline"]
    text = yaml.safe_dump(doc, sort_keys=False) + (
        "timeline:\n"
        "  arrival: {value: 2024-09-02, source: \"TASS, arrival on the evening of 2 Sep\"}\n"
        "  departure: {value: 2024-09-03, source: \"TASS\"}\n"
        "  commitment: {value: 2024-08-30, assumption: \"committed when announced\"}\n")
    path = tmp_path / "dated.yaml"
    path.write_text(text)
    s = load_scenario(path, weights=v2_weights)
    assert (s.days_before_visit, s.visit_days, s.days_before_commitment) == (0, 2, 0)
    # a commitment before the forecast date: already committed, day 0, the date kept as given
    assert s.timeline_dates["commitment"] == dt.date(2024, 8, 30)
    assert "already committed" in s.parameters["timeline.days_before_commitment"].assumption


def test_a_timeline_of_counts_only(write_scenario, v2_weights):
    s = load_scenario(_with_timeline(write_scenario, days_before_visit=_count(3),
                                     visit_days=_count(2)), weights=v2_weights)
    assert (s.days_before_visit, s.visit_days, s.days_before_commitment) == (3, 2, 3)
    assert dict(s.timeline_dates) == {"arrival": dt.date(2024, 9, 5),
                                      "departure": dt.date(2024, 9, 6),
                                      "commitment": dt.date(2024, 9, 5)}
    assert s.parameters["timeline.days_before_visit"].source == ("a count",)


def test_counts_and_dates_that_agree(write_scenario, v2_weights):
    s = load_scenario(_with_timeline(
        write_scenario, days_before_visit=_count(3, "count source"), visit_days=_count(2),
        days_before_commitment=_count(1), arrival=_date("2024-09-05"),
        departure=_date("2024-09-06"), commitment=_date("2024-09-03")), weights=v2_weights)
    assert (s.days_before_visit, s.visit_days, s.days_before_commitment) == (3, 2, 1)
    assert s.parameters["timeline.days_before_visit"].source == ("count source",)


@pytest.mark.parametrize("timeline, path, fragments", [
    ({"days_before_visit": _count(3), "visit_days": _count(2), "arrival": _date("2024-09-02")},
     "timeline.days_before_visit",
     ["timeline.days_before_visit: got 3", "timeline.arrival 2024-09-02 is 0 days after "
      "forecast_date 2024-09-02"]),
    ({"days_before_visit": _count(3), "visit_days": _count(2), "arrival": _date("2024-09-05"),
      "departure": _date("2024-09-09")},
     "timeline.visit_days",
     ["timeline.visit_days: got 2", "timeline.arrival 2024-09-05 to timeline.departure "
      "2024-09-09 is 5 days"]),
    ({"days_before_visit": _count(3), "visit_days": _count(2), "days_before_commitment":
      _count(2), "commitment": _date("2024-09-03")},
     "timeline.days_before_commitment",
     ["timeline.days_before_commitment: got 2", "timeline.commitment 2024-09-03 is 1 days"]),
])
def test_counts_and_dates_that_disagree_name_both(write_scenario, v2_weights, timeline, path,
                                                   fragments):
    (problem,) = _problems(_with_timeline(write_scenario, **timeline), v2_weights)
    assert problem.path == path and problem.file.endswith("scenario.yaml")
    for fragment in fragments:
        assert fragment in str(problem), str(problem)


@pytest.mark.parametrize("timeline, path, fragment", [
    ({"arrival": _date("2024-09-05"), "departure": _date("2024-09-04")},
     "timeline.departure", "got '2024-09-04'; expected a date on or after the arrival 2024-09-05"),
    ({"arrival": _date("2024-09-01"), "visit_days": _count(2)},
     "timeline.arrival", "got '2024-09-01'; expected a date on or after forecast_date 2024-09-02"),
    ({"arrival": _date("2024-09-05"), "visit_days": _count(2), "commitment": _date("2024-09-06")},
     "timeline.commitment", "expected a date on or before the arrival 2024-09-05"),
    ({"days_before_visit": _count(3), "visit_days": _count(2),
      "days_before_commitment": _count(4)},
     "timeline.days_before_commitment", "got 4; expected a whole number at most "
                                        "timeline.days_before_visit (3)"),
    ({"arrival": _date("2024-09-05")}, "timeline.departure",
     "missing; expected the departure date to go with timeline.arrival (or the count "
     "timeline.visit_days)"),
    ({"departure": _date("2024-09-05")}, "timeline.arrival",
     "missing; expected the arrival date to go with timeline.departure"),
    ({"visit_days": _count(2)}, "timeline.days_before_visit",
     "missing; expected this key (days from forecast_date to the arrival), or the date "
     "timeline.arrival"),
    ({"arrival": _date("2025-09-05"), "visit_days": _count(2)}, "timeline.arrival",
     "timeline.days_before_visit would be 368; expected a whole number in [0, 365]"),
    ({"arrival": _date("2024-09-05"), "departure": _date("2024-12-05")}, "timeline.departure",
     "timeline.visit_days would be 92; expected a whole number in [1, 60]"),
    ({"arrival": {"value": "2024-09-05"}, "visit_days": _count(2)}, "timeline.arrival.source",
     "a source for this date"),
    ({"arrival": {"value": "5 Sep", "source": "s"}, "visit_days": _count(2)},
     "timeline.arrival.value", "YYYY-MM-DD"),
    ({"arrival": {"dist": "uniform", "low": 1, "high": 2, "source": "s"}, "visit_days": _count(2)},
     "timeline.arrival.dist", "never uncertain"),
    ({"arrival": "2024-09-05", "visit_days": _count(2)}, "timeline.arrival",
     "{value: 2024-09-02, source: ...}"),
])
def test_impossible_timelines_are_named(write_scenario, v2_weights, timeline, path, fragment):
    found = _problems(_with_timeline(write_scenario, **timeline), v2_weights)
    assert any(p.path == path and fragment in str(p) for p in found), [str(p) for p in found]


def test_a_counterfactual_may_override_timeline_dates(tmp_path, baseline_doc, v2_weights):
    base = tmp_path / "base.yaml"
    doc = dict(baseline_doc)
    doc["timeline"] = {"arrival": _date("2024-09-05"), "departure": _date("2024-09-06")}
    base.write_text(yaml.safe_dump(doc, sort_keys=False))
    cf = tmp_path / "cf.yaml"
    cf.write_text("base: base.yaml\nid: cf\ntitle: t\nrationale: r\noverrides:\n  timeline:\n"
                  "    arrival: {value: 2024-09-04, assumption: a day earlier}\n")
    s, b = load_scenario(cf, weights=v2_weights), load_scenario(base, weights=v2_weights)
    assert (s.days_before_visit, s.visit_days, s.days_before_commitment) == (2, 3, 2)
    # changes name parameters (the counts the date moves), never the date itself
    assert s.changes == ("timeline.days_before_commitment", "timeline.days_before_visit",
                         "timeline.visit_days")
    assert all(path in s.parameters for path in s.changes)
    assert s.content_hash != b.content_hash
    # a count in the base beside the overridden date must agree with it: the problem names
    # the counterfactual, which can remove the count with null
    doc["timeline"]["days_before_visit"] = _count(3)
    base.write_text(yaml.safe_dump(doc, sort_keys=False))
    (problem,) = _problems(cf, v2_weights)
    assert problem.file.endswith("cf.yaml") and problem.path == "timeline.days_before_visit"
    assert "remove the other with null" in problem.expected
    cf.write_text(cf.read_text() + "    days_before_visit: null\n")
    assert load_scenario(cf, weights=v2_weights).days_before_visit == 2


def test_the_content_hash_follows_the_timeline_dates(write_scenario, v2_weights):
    def load(commitment):
        return load_scenario(_with_timeline(
            write_scenario, arrival=_date("2024-09-05"), departure=_date("2024-09-06"),
            commitment=_date(commitment)), weights=v2_weights)

    # both before the forecast date: the same counts (0), but not the same scenario
    a, b = load("2024-08-30"), load("2024-08-29")
    assert a.days_before_commitment == b.days_before_commitment == 0
    assert a.content_hash != b.content_hash
    assert load("2024-08-30").content_hash == a.content_hash


def test_with_values_on_timeline_counts(write_scenario, v2_weights):
    s = load_scenario(_with_timeline(write_scenario, days_before_visit=_count(5),
                                     visit_days=_count(2)), weights=v2_weights)
    longer = s.with_values({"timeline.visit_days": 10})
    assert longer.visit_days == 10 and longer.timeline_dates["departure"] == dt.date(2024, 9, 16)
    assert "timeline.visit_days" in longer.changes
    assert longer.content_hash != s.content_hash
    # a commitment left out is the arrival day, and follows it
    earlier = s.with_values({"timeline.days_before_visit": 2})
    assert earlier.days_before_commitment == 2
    assert earlier.timeline_dates["commitment"] == dt.date(2024, 9, 4)
    assert s.with_values({"timeline.days_before_visit": 9}).days_before_commitment == 9
    # a commitment that was set stays, unless the arrival moves before it: then it is clamped
    committed = s.with_values({"timeline.days_before_commitment": 3})
    assert committed.with_values({"timeline.days_before_visit": 9}).days_before_commitment == 3
    clamped = committed.with_values({"timeline.days_before_visit": 1})
    assert clamped.days_before_commitment == 1
    assert "clamped" in clamped.parameters["timeline.days_before_commitment"].assumption
    # a commitment set after the arrival is an error, as in a file
    with pytest.raises(sim.ScenarioError, match="at most timeline.days_before_visit"):
        s.with_values({"timeline.days_before_commitment": 6})
    with pytest.raises(sim.ScenarioError, match="whole number"):
        s.with_values({"timeline.visit_days": 2.5})


# --------------------------------------------------------------------------- catalogue defaults

def test_a_parameter_left_out_takes_its_catalogue_default(write_scenario, v2_weights):
    def edit(doc):
        doc["actors"]["mongolia"]["params"].pop("public_position", None)
        doc["actors"]["mongolia"]["ties"]["russia"].pop("supply_cutoff_threat", None)
        for actor in doc["actors"].values():
            actor["params"].pop("icc_stance", None)

    s = load_scenario(write_scenario(edit), weights=v2_weights)
    par = s.parameters["actors.mongolia.params.public_position"]
    assert par.dist.args == {"value": 0.0} and not par.uncertain and par.defaulted
    assert par.assumption.startswith("catalogue default (") and not par.source
    tie = s.parameters["actors.mongolia.ties.russia.supply_cutoff_threat"]
    assert tie.defaulted and tie.dist.args == {"value": 0.0}
    # each actor of a role gets its role's default
    stances = {a.role: s.value(f"actors.{a.id}.params.icc_stance")
               for role in (cat.WESTERN, cat.PARTNER) for a in s.with_role(role)}
    assert stances == {cat.WESTERN: 1.0, cat.PARTNER: -1.0}


def test_a_parameter_given_overrides_its_default(write_scenario, v2_weights):
    def edit(doc):
        doc["actors"]["mongolia"]["params"]["public_position"] = {
            "value": -1, "source": "declared immune"}

    s = load_scenario(write_scenario(edit), weights=v2_weights)
    par = s.parameters["actors.mongolia.params.public_position"]
    assert par.dist.args == {"value": -1.0} and not par.defaulted
    assert par.source == ("declared immune",)


def test_a_signed_parameter_is_bounded(write_scenario, v2_weights):
    def edit(doc):
        doc["actors"]["mongolia"]["params"]["public_position"] = {"value": -1.5, "source": "s"}

    (problem,) = _problems(write_scenario(edit), v2_weights)
    assert problem.path == "actors.mongolia.params.public_position"
    assert "signed score in [-1, 1]" in str(problem)


# --------------------------------------------------------------------------- retired weights

@pytest.mark.parametrize("name", sorted(cat.RETIRED_WEIGHTS))
def test_a_retired_weight_in_a_weights_file_is_refused(tmp_path, v2_weights, name):
    doc = yaml.safe_load(v2_weights.read_text())
    doc["weights"][name] = {"value": 0.3, "assumption": "from version 1"}
    weights = tmp_path / "old_weights.yaml"
    weights.write_text(yaml.safe_dump(doc))
    (problem,) = _problems(ROOT / "scenarios" / "mongolia_2024.yaml", weights)
    assert problem.file == str(weights) and problem.path == f"weights.{name}"
    assert cat.RETIRED_WEIGHTS[name] in problem.expected and "retired" in problem.expected


def test_a_retired_weight_in_a_scenario_is_refused(write_scenario, v2_weights):
    def edit(doc):
        doc["weights"] = {"stance_noise": {"value": 0.3, "assumption": "a"},
                          "legal": {"value": 4.0, "assumption": "a"}}

    (problem,) = _problems(write_scenario(edit), v2_weights)
    assert problem.path == "weights.stance_noise"
    assert cat.RETIRED_WEIGHTS["stance_noise"] in str(problem)


def test_a_weights_file_must_still_give_every_weight(tmp_path, v2_weights):
    doc = yaml.safe_load(v2_weights.read_text())
    del doc["weights"]["neutrality"]
    doc.pop("correlations", None)  # they may name the weight removed
    weights = tmp_path / "short.yaml"
    weights.write_text(yaml.safe_dump(doc))
    (problem,) = _problems(ROOT / "scenarios" / "mongolia_2024.yaml", weights)
    assert problem.path == "weights.neutrality" and "missing" in str(problem)


# --------------------------------------------------------------------------- command line

def test_validate_prints_problems_and_exits_2(write_scenario):
    path = _with_timeline(write_scenario, days_before_visit=_count(3), visit_days=_count(2),
                          arrival=_date("2024-09-02"))
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert (f"invalid: {path}: timeline.days_before_visit: got 3; expected the count the dates "
            "give: timeline.arrival 2024-09-02 is 0 days after forecast_date 2024-09-02"
            in proc.stderr), proc.stderr
