"""Charts drawn from results objects.  Every function takes ``ax=None`` and returns the axes.

Plots know nothing of the model's internals: they read probabilities, intervals
and quantiles from results, and use one colour per outcome everywhere.
"""

from __future__ import annotations

import numpy as np

from .outcomes import COLOURS, LABELS, OUTCOMES


def _axes(ax, size=(7, 4)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def outcome_bars(result, ax=None):
    """Bars of each outcome's probability with 95% Monte Carlo whiskers and, when the
    weights carry posterior draws, the 80% and 95% credible ranges beside each bar."""
    ax = _axes(ax)
    probs = result.probabilities
    ci = result.intervals
    credible = getattr(result, "credible", None)
    x = np.arange(len(OUTCOMES))
    heights = [probs[o] for o in OUTCOMES]
    errors = np.array([[probs[o] - ci[o][0] for o in OUTCOMES],
                       [ci[o][1] - probs[o] for o in OUTCOMES]])
    bars = ax.bar(x, heights, color=[COLOURS[o] for o in OUTCOMES], width=0.55,
                  yerr=errors, capsize=6, ecolor="#333333")
    tops = list(heights)
    if credible:
        side = x + 0.38
        for level, width, label in (("credible95", 1.5, "95% credible (weights' posterior)"),
                                    ("credible80", 5.0, "80% credible")):
            low = [credible[level][o][0] for o in OUTCOMES]
            high = [credible[level][o][1] for o in OUTCOMES]
            ax.vlines(side, low, high, color="#555555", linewidth=width, label=label)
            tops = [max(t, h) for t, h in zip(tops, high, strict=True)]
        ax.plot(side, heights, linestyle="none", marker="_", markersize=9, color="black")
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    for bar, p in zip(bars, heights, strict=True):
        ax.annotate(f"{p:.1%}", (bar.get_x() + bar.get_width() / 2, p),
                    xytext=(0, 8), textcoords="offset points", ha="center", fontsize=9)
    ax.set_xticks(x, [LABELS[o] for o in OUTCOMES])
    ax.set_ylim(0, min(1.0, max(tops) * 1.2 + 0.05) if not credible
                else min(1.0, max(tops) * 1.15 + 0.12))
    ax.set_ylabel("Probability")
    ax.yaxis.set_major_formatter(_percent())
    what = ("black whiskers: Monte Carlo 95%; grey: credible ranges" if credible
            else "95% intervals")
    ax.set_title(f"{result.title}\n{result.runs:,} runs, {what} (seed {result.seed})",
                 fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def stance_fan(result, ax=None):
    """Fan chart of the host's intent (probability it would execute the warrant) over time."""
    ax = _axes(ax)
    q = result.stance_quantiles()
    days = q.index.to_numpy()
    colour = COLOURS["arrest_surrender"]
    ax.fill_between(days, q["q05"], q["q95"], color=colour, alpha=0.18, label="5-95%",
                    linewidth=0)
    ax.fill_between(days, q["q25"], q["q75"], color=colour, alpha=0.35, label="25-75%",
                    linewidth=0)
    ax.plot(days, q["q50"], color=colour, linewidth=2, label="median")
    ax.axvline(0, color="#555555", linestyle="--", linewidth=1)
    # the label runs down along the arrival line and the legend stands right of the axes, so
    # that neither reaches the bands or the title above them
    ax.annotate("arrival", (0, 1), xycoords=("data", "axes fraction"), xytext=(3, -3),
                textcoords="offset points", fontsize=9, color="#555555", rotation=90,
                ha="left", va="top")
    ax.set_xlabel("Days from the start of the arrival day")
    ax.set_ylabel("Host's intent to execute\nthe warrant")
    ax.yaxis.set_major_formatter(_percent(decimals=1 if q["q95"].max() < 0.1 else 0))
    ax.set_ylim(0, max(float(q["q95"].max()) * 1.2, 0.01))
    ax.set_xticks(days)
    ax.set_title(f"{result.title}: the host's intent\n"
                 f"{result.stance_sample.shape[1]:,} of {result.runs:,} runs", fontsize=10)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def drivers_chart(result, ax=None):
    """What each pressure did at the forecast date: to the host's intent (left) and to the
    visitor's choice to stay away (right), in percentage points; returns the two axes.

    ``ax``, if given, is a pair of axes.
    """
    own_figure = ax is None
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1, 2, figsize=(9, 4.6), layout="constrained")
    host_ax, visitor_ax = ax
    block = result.drivers_summary()
    panels = ((host_ax, block["host_intent"], "Host's intent to arrest",
               "towards arrest", "against"),
              (visitor_ax, block["visitor_stays_away"], "Visitor stays away",
               "stays away", "travels"))
    for axis, effects, title, plus, minus in panels:
        names = sorted(effects, key=lambda k: abs(effects[k]))
        values = np.array([100 * effects[k] for k in names])
        colours = [COLOURS["arrest_surrender"] if v > 0 else COLOURS["hosted_no_arrest"]
                   for v in values]
        axis.barh(np.arange(len(names)), values, color=colours, height=0.7)
        axis.set_yticks(np.arange(len(names)), [n.replace("_", " ") for n in names],
                        fontsize=9)
        axis.axvline(0, color="#333333", linewidth=0.8)
        span = max(float(np.abs(values).max()) if len(values) else 0.0, 0.1) * 1.25
        axis.set_xlim(-span, span)
        axis.set_xlabel(f"percentage points\n(+ {plus}, \u2212 {minus})", fontsize=9)
        axis.set_title(title, fontsize=10)
        axis.spines[["top", "right"]].set_visible(False)
    if own_figure:  # on axes the caller gave, the figure's title is the caller's
        host_ax.figure.suptitle(f"{result.title}: drivers at the forecast date\n"
                                f"each pressure against the same worlds without it "
                                f"({result.runs:,} runs)", fontsize=10)
    return ax


def _points():
    """Tick labels for differences of probabilities, in signed percentage points."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _: f"{100 * x:+.0f}" if abs(x) > 1e-12 else "0")


def _percent(decimals: int = 0):
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=decimals)


def comparison_chart(comparison, ax=None):
    """Each scenario's change from the base in every outcome's probability, with 95% intervals.

    Differences come from paired worlds (common random numbers), so small shifts
    are resolved; one row per scenario, one colour per outcome.
    """
    others = comparison.results[1:]
    ax = _axes(ax, size=(8, 1.2 + 0.6 * len(others)))
    offsets = np.linspace(-0.27, 0.27, len(OUTCOMES))
    for j, o in enumerate(OUTCOMES):
        d = comparison.differences[1:, j]
        y = np.arange(len(others)) + offsets[j]
        ax.errorbar(d[:, 0], y, xerr=[d[:, 0] - d[:, 1], d[:, 2] - d[:, 0]], fmt="o",
                    color=COLOURS[o], capsize=2, markersize=5,
                    label=LABELS[o].replace("\n", " "))
    ax.axvline(0, color="#555555", linewidth=1)
    ax.set_yticks(range(len(others)), [r.scenario_id for r in others])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(_points())
    ax.set_xlabel(f"Change in probability from {comparison.base.scenario_id} "
                  "(percentage points, 95% interval)")
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"Scenario comparison on common random numbers\n"
                 f"{comparison.base.runs:,} runs each (seed {comparison.base.seed})", fontsize=10)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def sweep_lines(sweep, ax=None):
    """Each outcome's probability against one swept parameter, with 95% bands."""
    ax = _axes(ax)
    frame = sweep.frame()
    key = sweep.axes[0].key
    for o in OUTCOMES:
        f = frame[frame.outcome == o].sort_values(key)
        ax.plot(f[key], f.probability, color=COLOURS[o], label=LABELS[o].replace("\n", " "),
                linewidth=2)
        ax.fill_between(f[key], f.ci95_low, f.ci95_high, color=COLOURS[o], alpha=0.2,
                        linewidth=0)
    ax.set_xlabel(key)
    ax.set_ylabel("Probability")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(f"{sweep.title}: sweep of {key.split('.')[-1]}\n"
                 f"{sweep.runs:,} runs per point (seed {sweep.seed})", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def sweep_heatmap(sweep, outcome: str = "hosted_no_arrest", ax=None):
    """Probability of ``outcome`` over two swept parameters (a grid or scattered points)."""
    ax = _axes(ax, size=(6, 5))
    x, y = sweep.points[:, 0], sweep.points[:, 1]
    p = sweep.counts[:, OUTCOMES.index(outcome)] / sweep.counts.sum(axis=1)
    xs, ys = np.unique(x), np.unique(y)
    if len(xs) * len(ys) == len(p):  # a full grid: draw cells
        grid = np.full((len(ys), len(xs)), np.nan)
        grid[np.searchsorted(ys, y), np.searchsorted(xs, x)] = p
        mesh = ax.pcolormesh(xs, ys, grid, shading="nearest", cmap="viridis", vmin=0, vmax=1)
    else:  # Latin hypercube: colour the points
        mesh = ax.scatter(x, y, c=p, cmap="viridis", vmin=0, vmax=1, s=30)
    bar = ax.figure.colorbar(mesh, ax=ax)
    bar.set_label(f"P({LABELS[outcome].replace(chr(10), ' ')})")
    ax.set_xlabel(sweep.axes[0].key)
    ax.set_ylabel(sweep.axes[1].key)
    ax.set_title(f"{sweep.title}\n{LABELS[outcome].replace(chr(10), ' ')}: "
                 f"{sweep.runs:,} runs per point (seed {sweep.seed})", fontsize=10)
    return ax


def tornado(sensitivity, outcome: str = "hosted_no_arrest", ax=None, top: int = 15):
    """Horizontal bars of each parameter's sensitivity index for one outcome, largest first.

    Sobol: total-order index (light) with the first-order index (dark) inside it;
    Morris: mu*.  Whiskers are SALib's 95% confidence intervals.
    """
    frame = sensitivity.indices
    f = frame[frame.outcome == outcome].copy()
    key, conf = ("ST", "ST_conf") if sensitivity.method == "sobol" else ("mu_star",
                                                                          "mu_star_conf")
    f = f.dropna(subset=[key]).sort_values(key, ascending=False).head(top)
    ax = _axes(ax, size=(8, 1 + 0.35 * max(len(f), 1)))
    y = np.arange(len(f))
    labels = [p.replace("actors.", "").replace(".params.", ".").replace(".ties.", " > ")
              for p in f.parameter]
    colour = COLOURS[outcome]
    ax.barh(y, f[key], xerr=f[conf], color=colour, alpha=0.45, capsize=2,
            label="total order" if sensitivity.method == "sobol" else "mu*")
    if sensitivity.method == "sobol":
        ax.barh(y, f["S1"].clip(lower=0), height=0.45, color=colour, label="first order")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_xlabel("Sobol index" if sensitivity.method == "sobol"
                  else "Morris mu* (change in probability)")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title(f"{sensitivity.title}: what drives P({LABELS[outcome].replace(chr(10), ' ')})\n"
                 f"{sensitivity.method}, {sensitivity.points:,} points x "
                 f"{sensitivity.runs_per_point:,} runs (seed {sensitivity.seed})", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def reliability_diagram(backtest, ax=None, bins=(0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)):
    """Reliability of a backtest's forecasts: every (case, outcome) probability, binned,
    against how often that outcome happened.  ``backtest`` is a backtest document."""
    ax = _axes(ax, size=(5.5, 6))
    cases = backtest["cases"]
    p = np.array([[c["probabilities"][o] for o in OUTCOMES] for c in cases])
    y = np.array([[float(c["outcome"] == o) for o in OUTCOMES] for c in cases])
    edges = np.asarray(bins)
    which = np.clip(np.digitize(p.ravel(), edges[1:-1]), 0, len(edges) - 2)
    xs, ys, ns = [], [], []
    for b in range(len(edges) - 1):
        mask = which == b
        if mask.any():
            xs.append(p.ravel()[mask].mean())
            ys.append(y.ravel()[mask].mean())
            ns.append(int(mask.sum()))
    ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1,
            label="perfect reliability")
    for k, o in enumerate(OUTCOMES):
        jitter = (k - 1.5) * 0.012
        ax.scatter(p[:, k], y[:, k] + jitter, s=14, color=COLOURS[o], alpha=0.6,
                   label=LABELS[o].replace("\n", " "))
    ax.plot(xs, ys, color="#222222", marker="o", linewidth=1.5, label="binned (all outcomes)")
    for x, yy, n in zip(xs, ys, ns, strict=True):
        ax.annotate(f"n={n}", (x, yy), xytext=(5, -10), textcoords="offset points", fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("Forecast probability")
    ax.set_ylabel("Observed frequency")
    ax.xaxis.set_major_formatter(_percent())
    ax.yaxis.set_major_formatter(_percent())
    ax.set_title(f"Reliability of {len(cases)} case forecasts ({_backtest_kind(backtest)})",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13),
              ncols=2)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def _backtest_kind(backtest: dict) -> str:
    """How a backtest's forecasts were made, for titles (documents before the modes
    existed say only whether they were leave-one-out)."""
    mode = backtest.get("mode") or ("loo" if backtest.get("settings", {}).get("leave_one_out")
                                    else "in_sample")
    return {"as_of": "as of each forecast date", "loo": "leave-one-out",
            "in_sample": "in-sample"}[mode]


def case_forecasts(backtest, ax=None):
    """Each case's forecast as a stacked bar, with a mark on the outcome that happened;
    cases sorted by the probability given to it."""
    cases = sorted(backtest["cases"], key=lambda c: c["probabilities"][c["outcome"]])
    ax = _axes(ax, size=(8, 0.28 * len(cases) + 1.5))
    rows = np.arange(len(cases))
    left = np.zeros(len(cases))
    for o in OUTCOMES:
        width = np.array([c["probabilities"][o] for c in cases])
        ax.barh(rows, width, left=left, color=COLOURS[o], height=0.75,
                label=LABELS[o].replace("\n", " "))
        for r, c in enumerate(cases):
            if c["outcome"] == o:
                ax.plot(left[r] + width[r] / 2, r, marker="D", color="black", markersize=5,
                        markerfacecolor="white")
        left += width
    ax.set_yticks(rows, [f"{c['id']}  ({c['probabilities'][c['outcome']]:.0%})" for c in cases],
                  fontsize=8)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_xlabel("Forecast probability (diamond: what happened; label: its probability)")
    ax.set_title(f"Forecast of each case against its outcome ({_backtest_kind(backtest)})",
                 fontsize=10)
    ax.legend(frameon=False, fontsize=8, ncols=4, loc="lower center",
              bbox_to_anchor=(0.5, 1.03))
    ax.spines[["top", "right"]].set_visible(False)
    return ax
