"""Known-answer tests for qyb.stats.intervals (PHEindicatormethods oracles, textbook cases, coverage)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.stats import (
    BYAR,
    EXACT_POISSON,
    clopper_pearson_ci,
    poisson_ci,
    proportion_ci,
    rate_ci,
    wilson_ci,
)

# testthat edition 3 expect_equal: mean relative difference over a column <= 1.49e-8
R_TOL = 1.49e-8


def assert_r_equal(actual, expected, tol=R_TOL):
    """waldo::num_equal: mean|x - y| / mean|y| over the differing elements (NaN must match)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), (actual, expected)
    ok = ~np.isnan(expected)
    a, e = actual[ok], expected[ok]
    diff = a != e
    if diff.any():
        rel = np.mean(np.abs(a[diff] - e[diff])) / np.mean(np.abs(e[diff]))
        assert rel <= tol, rel
    # and every single value to a looser bound, so one bad value cannot hide in a mean
    np.testing.assert_allclose(a, e, rtol=1e-6)


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


# ---------------------------------------------------------------- PHE oracles

def test_byars_wilson_oracle(phe_oracles):
    df = pd.read_csv(phe_oracles / "byars_wilson_expected.csv")
    df = df[df["used_in_test"]]
    for (method, conf), g in df.groupby(["method", "confidence"]):
        if method == "Byars":
            lo, up = poisson_ci(g["x"].to_numpy(), level=conf, method="byar")
        else:
            lo, up = wilson_ci(g["x"].to_numpy(), g["n"].to_numpy(), level=conf)
        assert_r_equal(lo, g["expected_lower"])
        assert_r_equal(up, g["expected_upper"])
    # the untested row: Byar lower for 1 event at 99.8% is negative -> NA in PHE
    lo, up = poisson_ci(1, level=0.998, method="byar")
    assert np.isnan(lo) and up == pytest.approx(9.362180217908362, rel=1e-12)


def test_phe_rate_oracle(phe_oracles):
    df = pd.read_csv(phe_oracles / "phe_rate_expected.csv")
    n_checked = 0
    for (sheet, mult, conf), g in df.groupby(["sheet", "multiplier", "confidence"]):
        out = rate_ci(g["numerator"], g["denominator"], per=mult, level=conf, method="phe")
        assert_r_equal(out["rate"], g["expected_value"])
        assert_r_equal(out["lower"], g["expected_lower"])
        assert_r_equal(out["upper"], g["expected_upper"])
        want = g["expected_method"].map({"Exact": EXACT_POISSON, "Byars": BYAR})
        got = out["method"]
        assert (got.isna() == want.isna()).all()
        assert (got[want.notna()] == want[want.notna()]).all()
        n_checked += len(g)
    assert n_checked == len(df) == 52


def test_isr_count_limits_oracle(phe_oracles):
    """calculate_ISRate / ISRatio: the same count limits on O, divided by E, times ref."""
    df = pd.read_csv(phe_oracles / "isr_expected.csv")
    for conf, g in df.groupby("confidence"):
        lo, up = poisson_ci(g["observed"].to_numpy(), level=conf, method="phe")
        scale = np.where(
            g["function"] == "calculate_ISRate",
            g["ref_rate"] / g["expected"],
            g["multiplier_or_refvalue"] / g["expected"],
        )
        assert_r_equal(lo * scale, g["expected_lower"])
        assert_r_equal(up * scale, g["expected_upper"])


def test_phe_proportion_oracle(phe_oracles):
    df = pd.read_csv(phe_oracles / "phe_proportion_expected.csv")
    for (sheet, mult, conf), g in df.groupby(["sheet", "multiplier", "confidence"]):
        out = proportion_ci(g["numerator"], g["denominator"], per=mult, level=conf)
        assert_r_equal(out["proportion"], g["expected_value"])
        assert_r_equal(out["lower"], g["expected_lower"])
        assert_r_equal(out["upper"], g["expected_upper"])
        assert (out["method"] == "Wilson").all()


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
