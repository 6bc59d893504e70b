"""The agent-based model (v2): one model over many worlds, and the invariants of its design.

Each rule "change one thing, this must (not) move" is a metamorphic test on paired worlds
(the same seed, so common random numbers), with tolerances from the Monte Carlo error.
The first block reruns the table of the model-v2 issue on the Mongolia 2024 baseline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim import catalogue as cat
from sim.analysis.compare import Z95, compare
from sim.model import WarrantVisitModel
from sim.outcomes import ARREST, CANCELLED, HOSTED, LEFT_EARLY, OUTCOMES, PENDING
from sim.results import wilson_interval
from sim.streams import Streams

HOST = "actors.mongolia.params."
TIE = "actors.mongolia.ties.russia."
FUEL = TIE + "fuel_import_share"
ELECTRICITY = TIE + "electricity_import_share"
LITIGATION = "actors.civil_society.params.litigation_capacity"
PETITION = "actors.civil_society.params.petition_pending"
INDEPENDENCE = HOST + "court_independence"
#: Three paired standard errors either way: a false alarm in about 1 run in 400 per check.
Z = 3.0


def one_world(scenario, seed):
    return WarrantVisitModel(scenario, Streams.for_range(seed, 0, [1]))


def worlds(scenario, n=20_000, seed=1):
    return WarrantVisitModel(scenario, Streams.for_range(seed, 0, [n]))


def paired(base, other, runs=100_000, seed=5):
    """Difference other - base per outcome on the same worlds: (estimate, standard error)."""
    c = compare(base, [other], runs=runs, seed=seed)
    d, lo, hi = c.differences[1].T
    return c, d, (hi - lo) / (2 * Z95)


def no_news(scenario):
    """The scenario with nothing new to happen: no campaign escalates, no one litigates."""
    return scenario.with_values({p: 0.0 for p in scenario.parameters
                                 if p.endswith((".escalation", ".litigation_capacity"))})


def null_host(scenario):
    """No legal duty, no ties and no pressure of any kind (the visitor keeps its own values)."""
    keep = (".icc_stance", ".visit_value", ".warrant_awareness")
    zero = {p: 0.0 for p in scenario.parameters if p.startswith("actors.")
            and not p.endswith(keep) and not p.startswith(f"actors.{scenario.visitor.id}.")}
    return scenario.with_values(zero)


# --------------------------------------------------------------------------- one world, R worlds

def test_one_world_trace_is_reproducible_step_by_step(baseline):
    a, b = one_world(baseline, 7), one_world(baseline, 7)
    while a.running:
        a.step()
        b.step()
        assert a.host.intent == pytest.approx(b.host.intent)
    ta = a.datacollector.get_model_vars_dataframe()
    tb = b.datacollector.get_model_vars_dataframe()
    assert ta.equals(tb)
    assert len(ta) == baseline.days_before_visit + baseline.visit_days + 1
    assert {"intent", "perceived_risk", "drive_energy", "drive_legal"} <= set(ta.columns)
    assert a.outcome[0] in (ARREST, HOSTED, LEFT_EARLY, CANCELLED)


def test_one_world_is_a_slice_of_the_same_code_path(baseline):
    """R = 1 and R = 10,000 share one code path: world outcomes are always defined."""
    many = worlds(baseline, 10_000, seed=3).run_to_end()
    assert (many.outcome != PENDING).all()
    assert many.host.intent.shape == (10_000,)


# --------------------------------------------------------------------------- the table

def test_null_host_has_no_reason_to_act(baseline):
    """No duty, no pressure, no action: the intent is exactly 0, so nobody arrests or
    stays away (done-when: P(arrest) <= 0.005 and P(cancelled) <= 0.01)."""
    s = null_host(baseline)
    model = worlds(s, 20_000)
    assert (model.host.intent == 0).all()
    r = sim.run(s, runs=50_000, seed=2, progress=False)
    assert wilson_interval(r.counts[ARREST], r.runs)[1] <= 0.005
    assert wilson_interval(r.counts[CANCELLED], r.runs)[1] <= 0.01


def test_a_longer_visit_does_not_multiply_the_chance_of_arrest(baseline):
    """Visit of 1 vs 10 days: P(arrest) changes by less than 25% relative (done-when)."""
    short = baseline.with_values({"timeline.visit_days": 1})
    long = baseline.with_values({"timeline.visit_days": 10})
    c, d, se = paired(short, long, runs=100_000)
    p1 = c.results[0].probabilities["arrest_surrender"]
    assert p1 > 0
    assert abs(d[ARREST]) + Z * se[ARREST] < 0.25 * p1, (p1, d[ARREST], se[ARREST])


def test_with_nothing_new_the_calendar_changes_nothing(baseline):
    """The host decides once: with nothing new, a 10-day stay gives exactly the arrests of a
    1-day stay, and a 30-day build-up exactly the cancellations of a 1-day one."""
    quiet = no_news(baseline)
    a = sim.run(quiet.with_values({"timeline.visit_days": 1}), runs=20_000, seed=4,
                progress=False)
    b = sim.run(quiet.with_values({"timeline.visit_days": 10}), runs=20_000, seed=4,
                progress=False)
    assert a.counts[ARREST] == b.counts[ARREST]
    a = sim.run(quiet.with_values({"timeline.days_before_visit": 1}), runs=20_000, seed=4,
                progress=False)
    b = sim.run(quiet.with_values({"timeline.days_before_visit": 30}), runs=20_000, seed=4,
                progress=False)
    assert abs(a.probabilities["visit_cancelled"] - b.probabilities["visit_cancelled"]) <= 0.01
    assert (a.counts == b.counts).all()


def test_build_up_length_with_escalation_and_litigation_off(baseline):
    """Done-when: build-up 1 -> 30 days, escalation rates and litigation capacity at 0:
    P(cancelled) moves by at most 0.01."""
    quiet = no_news(baseline)
    _, d, se = paired(quiet.with_values({"timeline.days_before_visit": 1}),
                      quiet.with_values({"timeline.days_before_visit": 30}), runs=50_000)
    assert abs(d[CANCELLED]) + Z * se[CANCELLED] <= 0.01


def test_without_news_nobody_leaves_early(baseline):
    """Done-when: no litigation and no escalation: P(left early) <= 0.002."""
    r = sim.run(no_news(baseline), runs=50_000, seed=6, progress=False)
    assert wilson_interval(r.counts[LEFT_EARLY], r.runs)[1] <= 0.002


def test_leaving_on_the_last_scheduled_day_is_not_leaving_early(baseline):
    """A one-day visit cannot end early, even when a court orders the arrest that day."""
    s = baseline.with_values({"timeline.visit_days": 1, "timeline.days_before_visit": 1,
                              PETITION: 1.0, INDEPENDENCE: 1.0, "weights.order_rate": 1.0})
    r = sim.run(s, runs=20_000, seed=6, progress=False)
    assert r.counts[LEFT_EARLY] == 0


def test_the_forecast_starts_at_the_forecast_date(baseline):
    """The baseline is forecast on 2 Sep 2024, the day of arrival; with nothing new,
    every cancellation is decided on the forecast date itself."""
    assert baseline.forecast_date.isoformat() == "2024-09-02"
    assert baseline.days_before_visit == 0 and baseline.visit_days == 2
    quiet = no_news(baseline).with_values({"timeline.days_before_visit": 10})
    model = worlds(quiet, 20_000)
    model.step()
    first_day = (model.outcome == CANCELLED).sum()
    model.run_to_end()
    assert first_day > 0
    assert (model.outcome == CANCELLED).sum() == first_day


def test_a_pending_petition_never_lowers_arrest_as_courts_become_independent(baseline):
    """Done-when: with a petition pending, P(arrest) is non-decreasing in the independence
    of the courts that would hear it (each step within Z paired standard errors)."""
    levels = [0.0, 0.5, 1.0]
    scenarios = [baseline.with_values({PETITION: 1.0, INDEPENDENCE: x}) for x in levels]
    for low, high in zip(scenarios, scenarios[1:], strict=False):
        _, d, se = paired(low, high, runs=60_000)
        assert d[ARREST] >= -Z * se[ARREST], (d[ARREST], se[ARREST])


def test_a_captured_court_makes_a_petition_irrelevant(baseline):
    """A petition matters as much as the courts that would hear it are independent."""
    captured = baseline.with_values({INDEPENDENCE: 0.0})
    a = worlds(captured)
    b = worlds(captured.with_values({PETITION: 1.0}))
    assert np.array_equal(a.host.intent, b.host.intent)


def test_neutrality_has_its_own_weight(baseline):
    """Mongolia has no regional non-cooperation call, so the regional weight cannot move it;
    the neutrality weight does."""
    # every weight changed is fixed on both sides, so the other weights' draws are shared
    base = worlds(baseline.with_values({"weights.neutrality": 1.0, "weights.regional": 5.0}))
    regional = worlds(baseline.with_values({"weights.neutrality": 1.0, "weights.regional": 50.0}))
    neutral = worlds(baseline.with_values({"weights.neutrality": 50.0, "weights.regional": 5.0}))
    assert np.array_equal(base.host.intent, regional.host.intent)
    assert (neutral.host.intent <= base.host.intent).all()
    assert (neutral.host.intent < base.host.intent).mean() > 0.9


def test_a_cutoff_threat_bites_through_energy_dependence(baseline):
    """Without dependence, a threat to cut supply changes nothing; with it, the intent falls."""
    free = baseline.with_values({FUEL: 0.0, ELECTRICITY: 0.0})
    a = worlds(free)
    b = worlds(free.with_values({TIE + "supply_cutoff_threat": 1.0}))
    assert np.array_equal(a.host.intent, b.host.intent)
    a = worlds(baseline)
    b = worlds(baseline.with_values({TIE + "supply_cutoff_threat": 1.0}))
    assert (b.host.intent <= a.host.intent).all()
    assert (b.host.intent < a.host.intent).mean() > 0.9


def test_a_court_order_raises_the_hosts_real_chance_and_the_visitors_fear_alike(baseline):
    """One quantity: with a perfect reader, the visitor's fear is the host's chance of
    arresting, with and without a court order; an order raises it by its obedience."""
    s = baseline.with_values({"weights.perception_sd": 0.0})
    m = worlds(s)
    assert np.allclose(m.visitor.risk(m.host.intent, m.court_order), m.host.arrest_chance)
    for actor in m.domestic:
        actor.order[:] = True
    chance = m.host.arrest_chance
    assert np.allclose(m.visitor.risk(m.host.intent, m.court_order), chance)
    expected = m.host.intent + m.obedience * (1 - m.host.intent)
    assert np.allclose(chance, expected)


def test_signs_are_data(baseline_doc, write_scenario):
    """A Western actor hostile to the Court and a public promise not to arrest can be written."""
    def edit(doc):
        doc["actors"]["united_states"]["params"]["icc_stance"] = {
            "value": -1.0, "assumption": "test: hostile to the Court"}
        doc["actors"]["mongolia"]["params"]["public_position"] = {
            "value": -1.0, "assumption": "test: promised not to arrest"}
    s = sim.load_scenario(write_scenario(edit))
    assert s.value("actors.united_states.params.icc_stance") == -1.0
    assert s.value("actors.mongolia.params.public_position") == -1.0


# --------------------------------------------------------------------------- named drivers

def unread(scenario):
    """The scenario with a visitor that does not read the arrest risk (it always comes), so
    that P(arrest) is the host's decision alone.  A visitor that reads the risk avoids hosts
    likely to arrest, so the unconditional P(arrest) can move against a drive's direction:
    docs/MODEL.md, "Strategic selection"."""
    return scenario.with_values({f"actors.{scenario.visitor.id}.params.warrant_awareness": 0.0})


def test_more_energy_dependence_never_raises_the_hosts_arrests(baseline):
    levels = [0.0, 0.5, 1.0]
    for low, high in zip(levels, levels[1:], strict=False):
        _, d, se = paired(unread(baseline.with_values({FUEL: low, ELECTRICITY: 0.1})),
                          unread(baseline.with_values({FUEL: high, ELECTRICITY: 0.1})),
                          runs=50_000)
        assert d[ARREST] < -Z * se[ARREST], (low, high, d[ARREST], se[ARREST])


def test_energy_dependence_lowers_the_hosts_intent_in_every_world(baseline):
    model = {f: worlds(baseline.with_values({FUEL: f, ELECTRICITY: 0.1}), 5_000)
             for f in (0.3, 0.6, 0.95)}
    assert (model[0.6].host.intent <= model[0.3].host.intent).all()
    assert (model[0.95].host.intent <= model[0.6].host.intent).all()


def _western(scenario, stance):
    values = {}
    for actor in scenario.with_role(cat.WESTERN):
        values[f"actors.{actor.id}.params.conditionality"] = 0.8
        values[f"actors.{actor.id}.params.icc_stance"] = stance
    return scenario.with_values(values)


def test_western_conditionality_brings_arrest_or_cancellation(baseline):
    _, d, se = paired(baseline, _western(baseline, 1.0), runs=50_000)
    both = d[ARREST] + d[CANCELLED]
    assert both > Z * np.hypot(se[ARREST], se[CANCELLED])


def test_a_hostile_western_stance_lowers_arrest(baseline):
    _, d, se = paired(unread(_western(baseline, 1.0)), unread(_western(baseline, -1.0)),
                      runs=50_000)
    assert d[ARREST] < -Z * se[ARREST]
    friendly, hostile = worlds(_western(baseline, 1.0)), worlds(_western(baseline, -1.0))
    assert (hostile.host.intent <= friendly.host.intent).all()


def test_a_public_promise_not_to_arrest_means_fewer_cancellations(baseline):
    promise = baseline.with_values({HOST + "public_position": -1.0})
    _, d, se = paired(baseline, promise, runs=50_000)
    assert d[CANCELLED] < -Z * se[CANCELLED]


def test_a_cutoff_threat_lowers_arrest(baseline):
    threat = baseline.with_values({TIE + "supply_cutoff_threat": 1.0})
    _, d, se = paired(unread(baseline), unread(threat), runs=50_000)
    assert d[ARREST] < -Z * se[ARREST]


def test_a_sealed_warrant_means_the_visitor_never_cancels(baseline):
    s = baseline.with_values({"actors.russia.params.warrant_awareness": 0.0})
    r = sim.run(s, runs=20_000, seed=1, progress=False)
    assert r.counts[OUTCOMES.index("visit_cancelled")] == 0
    assert r.counts[OUTCOMES.index("left_early")] == 0


def test_a_court_order_mid_visit_makes_the_visitor_leave(baseline):
    """A petition before fully independent courts that rule at once: the host arrests or
    the visitor leaves as soon as the order comes; few stay to the end."""
    s = baseline.with_values({PETITION: 1.0, INDEPENDENCE: 1.0, "weights.order_rate": 1.0,
                              "timeline.visit_days": 3,
                              "actors.russia.params.warrant_awareness": 1.0})
    r = sim.run(s, runs=20_000, seed=1, progress=False)
    p = r.probabilities
    assert p["hosted_no_arrest"] < 0.01
    assert p["arrest_surrender"] + p["left_early"] > 0


# --------------------------------------------------------------------------- drivers

def test_drivers_have_the_directions_of_their_drives(baseline):
    """On the baseline, the legal duty pushes the host towards arrest and energy against it;
    the visitor's reading of them moves its choice the same way."""
    r = sim.run(baseline, runs=20_000, seed=1, progress=False)
    drivers = r.summary()["drivers"]
    assert drivers["host_intent"]["legal"] > 0
    assert drivers["host_intent"]["energy"] < 0
    assert drivers["host_intent"]["regional"] == 0  # no regional call on Mongolia
    assert drivers["visitor_stays_away"]["energy"] <= 0
    assert drivers["visitor_stays_away"]["visit_value"] <= 0


# --------------------------------------------------------------------------- shipped scenarios

SHIPPED = sorted(p for p in (Path(__file__).resolve().parent.parent / "scenarios").rglob("*.yaml")
                 if "itineraries" not in p.parts)  # several visits: tests/test_itinerary.py


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_and_runs(path):
    """Files written for v1 keep meaning what they meant: they load and give a forecast."""
    r = sim.run(sim.load_scenario(path), runs=2_000, seed=1, progress=False)
    assert r.counts.sum() == 2_000
    assert all(np.isfinite(v) for v in r.drivers.values())
