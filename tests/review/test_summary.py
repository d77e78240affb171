"""qyb.review.summary: the whole method review of a month (``Edition.review``, ``qyb review``, notebook 03)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import qyb
from qyb.review import TABLE_COLUMNS, compare_methods, readings, run_review


@pytest.fixture(scope="module")
def march():
    ed = qyb.load("2023-03")
    return ed, ed.review(draws=300, seed=7)


def test_review_of_march_has_every_section(march):
    ed, review = march
    assert review.skipped == {} and review.methods == ["v1", "v2"] and review.method is ed.method
    tables = review.tables()
    assert {name: list(t.columns) for name, t in tables.items()} == TABLE_COLUMNS
    assert len(tables["method_uncertainty"]) == 29 and review.monte_carlo.n_draws == 300
    dec = review.decomposition.set_index("unit_id").loc["XL01"]
    assert (dec["rank_from"], dec["rank_to"], dec["method_effect"], dec["data_effect"]) == (27, 2, 1, 24)
    pd.testing.assert_frame_equal(review.comparison.summary,
                                  compare_methods(ed.panel, "v1", "v2", "2023-03").summary)
    assert len(review.leave_one_out.summary) == 9
    assert review.notes and "示例数据" in review.notes[0]
    # the edition's review is run_review on its panel and method
    again = run_review(ed.panel, ed.month, ed.method, "v1,v2", n_draws=300, seed=7)
    for name, frame in again.tables().items():
        pd.testing.assert_frame_equal(frame, tables[name])


def test_readings_name_the_focus_unit(march):
    _, review = march
    text = readings(review, focus="XL01")
    assert set(text) == {"weights", "uncertainty", "sensitivity", "schemes", "comparison", "decomposition",
                         "leave_one_out", "coherence"}
    assert text["decomposition"].startswith("永宁社区从 2023-02（v1）第 27 名到 2023-03（v2）第 2 名")
    assert "方法效应 +1 名" in text["decomposition"] and "数据效应 +24 名" in text["decomposition"]
    assert "Kendall τ" in text["comparison"]


def test_sections_the_data_cannot_support_are_skipped_with_the_reason():
    # June 2022 under v1: v2's year-on-year baselines precede the data (2021), so neither the v1-v2
    # comparison nor the decomposition can be made; the rest of the review still is
    ed = qyb.load("2022-06", "v1")
    review = ed.review(draws=200, seed=1)
    assert set(review.skipped) == {"comparison", "decomposition"}
    assert "no data file for 2021-06" in review.skipped["comparison"]
    assert review.comparison is None and review.decomposition is None
    assert "skipped: comparison, decomposition" in repr(review)
    tables = review.tables()
    assert {name: list(t.columns) for name, t in tables.items()} == TABLE_COLUMNS
    assert tables["method_decomposition"].empty and len(tables["method_uncertainty"]) == 29
    np.testing.assert_allclose(tables["weights"].groupby("scheme")["weight"].sum(), 1.0)
    text = readings(review)
    assert text["comparison"] == review.skipped["comparison"]
    assert text["decomposition"] == review.skipped["decomposition"]


def test_bad_method_list():
    ed = qyb.load("2023-03")
    with pytest.raises(ValueError, match="at least one method"):
        run_review(ed.panel, ed.month, ed.method, " , ", n_draws=10)
