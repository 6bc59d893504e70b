"""Shared fixtures: the baseline scenario and a way to write edited copies of it."""

from __future__ import annotations

import copy
from pathlib import Path

import matplotlib
import pytest
import yaml

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "mongolia_2024.yaml"


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
