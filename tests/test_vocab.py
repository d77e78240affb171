"""qyb.vocab: one vocabulary of baselines, stars, movement arrows and labels for tables, charts and texts."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qyb.vocab import BASELINES, LABELS, baseline, fmt_score, label, movement_phrase, movement_text, stars_text


def test_baselines_name_their_lags():
    assert list(BASELINES) == ["mom", "yoy", "3m"]
    assert {c: b.lags for c, b in BASELINES.items()} == {"mom": (1,), "yoy": (12,), "3m": (1, 2, 3)}
    assert baseline("yoy").lookback == 12 and baseline("3m").phrase == "前三月"
    with pytest.raises(ValueError, match="baseline must be one of"):
        baseline("weekly")


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, float("nan")])
def test_missing_values(missing):
    assert stars_text(missing) == ""
    assert movement_text(3, missing) == "新" and movement_text(missing, 3) == "新"
    assert movement_phrase(3, missing) == "无上期排名"
    assert fmt_score(missing) == ""


def test_stars_and_movement():
    assert stars_text(5) == "★★★★★" and stars_text(np.int64(1)) == "★"
    assert [movement_text(r, p) for r, p in ((2, 27), (5, 3), (4, 4))] == ["↑25", "↓2", "—"]
    assert movement_text(pd.array([2], dtype="Int64")[0], np.float64(27.0)) == "↑25"
    assert movement_phrase(2, 27) == "↑25（上期第27名）"


def test_rounding_is_half_away_from_zero():
    assert fmt_score(92.645, 2) == "92.65" and fmt_score(0.25) == "0.3" and fmt_score(-0.25) == "-0.3"
    assert fmt_score(-0.04) == "0.0" and fmt_score(math.inf) == ""


def test_labels():
    assert label("entropy") == LABELS["entropy"] == "熵权法"
    assert label("fraud", {"fraud": "反电诈"}) == "反电诈" and label("unknown") == "unknown"


def test_text_width_counts_terminal_columns():
    from qyb.vocab import pad_text, text_width

    assert text_width("validate") == 8 and text_width("体检表 pdf") == 10 and text_width("榜单（完整）") == 12
    assert text_width("e\u0301") == 1  # a combining accent takes no column
    assert pad_text("体检表", 8) == "体检表  " and pad_text("toolong", 3) == "toolong"


def test_run_progress_lines_keep_durations_in_one_column():
    import io

    from qyb.report.run import Progress
    from qyb.vocab import text_width

    out = io.StringIO()
    progress = Progress(stream=out)
    for step in ("validate", "体检表 pdf", "榜单.pdf", "通报.docx", "last month's intervals (notebook)"):
        progress.done(step, 1.5)
    columns = {text_width(line[: line.index("1.50 s")]) for line in out.getvalue().splitlines()}
    assert len(columns) == 1, out.getvalue()
