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
    return ed, ed.review(draws=300, seed=7, fairness="v2,v3", fairness_size="quick", unit="永宁")


@pytest.fixture(scope="module")
def plain():
    """The review without its fairness section (fast), and the same made by run_review."""
    ed = qyb.load("2023-03")
    return ed.review(draws=300, seed=7, fairness=""), run_review(ed.panel, ed.month, ed.method, "v1,v2", n_draws=300,
                                                                 seed=7, fairness="")


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
    assert tables["reliability"]["method"].isin(["v2", "v3"]).all()


def test_edition_review_is_run_review(plain):
    review, again = plain
    assert review.fairness is None and review.tables()["reliability"].empty
    for name, frame in again.tables().items():
        pd.testing.assert_frame_equal(frame, review.tables()[name])


def test_fairness_section(march):
    from qyb.review import fairness_readings
    from qyb.review.display import fairness_table, story_table

    _, review = march
    fr = review.fairness
    assert fr.truth_known and [m.name for m in fr.methods] == ["v2", "v3"]
    t = review.tables()["reliability"]
    assert set(t["figure"]) >= {"index_reliability", "reliability", "p_star_truth", "p_keep_star", "coverage_overall",
                                "coverage_extreme", "p_keep_predicted", "size_ratio", "size_corr", "p_rise_3m",
                                "months_to_rise"}
    assert t["model"].notna().sum() > 20 and t["figure_name"].str.len().gt(0).all()
    assert set(t.loc[t["figure"] == "coverage_overall", "detail"]) == {"posterior", "bootstrap"}
    assert fr.value("v3", "index_reliability") > fr.value("v2", "index_reliability") + 0.3
    # the story of 永宁社区: 2nd in March under v2, a lucky month; its true rank is in the twenties
    st = fr.story.set_index(["method", "month"])
    assert st.loc[("v2", "2023-03"), "rank"] == 2 and st.loc[("v2", "2023-03"), "true_rank"] > 15
    assert st.loc[("v2", "2023-03"), "rank_p05"] > 10
    # the frontier covers every window and both star rules
    assert len(fr.frontier) == 4 and set(fr.frontier["star_rule"]) == {"bands", "shares"}
    assert fr.frontier["index_reliability"].is_monotonic_increasing  # longer windows: steadier
    # readings and display tables for people: Chinese, no codes
    text = fairness_readings(fr)
    assert {"reliability", "stars", "intervals", "size", "responsiveness", "story", "frontier", "conclusion"} <= set(text)
    assert "永宁社区" in text["story"] and "v3" in text["conclusion"]
    shown = fairness_table(fr)
    assert list(shown.columns) == ["指标", "v2", "v3", "目标"] and not shown["指标"].str.contains("_").any()
    assert "公布排名" in story_table(fr.story).columns


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
    review = ed.review(draws=200, seed=1, fairness="v1,v2", fairness_size="quick")
    assert set(review.skipped) == {"comparison", "decomposition", "fairness"}
    assert "v2 需要 2021-06" in review.skipped["fairness"] and [m.name for m in review.fairness.methods] == ["v1"]
    assert "no data file for 2021-06" in review.skipped["comparison"]
    assert review.comparison is None and review.decomposition is None
    assert "skipped: comparison, decomposition, fairness" in repr(review)
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
        run_review(ed.panel, ed.month, ed.method, " , ", n_draws=10, fairness="")
