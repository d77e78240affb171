"""The dense panel's layout: stored measure by measure, read as whole rows, any subset of units."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.data.months import month_range
from qyb.data.panel import Panel, load_panel
from qyb.paths import DATA_RAW


@pytest.fixture(scope="module")
def panel() -> Panel:
    return load_panel(DATA_RAW, month_range("2022-01", "2023-03"))


def test_measure_major_storage_viewed_as_months_units_measures(panel):
    assert panel.by_measure.shape == (len(panel.measures), 15, 29) and panel.by_measure.flags.c_contiguous
    assert np.shares_memory(panel.array, panel.by_measure)  # one copy of the numbers
    k = panel.measure_pos["fraud_alerts"]
    np.testing.assert_array_equal(panel.array[:, :, k], panel.by_measure[k])
    again = Panel(panel.data_dir, panel.units, panel.months, np.ascontiguousarray(panel.array), panel.measures)
    np.testing.assert_array_equal(again.by_measure, panel.by_measure)  # from (months, units, measures) too


def test_cube_reads_any_units_and_months_as_a_copy(panel):
    whole = panel.cube("crime_alerts", ["2023-01", "2023-03"])
    whole[0, 0] = -1  # a copy: the panel is untouched
    assert panel.value("2023-01", "XL01", "crime_alerts") != -1
    months = ["2022-12", "2031-01", "2023-03"]
    full = panel.cube("crime_alerts", months)
    assert np.isnan(full[1]).all()
    for units in (slice(3, 9), np.array([7, 0, 28, 3]), slice(0, 0)):
        part = panel.cube("crime_alerts", months, units)
        np.testing.assert_array_equal(part, full[:, units])
    long = pd.DataFrame(panel.values["crime_alerts"]).reset_index()
    pivot = long.pivot(index="month", columns="unit_id", values="crime_alerts").loc[["2022-12", "2023-03"],
                                                                                    list(panel.units.index)]
    np.testing.assert_array_equal(pivot.to_numpy(), full[[0, 2]])  # the same as re-pivoting a long table
