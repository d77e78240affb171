"""qyb.movements.tables: the month's movement verdicts on the sample data -- overdispersion, one family, the
unit's long-run level -- and the chart frames; a seeded simulation of the published table's false positives."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.rates import test_poisson_2indep as sm_poisson_2indep

import qyb
from qyb.errors import InputError
from qyb.movements.tables import (
    BASELINES,
    COUNT_INDICATORS,
    DISPLAY_HEADERS,
    MOVEMENT_COLUMNS,
    control_frame,
    control_note,
    display_movements,
    funnel_frame,
    indicator_dispersion,
    its_fit,
    its_table,
    movements_all,
    movements_table,
    ratio_text,
    summary_text,
    verdict_counts,
)
from qyb.stats import nb_dispersion

MONTH = "2023-03"
REQUIRED = ["unit_id", "unit_name", "indicator", "baseline", "count_before", "exposure_before", "count_now",
            "exposure_now", "rate_before", "rate_now", "rate_ratio", "rr_lower", "rr_upper", "p_etest", "p_exact",
            "p_value", "q_value", "family", "verdict", "rtm_flag", "expected_ratio", "rr_lower_poisson"]


@pytest.fixture(scope="module")
def panel():
    return qyb.load(MONTH).panel


@pytest.fixture(scope="module")
def everything(panel):
    return movements_all(panel, MONTH)


@pytest.fixture(scope="module")
def table(everything):
    t = everything[(everything["indicator"] == "fraud_alerts") & (everything["baseline"] == "yoy")]
    return t.reset_index(drop=True)


def raw(panel, measure, month, unit="XL01"):
    return panel.value(month, unit, measure)


def midp(dist, x):
    return min(1.0, 2 * min(dist.cdf(x - 1) + dist.pmf(x) / 2, dist.sf(x) + dist.pmf(x) / 2))


def test_columns(panel, table):
    assert list(table.columns) == list(MOVEMENT_COLUMNS)
    assert set(REQUIRED) <= set(table.columns)
    assert len(table) == 29 and table["unit_id"].is_unique
    assert (table["method"] == "mid-p conditional, Poisson-gamma (beta-binomial)").all()
    assert (table["method_poisson"] == "exact conditional (Clopper-Pearson), Poisson").all()
    # movements_table is the same rows, with the family's q
    one = movements_table(panel, MONTH, "fraud_alerts", "yoy")
    assert one.equals(table)


def test_yongning_fraud_yoy_poisson_columns_against_scipy_and_statsmodels(panel, table):
    yn = table.set_index("unit_id").loc["XL01"]
    x0, x1 = raw(panel, "fraud_alerts", "2022-03"), raw(panel, "fraud_alerts", MONTH)
    pop = float(panel.units.loc["XL01", "population"])
    assert (yn["unit_name"], yn["count_before"], yn["count_now"]) == ("永宁社区", x0, x1) == ("永宁社区", 13, 0)
    assert yn["exposure_before"] == yn["exposure_now"] == pop == 29000
    assert yn["rate_before"] == pytest.approx(x0 / pop * 1e4) and yn["rate_now"] == pytest.approx(x1 / pop * 1e4)
    bt = stats.binomtest(int(x1), int(x0 + x1), 0.5)
    assert yn["p_exact"] == pytest.approx(bt.pvalue, rel=1e-12)
    ci = bt.proportion_ci(0.95, method="exact")
    assert yn["rr_lower_poisson"] == pytest.approx(ci.low / (1 - ci.low), abs=1e-12)
    assert yn["rr_upper_poisson"] == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)
    assert yn["p_etest"] == pytest.approx(sm_poisson_2indep(0, pop, 13, pop, method="etest").pvalue, abs=1e-9)


def test_yongning_fraud_judged_against_its_long_run_level(panel, table):
    """13 -> 0 against last March, but last March was the unit's worst month: against its 12-month mean of 5.3
    the expected ratio under no change is 0.41, and the fall is not 显著 once judged against that level and
    with the month's 435 comparisons (before: 显著下降, q = 0.0071 in a family of 29)."""
    yn = table.set_index("unit_id").loc["XL01"]
    alpha, window = indicator_dispersion(panel, MONTH, "fraud_alerts")
    pop = panel.units["population"].to_numpy(float)
    assert window[0] == "2022-01" and window[-1] == MONTH and yn["dispersion_months"] == "2022-01..2023-03"
    assert yn["dispersion"] == alpha == pytest.approx(nb_dispersion(panel.cube("fraud_alerts", window), pop).alpha)
    assert 0.01 < alpha < 0.05
    k = 1 / alpha
    # against the baseline: BetaBinomial(13, k, k), mid-p
    assert yn["p_baseline"] == pytest.approx(midp(stats.betabinom(13, k, k), 0), rel=1e-9)
    assert yn["p_baseline"] > yn["p_exact"]  # the Poisson p is too small for these counts
    # the long-run level: 2022-03..2023-02, 64 alerts in 12 months (5.33 a month)
    history = [raw(panel, "fraud_alerts", m) for m in qyb.data.months.month_range("2022-03", "2023-02")]
    assert yn["long_run_months"] == "2022-03..2023-02" and yn["count_long_run"] == sum(history) == 64
    assert yn["exposure_long_run"] == 12 * 29000
    assert yn["rate_long_run"] == pytest.approx(64 / 12 / 2.9)
    assert yn["expected_ratio"] == pytest.approx((64 / 12) / 13) and round(yn["expected_ratio"], 2) == 0.41
    assert yn["p_long_run"] == pytest.approx(stats.betabinom(64, k, 12 * k).pmf(0), rel=1e-9)
    assert yn["rr_long_run"] == 0 and yn["rr_long_upper"] < 1
    # one p for the verdict (both comparisons must reject), q over the whole month
    assert yn["p_value"] == max(yn["p_baseline"], yn["p_long_run"]) == yn["p_long_run"]
    assert yn["family_size"] == 435 and "435" in yn["family"]
    assert yn["q_value"] > 0.05 and yn["verdict"] == "下降但不显著" and not yn["significant"]
    # the flag stays (its baseline month was extreme for the unit)
    assert bool(yn["rtm_flag"]) and yn["rtm_extreme"] == "high"
    # a finite median-unbiased ratio where the crude one is 0
    assert yn["rate_ratio"] == 0 and 0 < yn["rate_ratio_mue"] < 0.1


def test_one_family_over_the_whole_table(everything):
    assert len(everything) == len(COUNT_INDICATORS) * len(BASELINES) * 29
    assert everything["family"].nunique() == 1 and (everything["family_size"] == 435).all()
    np.testing.assert_allclose(everything["q_value"], stats.false_discovery_control(everything["p_value"]),
                               rtol=1e-12)
    np.testing.assert_allclose(everything["p_value"], np.maximum(everything["p_baseline"], everything["p_long_run"]))
    # the rule: 显著 <=> q < 0.05 and both intervals exclude 1 on the same side
    fall = (everything["rr_upper"] < 1) & (everything["rr_long_upper"] < 1)
    rise = (everything["rr_lower"] > 1) & (everything["rr_long_lower"] > 1)
    want = (everything["q_value"] < 0.05) & (fall | rise)
    assert (everything["significant"] == want).all()
    assert everything["verdict"].isin(["显著下降", "下降但不显著", "基本持平", "上升但不显著", "显著上升"]).all()
    # no baseline or indicator can be shopped: asking for a part of the table gives the family's q
    part = movements_all(qyb.load(MONTH).panel, MONTH, ["crime_alerts"], ["mom"])
    whole = everything[(everything["indicator"] == "crime_alerts") & (everything["baseline"] == "mom")]
    np.testing.assert_allclose(part["q_value"], whole["q_value"])


def test_a_real_fall_is_found(panel):
    """Crime in 永宁 drops to 2 in March (from ~25 a month): significant against last month, last March, the
    previous three months and its 12-month level, in the family of 435."""
    fell = panel.with_value(MONTH, "XL01", "crime_alerts", 2.0)
    out = movements_all(fell, MONTH, ["crime_alerts"])
    yn = out[out["unit_id"] == "XL01"].set_index("baseline")
    assert (yn["verdict"] == "显著下降").all() and (yn["q_value"] < 0.05).all()
    assert (yn["rr_upper"] < 1).all() and (yn["rr_long_upper"] < 1).all()


def test_three_month_baseline(panel, everything):
    t = everything[(everything["indicator"] == "crime_alerts") & (everything["baseline"] == "3m")]
    t = t.set_index("unit_id").loc["XL01"]
    before = sum(raw(panel, "crime_alerts", m) for m in ("2022-12", "2023-01", "2023-02"))
    assert t["count_before"] == before and t["exposure_before"] == 3 * 29000 and t["exposure_now"] == 29000
    assert t["months_before"] == "2022-12,2023-01,2023-02"
    assert t["rate_before"] == pytest.approx(before / 3 / 29000 * 1e4)
    x1 = raw(panel, "crime_alerts", MONTH)
    assert t["p_exact"] == pytest.approx(stats.binomtest(int(x1), int(x1 + before), 0.25).pvalue, rel=1e-10)
    k = 1 / t["dispersion"]  # three months pooled before, one now: BetaBinomial(n, k, 3k)
    assert t["p_baseline"] == pytest.approx(midp(stats.betabinom(int(x1 + before), k, 3 * k), int(x1)), rel=1e-8)


def test_every_unit_poisson_p_against_scipy(table):
    for r in table.itertuples():  # a check, not library code: scipy one unit at a time
        n = int(r.count_before + r.count_now)
        p0 = r.exposure_now / (r.exposure_now + r.exposure_before)
        assert r.p_exact == pytest.approx(stats.binomtest(int(r.count_now), n, p0).pvalue if n else 1.0, rel=1e-10)


def test_verdict_counts_summary_and_display(everything, table):
    vc = verdict_counts(everything).set_index(["indicator", "baseline"])
    assert (vc.sum(axis=1) == 29).all()
    assert vc.loc[("fraud_alerts", "yoy"), "显著下降"] == 0
    text = summary_text(table)
    assert "永宁社区" in text and "13 → 0" in text and "近12月月均 5.3" in text and "0.41" in text
    assert "435" in text and "不能排除偶然" in text
    shown = display_movements(table)
    assert tuple(shown.columns) == tuple(h for h in DISPLAY_HEADERS if h != "基期") and len(shown) == 29
    assert tuple(display_movements(everything).columns) == DISPLAY_HEADERS  # several baselines: named
    assert all(not c.isascii() for c in shown.columns)  # Chinese headers
    assert "XL01" not in shown.to_string()  # no internal codes
    first = shown.iloc[0]
    assert first["村(社区)"] == "永宁社区" and first["率比"] == "13 → 0" and first["无变化时预期率比"] == "0.41"
    assert first["判断"] == "下降但不显著" and first["95% 区间"].startswith("0.00 – ")
    assert first["基期万人率"] == "4.48" and first["近12月月均"] == "5.3"
    assert ratio_text(0.5, 10, 5) == "0.50" and ratio_text(np.inf, 0, 3) == "0 → 3" and ratio_text(np.nan, 0, 0) == "—"


def test_chart_frames(panel):
    frame = funnel_frame(panel, MONTH)
    units, grid = frame.units, frame.limits
    assert len(units) == 29 and {"rate", "lower_95", "upper_99_8", "flag", "unit_name"} <= set(units.columns)
    assert frame.result.target == pytest.approx(units["count"].sum() / units["population"].sum() * 1e4)
    assert (grid["lower_95"] <= grid["target"]).all() and (grid["upper_95"] >= grid["target"]).all()
    # control charts only where at least 5 events a month are expected
    ctl = control_frame(panel, MONTH, "crime_alerts")
    assert ctl.groupby("unit_id").size().eq(13).all() and ctl["month"].max() == MONTH
    assert {"u", "centre", "lower", "upper", "special", "unit_name", "charted"} <= set(ctl.columns)
    assert ctl["charted"].all() and (ctl["expected"] >= 5).all()
    fraud = control_frame(panel, MONTH, "fraud_alerts")
    charted = set(fraud["unit_id"])
    assert 0 < len(charted) < 29
    note = control_note(panel, MONTH, "fraud_alerts")
    assert note.startswith(f"以下 {29 - len(charted)} 个村(社区)") and "太平村" in note
    assert control_note(panel, MONTH, "crime_alerts") == ""
    with pytest.raises(InputError, match="不足 5 起"):
        control_frame(panel, MONTH, "fires")
    its = its_fit(panel, MONTH)
    assert str(its.fitted["month"].iloc[-1]) == MONTH and its.fitted["count"].iloc[-1] == 107
    assert {"level_change", "slope_change"} <= set(its.table.index)
    assert its.season == "1 harmonic(s) of period 12" and "Newey-West" in its.method
    shown = its_table(its)
    assert list(shown.columns) == ["项目", "率比", "95% 区间", "p 值", "说明"]
    assert shown["项目"].iloc[-1] == "残差自相关检查" and "DW" in shown["率比"].iloc[-1]


def test_bad_arguments(panel):
    with pytest.raises(ValueError, match="count measure"):
        movements_table(panel, MONTH, "patrols_done")
    with pytest.raises(ValueError, match="baseline"):
        movements_table(panel, MONTH, "fraud_alerts", "weekly")
    with pytest.raises(ValueError, match="baseline"):
        movements_all(panel, MONTH, baselines=["weekly"])


@pytest.mark.slow
def test_published_table_false_positives_under_the_sample_noise_model():
    """No change anywhere (each unit's own level every month, the sample's Gamma month noise of CV 0.2, fresh unit
    risks): 60 simulated months of the whole published table (435 verdicts each). At most 2 months may carry any
    false 显著 (the target is at most 10 %; 2 of 60 or fewer has probability 0.05 if the true rate were 10 %).
    Before this design (Poisson tests, q within 29 units): 85 % of months, 3.3 false 显著 a month."""
    from tests.sample_truth import null_panels

    rng = np.random.default_rng(20230310)
    false = np.array([movements_all(p, MONTH)["significant"].sum() for p in null_panels(rng, 60)])
    assert (false > 0).sum() <= 2
    assert false.mean() <= 0.05


def test_family_is_the_panels_count_measures(panel):
    """A panel without fires (another catalogue): the family is the four count measures it holds."""
    from qyb.data.panel import Panel

    keep = [m for m in panel.measures if m != "fires"]
    cube = np.stack([panel.cube(m, panel.months) for m in keep], axis=-1)
    no_fires = Panel(panel.data_dir, panel.units, panel.months, cube, tuple(keep))
    out = movements_all(no_fires, MONTH)
    assert set(out["indicator"]) == set(COUNT_INDICATORS) - {"fires"}
    assert len(out) == 4 * 3 * 29 and (out["family_size"] == 348).all() and "4 项计数指标" in out["family"].iat[0]
    with pytest.raises(ValueError, match="count measure"):
        movements_table(no_fires, MONTH, "fires")
