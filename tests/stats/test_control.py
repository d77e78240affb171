"""u-chart, Laney u' and special-cause rules: hand-computed cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.stats import CONTROL_MIN_EXPECTED, LANEY_U, NOT_CHARTED, U_CHART, special_cause_rules, u_chart

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


def test_rare_events_are_not_charted():
    c = pd.Series([0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1], index=pd.period_range("2022-03", periods=13, freq="M"),
                  dtype=float)
    out = u_chart(c, 29000.0, per=10000)
    assert not out["charted"].any() and (out["chart"] == NOT_CHARTED).all()
    assert out["upper"].isna().all() and out["z"].isna().all() and not out["special"].any()
    assert out["expected"].iloc[0] == pytest.approx(5 / 13)
    assert out["u"].iloc[4] == pytest.approx(2 / 2.9)  # the rates are still there
    # the threshold: mean count per month of at least CONTROL_MIN_EXPECTED (5) is charted
    frame = pd.DataFrame({"a": np.full(13, 5.0), "b": np.full(13, 4.0)}, index=c.index)
    both = u_chart(frame, 1.0).groupby("unit")["charted"].first()
    assert CONTROL_MIN_EXPECTED == 5 and both["a"] and not both["b"]
    assert u_chart(frame, 1.0, min_expected=0)["charted"].all()


@pytest.mark.parametrize("indicator", ["crime_alerts", "fraud_alerts", "traffic_accidents", "work_accidents", "fires"])
def test_in_control_series_of_the_sample_rarely_signal(indicator):
    """13 in-control months with the sample's noise (Poisson-gamma, unit risks): the charts that are drawn signal
    in at most 8 % of series (fires: 17 % before, now never charted at the sample's counts)."""
    from tests.sample_truth import POPULATION, null_counts

    rng = np.random.default_rng(20230300 + sum(map(ord, indicator)))
    counts = null_counts(rng, indicator, 60, 13)  # reps x months x units
    frames = [u_chart(pd.DataFrame(c), pd.Series(POPULATION), per=1e4) for c in counts]
    per_series = pd.concat([f.groupby("unit")[["charted", "special"]].any() for f in frames])
    charted = per_series[per_series["charted"]]
    assert not per_series.loc[~per_series["charted"], "special"].any()
    if indicator in ("work_accidents", "fires"):
        assert charted.empty
    else:
        assert len(charted) > 100 and charted["special"].mean() <= 0.08
