"""Outlier treatment (qyb.engine.treat) by hand: skew and kurtosis, winsorising, log_CT, properties (the COINr
ASEM tables are in tests/reference/test_treat.py)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qyb.engine.treat import (
    check_skew_kurt,
    kurt,
    log_ct,
    skew,
    treat_column,
    winsorise,
)

# --------------------------------------------------------------------------
# skew and kurtosis


def test_skew_kurt_by_hand():
    # x = 1,2,3,4,10: d = -3,-2,-1,0,6; sum d^2 = 50, d^3 = 180, d^4 = 1394, n = 5
    # g1 = sqrt(5) 180 / 50^1.5 = 0.72 sqrt(2.5); G1 = g1 sqrt(20)/3 = 1.2 sqrt(2)
    # r = 5 * 1394 / 2500 = 2.788; G2 = (6 (r - 3) + 6) * 4 / 6 = 3.152
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert skew(x) == pytest.approx(1.2 * np.sqrt(2), rel=1e-12)
    assert kurt(x) == pytest.approx(3.152, rel=1e-12)
    # NaN are dropped (na.rm = TRUE)
    assert skew(np.append(x, np.nan)) == pytest.approx(skew(x), rel=1e-14)
    assert kurt(np.append(x, np.nan)) == pytest.approx(kurt(x), rel=1e-14)


def test_skew_kurt_too_few_or_constant_is_nan():
    assert np.isnan(skew([1.0, 2.0]))
    assert np.isnan(kurt([1.0, 2.0, 3.0]))
    assert np.isnan(skew([2.0, 2.0, 2.0, 2.0]))
    assert check_skew_kurt([2.0, 2.0, 2.0, 2.0]).passed is None


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(4, 40),
              elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)))
def test_skew_kurt_equal_scipy_unbiased(x):
    """e1071 type 2 = Joanes & Gill G1/G2 = scipy's bias-corrected skew / excess kurtosis."""
    if np.ptp(x) < 1e-3 * max(1.0, np.abs(x).max()):
        return  # (near-)constant: both sides are 0/0
    np.testing.assert_allclose(skew(x), scipy.stats.skew(x, bias=False), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(kurt(x), scipy.stats.kurtosis(x, fisher=True, bias=False),
                               rtol=1e-7, atol=1e-9)


def test_skew_kurt_vectorised_over_columns():
    rng = np.random.default_rng(1)
    m = rng.lognormal(size=(30, 4))
    m[3, 1] = np.nan
    np.testing.assert_allclose(skew(m), [skew(m[:, j]) for j in range(4)], rtol=1e-13)
    np.testing.assert_allclose(kurt(m), [kurt(m[:, j]) for j in range(4)], rtol=1e-13)


def test_check_rule_fails_only_when_both_exceed():
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])  # skew 1.70, kurt 3.15
    assert check_skew_kurt(x).passed is True
    assert check_skew_kurt(x, skew_thresh=1.5, kurt_thresh=3.0).passed is False
    assert check_skew_kurt(x, skew_thresh=1.5, kurt_thresh=3.2).passed is True


# --------------------------------------------------------------------------
# winsorise and log_CT


def test_winsorise_ties_clipped_together_and_counted():
    x = np.r_[np.arange(1.0, 21.0), 100.0, 100.0]  # skew 2.82, kurt 7.13: fails
    w = winsorise(x, winmax=5)
    # both 100s go in one round to the next value, 20
    assert w.nwin == 2
    assert w.side == "high"
    np.testing.assert_array_equal(w.x[-2:], [20.0, 20.0])
    assert list(w.treated[-2:]) == ["winhi", "winhi"]
    assert (w.treated[:-2] == "").all()


def test_winsorise_nwin_is_cumulative_on_one_side():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(10, 1, 40), 30.0, 60.0, 100.0]
    w = winsorise(x, winmax=5)
    changed = int((w.x != x).sum())
    assert w.side == "high" and w.nwin == changed >= 2
    assert (w.treated != "").sum() == changed


def test_winsorise_low_side_and_winmax_zero():
    x = -np.array([1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 60], dtype=float)
    w = winsorise(x)
    assert w.side == "low" and w.nwin == 1 and w.x.min() == -7
    w0 = winsorise(x, winmax=0)
    assert w0.nwin == 0 and w0.side == "" and np.array_equal(w0.x, x)


def test_winsorise_force_win_follows_coinr_trace():
    # symmetric 1..20 passes; force_win clips anyway, side re-decided every round:
    # skew 0 -> high (20 -> 19); skew < 0 -> low (1 -> 2); skew > 0 -> high (19, 19 -> 18).
    # COINr's nwin = length(imax) + length(imin) of the latest rounds = 2 + 1 = 3.
    w = winsorise(np.arange(1.0, 21.0), winmax=3, force_win=True)
    assert w.nwin == 3 and w.side == "both"
    assert w.x.max() == 18.0 and w.x.min() == 2.0
    assert list(w.treated[[0, 18, 19]]) == ["winlo", "winhi", "winhi"]
    with pytest.raises(ValueError):
        winsorise(np.arange(5.0), winmax=None, force_win=True)


def test_log_ct_formula_and_nan():
    x = np.array([2.0, 4.0, np.nan, 12.0])
    np.testing.assert_allclose(log_ct(x)[[0, 1, 3]],
                               np.log(np.array([2.0, 4.0, 12.0]) - 2.0 + 0.1))
    assert np.isnan(log_ct(x)[2])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(5, 40),
              elements=st.floats(0, 1e4, allow_nan=False, allow_subnormal=False)),
       st.integers(0, 6))
def test_treat_column_properties(x, winmax):
    """Winsorising keeps order, range and NaN; log_CT keeps order; rank order never inverted."""
    x = x.copy()
    x[0] = np.nan
    res = treat_column(x, winmax=winmax)
    y = res.x
    assert np.isnan(y[0]) and not np.isnan(y[1:]).any()
    ok = ~np.isnan(x)
    order = np.argsort(x[ok], kind="stable")
    assert (np.diff(y[ok][order]) >= -1e-12).all()  # monotone non-decreasing map
    if res.details["treatment"] == "winsorise":
        assert y[ok].min() >= x[ok].min() and y[ok].max() <= x[ok].max()
        assert (res.points != "").sum() == res.details["winsorise.nwin"]
