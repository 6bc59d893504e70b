"""Weights as of a date: fitted only on the cases resolved before it, and cached.

A forecast made on a date can only use what was known then.  :func:`weights_as_of`
fits the weights on the cases of the library resolved before a scenario's forecast
date (the prior alone when there are none) and keeps the fit in a cache named by the
hash of those cases' files and the fit's settings, so that a second run is instant
and editing a case makes a new fit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from . import calibration as cal
from .cases import case_set_hash, load_cases, resolved_before

#: Where fits are kept (in the project folder).
DEFAULT_CACHE = Path("results") / "cache" / "weights"
#: The case library ``sim run --as-of`` fits on.
DEFAULT_CASES = Path("scenarios") / "cases"


@dataclass(frozen=True)
class FitSettings:
    """How a fit is made (see :func:`sim.analysis.calibration.calibrate`)."""

    prior: str
    fitted: tuple[str, ...] = cal.FITTED
    runs: int = cal.DEFAULT_RUNS
    seed: int = cal.DEFAULT_SEED
    max_evals: int = cal.DEFAULT_MAX_EVALS
    mcmc_steps: int = 0

    def key(self, files: Sequence[str | Path]) -> str:
        """The cache key of a fit on ``files``: their contents and these settings."""
        settings = json.dumps({"fitted": list(self.fitted), "runs": self.runs,
                               "seed": self.seed, "max_evals": self.max_evals,
                               "mcmc_steps": self.mcmc_steps})
        return case_set_hash(files, Path(self.prior).read_text(), settings, model_fingerprint())


#: The source files whose change makes every cached fit stale.
MODEL_SOURCES = ("agents.py", "model.py", "expected.py", "sampling.py", "streams.py",
                 "distributions.py", "catalogue.py", "analysis/calibration.py",
                 "analysis/posterior.py")


def model_fingerprint() -> str:
    """SHA-256 of the code a fit depends on (the model, its draws, the likelihood and the
    sampler), so that a cached fit made by another version of the model is not reused."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in MODEL_SOURCES:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()



#: MCMC steps per walker of the shipped calibration (docs/calibration.md).
SHIPPED_MCMC_STEPS = 200


def forecast_settings(prior: str | Path | None = None) -> FitSettings:
    """The settings of the shipped calibration (mode and posterior draws), used for
    forecasts as of a date."""
    return FitSettings(prior=cal.read_prior(prior).path, mcmc_steps=SHIPPED_MCMC_STEPS)


def fitted_weights(files: Sequence[str | Path], settings: FitSettings,
                   cache: str | Path = DEFAULT_CACHE, progress: bool | None = False,
                   workers: int = 1) -> tuple[Path, bool]:
    """The weights file of a fit on ``files``, from the cache when it holds one.

    Returns ``(path, cached)``.  The fit is written to ``<cache>/<key>.yaml`` (see
    :meth:`FitSettings.key`); a fit is never written over another.  ``workers``: worker
    processes of the fit (:func:`~sim.analysis.calibration.calibrate`; no effect on it).
    """
    cache = Path(cache)
    path = cache / f"{settings.key(files)}.yaml"
    if path.is_file():
        return path, True
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the weights cache {cache}: {exc.strerror or exc}",
                         hint="choose another folder with --cache") from None
    fit = cal.calibrate(list(files), prior=settings.prior, fitted=settings.fitted,
                        runs=settings.runs, seed=settings.seed,
                        max_evals=settings.max_evals, mcmc_steps=settings.mcmc_steps,
                        progress=progress, workers=workers)
    if path.is_file():  # another process fitted the same set meanwhile: same result
        return path, True
    try:
        fit.write(path)
    except UsageError:  # written by another process between the check and the write
        if not path.is_file():
            raise
    return path, False


def fit_task(files: list[str], settings: FitSettings, cache: str, workers: int = 1) -> dict:
    """One fold's fit, for an executor: its weights file, whether cached, seconds."""
    start = time.perf_counter()
    path, cached = fitted_weights(files, settings, cache, workers=workers)
    return {"weights": str(path), "cached": cached, "seconds": time.perf_counter() - start}


def weights_as_of(date: dt.date, cases: str | Path = DEFAULT_CASES,
                  cache: str | Path = DEFAULT_CACHE, prior: str | Path | None = None,
                  progress: bool | None = None) -> tuple[Path, list[str], bool]:
    """Weights fitted on the cases resolved before ``date``.

    Returns ``(weights file, ids of the cases it saw, whether it came from the cache)``.
    """
    settings = forecast_settings(prior)
    known = resolved_before(load_cases(cases, weights=settings.prior), date)
    path, cached = fitted_weights([c.file for c in known], settings, cache, progress,
                                  workers=os.cpu_count() or 1)
    return path, [c.id for c in known], cached


__all__ = ["DEFAULT_CACHE", "DEFAULT_CASES", "FitSettings", "fit_task", "fitted_weights",
           "forecast_settings", "weights_as_of"]
