"""A parameter's value or range in words, and the interval it mostly lies in."""

from __future__ import annotations

import numpy as np

from ..distributions import Distribution

#: Kinds whose range is their support (bounded by their own arguments).
_BOUNDED = ("uniform", "triangular", "truncnormal")
#: The central share of a law reported as its range when its support is not its own.
CENTRAL = 0.90


def num(x: float) -> str:
    """A number as a scenario writer would write it: ``0.9``, ``0.15``, ``12``."""
    return f"{x:.3g}" if abs(x) < 1e4 else f"{x:,.0f}"


def span(dist: Distribution) -> tuple[float, float]:
    """The interval a law's values lie in: its value, its own bounds (uniform, triangular,
    truncated normal), or its central 90% for the other kinds."""
    if dist.kind == "fixed":
        value = dist.args["value"]
        return value, value
    if dist.kind in _BOUNDED:
        return dist.support()
    tail = (1 - CENTRAL) / 2
    lo, hi = dist.ppf(np.array([tail, 1 - tail]))
    return float(lo), float(hi)


def interval(lo: float, hi: float) -> str:
    """``0.9–0.97``, or one number when both ends agree."""
    return num(lo) if lo == hi else f"{num(lo)}–{num(hi)}"


def in_words(dist: Distribution) -> str:
    """The law as a reviewer reads it, e.g. ``uniform between 0.1 and 0.3``."""
    a = dist.args
    if dist.kind == "fixed":
        return f"{num(a['value'])} (fixed)"
    if dist.kind == "uniform":
        return f"uniform between {num(a['low'])} and {num(a['high'])}"
    if dist.kind == "triangular":
        return (f"between {num(a['low'])} and {num(a['high'])}, most likely {num(a['mode'])} "
                "(triangular)")
    if dist.kind == "truncnormal":
        return (f"normal around {num(a['mean'])} (sd {num(a['sd'])}), kept between "
                f"{num(a['low'])} and {num(a['high'])}")
    lo, hi = span(dist)
    if dist.kind == "normal":
        return f"normal around {num(a['mean'])} (sd {num(a['sd'])}; 90% within {interval(lo, hi)})"
    if dist.kind == "beta":
        return (f"beta({num(a['alpha'])}, {num(a['beta'])}): mean {num(dist.mean())}, "
                f"90% within {interval(lo, hi)}")
    return (f"{dist.kind} with median {num(a['median'])} (sigma {num(a['sigma'])}; 90% within "
            f"{interval(lo, hi)})")
