"""Outcome probabilities integrated over the host's resolve and the visitor's misreading
(sim/expected.py), which calibration's likelihood is built on."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BASELINE, CASES

from sim.analysis import calibration as cal
from sim.engine import expected_counts
from sim.model import WarrantVisitModel
from sim.outcomes import OUTCOMES
from sim.sampling import draw_parameters
from sim.scenario import load_scenario
from sim.streams import Streams, block_sizes

#: Four and a half standard errors: no false alarm in the 24 checks below but once in
#: about 6,000 runs of the suite.
Z = 4.5
#: A case with a court (petitions, orders), one that plans for weeks, one with a long stay.
SCENARIOS = [BASELINE, CASES / "p01_putin_south_africa_2023.yaml",
             CASES / "b16_bashir_nigeria_2013.yaml", CASES / "o04_mokom_chad_2022.yaml"]


def _paired(scenario, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integrated probabilities (n, 4) and drawn outcome codes (n,) of the same worlds."""
    sizes = block_sizes(n)
    expected = WarrantVisitModel(scenario, Streams.for_range(seed, 0, sizes), collect=False,
                                 expected=True).run_to_end()
    drawn = WarrantVisitModel(scenario, Streams.for_range(seed, 0, sizes),
                              collect=False).run_to_end()
    assert expected.probabilities is not None
    return expected.probabilities, drawn.outcome


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_integrated_probabilities_are_what_the_drawn_worlds_give_on_average(path):
    scenario = load_scenario(path)
    p, outcome = _paired(scenario, 40_000, seed=5)
    assert np.allclose(p.sum(axis=1), 1.0) and (p >= 0).all()
    mean = p.mean(axis=0)
    frequency = np.bincount(outcome, minlength=len(OUTCOMES)) / len(outcome)
    # drawn minus integrated is the noise of the two integrated draws alone, per world at
    # most the outcome's Bernoulli variance
    se = np.sqrt(np.maximum(mean * (1 - mean), 1e-12) / len(outcome))
    assert np.all(np.abs(frequency - mean) <= Z * se + 1e-12), (frequency, mean)


def test_with_no_misreading_or_no_awareness_the_probabilities_still_hold(baseline):
    """Edge cases of the threshold: no spread of the misreading (the visitor reads the
    intent exactly) and a visitor unaware of the warrant (it never stays away)."""
    for changed in ({"weights.perception_sd": 0.0},
                    {"actors.russia.params.warrant_awareness": 0.0}):
        p, outcome = _paired(baseline.with_values(changed), 20_000, seed=8)
        mean = p.mean(axis=0)
        frequency = np.bincount(outcome, minlength=len(OUTCOMES)) / len(outcome)
        se = np.sqrt(np.maximum(mean * (1 - mean), 1e-12) / len(outcome))
        assert np.all(np.abs(frequency - mean) <= Z * se + 1e-12), (changed, frequency, mean)
        if "actors.russia.params.warrant_awareness" in changed:
            assert mean[OUTCOMES.index("visit_cancelled")] == 0.0


def test_the_threshold_splits_the_misreadings_as_the_risk_does(baseline):
    """risk(intent, order) > accepted risk exactly when the misreading exceeds the
    threshold, at intents and orders that include 0 and 1."""
    model = WarrantVisitModel(baseline, Streams.for_range(3, 0, [2000]), collect=False)
    visitor = model.visitor
    rng = np.random.default_rng(0)
    intent = rng.choice([0.0, 1.0, 0.3, 0.999], size=2000) * (rng.random(2000) < 0.8) \
        + rng.random(2000) * (rng.random(2000) < 0.2)
    intent = np.clip(intent, 0.0, 1.0)
    order = rng.random(2000) < 0.3
    cut = visitor.threshold(intent, order)
    for misreading in (-5.0, -1.0, 0.0, 0.7, 4.0):
        visitor.misreading = np.full(2000, misreading)
        exceeds = visitor.risk(intent, order) > visitor.accepted_risk
        assert np.array_equal(exceeds, misreading > cut)


def test_expected_counts_move_continuously_with_a_weight():
    """Drawn counts jump as a weight crosses a world's resolve; the integrated ones do not:
    a millionth of a logit changes them by a tiny fraction of a world."""
    case = load_scenario(CASES / "b16_bashir_nigeria_2013.yaml", weights=cal.prior_weights_file())
    sizes = block_sizes(3000)
    draws = draw_parameters(case, Streams.for_range(1, 0, sizes))
    legal = float(np.mean(draws["weights.legal"]))

    def counts(value):
        return expected_counts(case, 1, 0, sizes, {**draws, "weights.legal": value})

    step = counts(legal * np.exp(1e-6)) - counts(legal)
    assert np.abs(step).max() < 1e-3
    assert np.abs(counts(legal * 2) - counts(legal)).max() > 1.0  # yet it does move


def test_cases_shared_out_among_workers_give_the_same_counts():
    cases = [load_scenario(CASES / name, weights=cal.prior_weights_file())
             for name in ("b01_bashir_south_africa_2009.yaml", "p01_putin_south_africa_2023.yaml",
                          "o04_mokom_chad_2022.yaml")]
    weights = {"legal": 7.0, "risk_tolerance": 0.1}
    serial = cal.CaseSimulator(cases, 400, 3).counts(weights)
    with cal.CaseSimulator(cases, 400, 3, workers=2) as shared:
        assert np.array_equal(shared.counts(weights), serial)
