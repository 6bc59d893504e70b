"""Parameter distributions, sampled in batches by inverse transform.

Every distribution maps uniforms in (0, 1) to values through its quantile
function (``ppf``).  Sampling therefore needs only uniform draws, which makes
correlated parameters (a Gaussian copula, see :mod:`sim.sampling`) and Latin
hypercube or Sobol designs (which supply the uniforms themselves) use the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

#: Arguments each distribution kind takes, in order.
KINDS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "truncnormal": ("mean", "sd", "low", "high"),
    "beta": ("alpha", "beta"),
    "lognormal": ("median", "sigma"),
    "logitnormal": ("median", "sigma"),
}

#: Gauss-Hermite nodes and weights (probabilists'), for means without a closed form.
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(64)


@dataclass(frozen=True)
class Distribution:
    """A univariate distribution of one scenario parameter.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    args : dict
        The kind's arguments, already validated (see ``problems``).
    """

    kind: str
    args: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fixed(cls, value: float) -> Distribution:
        return cls("fixed", {"value": float(value)})

    @property
    def is_fixed(self) -> bool:
        a = self.args
        return (self.kind == "fixed"
                or (self.kind in ("normal", "truncnormal") and a["sd"] == 0)
                or (self.kind in ("lognormal", "logitnormal") and a["sigma"] == 0)
                or (self.kind in ("uniform", "triangular") and a["low"] == a["high"]))

    def support(self) -> tuple[float, float]:
        """Smallest interval holding every value the distribution can take."""
        a = self.args
        if self.kind == "fixed":
            return a["value"], a["value"]
        if self.kind in ("uniform", "triangular", "truncnormal"):
            return a["low"], a["high"]
        if self.kind in ("beta", "logitnormal"):
            return 0.0, 1.0
        if self.kind == "lognormal":
            return 0.0, math.inf
        return -math.inf, math.inf

    def mean(self) -> float:
        a = self.args
        if self.kind == "fixed":
            return a["value"]
        if self.kind == "uniform":
            return (a["low"] + a["high"]) / 2
        if self.kind == "triangular":
            return (a["low"] + a["mode"] + a["high"]) / 3
        if self.kind == "normal" or (self.kind == "truncnormal" and a["sd"] == 0):
            return a["mean"]
        if self.kind == "beta":
            return a["alpha"] / (a["alpha"] + a["beta"])
        if self.kind == "lognormal":
            return a["median"] * math.exp(a["sigma"] ** 2 / 2)
        if self.kind == "logitnormal":
            if a["sigma"] == 0:
                return a["median"]
            values = special.expit(special.logit(a["median"]) + a["sigma"] * _GH_NODES)
            return float(values @ _GH_WEIGHTS / _GH_WEIGHTS.sum())
        return float(self._truncnorm().mean())

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: maps uniforms in (0, 1) to parameter values."""
        u = np.asarray(u, dtype=float)
        a = self.args
        if self.is_fixed:
            return np.full(u.shape, self.mean())
        if self.kind == "uniform":
            return a["low"] + u * (a["high"] - a["low"])
        if self.kind == "triangular":
            width = a["high"] - a["low"]
            return stats.triang.ppf(u, (a["mode"] - a["low"]) / width, loc=a["low"], scale=width)
        if self.kind == "normal":
            return a["mean"] + a["sd"] * special.ndtri(u)
        if self.kind == "beta":
            return special.betaincinv(a["alpha"], a["beta"], u)
        if self.kind == "lognormal":
            return a["median"] * np.exp(a["sigma"] * special.ndtri(u))
        if self.kind == "logitnormal":
            return special.expit(special.logit(a["median"]) + a["sigma"] * special.ndtri(u))
        return self._truncnorm().ppf(u)

    def _truncnorm(self):
        a = self.args
        lo = (a["low"] - a["mean"]) / a["sd"]
        hi = (a["high"] - a["mean"]) / a["sd"]
        return stats.truncnorm(lo, hi, loc=a["mean"], scale=a["sd"])

    def describe(self) -> str:
        """Short human-readable form, e.g. ``uniform(0.1, 0.3)``."""
        if self.kind == "fixed":
            return f"{self.args['value']:g}"
        inner = ", ".join(f"{self.args[k]:g}" for k in KINDS[self.kind])
        return f"{self.kind}({inner})"


def problems(kind: object, args: dict[str, object]) -> list[tuple[str, object, str]]:
    """Check a distribution's definition.

    Returns
    -------
    list of (key, value, expected)
        Empty when the definition is valid.  ``key`` names the offending
        argument (``"dist"`` for the kind itself).
    """
    if not isinstance(kind, str) or kind not in KINDS:
        return [("dist", kind, f"one of {', '.join(KINDS)}")]
    found: list[tuple[str, object, str]] = []
    for name in KINDS[kind]:
        value = args.get(name)
        if name not in args:
            found.append((name, None, f"a number (required by '{kind}')"))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            found.append((name, value, "a number"))
        elif not math.isfinite(value):
            found.append((name, value, "a finite number (not NaN or infinity)"))
    for name in args:
        if name not in KINDS[kind]:
            found.append((name, args[name], f"no such argument for '{kind}' "
                                            f"(it takes {', '.join(KINDS[kind])})"))
    if found:
        return found
    a = {k: float(v) for k, v in args.items()}  # type: ignore[arg-type]
    if kind in ("uniform", "triangular", "truncnormal") and a["low"] > a["high"]:
        found.append(("low", a["low"], f"low <= high (high is {a['high']:g})"))
    if kind == "triangular" and not a["low"] <= a["mode"] <= a["high"]:
        found.append(("mode", a["mode"], "low <= mode <= high"))
    if kind in ("normal", "truncnormal") and a["sd"] < 0:
        found.append(("sd", a["sd"], "a standard deviation >= 0"))
    if kind == "truncnormal" and a["sd"] == 0 and not a["low"] <= a["mean"] <= a["high"]:
        found.append(("mean", a["mean"], "low <= mean <= high when sd is 0"))
    if kind in ("lognormal", "logitnormal") and a["sigma"] < 0:
        found.append(("sigma", a["sigma"], "a standard deviation (of the log or logit) >= 0"))
    if kind == "lognormal" and a["median"] <= 0:
        found.append(("median", a["median"], "a median > 0"))
    if kind == "logitnormal" and not 0 < a["median"] < 1:
        found.append(("median", a["median"], "a median strictly between 0 and 1"))
    if kind == "beta":
        for name in ("alpha", "beta"):
            if a[name] <= 0:
                found.append((name, a[name], "a shape parameter > 0"))
    return found
