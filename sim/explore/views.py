"""What the explorer shows for a comparison: the table as HTML and the charts as PNG bytes.

Charts are drawn on :class:`matplotlib.figure.Figure` objects, never through pyplot, so they
neither appear twice in a notebook nor depend on its backend; they are sized for a column of
650 px (6.5 in at 100 px per inch).
"""

from __future__ import annotations

import html
import io

import numpy as np

from ..outcomes import COLOURS, LABELS, OUTCOMES

#: Width of every chart in inches: a notebook column of 650 px at 100 px per inch.
CHART_WIDTH = 6.5
#: Pixels per inch of the PNG: sharper than the column needs, for high-density screens.
DPI = 130


def png(fig) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _label(outcome: str) -> str:
    return LABELS[outcome].replace("\n", " ")


def table_html(comparison) -> str:
    """Each outcome's probability in the baseline and the variant, and the change from the
    paired worlds with its 95% interval, as an HTML table.

    Cells carry the outcome (``data-outcome``) and the column (``data-column``), so that a
    reader (or a test) finds a number without parsing the layout.
    """
    base, variant = comparison.results
    rows = []
    for j, o in enumerate(OUTCOMES):
        d, lo, hi = comparison.differences[1, j]
        settled = "" if lo <= 0 <= hi else " sim-beyond-noise"
        rows.append(
            f'<tr data-outcome="{o}">'
            f'<th style="text-align:left;padding:2px 8px 2px 0">'
            f'<span style="color:{COLOURS[o]}">\u25a0</span> {html.escape(_label(o))}</th>'
            f'<td data-column="baseline" style="text-align:right;padding:2px 8px">'
            f"{100 * base.probabilities[o]:.2f}%</td>"
            f'<td data-column="variant" style="text-align:right;padding:2px 8px">'
            f"{100 * variant.probabilities[o]:.2f}%</td>"
            f'<td data-column="change" class="sim-change{settled}" '
            f'style="text-align:right;padding:2px 0 2px 8px">'
            f"{100 * d:+.2f} [{100 * lo:+.2f}, {100 * hi:+.2f}]</td></tr>")
    head = ('<tr><th style="text-align:left">outcome</th>'
            '<th style="text-align:right;padding:0 8px">baseline</th>'
            '<th style="text-align:right;padding:0 8px">variant</th>'
            '<th style="text-align:right;padding-left:8px">change, points (95%)</th></tr>')
    note = (f"{base.runs:,} runs each on the same worlds (seed {base.seed}); the change and "
            "its interval come from the paired worlds.")
    return (f'<table class="sim-probabilities" style="border-collapse:collapse;'
            f'font-variant-numeric:tabular-nums">{head}{"".join(rows)}</table>'
            f'<div style="font-size:90%;color:#555">{html.escape(note)}</div>')


def outcome_figure(comparison):
    """Grouped bars: each outcome in the baseline (light) and the variant (full colour),
    with 95% interval whiskers."""
    from matplotlib.figure import Figure

    base, variant = comparison.results
    fig = Figure(figsize=(CHART_WIDTH, 3.1), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(OUTCOMES))
    width = 0.38
    top = 0.0
    for shift, result, alpha in ((-width / 2, base, 0.35), (width / 2, variant, 1.0)):
        p = np.array([result.probabilities[o] for o in OUTCOMES])
        ci = result.intervals
        errors = np.array([[p[j] - ci[o][0] for j, o in enumerate(OUTCOMES)],
                           [ci[o][1] - p[j] for j, o in enumerate(OUTCOMES)]])
        ax.bar(x + shift, p, width, color=[COLOURS[o] for o in OUTCOMES], alpha=alpha,
               yerr=errors, capsize=3, ecolor="#333333", error_kw={"linewidth": 0.8})
        for xi, pi, o in zip(x + shift, p, OUTCOMES, strict=True):
            ax.annotate(f"{pi:.1%}", (xi, ci[o][1]), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8)
        top = max(top, max(ci[o][1] for o in OUTCOMES))
    ax.set_xticks(x, [LABELS[o] for o in OUTCOMES], fontsize=9)
    ax.set_ylim(0, min(1.0, top * 1.18 + 0.04))
    ax.set_ylabel("Probability", fontsize=9)
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.tick_params(axis="y", labelsize=8)
    # the key is in the title: a legend inside the axes would cover some bar's label
    ax.set_title(f"Baseline (light) and variant (full colour): {base.runs:,} runs each, "
                 "95% intervals", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def drivers_figure(result):
    """The variant's drivers chart (:func:`sim.plots.drivers_chart`) in the column's width."""
    from matplotlib.figure import Figure

    from ..plots import drivers_chart

    fig = Figure(figsize=(CHART_WIDTH, 3.6), layout="constrained")
    drivers_chart(result, ax=fig.subplots(1, 2))
    fig.suptitle("Why: what each pressure does in the variant, at the forecast date",
                 fontsize=10)
    return fig
