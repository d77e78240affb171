"""qyb.stats against PHEindicatormethods and FunnelPlotR: the published known answers (../shared/oracles/phe).

The PHE re-implementations live in :mod:`qyb.stats.intervals` and :mod:`qyb.stats.funnel`; the hand-computed
and simulation checks of the same functions are in tests/stats/.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.reference.phe import (
    phe_funnel_limits,
    phe_funnel_points,
    phe_funnel_significance,
    phe_poisson_funnel,
    r_signif_ceiling,
    r_signif_floor,
)
from qyb.stats import (
    BYAR,
    EXACT_POISSON,
    funnel_limits,
    overdispersion,
    poisson_ci,
    proportion_ci,
    rate_ci,
    wilson_ci,
)

# the oracle CSVs are printed to ~10 significant digits; PHE's own tolerance is 1.49e-8
RTOL = 1e-8
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
    for (_sheet, mult, conf), g in df.groupby(["sheet", "multiplier", "confidence"]):
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
    for (_sheet, mult, conf), g in df.groupby(["sheet", "multiplier", "confidence"]):
        out = proportion_ci(g["numerator"], g["denominator"], per=mult, level=conf)
        assert_r_equal(out["proportion"], g["expected_value"])
        assert_r_equal(out["lower"], g["expected_lower"])
        assert_r_equal(out["upper"], g["expected_upper"])
        assert (out["method"] == "Wilson").all()


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
    for _case, g in exp.groupby("case"):
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
