"""Funnel limits and significance: hand checks, exact flags, simulation (the PHEindicatormethods and FunnelPlotR
known answers are in tests/reference/test_phe.py)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from qyb.stats import (
    DISPERSION_TESTS,
    dispersion_test,
    funnel_limits,
    funnel_rates,
    overdispersion,
)


def _num_cols(df):
    return [c for c in df.columns if df[c].dtype.kind == "f" or df[c].dtype.kind == "i"]


def test_overdispersion_hand_computed():
    O = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    E = np.array([20.0, 20.0, 30.0, 30.0, 50.0])
    od = overdispersion(O, E, method="CQC", trim=0.1)
    z = 2 * (np.sqrt(O) - np.sqrt(E))
    lo, hi = np.quantile(z, [0.1, 0.9])
    zw = np.clip(z, lo, hi)
    phi = np.mean(zw**2)
    w = 4 * E
    tau2 = max(0, (5 * phi - 4) / (w.sum() - (w**2).sum() / w.sum()))
    assert od.phi == pytest.approx(phi) and od.tau2 == pytest.approx(tau2)
    np.testing.assert_allclose(od.z, z)
    # no overdispersion: O = E exactly -> phi = 0, tau2 = 0
    od0 = overdispersion(E, E)
    assert od0.phi == 0 and od0.tau2 == 0


def test_funnel_limits_hand_computed_poisson_quantiles():
    # town rate 8.6 per 10,000; unit of 29,000 -> E = 24.94
    E = 8.6 * 29000 / 10000
    out = funnel_limits(np.array([E]), target=8.6, limits="chi2").iloc[0]
    assert out["lower_95"] == pytest.approx(8.6 * stats.chi2.ppf(0.025, 2 * E) / (2 * E))
    assert out["upper_99_8"] == pytest.approx(8.6 * stats.chi2.ppf(0.999, 2 * E + 2) / (2 * E))
    assert out["method"] == "exact Poisson (chi-square)"
    # the limits bracket the Poisson quantiles of the count
    assert out["lower_95"] * E / 8.6 <= stats.poisson.ppf(0.025, E) + 1
    assert out["upper_95"] * E / 8.6 >= stats.poisson.ppf(0.975, E) - 1
    # funnel narrows as E grows
    f = funnel_limits(np.array([5.0, 50.0, 500.0]))
    assert (np.diff(f["upper_95"]) < 0).all() and (np.diff(f["lower_95"]) > 0).all()
    # adjusted limits (CQC): (1 -/+ z sqrt(1/(4E) + tau2))^2, wider than the Poisson ones
    fa = funnel_limits(np.array([50.0, 500.0]), tau2=0.01)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(fa["upper_95"], (1 + z * np.sqrt(1 / (4 * np.array([50, 500])) + 0.01)) ** 2)
    assert (fa["upper_95"].to_numpy() > f["upper_95"].to_numpy()[1:]).all()
    assert (fa["lower_95"].to_numpy() < f["lower_95"].to_numpy()[1:]).all()
    fs = funnel_limits(np.array([50.0]), tau2=0.01, method="SHMI")
    assert fs["upper_99_8"].item() == pytest.approx(np.exp(stats.norm.ppf(0.999) * np.sqrt(1 / 50 + 0.01)))


def test_funnel_rates_flags():
    pop = np.full(29, 27000.0)
    cnt = np.full(29, 25.0)
    cnt[0], cnt[1], cnt[2] = 70.0, 3.0, 38.0
    res = funnel_rates(cnt, pop, per=10000, adjust=False)
    out = res.table
    assert res.target == pytest.approx(cnt.sum() / pop.sum() * 1e4)
    assert out.loc[0, "flag"] == "显著偏高 (99.8%)"
    assert out.loc[1, "flag"] == "显著偏低 (99.8%)"
    assert out.loc[5, "flag"] == "正常范围"
    assert set(out.columns) >= {"count", "population", "rate", "expected", "z", "lower_95", "upper_95",
                                "lower_99_8", "upper_99_8", "flag", "method"}
    # heavy overdispersion: auto adjustment widens the limits and removes some flags
    rng = np.random.default_rng(3)
    mu = 25 * rng.gamma(4.0, 1 / 4.0, 29)
    cnt2 = rng.poisson(mu).astype(float)
    plain = funnel_rates(cnt2, pop, adjust=False).table
    auto_res = funnel_rates(cnt2, pop, adjust="auto")
    auto = auto_res.table
    assert auto_res.phi > 1 and auto_res.adjusted
    assert (auto["upper_95"] > plain["upper_95"]).all()
    assert (auto["flag"] != "正常范围").sum() <= (plain["flag"] != "正常范围").sum()


# ---------------------------------------------------------------- qyb's default: Spiegelhalter limits, exact flags

def test_poisson_funnel_quantile_hand_computed():
    # Spiegelhalter (2005) appendix A.1.1: r_p smallest r with F(r) >= p,
    # alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)), limit r_p - alpha; rate limit (r_p - alpha)/E * target
    E, target = 2.5, 1.7
    F = lambda r: stats.poisson.cdf(r, E)  # noqa: E731
    for p in (0.001, 0.025, 0.975, 0.999):
        r = 0
        while F(r) < p:
            r += 1
        alpha = (F(r) - p) / (F(r) - F(r - 1))
        assert 0 <= alpha < 1
        from qyb.stats import poisson_funnel_quantile
        assert poisson_funnel_quantile(p, np.array([E]))[0] == pytest.approx(r - alpha, rel=1e-12)
    out = funnel_limits(np.array([E]), target=target).iloc[0]
    r = stats.poisson.ppf(0.975, E)
    alpha = (F(r) - 0.975) / (F(r) - F(r - 1))
    assert out["upper_95"] == pytest.approx((r - alpha) / E * target, rel=1e-12)
    r = stats.poisson.ppf(0.025, E)  # = 0 at E = 2.5: the interpolated limit is negative -> clipped at 0
    assert r == 0 and out["lower_95"] == 0.0
    big = funnel_limits(np.array([40.0]), target=target).iloc[0]
    r = stats.poisson.ppf(0.025, 40.0)
    F40 = lambda k: stats.poisson.cdf(k, 40.0)  # noqa: E731
    assert big["lower_95"] == pytest.approx((r - (F40(r) - 0.025) / (F40(r) - F40(r - 1))) / 40 * target)
    assert out["method"].startswith("Poisson(E) quantiles, interpolated (Spiegelhalter 2005)")
    # continuous in E (alpha -> 0 / 1 at the jumps of r_p), narrowing as E grows
    grid = np.linspace(1.0, 60.0, 5000)
    f = funnel_limits(grid, limits="spiegelhalter")
    assert np.nanmax(np.abs(np.diff(f["lower_95"] * grid))) < 0.05
    assert np.nanmax(np.abs(np.diff(f["upper_95"] * grid))) < 0.05
    coarse = funnel_limits(np.array([5.0, 50.0, 500.0]))
    assert (np.diff(coarse["upper_95"]) < 0).all() and (np.diff(coarse["lower_95"]) > 0).all()
    with pytest.raises(ValueError):
        funnel_limits(np.array([5.0]), limits="normal")


def test_funnel_flags_are_the_exact_poisson_test():
    # a grid of counts x expected counts: flags agree with scipy's Poisson cdf / sf
    E_grid = np.array([0.5, 1.0, 2.0, 3.0, 4.08, 5.0, 8.0, 12.0, 20.0, 35.0])
    x_grid = np.arange(0, 60)
    E, x = (a.ravel() for a in np.meshgrid(E_grid, x_grid))
    target, per = 1.5, 10000
    res = funnel_rates(x, E / target * per, per=per, target=target, adjust=False)
    out = res.table
    np.testing.assert_allclose(out["expected"], E, rtol=1e-12)
    p_lo, p_hi = stats.poisson.cdf(x, E), stats.poisson.sf(x - 1, E)
    np.testing.assert_allclose(out["p_low"], p_lo, rtol=1e-12)
    np.testing.assert_allclose(out["p_high"], p_hi, rtol=1e-12)
    want = np.select([p_lo < 0.001, p_hi < 0.001, p_lo < 0.025, p_hi < 0.025],
                     ["显著偏低 (99.8%)", "显著偏高 (99.8%)", "偏低 (95%)", "偏高 (95%)"], default="正常范围")
    assert (out["flag"].to_numpy() == want).all()
    # the low flag is the same as "below the drawn lower limit"
    for tag, a in (("95", 0.025), ("99_8", 0.001)):
        assert ((out["rate"] < out[f"lower_{tag}"]).to_numpy() == (p_lo < a)).all()
        # above the upper limit includes every exact-significant high count (plus x = r_p)
        assert ((out["rate"] > out[f"upper_{tag}"]).to_numpy() >= (p_hi < a)).all()
    assert "exact Poisson test" in res.flag_rule


@pytest.mark.parametrize("E", [2.0, 3.0, 5.0, 20.0])
def test_funnel_false_flag_rate_at_most_nominal(E):
    # in-control units (X ~ Poisson(E) exactly at the target): each side flags at most a
    rng = np.random.default_rng(int(E * 1000))
    n = 100_000
    x = rng.poisson(E, n).astype(float)
    target, per = 1.4, 10000
    out = funnel_rates(x, np.full(n, E / target * per), per=per, target=target, adjust=False).table
    flag = out["flag"].to_numpy()
    for a, lo_labels, hi_labels in ((0.025, ("偏低 (95%)", "显著偏低 (99.8%)"), ("偏高 (95%)", "显著偏高 (99.8%)")),
                                    (0.001, ("显著偏低 (99.8%)",), ("显著偏高 (99.8%)",))):
        low = np.isin(flag, lo_labels).mean()
        high = np.isin(flag, hi_labels).mean()
        # the exact false-flag probabilities are <= a, and the simulation agrees with them
        k_lo = stats.poisson.ppf(a, E)  # smallest k with F(k) >= a: counts below k are flagged
        exact_lo = stats.poisson.cdf(k_lo - 1, E)
        k_hi = stats.poisson.isf(a, E)  # counts x with P(X >= x) < a are x >= k_hi + 1
        exact_hi = stats.poisson.sf(k_hi, E)
        assert exact_lo <= a and exact_hi <= a
        se = np.sqrt(a * (1 - a) / n)
        assert low <= a + 2 * se and high <= a + 2 * se, (E, a, low, high)
        assert low == pytest.approx(exact_lo, abs=5 * se) and high == pytest.approx(exact_hi, abs=5 * se)
    # the chi-square limits of the old default flag far more than 2.5% on the low side at small E
    if E <= 3:
        chi = funnel_rates(x, np.full(n, E / target * per), per=per, target=target, adjust=False, limits="chi2").table
        low_chi = np.isin(chi["flag"].to_numpy(), ("偏低 (95%)", "显著偏低 (99.8%)")).mean()
        assert low_chi == pytest.approx(np.exp(-E), abs=0.005) and low_chi > 0.04


def test_sample_march_2023_fraud_funnel_flags():
    import qyb
    from qyb.movements.tables import funnel_frame

    frame = funnel_frame(qyb.load("2023-03").panel, "2023-03", "fraud_alerts")
    units, grid = frame.units, frame.limits
    u = units.set_index("unit_id")
    assert not frame.result.adjusted and frame.result.limits == "spiegelhalter"
    yn = u.loc["XL01"]
    assert yn["count"] == 0 and yn["expected"] == pytest.approx(4.08, abs=0.01)
    assert yn["p_low"] == pytest.approx(np.exp(-yn["expected"]), rel=1e-12)
    assert 0.001 < yn["p_low"] < 0.025 and yn["p_low"] == pytest.approx(0.017, abs=0.001)
    assert yn["flag"] == "偏低 (95%)"  # was 显著偏低 (99.8%) with the chi-square limits
    for uid in ("DS02", "DS08"):  # 裕民, 东城: 1 alert at E ~ 4.4-4.7
        assert u.loc[uid, "count"] == 1 and 4.3 < u.loc[uid, "expected"] < 4.7
        assert u.loc[uid, "flag"] == "正常范围"
    assert (grid["method"] == units["method"].iloc[0]).all()
    assert units["method"].iloc[0].startswith("Poisson(E) quantiles")


# ---------------------------------------------------------------- the dispersion test that decides the widening

def test_dispersion_test_is_the_conditional_null_of_n_phi():
    pop = np.array([6000, 7000, 13000, 15000, 22000, 27000, 29000, 31000, 34000, 38000], dtype=float)
    x = np.array([0, 1, 2, 1, 3, 2, 4, 1, 3, 5], dtype=float)
    E = x.sum() * pop / pop.sum()
    p = dispersion_test(x, E, draws=999, seed=1)
    assert p == dispersion_test(x, E, draws=999, seed=1)  # the same data and seed: the same p
    # by hand: n phi of the winsorised CQC z-scores against 999 multinomial tables with the same total
    rng = np.random.default_rng(1)
    sims = rng.multinomial(int(x.sum()), E / E.sum(), size=999).astype(float)

    def nphi(o):
        z = 2 * (np.sqrt(o) - np.sqrt(E))
        lo, hi = np.quantile(z, [0.1, 0.9])
        return np.sum(np.clip(z, lo, hi) ** 2)

    t_obs = nphi(x)
    assert t_obs == pytest.approx(overdispersion(x, E).phi * overdispersion(x, E).n, rel=1e-12)
    assert p == pytest.approx((1 + sum(nphi(s) >= t_obs * (1 - 1e-12) for s in sims)) / 1000, abs=1e-12)
    # no events at all: nothing to test; far more spread than Poisson: the smallest p the draws allow
    assert dispersion_test(np.zeros(10), E) == 1.0
    wild = np.array([0, 0, 0, 0, 40, 0, 0, 90, 0, 0], dtype=float)
    assert dispersion_test(wild, wild.sum() * pop / pop.sum(), draws=199) == pytest.approx(1 / 200)


def test_funnel_rates_test_choice_and_the_sample_fires():
    """March 2023: under the chi-square reference the fires funnel was widened (p = 0.026) although fires are
    a handful of events; the conditional test finds nothing (p ~ 0.44) and keeps the exact Poisson limits."""
    import qyb
    from qyb.movements.tables import counts_frame

    panel = qyb.load("2023-03").panel
    fires = counts_frame(panel, "fires", ["2023-03"]).iloc[0]
    pop = panel.units["population"].astype(float)
    chi2 = funnel_rates(fires, pop, test="chi2")
    assert chi2.adjusted and chi2.dispersion_pvalue == pytest.approx(0.0256, abs=1e-4)
    assert chi2.dispersion_test == DISPERSION_TESTS["chi2"]
    exact = funnel_rates(fires, pop)
    assert not exact.adjusted and exact.dispersion_pvalue > 0.3
    assert exact.dispersion_test == DISPERSION_TESTS["conditional"]
    assert exact.table["method"].iloc[0].startswith("Poisson(E) quantiles")
    crime = funnel_rates(counts_frame(panel, "crime_alerts", ["2023-03"]).iloc[0], pop)
    assert crime.adjusted and crime.dispersion_pvalue < 0.01  # real between-unit variation is still found
    with pytest.raises(ValueError, match="test"):
        funnel_rates(fires, pop, test="exact")


@pytest.mark.slow
def test_dispersion_test_size_under_poisson_for_every_indicator():
    """Pure Poisson counts at each indicator's March 2023 town rate and the sample's populations: the test
    rejects 3-7 % of the time for every indicator (FunnelPlotR's chi-square reference: 0.2 % for crime,
    24 % for work accidents, 56 % for fires)."""
    import qyb
    from qyb.data.catalogue import COUNT_INDICATORS
    from qyb.movements.tables import counts_frame

    panel = qyb.load("2023-03").panel
    pop = panel.units["population"].to_numpy(float)
    rng = np.random.default_rng(20230331)
    reps = 1000
    for indicator in COUNT_INDICATORS:
        counts = counts_frame(panel, indicator, ["2023-03"]).iloc[0].to_numpy(float)
        E = counts.sum() / pop.sum() * pop
        x = rng.poisson(E, size=(reps, E.size)).astype(float)
        p = np.array([dispersion_test(row, row.sum() * pop / pop.sum(), draws=199, seed=k) for k, row in enumerate(x)])
        assert 0.03 <= np.mean(p < 0.05) <= 0.07, (indicator, np.mean(p < 0.05))
