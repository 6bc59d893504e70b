"""Draw a scenario's uncertain parameters for many worlds at once."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from scipy import special

from .errors import NonFiniteError
from .scenario import Scenario
from .streams import Streams

_T = TypeVar("_T", np.ndarray, float)


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

    Raises
    ------
    NonFiniteError
        If a parameter's draws hold NaN or infinity (naming the parameter).
    """
    values: dict[str, np.ndarray | float] = {
        p: _finite(scenario, p, par.dist.mean())
        for p, par in scenario.parameters.items() if not par.uncertain}
    paths = scenario.uncertain()
    if paths:
        z = np.stack([streams.keyed_normal(p) for p in paths])
        if scenario.correlations:
            z = np.linalg.cholesky(correlation_matrix(scenario, paths)) @ z
        u = special.ndtr(z)
        # keep u inside (0, 1): ppf(0) or ppf(1) of an unbounded law is infinite
        np.clip(u, 1e-12, 1 - 1e-12, out=u)
        for row, p in zip(u, paths, strict=True):
            values[p] = _finite(scenario, p, scenario.parameters[p].dist.ppf(row))
    return values


def values_from_uniforms(scenario: Scenario, paths: list[str], u: np.ndarray,
                         ) -> dict[str, np.ndarray | float]:
    """Parameter values for a design of uniforms ``u`` of shape ``(n, len(paths))``.

    Used by sweeps and sensitivity analysis, which choose the points themselves;
    parameters not in ``paths`` keep their means.  Raises :class:`NonFiniteError`
    like :func:`draw_parameters`.
    """
    values: dict[str, np.ndarray | float] = {
        p: _finite(scenario, p, par.dist.mean()) for p, par in scenario.parameters.items()}
    for col, p in enumerate(paths):
        values[p] = _finite(scenario, p, scenario.parameters[p].dist.ppf(u[:, col]))
    return values


def _finite(scenario: Scenario, path: str, drawn: _T) -> _T:
    """``drawn``, unless it holds NaN or infinity: then a :class:`NonFiniteError` naming
    the parameter (a run never reports probabilities computed from such values)."""
    if np.isfinite(drawn).all():
        return drawn
    bad, size = int(np.count_nonzero(~np.isfinite(drawn))), int(np.size(drawn))
    raise NonFiniteError(
        f"parameter {path} of scenario {scenario.id}: {bad:,} of {size:,} values are NaN "
        f"or infinite (its law is {scenario.parameters[path].dist.describe()}); the run "
        "stops without reporting probabilities")
