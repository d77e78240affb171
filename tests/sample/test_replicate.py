"""qyb.sample.replicate: the sample copied into towns (benchmarks and tests of many towns)."""
from __future__ import annotations

import numpy as np
import pandas as pd

import qyb
from qyb.data.panel import load_panel
from qyb.edition import read_panel
from qyb.sample.replicate import replicate, town_code, write_raw


def test_replicate_copies_units_into_towns_and_scores_each_town_as_the_sample():
    base = read_panel("2023-03")
    big = replicate(base, 4)
    assert len(big.units) == 4 * 29 and big.units["town"].nunique() == 4
    assert list(big.units.index[:2]) == ["T00001XL01", "T00001XL02"] and town_code(3) == "T00004"
    assert big.units.loc["T00003XL01", "unit_name"] == "T00003永宁社区"
    assert (big.units.dtypes == base.units.dtypes).all()
    assert big.by_measure.flags.c_contiguous  # built in the panel's own layout
    np.testing.assert_array_equal(big.array[:, 29:58], base.array)
    card = qyb.Edition(big, "2023-03", "v2").scorecard
    one = qyb.Edition(base, "2023-03", "v2").scorecard
    for town in ("T00001", "T00004"):  # every town ranks exactly as the sample does
        mine = card[card["group"] == town]
        np.testing.assert_array_equal(mine["rank"].to_numpy(), one["rank"].to_numpy())
        np.testing.assert_array_equal(mine["index"].to_numpy(), one["index"].to_numpy())


def test_jitter_makes_towns_differ_and_keeps_the_data_valid(tmp_path):
    base = read_panel("2023-03")
    towns = replicate(base, 3, jitter=0.5, seed=2)
    assert not np.array_equal(towns.array[:, :29], towns.array[:, 29:58])
    handled, total = towns.measure_pos["patrols_done"], towns.measure_pos["patrols_planned"]
    assert (towns.by_measure[handled] <= towns.by_measure[total]).all()
    assert np.array_equal(towns.by_measure, np.round(towns.by_measure))  # counts stay whole numbers
    write_raw(towns, tmp_path / "raw")
    again = load_panel(tmp_path / "raw")  # valid raw files: they pass validation
    assert again.synthetic and again.months == towns.months
    np.testing.assert_array_equal(again.array, towns.array)
    pd.testing.assert_index_equal(again.units.index, towns.units.index, exact=False)
