"""Months as offices write them: full-width digits, 年月, Excel date serials, sheet names."""
from __future__ import annotations

import pytest

from qyb.data.months import months_in_text, names_month, parse_month, stated_month
from qyb.data.text import clean_cell, header_key
from qyb.errors import InputError


@pytest.mark.parametrize("text", ["2023-03", "２０２３-０３", "２０２３－０３", " 2023 - 03 ", "2023\u3000-03"])
def test_month_argument_is_normalised(text):
    assert parse_month(text) == "2023-03"


@pytest.mark.parametrize("text", ["2023-3", "2023-13", "２０２３－１３", "March", "2023/03", ""])
def test_month_argument_rejected(text):
    with pytest.raises(InputError, match="is not a month"):
        parse_month(text)


@pytest.mark.parametrize("text,month", [("2023-3", "2023-03"), ("2023/03", "2023-03"), ("2023-03-01", "2023-03"),
                                        ("2023年3月", "2023-03"), ("2023年03月份", "2023-03"), ("202303", "2023-03"),
                                        ("2023.3", "2023-03"), ("2023-03-01 00:00:00", "2023-03"),
                                        ("44986", "2023-03"), ("45016", "2023-03"), ("45017", "2023-04"),
                                        ("44986.0", "2023-03"), ("2023-13", None), ("12345", None), ("abc", None)])
def test_stated_month(text, month):
    """Excel counts days from 1899-12-30: 44986 is 2023-03-01, 45016 is 2023-03-31, 45017 is 2023-04-01."""
    assert stated_month(text) == month


def test_month_in_titles_and_sheet_names():
    assert months_in_text("小榄镇平安晴雨表2023年3月各村(社区)数据") == ["2023-03"]
    assert months_in_text("2022年12月至2023年1月") == ["2022-12", "2023-01"]
    assert months_in_text("数据截至1月31日") == []
    for name in ("2023-03", "2023年3月", "202303", "3月", "03月", "三月", "3月份", " 2023 年 3 月 "):
        assert names_month(name, "2023-03"), name
    for name in ("2023-04", "Sheet1", "13月", "二月", "2022年3月"):
        assert not names_month(name, "2023-03"), name


def test_cells_and_headers_are_cleaned():
    assert clean_cell("  ６３５ ") == ("635", False)
    assert clean_cell("永宁社区\u200b") == ("永宁社区", True)
    assert clean_cell("\ufeff火灾\u2060") == ("火灾", True)
    units = ("宗", "起", "人", "间")
    assert header_key("刑事治安警情（宗）", units) == ("刑事治安警情", "宗")
    assert header_key("刑事治安\n警情 (宗)", units) == ("刑事治安警情", "宗")
    assert header_key("火灾(单位：起)", units) == ("火灾", "起")
    assert header_key("出租屋应检查/间", units) == ("出租屋应检查", "间")
    assert header_key("村(社区)名称", units) == ("村(社区)名称", None)
    assert header_key("村（社区）", units) == ("村(社区)", None)
    assert header_key("Crime_Alerts") == ("crime_alerts", None)
