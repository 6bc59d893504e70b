"""Fast sampling (issue 11, item 1): what the faster sampler must keep.

The closed-form quantile functions agree with ``scipy.stats`` (tails included), the keyed
streams depend only on the seed, the block and the key path, and the draws have the
declared laws and correlations.  How fast it is, is measured by ``benchmarks/sampling.py``
(which prints the figures next to the old kernel), never asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import BASELINE
from scipy import special, stats

from sim.distributions import PROBE, SCORED, Distribution
from sim.sampling import Z_HI, Z_LO, draw_parameters
from sim.streams import BLOCK, Streams


@pytest.fixture(scope="module")
def by_laws(tmp_path_factory):
    """The baseline with the shipped weights' laws and correlations but not their posterior
    draws, so that every uncertain parameter, weights included, goes through the copula."""
    import sim

    doc = yaml.safe_load(sim.scenario.default_weights_file().read_text())
    doc.pop("posterior")
    path = tmp_path_factory.mktemp("weights") / "laws.yaml"
    path.write_text(yaml.safe_dump(doc))
    scenario = sim.load_scenario(BASELINE, weights=path)
    assert scenario.posterior is None and any(c.a.startswith("weights.")
                                              for c in scenario.correlations)
    return scenario

#: u on a grid that reaches far into both tails
GRID = np.unique(np.concatenate([
    [0.0, 1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-15],
    np.logspace(-12, -1, 23), np.linspace(0.01, 0.99, 99), 0.5 + np.array([-1e-9, 1e-9]),
    1 - np.logspace(-1, -12, 23), [1 - 1e-15, 1 - 2**-53, 1.0], PROBE]))


def _close(mine: np.ndarray, reference: np.ndarray, scale: float) -> None:
    """Within 1e-10 relative; near 0, where a relative error means nothing, within
    1e-12 of the law's scale."""
    np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12 * scale)


@pytest.mark.parametrize("low, mode, high", [
    (0.9, 0.95, 0.97), (0.35, 0.45, 0.55), (0.0, 0.0, 1.0), (0.0, 1.0, 1.0), (-3.0, 2.0, 7.5),
    (1e-9, 2e-9, 1e-8), (-1e6, 0.0, 1e6)])
def test_triangular_quantiles_agree_with_scipy(low, mode, high):
    law = Distribution("triangular", {"low": low, "mode": mode, "high": high})
    width = high - low
    reference = stats.triang.ppf(GRID, (mode - low) / width, loc=low, scale=width)
    _close(law.ppf(GRID), reference, width)
    assert law.ppf(np.float64(0.25)).shape == ()


def _truncnorm_reference(mean, sd, low, high, u):
    """scipy.stats.truncnorm's quantiles, each from the side where scipy computes them
    accurately: its lower equation below the mean, and the mirror image above it (scipy's
    own quantiles above the mean of a law reaching below it lose digits in the tail)."""
    a, b = (low - mean) / sd, (high - mean) / sd
    with np.errstate(all="ignore"):
        below = stats.truncnorm.ppf(u, a, b)
        above = -stats.truncnorm.ppf(1 - u, -b, -a)
    return np.clip(np.where(below <= 0, below, above) * sd + mean, low, high)


TRUNCNORMAL = [
    (0.0, 1.0, -1.0, 1.0), (0.5, 0.2, 0.0, 1.0), (0.1, 0.05, 0.3, 0.9), (2.0, 3.0, -100.0, 100.0),
    (0.0, 1.0, 0.0, 1.0), (0.0, 1.0, -1.0, 0.0), (0.0, 1.0, -5.0, 30.0), (0.0, 1.0, -30.0, 5.0),
    (0.0, 1.0, -30.0, 30.0), (0.0, 1.0, -1.0, 1e10), (0.0, 1.0, -1e10, 1.0),
    (0.0, 1.0, 3.0, 9.0), (0.0, 1.0, -9.0, -3.0), (0.0, 1.0, 8.0, 9.0), (0.0, 1.0, -9.0, -8.0),
    (0.0, 1.0, 39.0, 40.0), (0.0, 1.0, -40.0, -39.0), (0.0, 1.0, 40.0, 41.0),
    (0.0, 1.0, 3.0, 3.0001), (0.0, 1.0, -8.0, -7.9999), (0.0, 1.0, 1e10, 1e10 + 1),
    (0.6, 0.01, 0.0, 1.0), (0.0, 1.0, -36.0, 0.5), (0.0, 1.0, -0.5, 36.0)]


@pytest.mark.parametrize("mean, sd, low, high", TRUNCNORMAL)
def test_truncnormal_quantiles_agree_with_scipy_in_both_tails(mean, sd, low, high):
    law = Distribution("truncnormal", {"mean": mean, "sd": sd, "low": low, "high": high})
    mine = law.ppf(GRID)
    assert ((mine >= low) & (mine <= high)).all()
    assert np.all(np.diff(mine) >= 0)  # a quantile function never decreases
    _close(mine, _truncnorm_reference(mean, sd, low, high, GRID), sd)
    assert law.ppf(np.float64(0.25)).shape == ()


def test_truncnormal_refuses_what_it_cannot_compute_with_nan():
    from sim.distributions import _truncnorm_ppf

    for args in ({"mean": 0.0, "sd": 1e-320, "low": 0.5, "high": 1.0},
                 {"mean": -1e300, "sd": 1e-300, "low": 0.0, "high": 1.0}):
        assert np.isnan(_truncnorm_ppf(args, PROBE)).all()


@pytest.mark.parametrize("kind, args", [
    ("normal", {"mean": 0.3, "sd": 2.0}), ("lognormal", {"median": 25.5, "sigma": 0.9}),
    ("lognormal", {"median": 1e-3, "sigma": 3.0}), ("logitnormal", {"median": 0.11, "sigma": 0.45}),
    ("logitnormal", {"median": 0.999, "sigma": 2.0}), ("uniform", {"low": 0.1, "high": 0.3}),
    ("triangular", {"low": 0.9, "mode": 0.95, "high": 0.97}), ("beta", {"alpha": 2.0, "beta": 5.0}),
    ("truncnormal", {"mean": 0.5, "sd": 0.2, "low": 0.0, "high": 1.0})])
def test_values_from_scores_are_the_quantiles_of_their_uniforms(kind, args):
    law = Distribution(kind, args)
    z = np.concatenate([np.linspace(Z_LO, Z_HI, 301), [Z_LO, Z_HI, 0.0]])
    u = special.ndtr(z)
    scale = abs(law.mean()) + 1.0
    # ndtr rounds u near 1, so compare where it does not lose digits and test the upper
    # tail by symmetry for the normal family
    upper = z > 1
    _close(law.from_scores(z)[~upper], law.ppf(u)[~upper], scale)
    if kind in SCORED:
        assert law.from_scores(np.array([Z_LO]))[0] == law.ppf(np.array([1e-12]))[0]
        assert law.from_scores(np.array([Z_HI]))[0] == law.ppf(np.array([1 - 1e-12]))[0]
        if kind == "normal":
            _close(law.from_scores(z), args["mean"] + args["sd"] * z, scale)


# --------------------------------------------------------------------------- keyed streams

def test_keyed_streams_depend_only_on_seed_block_and_key():
    key = "actors.mongolia.params.implementing_law"
    three = Streams.for_range(7, 0, [BLOCK, BLOCK, 123])
    for draw in ("keyed_normal", "keyed_random"):
        whole = getattr(three, draw)(key)
        assert whole.shape == (2 * BLOCK + 123,)
        for b, size in enumerate(three.sizes):
            part = whole[b * BLOCK:b * BLOCK + size]
            alone = getattr(Streams.for_range(7, b, [size]), draw)(key)
            assert np.array_equal(part, alone)  # whatever blocks it is drawn with
            assert np.array_equal(part, getattr(three, draw)(key, b))
        # drawing other keys or the block streams first changes nothing
        other = Streams.for_range(7, 0, [BLOCK, BLOCK, 123])
        other.random(5)
        other.keyed_normal("weights.legal")
        assert np.array_equal(getattr(other, draw)(key), whole)
        # and another seed, block or key gives other draws
        assert not np.array_equal(getattr(Streams.for_range(8, 0, [BLOCK]), draw)(key),
                                  whole[:BLOCK])
        assert not np.array_equal(whole[:BLOCK], whole[BLOCK:2 * BLOCK])
        assert not np.array_equal(getattr(three, draw)(key + "x"), whole)
    u = three.keyed_random(key)
    assert ((u >= 0) & (u < 1)).all()
    seeds = [np.random.SeedSequence(np.int64(7), spawn_key=(0,))]
    assert np.array_equal(Streams(seeds, [BLOCK]).keyed_normal(key),
                          three.keyed_normal(key, 0))  # a numpy integer seed names it alike


def test_keyed_streams_are_uncorrelated(baseline):
    streams = Streams.for_range(3, 0, [BLOCK] * 4)
    z = np.stack([streams.keyed_normal(p) for p in baseline.uncertain()])
    r = np.corrcoef(z)
    off = r[~np.eye(len(r), dtype=bool)]
    assert np.abs(off).max() < 0.03  # 40,000 draws: sd of r is 0.005
    assert np.abs(z.mean(axis=1)).max() < 0.03 and np.abs(z.std(axis=1) - 1).max() < 0.03


# --------------------------------------------------------------------------- draw_parameters

def test_draws_do_not_depend_on_which_blocks_are_drawn_together(baseline):
    together = draw_parameters(baseline, Streams.for_range(5, 0, [BLOCK, BLOCK, 777]))
    apart = [draw_parameters(baseline, Streams.for_range(5, b, [size]))
             for b, size in enumerate([BLOCK, BLOCK, 777])]
    for p in baseline.uncertain():
        assert np.array_equal(together[p], np.concatenate([a[p] for a in apart])), p
    again = draw_parameters(baseline, Streams.for_range(5, 0, [BLOCK, BLOCK, 777]))
    assert all(np.array_equal(together[p], again[p]) for p in baseline.parameters)


def test_a_parameter_keeps_its_draws_when_other_parameters_change(by_laws):
    """Common random numbers: a parameter's draws depend on the seed, the block and its
    path, and on the laws of nothing else; a law changed within its kind keeps the same
    uniforms (comonotone coupling)."""
    law = "actors.mongolia.params.implementing_law"  # uniform(0.1, 0.3)
    changed = {law: Distribution("uniform", {"low": 0.2, "high": 0.6}),
               "actors.icc.params.engagement": Distribution("uniform", {"low": 0.0, "high": 1.0}),
               "weights.court": Distribution("lognormal", {"median": 5.0, "sigma": 0.5}),
               "actors.mongolia.ties.russia.fuel_import_share": 0.95}
    other = by_laws.with_values(changed)
    streams = lambda: Streams.for_range(9, 4, [BLOCK, 500])  # noqa: E731
    a, b = draw_parameters(by_laws, streams()), draw_parameters(other, streams())
    untouched = [p for p in by_laws.uncertain() if p not in changed
                 and p != "actors.mongolia.ties.russia.supply_interruption_memory"]
    for p in untouched:  # the weights stay coupled as before: court's law changed, not its score
        assert np.array_equal(a[p], b[p]), p
    np.testing.assert_allclose((b[law] - 0.2) / 0.4, (a[law] - 0.1) / 0.2, rtol=1e-12)
    ratio = np.log(b["weights.court"] / 5.0) / 0.5
    expected = np.log(a["weights.court"] / by_laws.parameters["weights.court"].dist.args[
        "median"]) / by_laws.parameters["weights.court"].dist.args["sigma"]
    np.testing.assert_allclose(ratio, expected, rtol=1e-9, atol=1e-12)
    # fuel_import_share made fixed: its correlation is dropped, so its partner is drawn
    # uncorrelated, from the same keyed stream
    assert b["actors.mongolia.ties.russia.fuel_import_share"] == 0.95


def _scores(law: Distribution, x: np.ndarray) -> np.ndarray:
    """Normal scores of draws ``x`` of ``law`` (through its CDF)."""
    a = law.args
    if law.kind == "lognormal":
        return np.log(x / a["median"]) / a["sigma"]
    if law.kind == "logitnormal":
        return (special.logit(x) - special.logit(a["median"])) / a["sigma"]
    if law.kind == "uniform":
        return special.ndtri((x - a["low"]) / (a["high"] - a["low"]))
    assert law.kind == "triangular"
    width = a["high"] - a["low"]
    cdf = stats.triang.cdf(x, (a["mode"] - a["low"]) / width, loc=a["low"], scale=width)
    return special.ndtri(cdf)


def test_draws_have_the_declared_laws_and_correlations(by_laws):
    n = 5 * BLOCK
    values = draw_parameters(by_laws, Streams.for_range(2024, 0, [BLOCK] * 5))
    scores = {}
    for p in by_laws.uncertain():
        law = by_laws.parameters[p].dist
        lo, hi = law.support()
        assert values[p].shape == (n,) and ((values[p] >= lo) & (values[p] <= hi)).all()
        scores[p] = _scores(law, values[p])
        # each marginal is its law: its normal scores are standard normal
        assert stats.kstest(scores[p], "norm").pvalue > 1e-4, p
    for c in by_laws.correlations:
        r = np.corrcoef(scores[c.a], scores[c.b])[0, 1]
        assert abs(r - c.rho) < 4 * (1 - c.rho**2) / np.sqrt(n) + 1e-3, (c, r)
