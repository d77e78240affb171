"""Known-answer tests for qyb.stats.intervals (textbook cases, coverage; the PHEindicatormethods oracles are in
tests/reference/test_phe.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.stats import (
    EXACT_POISSON,
    clopper_pearson_ci,
    poisson_ci,
    rate_ci,
    wilson_ci,
)

# ---------------------------------------------------------------- published values

def test_exact_poisson_14_events():
    lo, up = poisson_ci(14)
    assert round(lo, 2) == 7.65 and round(up, 2) == 23.49
    assert isinstance(lo, float)


def test_exact_poisson_matches_chi2_definition():
    x = np.arange(0, 60)
    lo, up = poisson_ci(x, level=0.9)
    np.testing.assert_allclose(lo[1:], stats.chi2.ppf(0.05, 2 * x[1:]) / 2, rtol=1e-12)
    np.testing.assert_allclose(up, stats.chi2.ppf(0.95, 2 * x + 2) / 2, rtol=1e-12)
    assert lo[0] == 0.0
    # exact limits are the Poisson tail equations: P(X >= x | lower) = P(X <= x | upper) = a/2
    np.testing.assert_allclose(stats.poisson.sf(x[1:] - 1, lo[1:]), 0.05, rtol=1e-8)
    np.testing.assert_allclose(stats.poisson.cdf(x, up), 0.05, rtol=1e-8)


def test_byar_14_events_close_to_exact():
    lo, up = poisson_ci(14, method="byar")
    assert lo == pytest.approx(7.6475, abs=1e-4)
    assert up == pytest.approx(23.4910, abs=1e-4)


def test_wilson_newcombe_1998():
    lo, up = wilson_ci(81, 263)
    assert round(lo, 4) == 0.2553 and round(up, 4) == 0.3662
    # Newcombe's 15/148 example: 0.0624 - 0.1605
    lo, up = wilson_ci(15, 148)
    assert round(lo, 4) == 0.0624 and round(up, 4) == 0.1605


def test_wilson_edges():
    lo, up = wilson_ci([0, 10, 0], [10, 10, 0])
    assert lo[0] == 0.0 and up[1] == pytest.approx(1.0)
    assert np.isnan(lo[2]) and np.isnan(up[2])
    assert wilson_ci(3, 10, level=1.0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_ci(11, 10)


def test_clopper_pearson_matches_scipy():
    for x, n in [(0, 10), (3, 10), (10, 10), (17, 41), (250, 1000)]:
        ref = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
        lo, up = clopper_pearson_ci(x, n)
        assert lo == pytest.approx(ref.low, abs=1e-12)
        assert up == pytest.approx(ref.high, abs=1e-12)


def test_series_in_series_out():
    s = pd.Series([3, 14], index=["永宁", "新市"])
    lo, up = poisson_ci(s)
    assert list(lo.index) == ["永宁", "新市"]
    df = rate_ci(s, pd.Series([29000, 31000], index=s.index))
    assert list(df.index) == ["永宁", "新市"]
    assert set(df.columns) >= {"count", "population", "rate", "lower", "upper", "method"}
    assert (df["method"] == EXACT_POISSON).all()


def test_bad_method_and_level():
    with pytest.raises(ValueError):
        poisson_ci(3, method="normal")
    with pytest.raises(ValueError):
        poisson_ci(3, level=0)
    with pytest.raises(ValueError):
        poisson_ci(-1)
    # level in percent is accepted, as in PHE
    assert poisson_ci(5, level=95) == poisson_ci(5, level=0.95)


# ---------------------------------------------------------------- coverage

def test_exact_poisson_coverage():
    """95% exact intervals cover the true mean in >= 94% of seeded draws (conservative)."""
    rng = np.random.default_rng(20230301)
    mus = np.array([2.0, 5.0, 12.0, 25.0, 60.0])
    draws = rng.poisson(mus, size=(20000, mus.size))
    lo, up = poisson_ci(draws)
    cover = ((lo <= mus) & (mus <= up)).mean(axis=0)
    assert (cover >= 0.94).all(), cover
    assert (cover <= 0.995).all(), cover
    # rates per 10,000: the same interval scaled, so the same coverage
    pop = 29000.0
    true_rate = 25.0 / pop * 1e4
    df = rate_ci(draws[:, 3], pop, per=1e4)
    cov_rate = ((df["lower"] <= true_rate) & (true_rate <= df["upper"])).mean()
    assert cov_rate == pytest.approx(cover[3])


def test_wilson_coverage():
    rng = np.random.default_rng(7)
    n, p = 200, 0.3
    x = rng.binomial(n, p, size=20000)
    lo, up = wilson_ci(x, n)
    cover = ((lo <= p) & (p <= up)).mean()
    assert 0.935 <= cover <= 0.965, cover
