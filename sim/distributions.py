"""Parameter distributions, sampled in batches by inverse transform.

Every distribution maps uniforms in (0, 1) to values through its quantile
function (``ppf``).  Sampling therefore needs only uniform draws, which makes
correlated parameters (a Gaussian copula, see :mod:`sim.sampling`) and Latin
hypercube or Sobol designs (which supply the uniforms themselves) use the same code.
The laws of the normal family (:data:`SCORED`) also map standard normal scores to
values directly (:meth:`Distribution.from_scores`), without a round trip through
the uniforms.

Every quantile function is a closed form on :mod:`scipy.special` (no frozen
``scipy.stats`` distribution per call); ``scipy.stats`` is imported only for the mean
of a truncated normal.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .errors import UsageError

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
#: Gauss-Legendre nodes and weights on (0, 1), for a mean as the integral of the quantiles.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
_GL_NODES, _GL_WEIGHTS = (_GL_NODES + 1) / 2, _GL_WEIGHTS / 2

#: The uniforms a distribution is checked at when it is made: the clip of
#: :func:`sim.sampling.draw_parameters` and points in between.
PROBE = np.array([1e-12, 1e-6, 0.01, 0.5, 0.99, 1 - 1e-6, 1 - 1e-12])

#: Kinds whose values are a closed form of a standard normal score: sampling draws
#: their scores (:meth:`Distribution.from_scores`), the other kinds their uniforms.
SCORED = frozenset({"normal", "lognormal", "logitnormal"})

#: The argument blamed when a kind's values cannot be computed (NaN or infinity).
_SPREAD = {"fixed": "value", "uniform": "high", "triangular": "high", "normal": "sd",
           "truncnormal": "sd", "beta": "alpha", "lognormal": "sigma", "logitnormal": "sigma"}


class DistributionError(UsageError, ValueError):
    """A distribution's arguments are invalid (raised by :class:`Distribution` itself).

    A :class:`~sim.errors.UsageError` (the command line exits 2 with one line) and a
    ``ValueError``.  ``problems`` holds ``(argument, value, expected)`` triples.
    """

    def __init__(self, kind: object, problems: list[tuple[str, object, str]]):
        self.kind, self.problems = kind, list(problems)
        detail = "; ".join(f"{key}: got {_short(value)}, expected {expected}"
                           for key, value, expected in self.problems)
        super().__init__(f"invalid distribution {_short(kind)}: {detail}")

    def __reduce__(self):  # raised in a worker process, it crosses back whole
        return (DistributionError, (self.kind, self.problems))


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class FrozenArgs(Mapping):
    """A distribution's arguments: a read-only, hashable mapping that pickles.

    Compares equal to a ``dict`` with the same items; ``args["low"]``, ``.get``,
    ``.items()`` and ``dict(args)`` work as on a ``dict``.
    """

    __slots__ = ("_items",)
    _items: dict[str, float]

    def __init__(self, items: Mapping[str, float]):
        object.__setattr__(self, "_items", dict(items))

    def __getitem__(self, key: str) -> float:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._items) == dict(other.items())
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a distribution's arguments cannot be changed")

    def __repr__(self) -> str:
        return repr(self._items)

    def __reduce__(self):
        return (FrozenArgs, (dict(self._items),))


@dataclass(frozen=True)
class Distribution:
    """A univariate distribution of one scenario parameter; immutable, checked when made.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    args : mapping
        The kind's arguments (numbers).  Checked by :func:`problems` whoever makes the
        distribution (the scenario loader, :meth:`sim.scenario.Scenario.with_values`, a
        sweep, a notebook); held as a read-only :class:`FrozenArgs` of floats.

    Raises
    ------
    DistributionError
        If the arguments are invalid: a wrong or missing argument, a non-finite number,
        an impossible law (``sd < 0``, ``alpha <= 0``, ``low > high``, ...) or one whose
        values cannot be computed (they would come out as NaN or infinity).

    Notes
    -----
    Degenerate laws are fixed values: ``uniform`` or ``triangular`` with ``low == high``,
    ``normal`` or ``truncnormal`` with ``sd == 0`` (at ``mean``), ``truncnormal`` with
    ``low == high`` (at that value, whatever the mean and sd), ``lognormal`` or
    ``logitnormal`` with ``sigma == 0`` (at ``median``).
    """

    kind: str
    args: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        args = self.args
        if not isinstance(args, Mapping):
            raise DistributionError(self.kind, [("args", args, "a mapping of argument names "
                                                              "to numbers")])
        found = problems(self.kind, dict(args))
        if found:
            raise DistributionError(self.kind, found)
        object.__setattr__(self, "args", FrozenArgs({k: float(v) for k, v in args.items()}))

    @classmethod
    def fixed(cls, value: float) -> Distribution:
        return cls("fixed", {"value": value})

    @property
    def is_fixed(self) -> bool:
        return _is_fixed(self.kind, self.args)

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
        return _mean(self.kind, self.args)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function: maps uniforms in (0, 1) to parameter values."""
        return _ppf(self.kind, self.args, u)

    def from_scores(self, z: np.ndarray) -> np.ndarray:
        """Values at standard normal scores ``z``: ``ppf(ndtr(z))``.

        For the kinds of :data:`SCORED` a closed form of ``z``: ``ppf``'s with ``ndtri(u)``
        replaced by ``z``, equal to ``ppf(ndtr(z))`` up to rounding (and more accurate
        where ``ndtr(z)`` is close to 1).  For the other kinds ``ppf(ndtr(z))``.
        """
        if self.kind in SCORED and not self.is_fixed:
            return _scored(self.kind, self.args, np.asarray(z, dtype=float))
        return self.ppf(special.ndtr(z))

    def describe(self) -> str:
        """Short human-readable form, e.g. ``uniform(0.1, 0.3)``."""
        if self.kind == "fixed":
            return f"{self.args['value']:g}"
        inner = ", ".join(f"{self.args[k]:g}" for k in KINDS[self.kind])
        return f"{self.kind}({inner})"


# The laws themselves, on plain mappings of floats: :func:`problems` uses them to check
# arguments before any Distribution exists.

def _is_fixed(kind: str, a: Mapping[str, float]) -> bool:
    return (kind == "fixed"
            or (kind in ("normal", "truncnormal") and a["sd"] == 0)
            or (kind in ("lognormal", "logitnormal") and a["sigma"] == 0)
            or (kind in ("uniform", "triangular", "truncnormal") and a["low"] == a["high"]))


def _mean(kind: str, a: Mapping[str, float]) -> float:
    if kind == "fixed":
        return a["value"]
    if kind in ("uniform", "triangular", "truncnormal") and a["low"] == a["high"]:
        return a["low"]
    if kind in ("uniform", "triangular"):
        points = (a["low"], a["high"]) if kind == "uniform" else (a["low"], a["mode"], a["high"])
        mean = sum(points) / len(points)
        # near the largest floats the sum overflows where the mean does not
        mean = mean if math.isfinite(mean) else sum(x / len(points) for x in points)
        return min(max(mean, a["low"]), a["high"])  # rounding stays inside [low, high]
    if kind == "normal" or (kind == "truncnormal" and a["sd"] == 0):
        return a["mean"]
    if kind == "beta":
        return 1.0 / (1.0 + a["beta"] / a["alpha"])  # alpha / (alpha + beta), without overflow
    if kind == "lognormal":
        with np.errstate(over="ignore"):
            return float(a["median"] * np.exp(a["sigma"] ** 2 / 2))
    if kind == "logitnormal":
        if a["sigma"] == 0:
            return a["median"]
        with np.errstate(over="ignore", invalid="ignore"):
            values = special.expit(special.logit(a["median"]) + a["sigma"] * _GH_NODES)
        return float(values @ _GH_WEIGHTS / _GH_WEIGHTS.sum())
    # truncnormal: scipy's closed form, unless it fails far in a tail or on a sliver of
    # an interval (it can give infinity, or a value outside [low, high]); then the
    # integral of the quantile function, which stays accurate there
    with np.errstate(all="ignore"):
        mean = float(_truncnorm(a).mean())
    if math.isfinite(mean) and a["low"] <= mean <= a["high"]:
        return mean
    return float(_ppf(kind, a, _GL_NODES) @ _GL_WEIGHTS)


def _ppf(kind: str, a: Mapping[str, float], u: np.ndarray) -> np.ndarray:
    u = np.asarray(u, dtype=float)
    if _is_fixed(kind, a):
        return np.full(u.shape, _mean(kind, a))
    with np.errstate(all="ignore"):  # overflow shows as infinity, which callers check
        if kind == "uniform":
            return a["low"] + u * (a["high"] - a["low"])
        if kind == "triangular":
            # scipy.stats.triang's quantile function, without its per-call overhead
            width = a["high"] - a["low"]
            c = (a["mode"] - a["low"]) / width
            unit = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
            return unit * width + a["low"]
        if kind == "normal":
            return a["mean"] + a["sd"] * special.ndtri(u)
        if kind == "beta":
            return special.betaincinv(a["alpha"], a["beta"], u)
        if kind == "lognormal":
            return a["median"] * np.exp(a["sigma"] * special.ndtri(u))
        if kind == "logitnormal":
            return special.expit(special.logit(a["median"]) + a["sigma"] * special.ndtri(u))
        # truncnormal; rounding must not step outside [low, high] (NaN stays NaN)
        return np.clip(_truncnorm_ppf(a, u), a["low"], a["high"])


def _scored(kind: str, a: Mapping[str, float], z: np.ndarray) -> np.ndarray:
    """The values of a law of :data:`SCORED` at standard normal scores ``z``."""
    with np.errstate(all="ignore"):  # overflow shows as infinity, which callers check
        if kind == "normal":
            return a["mean"] + a["sd"] * z
        if kind == "lognormal":
            return a["median"] * np.exp(a["sigma"] * z)
        return special.expit(special.logit(a["median"]) + a["sigma"] * z)


def _truncnorm(a: Mapping[str, float]):
    from scipy import stats  # only here: importing scipy.stats takes a while

    lo = (a["low"] - a["mean"]) / a["sd"]
    hi = (a["high"] - a["mean"]) / a["sd"]
    return stats.truncnorm(lo, hi, loc=a["mean"], scale=a["sd"])


def _log_mass(lo: float, hi: float) -> float:
    """log(Phi(hi) - Phi(lo)) for lo < hi, accurate in both tails (as scipy.stats.truncnorm)."""
    if hi <= 0:  # both in the lower tail: log Phi(hi) + log(1 - Phi(lo) / Phi(hi))
        log_hi, log_lo = special.log_ndtr(hi), special.log_ndtr(lo)
        return float(log_hi + np.log1p(-np.exp(log_lo - log_hi)))
    if lo > 0:  # both in the upper tail: the mirror image
        return _log_mass(-hi, -lo)
    return float(np.log1p(-special.ndtr(lo) - special.ndtr(-hi)))


#: Probabilities below this are handled in log space (a sum with them loses digits).
_TINY = 1e-280


def _truncnorm_ppf(a: Mapping[str, float], u: np.ndarray) -> np.ndarray:
    """Quantiles of the normal(mean, sd) truncated to [low, high], in closed form.

    With alpha, beta the bounds in standard deviations and ``m = Phi(beta) - Phi(alpha)``
    the mass between them, the quantile ``x`` at ``u`` solves ``Phi(x) = Phi(alpha) + u m``
    below the mean, and its complement ``Q(x) = Q(beta) + (1 - u) m`` above it
    (``Q = 1 - Phi``), so that neither tail loses digits to a difference from 1.  Where a
    probability is too small for that sum (a slice of a tail 40 standard deviations out)
    the equation is solved in log space (``ndtri_exp``).  NaN where the mass of
    [low, high] cannot be computed.
    """
    alpha = (a["low"] - a["mean"]) / a["sd"]
    beta = (a["high"] - a["mean"]) / a["sd"]
    if not alpha < beta:  # the bounds are too many standard deviations out to tell apart
        return np.full(u.shape, math.nan)
    log_mass = _log_mass(alpha, beta)
    if not math.isfinite(log_mass):
        return np.full(u.shape, math.nan)
    v = np.atleast_1d(u)
    # the share of the mass below the mean: the quantiles there solve the lower equation
    below = 0.0 if alpha >= 0 else 1.0 if beta <= 0 else math.exp(
        _log_mass(alpha, 0.0) - log_mass)
    lower = np.full(v.shape, below > 0) if below <= 0 or below >= 1 else v <= below
    if log_mass < math.log(_TINY):
        x = _truncnorm_log_ppf(alpha, beta, log_mass, v, lower)
    else:
        mass = math.exp(log_mass)
        p = np.where(lower, special.ndtr(alpha) + v * mass, special.ndtr(-beta) + (1 - v) * mass)
        x = special.ndtri(p)
        np.negative(x, out=x, where=~lower)
        tiny = p < _TINY
        if tiny.any():
            x[tiny] = _truncnorm_log_ppf(alpha, beta, log_mass, v[tiny], lower[tiny])
    return (x * a["sd"] + a["mean"]).reshape(u.shape)


def _truncnorm_log_ppf(alpha: float, beta: float, log_mass: float, u: np.ndarray,
                       lower: np.ndarray) -> np.ndarray:
    """:func:`_truncnorm_ppf` in standard units, solved in log space."""
    x = np.empty(u.shape)
    if lower.any():
        x[lower] = special.ndtri_exp(np.logaddexp(special.log_ndtr(alpha),
                                                  np.log(u[lower]) + log_mass))
    upper = ~lower
    if upper.any():
        x[upper] = -special.ndtri_exp(np.logaddexp(special.log_ndtr(-beta),
                                                   np.log1p(-u[upper]) + log_mass))
    return x


def _as_float(value: object) -> float | None:
    """``value`` as a float, or None when it is not a number (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float: infinite
        return math.inf


def problems(kind: object, args: Mapping[str, object]) -> list[tuple[str, object, str]]:
    """Check a distribution's definition.

    Every :class:`Distribution` is checked by this function when it is made, and the
    scenario loader calls it to report each problem at its key.

    Returns
    -------
    list of (key, value, expected)
        Empty when the definition is valid.  ``key`` names the offending
        argument (``"dist"`` for the kind itself).
    """
    if not isinstance(kind, str) or kind not in KINDS:
        return [("dist", kind, f"one of {', '.join(KINDS)}")]
    found: list[tuple[str, object, str]] = []
    a: dict[str, float] = {}
    for name in KINDS[kind]:
        value = args.get(name)
        number = _as_float(value)
        if name not in args:
            found.append((name, None, f"a number (required by '{kind}')"))
        elif number is None:
            found.append((name, value, "a number"))
        elif not math.isfinite(number):
            found.append((name, value, "a finite number (not NaN or infinity, and not too "
                                       "large for a floating-point number)"))
        else:
            a[name] = number
    for name in args:
        if name not in KINDS[kind]:
            found.append((name, args[name], f"no such argument for '{kind}' "
                                            f"(it takes {', '.join(KINDS[kind])})"))
    if found:
        return found
    if kind in ("uniform", "triangular", "truncnormal") and a["low"] > a["high"]:
        found.append(("low", a["low"], f"low <= high (high is {a['high']:g})"))
    if kind == "triangular" and not a["low"] <= a["mode"] <= a["high"]:
        found.append(("mode", a["mode"], "low <= mode <= high"))
    if kind in ("normal", "truncnormal") and a["sd"] < 0:
        found.append(("sd", a["sd"], "a standard deviation >= 0"))
    if (kind == "truncnormal" and a["sd"] == 0 and a["low"] < a["high"]
            and not a["low"] <= a["mean"] <= a["high"]):
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
    if found:
        return found
    return _computable(kind, a)


def _computable(kind: str, a: Mapping[str, float]) -> list[tuple[str, object, str]]:
    """A problem if the law's values or mean come out as NaN or infinity, or outside its
    support (e.g. a truncated normal whose [low, high] lies too many standard deviations
    from the mean for the quantiles to be computed, or a log-normal whose values overflow)."""
    try:
        values = _ppf(kind, a, PROBE)
        mean = _mean(kind, a)
    except (ArithmeticError, ValueError):
        values, mean = np.array([math.nan]), math.nan
    lo, hi = (a["low"], a["high"]) if kind in ("uniform", "triangular", "truncnormal") else (
        (0.0, 1.0) if kind in ("beta", "logitnormal") else (-math.inf, math.inf))
    ok = (np.isfinite(values).all() and math.isfinite(mean)
          and bool(((values >= lo) & (values <= hi)).all()) and lo <= mean <= hi)
    if ok:
        return []
    key = _SPREAD[kind]
    return [(key, a[key], f"arguments for which '{kind}' can be computed: with these its "
                          "values or its mean come out as NaN, infinity or outside its range "
                          + _HINT.get(kind, "(the numbers are too large or too small)"))]


_HINT = {
    "truncnormal": "([low, high] lies too many standard deviations from the mean: move "
                   "the mean or widen sd, or give a fixed value)",
    "lognormal": "(median * exp(sigma * 7) or the mean median * exp(sigma^2 / 2) overflows: "
                 "use a smaller sigma)",
    "beta": "(alpha and beta too large or too small to be computed)",
}
