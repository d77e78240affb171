"""qyb.report.notebook.Page: what a report notebook writes, and the run's rank intervals drawn once."""
from __future__ import annotations

import pandas as pd
import pytest

import qyb
from qyb.report.notebook import Page
from qyb.report.tables import write_tables


@pytest.fixture(scope="module")
def ed() -> qyb.Edition:
    return qyb.load("2023-03")


def read(path):
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"unit_id": str, "month": str, "method": str})


def test_rank_intervals_reuse_a_matching_file_and_redraw_otherwise(ed, tmp_path):
    page = Page(ed, tmp_path)
    path = tmp_path / "tables" / "rank_intervals.csv"
    drawn = page.rank_intervals(draws=50, seed=3)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(drawn, ed.rank_intervals(50, 3))
    assert (drawn["month"] == "2023-03").all() and (drawn["method"] == "v2").all()
    assert (drawn["n_draws"] == 50).all() and (drawn["seed"] == 3).all()
    # the file of the run is what a later notebook reads: mark it to see that it is not redrawn
    marked = read(path).assign(p_top3=-1.0)
    marked.to_csv(path, index=False, encoding="utf-8-sig")
    again = page.rank_intervals(draws=50, seed=3)
    assert (again["p_top3"] == -1.0).all() and len(again) == 29
    # another number of draws, another seed or another edition: drawn again and the file replaced
    for kwargs, edition in (({"draws": 60, "seed": 3}, ed), ({"draws": 50, "seed": 4}, ed),
                            ({"draws": 50, "seed": 3}, ed.previous())):
        fresh = Page(edition, tmp_path).rank_intervals(**kwargs)
        assert (fresh["p_top3"] >= 0).all()
        assert (fresh["n_draws"] == kwargs["draws"]).all() and (fresh["seed"] == kwargs["seed"]).all()
        assert (fresh["month"] == edition.month).all() and (fresh["method"] == edition.method.name).all()
        pd.testing.assert_frame_equal(read(path), fresh, check_dtype=False)


def test_table_figure_and_optional(ed, tmp_path):
    from qyb import plots

    page = Page(ed, tmp_path)
    shown = page.table(ed.ranking(), "ranking", show=False)
    written = pd.read_csv(tmp_path / "tables" / "ranking.csv", encoding="utf-8-sig", dtype={"单位编码": str})
    assert len(written) == len(shown) == 29 and written.loc[1, "单位编码"] == "XL01"
    path = page.figure(plots.star_distribution(ed.scorecard), "stars", show=False)
    assert path == tmp_path / "figures" / "stars.png" and path.read_bytes().startswith(b"\x89PNG")
    assert page.optional("测试", lambda: 7) == 7
    notes = []
    page.markdown = notes.append  # what the page would show
    assert page.optional("中断时间序列", qyb.load, "2030-01") is None
    assert notes and notes[0].startswith("> 本月无法给出中断时间序列") and "2030-01" in notes[0]
    with pytest.raises(ZeroDivisionError):  # only what the data cannot support becomes a note
        page.optional("测试", lambda: 1 / 0)


def test_write_tables(tmp_path):
    frames = {"a": pd.DataFrame({"x": [1, 2]}), "b": pd.DataFrame({"名称": ["永宁社区"]})}
    paths = write_tables(frames, tmp_path / "tables")
    assert paths == {"a": tmp_path / "tables" / "a.csv", "b": tmp_path / "tables" / "b.csv"}
    assert paths["b"].read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(pd.read_csv(paths["b"], encoding="utf-8-sig"), frames["b"])


def test_pages_say_yes_or_no_never_true_or_false():
    import numpy as np

    from qyb.report.notebook import display_frame

    frame = pd.DataFrame({"beyond_chance": [True, False, None], "flag": np.array([True, False, True]),
                          "rank_now": [1, 0, 2], "note": ["True", "x", "y"]})
    shown = display_frame(frame)
    assert list(shown.iloc[:, 0].fillna("")) == ["是", "否", ""]
    assert list(shown.iloc[:, 1]) == ["是", "否", "是"]
    assert list(shown.iloc[:, 2]) == [1, 0, 2] and list(shown.iloc[:, 3]) == ["True", "x", "y"]  # numbers, text kept
