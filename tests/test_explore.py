"""The explorer panel without a browser: its knobs, its numbers, its updates, its page and
its command (``python -m sim explore``).  The browser tests are in test_browser.py."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import BASELINE, CASES, ROOT

import sim
from sim import catalogue as cat
from sim.errors import UsageError
from sim.outcomes import OUTCOMES

RUNS, SEED = 1_000, 7


@pytest.fixture(scope="module")
def panel(baseline):
    pytest.importorskip("ipywidgets")
    return sim.explore(baseline, runs=RUNS, seed=SEED)


def _cell(table_html: str, outcome: str, column: str) -> str:
    import re

    row = re.search(rf'<tr data-outcome="{outcome}">(.*?)</tr>', table_html).group(1)
    return re.search(rf'data-column="{column}"[^>]*>([^<]*)<', row).group(1)


def test_knobs_come_from_the_catalogue_and_cover_every_actor_of_a_role(baseline):
    from sim.explore.knobs import knobs_for

    knobs = {k.name: k for k in knobs_for(baseline)}
    western = baseline.with_role(cat.WESTERN)
    assert len(western) > 1
    assert knobs["conditionality"].paths == tuple(
        f"actors.{a.id}.params.conditionality" for a in western)
    assert knobs["conditionality"].meaning == cat.ROLE_PARAMS[cat.WESTERN]["conditionality"].meaning
    for knob in knobs.values():
        assert all(p in baseline.parameters for p in knob.paths), knob.name
        spec = baseline.parameters[knob.paths[0]].spec
        assert spec.low <= knob.low < knob.high <= spec.high, knob.name


def test_a_scenario_without_a_role_offers_no_knob_for_it():
    from sim.explore.knobs import knobs_for

    case = sim.load_scenario(CASES / "b10_bashir_djibouti_2011.yaml")
    names = {k.name for k in knobs_for(case)}
    assert ("litigation_capacity" in names) == bool(case.with_role(cat.DOMESTIC))
    assert ("conditionality" in names) == bool(case.with_role(cat.WESTERN))
    assert {"engagement", "public_position", "risk_tolerance"} <= names


def test_untouched_panel_shows_the_scenario_itself(panel, baseline):
    assert panel.settings() == {}
    assert panel.variant() is baseline
    expected = sim.run(baseline, runs=RUNS, seed=SEED, progress=False).probabilities
    base, variant = panel.comparison.results
    assert base.probabilities == variant.probabilities == expected
    for o in OUTCOMES:
        assert _cell(panel.table.value, o, "variant") == f"{100 * expected[o]:.2f}%"
    assert panel.outcome_chart.value[:4] == b"\x89PNG"
    assert panel.drivers_chart.value[:4] == b"\x89PNG"


def test_moving_a_slider_shows_sim_run_of_that_variant(panel, baseline):
    panel.reset()
    panel.controls["conditionality"].value = 0.8
    western = [a.id for a in baseline.with_role(cat.WESTERN)]
    variant = baseline.with_values(
        {f"actors.{w}.params.conditionality": 0.8 for w in western})
    expected = sim.run(variant, runs=RUNS, seed=SEED, progress=False).probabilities
    shown = panel.comparison.results[1].probabilities
    assert shown == expected
    assert shown != panel.comparison.results[0].probabilities
    for o in OUTCOMES:
        assert _cell(panel.table.value, o, "variant") == f"{100 * expected[o]:.2f}%"
    assert "conditionality = 0.8" in panel.status.value


def test_a_dropdown_keeps_the_scenario_until_a_value_is_picked(panel, baseline):
    panel.reset()
    dropdown = panel.controls["pipeline_prospect"]
    assert dropdown.value.startswith("as in the scenario")
    assert "pipeline_prospect" not in panel.settings()
    dropdown.value = "agreement signed (0.9)"
    assert panel.settings() == {"pipeline_prospect": 0.9}
    path = f"actors.{baseline.host.id}.ties.{baseline.visitor.id}.pipeline_prospect"
    assert panel.variant().parameters[path].dist.is_fixed
    assert panel.variant().value(path) == 0.9


def test_reset_draws_once_and_restores_the_baseline(panel):
    panel.controls["conditionality"].value = 0.5
    panel.controls["engagement"].value = 1.0
    panel.controls["petition_pending"].value = "already before a court (1)"
    before = panel.updates
    panel.reset()
    assert panel.updates == before + 1
    assert panel.settings() == {}
    base, variant = panel.comparison.results
    assert base.probabilities == variant.probabilities


def test_the_status_says_computing_while_a_run_is_in_progress(panel):
    seen = []
    panel.status.observe(lambda change: seen.append(change["new"]), names="value")
    panel.controls["visit_value"].value = 0.9
    assert "computing" in seen[0]
    assert "sim-done" in seen[-1] and "1,000 runs in" in seen[-1]
    assert "sim-computing" not in panel._dom_classes


def test_the_panel_wraps_in_a_narrow_column(panel):
    rows = panel.children[1]
    assert rows.layout.flex_flow == "row wrap"
    for control in panel.controls.values():
        assert control.layout.width == "auto"
    for chart in (panel.outcome_chart, panel.drivers_chart):
        assert chart.layout.width == "100%" and chart.layout.max_width == "650px"


@pytest.mark.parametrize("runs, seed", [(0, 1), (200_001, 1), (1.5, 1), (10, -1), (10, "1")])
def test_runs_and_seed_are_checked(baseline, runs, seed):
    pytest.importorskip("ipywidgets")
    with pytest.raises(UsageError):
        sim.explore(baseline, runs=runs, seed=seed)


def test_importing_sim_loads_no_widgets():
    code = ("import sys, sim, sim.explore, sim.explore.commands; "
            "print(sorted(m for m in ('ipywidgets', 'matplotlib', 'voila') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_sim_explore_is_callable_after_its_modules_are_imported(baseline):
    pytest.importorskip("ipywidgets")
    import sim.explore.knobs  # binds the package to sim.explore  # noqa: F401

    assert sim.explore(baseline, runs=100, seed=1).comparison.base.runs == 100


def test_the_page_offers_every_scenario_and_switches_between_them(tmp_path):
    pytest.importorskip("ipywidgets")
    from sim.explore.page import page

    (tmp_path / "broken.yaml").write_text("id: [unclosed\n")
    (tmp_path / "sub").mkdir()
    other = tmp_path / "sub" / "bashir.yaml"
    other.write_text((CASES / "b10_bashir_djibouti_2011.yaml").read_text())
    shown = page(tmp_path, BASELINE, runs=200, seed=3)
    picker, holder = shown.children
    labels = [label for label, _ in picker.options]
    assert labels[0] == str(BASELINE.resolve())  # lies outside the folder: added first
    assert {"broken.yaml", "sub/bashir.yaml"} <= set(labels)
    assert holder.children[0].scenario.id == sim.load_scenario(BASELINE).id
    picker.value = other
    assert holder.children[0].scenario.id == sim.load_scenario(other).id
    picker.value = tmp_path / "broken.yaml"
    assert "not a valid scenario" in holder.children[0].value


def test_the_served_notebook_binds_to_the_address_given():
    from sim.explore.serve import page_notebook, voila_command

    command = voila_command(ROOT / "x.ipynb", "127.0.0.1", 8999)
    assert "--Voila.ip=127.0.0.1" in command and "--port=8999" in command
    assert "--strip_sources=True" in command and "--Voila.port_retries=0" in command
    nb = page_notebook(ROOT / "scenarios", BASELINE, runs=500, seed=2)
    assert "runs=500, seed=2" in nb.cells[0].source


@pytest.mark.parametrize("argv, message", [
    (["--runs", "200001"], "--runs: expected a whole number from 1 to 200,000"),
    (["--port", "70000"], "--port: expected a port from 1 to 65535"),
    (["--scenarios", "no/such/folder"], "no folder of scenarios at no/such/folder"),
    (["no/such.yaml"], "no/such.yaml"),
])
def test_the_command_refuses_bad_input_in_one_line(argv, message):
    out = subprocess.run([sys.executable, "-m", "sim", "explore", *argv], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
