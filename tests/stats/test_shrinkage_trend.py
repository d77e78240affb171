"""Empirical-Bayes shrinkage (hand-computed, properties) and trend (scipy cross-checks)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.stats import eb_rates, kendall_exact_pvalue, trend

# ---------------------------------------------------------------- shrinkage

def test_eb_hand_computed():
    x = np.array([2.0, 10.0, 30.0])
    n = np.array([1000.0, 2000.0, 3000.0])
    res = eb_rates(x, n, per=1)
    out = res.table
    m = 42 / 6000  # 0.007
    r = x / n  # .002 .005 .010
    s2 = (1000 * (0.002 - m) ** 2 + 2000 * (0.005 - m) ** 2 + 3000 * (0.01 - m) ** 2) / 6000
    A = s2 - m / 2000
    # by hand: s2 = (1000 * .005^2 + 2000 * .002^2 + 3000 * .003^2) / 6000 = 1e-5; A = 1e-5 - .007/2000
    assert A == pytest.approx(6.5e-6)
    w = A / (A + m / n)
    np.testing.assert_allclose(out["weight"], w)
    np.testing.assert_allclose(out["estimate"], m + w * (r - m))
    alpha, beta = m**2 / A, m / A
    np.testing.assert_allclose(out["lower"], stats.gamma.ppf(0.025, alpha + x, scale=1 / (beta + n)))
    np.testing.assert_allclose(out["upper"], stats.gamma.ppf(0.975, alpha + x, scale=1 / (beta + n)))
    assert res.prior_mean == pytest.approx(m)


def test_eb_properties():
    rng = np.random.default_rng(4)
    n = np.r_[np.full(5, 2000.0), np.full(24, 30000.0)]
    theta = rng.gamma(20, 8.5e-4 / 20, n.size)
    x = rng.poisson(theta * n).astype(float)
    res = eb_rates(x, n, per=10000)
    out = res.table
    m = res.prior_mean
    # every estimate lies between the crude rate and the pooled rate
    lo = np.minimum(out["rate"], m) - 1e-12
    hi = np.maximum(out["rate"], m) + 1e-12
    assert ((out["estimate"] >= lo) & (out["estimate"] <= hi)).all()
    # small units are shrunk more (smaller weight on their own rate)
    assert out["weight"].iloc[:5].max() < out["weight"].iloc[5:].min()
    # intervals contain the estimate
    assert ((out["lower"] <= out["estimate"]) & (out["estimate"] <= out["upper"])).all()


def test_eb_between_variance_dominates_and_absent():
    # huge real differences: weights near 1, estimates near the crude rates
    n = np.full(10, 30000.0)
    x = np.array([10, 50, 100, 200, 400, 800, 30, 60, 120, 240], dtype=float)
    out = eb_rates(x, n).table
    assert (out["weight"] > 0.98).all()
    np.testing.assert_allclose(out["estimate"], out["rate"], rtol=0.08)
    # identical rates: no between-unit variance, full shrinkage to the pooled rate
    out0 = eb_rates(np.array([10.0, 20.0, 30.0]), np.array([1e4, 2e4, 3e4])).table
    assert (out0["weight"] == 0).all()
    np.testing.assert_allclose(out0["estimate"], 10.0)
    assert (out0["lower"] < 10).all() and (out0["upper"] > 10).all()


# ---------------------------------------------------------------- trend

def test_trend_matches_scipy_one_and_many():
    rng = np.random.default_rng(8)
    for T in (6, 13, 36, 40):
        Y = rng.poisson(15, (12, T)).astype(float)
        Y[:4] = rng.normal(0, 1, (4, T)) + 0.05 * np.arange(T)  # no ties -> exact p for T <= 33
        res = trend(Y)
        for k in range(Y.shape[0]):
            ts = stats.theilslopes(Y[k])
            kt = stats.kendalltau(np.arange(T), Y[k])
            assert res["slope"].iloc[k] == pytest.approx(ts.slope, rel=1e-12, abs=1e-14)
            assert res["slope_lower"].iloc[k] == pytest.approx(ts.low_slope, rel=1e-12, abs=1e-14)
            assert res["slope_upper"].iloc[k] == pytest.approx(ts.high_slope, rel=1e-12, abs=1e-14)
            assert res["intercept"].iloc[k] == pytest.approx(ts.intercept, rel=1e-12, abs=1e-12)
            assert res["tau"].iloc[k] == pytest.approx(kt.statistic, rel=1e-12, abs=1e-14)
            assert res["pvalue"].iloc[k] == pytest.approx(kt.pvalue, rel=1e-9, abs=1e-14)
    one = trend(np.array([3.0, 5, 4, 8, 9, 12]))
    assert isinstance(one, pd.Series) and one["slope"] == pytest.approx(stats.theilslopes([3, 5, 4, 8, 9, 12]).slope)


def test_trend_hand_computed_and_custom_x():
    # perfectly increasing: slope 2, tau 1, exact p = 2/n!
    y = 2.0 * np.arange(5) + 1
    r = trend(y)
    assert r["slope"] == 2 and r["tau"] == pytest.approx(1) and r["pvalue"] == pytest.approx(2 / 120)
    x = np.array([0.0, 1, 2, 4, 8, 9])
    yy = np.array([1.0, 2, 2, 5, 6, 9])
    ts = stats.theilslopes(yy, x)
    r = trend(yy, x)
    assert r["slope"] == pytest.approx(ts.slope) and r["slope_lower"] == pytest.approx(ts.low_slope)
    assert r["pvalue"] == pytest.approx(stats.kendalltau(x, yy).pvalue)
    # DataFrame in: index kept; NaN series -> NaN
    df = pd.DataFrame([[1.0, 2, 3, 4], [4.0, np.nan, 2, 1]], index=["永宁", "新市"])
    r = trend(df)
    assert list(r.index) == ["永宁", "新市"] and np.isnan(r.loc["新市", "slope"])


def test_kendall_exact_distribution_matches_scipy():
    for n in (4, 9, 20):
        tot = n * (n - 1) // 2
        for c in (0, 1, tot // 3, tot // 2):
            # find a permutation with c discordant pairs against time by scipy's own p
            ref = stats.kendalltau(np.arange(n), _perm_with_inversions(n, c), method="exact").pvalue
            assert kendall_exact_pvalue(n, tot - c) == pytest.approx(ref, rel=1e-10)


def _perm_with_inversions(n, c):
    """A permutation of 0..n-1 with exactly c inversions (Lehmer code)."""
    code = []
    for i in range(n):
        k = min(c, n - 1 - i)
        code.append(k)
        c -= k
    items = list(range(n))
    return np.array([items.pop(k) for k in code])


def test_trend_constant_series_with_tied_x_does_not_crash():
    # review: a constant series with tied x made the tie-corrected variance negative and the
    # whole batch failed with IndexError; now the variance is clipped to 0 and p is NaN
    x = np.array([0.0, 1, 1, 2, 3])
    Y = np.array([[1.0, 2, 3, 4, 5], [3.0, 3, 3, 3, 3], [2.0, 1, 4, 3, 6]])
    res = trend(Y, x)
    assert np.isnan(res["pvalue"].iloc[1]) and np.isnan(res["tau"].iloc[1])
    assert res["slope"].iloc[1] == 0 and res["slope_lower"].iloc[1] == 0 and res["slope_upper"].iloc[1] == 0
    # the other series in the batch are unaffected and still match scipy
    for k in (0, 2):
        ts = stats.theilslopes(Y[k], x)
        assert res["slope"].iloc[k] == pytest.approx(ts.slope)
        assert res["slope_lower"].iloc[k] == pytest.approx(ts.low_slope)
        assert res["slope_upper"].iloc[k] == pytest.approx(ts.high_slope)
        assert res["pvalue"].iloc[k] == pytest.approx(stats.kendalltau(x, Y[k]).pvalue)
    one = trend(np.full(6, 2.0), np.array([0.0, 0, 1, 2, 3, 3]))
    assert np.isnan(one["pvalue"]) and one["slope"] == 0
