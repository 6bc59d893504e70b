"""The explorer as a person uses it: in Chromium, driven by Playwright.

The served page (``python -m sim explore``) loads, a slider move shows exactly the numbers of
``sim.run`` for the same settings and seed (and does not reach another visitor), no widget
overflows a 700 px window, and notebook 02, run in JupyterLab with Run All, gives a panel
that answers a slider move.

The tests drive the system's Chromium (never a downloaded browser).  Where it is missing
they are skipped with the command that installs it.  Deselect them with ``-m "not browser"``.
Artifacts (screenshots) go to ``$SIM_TEST_ARTIFACTS`` (default ``results/test-artifacts/``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import sim
from sim import catalogue as cat
from sim.outcomes import OUTCOMES

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"
ARTIFACTS = Path(os.environ.get("SIM_TEST_ARTIFACTS", ROOT / "results" / "test-artifacts"))
INSTALL_CHROMIUM = "sudo apt-get install -y chromium"
#: The served page's runs per update: the size whose slider latency the issue targets (< 1 s).
RUNS, SEED = 50_000, 7
NOTEBOOK_RUNS = 2_000
#: A slider move on a loaded machine; the latency measured is printed (-s) and recorded.
MOVE_TIMEOUT_MS = 60_000
LOAD_TIMEOUT_MS = 120_000

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser",
                                                  "google-chrome", "google-chrome-stable")
                 if shutil.which(name)), None)


def _missing() -> str | None:
    if CHROMIUM is None:
        return f"Chromium is not installed; install it with: {INSTALL_CHROMIUM}"
    for module, extra in (("playwright", "dev"), ("voila", "explore"),
                          ("jupyterlab", "notebooks")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed; install it with: pip install -e \".[{extra}]\""
    return None


pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(_missing() is not None, reason=str(_missing()))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_http(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"no answer from {url} in {seconds} s:\n{log.read_text()}")


def _start(command: list[str], url: str, log: Path, **kwargs) -> subprocess.Popen:
    """Start a server in a session of its own (so that it stops with everything it started)
    and wait until ``url`` answers."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, **kwargs)
    try:
        _wait_for_http(url, process, log)
    except BaseException:
        _stop(process)
        raise
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The served page of the Mongolia baseline: its address."""
    port = _free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    url = f"http://127.0.0.1:{port}/"
    process = _start([sys.executable, "-m", "sim", "explore", str(BASELINE), "--port", str(port),
                      "--runs", str(RUNS), "--seed", str(SEED)], url, log, cwd=ROOT)
    yield url
    _stop(process)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


def _open(browser, url: str, width: int = 1100, height: int = 1000):
    """A page in a context of its own (its own cookies and kernel), once the panel is drawn."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".sim-explorer .sim-done", timeout=LOAD_TIMEOUT_MS)
    return page


def _set_slider(page, scope: str, knob: str, value: str, update: int) -> float:
    """Type ``value`` into a slider's readout; wait until update number ``update`` is
    drawn; returns the seconds from the key press to the drawing."""
    readout = page.locator(f"{scope} .sim-knob-{knob} .widget-readout")
    readout.scroll_into_view_if_needed()
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    start = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{scope} .sim-done[data-update='{update}']", timeout=MOVE_TIMEOUT_MS)
    return time.perf_counter() - start


def _shown(page, column: str, scope: str = ".sim-explorer") -> dict[str, str]:
    return {o: page.locator(f"{scope} tr[data-outcome='{o}'] td[data-column='{column}']")
            .text_content().strip() for o in OUTCOMES}


def _as_shown(probabilities: dict[str, float]) -> dict[str, str]:
    return {o: f"{100 * p:.2f}%" for o, p in probabilities.items()}


def test_served_page_loads_with_the_panel_and_no_code(served, browser):
    page = _open(browser, served)
    try:
        scenario = sim.load_scenario(BASELINE)
        assert scenario.title in page.locator(".sim-explorer").inner_text()
        picker = page.locator(".sim-scenario-picker select")
        assert picker.evaluate("s => s.options[s.selectedIndex].text") == "mongolia_2024.yaml"
        assert picker.locator("option").count() > 10  # the cases and counterfactuals too
        assert "from sim.explore" not in page.content()  # the notebook's code is not shown
        for chart in (".sim-outcome-chart", ".sim-drivers-chart"):
            assert page.locator(chart).evaluate("img => img.naturalWidth") > 600
    finally:
        page.context.close()


def test_a_slider_move_shows_sim_run_of_that_setting_and_stays_with_its_visitor(
        served, browser, record_property):
    scenario = sim.load_scenario(BASELINE)
    western = [a.id for a in scenario.with_role(cat.WESTERN)]
    variant = scenario.with_values({f"actors.{w}.params.conditionality": 0.8 for w in western})
    expected_base = _as_shown(sim.run(scenario, runs=RUNS, seed=SEED, progress=False)
                              .probabilities)
    expected = _as_shown(sim.run(variant, runs=RUNS, seed=SEED, progress=False).probabilities)
    assert expected != expected_base

    page = _open(browser, served)
    other = None
    try:
        assert _shown(page, "variant") == _shown(page, "baseline") == expected_base
        latency = _set_slider(page, ".sim-explorer", "conditionality", "0.8", update=2)
        record_property("slider_latency_s", round(latency, 3))
        print(f"\nslider move to drawn charts, {RUNS:,} runs per update: {latency:.2f} s")
        assert _shown(page, "variant") == expected
        assert _shown(page, "baseline") == expected_base
        assert "conditionality = 0.8" in page.locator(".sim-status").inner_text()

        other = _open(browser, served)  # a second visitor starts from the scenario
        assert other.locator(".sim-knob-conditionality .widget-readout").inner_text() == "0.07"
        assert _shown(other, "variant") == expected_base
        assert _shown(page, "variant") == expected  # and the first one keeps its setting
    finally:
        page.context.close()
        if other is not None:
            other.context.close()


OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const boxes = document.querySelectorAll(
    '.sim-explorer .jupyter-widgets, .sim-explorer select, .sim-explorer .widget-readout, ' +
    '.sim-explorer img, .sim-explorer table, .sim-scenario-picker');
  for (const el of boxes) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const cut = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible';
    if (r.left < -0.5 || r.right > width + 0.5 || cut)
      found.push(`${el.className}: ${r.left.toFixed(0)}-${r.right.toFixed(0)} px` +
                 (cut ? ` (content ${el.scrollWidth} px in ${el.clientWidth} px)` : ''));
  }
  return {width, checked: boxes.length, found};
}"""


def test_no_widget_overflows_a_700_px_window(served, browser):
    page = _open(browser, served, width=700, height=1800)
    try:
        boxes = page.evaluate(OVERFLOW)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "explore_700px.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        assert boxes["width"] <= 700 and boxes["checked"] > 40
        assert boxes["found"] == [], boxes["found"]
    finally:
        page.context.close()


STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                   .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


def _run_all(page, attempts: int = 3) -> None:
    """Run > Run All Cells; again if no cell started (a kernel that was not quite ready
    drops the request)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_function(STARTED, timeout=20_000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def test_notebook_02_runs_in_jupyterlab_and_its_panel_answers_a_slider(tmp_path, browser):
    # a copy, so that JupyterLab's autosave never writes outputs into the repository
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "02_tweak_agents.ipynb", tmp_path / "notebooks")
    for folder in ("scenarios", "sim"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    settings = tmp_path / "lab-settings"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/lab/tree/notebooks/02_tweak_agents.ipynb"
    process = _start(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={tmp_path}",
         "--LabApp.extension_manager=readonly",
         *(["--allow-root"] if os.geteuid() == 0 else []),
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={settings}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        f"http://127.0.0.1:{port}/api", tmp_path / "lab.log", cwd=tmp_path,
        env={**os.environ, "SIM_NOTEBOOK_RUNS": str(NOTEBOOK_RUNS)})
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=LOAD_TIMEOUT_MS)
        _run_all(page)
        # Run All stops at the first error: the last cell numbered means every cell ran
        page.wait_for_function(
            """() => {
                 const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
                 const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
                 return prompts.length > 5 && /\\[\\d+\\]/.test(prompts.at(-1).textContent)
                        && status.dataset.status === 'idle';
               }""", timeout=240_000)
        errors = page.locator(".jp-OutputArea-output[data-mime-type="
                              "'application/vnd.jupyter.stderr']").all_text_contents()
        assert not [e for e in errors if "Error" in e or "Traceback" in e], errors
        panel = ".jp-Notebook .sim-explorer"
        page.wait_for_selector(f"{panel} .sim-done[data-update='1']", timeout=LOAD_TIMEOUT_MS)
        before = _shown(page, "variant", panel)
        _set_slider(page, panel, "conditionality", "0.8", update=2)
        after = _shown(page, "variant", panel)
        assert after != before
        assert _shown(page, "baseline", panel) == before
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator(f"{panel} .sim-status").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "jupyterlab_02_panel.png"))
    finally:
        context.close()
        _stop(process)
