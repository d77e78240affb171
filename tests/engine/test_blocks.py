"""score_panel scores towns in blocks of whole towns: any block size gives the same bits as one block."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.data.panel import Panel
from qyb.edition import read_panel
from qyb.engine import score_panel
from qyb.engine.table import _layout, town_blocks
from qyb.method import load_method
from qyb.sample.replicate import replicate

MONTHS = ["2023-01", "2023-03"]


@pytest.fixture(scope="module")
def towns() -> Panel:
    """9 towns of the sample with different figures, 10 % of the units dropped (towns of unequal size,
    so blocks hold padding), blank cells, and the register shuffled (a town's units not together)."""
    rng = np.random.default_rng(11)
    panel = replicate(read_panel("2023-03"), 9, jitter=0.4, seed=11)
    by_measure = panel.by_measure.copy()
    holes = rng.random(by_measure.shape) < 0.03
    deductions = [panel.measure_pos[d["measure"]] for d in load_method("v2").deductions]
    holes[deductions] = False  # 扣分 counts are never blank
    by_measure[holes] = np.nan
    order = rng.permutation(np.flatnonzero(rng.random(len(panel.units)) > 0.1))
    return Panel(panel.data_dir, panel.units.iloc[order], panel.months, by_measure[:, :, order].transpose(1, 2, 0),
                 panel.measures)


def same(a, b, path=""):
    """Exactly equal, recursively: arrays to the bit (dtype and shape too), frames exactly."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        assert (a.dtype, a.shape) == (b.dtype, b.shape), path
        assert (a == b).all() if a.dtype == object else a.tobytes() == b.tobytes(), path
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=path)
    else:
        assert a == b or (a != a and b != b), (path, a, b)


def assert_same_tables(one, many):
    for name in ("values", "imputed", "indicator_scores", "index", "rank", "stars", "present"):
        same(getattr(one.scores, name), getattr(many.scores, name), name)
    same(one.scores.nodes, many.scores.nodes, "nodes")
    same(one.scores.stages, many.scores.stages, "stages")
    same(one.scores.steps, many.scores.steps, "steps")
    pd.testing.assert_frame_equal(one.scorecard(), many.scorecard(), check_exact=True)


def data_steps_method():
    """v2 with every COINr data step: group-mean imputation, screening, winsorisation (records to merge)."""
    return load_method("v2").derive("v2-steps", missing="skip",
                                    impute={"method": "group_mean", "group": "former_town"},
                                    screen={"method": "byNA", "dat_thresh": 0.9, "nonzero_thresh": 0.5},
                                    treat={"method": "winsorise", "winmax": 3})


@pytest.mark.parametrize("block_units", [29, 60, 100, 1000])
def test_blocks_of_towns_give_the_same_bits_as_one_block(towns, block_units):
    method = load_method("v2").derive("v2-impute", missing="impute_mean")
    one = score_panel(towns, method, MONTHS)
    assert one.scores.imputed.any()  # the blanks were imputed, within each town
    assert_same_tables(one, score_panel(towns, method, MONTHS, block_units=block_units))


def test_blocks_merge_the_records_of_every_data_step(towns):
    method = data_steps_method()
    one = score_panel(towns, method, MONTHS)
    many = score_panel(towns, method, MONTHS, block_units=60)
    assert [r["step"] for r in many.scores.steps] == ["transform", "impute", "screen", "treat", "normalise",
                                                      "aggregate"]
    assert one.scores.step("screen")["summary"]["n_removed"] > 0  # some units were screened out
    assert len(one.months) == 4  # 2022-12 (for rank_prev) .. 2023-03
    assert len(one.scores.step("treat")["details"]) == 4 * 9 * len(method.indicators)  # months x towns x indicators
    assert_same_tables(one, many)


def test_town_blocks_hold_whole_towns():
    groups = np.array(list("aabbbcdddd"))
    pos, _ = _layout(groups)  # 4 towns, at most 4 units
    assert pos.shape == (4, 4)
    assert town_blocks(pos, 8) == [slice(0, 2), slice(2, 4)]
    assert town_blocks(pos, 1) == [slice(g, g + 1) for g in range(4)]  # never less than a town
    assert town_blocks(pos, 100) == [slice(0, 4)]


def test_blocked_errors_are_the_errors_of_one_block(towns):
    """Under policy fail, the first problem is reported in register order whichever block holds it,
    and a blank figure comes before a blank 扣分 count, as when the panel is scored whole."""
    from qyb.errors import InputError

    def message(panel, **kw):
        with pytest.raises(InputError) as err:
            score_panel(panel, load_method("v2"), MONTHS, **kw)
        return err.value.message()

    whole = message(towns)
    assert "cannot be computed for" in whole and whole == message(towns, block_units=29)
    k = towns.measure_pos["work_deaths"]
    last = towns.units.index[-1]
    arr = towns.array.copy()
    arr[towns.month_pos["2023-03"], -1, k] = np.nan  # a blank 扣分 count in the last unit
    blank = Panel(towns.data_dir, towns.units, towns.months, arr, towns.measures)
    assert message(blank) == message(blank, block_units=29) == whole  # the blank figure still comes first
    filled = Panel(towns.data_dir, towns.units, towns.months, np.nan_to_num(arr, nan=1.0), towns.measures)
    arr = filled.array.copy()
    arr[towns.month_pos["2023-03"], -1, k] = np.nan
    only_deduction = Panel(towns.data_dir, towns.units, towns.months, arr, towns.measures)
    assert last in message(only_deduction) and message(only_deduction) == message(only_deduction, block_units=29)
