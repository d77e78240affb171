"""qyb.report.profile: the 体检表 (unit check-up sheet) tables."""
from __future__ import annotations

import numpy as np
import pytest

import qyb
from qyb.method import load_method
from qyb.report.profile import (
    category_comparison,
    format_indicator_value,
    profiles_summary,
    raw_figures,
    unit_profiles,
)
from tests.report.test_ranking import card_frame


def test_category_comparison_median_and_best():
    m = load_method("v2")
    comp = category_comparison(card_frame(), "C", m)
    assert list(comp["类别"]) == [g.name for g in m.categories]
    first = comp.iloc[0]
    assert first["本单位"] == 40.0 and first["全镇中位数"] == 50.0 and first["全镇最高"] == 80.0
    assert first["与中位数差"] == -10.0


def test_format_indicator_value():
    assert format_indicator_value(12.345, {"type": "rate"}) == "12.35 起/万人"
    assert format_indicator_value(0.35, {"type": "reduction"}) == "+35.0%"
    assert format_indicator_value(0.9, {"type": "attainment"}) == "90.0%"
    assert format_indicator_value(np.nan, {"type": "count"}).startswith("缺失")


def test_unit_profiles_weakest_with_raw_figures(march):
    profiles = unit_profiles(march)
    assert len(profiles) == 29 and [p.rank for p in profiles] == sorted(p.rank for p in profiles)
    assert [p.unit_id for p in march.profiles()] == [p.unit_id for p in profiles]
    p = march.profile("永宁社区")
    assert p.unit_id == "XL01" and p.headline.endswith("↑25（上期第27名）")
    assert p.row["rank_change"] == 25
    assert len(p.weakest) == 3
    own = march.indicators[march.indicators["unit_id"] == "XL01"]
    assert list(p.weakest["得分"]) == sorted(p.weakest["得分"])
    assert p.weakest["得分"].max() <= own["score"].round(1).nsmallest(3).max()
    assert all(p.weakest["原始数据"].str.len() > 0)
    # the months as published, from the start of the mechanism: 2023-02 under v1, re-scored beside it
    assert list(p.history["月份"]) == ["2023-02", "2023-03"]
    assert list(p.history["评分办法"]) == ["v1", "v2"] and list(p.history["排名"]) == [27, 2]
    assert p.history["平安形势指数"].iat[0] == 55.91 and p.history["按现行办法（v2）重算指数"].iat[0] == 84.17
    assert "code" not in p.title and p.title == "永宁社区"
    summary = profiles_summary([p])
    assert summary.loc[0, "movement"] == "↑25"
    with pytest.raises(qyb.UnitLookupError, match="unknown unit"):
        march.profiles("nowhere")


def test_raw_figures_texts(march):
    by_code = {i.code: i for i in march.method.indicators}
    panel = march.panel
    rate = raw_figures(by_code["crime_rate"], "XL01", "2023-03", panel)
    count = int(panel.value("2023-03", "XL01", "crime_alerts"))
    assert rate == f"刑事治安警情 {count:,} 宗，常住人口 29,000"  # the unit of measure from the catalogue
    red = raw_figures(by_code["fraud_reduction"], "XL01", "2023-03", panel)
    assert red.startswith("电诈警情 本月") and "去年同期" in red
    att = raw_figures(by_code["dispute_resolution"], "XL01", "2023-03", panel)
    assert "矛盾纠纷已化解" in att and "/" in att
