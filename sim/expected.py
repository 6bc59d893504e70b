"""Each world's outcome probabilities, integrated over the host's resolve and the
visitor's misreading (Rao-Blackwellisation), for calibration.

In a world, nothing that moves — the host's intent, the campaigns, petitions and court
orders — depends on two of its draws: the host's resolve ``u`` (uniform, compared with its
chance of arresting only when it decides) and the visitor's misreading ``m = s z``
(``s = perception_sd``, ``z`` standard normal, read into every risk the visitor weighs).
Those two only pick the outcome.  So, given a world's other draws, its outcome
probabilities have a closed form:

* The visitor's risk increases with ``m``; on each day it weighs the trip it goes (or
  stays) only while ``m`` is below that day's threshold (:meth:`VisitingState.threshold`).
  The mass of ``m`` still present is ``Phi(h / s)``, ``h`` the lowest threshold so far.
* Before its commitment the mass it loses is cancelled; during the visit, left early.
* The host arrests when ``u`` is below the highest chance of arresting it has had on the
  days it decided with the visitor present, so the mass leaving after a decision, or
  staying to the end, was arrested with that peak chance, and otherwise not.

The expected counts are the sums of these probabilities over worlds.  They equal the
simulated counts on average (tested) with less Monte Carlo noise, and unlike counts they
move smoothly with the weights: a likelihood built on them can be climbed by a
derivative-free trust-region optimiser.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .outcomes import OUTCOMES


class ExpectedOutcomes:
    """The outcome probabilities of ``n`` worlds, accumulated day by day.

    Parameters
    ----------
    n : number of worlds.
    spread : the visitor's misreading sd per world (``perception_sd``), scalar or ``(n,)``.
    """

    def __init__(self, n: int, spread):
        spread = np.broadcast_to(np.asarray(spread, dtype=float), (n,))
        # thresholds in units of the spread; with no spread, m = 0 exceeds only those below 0
        self.scale = 1.0 / spread if (spread > 0).all() else None
        self.spread = spread
        self.present = np.ones(n)  # P(the visitor is still coming or there), over m
        self.peak = np.zeros(n)  # highest chance of arrest so far, over the host's decisions
        self.probabilities = np.zeros((n, len(OUTCOMES)))

    def _screen(self, threshold) -> np.ndarray:
        """Mass of ``m`` lost to today's threshold (the visitor's risk too high above it)."""
        if self.scale is not None:
            z = threshold * self.scale
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(self.spread > 0, threshold / self.spread,
                             np.where(threshold < 0, -np.inf, np.inf))
        stays = np.minimum(self.present, ndtr(z))
        gone = self.present - stays
        self.present = stays
        return gone

    def plan(self, threshold) -> None:
        """A day before the commitment: above the threshold, the trip is called off."""
        self.probabilities[:, OUTCOMES.index("visit_cancelled")] += self._screen(threshold)

    def decide(self, chance) -> None:
        """The host decides with the visitor present: arrest if the resolve is below the
        highest chance so far."""
        self.peak = np.maximum(self.peak, chance)

    def stay_or_leave(self, threshold) -> None:
        """A visiting day before the last: above the threshold, the visitor leaves (if not
        arrested by then)."""
        self._part(self._screen(threshold), "left_early")

    def finish(self) -> np.ndarray:
        """The visit's end: whoever is still there was hosted (or arrested); returns the
        probabilities ``(n, 4)`` in :data:`~sim.outcomes.OUTCOMES` order."""
        self._part(self.present, "hosted_no_arrest")
        self.present = np.zeros_like(self.present)
        return self.probabilities

    def _part(self, mass, otherwise: str) -> None:
        self.probabilities[:, OUTCOMES.index("arrest_surrender")] += mass * self.peak
        self.probabilities[:, OUTCOMES.index(otherwise)] += mass * (1.0 - self.peak)
