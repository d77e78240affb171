"""u-chart, Laney u' and special-cause rules: hand-computed cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.stats import LANEY_U, U_CHART, special_cause_rules, u_chart

MONTHS = pd.period_range("2022-01", periods=12, freq="M")


def test_u_chart_hand_computed():
    c = pd.Series([4, 6, 5, 3, 7, 5, 4, 6, 5, 15, 5, 5], index=MONTHS, dtype=float)
    n = pd.Series([100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 200, 200], index=MONTHS, dtype=float)
    out = u_chart(c, n, chart="u")
    ubar = 70 / 1400  # 0.05
    assert out["centre"].iloc[0] == pytest.approx(ubar)
    # month 1: sigma = sqrt(0.05/100) = 0.02236; limits 0.05 -/+ 0.06708
    assert out["sigma"].iloc[0] == pytest.approx(np.sqrt(0.05 / 100))
    assert out["upper"].iloc[0] == pytest.approx(0.05 + 3 * np.sqrt(0.0005))
    assert out["lower"].iloc[0] == 0.0  # 0.05 - 0.067 < 0 -> clipped
    assert out["upper"].iloc[11] == pytest.approx(0.05 + 3 * np.sqrt(0.05 / 200))
    # 15/100 = 0.15 > 0.1171: beyond the limits
    assert out["rule_beyond"].tolist() == [False] * 9 + [True, False, False]
    assert out["chart"].iloc[0] == U_CHART
    assert out.index[9] == pd.Period("2022-10", "M")


def test_laney_sigma_z_hand_computed():
    c = np.array([10.0, 30, 12, 28, 11, 29, 10, 31])
    n = np.full(8, 1000.0)
    out = u_chart(pd.Series(c), pd.Series(n), chart="laney")
    ubar = c.sum() / n.sum()  # 0.020125
    s = np.sqrt(ubar / 1000)
    z = (c / 1000 - ubar) / s
    sigma_z = np.mean(np.abs(np.diff(z))) / 1.128
    assert out["sigma_z"].iloc[0] == pytest.approx(sigma_z)
    assert sigma_z > 1
    assert out["upper"].iloc[0] == pytest.approx(ubar + 3 * s * sigma_z)
    assert out["chart"].iloc[0] == LANEY_U
    # "auto" picks Laney here (overdispersed: Pearson X2 large and sigma_z > 1)
    auto = u_chart(pd.Series(c), pd.Series(n), chart="auto")
    assert auto["chart"].iloc[0] == LANEY_U and auto["dispersion_pvalue"].iloc[0] < 0.05
    # and the plain u-chart for Poisson-like data
    rng = np.random.default_rng(1)
    cp = rng.poisson(25, 24).astype(float)
    plain = u_chart(pd.Series(cp), 29000.0, chart="auto")
    assert plain["chart"].iloc[0] == U_CHART


def test_rules_hand_made():
    centre = np.zeros((1, 1))
    sigma = np.ones((1, 1))
    # run of 8 above the centre at positions 2..9
    u = np.array([[-1, -1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -1, 0.1]])
    r = special_cause_rules(u, centre, sigma)
    assert r["rule_run8"][0].tolist() == [False, False] + [True] * 8 + [False, False]
    # 6 points rising (positions 1..6), then a fall
    u = np.array([[0.0, -1.5, -1.0, -0.5, 0.0, 0.4, 0.8, 0.1, 0.2]])
    r = special_cause_rules(u, centre, sigma)
    assert r["rule_trend6"][0].tolist() == [False, True, True, True, True, True, True, False, False]
    # only 5 rising points: no flag
    u = np.array([[0.0, -1.5, -1.0, -0.5, 0.0, 0.4, 0.1]])
    assert not special_cause_rules(u, centre, sigma)["rule_trend6"].any()
    # 2 of 3 beyond 2 sigma on the same side
    u = np.array([[0.0, 2.5, 1.0, 2.2, 0.0, -2.5, 2.5, 0.0]])
    r = special_cause_rules(u, centre, sigma)
    assert r["rule_2of3"][0].tolist() == [False, True, False, True, False, False, False, False]
    # beyond 3 sigma
    assert special_cause_rules(np.array([[3.1, -3.2, 2.9]]), centre, sigma)["rule_beyond"][0].tolist() == [True, True, False]


def test_many_units_long_output():
    rng = np.random.default_rng(2)
    counts = pd.DataFrame(rng.poisson(25, (13, 3)), index=pd.period_range("2022-03", periods=13, freq="M"),
                          columns=["永宁", "新市", "东区"]).astype(float)
    pop = pd.Series({"永宁": 29000.0, "新市": 25000.0, "东区": 31000.0})
    out = u_chart(counts, pop, per=10000)
    assert len(out) == 39 and set(out["unit"]) == {"永宁", "新市", "东区"}
    yn = out[out["unit"] == "永宁"]
    assert yn["centre"].iloc[0] == pytest.approx(counts["永宁"].sum() / (13 * 29000) * 1e4)
    single = u_chart(counts["永宁"], 29000.0, per=10000)
    np.testing.assert_allclose(single["upper"].to_numpy(), yn["upper"].to_numpy())
