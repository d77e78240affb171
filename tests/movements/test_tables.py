"""qyb.movements.tables: per-unit movement tables on the sample data (issue 4, part 2)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import qyb
from qyb.movements.tables import (
    BASELINES,
    COUNT_INDICATORS,
    MOVEMENT_COLUMNS,
    control_frame,
    funnel_frame,
    its_fit,
    movements_all,
    movements_table,
    summary_text,
    verdict_counts,
)

MONTH = "2023-03"
REQUIRED = ["unit_id", "unit_name", "indicator", "baseline", "count_before", "exposure_before", "count_now",
            "exposure_now", "rate_before", "rate_now", "rate_ratio", "rr_lower", "rr_upper", "p_etest", "p_exact",
            "q_value", "verdict", "rtm_flag"]


@pytest.fixture(scope="module")
def panel():
    return qyb.load(MONTH).panel


@pytest.fixture(scope="module")
def table(panel):
    return movements_table(panel, MONTH, "fraud_alerts", "yoy")


@pytest.fixture(scope="module")
def everything(panel):
    return movements_all(panel, MONTH)


def raw(panel, measure, month, unit="XL01"):
    return panel.value(month, unit, measure)


def test_columns(table):
    assert list(table.columns) == list(MOVEMENT_COLUMNS)
    assert set(REQUIRED) <= set(table.columns)
    assert len(table) == 29 and table["unit_id"].is_unique
    assert (table["method"] == "exact conditional (Clopper-Pearson)").all()


def test_yongning_fraud_yoy_against_scipy(panel, table):
    yn = table.set_index("unit_id").loc["XL01"]
    x0, x1 = raw(panel, "fraud_alerts", "2022-03"), raw(panel, "fraud_alerts", MONTH)
    pop = float(panel.units.loc["XL01", "population"])
    assert (yn["unit_name"], yn["count_before"], yn["count_now"]) == ("永宁社区", x0, x1)
    assert yn["exposure_before"] == yn["exposure_now"] == pop == 29000
    assert yn["rate_before"] == pytest.approx(x0 / pop * 1e4) and yn["rate_now"] == pytest.approx(x1 / pop * 1e4)
    n = int(x0 + x1)
    bt = stats.binomtest(int(x1), n, 0.5)
    assert yn["p_exact"] == pytest.approx(bt.pvalue, rel=1e-12)
    ci = bt.proportion_ci(0.95, method="exact")
    assert yn["rr_lower"] == pytest.approx(ci.low / (1 - ci.low), abs=1e-12)
    assert yn["rr_upper"] == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)
    et = stats.poisson_means_test(int(x1), pop, int(x0), pop)
    assert yn["p_etest"] == pytest.approx(et.pvalue, rel=1e-9)
    assert yn["rate_ratio"] == pytest.approx((x1 / pop) / (x0 / pop))
    # the sample's headline: 13 -> 0 fraud alerts, a significant fall after an extreme month
    assert (x0, x1) == (13, 0)
    assert yn["q_value"] < 0.05 and yn["verdict"] == "显著下降"
    assert bool(yn["rtm_flag"]) and yn["rtm_extreme"] == "high"


def test_every_unit_against_scipy(panel, table):
    for r in table.itertuples():  # a check, not library code: scipy one unit at a time
        n = int(r.count_before + r.count_now)
        p0 = r.exposure_now / (r.exposure_now + r.exposure_before)
        assert r.p_exact == pytest.approx(stats.binomtest(int(r.count_now), n, p0).pvalue if n else 1.0, rel=1e-10)


def test_three_month_baseline(panel):
    t = movements_table(panel, MONTH, "crime_alerts", "3m").set_index("unit_id").loc["XL01"]
    before = sum(raw(panel, "crime_alerts", m) for m in ("2022-12", "2023-01", "2023-02"))
    assert t["count_before"] == before and t["exposure_before"] == 3 * 29000 and t["exposure_now"] == 29000
    assert t["months_before"] == "2022-12,2023-01,2023-02"
    assert t["rate_before"] == pytest.approx(before / 3 / 29000 * 1e4)
    x1 = raw(panel, "crime_alerts", MONTH)
    assert t["p_exact"] == pytest.approx(stats.binomtest(int(x1), int(x1 + before), 0.25).pvalue, rel=1e-10)


def test_q_values_within_indicator_and_baseline(everything):
    assert len(everything) == len(COUNT_INDICATORS) * len(BASELINES) * 29
    for (_ind, _b), g in everything.groupby(["indicator", "baseline"]):
        np.testing.assert_allclose(g["q_value"], stats.false_discovery_control(g["p_exact"], method="bh"),
                                   rtol=1e-12)
    assert everything["verdict"].isin(["显著下降", "下降但不显著", "基本持平", "上升但不显著", "显著上升"]).all()


def test_verdict_counts_and_summary(everything, table):
    vc = verdict_counts(everything).set_index(["indicator", "baseline"])
    assert (vc.sum(axis=1) == 29).all()
    assert vc.loc[("fraud_alerts", "yoy"), "显著下降"] == 1
    text = summary_text(table)
    assert "永宁社区" in text and "显著下降" in text and "q = 0.0071" in text


def test_chart_frames(panel):
    frame = funnel_frame(panel, MONTH)
    units, grid = frame.units, frame.limits
    assert len(units) == 29 and {"rate", "lower_95", "upper_99_8", "flag", "unit_name"} <= set(units.columns)
    assert frame.result.target == pytest.approx(units["count"].sum() / units["population"].sum() * 1e4)
    assert (grid["lower_95"] <= grid["target"]).all() and (grid["upper_95"] >= grid["target"]).all()
    ctl = control_frame(panel, MONTH)
    assert ctl.groupby("unit_id").size().eq(13).all() and ctl["month"].max() == MONTH
    assert {"u", "centre", "lower", "upper", "special", "unit_name"} <= set(ctl.columns)
    its = its_fit(panel, MONTH)
    assert str(its.fitted["month"].iloc[-1]) == MONTH and its.fitted["count"].iloc[-1] == 107
    assert {"level_change", "slope_change"} <= set(its.table.index)


def test_bad_arguments(panel):
    with pytest.raises(ValueError, match="count measure"):
        movements_table(panel, MONTH, "patrols_done")
    with pytest.raises(ValueError, match="baseline"):
        movements_table(panel, MONTH, "fraud_alerts", "weekly")
