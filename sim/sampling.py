"""Draw a scenario's uncertain parameters for many worlds at once."""

from __future__ import annotations

import numpy as np
from scipy import special

from .scenario import Scenario
from .streams import Streams


def correlation_matrix(scenario: Scenario, paths: list[str]) -> np.ndarray:
    """Correlation of the normal scores of ``paths`` (identity unless the scenario says)."""
    matrix = np.eye(len(paths))
    index = {p: i for i, p in enumerate(paths)}
    for c in scenario.correlations:
        i, j = index[c.a], index[c.b]
        matrix[i, j] = matrix[j, i] = c.rho
    return matrix


def draw_parameters(scenario: Scenario, streams: Streams) -> dict[str, np.ndarray | float]:
    """Values of every parameter for the worlds of ``streams``.

    Uncertain parameters get an array of shape ``(n,)``; fixed ones stay
    scalars (they broadcast).  Uncertain parameters are drawn through a
    Gaussian copula, so declared correlations hold and each marginal is exact.
    """
    values: dict[str, np.ndarray | float] = {
        p: par.dist.mean() for p, par in scenario.parameters.items() if not par.uncertain}
    paths = scenario.uncertain()
    if paths:
        z = np.stack([streams.keyed_normal(p) for p in paths])
        if scenario.correlations:
            z = np.linalg.cholesky(correlation_matrix(scenario, paths)) @ z
        u = special.ndtr(z)
        # keep u inside (0, 1): ppf(0) or ppf(1) of an unbounded law is infinite
        np.clip(u, 1e-12, 1 - 1e-12, out=u)
        for row, p in zip(u, paths, strict=True):
            values[p] = scenario.parameters[p].dist.ppf(row)
    return values


def values_from_uniforms(scenario: Scenario, paths: list[str], u: np.ndarray,
                         ) -> dict[str, np.ndarray | float]:
    """Parameter values for a design of uniforms ``u`` of shape ``(n, len(paths))``.

    Used by sweeps and sensitivity analysis, which choose the points themselves;
    parameters not in ``paths`` keep their means.
    """
    values: dict[str, np.ndarray | float] = {
        p: par.dist.mean() for p, par in scenario.parameters.items()}
    for col, p in enumerate(paths):
        values[p] = scenario.parameters[p].dist.ppf(u[:, col])
    return values
