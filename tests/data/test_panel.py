"""qyb.data.panel: the dense (months x units x measures) panel every analysis reads."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.data.months import add_months, month_range, parse_month
from qyb.data.panel import Panel, load_panel, require_month
from qyb.errors import InputError
from qyb.paths import DATA_RAW


@pytest.fixture(scope="module")
def panel() -> Panel:
    return load_panel(DATA_RAW, month_range("2022-01", "2023-03"))


def test_shape_and_index_maps(panel):
    assert panel.array.shape == (15, 29, len(panel.measures))
    assert panel.months[0] == "2022-01" and panel.months[-1] == "2023-03"
    assert panel.unit_pos["XL01"] == 0 and panel.month_pos["2023-03"] == 14
    assert panel.synthetic and set(panel.files) == set(panel.months)
    assert repr(panel).startswith("Panel(29 units x 15 months (2022-01..2023-03)")


def test_cube_value_and_long_view_agree(panel):
    fraud = panel.cube("fraud_alerts", ["2022-03", "2023-03", "2030-01"])
    assert fraud.shape == (3, 29) and np.isnan(fraud[2]).all()  # a month without a file: NaN row
    assert (fraud[0, 0], fraud[1, 0]) == (13.0, 0.0)  # 永宁社区: 13 -> 0 fraud alerts
    assert panel.value("2022-03", "XL01", "fraud_alerts") == 13.0
    assert panel.value("2030-01", "XL01", "fraud_alerts") is None
    assert panel.value("2023-03", "XL99", "fraud_alerts") is None
    long = panel.values
    assert long.shape == (15 * 29, len(panel.measures))
    np.testing.assert_array_equal(long.xs("2023-03", level="month")["fraud_alerts"].to_numpy(),
                                  panel.cube("fraud_alerts", ["2023-03"])[0])


def test_long_view_is_read_only_and_with_value_copies(panel):
    with pytest.raises(ValueError, match="read-only"):
        panel.values.loc[("2023-03", "XL05"), "fires"] = 40
    spiked = panel.with_value("2023-03", "XL05", "fires", 40)
    assert spiked.value("2023-03", "XL05", "fires") == 40
    assert spiked.values.loc[("2023-03", "XL05"), "fires"] == 40
    assert panel.value("2023-03", "XL05", "fires") != 40  # the original is unchanged
    changed = np.argwhere(spiked.array != panel.array)
    assert changed.tolist() == [[14, 4, panel.measure_pos["fires"]]]


def test_window_and_from_frame_round_trip(panel):
    w = panel.window(["2023-03", "2023-01", "2030-01"])
    assert w.months == ["2023-01", "2023-03"] and w.units is panel.units
    np.testing.assert_array_equal(w.array, panel.array[[12, 14]])
    again = Panel.from_frame(panel.data_dir, panel.units, panel.values)
    assert again.months == panel.months and again.measures == panel.measures
    np.testing.assert_array_equal(again.array, panel.array)
    # a long frame with a unit missing in a month: NaN there, the register decides the units
    part = panel.values.drop(index=("2023-03", "XL02"))
    holes = Panel.from_frame(panel.data_dir, panel.units, part)
    assert np.isnan(holes.array[14, 1]).all() and not np.isnan(holes.array[13, 1]).any()
    with pytest.raises(ValueError, match="array shape"):
        Panel(panel.data_dir, panel.units, panel.months[:2], panel.array, panel.measures)


def test_load_panel_reads_only_the_months_asked(panel):
    two = load_panel(DATA_RAW, ["2023-03", "2023-02", "2031-01"])
    assert two.months == ["2023-02", "2023-03"]
    np.testing.assert_array_equal(two.array, panel.array[-2:])


def test_require_month_and_month_arithmetic(tmp_path):
    require_month(DATA_RAW, "2023-03")
    with pytest.raises(InputError, match="no data file for 2031-01"):
        require_month(DATA_RAW, "2031-01")
    with pytest.raises(InputError, match="data folder not found"):
        require_month(tmp_path / "nowhere", "2023-03")
    assert add_months("2023-01", -1) == "2022-12" and add_months("2022-12", 13) == "2024-01"
    assert month_range("2022-11", "2023-02") == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert parse_month(" 2023-03 ") == "2023-03"
    for bad in ("2023-3", "2023-13", "March"):
        with pytest.raises(InputError, match="is not a month"):
            parse_month(bad)


def test_long_view_has_the_expected_index(panel):
    idx = panel.values.index
    assert idx.names == ["month", "unit_id"]
    assert list(idx[:2]) == [("2022-01", "XL01"), ("2022-01", "XL02")]
    assert isinstance(panel.values, pd.DataFrame) and panel.values is panel.values  # built once
