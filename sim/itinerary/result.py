"""What a run of an itinerary found: the paths of the worlds and the numbers drawn from them.

Every number of an itinerary is a function of its paths (the sequences of states the
worlds took, with how many worlds took each and how many findings each visit drew on it),
so a result conditioned on an earlier outcome is the same result over fewer paths
(:meth:`ItineraryResult.given`).  The credible ranges across the weights' posterior draws
come from each draw's state counts at each visit (:mod:`sim.credible`), which the paths do
not hold: a conditioned result has none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..errors import UsageError
from ..outcomes import ARREST, OUTCOMES
from ..results import wilson_interval

#: The fifth state of a visit in a path: the itinerary ended with an arrest before it.
NOT_REACHED_NAME = "not_reached"
NOT_REACHED = len(OUTCOMES)
STATES: tuple[str, ...] = (*OUTCOMES, NOT_REACHED_NAME)
#: Paths listed by :meth:`ItineraryResult.table` and drawn apart by the chart.
LEADING = 10
#: One letter per state, for the paths of long itineraries.
LETTERS: dict[str, str] = {"arrest_surrender": "A", "hosted_no_arrest": "H", "left_early": "L",
                           "visit_cancelled": "C", "not_reached": "."}
#: Itineraries longer than this show their paths as letters.
SPELLED_OUT = 5


@dataclass
class ItineraryChunk:
    """A chunk's paths: for each sequence of state codes that occurred, the number of
    worlds that took it and, per visit, how many of them drew a non-compliance finding;
    and, when the weights carry posterior draws, each draw's state counts at each visit."""

    first_block: int
    paths: dict[tuple[int, ...], np.ndarray]  # sequence -> [worlds, findings per visit...]
    #: ``(draws, visits, states)``: worlds of each posterior draw in each of :data:`STATES`
    #: at each visit.
    draw_counts: np.ndarray | None = None
    #: Read back from a run's folder (a resumed run), not simulated: not written again.
    stored: bool = False

    @property
    def worlds(self) -> int:
        return int(sum(v[0] for v in self.paths.values()))


@dataclass(frozen=True)
class ItineraryResult:
    """The distribution over paths of an itinerary's run.

    Attributes
    ----------
    visit_ids, visit_titles : tuple of str
        The visits, in date order.
    paths : dict
        Each sequence of state codes (indices into :data:`STATES`) that occurred, to an
        array ``[worlds, findings at visit 0, findings at visit 1, ...]``.
    seed : int
    precedent : mapping
        The precedent weights used.
    given : dict
        The conditions this result is restricted to (visit id -> outcome); empty for all
        worlds.
    draw_counts : numpy.ndarray, optional
        ``(draws, visits, states)``: the worlds of each posterior draw of the weights in
        each of :data:`STATES` at each visit, when the weights file carries draws (None for
        a conditioned result): the source of :attr:`credible`.
    """

    itinerary_id: str
    title: str
    visit_ids: tuple[str, ...]
    visit_titles: tuple[str, ...]
    paths: Mapping[tuple[int, ...], np.ndarray]
    seed: int
    precedent: Mapping[str, float]
    precedent_file: str = ""
    conditions: Mapping[str, str] = field(default_factory=dict)
    all_runs: int = 0  # worlds of the unconditioned run
    draw_counts: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_counts(cls, itinerary, paths: dict, seed: int, precedent,
                    draw_counts: np.ndarray | None = None) -> ItineraryResult:
        ordered = dict(sorted(paths.items()))
        runs = int(sum(v[0] for v in ordered.values()))
        return cls(itinerary.id, itinerary.title, itinerary.ids,
                   tuple(v.scenario.title for v in itinerary.visits), ordered, seed,
                   dict(precedent.values), precedent.file, {}, runs, draw_counts)

    # ------------------------------------------------------------------ numbers
    @property
    def runs(self) -> int:
        """Worlds counted (those meeting the conditions)."""
        return int(sum(v[0] for v in self.paths.values()))

    def state_counts(self, visit: int) -> np.ndarray:
        """Worlds in each of :data:`STATES` at visit number ``visit``."""
        counts = np.zeros(len(STATES), dtype=np.int64)
        for sequence, v in self.paths.items():
            counts[sequence[visit]] += v[0]
        return counts

    @property
    def half_width(self) -> float:
        """The widest 95% Wilson interval half-width of any state at any visit."""
        widest = 0.0
        for k in range(len(self.visit_ids)):
            for c in self.state_counts(k):
                lo, hi = wilson_interval(c, self.runs)
                widest = max(widest, (hi - lo) / 2)
        return widest

    def findings(self, visit: int) -> int:
        return int(sum(v[1 + visit] for v in self.paths.values()))

    @property
    def p_any_arrest(self) -> float:
        """Probability that the visitor is arrested at some visit of the itinerary."""
        hit = sum(v[0] for s, v in self.paths.items() if ARREST in s)
        return float(hit / self.runs)

    @cached_property
    def credible(self) -> dict | None:
        """Epistemic ranges: how far each number moves across the posterior draws of the
        weights (:func:`sim.credible.credible_intervals`).

        Returns
        -------
        dict or None
            ``{"visits": [{"credible80": {state: (low, high)}, "credible95": ...}, ...],
            "p_at_least_one_arrest": {"credible80": (low, high), "credible95": ...}}``,
            visits in date order, states of :data:`STATES`.  None for a conditioned result,
            when the weights file carries no draws, or when some draw has fewer than
            :data:`sim.credible.MIN_WORLDS_PER_DRAW` worlds (its spread could not be told
            from Monte Carlo noise).
        """
        from ..credible import MIN_WORLDS_PER_DRAW, credible_intervals

        counts = self.draw_counts
        if counts is None or counts[:, 0].sum(axis=1).min() < MIN_WORLDS_PER_DRAW:
            return None
        visits = [{level: {s: (float(lo), float(hi)) for s, (lo, hi) in
                           zip(STATES, bounds, strict=True)}
                   for level, bounds in credible_intervals(counts[:, k]).items()}
                  for k in range(counts.shape[1])]
        # an arrest ends the itinerary, so a world has at most one: the visits' arrests add up
        arrests = counts[:, :, ARREST].sum(axis=1)
        either = np.stack([arrests, counts[:, 0].sum(axis=1) - arrests], axis=1)
        anywhere = {level: (float(bounds[0, 0]), float(bounds[0, 1]))
                    for level, bounds in credible_intervals(either).items()}
        return {"visits": visits, "p_at_least_one_arrest": anywhere}

    def _credible_note(self) -> str | None:
        """Why a result whose weights carry draws shows no credible ranges, or None."""
        if self.draw_counts is None or self.credible is not None:
            return None
        from ..credible import MIN_WORLDS_PER_DRAW

        return (f"credible ranges need at least {MIN_WORLDS_PER_DRAW} worlds per posterior "
                f"draw: run {MIN_WORLDS_PER_DRAW * len(self.draw_counts):,} or more")

    @property
    def expected_findings(self) -> float:
        """Expected number of non-compliance findings over the itinerary."""
        return float(sum(v[1:].sum() for v in self.paths.values()) / self.runs)

    def path_probabilities(self) -> list[tuple[tuple[str, ...], float, int]]:
        """Every path that occurred as ``(states, probability, worlds)``, likeliest first
        (ties in the order of their codes)."""
        n = self.runs
        rows = [(tuple(STATES[c] for c in s), float(v[0] / n), int(v[0]))
                for s, v in self.paths.items()]
        return sorted(rows, key=lambda r: -r[2])

    def given(self, **conditions: str) -> ItineraryResult:
        """This result restricted to the worlds where each named visit had the named outcome,
        e.g. ``result.given(mongolia_2024="arrest_surrender")``.

        Raises
        ------
        UsageError
            For an unknown visit or outcome, or a condition no world met.
        """
        keep = dict(self.paths)
        for visit_id, outcome in conditions.items():
            if visit_id not in self.visit_ids:
                raise UsageError(f"no visit {visit_id!r} in itinerary {self.itinerary_id}",
                                 hint=f"its visits are {', '.join(self.visit_ids)}")
            if outcome not in STATES:
                raise UsageError(f"unknown outcome {outcome!r} for visit {visit_id}",
                                 hint=f"use one of {', '.join(STATES)}")
            k, code = self.visit_ids.index(visit_id), STATES.index(outcome)
            keep = {s: v for s, v in keep.items() if s[k] == code}
        if not keep:
            shown = ", ".join(f"{k}={v}" for k, v in {**self.conditions, **conditions}.items())
            raise UsageError(f"no world of the {self.all_runs:,} run met {shown}: the numbers "
                             "given it cannot be estimated",
                             hint="run more worlds (--runs), or condition on an outcome that "
                                  "occurs")
        return ItineraryResult(self.itinerary_id, self.title, self.visit_ids,
                               self.visit_titles, keep, self.seed, self.precedent,
                               self.precedent_file, {**self.conditions, **conditions},
                               self.all_runs)

    # ------------------------------------------------------------------ views
    def frame(self):
        """Tidy table, one row per visit and state: ``visit``, ``order``, ``state``,
        ``count``, ``probability`` (over all worlds counted), ``ci95_low``/``ci95_high``
        (Wilson), ``probability_if_reached`` (over the worlds that reach the visit), and
        when reported (:attr:`credible`) ``credible80_low`` .. ``credible95_high``."""
        import pandas as pd

        rows = []
        for k, visit_id in enumerate(self.visit_ids):
            counts = self.state_counts(k)
            reached = int(counts[:NOT_REACHED].sum())
            for code, state in enumerate(STATES):
                lo, hi = wilson_interval(counts[code], self.runs)
                rows.append({"visit": visit_id, "order": k, "state": state,
                             "count": int(counts[code]),
                             "probability": counts[code] / self.runs,
                             "ci95_low": lo, "ci95_high": hi,
                             "probability_if_reached": (counts[code] / reached
                                                        if reached and code != NOT_REACHED
                                                        else float("nan")),
                             **{f"{level}_{end}": ranges[state][j]
                                for level, ranges in self._visit_credible(k).items()
                                for j, end in enumerate(("low", "high"))}})
        return pd.DataFrame(rows)

    def _visit_credible(self, k: int) -> dict[str, dict[str, tuple[float, float]]]:
        """Visit ``k``'s credible ranges ``{level: {state: (low, high)}}``, or {}."""
        return self.credible["visits"][k] if self.credible else {}

    def paths_frame(self):
        """One row per path, likeliest first: a column per visit, ``probability``,
        ``worlds``."""
        import pandas as pd

        return pd.DataFrame([{**dict(zip(self.visit_ids, states, strict=True)),
                              "probability": p, "worlds": n}
                             for states, p, n in self.path_probabilities()])

    def visit_summary(self, k: int) -> dict:
        counts = self.state_counts(k)
        n = self.runs
        reached = int(counts[:NOT_REACHED].sum())
        credible = self._visit_credible(k)
        outcomes = {}
        for code, name in enumerate(OUTCOMES):
            lo, hi = wilson_interval(counts[code], n)
            rlo, rhi = wilson_interval(counts[code], reached)
            p = counts[code] / n
            outcomes[name] = {"probability": p, "ci95": [lo, hi],
                              "mcse": float(np.sqrt(p * (1 - p) / n)), "count": int(counts[code]),
                              **{level: list(ranges[name]) for level, ranges in credible.items()},
                              "probability_if_reached": counts[code] / reached if reached else None,
                              "ci95_if_reached": [rlo, rhi] if reached else None}
        found = self.findings(k)
        return {"id": self.visit_ids[k], "title": self.visit_titles[k], "order": k,
                "reached": {"probability": reached / n, "count": reached},
                "outcomes": outcomes,
                NOT_REACHED_NAME: {"probability": counts[NOT_REACHED] / n,
                                   "count": int(counts[NOT_REACHED]),
                                   **{level: list(ranges[NOT_REACHED_NAME])
                                      for level, ranges in credible.items()}},
                "secondary": {"icc_noncompliance_finding": {
                    "probability": found / n, "ci95": list(wilson_interval(found, n)),
                    "probability_if_reached": found / reached if reached else None}}}

    def numbers(self) -> dict:
        """The itinerary-wide numbers: P(at least one arrest) with its Monte Carlo interval
        (and its credible ranges, when reported), expected findings."""
        n = self.runs
        arrests = int(sum(v[0] for s, v in self.paths.items() if ARREST in s))
        credible = self.credible["p_at_least_one_arrest"] if self.credible else {}
        return {"p_at_least_one_arrest": arrests / n,
                "p_at_least_one_arrest_ci95": list(wilson_interval(arrests, n)),
                **{f"p_at_least_one_arrest_{level}": list(bounds)
                   for level, bounds in credible.items()},
                "expected_noncompliance_findings": self.expected_findings}

    def summary(self, conditional: bool = True) -> dict:
        """``summary.json``: the visits (each with ``id`` and ``outcomes`` as for one
        scenario, over all worlds and over the worlds that reach it), every path with its
        probability (summing to 1), the itinerary-wide numbers and, with ``conditional``,
        the same numbers given each outcome of each visit that occurred (``conditional``)."""
        doc = {
            "itinerary": self.itinerary_id, "title": self.title, "runs": self.runs,
            "seed": self.seed, "given": dict(self.conditions),
            "states": list(STATES),
            "visits": [self.visit_summary(k) for k in range(len(self.visit_ids))],
            "paths": [{"sequence": list(s), "probability": p, "count": c}
                      for s, p, c in self.path_probabilities()],
            **self.numbers(),
            "precedent_weights": dict(self.precedent),
            "precedent_weights_file": self.precedent_file,
        }
        if self.draw_counts is not None:
            doc["epistemic"] = {
                "posterior_draws": len(self.draw_counts),
                "worlds_per_draw": self.runs / len(self.draw_counts),
                "credible_reported": self.credible is not None,
                "about": "ci95 is the Monte Carlo interval of a probability (it shrinks with "
                         "more runs); credible80 and credible95 (each visit's outcomes and "
                         "not_reached, p_at_least_one_arrest) are its central 80% and 95% "
                         "ranges across the posterior draws of the calibrated weights (world "
                         "i takes draw i mod draws at every visit), with each draw's Monte "
                         "Carlo noise removed. They are reported when every draw has at least "
                         "20 worlds (runs >= 20 x draws), and not for the numbers given an "
                         "outcome (conditional, given_result).",
            }
        if conditional:
            doc["conditional"] = [
                {"given": {visit_id: outcome}, "probability": p,
                 **(part := self.given(**{visit_id: outcome})).numbers(),
                 "visits": {v: part.visit_summary(j)["outcomes"]
                            for j, v in enumerate(self.visit_ids) if j > k}}
                for k, visit_id in enumerate(self.visit_ids[:-1])
                for outcome, p in self._occurring(k)]
        return doc

    def _occurring(self, k: int) -> list[tuple[str, float]]:
        counts = self.state_counts(k)
        return [(OUTCOMES[c], counts[c] / self.runs) for c in range(len(OUTCOMES)) if counts[c]]

    def table(self, leading: int = LEADING) -> str:
        """The visits' outcome table and the leading paths, as text."""
        given = ", ".join(f"{k}={v}" for k, v in self.conditions.items())
        lines = [f"{self.title} ({self.itinerary_id}): {self.runs:,} worlds, seed {self.seed}"
                 + (f", given {given}" if given else ""), ""]
        width = max(len(v) for v in self.visit_ids) + 6  # room for the ranges' " 80%"
        lines.append(f"{'visit':<{width}}" + "".join(f"{s:>18}" for s in STATES))
        for k, visit_id in enumerate(self.visit_ids):
            counts = self.state_counts(k) / self.runs
            lines.append(f"{visit_id:<{width}}" + "".join(f"{c:>18.4f}" for c in counts))
        lines += self._credible_lines(width)
        numbers = self.numbers()
        lo, hi = numbers["p_at_least_one_arrest_ci95"]
        credible = "".join(f"; {level[8:]}% credible [{a:.4f}, {b:.4f}]" for level, (a, b) in
                           (self.credible or {}).get("p_at_least_one_arrest", {}).items())
        lines += ["", f"P(at least one arrest) = {numbers['p_at_least_one_arrest']:.4f} "
                  f"[{lo:.4f}, {hi:.4f}]{credible}; expected non-compliance findings = "
                  f"{numbers['expected_noncompliance_findings']:.4f}", "",
                  f"leading paths ({len(self.paths)} occurred):"]
        if len(self.visit_ids) <= SPELLED_OUT:
            lines.append(f"{'probability':>12}  path ({' -> '.join(self.visit_ids)})")
            for states, p, _ in self.path_probabilities()[:leading]:
                lines.append(f"{p:>12.4f}  {' -> '.join(states)}")
        else:
            lines.append(f"{'probability':>12}  path, one letter per visit in date order ("
                         + ", ".join(f"{c} {s}" for s, c in LETTERS.items()) + ")")
            for states, p, _ in self.path_probabilities()[:leading]:
                lines.append(f"{p:>12.4f}  {''.join(LETTERS[s] for s in states)}")
        return "\n".join(lines)

    def _credible_lines(self, width: int) -> list[str]:
        """The table's rows of 80% and 95% credible ranges, or the note saying why none."""
        note = self._credible_note()
        if not self.credible:
            return [f"({note})"] if note else []
        lines = ["", "credible ranges across the weights' posterior draws, 80% and 95%:"]
        for k, visit_id in enumerate(self.visit_ids):
            ranges = self.credible["visits"][k]
            for level in ("credible80", "credible95"):
                cells = [f"[{a:.3f}, {b:.3f}]" for a, b in
                         (ranges[level][state] for state in STATES)]
                label = f"{visit_id} {level[8:]}%"
                lines.append(f"{label:<{width}}" + "".join(f"{c:>18}" for c in cells))
        return lines

    def plot(self, ax=None, leading: int = LEADING):
        """The path chart: an alluvial diagram of the states at each visit, with the flows
        of the leading paths (:func:`sim.itinerary.chart.alluvial`)."""
        from .chart import alluvial

        return alluvial(self, ax=ax, leading=leading)
