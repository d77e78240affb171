"""Two-period comparison: scipy / statsmodels cross-checks, exact enumeration, hand-computed cases, BH,
verdicts, baselines."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.rates import test_poisson_2indep as sm_poisson_2indep

from qyb.stats import (
    RATIO_METHOD_BB,
    RATIO_METHOD_POISSON_MIDP,
    RR_METHOD,
    baseline_counts,
    bh_qvalues,
    binom_test_pvalue,
    compare_baseline,
    compare_counts,
    etest_pvalue,
    verdict,
)


def test_binom_test_matches_scipy_exactly():
    rng = np.random.default_rng(11)
    n = rng.integers(1, 120, 400)
    k = rng.integers(0, n + 1)
    p = rng.uniform(0.02, 0.98, 400)
    # include symmetric / tie cases
    k = np.r_[k, 5, 0, 10, 3, 7]
    n = np.r_[n, 10, 10, 10, 6, 14]
    p = np.r_[p, 0.5, 0.5, 0.5, 0.5, 0.5]
    got = binom_test_pvalue(k, n, p)
    ref = np.array([stats.binomtest(int(a), int(b), c).pvalue for a, b, c in zip(k, n, p)])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert binom_test_pvalue(0, 0, 0.5) == 1.0


def _etest_enumerated(k1: int, n1: int, k2: int, n2: int) -> float:
    """The E-test by exact enumeration: ties decided in rational arithmetic, T(0, 0) = 0 (a check, not library
    code). Cells (x1, x2) with |T| >= |T(k1, k2)| are summed with Poisson(n l) probabilities, l pooled."""
    lam = (k1 + k2) / (n1 + n2)

    def t2(x1, x2):  # T^2 and the sign-free comparison in Fractions
        d = Fraction(x1, n1) - Fraction(x2, n2)
        v = Fraction(x1, n1 * n1) + Fraction(x2, n2 * n2)
        return (d * d, v)

    d_obs, v_obs = t2(k1, k2)
    top1 = int(n1 * lam + 15 * np.sqrt(n1 * lam) + 40)  # the omitted upper tail is below 1e-17
    top2 = int(n2 * lam + 15 * np.sqrt(n2 * lam) + 40)
    p1 = stats.poisson.pmf(np.arange(top1 + 1), n1 * lam)
    p2 = stats.poisson.pmf(np.arange(top2 + 1), n2 * lam)
    total = 0.0
    for x1 in range(top1 + 1):
        for x2 in range(top2 + 1):
            d, v = t2(x1, x2)
            if v == 0:
                extreme = d_obs == 0  # T(0, 0) = 0
            elif v_obs == 0:
                extreme = True
            else:
                extreme = d * v_obs >= d_obs * v  # |T| >= |T_obs| exactly
            if extreme:
                total += p1[x1] * p2[x2]
    return total


def test_etest_ties_known_answer():
    """1 vs 2 events: p = 0.681 whatever the exposure (statsmodels, exact enumeration); scipy (<= 1.16)
    gives 0.513 at exposure 31,000 because it computes the observed statistic differently from the grid."""
    for exposure in (1, 31000):
        p = etest_pvalue(1, exposure, 2, exposure)
        assert p == pytest.approx(0.6807377419823369, abs=1e-12)
        assert p == pytest.approx(sm_poisson_2indep(1, exposure, 2, exposure, method="etest").pvalue, abs=1e-12)
        assert p == pytest.approx(_etest_enumerated(1, exposure, 2, exposure), abs=1e-9)
    assert etest_pvalue(0, 1.0, 0, 2.0) == 1.0
    assert etest_pvalue(3, 2.0, 3, 2.0) == pytest.approx(1.0, abs=1e-12)  # equal rates: every cell counts


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # statsmodels' ratio of two zero rates
def test_etest_matches_statsmodels_and_enumeration():
    rng = np.random.default_rng(12)
    k1 = rng.integers(0, 45, 60)
    k2 = rng.integers(0, 45, 60)
    n1 = rng.integers(15000, 35000, 60)
    n2 = np.where(rng.uniform(size=60) < 0.5, n1, rng.integers(15000, 35000, 60))  # half equal exposures (ties)
    got = etest_pvalue(k1, n1, k2, n2)
    ref = np.array([sm_poisson_2indep(int(a), int(b), int(c), int(d), method="etest-wald").pvalue
                    if a + c else 1.0 for a, b, c, d in zip(k1, n1, k2, n2)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)  # statsmodels truncates its grid at 1e-13
    for a, b, c, d in [(1, 31000, 2, 31000), (4, 29000, 12, 29000), (0, 29000, 13, 29000), (5, 3, 7, 1),
                       (2, 87000, 4, 29000), (9, 20000, 3, 20000)]:
        # qyb's grid leaves out at most 1e-10 of each Poisson's lower tail
        assert etest_pvalue(a, b, c, d) == pytest.approx(_etest_enumerated(a, b, c, d), abs=1e-9)


def test_etest_small_block_budget_gives_same_answer():
    k1, k2 = np.array([3, 30, 100]), np.array([9, 20, 140])
    n1 = n2 = np.array([1.0, 1.0, 1.0])
    np.testing.assert_allclose(etest_pvalue(k1, n1, k2, n2, max_cells=10), etest_pvalue(k1, n1, k2, n2), rtol=1e-13)


def test_bh_matches_scipy():
    rng = np.random.default_rng(5)
    p = np.r_[rng.uniform(size=40), rng.uniform(0, 0.01, 10), 0.03, 0.03]
    np.testing.assert_allclose(bh_qvalues(p), stats.false_discovery_control(p, method="bh"), rtol=1e-14)
    # hand-computed: p = .01 .04 .03 .20, m = 4 -> sorted .01 .03 .04 .20 -> .04 .06 .0533 .20 -> .04 .0533 .0533 .20
    np.testing.assert_allclose(bh_qvalues([0.01, 0.04, 0.03, 0.20]), [0.04, 0.16 / 3, 0.16 / 3, 0.20])
    q = bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.04)
    # within groups
    q = bh_qvalues(np.array([0.01, 0.04, 0.01, 0.04]), groups=["a", "a", "b", "b"])
    np.testing.assert_allclose(q, [0.02, 0.04, 0.02, 0.04])


def test_compare_hand_computed_case():
    """永宁-like: 12 fraud alerts in February, 4 in March, population 29,000 both months."""
    out = compare_counts(12, 29000, 4, 29000)
    row = out.iloc[0]
    assert row["rate_ratio"] == pytest.approx(1 / 3)
    # the Poisson columns: conditional, 4 of 16 events now, p0 = 1/2
    assert row["p_exact"] == pytest.approx(stats.binomtest(4, 16, 0.5).pvalue)
    assert row["p_exact"] == pytest.approx(2 * sum(stats.binom.pmf(range(5), 16, 0.5)))  # 0.0768...
    assert row["p_etest"] == pytest.approx(sm_poisson_2indep(4, 29000, 12, 29000, method="etest").pvalue, abs=1e-9)
    ci = stats.binomtest(4, 16, 0.5).proportion_ci(method="exact")
    assert row["rr_lower_poisson"] == pytest.approx(ci.low / (1 - ci.low))
    assert row["rr_upper_poisson"] == pytest.approx(ci.high / (1 - ci.high))
    # Clopper-Pearson 4/16 = 0.0727 -- 0.5238 (tables), so r = p/(1-p) = 0.0784 -- 1.0998
    assert row["rr_lower_poisson"] == pytest.approx(0.0727 / (1 - 0.0727), abs=2e-4)
    assert row["rr_upper_poisson"] == pytest.approx(0.5238 / (1 - 0.5238), abs=2e-4)
    assert row["method_poisson"] == RR_METHOD
    # the verdict's model with no dispersion: the binomial mid-p, by hand
    midp = 2 * (stats.binom.cdf(3, 16, 0.5) + stats.binom.pmf(4, 16, 0.5) / 2)
    assert row["p_value"] == pytest.approx(midp, rel=1e-12) and row["method"] == RATIO_METHOD_POISSON_MIDP
    assert row["p_value"] < 0.05 and row["dispersion"] == 0 and row["verdict"] == "显著下降"  # under Poisson
    assert row["rate_before"] == pytest.approx(12 / 2.9) and row["rate_now"] == pytest.approx(4 / 2.9)
    # with the sample's dispersion (alpha 1/25 a month): beta-binomial(16, 25, 25), mid-p, by scipy
    od = compare_counts(12, 29000, 4, 29000, dispersion=0.04).iloc[0]
    bb = stats.betabinom(16, 25, 25)
    assert od["p_value"] == pytest.approx(2 * (bb.cdf(3) + bb.pmf(4) / 2), rel=1e-10)
    assert od["method"] == RATIO_METHOD_BB and od["p_value"] > 0.05 and od["verdict"] == "下降但不显著"
    assert od["rr_upper"] > row["rr_upper"] and od["rr_lower"] < row["rr_lower"]  # wider


def test_rr_interval_solves_tail_equations():
    x0, e0, x1, e1 = 30, 28000.0, 14, 29500.0
    n = x0 + x1
    # Poisson columns: exact (Clopper-Pearson) tails at 5 % each
    out = compare_counts(x0, e0, x1, e1, level=0.9).iloc[0]
    for r, tail in ((out["rr_lower_poisson"], "upper"), (out["rr_upper_poisson"], "lower")):
        p = r * e1 / (r * e1 + e0)
        prob = stats.binom.sf(x1 - 1, n, p) if tail == "upper" else stats.binom.cdf(x1, n, p)
        assert prob == pytest.approx(0.05, rel=1e-8)
    # the verdict's interval: mid-p beta-binomial tails (precision K = 2/alpha) at 5 % each
    alpha = 0.05
    out = compare_counts(x0, e0, x1, e1, level=0.9, dispersion=alpha).iloc[0]
    for r, tail in ((out["rr_lower"], "upper"), (out["rr_upper"], "lower")):
        p = r * e1 / (r * e1 + e0)
        d = stats.betabinom(n, p * 2 / alpha, (1 - p) * 2 / alpha)
        prob = (d.sf(x1) if tail == "upper" else d.cdf(x1 - 1)) + d.pmf(x1) / 2
        assert prob == pytest.approx(0.05, rel=1e-7)


def test_compare_unequal_exposures_and_edges():
    out = compare_counts([0, 0, 5, 20], [30000, 30000, 30000, 10000], [0, 3, 0, 20], [30000, 30000, 30000, 20000])
    # no events at all: undefined ratio, p = 1, 基本持平
    assert np.isnan(out.loc[0, "rate_ratio"]) and out.loc[0, "p_exact"] == 1 and out.loc[0, "p_etest"] == 1
    assert out.loc[0, "verdict"] == "基本持平"
    # rise from zero: infinite ratio and upper limit, finite lower limit
    assert np.isinf(out.loc[1, "rate_ratio"]) and np.isinf(out.loc[1, "rr_upper"]) and out.loc[1, "rr_lower"] > 0
    # fall to zero: ratio 0, lower 0
    assert out.loc[2, "rate_ratio"] == 0 and out.loc[2, "rr_lower"] == 0
    # equal counts, doubled population: rate halves
    assert out.loc[3, "rate_ratio"] == pytest.approx(0.5)
    assert out.loc[3, "p_exact"] == pytest.approx(stats.binomtest(20, 40, 2 / 3).pvalue)
    with pytest.raises(ValueError):
        compare_counts(-1, 1.0, 2, 1.0)
    with pytest.raises(ValueError):
        compare_counts(1, 0.0, 2, 1.0)


def test_compare_q_values_and_verdicts_vectorised():
    before = pd.Series([40, 40, 40, 40, 40, 40], index=list("abcdef"))
    now = pd.Series([10, 30, 41, 55, 90, 38], index=list("abcdef"))
    pop = pd.Series(30000.0, index=before.index)
    out = compare_counts(before, pop, now, pop)
    assert list(out.index) == list("abcdef")
    np.testing.assert_allclose(out["q_value"], stats.false_discovery_control(out["p_value"]))
    assert out["verdict"].tolist() == ["显著下降", "下降但不显著", "基本持平", "上升但不显著", "显著上升", "基本持平"]
    q_x = compare_counts(before, pop, now, pop, q_from="exact")["q_value"]
    np.testing.assert_allclose(q_x, stats.false_discovery_control(out["p_exact"]))
    q_e = compare_counts(before, pop, now, pop, q_from="etest")["q_value"]
    np.testing.assert_allclose(q_e, stats.false_discovery_control(out["p_etest"]))
    for col in ["count_before", "exposure_before", "count_now", "exposure_now", "rate_ratio", "rate_ratio_mue",
                "rr_lower", "rr_upper", "dispersion", "rr_lower_poisson", "rr_upper_poisson", "method_poisson",
                "p_value", "p_etest", "p_exact", "q_value", "verdict"]:
        assert col in out.columns
    with pytest.raises(ValueError, match="q_from"):
        compare_counts(before, pop, now, pop, q_from="wald")


def test_verdict_rule():
    rr = np.array([0.5, 0.5, 0.95, 1.05, 1.5, 1.5, np.nan, 1.02])
    q = np.array([0.01, 0.2, 0.5, 0.5, 0.2, 0.001, 1.0, 0.01])
    assert list(verdict(rr, q)) == ["显著下降", "下降但不显著", "基本持平", "基本持平",
                                    "上升但不显著", "显著上升", "基本持平", "显著上升"]
    assert list(verdict(np.array([0.85]), np.array([0.5]), band=(0.8, 1.25))) == ["基本持平"]
    # missing data: no verdict
    assert verdict(np.array([np.nan]), np.array([np.nan]))[0] is None
    out = compare_counts([10, np.nan], [1e4, 1e4], [5, 5], [1e4, 1e4])
    assert pd.isna(out.loc[1, "verdict"]) and np.isnan(out.loc[1, "p_exact"]) and np.isnan(out.loc[1, "q_value"])
    assert np.isnan(out.loc[1, "p_value"]) and np.isnan(out.loc[1, "rr_lower"])
    assert out.loc[0, "q_value"] == out.loc[0, "p_value"]  # one valid unit: q = p


def _monthly():
    months = pd.period_range("2022-01", "2023-03", freq="M")
    counts = pd.DataFrame({"永宁": np.arange(1, 16), "新市": np.arange(101, 116)}, index=months)
    return counts


def test_baselines():
    counts = _monthly()
    pop = pd.Series({"永宁": 29000.0, "新市": 20000.0})
    mom = baseline_counts(counts, pop, "2023-03", (1,), "mom")
    assert mom.loc["永宁", "count_before"] == 14 and mom.loc["永宁", "count_now"] == 15
    assert mom.loc["永宁", "months_before"] == "2023-02"
    yoy = baseline_counts(counts, pop, "2023-03", (12,), "yoy")
    assert yoy.loc["新市", "count_before"] == 103 and yoy.loc["新市", "exposure_before"] == 20000
    m3 = baseline_counts(counts, pop, "2023-03", (1, 2, 3), "3m")
    assert m3.loc["永宁", "count_before"] == 12 + 13 + 14
    assert m3.loc["永宁", "exposure_before"] == 3 * 29000
    assert m3.loc["永宁", "months_before"] == "2022-12,2023-01,2023-02"
    # rate ratio against the 3-month mean = now / mean of the three months (constant population)
    res = compare_baseline(counts, pop, "2023-03", (1, 2, 3), "3m")
    assert res.loc["永宁", "rate_ratio"] == pytest.approx(15 / 13)
    # string month index and DataFrame exposures
    c2 = counts.copy()
    c2.index = c2.index.astype(str)
    e2 = pd.DataFrame(25000.0, index=c2.index, columns=c2.columns)
    m3b = baseline_counts(c2, e2, "2023-03", (1, 2, 3), "3m")
    assert m3b.loc["新市", "exposure_before"] == 75000
    with pytest.raises(ValueError, match="2021-03"):
        baseline_counts(counts, pop, "2022-03", (12,), "yoy")


def test_verdict_needs_the_interval_to_exclude_one():
    # review: the minlike binomial p and the Clopper-Pearson interval are not dual; with q from the exact
    # Poisson p, a 显著 verdict whose exact interval contains 1 must become 下降/上升但不显著
    a = compare_counts(12, 87000, 0, 29000, q_from="exact").iloc[0]
    assert a["p_exact"] == pytest.approx(stats.binomtest(0, 12, 29000 / 116000).pvalue, rel=1e-12)
    assert a["p_exact"] < 0.05 and a["q_value"] < 0.05  # p unchanged: scipy's minlike p
    assert a["rr_lower_poisson"] == 0 and a["rr_upper_poisson"] == pytest.approx(1.0797, abs=1e-3)
    assert a["verdict"] == "下降但不显著" and not a["significant"]
    b = compare_counts(2, 87000, 4, 29000, q_from="exact").iloc[0]
    assert b["rate_ratio"] == pytest.approx(6.0)
    assert b["p_exact"] == pytest.approx(stats.binomtest(4, 6, 0.25).pvalue, rel=1e-12) and b["p_exact"] < 0.05
    assert b["rr_lower_poisson"] < 1 < b["rr_upper_poisson"]
    assert b["verdict"] == "上升但不显著" and not b["significant"]
    # when the interval excludes 1 the verdict is still 显著 (equal exposures, 13 -> 0 / 0 -> 13)
    c = compare_counts([13, 0], [1e4, 1e4], [0, 13], [1e4, 1e4])
    assert c["verdict"].tolist() == ["显著下降", "显著上升"] and c["significant"].all()
    assert c.loc[0, "rr_upper"] < 1 < c.loc[1, "rr_lower"]
    # the rule on its own: q significant but interval containing 1 -> not 显著
    assert list(verdict(np.array([0.5, 0.5, 2.0, 2.0]), np.array([0.01] * 4),
                        rr_lower=np.array([0.2, 0.3, 0.9, 1.2]),
                        rr_upper=np.array([1.2, 0.9, 4.0, 4.0]))) == [
        "下降但不显著", "显著下降", "上升但不显著", "显著上升"]
    # the verdict's model (mid-p test and its inverted interval) is dual: p < 1 - level <=> the interval
    # excludes 1, so on every row of a batch 显著 <=> q < alpha
    rng = np.random.default_rng(5)
    x0, x1 = rng.poisson(6, 300), rng.poisson(6, 300)
    e0 = rng.choice([29000.0, 87000.0], 300)
    for disp in (0.0, 0.04):
        out = compare_counts(x0, e0, x1, 29000.0, dispersion=disp)
        excl = (out["rr_upper"] < 1) | (out["rr_lower"] > 1)
        assert ((out["p_value"] < 0.05) == excl).all()
        sig = out["verdict"].isin(["显著下降", "显著上升"])
        assert (sig == (out["q_value"] < 0.05)).all() and (out["significant"] == sig).all()
