"""qyb.load and the Edition: one month of the sample under one method, and what an analyst asks of it."""
from __future__ import annotations

import pandas as pd
import pytest

import qyb
from qyb.edition import _history_start
from qyb.engine import score_panel
from qyb.method import load_method
from tests.helpers import copy_sample


@pytest.fixture(scope="module")
def ed() -> qyb.Edition:
    return qyb.load("2023-03")


def test_repr_names_month_method_hash_units_and_sample(ed):
    assert ed.method.name == "v2"  # the method in force in March 2023
    assert repr(ed) == f"Edition 2023-03 · v2 ({ed.method.hash[:8]}) · 29 units · 示例数据"
    assert ed.synthetic and ed.month == "2023-03" and len(ed.units) == 29


def test_unit_by_id_name_or_short_name(ed):
    assert ed.unit("永宁") == ed.unit("永宁社区") == ed.unit("XL01") == "XL01"
    assert ed.unit("xl01") == "XL01"


def test_unknown_unit_lists_close_candidates(ed):
    with pytest.raises(qyb.UnitLookupError) as info:
        ed.unit("绩东三社区")
    message = str(info.value)
    assert "unknown unit '绩东三社区'" in message
    assert "XL03 绩东一社区" in message and "XL04 绩东二社区" in message  # the close names are offered
    assert isinstance(info.value, qyb.InputError) and isinstance(info.value, KeyError)
    with pytest.raises(qyb.QybError, match="XL01 永宁社区"):  # no close name: an example from units.csv
        ed.unit("nowhere")


def test_ambiguous_short_name_lists_every_match(ed):
    with pytest.raises(qyb.UnitLookupError, match="matches several units") as info:
        ed.unit("绩东")  # 绩东一社区 and 绩东二社区
    assert "XL03 绩东一社区" in str(info.value) and "XL04 绩东二社区" in str(info.value)
    assert ed.unit("绩东一") == "XL03"


def test_scorecard_has_the_published_previous_rank(ed):
    card = ed.scorecard.set_index("unit_id")
    assert len(card) == 29
    yn = card.loc["XL01"]
    assert yn["rank"] == 2 and yn["rank_prev_published"] == 27 and yn["method_prev_published"] == "v1"
    assert yn["rank_prev"] == 26  # February under v2, the same method
    assert ed.scorecard is ed.scorecard  # computed once


def test_table_and_scorecard_are_the_engine_on_the_panel(ed):
    card = score_panel(ed.panel, load_method("v2"), ["2023-03"]).scorecard("2023-03")
    pd.testing.assert_frame_equal(ed.table.scorecard("2023-03"), card)
    pd.testing.assert_frame_equal(ed.scorecard[card.columns], card)


def test_rescore_keeps_the_panel_and_records_the_change(ed):
    heavier = ed.rescore(weights={"public_order": 30})
    assert heavier.panel is ed.panel and heavier.month == ed.month
    derived = heavier.method.spec["derived_from"]
    assert derived["method"] == "v2" and derived["hash"] == ed.method.hash
    assert heavier.method.hash != ed.method.hash
    assert [g.weight for g in heavier.method.categories if g.code == "public_order"] == [30.0]
    stars = ed.rescore(stars={"rule": "none"})
    assert stars.panel is ed.panel and stars.method.spec["derived_from"]["changes"] == ["stars"]


def test_compare_with_another_method(ed):
    v1 = ed.rescore(method="v1")
    assert v1.method.name == "v1" and v1.panel is ed.panel
    cmp = ed.compare(v1)
    assert len(cmp.units) == 29 and cmp.units["unit_id"].is_unique
    assert (cmp.method_a, cmp.method_b) == ("v2", "v1")
    row = cmp.units.set_index("unit_id").loc["XL01"]
    assert row["rank_a"] == 2 and row["rank_b"] == v1.scorecard.set_index("unit_id").at["XL01", "rank"]


def test_history_is_as_long_as_the_data_allow(ed):
    # v2 compares with the same month a year before and the sample starts 2022-01: 2023-01..2023-03
    assert sorted(ed.history["month"].unique()) == ["2023-01", "2023-02", "2023-03"]
    december = qyb.load("2023-12")
    months = sorted(december.history["month"].unique())
    assert len(months) == 12 and months[0] == "2023-01" and months[-1] == "2023-12"
    assert len(december.unit_history("永宁")) == 12


def test_history_start():
    assert _history_start("2023-12", "2022-01", 12) == "2023-01"
    assert _history_start("2023-03", "2022-01", 12) == "2023-01"  # v2 looks back a year
    assert _history_start("2023-03", "2022-01", 0) == "2022-04"
    assert _history_start("2022-03", "2022-01", 12) == "2022-03"


def test_profile_headline(ed):
    p = ed.profile("永宁")
    assert p.unit_id == "XL01"
    assert "第 2 名" in p.headline and "上期第27名" in p.headline


def test_previous_edition_is_last_month_as_published(ed):
    prev = ed.previous()
    assert prev.month == "2023-02" and prev.method.name == "v1" and prev.panel is ed.panel
    assert prev.scorecard.set_index("unit_id").at["XL01", "rank"] == 27
    assert ed.focus_unit() == "XL01"  # 27 -> 2, the largest move


def test_raw_figures_and_indicators(ed):
    raw = ed.raw("fraud_alerts", ["2022-03", "2023-03"])
    assert raw.loc["2022-03", "XL01"] == 13 and raw.loc["2023-03", "XL01"] == 0
    long = ed.indicators
    assert len(long) == 29 * len(ed.method.indicators) and set(long["month"]) == {"2023-03"}


def test_repr_html_escapes_unit_names(tmp_path):
    data = copy_sample(tmp_path)
    name = "<script>alert(1)</script>社区"
    for path in data.glob("*.csv"):  # units.csv and every month file name the unit
        path.write_text(path.read_text(encoding="utf-8-sig").replace("永宁社区", name), encoding="utf-8-sig")
    ed = qyb.load("2023-03", data=data)
    assert not ed.synthetic and repr(ed).endswith("· 29 units")
    assert ed.unit("XL01") == "XL01" and ed.scorecard.set_index("unit_id").at["XL01", "unit_name"] == name
    page = ed._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;社区" in page  # XL01 is 2nd: among the five rows shown


def test_load_errors_are_input_errors(tmp_path):
    with pytest.raises(qyb.InputError, match="no data file for 2030-01"):
        qyb.load("2030-01")
    with pytest.raises(qyb.InputError, match="no method in force"):
        qyb.load("2022-06")
    assert qyb.load("2022-06", "v1").method.name == "v1"
