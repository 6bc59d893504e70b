"""The path chart of an itinerary: an alluvial diagram of the states at each visit."""

from __future__ import annotations

import numpy as np

from ..outcomes import COLOURS
from .result import STATES

#: Colour of the worlds that never reach a visit (after an arrest).
NOT_REACHED_COLOUR = "#BBBBBB"
_NODE = 0.12  # half-width of a column's bar, in visit units
_GAP = 0.02  # space between the states of a column, in probability units
#: Short labels of the states on the bars of long itineraries.
LETTERS_SHORT = {"arrest_surrender": "arrest", "hosted_no_arrest": "hosted",
                 "left_early": "left", "visit_cancelled": "cancelled", "not_reached": "n/r"}


def _colour(state: str) -> str:
    return COLOURS.get(state, NOT_REACHED_COLOUR)


def alluvial(result, ax=None, leading: int = 5):
    """Columns are the visits, in date order; each bar is the probability of a state at that
    visit; bands between two columns carry the worlds from one state to the next, coloured by
    the earlier state.  The ``leading`` likeliest paths are listed under the chart.  When
    the result has credible ranges, a bar's label gives its 80% range across the weights'
    posterior draws (itineraries of up to 8 visits: longer ones have no room for it)."""
    import matplotlib.pyplot as plt

    visits = result.visit_ids
    k_count = len(visits)
    if ax is None:
        _, ax = plt.subplots(figsize=(min(18.0, max(6.0, 2.2 * k_count)), 5.5))
    n = result.runs
    columns = [result.state_counts(k) / n for k in range(k_count)]
    tops = [_stack(col) for col in columns]
    for k in range(k_count - 1):
        flow = np.zeros((len(STATES), len(STATES)))
        for sequence, v in result.paths.items():
            flow[sequence[k], sequence[k + 1]] += v[0] / n
        out_at = {a: tops[k][a] for a in range(len(STATES))}
        in_at = {b: tops[k + 1][b] for b in range(len(STATES))}
        for a in range(len(STATES)):
            for b in range(len(STATES)):
                w = flow[a, b]
                if w <= 0:
                    continue
                _band(ax, k + _NODE, out_at[a], k + 1 - _NODE, in_at[b], w, _colour(STATES[a]))
                out_at[a] -= w
                in_at[b] -= w
    ranges = (result.credible or {}).get("visits") if k_count <= 8 else None
    for k, col in enumerate(columns):
        for code, p in enumerate(col):
            if p <= 0:
                continue
            top = tops[k][code]
            ax.add_patch(plt.Rectangle((k - _NODE, top - p), 2 * _NODE, p,
                                       color=_colour(STATES[code]), ec="white", lw=0.5))
            if p >= 0.03:
                label = (LETTERS_SHORT[STATES[code]] if k_count > 8
                         else STATES[code].replace("_", " "))
                if ranges:
                    lo, hi = ranges[k]["credible80"][STATES[code]]
                    label += f"\n{p:.0%} ({lo:.0%}\u2013{hi:.0%})"
                else:
                    label += f"\n{p:.0%}"
                ax.text(k, top - p / 2, label,
                        ha="center", va="center", fontsize=7, color="black")
    ax.set_xlim(-0.5, k_count - 0.5)
    ax.set_ylim(-0.02, 1 + _GAP * (len(STATES) - 1) + 0.02)
    ax.set_xticks(range(k_count), [v.replace("_", " ") for v in visits], fontsize=8,
                  rotation=45 if k_count > 8 else 0, ha="right" if k_count > 8 else "center")
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    given = ", ".join(f"{k}={v}" for k, v in result.conditions.items())
    ax.set_title(f"{result.title}: paths of {n:,} worlds (seed {result.seed})"
                 + (f"\ngiven {given}" if given else "")
                 + ("\n(in brackets: 80% credible range across the weights' posterior draws)"
                    if ranges else ""), fontsize=10)
    from .result import LETTERS, SPELLED_OUT

    long = k_count > SPELLED_OUT
    lines = [f"{p:6.1%}  " + ("".join(LETTERS[s] for s in states) if long else
                              " \u2192 ".join(s.replace("_", " ") for s in states))
             for states, p, _ in result.path_probabilities()[:leading]]
    if long:
        lines.append("(one letter per visit: " + ", ".join(f"{c} {s.replace('_', ' ')}"
                                                           for s, c in LETTERS.items()) + ")")
    ax.text(0.0, -0.3 if k_count > 8 else -0.12, "leading paths:\n" + "\n".join(lines),
            transform=ax.transAxes,
            ha="left", va="top", fontsize=7, family="monospace")
    return ax


def _stack(column: np.ndarray) -> np.ndarray:
    """The top of each state's bar in a column: states stacked from the top, in the order
    of :data:`STATES`, with a small gap between those present."""
    tops = np.zeros(len(column))
    y = 1.0 + _GAP * (len(column) - 1)
    for code, p in enumerate(column):
        tops[code] = y
        if p > 0:
            y -= p + _GAP
    return tops


def _band(ax, x0: float, top0: float, x1: float, top1: float, width: float,
          colour: str) -> None:
    """A band of ``width`` from (x0, top0) down to (x1, top1), along a smooth S curve."""
    t = np.linspace(0.0, 1.0, 40)
    s = 3 * t**2 - 2 * t**3
    x = x0 + (x1 - x0) * t
    upper = top0 + (top1 - top0) * s
    ax.fill_between(x, upper - width, upper, color=colour, alpha=0.35, lw=0)
