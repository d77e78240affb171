"""Funnel limits and significance: PHEindicatormethods and FunnelPlotR known answers, hand checks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.stats import (
    funnel_limits,
    funnel_rates,
    overdispersion,
    phe_funnel_limits,
    phe_funnel_points,
    phe_funnel_significance,
    phe_poisson_funnel,
    r_signif_ceiling,
    r_signif_floor,
)

# the oracle CSVs are printed to ~10 significant digits; PHE's own tolerance is 1.49e-8
RTOL = 1e-8


def _num_cols(df):
    return [c for c in df.columns if df[c].dtype.kind == "f" or df[c].dtype.kind == "i"]


def test_r_signif_helpers():
    # nchar(as.character(95000)) = 5 -> n = 4 -> floor(0.95 * 100000 / 1e4) * 1e4
    assert r_signif_floor(100000) == 90000
    # 1.05 * 95238 -> ceiling 100000 -> "1e+05" has 5 chars (R quirk) -> n = 3
    assert r_signif_ceiling(95238) == 100000
    # 1.05 * 95238.1 -> ceiling 100001 -> 6 chars -> n = 4 -> ceiling(10.0000005) * 1e4
    assert r_signif_ceiling(95238.1) == 110000
    assert r_signif_ceiling(30000) == 32000  # 31500 -> n = 3 -> ceiling(31.5) * 1000
    assert r_signif_floor(0) == 0 and r_signif_ceiling(0) == 0


def test_phe_poisson_funnel_bisection_close_to_chi2():
    obs = np.array([1.0, 5.0, 14.0, 100.0, 1000.0])
    for p in (0.025, 0.001):
        lo = phe_poisson_funnel(obs, p, "low")
        hi = phe_poisson_funnel(obs, p, "high")
        np.testing.assert_allclose(lo, stats.chi2.ppf(p, 2 * obs) / 2, rtol=1e-4)
        np.testing.assert_allclose(hi, stats.chi2.ppf(1 - p, 2 * obs + 2) / 2, rtol=1e-4)


def test_phe_rate_funnel_limits(phe_oracles):
    inp = pd.read_csv(phe_oracles / "funnel_rate_limits_inputs.csv")
    exp = pd.read_csv(phe_oracles / "funnel_rate_limits_expected.csv")
    for case, g in inp.groupby("case"):
        e = exp[exp["case"] == case].reset_index(drop=True)
        den = g["pop"] if g["pop_used_as_denominator"].iloc[0] else None
        out = phe_funnel_limits(g["ev"], den, g["rate"], statistic="rate", multiplier=1e5,
                                rate_type=e["rate_type"].iloc[0], years_of_data=e["years_of_data"].iloc[0])
        assert (out["Events"].to_numpy() == e["Events"].to_numpy()).all(), case
        for c in [c for c in out.columns if c in e.columns and c not in ("method", "Events")]:
            np.testing.assert_allclose(out[c], e[c], rtol=RTOL, err_msg=f"{case} {c}")
        assert (e["method"] == "Poisson").all() and (out["method"] == "Poisson").all()
        # exact chi-square quantiles instead of the bisection: within 1e-4 (README)
        ex = phe_funnel_limits(g["ev"], den, g["rate"], statistic="rate", multiplier=1e5,
                               rate_type=e["rate_type"].iloc[0], years_of_data=e["years_of_data"].iloc[0],
                               bisection=False)
        for c in ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit"]:
            np.testing.assert_allclose(ex[c], e[c], rtol=1e-4)


def test_phe_ratio_funnel_limits(phe_oracles):
    inp = pd.read_csv(phe_oracles / "funnel_ratio_significance_expected.csv")
    exp = pd.read_csv(phe_oracles / "funnel_ratio_limits_expected.csv")
    cnt = phe_funnel_limits(inp["obs"], inp["expected"], statistic="ratio", multiplier=100, ratio_type="count")
    isr = phe_funnel_limits(inp["obs"], inp["expected"], statistic="ratio", multiplier=100, ratio_type="isr")
    assert (cnt["Observed_events"].to_numpy() == exp["Observed_events"].to_numpy()).all()
    for c in exp.columns:
        if c.endswith(("_exp_events", "_count")):
            np.testing.assert_allclose(cnt[c], exp[c], rtol=RTOL, atol=1e-9, err_msg=c)
        elif c.endswith("_isr"):
            np.testing.assert_allclose(isr[c], exp[c], rtol=RTOL, atol=1e-9, err_msg=c)


def test_phe_proportion_funnel_limits(phe_oracles):
    inp = pd.read_csv(phe_oracles / "funnel_prop_significance_expected.csv")
    exp = pd.read_csv(phe_oracles / "funnel_prop_limits_expected.csv")
    for case, sub in (("default", inp), ("axis_variation", inp[inp["denominator"] < 31000])):
        e = exp[exp["case"] == case].reset_index(drop=True)
        out = phe_funnel_limits(sub["numerator"], sub["denominator"], statistic="proportion", multiplier=100)
        assert (out["Population"].to_numpy() == e["Population"].to_numpy()).all(), case
        for c in ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit", "baseline"]:
            np.testing.assert_allclose(out[c], e[c], rtol=1e-6, atol=1e-6, err_msg=f"{case} {c}")


def test_phe_proportion_significance(phe_oracles):
    inp = pd.read_csv(phe_oracles / "funnel_prop_significance_expected.csv")
    got = phe_funnel_significance(inp["numerator"], inp["denominator"], statistic="proportion")
    assert (got == inp["expected_significance"].to_numpy()).all()


def test_phe_ratio_significance(phe_oracles):
    inp = pd.read_csv(phe_oracles / "funnel_ratio_significance_expected.csv")
    got = phe_funnel_significance(inp["obs"], inp["expected"], statistic="ratio")
    assert (got == inp["expected_significance"].to_numpy()).all()


def test_phe_rate_significance(phe_oracles):
    inp = pd.read_csv(phe_oracles / "funnel_rate_significance_expected.csv")
    for variant, g in inp.groupby("variant"):
        got = phe_funnel_significance(g["count"], g["pop"], g["rate"], statistic="rate",
                                      rate_type=g["rate_type"].iloc[0], multiplier=g["multiplier"].iloc[0])
        want = g["expected_significance"].to_numpy()
        assert (got == want).all(), (variant, got[got != want], want[got != want])


def test_phe_funnel_points(phe_oracles):
    exp = pd.read_csv(phe_oracles / "funnel_points_expected.csv")
    for case, g in exp.groupby("case"):
        den = g["pop"] if g["pop"].notna().any() else None
        out = phe_funnel_points(g["ev"], g["rate"], rate_type=g["rate_type"].iloc[0], denominator=den,
                                years_of_data=g["years_of_data"].iloc[0], multiplier=g["multiplier"].iloc[0])
        np.testing.assert_allclose(out["rate_chart"], g["expected_rate_chart"], rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose(out["denominator_derived"], g["expected_denominator_derived"],
                                   rtol=1e-9, equal_nan=True)


def test_funnelplotr_poisson_limits(phe_oracles):
    exp = pd.read_csv(phe_oracles / "funnelplotr_expected.csv")
    lim = exp[exp["test"] == "test-poisson_limits.R"]
    # FunnelPlotR's limits are the chi-square ones (qyb's default is Spiegelhalter's quantiles)
    out = funnel_limits(np.array([15.0, 20.0, 30.0]), target=1.0, limits="chi2").set_index("expected")
    col = {"ll95": "lower_95", "ul95": "upper_95", "ll998": "lower_99_8", "ul998": "upper_99_8"}
    for _, r in lim.iterrows():
        got = out.loc[r["number_seq"], col[r["quantity"]]]
        assert round(got, int(r["rounded_to_digits"])) == pytest.approx(r["expected"], abs=1e-12), r["quantity"]


def test_funnelplotr_aggregate_and_phi(phe_oracles):
    exp = pd.read_csv(phe_oracles / "funnelplotr_expected.csv")
    # aggregate_func: group sums, rr = O / E
    d = pd.DataFrame({"num": [100, 150, 180, 89, 120, 225], "den": [102, 135, 165, 95, 100, 220],
                      "g": list("aaabbc")}).groupby("g").sum()
    rr = (d["num"] / d["den"]).round(6).to_numpy()
    np.testing.assert_allclose(rr, exp.loc[exp["quantity"] == "rr", "expected"].to_numpy(), atol=1e-12)
    # phi with FunnelPlotR defaults: SHMI z-scores, truncation at 10%, E rounded to 2 decimals
    phi_exp = exp.loc[exp["quantity"] == "phi", "expected"].item()
    od = overdispersion([100, 150, 180, 80, 120, 225], [108, 112, 165, 95, 100, 220], method="SHMI",
                        trim=0.1, shmi_rounding=True)
    assert round(od.phi, 6) == pytest.approx(phi_exp, abs=1e-12)
    assert od.n == 6


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
    out = funnel_rates(cnt, pop, per=10000, adjust=False)
    assert out.attrs["target"] == pytest.approx(cnt.sum() / pop.sum() * 1e4)
    assert out.loc[0, "flag"] == "显著偏高 (99.8%)"
    assert out.loc[1, "flag"] == "显著偏低 (99.8%)"
    assert out.loc[5, "flag"] == "正常范围"
    assert set(out.columns) >= {"count", "population", "rate", "expected", "z", "lower_95", "upper_95",
                                "lower_99_8", "upper_99_8", "flag", "method"}
    # heavy overdispersion: auto adjustment widens the limits and removes some flags
    rng = np.random.default_rng(3)
    mu = 25 * rng.gamma(4.0, 1 / 4.0, 29)
    cnt2 = rng.poisson(mu).astype(float)
    plain = funnel_rates(cnt2, pop, adjust=False)
    auto = funnel_rates(cnt2, pop, adjust="auto")
    assert auto.attrs["phi"] > 1 and auto.attrs["adjusted"]
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
    out = funnel_rates(x, E / target * per, per=per, target=target, adjust=False)
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
    assert "exact Poisson test" in out.attrs["flag_rule"]


@pytest.mark.parametrize("E", [2.0, 3.0, 5.0, 20.0])
def test_funnel_false_flag_rate_at_most_nominal(E):
    # in-control units (X ~ Poisson(E) exactly at the target): each side flags at most a
    rng = np.random.default_rng(int(E * 1000))
    n = 100_000
    x = rng.poisson(E, n).astype(float)
    target, per = 1.4, 10000
    out = funnel_rates(x, np.full(n, E / target * per), per=per, target=target, adjust=False)
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
        chi = funnel_rates(x, np.full(n, E / target * per), per=per, target=target, adjust=False, limits="chi2")
        low_chi = np.isin(chi["flag"].to_numpy(), ("偏低 (95%)", "显著偏低 (99.8%)")).mean()
        assert low_chi == pytest.approx(np.exp(-E), abs=0.005) and low_chi > 0.04


def test_sample_march_2023_fraud_funnel_flags():
    from qyb.movements.tables import funnel_frame, load_movement_panel

    units, grid = funnel_frame(load_movement_panel("2023-03"), "2023-03", "fraud_alerts")
    u = units.set_index("unit_id")
    assert not units.attrs["adjusted"] and units.attrs["limits"] == "spiegelhalter"
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
