"""qyb.report.published: what was published stays as published when the method changes."""
from __future__ import annotations

import pandas as pd
import pytest

import qyb
from qyb.errors import InputError
from qyb.report.month import month_report
from qyb.report.published import (
    SOURCE_CURRENT,
    SOURCE_RECONSTRUCTED,
    SOURCE_RECORD,
    check_republish,
    published_history,
    read_record,
    write_record,
)


def test_yongning_2023_02_stays_as_published_under_v1(march):
    """永宁社区 2023-02 was published under v1 as 55.91 / 27th; v2 (in force from 2023-03) would give
    84.17 / 26th. The history shows the published figures, the re-scored ones beside them, labelled."""
    h = published_history(march).set_index(["month", "unit_id"])
    feb = h.loc[("2023-02", "XL01")]
    assert round(feb["index"], 2) == 55.91 and feb["rank"] == 27 and feb["method"] == "v1"
    assert feb["source"] == SOURCE_RECONSTRUCTED
    assert round(feb["index_rescored"], 2) == 84.17 and feb["rank_rescored"] == 26 and feb["rescored_method"] == "v2"
    mar = h.loc[("2023-03", "XL01")]
    assert mar["rank"] == 2 and mar["rank_prev"] == 27 and mar["movement"] == "↑25" and mar["source"] == SOURCE_CURRENT
    assert sorted(h.index.get_level_values("month").unique()) == ["2023-02", "2023-03"]  # from the mechanism's start


def test_a_record_wins_over_re_scoring(march, tmp_path):
    """Once 2023-02 has a record, the history reads it, even where scoring the month now would differ
    (here: a record with other figures, as after a data correction)."""
    feb = qyb.load("2023-02")
    record = month_report(feb).record
    tampered = record.assign(index=record["index"] - 1.0)
    tampered.loc[tampered["unit_id"] == "XL01", ["index", "rank"]] = [50.0, 28]
    write_record(tampered, tmp_path / "2023-02")
    h = published_history(march, tmp_path).set_index(["month", "unit_id"])
    row = h.loc[("2023-02", "XL01")]
    assert row["index"] == 50.0 and row["rank"] == 28 and row["source"] == SOURCE_RECORD
    assert h.loc[("2023-03", "XL01"), "rank_prev"] == 28  # movement against what was printed
    assert round(row["index_rescored"], 2) == 84.17  # the current method's figure still beside it
    pd.testing.assert_frame_equal(read_record(tmp_path, "2023-02"), read_record(tmp_path, "2023-02"))


def test_republishing_a_month_with_other_figures_is_refused(tmp_path):
    feb = month_report(qyb.load("2023-02")).record
    assert check_republish(tmp_path, feb) is None  # nothing published yet
    write_record(feb, tmp_path / "2023-02")
    assert check_republish(tmp_path, feb) is None  # the same figures: a re-run is fine
    under_v2 = month_report(qyb.load("2023-02", "v2")).record
    with pytest.raises(InputError, match="--republish") as err:
        check_republish(tmp_path, under_v2)
    assert "v1" in err.value.message() and "v2" in err.value.message()
    assert "v1→v2" in check_republish(tmp_path, under_v2, republish=True)
