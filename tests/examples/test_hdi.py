"""Known answer: UNDP's Human Development Index, expressed as a qyb method spec (log and cap transforms,
goalposts, arithmetic and geometric means), reproduces the published values."""
from __future__ import annotations

import math

import numpy as np
import pytest

from qyb.engine.aggregate import weighted_geometric
from qyb.engine.normalise import goalposts
from qyb.engine.transforms import capped, log_value
from qyb.examples.hdi import PUBLISHED, ROUNDING_BOUND, TECHNICAL_NOTE_EXAMPLE, scores, write_data


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return scores(write_data(tmp_path_factory.mktemp("hdi") / "raw"))


def by_hand(le, eys, mys, gni) -> float:
    """The technical note's formula, written out."""
    health = (le - 20) / 65
    education = (min(eys, 18) / 18 + min(mys, 15) / 15) / 2
    income = (math.log(min(gni, 75000)) - math.log(100)) / (math.log(75000) - math.log(100))
    return (health * education * income) ** (1 / 3)


def test_hdi_of_the_published_table(table):
    """HDR 2015 Table 1 (2014): every HDI within the bound set by the table's rounding of its inputs, most of
    them equal at three decimals, and equal to the technical note's formula to machine precision."""
    assert len(table) == len(PUBLISHED) == 24
    diff = (table["qyb"] - table["published"]).abs()
    assert diff.max() <= ROUNDING_BOUND
    assert (table["qyb"].round(3) == table["published"]).sum() >= 16
    hand = np.array([by_hand(*r[2:]) for r in PUBLISHED])
    np.testing.assert_allclose(table["qyb"].to_numpy(), hand, rtol=1e-12)


def test_caps_bind_where_the_table_exceeds_them(table):
    """Australia's 20.2 expected years count as 18; Singapore's and Liechtenstein's GNI as 75,000."""
    got = dict(zip(table["country"], table["qyb"]))
    assert got["Australia"] == pytest.approx(((62.4 / 65) * ((1 + 13.0 / 15) / 2) * (
        math.log(422.61) / math.log(750))) ** (1 / 3), rel=1e-12)
    assert got["Singapore"] == pytest.approx(((63 / 65) * ((15.4 / 18 + 10.6 / 15) / 2) * 1.0) ** (1 / 3), rel=1e-12)
    assert round(got["Liechtenstein"], 3) == 0.908


def test_technical_note_worked_example():
    """HDR 2020 technical notes: GNI 3,829 -> income index 0.5506; indices 0.6971, 0.3447, 0.5506 -> 0.510."""
    ex = TECHNICAL_NOTE_EXAMPLE
    income = goalposts(log_value(np.array([ex["gni_per_capita"]]), cap=75000), math.log(100), math.log(75000), 1.0)
    assert round(float(income[0]), 4) == ex["income_index"]
    hdi = weighted_geometric(np.array(ex["indices"]) * 100, np.ones(3), floor=1e-9) / 100
    assert round(float(hdi), 3) == ex["hdi"]


def test_log_and_cap_transforms():
    x = np.array([50.0, 100.0, 80000.0, np.nan, 0.0, -1.0])
    np.testing.assert_array_equal(capped(x, 75000), [50, 100, 75000, np.nan, 0, -1])
    assert capped(x) is not None and np.array_equal(capped(x), x, equal_nan=True)
    logs = log_value(x, cap=75000)
    np.testing.assert_allclose(logs[:3], np.log([50, 100, 75000]))
    assert np.isnan(logs[3]) and logs[4] == -np.inf and np.isnan(logs[5])
    np.testing.assert_allclose(log_value(np.array([0.0, 9.0]), offset=1.0), np.log([1.0, 10.0]))
