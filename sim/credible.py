"""Epistemic intervals: how far a forecast moves across the weights' posterior draws.

A forecast run with a weights file that carries posterior draws gives world ``i`` the
weights of draw ``i mod K`` (:func:`sim.sampling.posterior_weights`); the worlds of each
draw then estimate the forecast *given those weights*.  :func:`draw_counts` counts each
draw's outcomes, and :func:`credible_intervals` turns the counts into the 80% and 95%
ranges of each outcome's probability across the draws (the Monte Carlo interval of a run
says how precisely the pooled probability is known; these say how much it depends on
weights the cases leave uncertain).
"""

from __future__ import annotations

import numpy as np

from .outcomes import OUTCOMES

#: Central ranges reported for each outcome's probability.
LEVELS = {"credible80": 0.80, "credible95": 0.95}
#: Fewest worlds a posterior draw needs for its spread to be told from Monte Carlo noise
#: (with fewer, the estimated variance of the weights is mostly clipped to zero).
MIN_WORLDS_PER_DRAW = 20


def draw_counts(first_world: int, outcome: np.ndarray, draws: int,
                categories: int = len(OUTCOMES)) -> np.ndarray:
    """Outcome counts ``(draws, categories)`` of consecutive worlds from ``first_world`` on,
    world ``i`` belonging to posterior draw ``i mod draws`` (``outcome`` holds codes below
    ``categories``: the outcomes, or an itinerary's states)."""
    draw = (np.arange(first_world, first_world + len(outcome), dtype=np.int64) % draws)
    cells = draw * categories + outcome.astype(np.int64)
    return np.bincount(cells, minlength=draws * categories).reshape(draws, categories)


def credible_intervals(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The 80% and 95% ranges of each outcome's probability across posterior draws.

    Parameters
    ----------
    counts : array ``(draws, outcomes)``
        Outcome counts of the worlds of each posterior draw.

    Returns
    -------
    dict
        ``{"credible80": (outcomes, 2), "credible95": (outcomes, 2)}`` arrays of
        ``[low, high]``.

    Notes
    -----
    Each draw's frequency ``p_k`` estimates the forecast under that draw's weights with
    binomial noise of variance ``p_k (1 - p_k) / (n_k - 1)`` (unbiased).  The spread of
    the ``p_k`` minus the mean noise variance estimates the posterior's own variance;
    each ``p_k`` is pulled towards the pooled frequency by the square root of its share,
    so that a forecast run with few worlds per draw does not report the Monte Carlo
    noise as uncertainty about the weights.
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    used = n >= 2
    if used.sum() < 2:
        raise ValueError("credible intervals need at least two posterior draws with two or "
                         "more worlds each")
    counts, n = counts[used], n[used]
    pooled = counts.sum(axis=0) / n.sum()
    p = counts / n[:, None]
    w = n / n.sum()
    total = np.sum(w[:, None] * (p - pooled) ** 2, axis=0)
    noise = np.sum(w[:, None] * p * (1 - p) / (n[:, None] - 1), axis=0)
    epistemic = np.clip(total - noise, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = np.where(total > 0, np.sqrt(epistemic / total), 0.0)
    shrunk = np.clip(pooled + (p - pooled) * shrink, 0.0, 1.0)
    out = {}
    for name, level in LEVELS.items():
        tail = (1 - level) / 2
        out[name] = np.stack([_weighted_quantile(shrunk, w, tail),
                              _weighted_quantile(shrunk, w, 1 - tail)], axis=1)
    return out


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` of each column of ``values`` (rows weighted by ``weights``)."""
    out = np.empty(values.shape[1])
    for j in range(values.shape[1]):
        order = np.argsort(values[:, j], kind="stable")
        cum = np.cumsum(weights[order])
        cum = (cum - 0.5 * weights[order]) / cum[-1]
        out[j] = np.interp(q, cum, values[order, j])
    return out


__all__ = ["LEVELS", "MIN_WORLDS_PER_DRAW", "credible_intervals", "draw_counts"]
