"""The loader's entry point: a file name in, a validated :class:`Scenario` out."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import ScenarioError
from .inheritance import merge_chain, resolve_chain
from .reader import read_yaml
from .types import Scenario
from .validate import build


def default_weights_file() -> Path:
    """The shipped behavioural weights, ``sim/data/weights.yaml``."""
    return Path(str(resources.files("sim") / "data" / "weights.yaml"))


def load_scenario(path: str | Path, weights: str | Path | None = None) -> Scenario:
    """Load, resolve and validate a scenario or counterfactual file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    weights : str or Path, optional
        A weights file (global behavioural weights, e.g. a calibration's output).
        Defaults to the shipped calibration ``sim/data/weights.yaml``.

    Returns
    -------
    Scenario
        The scenario with its bases' values, its overrides and the weights applied.

    Raises
    ------
    ScenarioError
        With every problem found, each naming the file and the key path.
    """
    path = Path(path)
    chain, problems = resolve_chain(path)
    if problems:
        raise ScenarioError(problems)
    doc, origin = merge_chain(chain)
    weights_path = Path(weights) if weights else default_weights_file()
    wdoc, wproblems = read_yaml(weights_path)
    if wproblems:
        raise ScenarioError(wproblems)
    assert wdoc is not None  # read_yaml gives a mapping whenever it reports no problem
    return build(doc, origin, chain, wdoc, str(weights_path))
