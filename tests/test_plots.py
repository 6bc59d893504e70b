"""The charts draw what they are given: heights, whiskers, quantiles, titles and colours."""

from __future__ import annotations

import dataclasses

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer, ErrorbarContainer

import sim
from sim.outcomes import COLOURS, LABELS, OUTCOMES
from sim.plots import outcome_bars, stance_fan

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def result(baseline):
    return sim.run(baseline, runs=5_000, seed=3, progress=False)


@pytest.fixture(scope="module")
def lopsided(result):
    """A result with a zero count, a certain-ish outcome and a hand-made stance sample."""
    days = result.stance_sample.shape[0]
    ramp = np.linspace(0.0, 0.4, days)[:, None] + np.linspace(0.0, 0.5, 101)[None, :]
    return dataclasses.replace(result, counts=np.array([0, 970, 10, 20]),
                               stance_sample=ramp.astype(np.float32))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def bars_of(ax):
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    return sorted(bars.patches, key=lambda bar: bar.get_x())


def whiskers_of(ax):
    (errorbar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    _, _, (segments,) = errorbar.lines
    return sorted(segments.get_segments(), key=lambda seg: seg[0][0])


def as_list(mapping):
    return [mapping[o] for o in OUTCOMES]


# ------------------------------------------------------------------------- outcome bars

@pytest.mark.parametrize("name", ["result", "lopsided"])
def test_bar_heights_are_the_probabilities_in_outcome_order(name, request):
    res = request.getfixturevalue(name)
    ax = outcome_bars(res)
    heights = [bar.get_height() for bar in bars_of(ax)]
    np.testing.assert_allclose(heights, as_list(res.probabilities), rtol=0, atol=1e-12)
    assert sum(heights) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["result", "lopsided"])
def test_whiskers_span_the_intervals(name, request):
    res = request.getfixturevalue(name)
    ax = outcome_bars(res)
    bars = bars_of(ax)
    segments = whiskers_of(ax)
    assert len(segments) == len(OUTCOMES)
    for bar, segment, (low, high) in zip(bars, segments, as_list(res.intervals), strict=True):
        (x0, y0), (x1, y1) = segment
        centre = bar.get_x() + bar.get_width() / 2
        assert x0 == pytest.approx(centre) and x1 == pytest.approx(centre)
        assert sorted((y0, y1)) == pytest.approx([low, high], abs=1e-12)


def test_zero_count_gets_a_zero_bar_and_an_upper_whisker(lopsided):
    ax = outcome_bars(lopsided)
    zero = OUTCOMES.index("arrest_surrender")
    assert bars_of(ax)[zero].get_height() == 0
    (_, y0), (_, y1) = whiskers_of(ax)[zero]
    assert min(y0, y1) == pytest.approx(0.0, abs=1e-12)
    assert max(y0, y1) == pytest.approx(lopsided.intervals["arrest_surrender"][1])
    assert max(y0, y1) > 0


def test_bars_use_the_outcome_colours_and_labels(result):
    ax = outcome_bars(result)
    for bar, outcome in zip(bars_of(ax), OUTCOMES, strict=True):
        assert bar.get_facecolor() == pytest.approx(to_rgba(COLOURS[outcome]))
    assert [t.get_text() for t in ax.get_xticklabels()] == as_list(LABELS)


def test_bar_annotations_print_the_probabilities(result):
    ax = outcome_bars(result)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{p:.1%}" for p in as_list(result.probabilities)]


def test_bar_title_names_the_scenario_runs_and_seed(result):
    title = outcome_bars(result).get_title()
    assert result.title in title
    assert f"{result.runs:,} runs" in title
    assert f"seed {result.seed}" in title


def test_bars_fit_in_the_axes(lopsided):
    ax = outcome_bars(lopsided)
    low, high = ax.get_ylim()
    assert low == 0 and high <= 1.0
    assert max(lopsided.probabilities.values()) <= high


def test_outcome_bars_draw_on_a_given_axes_and_return_it(result):
    fig, (left, right) = plt.subplots(1, 2)
    assert outcome_bars(result, ax=right) is right
    assert result.plot(ax=left) is left
    heights = [[bar.get_height() for bar in bars_of(ax)] for ax in (left, right)]
    assert heights[0] == heights[1]


def test_outcome_bars_without_axes_make_a_figure(result):
    ax = outcome_bars(result)
    assert ax.figure is not None
    assert len(ax.figure.axes) == 1


# ---------------------------------------------------------------------------- stance fan

def line_labelled(ax, label):
    (line,) = [line for line in ax.lines if line.get_label() == label]
    return line


def band_labelled(ax, label):
    (band,) = [c for c in ax.collections
               if isinstance(c, PolyCollection) and c.get_label() == label]
    return band


@pytest.mark.parametrize("name", ["result", "lopsided"])
def test_fan_median_is_the_median_quantile(name, request):
    res = request.getfixturevalue(name)
    ax = stance_fan(res)
    q = res.stance_quantiles()
    median = line_labelled(ax, "median")
    np.testing.assert_array_equal(median.get_xdata(), q.index.to_numpy())
    np.testing.assert_allclose(median.get_ydata(), q["q50"].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize(("label", "low", "high"), [("5-95%", "q05", "q95"),
                                                     ("25-75%", "q25", "q75")])
@pytest.mark.parametrize("name", ["result", "lopsided"])
def test_fan_bands_span_the_quantiles(name, label, low, high, request):
    res = request.getfixturevalue(name)
    ax = stance_fan(res)
    q = res.stance_quantiles()
    vertices = band_labelled(ax, label).get_paths()[0].vertices
    for day, lo, hi in zip(q.index, q[low], q[high], strict=True):
        ys = vertices[np.isclose(vertices[:, 0], day), 1]
        assert np.isclose(ys, lo).any(), (label, day)
        assert np.isclose(ys, hi).any(), (label, day)
        assert ys.min() == pytest.approx(lo) and ys.max() == pytest.approx(hi)


def test_fan_quantiles_come_from_the_stance_sample(lopsided):
    q = lopsided.stance_quantiles()
    np.testing.assert_allclose(q["q50"], np.median(lopsided.stance_sample, axis=1), rtol=1e-6)
    assert list(q.index) == list(range(-lopsided.days_before_visit,
                                       lopsided.stance_sample.shape[0]
                                       - lopsided.days_before_visit))


def test_fan_uses_the_arrest_colour_and_marks_the_arrival(result):
    ax = stance_fan(result)
    colour = to_rgba(COLOURS["arrest_surrender"])
    assert to_rgba(line_labelled(ax, "median").get_color()) == pytest.approx(colour)
    for label in ("5-95%", "25-75%"):
        face = band_labelled(ax, label).get_facecolor()[0]
        assert tuple(face[:3]) == pytest.approx(colour[:3])
    arrival = [line for line in ax.lines if list(line.get_xdata()) == [0, 0]]
    assert len(arrival) == 1


def test_fan_title_names_the_scenario_and_run_counts(result):
    title = stance_fan(result).get_title()
    assert result.title in title
    assert f"{result.runs:,} runs" in title
    assert f"{result.stance_sample.shape[1]:,} of" in title


def test_fan_draws_on_a_given_axes_and_returns_it(result):
    _, ax = plt.subplots()
    assert stance_fan(result, ax=ax) is ax
    assert len(ax.figure.axes) == 1


# ------------------------------------------------------------------------------ colours

def test_one_distinct_colour_per_outcome():
    assert set(COLOURS) == set(OUTCOMES) == set(LABELS)
    assert len({to_rgba(c) for c in COLOURS.values()}) == len(OUTCOMES)


# ---------------------------------------------------------------------------- drivers

def test_drivers_chart_draws_each_drive_with_its_sign_and_colour(result):
    from sim.plots import drivers_chart

    host_ax, visitor_ax = drivers_chart(result)
    block = result.drivers_summary()
    for axis, effects in ((host_ax, block["host_intent"]),
                          (visitor_ax, block["visitor_stays_away"])):
        (bars,) = [c for c in axis.containers if isinstance(c, BarContainer)]
        labels = [t.get_text().replace(" ", "_") for t in axis.get_yticklabels()]
        assert sorted(labels) == sorted(effects)
        for bar, name in zip(bars, labels, strict=True):
            assert bar.get_width() == pytest.approx(100 * effects[name])
            if effects[name] > 0:
                assert bar.get_facecolor() == to_rgba(COLOURS["arrest_surrender"])
    assert "drivers" in host_ax.figure.get_suptitle()
    plt.close(host_ax.figure)


def test_drivers_chart_on_given_axes_leaves_the_figure_title_alone(result):
    from sim.plots import drivers_chart

    fig, axes = plt.subplots(1, 2)
    fig.suptitle("mine")
    drivers_chart(result, ax=axes)
    assert fig.get_suptitle() == "mine"
    plt.close(fig)
