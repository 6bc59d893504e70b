"""Scores of the ledger's resolved forecasts, against the base rate, over time.

Which entries count
    Entries that supersede one another form a chain (one question, asked again).  Each
    chain counts once, with its newest *resolved* entry: a superseded entry that was
    resolved keeps counting until the entry that replaced it is resolved too, so a bad
    score cannot be dropped by superseding the entry and leaving the new one open.

The forecast scored
    An entry's four probabilities are its Monte Carlo counts with add-half smoothing,
    ``(count_k + 1/2) / (runs + 2)``, as in the backtest (:mod:`sim.analysis.backtest`):
    the same as the recorded frequencies to within ``1/runs``, and never 0, so the log
    score stays finite.

Scores (losses: lower is better)
    * multiclass Brier ``sum_k (p_k - y_k)^2`` (0 perfect, 2 worst; 0.75 for uniform);
    * log score ``-ln p_outcome`` (natural log; ln 4 = 1.386 for uniform).

The base rate
    The forecast an analyst would have made from the ledger's own record alone: the
    frequencies of the outcomes of the counted entries resolved on an *earlier date*,
    with add-one smoothing, ``(n_k + 1) / (N + 4)``; with none before, uniform (1/4
    each).  Entries resolved on the same day do not see each other.

Late entries
    An entry recorded (``created_utc``) after the date it resolved on is scored but marked
    ``*``: it was not a forecast made in advance.

Over time
    Entries are ordered by resolution date (then id); each row carries the mean scores
    of the model and of the base rate over the entries resolved up to it, and the skill
    ``1 - model / base rate`` (1 perfect, 0 no better than the base rate, < 0 worse).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..outcomes import OUTCOMES
from .entries import Entry


def smoothed(entry: Entry) -> tuple[float, ...]:
    """The forecast scored: add-half smoothed Monte Carlo frequencies, in OUTCOMES order."""
    return tuple((entry.outcomes[o].count + 0.5) / (entry.runs + 0.5 * len(OUTCOMES))
                 for o in OUTCOMES)


def brier(p: Sequence[float], outcome: str) -> float:
    """Multiclass Brier score: sum over the outcomes of (p_k - y_k)^2."""
    k = OUTCOMES.index(outcome)
    return sum((pi - (1.0 if i == k else 0.0)) ** 2 for i, pi in enumerate(p))


def log_score(p: Sequence[float], outcome: str) -> float:
    """Log score as a loss: -ln p[outcome]."""
    return -math.log(p[OUTCOMES.index(outcome)])


def base_rate(outcomes: Sequence[str]) -> tuple[float, ...]:
    """Outcome frequencies with add-one smoothing, (n_k + 1) / (N + 4); uniform for none."""
    n = len(outcomes) + len(OUTCOMES)
    return tuple((sum(o == k for o in outcomes) + 1) / n for k in OUTCOMES)


def skill(score: float, reference: float) -> float:
    """Skill score 1 - score / reference (1 perfect, 0 no better, < 0 worse)."""
    return 1.0 - score / reference if reference else float("nan")


def counted(entries: Sequence[Entry]) -> list[Entry]:
    """The entries that are scored: the newest resolved entry of each chain."""
    by_id = {e.id: e for e in entries}
    chosen = []
    for e in entries:
        if e.resolution is None:
            continue
        later = e.superseded_by
        while later is not None and by_id[later].resolution is None:
            later = by_id[later].superseded_by
        if later is None:  # no resolved entry supersedes it
            chosen.append(e)
    return chosen


@dataclass(frozen=True)
class ScoredForecast:
    """One counted entry's scores, and the means over the entries resolved up to it."""

    entry_id: int
    resolved_on: dt.date
    outcome: str
    probability: float       # the model's (smoothed) probability of what happened
    base_probability: float  # the base rate's
    brier: float
    log: float
    base_brier: float
    base_log: float
    n: int                   # entries counted up to and including this one
    mean_brier: float
    mean_log: float
    mean_base_brier: float
    mean_base_log: float
    late: bool = False       # recorded after the date it resolved on: not made in advance

    @property
    def brier_skill(self) -> float:
        """Brier skill against the base rate, over the entries up to this one."""
        return skill(self.mean_brier, self.mean_base_brier)

    @property
    def log_skill(self) -> float:
        return skill(self.mean_log, self.mean_base_log)


@dataclass(frozen=True)
class LedgerScores:
    """The scored entries in order of resolution; the last row holds the totals."""

    rows: tuple[ScoredForecast, ...]

    @property
    def final(self) -> ScoredForecast | None:
        return self.rows[-1] if self.rows else None

    def table(self) -> str:
        """The scores as text: one line per entry, then the totals."""
        if not self.rows:
            return "scores: no resolved forecasts yet"
        lines = [f"scores of {len(self.rows)} resolved forecast(s), in order of resolution "
                 "(losses: lower is better)",
                 "base rate: add-one frequencies of the outcomes resolved on earlier dates "
                 "(uniform at first)",
                 f"{'resolved':<11}{'id':>5}  {'outcome':<18}{'p':>7}{'Brier':>7}{'log':>7}"
                 f"{'base p':>8}{'Brier':>7}{'log':>7}   {'to date: Brier':>14}{'base':>7}"
                 f"{'skill':>7}"]
        for r in self.rows:
            mark = "*" if r.late else " "
            lines.append(f"{r.resolved_on.isoformat():<11}{r.entry_id:>4}{mark}  {r.outcome:<18}"
                         f"{r.probability:>7.3f}{r.brier:>7.3f}{r.log:>7.3f}"
                         f"{r.base_probability:>8.3f}{r.base_brier:>7.3f}{r.base_log:>7.3f}"
                         f"   {r.mean_brier:>14.3f}{r.mean_base_brier:>7.3f}"
                         f"{r.brier_skill:>7.3f}")
        f = self.rows[-1]
        lines.append(f"mean over {f.n}: Brier {f.mean_brier:.3f} (base rate "
                     f"{f.mean_base_brier:.3f}, skill {f.brier_skill:.3f}); log "
                     f"{f.mean_log:.3f} (base rate {f.mean_base_log:.3f}, skill "
                     f"{f.log_skill:.3f})")
        late = sum(r.late for r in self.rows)
        if late:
            lines.append(f"* {late} of them recorded after the date of their outcome: "
                         "scored, but not forecasts made in advance")
        return "\n".join(lines)

    def frame(self):
        """A tidy DataFrame, one row per counted entry (pandas)."""
        import pandas as pd

        return pd.DataFrame([{**vars(r), "brier_skill": r.brier_skill,
                              "log_skill": r.log_skill} for r in self.rows])

    def plot(self, ax=None, score: str = "brier"):
        """Mean score to date of the model and of the base rate, by resolution date;
        returns the axes.  ``score`` is ``"brier"`` or ``"log"``."""
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        dates = [r.resolved_on for r in self.rows]
        model = [getattr(r, f"mean_{score}") for r in self.rows]
        base = [getattr(r, f"mean_base_{score}") for r in self.rows]
        ax.step(dates, model, where="post", marker="o", label="model")
        ax.step(dates, base, where="post", marker="s", linestyle="--", label="base rate")
        ax.set_xlabel("resolution date")
        ax.set_ylabel(f"mean {'Brier' if score == 'brier' else 'log'} score to date")
        ax.set_title(f"{'Brier' if score == 'brier' else 'Log'} score (lower is better)")
        ax.legend()
        if dates and (dates[-1] - dates[0]).days < 8:  # a few days: one tick per date
            ax.set_xticks(sorted(set(dates)))
        else:
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.figure.autofmt_xdate()
        return ax


def score(entries: Sequence[Entry]) -> LedgerScores:
    """Score the counted entries (see the module's description) in order of resolution."""
    chosen = sorted(counted(entries), key=lambda e: (_resolution(e).resolved_on, e.id))
    rows: list[ScoredForecast] = []
    totals = [0.0, 0.0, 0.0, 0.0]
    for i, e in enumerate(chosen):
        r = _resolution(e)
        earlier = [_resolution(x).outcome for x in chosen[:i]
                   if _resolution(x).resolved_on < r.resolved_on]
        p, b = smoothed(e), base_rate(earlier)
        k = OUTCOMES.index(r.outcome)
        scores = (brier(p, r.outcome), log_score(p, r.outcome), brier(b, r.outcome),
                  log_score(b, r.outcome))
        totals = [t + s for t, s in zip(totals, scores, strict=True)]
        n = i + 1
        mean_brier, mean_log, mean_base_brier, mean_base_log = (t / n for t in totals)
        rows.append(ScoredForecast(e.id, r.resolved_on, r.outcome, p[k], b[k], *scores, n,
                                   mean_brier, mean_log, mean_base_brier, mean_base_log,
                                   late=e.created_utc[:10] > r.resolved_on.isoformat()))
    return LedgerScores(tuple(rows))


def _resolution(e: Entry):
    assert e.resolution is not None
    return e.resolution
