"""qyb.report.ranking: the 榜单 and 体检表 tables (pure functions)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.report import ranking
from qyb.method import load_method


def card_frame() -> pd.DataFrame:
    """A hand-made scorecard of four units under method v2 (two categories filled in)."""
    m = load_method("v2")
    card = pd.DataFrame({
        "month": "2023-03", "unit_id": ["A", "B", "C", "D"], "unit_name": ["甲社区", "乙村", "丙社区", "丁村"],
        "index": [90.0, 85.0, 85.0, 70.0], "stars": [5, 4, 4, 1], "rank": [1, 2, 2, 4],
        "rank_prev": pd.array([3, 2, 1, pd.NA], dtype="Int64"),
        "rank_prev_published": pd.array([4, 2, 1, pd.NA], dtype="Int64"),
        "method": "v2", "method_prev_published": "v1",
    })
    for j, g in enumerate(m.categories):
        card[f"cat_{g.code}"] = [80.0 + j, 60.0, 40.0, 20.0]
    card["rank_change"] = card["rank_prev"] - card["rank"]
    card["imputed"] = ""
    return card


def test_star_string_and_movement():
    assert ranking.star_string(3) == "★★★"
    assert list(ranking.star_string(pd.Series([5, 1]))) == ["★★★★★", "★"]
    assert ranking.movement_text(2, 27) == "↑25"
    assert ranking.movement_text(5, 3) == "↓2"
    assert ranking.movement_text(4, 4) == "—"
    assert ranking.movement_text(4, pd.NA) == ""
    s = ranking.movement_text(pd.Series([1, 2]), pd.Series(pd.array([3, pd.NA], dtype="Int64")))
    assert list(s) == ["↑2", ""]
    assert ranking.movement_phrase(2, 27) == "↑25（上期第27名）"


def test_ranking_table_uses_published_previous_rank():
    m = load_method("v2")
    table = ranking.ranking_table(card_frame(), m)
    assert list(table.columns[:8]) == ["排名", "村(社区)", "单位编码", "平安形势指数", "星级", "星数", "上期排名", "升降"]
    assert list(table.columns[8:]) == [g.name for g in m.categories]
    assert list(table["单位编码"]) == ["A", "B", "C", "D"]  # ties (rank 2) in register order
    assert list(table["升降"]) == ["↑3", "—", "↓1", ""]  # against rank_prev_published, not rank_prev
    assert list(table["星级"]) == ["★★★★★", "★★★★", "★★★★", "★"]
    assert "v1" in ranking.method_change_note(card_frame()) and "v2" in ranking.method_change_note(card_frame())
    same = card_frame().assign(method_prev_published="v2")
    assert "调整" not in ranking.method_change_note(same)


def test_movers_and_star_distribution():
    risers, fallers = ranking.movers(card_frame(), n=5)
    assert list(risers["单位编码"]) == ["A"] and list(risers["升降"]) == ["↑3"]
    assert list(fallers["单位编码"]) == ["C"] and list(fallers["升降"]) == ["↓1"]
    dist = ranking.star_distribution(card_frame())
    assert list(dist["星数"]) == [5, 4, 3, 2, 1]
    assert list(dist["单位数"]) == [1, 2, 0, 0, 1]
    assert dist["单位数"].sum() == 4 and dist["占比"].sum() == pytest.approx(1.0)
    assert dist.loc[1, "单位"] == "乙村、丙社区"


def test_category_comparison_median_and_best():
    m = load_method("v2")
    comp = ranking.category_comparison(card_frame(), "C", m)
    assert list(comp["类别"]) == [g.name for g in m.categories]
    first = comp.iloc[0]
    assert first["本单位"] == 40.0 and first["全镇中位数"] == 50.0 and first["全镇最高"] == 80.0
    assert first["与中位数差"] == -10.0


def test_history_start():
    assert ranking.history_start("2023-12", "2022-01", 12) == "2023-01"
    assert ranking.history_start("2023-03", "2022-01", 12) == "2023-01"  # v2 looks back a year
    assert ranking.history_start("2023-03", "2022-01", 0) == "2022-04"
    assert ranking.history_start("2022-03", "2022-01", 12) == "2022-03"


def test_format_indicator_value():
    assert ranking.format_indicator_value(12.345, {"type": "rate"}) == "12.35 起/万人"
    assert ranking.format_indicator_value(0.35, {"type": "reduction"}) == "+35.0%"
    assert ranking.format_indicator_value(0.9, {"type": "attainment"}) == "90.0%"
    assert ranking.format_indicator_value(np.nan, {"type": "count"}).startswith("缺失")


@pytest.fixture(scope="module")
def march():
    from qyb.report.publish import load_month_data

    return load_month_data("2023-03")


def test_headline_yongning_2023_03(march):
    """The article's headline: 永宁社区 2nd in March, 27th in the February edition."""
    table = ranking.ranking_table(march.card, march.method)
    row = table.set_index("单位编码").loc["XL01"]
    assert row["排名"] == 2 and row["上期排名"] == 27 and row["升降"] == "↑25"
    assert row["星级"] == "★" * int(row["星数"])
    risers, _ = ranking.movers(march.card)
    assert risers.iloc[0]["单位编码"] == "XL01"


def test_unit_profiles_weakest_with_raw_figures(march):
    profiles = ranking.unit_profiles(march.card, march.long, march.history, march.method,
                                     march.panel.values, march.panel.units)
    assert len(profiles) == 29 and [p.rank for p in profiles] == sorted(p.rank for p in profiles)
    p = ranking.unit_profiles(march.card, march.long, march.history, march.method,
                              march.panel.values, march.panel.units, unit="永宁社区")[0]
    assert p.unit_id == "XL01" and p.headline.endswith("↑25（上期第27名）")
    assert p.row["rank_change"] == 25
    assert len(p.weakest) == 3
    own = march.long[march.long["unit_id"] == "XL01"]
    assert list(p.weakest["得分"]) == sorted(p.weakest["得分"])
    assert p.weakest["得分"].max() <= own["score"].round(1).nsmallest(3).max()
    assert all(p.weakest["原始数据"].str.len() > 0)
    assert list(p.history["月份"]) == ["2023-01", "2023-02", "2023-03"]  # v2 needs a year of history
    summary = ranking.profiles_summary([p])
    assert summary.loc[0, "movement"] == "↑25"
    with pytest.raises(ValueError, match="unknown unit"):
        ranking.unit_profiles(march.card, march.long, march.history, march.method,
                              march.panel.values, march.panel.units, unit="nowhere")


def test_raw_figures_texts(march):
    by_code = {i.code: i for i in march.method.indicators}
    raw, units = march.panel.values, march.panel.units
    rate = ranking.raw_figures(by_code["crime_rate"], "XL01", "2023-03", raw, units)
    count = int(raw.at[("2023-03", "XL01"), "crime_alerts"])
    assert rate == f"刑事治安警情 {count:,} 起，常住人口 29,000"
    red = ranking.raw_figures(by_code["fraud_reduction"], "XL01", "2023-03", raw, units)
    assert red.startswith("电诈警情 本月") and "去年同期" in red
    att = ranking.raw_figures(by_code["dispute_resolution"], "XL01", "2023-03", raw, units)
    assert "矛盾纠纷已化解" in att and "/" in att
