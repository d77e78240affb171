"""Interrupted time series (statsmodels cross-checks, season, robust errors, residual checks, seeded simulation of
the sample) and regression-to-the-mean flags."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from qyb.stats import RTM_MIN_EXPECTED, RTM_NOTES, its_poisson, rtm_flags
from qyb.stats.its import _hac_cov

MONTHS = pd.period_range("2022-01", "2024-06", freq="M")


def _simulate(seed, level=0.8, slope=0.0, overdisp=None):
    rng = np.random.default_rng(seed)
    t = np.arange(len(MONTHS))
    step = (MONTHS >= pd.Period("2023-02", "M")).astype(float)
    pop = pd.Series(790000.0 * (1 + 0.001 * t), index=MONTHS)
    mu = pop.to_numpy() * 9e-4 * np.exp(0.003 * t + np.log(level) * step + slope * (t - 13) * step)
    if overdisp:
        mu = mu * rng.gamma(overdisp, 1 / overdisp, mu.size)
    return pd.Series(rng.poisson(mu), index=MONTHS), pop


def test_its_recovers_known_level_change():
    y, pop = _simulate(20230201, level=0.8)
    r = its_poisson(y, pop)
    lo, hi = r.confidence_interval("level_change")
    assert lo < 0.8 < hi
    assert r.level_change == pytest.approx(0.8, rel=0.05)
    assert r.slope_change == pytest.approx(1.0, abs=0.01)
    # across many seeded series the 95% interval covers the true level change ~95% of the time
    hits = []
    for s in range(60):
        ys, ps = _simulate(1000 + s, level=0.8, overdisp=50)
        lo, hi = its_poisson(ys, ps).confidence_interval("level_change")
        hits.append(lo < 0.8 < hi)
    assert np.mean(hits) >= 0.85


def test_its_matches_statsmodels_directly():
    y, pop = _simulate(7, level=0.85, slope=-0.01, overdisp=30)
    r = its_poisson(y, pop, quasi=True, harmonics=0, errors="model")
    t = np.arange(len(y), dtype=float)
    step = (t >= 13).astype(float)
    X = np.column_stack([np.ones_like(t), t, step, (t - 13) * step])
    ref = sm.GLM(y.to_numpy(), X, family=sm.families.Poisson(), offset=np.log(pop.to_numpy())).fit(
        scale="X2", use_t=True)
    assert r.level_change == pytest.approx(np.exp(ref.params[2]), rel=1e-10)
    assert r.slope_change == pytest.approx(np.exp(ref.params[3]), rel=1e-10)
    ci = ref.conf_int()
    for k, term in ((1, "pre_slope"), (2, "level_change"), (3, "slope_change")):
        assert r.confidence_interval(term) == pytest.approx((np.exp(ci[k, 0]), np.exp(ci[k, 1])), rel=1e-10)
        assert r.table.loc[term, "pvalue"] == pytest.approx(ref.pvalues[k], rel=1e-10)
    # by hand: t quantile with the residual df (n - 4), not the normal one
    df = len(y) - 4
    half = stats.t.ppf(0.975, df) * ref.bse[2]
    assert r.confidence_interval("level_change") == pytest.approx(
        (np.exp(ref.params[2] - half), np.exp(ref.params[2] + half)), rel=1e-10)
    z_ci = sm.GLM(y.to_numpy(), X, family=sm.families.Poisson(), offset=np.log(pop.to_numpy())).fit(
        scale="X2").conf_int()
    assert np.exp(z_ci[2, 1]) < r.confidence_interval("level_change")[1]  # t is wider than z
    # quasi-Poisson scale = Pearson chi2 / df
    mu = ref.fittedvalues
    assert r.scale == pytest.approx(np.sum((y.to_numpy() - mu) ** 2 / mu) / (len(y) - 4), rel=1e-10)
    # plain Poisson: same estimates, narrower or equal intervals when scale > 1
    rp = its_poisson(y, pop, quasi=False, harmonics=0)
    assert rp.level_change == pytest.approx(r.level_change, rel=1e-10) and rp.scale == 1.0
    w_q = np.diff(r.confidence_interval())[0]
    w_p = np.diff(rp.confidence_interval())[0]
    assert (w_q > w_p) == (r.scale > 1)


def test_its_fitted_and_counterfactual():
    y, pop = _simulate(3, level=0.7)
    r = its_poisson(y, pop, harmonics=1)
    f = r.fitted
    before = ~f["after"]
    np.testing.assert_allclose(f.loc[before, "fitted"], f.loc[before, "counterfactual"])
    assert (f.loc[f["after"], "fitted"] < f.loc[f["after"], "counterfactual"]).all()
    np.testing.assert_allclose(f["fitted_rate"], f["fitted"] / f["population"] * 1e4)
    assert {"pre_slope", "level_change", "slope_change"} == set(r.table.index)
    with pytest.raises(ValueError):
        its_poisson(y.iloc[:12], pop.iloc[:12])


def test_its_slope_change_needs_three_post_months():
    # review: with 2 months from the intervention on, step + time_since fit them exactly and the
    # "slope change" is just the last month's ratio; now the slope change is NaN with a note
    y, pop = _simulate(11, level=0.8, overdisp=40)
    cut = MONTHS.get_loc(pd.Period("2023-02", "M")) + 2
    y2, p2 = y.iloc[:cut], pop.iloc[:cut]
    r = its_poisson(y2, p2, harmonics=0, errors="model")
    assert np.isnan(r.slope_change) and r.note and "3" in r.note
    row = r.table.loc["slope_change"]
    assert np.isnan(row["estimate"]) and np.isnan(row["lower"]) and np.isnan(row["upper"]) and np.isnan(row["pvalue"])
    assert row["note"] == r.note and (r.table.loc[["pre_slope", "level_change"], "note"] == "").all()
    assert np.isnan(r.confidence_interval("slope_change")[0])
    # the level change comes from a level-change-only model (statsmodels, t with residual df)
    t = np.arange(cut, dtype=float)
    step = (t >= 13).astype(float)
    X = np.column_stack([np.ones_like(t), t, step])
    ref = sm.GLM(y2.to_numpy(), X, family=sm.families.Poisson(), offset=np.log(p2.to_numpy())).fit(
        scale="X2", use_t=True)
    assert r.level_change == pytest.approx(np.exp(ref.params[2]), rel=1e-10)
    ci = ref.conf_int()
    assert r.confidence_interval("level_change") == pytest.approx((np.exp(ci[2, 0]), np.exp(ci[2, 1])), rel=1e-10)
    assert r.scale == pytest.approx(ref.pearson_chi2 / (cut - 3), rel=1e-10)
    assert np.isfinite(r.fitted["counterfactual"]).all()
    # 3 post months: the slope change is estimated again, no note
    r3 = its_poisson(y.iloc[:cut + 1], pop.iloc[:cut + 1], harmonics=0)
    assert np.isfinite(r3.slope_change) and r3.note == "" and (r3.table["note"] == "").all()
    # 1 post month is still too few for anything
    with pytest.raises(ValueError):
        its_poisson(y.iloc[:cut - 1], pop.iloc[:cut - 1])


def test_its_robust_errors_by_hand():
    y, pop = _simulate(21, level=0.9, overdisp=30)
    r_model = its_poisson(y, pop, harmonics=1, errors="model")
    r_hac = its_poisson(y, pop, harmonics=1, errors="hac")
    r_cons = its_poisson(y, pop, harmonics=1)
    res = r_model.model
    X, mu, yy = res.model.exog, np.asarray(res.mu), y.to_numpy(float)
    T = len(y)
    lag = int(np.floor(4 * (T / 100) ** (2 / 9)))
    assert r_hac.hac_lag == lag == 3  # floor(4 (30/100)^(2/9))
    # without the leverage correction the Newey-West matrix is statsmodels' GLM HAC
    sm_hac = sm.GLM(yy, X, family=sm.families.Poisson(), offset=np.log(pop.to_numpy())).fit(
        cov_type="HAC", cov_kwds={"maxlags": lag, "use_correction": False})
    np.testing.assert_allclose(_hac_cov(X, yy, mu, lag, leverage=False), sm_hac.cov_params(), rtol=1e-6)
    # with it, scores are divided by 1 - h (HC3): by hand
    B = np.linalg.inv(X.T @ (mu[:, None] * X))
    h = np.array([mu[i] * X[i] @ B @ X[i] for i in range(T)])
    S = X * ((yy - mu) / (1 - h))[:, None]
    M = S.T @ S + sum((1 - k / (lag + 1)) * (S[k:].T @ S[:-k] + S[:-k].T @ S[k:]) for k in range(1, lag + 1))
    se_hac = np.sqrt(np.diag(B @ M @ B))
    assert r_hac.table.loc["level_change", "se"] == pytest.approx(se_hac[2], rel=1e-8)
    # conservative: the wider of the two, term by term; t intervals with the residual df
    b, bse = np.asarray(res.params)[2], np.asarray(res.bse)[2]
    se = max(se_hac[2], bse)
    assert r_cons.table.loc["level_change", "se"] == pytest.approx(se, rel=1e-8)
    half = stats.t.ppf(0.975, res.df_resid) * se
    assert r_cons.confidence_interval() == pytest.approx((np.exp(b - half), np.exp(b + half)))
    assert "Newey-West" in r_cons.method and "wider" in r_cons.method and "harmonic" in r_cons.method
    with pytest.raises(ValueError, match="errors"):
        its_poisson(y, pop, errors="bootstrap")


def test_its_season_rules():
    y, pop = _simulate(5)
    assert its_poisson(y, pop).season == "1 harmonic(s) of period 12"  # 30 months
    assert "sin1" in its_poisson(y, pop).model.model.exog_names
    long_y = pd.concat([y, y.set_axis(y.index + 30)])
    long_p = pd.concat([pop, pop.set_axis(pop.index + 30)])
    r = its_poisson(long_y, long_p)  # 60 months: month-of-year effects
    assert r.season == "month-of-year effects" and "moy12" in r.model.model.exog_names
    assert its_poisson(y, pop, harmonics="month").season == "month-of-year effects"
    assert its_poisson(y, pop, harmonics=2).model.model.exog_names[-1] == "cos2"
    short = its_poisson(y.iloc[6:18], pop.iloc[6:18])  # 12 months: no season, said so
    assert short.season == "none" and "13" in short.note
    with pytest.raises(ValueError, match="terms"):
        its_poisson(y.iloc[9:16], pop.iloc[9:16], harmonics=2)
    with pytest.raises(ValueError):
        its_poisson(y, pop, harmonics=-1)


def test_its_residual_autocorrelation_check():
    rng = np.random.default_rng(2)
    y, pop = _simulate(9, level=0.9)
    independent = its_poisson(y, pop)
    assert 1.5 < independent.durbin_watson < 3.0 and not independent.autocorrelated
    # a cycle of 8 months that neither the trend nor the yearly season can absorb: neighbouring months move
    # together (lag-1 correlation cos(2 pi / 8) = 0.71), Durbin-Watson far below 2, Ljung-Box rejects
    t = np.arange(len(y))
    y_ar = pd.Series(rng.poisson(pop.to_numpy() * 9e-4 * np.exp(0.12 * np.sin(2 * np.pi * t / 8))), index=y.index)
    ar = its_poisson(y_ar, pop)
    assert ar.durbin_watson < 1.2 and ar.acf1 > 0.4 and ar.autocorrelated and ar.ljung_box_pvalue < 0.001
    d = ar.diagnostics()
    assert list(d["check"])[0] == "Durbin-Watson" and d["value"].iloc[0] == pytest.approx(ar.durbin_watson)
    resid = np.asarray(ar.model.resid_pearson)
    assert ar.durbin_watson == pytest.approx(np.sum(np.diff(resid) ** 2) / np.sum(resid**2))


@pytest.mark.slow
def test_its_unbiased_on_replicates_of_the_sample():
    """150 replicates of the sample (2022-01..2023-12, the generator's unit risks, season, month noise and
    decline): the level-change estimate is within 0.02 of the truth for crime, fraud and traffic; without the
    season it is not (crime 0.949 against 0.923), and the conservative errors keep their size under no change."""
    from qyb.data.months import month_range
    from qyb.sample.build import DECLINE
    from tests.sample_truth import POPULATION, noisy_counts, sample_counts, season, unit_means

    rng = np.random.default_rng(20230201)
    months = month_range("2022-01", "2023-12")
    reps = 150
    for indicator in ("crime_alerts", "fraud_alerts", "traffic_accidents"):
        truth = np.exp(DECLINE[indicator][0])
        totals = sample_counts(rng, indicator, reps, months).sum(axis=2)
        est = [its_poisson(pd.Series(x, index=months), POPULATION.sum()).level_change for x in totals]
        assert abs(np.mean(est) - truth) <= 0.02, (indicator, np.mean(est), truth)
        if indicator == "crime_alerts":
            no_season = [its_poisson(pd.Series(x, index=months), POPULATION.sum(), harmonics=0).level_change
                         for x in totals]
            assert np.mean(no_season) - truth > 0.015 > abs(np.mean(est) - truth)
    # size: no change at all (season only), crime-sized totals
    mu = unit_means(rng, "crime_alerts", reps)[:, None, :] * season(months)[None, :, None]
    null = noisy_counts(rng, mu).sum(axis=2)
    p = [its_poisson(pd.Series(x, index=months), POPULATION.sum()).table.loc["level_change", "pvalue"] for x in null]
    assert 0.02 <= np.mean(np.array(p) < 0.05) <= 0.08


# ---------------------------------------------------------------- regression to the mean

def _rtm_data():
    months = pd.period_range("2022-03", "2023-03", freq="M")
    base = [20, 22, 19, 21, 20, 23, 18, 21, 20, 22, 19, 21]
    counts = pd.DataFrame(
        {
            "A": base + [20],          # ordinary February, ordinary March
            "B": base[:-1] + [45, 22],  # extreme February, fall in March -> RTM
            "C": base[:-1] + [8, 21],   # extremely low February, rise -> RTM
            "D": base[:-1] + [45, 60],  # extreme February but a further rise -> not RTM
        },
        index=months,
    )
    return counts


def test_rtm_flags_hand_made():
    counts = _rtm_data()
    out = rtm_flags(counts, 29000.0, "2023-03", lags=(1,))
    assert out["rtm_flag"].tolist() == [False, True, True, False]
    assert out.loc["B", "extreme"] == "high" and out.loc["C", "extreme"] == "low"
    assert out.loc["B", "rtm_note"] == RTM_NOTES["high"] and out.loc["A", "rtm_note"] == ""
    # B: history = 2022-03..2023-02, u_h = (sum(base[:-1]) + 45) / (12 * 29000)
    uh = (sum([20, 22, 19, 21, 20, 23, 18, 21, 20, 22, 19]) + 45) / (12 * 29000)
    assert out.loc["B", "history_rate"] == pytest.approx(uh)
    assert out.loc["B", "before_z"] == pytest.approx((45 - uh * 29000) / np.sqrt(uh * 29000))
    assert out.loc["B", "before_quantile"] == 1.0


def test_rtm_needs_both_noise_and_history_extremes():
    # E: February (25) is the highest month of its year but within 2 sigma of its mean: not extreme
    months = pd.period_range("2022-03", "2023-03", freq="M")
    base = [20, 22, 19, 21, 20, 23, 18, 21, 20, 22, 19]
    counts = pd.DataFrame({"E": base + [25, 19]}, index=months)
    out = rtm_flags(counts, 29000.0, "2023-03", lags=(1,))
    assert out.loc["E", "before_quantile"] == 1.0 and out.loc["E", "before_z"] < 2
    assert out.loc["E", "extreme"] is None and not out.loc["E", "rtm_flag"]


def test_rtm_no_z_for_rare_events():
    """One fire where 0.08 are expected is z = 3.3 on the normal approximation: below 5 expected events in the
    before period there is no z and no flag."""
    months = pd.period_range("2022-03", "2023-03", freq="M")
    counts = pd.DataFrame({"rare": [0] * 11 + [1, 0], "common": [20] * 11 + [45, 22]}, index=months)
    out = rtm_flags(counts, 29000.0, "2023-03", lags=(1,))
    assert out.loc["rare", "expected_before"] == pytest.approx(1 / 12)
    assert np.isnan(out.loc["rare", "before_z"]) and out.loc["rare", "extreme"] is None
    assert not out.loc["rare", "rtm_flag"] and out.loc["rare", "rtm_note"] == ""
    assert out.loc["common", "expected_before"] >= RTM_MIN_EXPECTED and out.loc["common", "rtm_flag"]
    # the threshold is a parameter: 0 restores the z (and shows why it means nothing here)
    raw = rtm_flags(counts, 29000.0, "2023-03", lags=(1,), min_expected=0)
    assert raw.loc["rare", "before_z"] == pytest.approx((1 - 1 / 12) / np.sqrt(1 / 12))
