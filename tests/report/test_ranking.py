"""qyb.report.ranking: the 榜单 tables (pure functions)."""
from __future__ import annotations

import pandas as pd
import pytest

from qyb.method import load_method
from qyb.report import ranking
from qyb.vocab import movement_phrase, movement_text


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
    assert movement_text(2, 27) == "↑25"
    assert movement_text(5, 3) == "↓2"
    assert movement_text(4, 4) == "—"
    assert movement_text(4, pd.NA) == "新"  # no previous rank: one vocabulary (qyb.vocab) for tables and charts
    s = ranking.movements_text(pd.Series([1, 2]), pd.Series(pd.array([3, pd.NA], dtype="Int64")))
    assert list(s) == ["↑2", "新"]
    assert movement_phrase(2, 27) == "↑25（上期第27名）"


def test_ranking_table_uses_published_previous_rank():
    m = load_method("v2")
    table = ranking.ranking_table(card_frame(), m)
    assert list(table.columns[:8]) == ["排名", "村(社区)", "单位编码", "平安形势指数", "星级", "星数", "上期排名", "升降"]
    assert list(table.columns[8:]) == [g.name for g in m.categories]
    assert list(table["单位编码"]) == ["A", "B", "C", "D"]  # ties (rank 2) in register order
    assert list(table["升降"]) == ["↑3", "—", "↓1", "新"]  # against rank_prev_published, not rank_prev
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


def test_headline_yongning_2023_03(march):
    """The article's headline: 永宁社区 2nd in March, 27th in the February edition."""
    table = ranking.ranking_table(march.scorecard, march.method)
    pd.testing.assert_frame_equal(march.ranking(), table)
    row = table.set_index("单位编码").loc["XL01"]
    assert row["排名"] == 2 and row["上期排名"] == 27 and row["升降"] == "↑25"
    assert row["星级"] == "★" * int(row["星数"])
    risers, _ = ranking.movers(march.scorecard)
    assert risers.iloc[0]["单位编码"] == "XL01"


