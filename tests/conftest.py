"""Shared fixtures: the baseline scenario and a way to write edited copies of it."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import matplotlib
import pytest
import yaml

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"
CASES = ROOT / "scenarios" / "cases"
#: A small set of historical cases, one of each kind of outcome the fits must reach.
FEW = ["b01_bashir_south_africa_2009.yaml", "b10_bashir_djibouti_2011.yaml",
       "o01_bemba_belgium_2008.yaml", "p02_putin_mongolia_2024.yaml"]


@pytest.fixture(scope="session")
def baseline_doc() -> dict:
    return yaml.safe_load(BASELINE.read_text())


@pytest.fixture(scope="session")
def baseline():
    import sim

    return sim.load_scenario(BASELINE)


@pytest.fixture
def write_scenario(tmp_path, baseline_doc):
    """Write a copy of the baseline edited by ``edit(doc)``; returns its path."""

    def _write(edit=None, name="scenario.yaml", doc=None):
        doc = copy.deepcopy(baseline_doc if doc is None else doc)
        if edit:
            edit(doc)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return _write


@pytest.fixture(scope="session")
def v2_weights(tmp_path_factory) -> Path:
    """A weights file valid for model v2 whatever state the shipped one is in.

    The shipped ``sim/data/weights.yaml`` without the retired weights, with any
    missing v2 weight added as a test assumption, and without correlations that
    name a retired weight.  Tests of the loader use it so that they do not depend
    on the calibration shipped at the time.
    """
    from sim import catalogue as cat
    from sim.scenario import default_weights_file

    doc = yaml.safe_load(default_weights_file().read_text())
    weights = {k: v for k, v in doc["weights"].items() if k not in cat.RETIRED_WEIGHTS}
    for name in cat.WEIGHT_PARAMS:
        weights.setdefault(name, {"value": 3.0, "assumption": "test"})
    doc["weights"] = weights
    retired = {f"weights.{k}" for k in cat.RETIRED_WEIGHTS}
    doc["correlations"] = [c for c in doc.get("correlations") or []
                           if not retired & set(c["between"])] or None
    if doc["correlations"] is None:
        del doc["correlations"]
    path = tmp_path_factory.mktemp("weights") / "weights.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def few_cases(tmp_path) -> Path:
    """A folder holding copies of the :data:`FEW` case files."""
    folder = tmp_path / "cases"
    folder.mkdir()
    for name in FEW:
        shutil.copy(CASES / name, folder / name)
    return folder
