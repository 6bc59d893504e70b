"""Draw a scenario's uncertain parameters for many worlds at once."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from scipy import special

from .distributions import SCORED
from .errors import NonFiniteError
from .scenario import Scenario
from .streams import Streams

_T = TypeVar("_T", np.ndarray, float)

#: The range uniforms are kept in: ppf(0) or ppf(1) of an unbounded law is infinite.
U_LO, U_HI = 1e-12, 1 - 1e-12
#: The matching range of normal scores.
Z_LO, Z_HI = float(special.ndtri(U_LO)), float(special.ndtri(U_HI))


def correlation_matrix(scenario: Scenario, paths: list[str]) -> np.ndarray:
    """Correlation of the normal scores of ``paths`` (identity unless the scenario says;
    correlations with parameters outside ``paths`` are left out)."""
    matrix = np.eye(len(paths))
    index = {p: i for i, p in enumerate(paths)}
    for c in scenario.correlations:
        if c.a in index and c.b in index:
            i, j = index[c.a], index[c.b]
            matrix[i, j] = matrix[j, i] = c.rho
    return matrix


def draw_parameters(scenario: Scenario, streams: Streams) -> dict[str, np.ndarray | float]:
    """Values of every parameter for the worlds of ``streams``.

    Uncertain parameters get an array of shape ``(n,)``; fixed ones stay
    scalars (they broadcast).  Weights for which the weights file gives posterior draws
    take them (:func:`posterior_weights`), jointly, instead of their summary laws.  The
    other uncertain parameters are drawn through a Gaussian copula, so declared
    correlations hold and each marginal is exact.

    Each uncertain parameter draws from its own keyed stream
    (:meth:`~sim.streams.Streams.keyed_random`, ``keyed_normal``), so its values depend
    only on the seed, the block and its key path (and on the parameters it is correlated
    with, directly or through others): uniforms ``u`` mapped by its quantile function,
    or, for the normal family (:data:`~sim.distributions.SCORED`), standard normal
    scores ``z`` mapped in closed form.  Correlated parameters are coupled on their
    normal scores (``ndtri(u)`` for the uniforms).  Uniforms are kept in
    [1e-12, 1 - 1e-12] and scores in the matching range, where every law was checked to
    give finite values.  Blocks are drawn one at a time, so a block's values do not
    depend on which blocks run with it.

    Raises
    ------
    NonFiniteError
        If a parameter's draws hold NaN or infinity (naming the parameter).
    """
    values: dict[str, np.ndarray | float] = {
        p: _finite(scenario, p, par.dist.mean())
        for p, par in scenario.parameters.items() if not par.uncertain}
    if scenario.posterior is not None:  # these weights come from the posterior's draws
        values.update(posterior_weights(scenario, streams))
    paths = [p for p in scenario.uncertain() if p not in values]
    if not paths:
        return values
    laws = [scenario.parameters[p].dist for p in paths]
    scored = [law.kind in SCORED for law in laws]
    copula = _copula(scenario, paths)
    parts: list[list[np.ndarray]] = [[] for _ in paths]
    for block in range(len(streams.sizes)):
        base = [streams.keyed_normal(p, block) if s else streams.keyed_random(p, block)
                for p, s in zip(paths, scored, strict=True)]
        is_score = list(scored)
        for group, terms in copula:
            z = [base[i] if scored[i] else special.ndtri(_clip(base[i], U_LO, U_HI))
                 for i in group]
            for i, row in zip(group, terms, strict=True):
                (k, c), *rest = row
                mixed = c * z[k]
                for k, c in rest:
                    mixed += c * z[k]
                base[i], is_score[i] = mixed, True
        for i, law in enumerate(laws):
            parts[i].append(law.from_scores(_clip(base[i], Z_LO, Z_HI)) if is_score[i]
                            else law.ppf(_clip(base[i], U_LO, U_HI)))
    for p, part in zip(paths, parts, strict=True):
        values[p] = _finite(scenario, p, part[0] if len(part) == 1 else np.concatenate(part))
    return values


def posterior_weights(scenario: Scenario, streams: Streams) -> dict[str, np.ndarray]:
    """The weights of the scenario's posterior draws: world ``i`` takes draw
    ``i mod draws``, jointly (the credible intervals of :mod:`sim.analysis.posterior`
    count each draw's worlds)."""
    posterior = scenario.posterior
    assert posterior is not None
    draw = streams.world_index() % len(posterior.samples)
    return {f"weights.{name}": posterior.samples[draw, j]
            for j, name in enumerate(posterior.weights)}


def _clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(x, lo, hi, out=x)


def _copula(scenario: Scenario, paths: list[str],
            ) -> list[tuple[list[int], list[list[tuple[int, float]]]]]:
    """The groups of correlated parameters (the connected parts of the correlations), each
    as its members (indices in ``paths``, in order) and, for each member, the terms
    ``(k, c)`` of its coupled score ``sum(c * z[k])``, ``z[k]`` being the independent score
    of the group's ``k``-th member (the nonzero entries of its row of the group's Cholesky
    factor).

    A group's coupling depends only on its own correlations, so parameters outside it do
    not change its draws.  Explicit sums, not a matrix product: BLAS threads are slow on a
    busy machine, and BLAS results may depend on the length of the arrays.
    """
    index = {p: i for i, p in enumerate(paths)}
    # correlations with a parameter drawn otherwise (a posterior's weights) do not apply
    pairs = [c for c in scenario.correlations if c.a in index and c.b in index]
    parent = {i: i for c in pairs for i in (index[c.a], index[c.b])}

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for c in pairs:
        parent[root(index[c.a])] = root(index[c.b])
    groups: dict[int, list[int]] = {}
    for i in sorted(parent):
        groups.setdefault(root(i), []).append(i)
    copula = []
    for members in sorted(groups.values()):
        factor = np.linalg.cholesky(correlation_matrix(scenario, [paths[i] for i in members]))
        terms = [[(k, float(factor[r, k])) for k in range(r + 1) if factor[r, k] != 0]
                 for r in range(len(members))]
        copula.append((members, terms))
    return copula


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
