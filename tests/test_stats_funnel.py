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
    out = funnel_limits(np.array([15.0, 20.0, 30.0]), target=1.0).set_index("expected")
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
    out = funnel_limits(np.array([E]), target=8.6).iloc[0]
    assert out["lower_95"] == pytest.approx(8.6 * stats.chi2.ppf(0.025, 2 * E) / (2 * E))
    assert out["upper_99_8"] == pytest.approx(8.6 * stats.chi2.ppf(0.999, 2 * E + 2) / (2 * E))
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
