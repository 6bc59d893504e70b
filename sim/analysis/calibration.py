"""Fit the global behavioural weights to the historical cases: posterior mode, Laplace
approximation and, optionally, posterior draws by MCMC.

Method (documented in ``docs/calibration.md``)
-----------------------------------------------
* Every case is a scenario file with a ``resolution`` block (``scenarios/cases/``); an
  as-of fit (``before``) uses only the cases resolved before a date, and with none returns
  the prior.
* For a candidate vector of the fitted weights, each case is simulated with ``runs``
  worlds and one fixed seed (common random numbers: every candidate sees the same
  random draws, drawn once per case by :class:`CaseSimulator`).  Each world gives its
  outcome probabilities integrated over the host's resolve and the visitor's misreading
  (:mod:`sim.expected`), so the expected counts move smoothly with the weights.  The
  case's outcome probabilities are the smoothed expected frequencies
  ``(count + 0.5) / (runs + 2)`` (add-half, never 0), and the log-likelihood is the sum
  over cases of ``log p_case[outcome]``.
* The prior is the prior file's log-normal (or logit-normal) distributions: a Gaussian
  penalty on the transformed weights (log for positive weights, logit for shares).  It
  keeps weights that the 28 cases barely inform near their documented assumptions.
* Mode: BOBYQA (Py-BOBYQA), a derivative-free trust-region method that fits a quadratic
  model to the evaluations, in the transformed space, with a capped number of likelihood
  evaluations; about 100 for the 15 weights on the 28 cases.
* Laplace approximation at the mode: the Fisher information of the cases,
  ``sum_c J_c' diag(1 / p_c) J_c`` with ``J_c`` from central differences, plus the prior's
  precision, inverted.
* Posterior draws: 200 exact draws from the Laplace Gaussian, or with ``mcmc_steps``
  from ``emcee``'s ensemble sampler started there (:mod:`.posterior`).  The weights file
  carries the draws, which forecasts cycle over, and summarises each weight as a
  log-normal or logit-normal (the MCMC draws' median and spread, or the mode and its
  Laplace spread).
"""

from __future__ import annotations

import datetime as dt
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .. import catalogue as cat
from ..distributions import Distribution
from ..errors import ScenarioError, UsageError
from ..outcomes import OUTCOMES
from ..scenario import Scenario, read_yaml, weights_from_document
from ..streams import Streams, block_sizes
from .cases import load_cases, outcome_index, resolved_before
from .defaults import DEFAULT_MAX_EVALS, DEFAULT_RUNS, DEFAULT_SEED, FITTED
from .posterior import SAMPLERS, Chain, gaussian_draws, sample

# The engine and the model (Mesa, pandas, pyarrow), Py-BOBYQA and tqdm are imported
# where they are used.

#: Prior sd of a transformed weight that the prior file gives as a fixed value.
PRIOR_SD = {"identity": 2.0, "log": 1.0, "logit": 1.5}
#: Step of the central differences for the Fisher information (transformed units).
FD_STEP = 0.2
#: The optimiser's first and last trust-region radius (transformed units): it stops when
#: the region has shrunk to ``TRUST_END``, a twentieth of a logit: a small fraction of every
#: fitted weight's posterior spread (0.3 or more on this scale), so a closer mode would not
#: change the forecasts.
TRUST_START, TRUST_END = 0.5, 0.05


def prior_weights_file() -> Path:
    """The shipped prior weights (assumptions), from which every calibration starts."""
    return Path(str(resources.files("sim") / "data" / "weights_prior.yaml"))


# --------------------------------------------------------------------------- transforms

def transform_of(name: str) -> str:
    spec = cat.WEIGHT_PARAMS[name]
    if spec.low == -math.inf:
        return "identity"
    if spec.high == 1.0:
        return "logit"
    return "log"


def to_free(name: str, value: float) -> float:
    kind = transform_of(name)
    if kind == "log":
        return math.log(max(value, 1e-6))
    if kind == "logit":
        value = min(max(value, 1e-6), 1 - 1e-6)
        return math.log(value / (1 - value))
    return float(value)


def from_free(name: str, x: float) -> float:
    kind = transform_of(name)
    if kind == "log":
        return math.exp(min(x, 30.0))
    if kind == "logit":
        return 1.0 / (1.0 + math.exp(-x))
    return float(x)


def jacobian(name: str, x: float) -> float:
    """d(natural value) / d(transformed value) at ``x``."""
    kind = transform_of(name)
    value = from_free(name, x)
    if kind == "log":
        return value
    if kind == "logit":
        return value * (1 - value)
    return 1.0


# --------------------------------------------------------------------------- likelihood

def smoothed(counts: np.ndarray) -> np.ndarray:
    """Add-half smoothing of outcome counts (last axis): never 0, sums to 1."""
    counts = np.asarray(counts, dtype=float)
    return (counts + 0.5) / (counts.sum(axis=-1, keepdims=True) + 0.5 * len(OUTCOMES))


def case_counts(cases: Sequence[Scenario], values: Mapping[str, float | Distribution],
                runs: int, seed: int) -> np.ndarray:
    """Outcome counts ``(cases, 4)`` with the weights set to ``values`` (numbers or
    :class:`~sim.distributions.Distribution`), every case run with the same seed."""
    from ..engine import simulate_chunk

    sizes = block_sizes(runs)
    out = np.zeros((len(cases), len(OUTCOMES)), dtype=np.int64)
    paths = {f"weights.{k}": v for k, v in values.items()}
    for i, case in enumerate(cases):
        scenario = case.with_values(paths, note="calibration candidate") if paths else case
        out[i] = simulate_chunk(scenario, seed, 0, sizes, with_table=False).counts
    return out


class CaseSimulator:
    """Simulates the cases for candidate weights, drawing each case's parameters once.

    With common random numbers a case's parameter draws do not depend on the weights
    being fitted, so they are drawn once per case and only the fitted weights change
    between candidates.  With ``workers > 1`` the cases are shared out, by their number
    of days, among that many worker processes, each holding its cases' draws; the
    counts are the same.  Use it as a context manager (or call :meth:`close`) to stop
    the workers.
    """

    def __init__(self, cases: Sequence[Scenario], runs: int, seed: int, workers: int = 1):
        from ..sampling import draw_parameters

        self.cases = list(cases)
        self.runs, self.seed = runs, seed
        self.sizes = block_sizes(runs)
        self._shards: list[tuple[list[int], Any]] = []
        self._draws: list[dict] = []
        self._closed = False
        if workers > 1 and len(self.cases) > 1:
            from ..executors import ProcessPool

            for part in _share_out(self.cases, workers):
                pool = ProcessPool(1, initializer=_load_shard,
                                   initargs=([self.cases[i] for i in part], runs, seed))
                self._shards.append((part, pool))
        else:
            self._draws = [draw_parameters(c, Streams.for_range(seed, 0, self.sizes))
                           for c in self.cases]

    def counts(self, weights: Mapping[str, float]) -> np.ndarray:
        """Expected outcome counts ``(cases, 4)`` with the given weights fixed in every
        world (:func:`sim.engine.expected_counts`)."""
        if self._closed:
            raise RuntimeError("this CaseSimulator is closed: its workers have stopped")
        if not self._shards:
            return self._counts(weights)
        futures = [(part, pool.submit(_shard_counts, dict(weights)))
                   for part, pool in self._shards]
        out = np.zeros((len(self.cases), len(OUTCOMES)))
        for part, future in futures:
            out[part] = future.result()
        return out

    def _counts(self, weights: Mapping[str, float]) -> np.ndarray:
        from ..engine import expected_counts
        out = np.zeros((len(self.cases), len(OUTCOMES)))
        fixed = {f"weights.{k}": float(v) for k, v in weights.items()}
        for i, (case, draws) in enumerate(zip(self.cases, self._draws, strict=True)):
            out[i] = expected_counts(case, self.seed, 0, self.sizes, {**draws, **fixed})
        return out

    def close(self) -> None:
        for _, pool in self._shards:
            pool.shutdown(cancel_futures=True)
        self._shards, self._closed = [], True

    def __enter__(self) -> CaseSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _share_out(cases: Sequence[Scenario], workers: int) -> list[list[int]]:
    """Case indices in ``workers`` groups of about equal work (days simulated, plus a
    few days' worth for building each model), longest case first."""
    work = [c.days_before_visit + c.visit_days + 4 for c in cases]
    parts: list[list[int]] = [[] for _ in range(min(workers, len(cases)))]
    load = [0] * len(parts)
    for i in sorted(range(len(cases)), key=lambda i: -work[i]):
        j = load.index(min(load))
        parts[j].append(i)
        load[j] += work[i]
    return [sorted(p) for p in parts]


#: The cases of a worker process of :class:`CaseSimulator`, or the error drawing them gave.
_SHARD: CaseSimulator | Exception | None = None


def _load_shard(cases: list[Scenario], runs: int, seed: int) -> None:
    global _SHARD
    try:
        _SHARD = CaseSimulator(cases, runs, seed)
    except Exception as exc:  # kept for the first task, which the caller reads, instead
        _SHARD = exc          # of a broken pool that hides it


def _shard_counts(weights: dict[str, float]) -> np.ndarray:
    if isinstance(_SHARD, Exception):
        raise _SHARD
    assert _SHARD is not None, "the worker was started without its cases"
    return _SHARD.counts(weights)


# --------------------------------------------------------------------------- calibration

@dataclass
class Calibration:
    """The result of a fit: estimates, uncertainty and what produced them."""

    fitted: tuple[str, ...]
    estimate: dict[str, float]  # natural units
    free_estimate: np.ndarray  # transformed units
    free_cov: np.ndarray  # covariance of the transformed weights (Laplace)
    prior: dict[str, float]  # the prior centres (natural units), all weights
    prior_free_sd: dict[str, float]  # the prior spreads (transformed units), all weights
    prior_doc: dict
    prior_file: str
    case_ids: tuple[str, ...]
    log_likelihood: float
    log_likelihood_prior: float
    evaluations: int
    runs: int
    seed: int
    seconds: float
    probabilities: np.ndarray  # (cases, 4) at the estimate
    prior_probabilities: np.ndarray
    history: list[float] = field(default_factory=list, repr=False)
    before: dt.date | None = None  # an as-of fit: only cases resolved before this day
    chain: Chain | None = None  # posterior draws (transformed units)

    @property
    def free_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.free_cov))

    @property
    def sd(self) -> dict[str, float]:
        """Delta-method standard deviations in natural units (Laplace)."""
        return {n: abs(jacobian(n, x)) * s
                for n, x, s in zip(self.fitted, self.free_estimate, self.free_sd, strict=True)}

    @property
    def spread(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre and covariance of the transformed weights that forecasts draw from: the
        MCMC draws' median and covariance when sampled, else the mode and the Laplace
        covariance."""
        if self.chain is None or self.chain.sampler != "emcee":
            return self.free_estimate, self.free_cov
        samples = self.chain.samples
        return np.median(samples, axis=0), np.atleast_2d(np.cov(samples, rowvar=False))

    def table(self) -> str:
        when = f" resolved before {self.before}" if self.before else ""
        if not self.case_ids:
            return (f"no case{when}: the weights are the prior's "
                    f"({Path(self.prior_file).name})")
        sd = self.sd
        lines = [f"calibrated on {len(self.case_ids)} cases{when}, {self.runs:,} runs per "
                 f"case, seed {self.seed}, {self.evaluations} likelihood evaluations, "
                 f"{self.seconds:.0f} s",
                 f"log-likelihood {self.log_likelihood_prior:.2f} at the prior -> "
                 f"{self.log_likelihood:.2f} at the fit"]
        header = f"{'weight':<18}{'prior':>9}{'fitted':>10}{'sd':>9}"
        if self.chain is not None:
            c = self.chain
            lines.append(f"posterior: {c.walkers} walkers x {c.steps} steps (half burn-in), "
                         f"acceptance {c.acceptance:.2f}, autocorrelation time up to "
                         f"{c.autocorrelation:.0f} steps, {len(c.samples)} draws kept"
                         if c.sampler == "emcee" else
                         f"posterior: {len(c.samples)} {SAMPLERS[c.sampler]}")
            header += f"{'80% credible':>22}"
        lines.append(header)
        for i, n in enumerate(self.fitted):
            line = f"{n:<18}{self.prior[n]:>9.3g}{self.estimate[n]:>10.3g}{sd[n]:>9.3g}"
            if self.chain is not None:
                lo, hi = (from_free(n, v) for v in np.quantile(self.chain.samples[:, i],
                                                              [0.1, 0.9]))
                line += f"{f'{lo:.3g} - {hi:.3g}':>22}"
            lines.append(line)
        return "\n".join(lines)

    def weights_doc(self) -> dict:
        """The weights file: the prior file with the fitted weights replaced."""
        n_cases = len(self.case_ids)
        when = f" resolved before {self.before}" if self.before else ""
        centre, cov = self.spread
        spread_sd = np.sqrt(np.diag(cov))
        how = ("posterior median and spread of the MCMC draws"
               if self.chain is not None and self.chain.sampler == "emcee"
               else "posterior mode and Laplace spread")
        weights = {}
        for name, node in self.prior_doc["weights"].items():
            if name not in self.fitted or not n_cases:
                weights[name] = node
                continue
            i = self.fitted.index(name)
            kind = {"log": "lognormal", "logit": "logitnormal"}[transform_of(name)]
            median = from_free(name, float(centre[i]))
            weights[name] = {
                "dist": kind, "median": _r(median),
                "sigma": _r(max(float(spread_sd[i]), 1e-6)),
                "source": f"calibrated on {n_cases} cases{when} ({how}, {self.runs} runs "
                          f"per case, seed {self.seed}); prior median {self.prior[name]:g}, "
                          f"sigma {self.prior_free_sd[name]:g}; "
                          f"mean {_r(fitted_mean(kind, median, spread_sd[i]))}",
            }
        calibration: dict[str, Any] = {
            "method": "posterior of the transformed weights (log, or logit for shares): "
                      "Monte Carlo outcome frequencies with common random numbers, "
                      "integrated over the host's resolve and the visitor's misreading "
                      "(add-half smoothing) and the prior file's distributions as "
                      "Gaussian priors; mode by BOBYQA, Laplace approximation at the "
                      "mode (Fisher information from central differences plus prior "
                      "precision), and posterior draws that forecasts cycle over: exact "
                      "draws from the Laplace approximation, or by ensemble MCMC (emcee) "
                      "when sampled. See docs/calibration.md.",
            "date": dt.date.today().isoformat(),
            "resolved_before": str(self.before) if self.before else None,
            "cases": list(self.case_ids),
            "runs_per_case": self.runs,
            "seed": self.seed,
            "evaluations": self.evaluations,
            "log_likelihood": round(self.log_likelihood, 4),
            "log_likelihood_at_prior": round(self.log_likelihood_prior, 4),
            "prior_file": Path(self.prior_file).name,
            "prior_penalty": {n: {"transform": transform_of(n), "centre": self.prior[n],
                                  "sd": self.prior_free_sd[n]} for n in self.fitted},
            "fitted": {n: {"estimate": _r(self.estimate[n]), "sd": _r(sd),
                           "transformed_estimate": _r(float(x)),
                           "transformed_sd": _r(float(s))}
                       for (n, sd), x, s in zip(self.sd.items(), self.free_estimate,
                                                self.free_sd, strict=True)},
            "unfitted": [n for n in cat.WEIGHT_PARAMS if n not in self.fitted],
        }
        if not n_cases:
            calibration["note"] = f"no case{when}: the weights are the prior's"
        doc: dict[str, Any] = {
            "description": (f"Behavioural weights calibrated on {n_cases} resolved historical "
                            f"cases{when} ({len(self.fitted)} fitted, the rest at their "
                            "priors)." if n_cases else
                            f"The prior weights: no resolved case{when} to calibrate on."),
            "calibration": calibration,
            "weights": weights,
        }
        if n_cases:
            sd_outer = np.outer(spread_sd, spread_sd)
            corr = _positive_definite(np.round(cov / sd_outer, 3))
            pairs = []
            for i, a in enumerate(self.fitted):
                for j in range(i + 1, len(self.fitted)):
                    if abs(corr[i, j]) >= 0.01:
                        pairs.append({"between": [f"weights.{a}", f"weights.{self.fitted[j]}"],
                                      "rho": float(corr[i, j]),
                                      "source": f"calibration ({how})"})
            if pairs:
                doc["correlations"] = pairs
        if self.chain is not None:
            doc["posterior"] = {
                **self.chain.describe(),
                "weights": list(self.fitted),
                "samples": [[_r(from_free(n, float(v))) for n, v in zip(self.fitted, row,
                                                                         strict=True)]
                            for row in self.chain.samples],
            }
        return doc

    def write(self, path: str | Path, replace: bool = False) -> Path:
        """Write the weights file (YAML) atomically; returns its path.  Never over an
        existing file, unless ``replace`` (and then only a regular file)."""
        from ..output import write_new_file

        path = check_weights_path(path, replace=replace)
        header = ("# Global behavioural weights, calibrated on the historical cases by\n"
                  "# `python -m sim calibrate` (method: docs/calibration.md). Fitted weights are\n"
                  "# distributions: each replication of a forecast draws its weights from them,\n"
                  "# jointly (see correlations). "
                  "The prior assumptions are in weights_prior.yaml.\n")
        text = header + yaml.safe_dump(self.weights_doc(), sort_keys=False, width=100,
                                       allow_unicode=True)
        return write_new_file(path, text.encode(), replace=replace, what="weights file")


def fitted_mean(kind: str, median: float, sigma: float) -> float:
    """Mean of a weight drawn from its fitted distribution (what forecasts average over)."""
    return Distribution(kind, {"median": median, "sigma": float(sigma)}).mean()


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def _positive_definite(corr: np.ndarray) -> np.ndarray:
    """Shrink the off-diagonals until the (rounded) matrix is safely positive definite."""
    corr = corr.copy()
    for _ in range(200):
        if np.linalg.eigvalsh(corr).min() > 1e-6:
            return corr
        off = corr - np.eye(len(corr))
        corr = np.eye(len(corr)) + np.round(0.95 * off, 3)
    return np.eye(len(corr))


@dataclass(frozen=True)
class Prior:
    """The prior weights file: its document, and each weight's centre (natural units) and
    spread on the transformed scale, from its distribution."""

    doc: dict
    centre: dict[str, float]
    free_sd: dict[str, float]
    path: str


def read_prior(path: str | Path | None) -> Prior:
    """The prior weights file, validated like any weights file.

    A ``lognormal`` or ``logitnormal`` weight is centred on its median with its sigma
    as the spread of the transformed weight; a fixed weight gets :data:`PRIOR_SD`.
    """
    path = Path(path) if path else prior_weights_file()
    doc, problems = read_yaml(path)
    if problems:
        raise ScenarioError(problems)
    assert isinstance(doc, dict)  # read_yaml reports anything else as a problem
    params, _, problems = weights_from_document(doc, str(path))
    if problems:
        raise ScenarioError(problems)
    centre, free_sd = {}, {}
    for p, par in params.items():
        name = p.removeprefix("weights.")
        dist = par.dist
        if dist.kind in ("lognormal", "logitnormal"):
            centre[name], free_sd[name] = dist.args["median"], max(dist.args["sigma"], 1e-3)
        else:
            centre[name], free_sd[name] = dist.mean(), PRIOR_SD[transform_of(name)]
    return Prior(doc, centre, free_sd, str(path))


def check_weights_path(path: str | Path, replace: bool = False) -> Path:
    """A weights file that can be written, checked before fitting; creates nothing.

    Refused: an existing file (unless ``replace``), a folder, anything that is not a regular
    file (a device such as /dev/null, a pipe, a link), and a path that cannot be created.
    """
    from ..output import check_new_file

    return check_new_file(path, replace=replace, what="weights file")


def check_fitted(fitted: Sequence[str]) -> tuple[str, ...]:
    fitted = tuple(fitted)
    unknown = [n for n in fitted if n not in cat.WEIGHT_PARAMS]
    if unknown or not fitted or len(set(fitted)) != len(fitted):
        raise UsageError(f"weights to fit must be distinct names of global weights, got "
                         f"{list(fitted)}", hint=f"choose from {', '.join(cat.WEIGHT_PARAMS)}")
    return fitted


def check_fit_settings(*, runs: int, seed: int, max_evals: int, mcmc_steps: int,
                       workers: int = 1, per: str = "case") -> None:
    """Refuse settings of a fit (:func:`calibrate`, or the precedent weights') that are not
    whole numbers in range, one line each; ``per`` names what ``runs`` counts worlds of."""
    from ..engine import MAX_CHUNK

    for name, value, low in (("runs", runs, 10), ("max_evals", max_evals, 1),
                             ("seed", seed, 0), ("mcmc_steps", mcmc_steps, 0),
                             ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UsageError(f"{name} must be a whole number >= {low}, got {value!r}")
    if runs > MAX_CHUNK:
        raise UsageError(f"runs per {per} must be at most {MAX_CHUNK:,}, got {runs:,}")
    if 0 < mcmc_steps < 20:
        raise UsageError(f"mcmc_steps must be 0 (no sampling) or at least 20, got {mcmc_steps}")


def calibrate(source, prior: str | Path | None = None, fitted: Sequence[str] = FITTED,
              runs: int = DEFAULT_RUNS, seed: int = DEFAULT_SEED,
              max_evals: int = DEFAULT_MAX_EVALS, progress: bool | None = None,
              desc: str = "calibrate", before: dt.date | None = None,
              mcmc_steps: int = 0, workers: int = 1) -> Calibration:
    """Fit ``fitted`` weights to the resolved cases in ``source`` (folder or file list).

    Every case is loaded with the prior weights file (default ``weights_prior.yaml``),
    so the fit never depends on a previous calibration.

    Parameters
    ----------
    before : only the cases resolved before this date (an as-of fit).  With none, the
        result is the prior itself.
    workers : worker processes the cases are shared out among (:class:`CaseSimulator`);
        the result does not depend on it.
    mcmc_steps : when positive, also sample the posterior (:mod:`.posterior`) with this
        many steps per walker, starting from the mode and its Laplace approximation;
        otherwise the posterior draws come from the Laplace approximation itself.  The
        weights file carries the draws, which forecasts cycle over.
    """
    fitted = check_fitted(fitted)
    check_fit_settings(runs=runs, seed=seed, max_evals=max_evals, mcmc_steps=mcmc_steps,
                       workers=workers)
    prior_file = read_prior(prior)
    prior_doc, prior_values, prior_path = prior_file.doc, prior_file.centre, prior_file.path
    # an empty list of files is an empty training set (an as-of fit before any case)
    cases = load_cases(source, weights=prior_path) if isinstance(source, str | Path) \
        or len(source) else []
    if before is not None:
        cases = resolved_before(cases, before)
    start = time.perf_counter()
    x0 = np.array([to_free(n, prior_values[n]) for n in fitted])
    prior_sd = np.array([prior_file.free_sd[n] for n in fitted])
    if not cases:  # nothing was known before the date: the prior is the posterior
        return Calibration(
            fitted=fitted, estimate={n: prior_values[n] for n in fitted}, free_estimate=x0,
            free_cov=np.diag(prior_sd ** 2), prior=prior_values,
            prior_free_sd=prior_file.free_sd, prior_doc=prior_doc, prior_file=prior_path,
            case_ids=(), log_likelihood=0.0, log_likelihood_prior=0.0, evaluations=0,
            runs=runs, seed=seed, seconds=time.perf_counter() - start,
            probabilities=np.zeros((0, len(OUTCOMES))),
            prior_probabilities=np.zeros((0, len(OUTCOMES))), before=before,
            chain=gaussian_draws(x0, np.diag(prior_sd ** 2), seed, "prior"))
    observed = [outcome_index(c) for c in cases]
    with CaseSimulator(cases, runs, seed, workers) as simulator:
        def probabilities(x: np.ndarray) -> np.ndarray:
            values = {n: from_free(n, v) for n, v in zip(fitted, x, strict=True)}
            return smoothed(simulator.counts(values))

        fit = fit_posterior(probabilities, observed, x0, prior_sd, max_evals=max_evals,
                            mcmc_steps=mcmc_steps, seed=seed, progress=progress, desc=desc)
    return Calibration(
        fitted=fitted,
        estimate={n: from_free(n, v) for n, v in zip(fitted, fit.mode, strict=True)},
        free_estimate=fit.mode, free_cov=fit.cov, prior=prior_values,
        prior_free_sd=prior_file.free_sd,
        prior_doc=prior_doc, prior_file=prior_path, case_ids=tuple(c.id for c in cases),
        log_likelihood=fit.log_likelihood, log_likelihood_prior=fit.log_likelihood_start,
        evaluations=fit.evaluations, runs=runs, seed=seed,
        seconds=time.perf_counter() - start, probabilities=fit.at_mode,
        prior_probabilities=fit.at_start, history=fit.history, before=before,
        chain=fit.chain)


@dataclass
class PosteriorFit:
    """What :func:`fit_posterior` found, in transformed units."""

    mode: np.ndarray
    cov: np.ndarray  # Laplace covariance at the mode
    chain: Chain  # posterior draws: Laplace, or MCMC when asked for
    evaluations: int  # likelihood evaluations of the mode (not the covariance's)
    history: list[float]  # the optimiser's objective, evaluation by evaluation
    at_mode: np.ndarray  # the probabilities at the mode, and at the start
    at_start: np.ndarray
    log_likelihood: float  # at the mode, and at the start
    log_likelihood_start: float


def fit_posterior(probabilities: Callable[[np.ndarray], np.ndarray], observed: Sequence[int],
                  x0: np.ndarray, prior_sd: np.ndarray, *, max_evals: int, mcmc_steps: int,
                  seed: int, progress: bool | None = None,
                  desc: str = "calibrate") -> PosteriorFit:
    """The posterior of transformed parameters ``x`` with independent Gaussian priors
    ``N(x0, prior_sd)`` and the log-likelihood ``sum_k log probabilities(x)[k, observed[k]]``.

    ``probabilities(x)`` gives an outcome distribution per observation, ``(k, 4)``, never
    0 (smoothed).  Mode by BOBYQA from ``x0`` within ``max_evals`` evaluations, the
    Laplace covariance there (Fisher information from central differences plus the
    prior's precision), and posterior draws: :data:`~.posterior.KEEP` from the Laplace
    Gaussian, or by ``emcee`` with ``mcmc_steps`` steps per walker when positive.  Every
    calibration of the project goes through here (the behavioural weights on the cases,
    the precedent weights on the itineraries).
    """
    import pybobyqa
    from tqdm.auto import tqdm

    index = np.arange(len(observed)), np.asarray(observed)
    cache: dict[tuple, np.ndarray] = {}
    bar = tqdm(total=max_evals + 2 * len(x0), unit="eval", delay=2.0,
               disable=progress is False, leave=False, desc=desc)  # the mode, then Laplace

    def cached(x: np.ndarray) -> np.ndarray:
        key = tuple(np.round(x, 10))
        if key not in cache:
            cache[key] = probabilities(x)
            bar.update(1)
        return cache[key]

    def log_posterior(x: np.ndarray) -> float:
        ll = float(np.sum(np.log(cached(x)[index])))
        return ll - 0.5 * float(np.sum(((x - x0) / prior_sd) ** 2))

    history: list[float] = []

    def objective(x: np.ndarray) -> float:
        history.append(-log_posterior(x))
        return history[-1]

    try:
        # Py-BOBYQA, deterministic as configured: coordinate directions for the first
        # model and no restarts (the only places it would draw random numbers)
        with warnings.catch_warnings():  # a budget below its first model's points is allowed
            warnings.filterwarnings("ignore", "maxfun <= npt", RuntimeWarning)
            found = pybobyqa.solve(objective, x0, rhobeg=TRUST_START, rhoend=TRUST_END,
                                   maxfun=max_evals, objfun_has_noise=False,
                                   user_params={"init.random_initial_directions": False})
        best = found.x if found.x is not None and found.f <= -log_posterior(x0) else x0
        best = np.asarray(best, dtype=float)
        evaluations = len(cache)
        cov = _laplace_covariance(cached, best, prior_sd)
    finally:
        bar.close()
    chain = gaussian_draws(best, cov, seed, "laplace")
    if mcmc_steps:
        chain = sample(log_posterior, best, cov, mcmc_steps, seed,
                       progress=progress is not False)
    at_mode, at_start = cached(best), cached(x0)
    return PosteriorFit(mode=best, cov=cov, chain=chain, evaluations=evaluations,
                        history=history, at_mode=at_mode, at_start=at_start,
                        log_likelihood=float(np.sum(np.log(at_mode[index]))),
                        log_likelihood_start=float(np.sum(np.log(at_start[index]))))


def _laplace_covariance(probabilities: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                        prior_sd: np.ndarray, step: float = FD_STEP) -> np.ndarray:
    """Inverse of (Fisher information of the observations + prior precision), in
    transformed units."""
    d = len(x)
    p0 = probabilities(x)
    jac = np.zeros((*p0.shape, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = step
        jac[:, :, j] = (probabilities(x + e) - probabilities(x - e)) / (2 * step)
    info = np.einsum("cki,ck,ckj->ij", jac, 1.0 / p0, jac)
    precision = info + np.diag(1.0 / prior_sd ** 2)
    cov = np.linalg.inv(precision)
    return (cov + cov.T) / 2


__all__ = ["FITTED", "Calibration", "PosteriorFit", "calibrate", "case_counts",
           "fit_posterior", "prior_weights_file", "smoothed"]
