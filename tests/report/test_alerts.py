"""qyb.report.alerts: the 预警 rules on a constructed history (known answers) and the office settings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.errors import InputError
from qyb.report.alerts import AlertRule, alert_span, alert_table, load_office, run_lengths

RULES = (AlertRule("约谈", "streak", max_stars=2, months=5), AlertRule("预警", "streak", max_stars=2, months=3),
         AlertRule("关注", "drop", stars=2))
MONTHS = [f"2023-{m:02d}" for m in range(1, 9)]


def history(stars: dict[str, list]) -> pd.DataFrame:
    rows = []
    for u, seq in stars.items():
        for m, s in zip(MONTHS, seq):
            rows.append({"month": m, "unit_id": u, "unit_name": f"{u}社区", "stars": s, "rank": 1})
    frame = pd.DataFrame(rows)
    frame["stars"] = pd.array(frame["stars"], dtype="Int64")
    return frame


def test_run_lengths_known_answers():
    assert run_lengths([False, True, True, False, True]).tolist() == [0, 1, 2, 0, 1]
    assert run_lengths(np.ones((2, 4), bool)).tolist() == [[1, 2, 3, 4]] * 2
    assert run_lengths(np.zeros(3, bool)).tolist() == [0, 0, 0]


def test_alert_rules_on_a_constructed_history():
    h = history({
        "A": [3, 2, 2, 2, 2, 2, 2, 1],        # 7 months at <= 2 stars: 约谈 (not also 预警)
        "B": [4, 4, 4, 4, 4, 2, 1, 2],        # 3 months: 预警
        "C": [2, 2, 3, 2, 2, 4, 4, 2],        # 2 at the end, and a drop of 2 stars: 关注 only
        "D": [2, 2, 2, 2, 2, 2, None, 2],     # a month without a figure breaks the streak
        "E": [5, 5, 5, 5, 5, 5, 5, 5],        # nothing
        "F": [2, 2, 2, 2, 2, 5, 5, 4],        # an old streak that ended, a fall of one star: nothing
    })
    got = alert_table(h, RULES)
    assert list(got["unit_id"]) == ["A", "B", "C"]
    assert list(got["level"]) == ["约谈", "预警", "关注"]
    a, b, c = (got.iloc[k] for k in range(3))
    assert a["streak"] == 7 and a["first_month"] == "2023-02" and a["last_month"] == "2023-08"
    assert a["months"].split("、") == MONTHS[1:]
    assert a["rule"] == "连续 5 个月 ★★ 及以下" and a["stars_now"] == "★"
    assert b["streak"] == 3 and b["months"] == "2023-06、2023-07、2023-08"
    assert c["rule"] == "星级单月下降 2 星及以上" and c["months"] == "2023-07、2023-08"
    # one month earlier: A has 6 months (约谈); B only 2 (nothing); D's gap ends its streak
    earlier = alert_table(h, RULES, month="2023-07")
    assert dict(zip(earlier["unit_id"], earlier["level"])) == {"A": "约谈"}
    assert earlier["streak"].tolist() == [6]


def test_office_settings_and_their_errors(tmp_path):
    office = load_office()
    assert office.issuer and [r.level for r in office.rules] == ["约谈", "预警", "关注"]
    bad = tmp_path / "office.yaml"
    for text, key in (("issuer: x\nalerts:\n  - {level: 预警, kind: streak, max_stars: 2, months: 0}", "months"),
                      ("issuer: x\nalerts:\n  - {level: 预警, kind: weekly}", "kind"),
                      ("issuer: ''", "issuer"), ("colour: red", "colour")):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=key):
            load_office(bad)


def test_alert_span_text():
    assert alert_span("2023-04", "2023-12", 9) == "2023年4月至2023年12月（连续 9 个月）"
    assert alert_span("2023-11", "2023-12", 1) == "2023年11月至2023年12月"  # a drop: the two months compared
    assert alert_span("2023-12", "2023-12", 1) == "2023年12月"


def test_sample_baofeng_streak_is_nine_months_in_december_2023():
    """The issue counted 10 consecutive months at ★★ or below for 宝丰社区; the published history of the
    sample (2023-02 ★★★ under v1, 2023-03 ★★★ under v2, then ★–★★) gives 9: 2023-04 to 2023-12."""
    import qyb
    from qyb.report.month import month_report

    rep = month_report(qyb.load("2023-12"))
    row = rep.alerts.set_index("unit_name").loc["宝丰社区"]
    assert (row["level"], row["first_month"], row["last_month"], row["streak"]) == ("约谈", "2023-04", "2023-12", 9)
    stars = rep.history[rep.history["unit_name"] == "宝丰社区"].sort_values("month")["stars"].tolist()
    assert stars == [3, 3, 1, 1, 1, 2, 2, 2, 1, 2, 2]
