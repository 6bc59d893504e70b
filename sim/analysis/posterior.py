"""The weights' posterior: samples by ensemble MCMC, and what they say about a forecast.

Sampling
--------
The fitted weights live in an unbounded space (log, or logit for shares; see
:func:`sim.analysis.calibration.transform_of`).  Their log-posterior is the cases'
log-likelihood (expected Monte Carlo frequencies on common random numbers) plus the
Gaussian prior of the prior file.  :func:`sample` runs ``emcee``'s affine-invariant
ensemble sampler there, starting the walkers from the Laplace approximation around the
posterior mode, discards the first half of the chain as burn-in, and keeps an evenly
thinned set of draws.  Without MCMC, :func:`gaussian_draws` draws from the Laplace
approximation itself; with no case to fit, the posterior is the prior, drawn exactly.

Credible intervals
------------------
A forecast gives world ``i`` the weights of posterior draw ``i mod K``
(:func:`sim.sampling.posterior_weights`), so the worlds of each draw estimate the
forecast *given those weights*.  Their spread across draws mixes the posterior's
spread with the Monte Carlo noise of each draw's few worlds;
:func:`sim.credible.credible_intervals` removes the noise's share of the variance (a
method-of-moments shrinkage towards the pooled estimate) before taking the 80% and
95% ranges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Posterior draws kept in a weights file (and cycled over a forecast's worlds).
KEEP = 200
#: Default ensemble: walkers per fitted weight (emcee needs at least two).
WALKERS_PER_WEIGHT = 2
#: How a chain's draws were made, as a weights file says it.
SAMPLERS = {"emcee": "emcee (affine-invariant ensemble)",
            "laplace": "exact draws from the Laplace approximation at the mode (no MCMC)",
            "prior": "exact draws from the prior (no case to fit)"}


@dataclass(frozen=True)
class Chain:
    """Posterior draws of the transformed weights and how the sampler behaved."""

    samples: np.ndarray  # (KEEP, fitted) transformed units
    sampler: str  # a key of SAMPLERS
    walkers: int
    steps: int
    acceptance: float  # mean acceptance fraction of the walkers
    autocorrelation: float  # longest integrated autocorrelation time estimated (steps)
    evaluations: int

    def describe(self) -> dict:
        return {"sampler": SAMPLERS[self.sampler],
                "walkers": self.walkers, "steps": self.steps,
                "burn_in": self.steps // 2, "kept": len(self.samples),
                "acceptance": round(self.acceptance, 3),
                "autocorrelation_time": round(self.autocorrelation, 1),
                "evaluations": self.evaluations}


def sample(log_posterior: Callable[[np.ndarray], float], mode: np.ndarray, cov: np.ndarray,
           steps: int, seed: int, walkers: int | None = None,
           progress: bool = False) -> Chain:
    """Sample the posterior with ``emcee``, starting from the Laplace approximation.

    Parameters
    ----------
    log_posterior : log-posterior of a transformed weight vector.
    mode, cov : the posterior mode and the Laplace covariance (transformed units).
    steps : steps of every walker; the first half is burn-in.
    seed : fixes the walkers' start and the sampler's moves.
    walkers : ensemble size (default ``2 * len(mode) + 2``).
    """
    import emcee

    d = len(mode)
    walkers = walkers or WALKERS_PER_WEIGHT * d + 2
    seeds = np.random.SeedSequence([seed, 0x6D636D63])  # "mcmc"
    start_rng, move_seed = (np.random.default_rng(s) for s in seeds.spawn(2))
    start = start_rng.multivariate_normal(mode, cov, size=walkers, method="cholesky")
    evaluations = 0

    def log_prob(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        return log_posterior(x)

    sampler = emcee.EnsembleSampler(walkers, d, log_prob)
    # emcee draws its moves from a RandomState of its own: seed it from ours
    sampler.random_state = np.random.RandomState(
        int(move_seed.integers(2**32))).get_state()
    sampler.run_mcmc(start, steps, progress=progress)
    chain = sampler.get_chain(discard=steps // 2, flat=True)
    # quiet: a short chain's estimate is reported (Chain.autocorrelation), not logged
    emcee_log = logging.getLogger("emcee.autocorr")
    level = emcee_log.level
    emcee_log.setLevel(logging.ERROR)
    try:
        tau = sampler.get_autocorr_time(discard=steps // 2, quiet=True)
    finally:
        emcee_log.setLevel(level)
    keep = np.linspace(0, len(chain) - 1, min(KEEP, len(chain))).round().astype(int)
    return Chain(samples=chain[keep], sampler="emcee", walkers=walkers, steps=steps,
                 acceptance=float(np.mean(sampler.acceptance_fraction)),
                 autocorrelation=float(np.nanmax(tau)), evaluations=evaluations)


def gaussian_draws(centre: np.ndarray, cov: np.ndarray, seed: int, sampler: str) -> Chain:
    """:data:`KEEP` exact draws from a Gaussian of the transformed weights: the prior when
    no case informs them (``sampler="prior"``), or the Laplace approximation at the mode
    when no MCMC was asked for (``"laplace"``)."""
    tag = {"prior": 0x70726972, "laplace": 0x6C61706C}[sampler]  # "prir", "lapl"
    rng = np.random.default_rng(np.random.SeedSequence([seed, tag]))
    samples = rng.multivariate_normal(centre, cov, size=KEEP, method="cholesky")
    return Chain(samples=samples, sampler=sampler, walkers=0, steps=0,
                 acceptance=float("nan"), autocorrelation=float("nan"), evaluations=0)


__all__ = ["KEEP", "SAMPLERS", "Chain", "gaussian_draws", "sample"]
