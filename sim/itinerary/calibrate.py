"""Calibration of the precedent weights on the resolved itineraries (issue 14, item 4).

The evidence is each resolved visit's outcome *given the earlier visits' recorded outcomes*
(and the Court's recorded findings, ``noncompliance_finding`` in the itinerary file): in every
world the history is what happened, not what the model drew, so the likelihood is the product
over the visits of the model's probability of each observed outcome given that history,
``prod_k P(o_k | o_1 .. o_{k-1})``, on the same worlds as a standalone run of each case.
Every world's outcome probabilities are integrated over the host's resolve and the
visitor's misreading (as in :func:`sim.engine.expected_counts`), so the likelihood is smooth
in the weights.  A world is also one draw of what the visits share (the visitor's and the
Court's parameters, the behavioural weights' posterior draw), which the recorded history
informs: each visit's probabilities are the worlds' mean weighted by the probability of the
history so far (:func:`sequential`), so that visits made alike by the shared draws are not
read as precedents.  The first visit's is the behavioural calibration's likelihood of its
case, with its add-half smoothing.

Two fits use it (:class:`SequenceSimulator`):

* :func:`calibrate_precedents`, the calibration: the chosen precedent weights fitted jointly
  through :func:`sim.analysis.calibration.fit_posterior` (posterior mode by BOBYQA, Laplace
  covariance, posterior draws), on the log scale with log-normal priors centred on the prior
  file; :class:`PrecedentCalibration` writes a precedent weights file that ``sim run
  ITINERARY --precedent-weights FILE`` reads;
* :func:`fit_strength`, a test of "no precedent at all": the profile likelihood of two
  strengths scaling groups of the prior's effects, on a grid that includes 0 (every effect
  off), which the log scale of the calibration cannot reach.

The behavioural weights stay those the itineraries were loaded with (the shipped calibration,
with its posterior draws): the two sets are not fitted jointly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.defaults import DEFAULT_MAX_EVALS, DEFAULT_RUNS, DEFAULT_SEED
from ..analysis.posterior import SAMPLERS, Chain
from ..errors import UsageError
from ..outcomes import OUTCOMES
from ..streams import Streams, block_sizes
from .precedent import (
    PRECEDENT_PARAMS,
    History,
    PrecedentWeights,
    carry_over,
    load_precedent_weights,
)
from .spec import Itinerary

#: The effect weights (what a precedent does); the proximity weights and the half-life only
#: say how much an earlier visit counts.
EFFECTS = ("court_wear", "court_recovery", "visitor_emboldened", "visitor_deterred",
           "host_imitation", "host_deterrence")
#: The weights :func:`calibrate_precedents` fits by default (its docstring says why).
FITTED = EFFECTS
#: Prior sd of a log precedent weight (see :func:`calibrate_precedents`).
PRIOR_SD_LOG = 1.0


# --------------------------------------------------------------------------- the evidence

def observed(itinerary: Itinerary) -> tuple[list[int], list[bool]]:
    """Each visit's resolved outcome code and recorded finding (False when none is recorded).

    Raises
    ------
    UsageError
        If a visit's scenario has no resolution (a forecast, not a resolved case).
    """
    codes, findings = [], []
    for visit in itinerary.visits:
        resolution = visit.scenario.resolution
        if resolution is None:
            raise UsageError(f"visit {visit.id} of itinerary {itinerary.id} is not a resolved "
                             "case: the precedent weights are fitted on what happened",
                             hint="use itineraries of the case library's resolved cases")
        codes.append(OUTCOMES.index(resolution.outcome))
        findings.append(bool(visit.finding))
    return codes, findings


def resolved_itineraries(itineraries: Sequence[Itinerary | str | Path]) -> list[Itinerary]:
    """The itineraries (loaded from their files where paths are given), each checked to be
    resolved at every visit, none given twice.

    Raises
    ------
    UsageError
        No itinerary, one given twice, or a visit without a resolution.
    ScenarioError
        An itinerary file that does not load.
    """
    from .spec import load_itinerary

    if isinstance(itineraries, str | Path | Itinerary):
        itineraries = [itineraries]
    loaded = [it if isinstance(it, Itinerary) else load_itinerary(it) for it in itineraries]
    if not loaded:
        raise UsageError("no itinerary to fit the precedent weights on",
                         hint="give resolved itineraries, e.g. "
                              "scenarios/itineraries/bashir_2009_2018.yaml")
    ids = [it.id for it in loaded]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise UsageError(f"itinerary {', '.join(twice)} given more than once: its visits "
                         "would count twice as evidence")
    for it in loaded:
        observed(it)
    return loaded


class SequenceSimulator:
    """Each visit of a resolved itinerary, given the recorded history, for candidate weights.

    The parameters of each visit are drawn once, as a standalone run of its case with
    ``seed`` draws them (they do not depend on the precedent weights); a candidate only
    shifts them (:func:`~sim.itinerary.precedent.carry_over`) and reruns the models, on
    common random numbers.
    """

    def __init__(self, itinerary: Itinerary, runs: int, seed: int):
        from ..sampling import draw_parameters

        self.itinerary = itinerary
        self.seed, self.sizes = seed, block_sizes(runs)
        self.n = runs
        self.codes, self.findings = observed(itinerary)
        self._draws = [draw_parameters(v.scenario, Streams.for_range(seed, 0, self.sizes))
                       for v in itinerary.visits]

    def world_probabilities(self, precedent: PrecedentWeights) -> np.ndarray:
        """Each world's outcome probabilities at each visit, ``(visits, worlds, 4)``, the
        precedents being those of the recorded earlier outcomes and findings, integrated
        over the host's resolve and the visitor's misreading (smooth in the weights)."""
        from ..engine import expected_probabilities

        # the same recorded history in every world
        history = History([np.full(self.n, c, dtype=np.int8) for c in self.codes],
                          [np.full(self.n, f) for f in self.findings])
        return np.stack([
            expected_probabilities(visit.scenario, self.seed, 0, self.sizes,
                                   carry_over(self._draws[k], k, self.itinerary, history,
                                              precedent))
            for k, visit in enumerate(self.itinerary.visits)])

    def probabilities(self, precedent: PrecedentWeights) -> np.ndarray:
        """Each visit's smoothed outcome probabilities ``(visits, 4)`` given the recorded
        earlier outcomes (:func:`sequential`)."""
        return sequential(self.world_probabilities(precedent), self.codes)[0]

    def effective_worlds(self, precedent: PrecedentWeights) -> np.ndarray:
        """How many worlds each visit's probabilities effectively rest on (:func:`sequential`):
        ``runs`` at the first visit, fewer as the recorded history singles worlds out."""
        return sequential(self.world_probabilities(precedent), self.codes)[1]

    def log_likelihood(self, precedent: PrecedentWeights) -> np.ndarray:
        """Each visit's log-probability of its observed outcome given the recorded history."""
        p = self.probabilities(precedent)
        return np.log(p[np.arange(len(self.codes)), self.codes])


def sequential(p: np.ndarray, codes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """``P(o_k | o_1 .. o_{k-1})`` for each visit ``k``, from the worlds' probabilities
    ``p`` ``(visits, worlds, 4)`` of the observed outcomes ``codes``: ``(visits, 4)``, and
    the effective number of worlds behind each visit's, ``(visits,)``.

    A world is one draw of everything the visits share (the visitor's and the Court's
    parameters, the behavioural weights' posterior draw), so the recorded history says
    which worlds are likely: visit ``k``'s probabilities are the worlds' mean weighted by
    each world's probability of the history so far, ``prod_{j<k} p[j, w, o_j]``.  Their
    product over the visits is the Monte Carlo probability of the whole recorded sequence,
    ``mean_w prod_k p[k, w, o_k]``.  Each is smoothed by adding half an observation to each
    outcome over the weights' effective number of worlds ``n_eff = (sum w)^2 / sum w^2``:
    ``(n_eff p + 0.5) / (n_eff + 2)``, for the first visit (equal weights) exactly the
    add-half smoothing of :func:`sim.analysis.calibration.smoothed`.  Without the weights,
    a run of visits that the shared draws make alike would be read as a precedent effect.
    """
    visits, worlds, _ = p.shape
    log_w = np.zeros(worlds)
    out = np.empty((visits, p.shape[2]))
    effective = np.empty(visits)
    for k in range(visits):
        top = log_w.max()
        # a history no world can give tells nothing about the worlds: equal weights
        w = np.exp(log_w - top) if np.isfinite(top) else np.ones(worlds)
        n_eff = effective[k] = w.sum() ** 2 / (w ** 2).sum()
        mean = w @ p[k] / w.sum()
        out[k] = (n_eff * mean + 0.5) / (n_eff + 0.5 * p.shape[2])
        with np.errstate(divide="ignore"):
            log_w = log_w + np.log(p[k, :, codes[k]])
    return out, effective


# --------------------------------------------------------------------------- the calibration

def natural(name: str, x: float) -> float:
    """A precedent weight from its log, kept within its bounds (:data:`PRECEDENT_PARAMS`)."""
    spec = PRECEDENT_PARAMS[name]
    return float(min(max(math.exp(min(x, 30.0)), spec.low), spec.high))


def with_fitted(prior: PrecedentWeights, fitted: Sequence[str], x: np.ndarray,
                label: str = "candidate") -> PrecedentWeights:
    """The prior with the ``fitted`` weights at the logs ``x``."""
    values = dict(prior.values)
    values.update({n: natural(n, float(v)) for n, v in zip(fitted, x, strict=True)})
    return PrecedentWeights(values, label)


def check_fitted(fitted: Sequence[str] | None, prior: PrecedentWeights) -> tuple[str, ...]:
    """The precedent weights to fit: ``fitted``, or by default those of :data:`FITTED` with
    a positive prior value.

    Raises
    ------
    UsageError
        An unknown or repeated name, none at all, or a weight asked for whose prior value is
        0 (a log-normal prior cannot be centred there).
    """
    if fitted is None:
        chosen = tuple(n for n in FITTED if prior[n] > 0)
        if not chosen:
            raise UsageError(f"every default precedent weight ({', '.join(FITTED)}) has "
                             f"prior value 0 in {prior.file}: nothing to fit",
                             hint="give a prior with positive values, or name the weights")
        return chosen
    chosen = (fitted,) if isinstance(fitted, str) else tuple(fitted)
    unknown = [n for n in chosen if n not in PRECEDENT_PARAMS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise UsageError(f"precedent weights to fit must be distinct names, got {list(chosen)}",
                         hint=f"choose from {', '.join(PRECEDENT_PARAMS)}")
    zero = [n for n in chosen if prior[n] <= 0]
    if zero:
        raise UsageError(f"cannot fit {', '.join(zero)}: prior value 0 in {prior.file}, and "
                         "the fit's log-normal prior needs a positive centre",
                         hint="give the weight a positive prior value, or leave it unfitted")
    return chosen


def calibrate_precedents(itineraries: Sequence[Itinerary | str | Path],
                         prior: str | Path | None = None,
                         fitted: Sequence[str] | None = None, runs: int = DEFAULT_RUNS,
                         seed: int = DEFAULT_SEED, max_evals: int = DEFAULT_MAX_EVALS,
                         mcmc_steps: int = 0,
                         progress: bool | None = None) -> PrecedentCalibration:
    """Fit precedent weights jointly on the resolved itineraries.

    Parameters
    ----------
    itineraries : sequence of Itinerary or paths
        Resolved itineraries (every visit a case with a resolution), or their files (read
        with the shipped behavioural weights, :func:`~sim.itinerary.spec.load_itinerary`).
    prior : path, optional
        A precedent weights file (default ``sim/data/precedent_prior.yaml``): the centres of
        the priors, and the values and sources of the weights not fitted.
    fitted : sequence of str, optional
        The weights to fit.  Default: the six effect weights (:data:`EFFECTS`), those of
        them with a positive prior value.  They are what the sequences can inform: each
        says what a kind of precedent the record holds does to a later visit (unpunished
        stays: Chad, Kenya, Djibouti, Malawi, Uganda; findings: Chad, Malawi, the DRC,
        Djibouti, Mongolia; a visit cut short: Nigeria 2013).  The proximity weights only
        scale the host effects (``host_imitation`` times a proximity), so
        ``proximity_visitor``, the unit, is not identified apart from them, and the
        relative ``proximity_region`` and ``proximity_bloc`` and the
        ``memory_half_life_years`` only reweight the same few precedents: 23 visits cannot
        tell them from the effects' sizes.  They can be named here (then the prior alone
        keeps them apart).
    runs : int
        Worlds per visit and candidate (common random numbers).
    seed : int
        Fixes every draw: the worlds, the optimiser's path (deterministic) and the
        posterior draws.
    max_evals : int
        Cap on the optimiser's likelihood evaluations.
    mcmc_steps : int
        0: the posterior draws are exact draws from the Laplace approximation at the mode;
        at least 20: ``emcee`` steps per walker (:func:`sim.analysis.posterior.sample`).
    progress : bool, optional
        A progress bar (None: only when slow).

    Returns
    -------
    PrecedentCalibration

    Notes
    -----
    Each fitted weight's prior is a Gaussian on its log, centred on the log of its prior
    value, with sd :data:`PRIOR_SD_LOG` = 1, the behavioural calibration's spread for a
    positive weight given as a fixed value (:data:`sim.analysis.calibration.PRIOR_SD`):
    the prior file's values are order-of-magnitude assumptions ("about a third of a logit
    per defiance"), so one sd is a factor e either way and the 95% prior range a factor of
    about 7, wide enough for the record to move a weight, narrow enough to keep one it
    does not inform near its documented assumption.  A weight leaves its bounds
    (:data:`PRECEDENT_PARAMS`) nowhere: its value is the exponential of the fitted log,
    clipped to them.  A prior value of 0 has no log: such a weight is left at 0 by
    default and refused when named.

    Raises
    ------
    UsageError
        A bad setting, an unknown weight or one with prior value 0 named in ``fitted``, an
        itinerary given twice or with an unresolved visit (one line each).
    ScenarioError
        A prior or itinerary file that does not load.
    """
    from ..analysis.calibration import check_fit_settings, fit_posterior
    from ..scenario import read_yaml

    check_fit_settings(runs=runs, seed=seed, max_evals=max_evals, mcmc_steps=mcmc_steps,
                       per="visit")
    prior_weights = load_precedent_weights(prior)
    prior_doc, _ = read_yaml(Path(prior_weights.file))  # just read: it loads
    sources = dict((prior_doc or {})["precedent_weights"])
    fitted = check_fitted(fitted, prior_weights)
    loaded = resolved_itineraries(itineraries)
    start = time.perf_counter()
    simulators = [SequenceSimulator(it, runs, seed) for it in loaded]
    codes = [c for s in simulators for c in s.codes]

    def probabilities(x: np.ndarray) -> np.ndarray:
        weights = with_fitted(prior_weights, fitted, x)
        return np.concatenate([s.probabilities(weights) for s in simulators])

    x0 = np.array([math.log(prior_weights[n]) for n in fitted])
    fit = fit_posterior(probabilities, codes, x0, np.full(len(fitted), PRIOR_SD_LOG),
                        max_evals=max_evals, mcmc_steps=mcmc_steps, seed=seed,
                        progress=progress, desc="precedents")
    none = sum(float(s.log_likelihood(PrecedentWeights.zero()).sum()) for s in simulators)
    at_mode = with_fitted(prior_weights, fitted, fit.mode)
    effective = np.concatenate([s.effective_worlds(at_mode) for s in simulators])
    return PrecedentCalibration(
        fitted=fitted, prior=prior_weights, prior_sources=sources, mode=fit.mode,
        cov=fit.cov, chain=fit.chain,
        itineraries=tuple((it.id, len(it.visits)) for it in loaded),
        visits=tuple((it.id, v.id) for it in loaded for v in it.visits),
        observed=tuple(codes), at_mode=fit.at_mode, at_prior=fit.at_start,
        log_likelihood=fit.log_likelihood, log_likelihood_prior=fit.log_likelihood_start,
        log_likelihood_none=none, effective_worlds=effective, evaluations=fit.evaluations,
        runs=runs, seed=seed, seconds=time.perf_counter() - start)


def _g(x: float) -> str:
    return f"{x:.3g}"


@dataclass(frozen=True)
class PrecedentCalibration:
    """The precedent weights fitted on resolved itineraries: mode, draws and evidence.

    ``mode`` and ``cov`` are on the log scale of the fitted weights; ``chain`` holds the
    posterior draws (Laplace or MCMC), also logs.  ``at_mode`` and ``at_prior`` are the
    visits' outcome probabilities ``(visits, 4)``, in the order of ``visits``.
    """

    fitted: tuple[str, ...]
    prior: PrecedentWeights
    prior_sources: dict  # each weight's node in the prior file: value and source
    mode: np.ndarray
    cov: np.ndarray
    chain: Chain  # posterior draws of the logs
    itineraries: tuple[tuple[str, int], ...]  # (id, visits)
    visits: tuple[tuple[str, str], ...]  # (itinerary id, visit id)
    observed: tuple[int, ...]
    at_mode: np.ndarray
    at_prior: np.ndarray
    log_likelihood: float  # at the mode
    log_likelihood_prior: float  # at the prior values
    log_likelihood_none: float  # every precedent effect off
    effective_worlds: np.ndarray  # (visits,) at the mode, see sequential()
    evaluations: int
    runs: int
    seed: int
    seconds: float

    @property
    def estimate(self) -> dict[str, float]:
        """The fitted weights at the posterior mode, natural units."""
        return {n: natural(n, float(x)) for n, x in zip(self.fitted, self.mode, strict=True)}

    def interval(self, level: float) -> dict[str, tuple[float, float]]:
        """Each fitted weight's central posterior interval at ``level``, from the draws."""
        tail = (1 - level) / 2
        return {n: (natural(n, lo), natural(n, hi)) for n, (lo, hi) in
                zip(self.fitted, np.quantile(self.chain.samples, [tail, 1 - tail], axis=0).T,
                    strict=True)}

    @property
    def sd_ratio(self) -> dict[str, float]:
        """Posterior sd of each log weight (the draws') over its prior sd: near 1 the
        sequences say little about it, well below 1 they identify it."""
        sd = np.std(self.chain.samples, axis=0, ddof=1)
        return {n: float(s) / PRIOR_SD_LOG for n, s in zip(self.fitted, sd, strict=True)}

    def weights(self) -> PrecedentWeights:
        """The prior's weights with the fitted ones at the mode."""
        return with_fitted(self.prior, self.fitted, self.mode, "calibrated")

    def _draws_note(self) -> str:
        c = self.chain
        if c.sampler == "emcee":
            return (f"{len(c.samples)} posterior draws by emcee ({c.walkers} walkers x "
                    f"{c.steps} steps, half burn-in, acceptance {c.acceptance:.2f})")
        return f"{len(c.samples)} {SAMPLERS[c.sampler]}"

    def _evidence(self) -> str:
        return ", ".join(f"{i} ({n} visits)" for i, n in self.itineraries)

    def table(self) -> str:
        """The fit as printable text: settings, log-likelihoods, one row per weight."""
        lo80, lo95 = self.interval(0.8), self.interval(0.95)
        lines = [f"precedent weights fitted on {self._evidence()}: {self.runs:,} worlds per "
                 f"visit, seed {self.seed}, {self.evaluations} likelihood evaluations, "
                 f"{self.seconds:.0f} s",
                 f"log-likelihood {self.log_likelihood_prior:.2f} at the prior -> "
                 f"{self.log_likelihood:.2f} at the fit ({self.log_likelihood_none:.2f} with "
                 "every precedent effect off)",
                 f"intervals from {self._draws_note()}; each visit's probabilities rest on "
                 f"at least {self.effective_worlds.min():.0f} effective worlds",
                 f"{'weight':<24}{'prior':>8}{'fitted':>9}{'80% interval':>18}"
                 f"{'95% interval':>18}{'sd/prior sd':>13}"]
        estimate, ratio = self.estimate, self.sd_ratio
        for n in self.fitted:
            lines.append(f"{n:<24}{_g(self.prior[n]):>8}{_g(estimate[n]):>9}"
                         f"{_g(lo80[n][0]) + ' - ' + _g(lo80[n][1]):>18}"
                         f"{_g(lo95[n][0]) + ' - ' + _g(lo95[n][1]):>18}{ratio[n]:>13.2f}")
        rest = [n for n in PRECEDENT_PARAMS if n not in self.fitted]
        if rest:
            lines.append("not fitted (prior values): "
                         + ", ".join(f"{n} {_g(self.prior[n])}" for n in rest))
        return "\n".join(lines)

    def summary(self) -> dict:
        """The fit as plain data (JSON-ready)."""
        lo80, lo95 = self.interval(0.8), self.interval(0.95)
        rows = np.arange(len(self.observed)), np.asarray(self.observed)
        return {
            "itineraries": {i: n for i, n in self.itineraries},
            "fitted": {n: {"prior": self.prior[n], "estimate": v, "interval_80": list(lo80[n]),
                           "interval_95": list(lo95[n]), "sd_ratio": self.sd_ratio[n]}
                       for n, v in self.estimate.items()},
            "unfitted": {n: self.prior[n] for n in PRECEDENT_PARAMS if n not in self.fitted},
            "log_likelihood": {"fit": self.log_likelihood, "prior": self.log_likelihood_prior,
                               "no_precedent": self.log_likelihood_none},
            "visits": [{"itinerary": i, "visit": v, "outcome": OUTCOMES[o],
                        "p_prior": float(pp), "p_fit": float(pm), "effective_worlds": float(e)}
                       for (i, v), o, pp, pm, e in zip(self.visits, self.observed,
                                                       self.at_prior[rows], self.at_mode[rows],
                                                       self.effective_worlds, strict=True)],
            "posterior": self.chain.describe(),
            "prior_file": self.prior.file, "prior_sd_log": PRIOR_SD_LOG,
            "runs_per_visit": self.runs, "seed": self.seed,
            "evaluations": self.evaluations, "seconds": self.seconds,
        }

    def weights_doc(self) -> dict:
        """The precedent weights file: every weight with its value and source, the fitted
        ones at the mode with their intervals, the others copied from the prior file."""
        lo80, lo95 = self.interval(0.8), self.interval(0.95)
        how = (f"joint posterior mode (BOBYQA) of {', '.join(self.fitted)} on the log scale, "
               f"each with a normal prior of sd {PRIOR_SD_LOG:g} around the log of its prior "
               f"value; {self.runs:,} worlds per visit, seed {self.seed}; intervals from "
               f"{self._draws_note()}")
        weights: dict[str, Any] = {}
        for name in PRECEDENT_PARAMS:
            if name not in self.fitted:
                weights[name] = self.prior_sources[name]
                continue
            weights[name] = {
                "value": float(f"{self.estimate[name]:.6g}"),
                "source": f"calibrated on the resolved itineraries {self._evidence()}, each "
                          "visit's outcome given the recorded earlier outcomes and findings "
                          f"(sim.itinerary.calibrate.calibrate_precedents): {how}. 80% "
                          f"interval {_g(lo80[name][0])} - {_g(lo80[name][1])}, 95% "
                          f"{_g(lo95[name][0])} - {_g(lo95[name][1])}; prior value "
                          f"{self.prior[name]:g} ({Path(self.prior.file).name}).",
            }
        return {
            "calibration": {
                "itineraries": dict(self.itineraries), "fitted": list(self.fitted),
                "log_likelihood": {"fit": round(self.log_likelihood, 4),
                                   "prior": round(self.log_likelihood_prior, 4),
                                   "no_precedent": round(self.log_likelihood_none, 4)},
                "runs_per_visit": self.runs, "seed": self.seed, "evaluations": self.evaluations,
                "posterior": self.chain.describe(),
                "prior_file": Path(self.prior.file).name,
            },
            "precedent_weights": weights,
        }

    def write(self, path: str | Path, replace: bool = False) -> Path:
        """Write the precedent weights file (YAML, read by
        :func:`~sim.itinerary.precedent.load_precedent_weights`) atomically; never over an
        existing file unless ``replace`` (and then only a regular file).  Returns its path."""
        import yaml

        from ..output import write_new_file

        header = ("# Precedent weights of itineraries, calibrated on resolved itineraries by\n"
                  "# sim.itinerary.calibrate.calibrate_precedents (docs/calibration.md). Use "
                  "with\n# sim run ITINERARY --precedent-weights FILE. The prior is "
                  f"{Path(self.prior.file).name}.\n")
        text = header + yaml.safe_dump(self.weights_doc(), sort_keys=False, width=100,
                                       allow_unicode=True)
        return write_new_file(path, text.encode(), replace=replace,
                              what="precedent weights file")


# --------------------------------------------------------------------------- no precedent?

def scaled(prior: PrecedentWeights, strengths: dict[str, float],
           groups: dict[str, tuple[str, ...]]) -> PrecedentWeights:
    """The prior with the effects of each group times that group's strength."""
    factor = {e: strengths[name] for name, effects in groups.items() for e in effects}
    shown = ", ".join(f"{k} x{v:g}" for k, v in strengths.items())
    return PrecedentWeights({k: v * factor.get(k, 1.0) for k, v in prior.values.items()},
                            f"{prior.file} ({shown})")


@dataclass(frozen=True)
class StrengthFit:
    """The profile of the precedents' strengths over a grid.

    ``log_likelihood`` has one axis per group of :attr:`groups`, over :attr:`grid`; each
    group's interval is that of its profile likelihood (the maximum over the other groups).
    """

    groups: dict[str, tuple[str, ...]]
    grid: tuple[float, ...]
    log_likelihood: np.ndarray
    best: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    level: float
    runs: int
    seed: int
    itineraries: tuple[str, ...]
    prior: PrecedentWeights

    def weights(self) -> PrecedentWeights:
        """The prior with each group's effects scaled by its fitted strength."""
        return scaled(self.prior, self.best, self.groups)

    def frame(self):
        """One row per grid point: each group's strength and the total log-likelihood."""
        import itertools

        import pandas as pd

        names = list(self.groups)
        rows = [{**dict(zip(names, point, strict=True)),
                 "log_likelihood": float(self.log_likelihood[index])}
                for index, point in zip(itertools.product(range(len(self.grid)),
                                                          repeat=len(names)),
                                        itertools.product(self.grid, repeat=len(names)),
                                        strict=True)]
        return pd.DataFrame(rows)

    def table(self) -> str:
        """The fitted strengths and, in natural units, the weights they scale."""
        lines = [f"precedent strengths fitted on {', '.join(self.itineraries)} "
                 f"({self.runs:,} worlds per visit, seed {self.seed}); "
                 f"{self.level:.0%} likelihood-ratio intervals on the grid {list(self.grid)}",
                 f"{'group':<14}{'strength':>10}{'interval':>16}   "
                 "weights (prior -> fitted [interval])"]
        for name, effects in self.groups.items():
            lo, hi = self.intervals[name]
            best = self.best[name]
            parts = [f"{e} {self.prior[e]:g} -> {self.prior[e] * best:.3g} "
                     f"[{self.prior[e] * lo:.3g}, {self.prior[e] * hi:.3g}]" for e in effects]
            lines.append(f"{name:<14}{best:>10.2f}{f'[{lo:g}, {hi:g}]':>16}   "
                         + "; ".join(parts))
        lines.append(f"log-likelihood: {self.log_likelihood.max():.3f} at the best point, "
                     f"{self._at(0.0):.3f} with no precedent "
                     f"(every strength 0), {self._at(1.0):.3f} at the prior")
        return "\n".join(lines)

    def _at(self, value: float) -> float:
        if value not in self.grid:
            return float("nan")
        return float(self.log_likelihood[(self.grid.index(value),) * len(self.groups)])

    def summary(self) -> dict:
        return {"groups": {k: list(v) for k, v in self.groups.items()},
                "strength": self.best, "intervals": {k: list(v) for k, v in
                                                     self.intervals.items()},
                "level": self.level, "runs": self.runs, "seed": self.seed,
                "itineraries": list(self.itineraries),
                "fitted_weights": dict(self.weights().values)}


#: The two groups fitted by default: what defiance does and what a consequence does.
GROUPS: dict[str, tuple[str, ...]] = {
    "defiance": ("court_wear", "visitor_emboldened", "host_imitation"),
    "consequence": ("court_recovery", "host_deterrence", "visitor_deterred"),
}
GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)


def fit_strength(itineraries: Sequence[Itinerary | str | Path], runs: int = 20_000,
                 seed: int = 1, grid: Sequence[float] = GRID, level: float = 0.95,
                 groups: dict[str, tuple[str, ...]] | None = None,
                 prior: PrecedentWeights | None = None) -> StrengthFit:
    """Profile the log-likelihood of the resolved itineraries over the strengths of groups
    of precedent effects (default :data:`GROUPS`), each on ``grid``, on common random numbers.

    The question it answers is whether the record wants any precedent effect at all:
    strength 0 (every effect of a group off) is on the grid, where the log scale of
    :func:`calibrate_precedents` cannot go.  The best point is the grid point of highest
    likelihood; each group's interval is the grid points whose profile log-likelihood is
    within ``chi2(1).ppf(level) / 2`` of the maximum (an end at the grid's edge means the
    interval reaches at least that far).
    """
    import itertools

    from scipy.stats import chi2

    groups = dict(groups or GROUPS)
    prior = prior or load_precedent_weights()
    grid = tuple(float(g) for g in grid)
    loaded = resolved_itineraries(itineraries)
    simulators = [SequenceSimulator(it, runs, seed) for it in loaded]
    shape = (len(grid),) * len(groups)
    total = np.empty(shape)
    for index in itertools.product(range(len(grid)), repeat=len(groups)):
        strengths = {name: grid[i] for name, i in zip(groups, index, strict=True)}
        weights = scaled(prior, strengths, groups)
        total[index] = sum(float(s.log_likelihood(weights).sum()) for s in simulators)
    best_index = np.unravel_index(int(np.argmax(total)), shape)
    cut = total.max() - chi2.ppf(level, 1) / 2
    intervals = {}
    for axis, name in enumerate(groups):
        profile = total.max(axis=tuple(a for a in range(len(groups)) if a != axis))
        inside = np.flatnonzero(profile >= cut)
        intervals[name] = (grid[inside[0]], grid[inside[-1]])
    best = {name: grid[i] for name, i in zip(groups, best_index, strict=True)}
    return StrengthFit(groups, grid, total, best, intervals, level, runs, seed,
                       tuple(it.id for it in loaded), prior)


__all__ = ["EFFECTS", "FITTED", "PRIOR_SD_LOG", "PrecedentCalibration", "SequenceSimulator",
           "StrengthFit", "calibrate_precedents", "fit_strength", "observed",
           "resolved_itineraries", "scaled"]
