"""qyb.plots: every chart returns a Figure, saves a valid PNG reproducibly, and draws no missing glyph."""
from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

import qyb
from qyb import plots
from qyb.plots.base import FALL, _register_notebook_display
from tests.helpers import strict_warnings

CATEGORY_NAMES = {
    "public_order": "社会治安", "fraud": "反电诈", "traffic": "交通安全", "rental": "出租屋管理",
    "work_safety": "生产安全", "fire": "消防安全", "disputes": "矛盾化解", "hotspots": "乱点整治",
    "patrol": "网格巡查",
}
UNITS = ["永宁社区", "新市社区", "埒西一社区", "九洲基社区", "新胜村", "白鲤村", "太平村"]


def scorecard(n: int = len(UNITS), seed: int = 0) -> pd.DataFrame:
    """A small scorecard in the engine's contract (rank_prev nullable, one unit new this month)."""
    rng = np.random.default_rng(seed)
    index = np.round(rng.uniform(60, 98, n), 2)
    rank = pd.Series(index).rank(ascending=False, method="min").astype(int).to_numpy()
    prev = pd.array(rng.permutation(n) + 1, dtype="Int64")
    prev[n - 1] = pd.NA
    card = pd.DataFrame({
        "unit_id": [f"XL{i + 1:02d}" for i in range(n)],
        "unit_name": UNITS[:n],
        "index": index,
        "stars": np.clip(6 - np.ceil(rank / max(n, 1) * 5), 1, 5).astype(int),
        "rank": rank,
        "rank_prev": prev,
    })
    card["rank_change"] = card["rank_prev"] - card["rank"]
    for code in CATEGORY_NAMES:
        card[f"cat_{code}"] = np.round(rng.uniform(0, 100, n), 1)
    return card


def funnel_frames():
    rng = np.random.default_rng(1)
    pop = rng.integers(5_000, 40_000, len(UNITS))
    rate = 8 + rng.normal(0, 3, len(UNITS))
    rate[0] = 30.0  # an outlier, labelled
    df = pd.DataFrame({"unit_name": UNITS, "population": pop, "rate": rate})
    grid = np.linspace(4_000, 42_000, 50)
    half95, half998 = 1.96 * np.sqrt(8 * 10_000 / grid), 3.09 * np.sqrt(8 * 10_000 / grid)
    limits = pd.DataFrame({"population": grid, "target": 8.0, "lower_95": 8 - half95, "upper_95": 8 + half95,
                           "lower_99_8": np.maximum(0, 8 - half998), "upper_99_8": 8 + half998})
    return df, limits


def control_frame() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    months = [str(p) for p in pd.period_range("2022-03", periods=13, freq="M")]
    rows = [
        {"unit_name": u, "month": m, "u": rng.poisson(20) / 2.7, "centre": 7.4, "lower": 2.2, "upper": 12.6,
         "special": bool(j == 12 and i == 0)}
        for i, u in enumerate(UNITS) for j, m in enumerate(months)
    ]
    return pd.DataFrame(rows)


def its_frame() -> pd.DataFrame:
    months = [str(p) for p in pd.period_range("2022-01", periods=24, freq="M")]
    fitted = np.r_[np.linspace(700, 720, 13), np.linspace(640, 600, 11)]
    return pd.DataFrame({"month": months, "observed": fitted + np.random.default_rng(3).normal(0, 15, 24),
                         "fitted": fitted, "counterfactual": np.linspace(700, 740, 24)})


def intervals(nominal: str) -> pd.DataFrame:
    rank = np.arange(1, len(UNITS) + 1)
    return pd.DataFrame({"unit_name": UNITS, nominal: rank, "rank_median": rank + 0.5,
                         "rank_p05": np.maximum(rank - 2, 1), "rank_p95": np.minimum(rank + 3, len(UNITS))})


def sobol_frame() -> pd.DataFrame:
    df = pd.DataFrame({"factor": ["weights", "normalisation", "aggregation", "star_rule"],
                       "S1": [0.42, 0.3, 0.1, 0.01], "ST": [0.5, 0.41, 0.16, 0.04]})
    for c in ("S1", "ST"):
        df[f"{c}_lower"], df[f"{c}_upper"] = df[c] - 0.05, df[c] + 0.05
    return df


def weights_frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.concat([pd.DataFrame({"scheme": s, "category": list(CATEGORY_NAMES), "weight": rng.dirichlet(np.ones(9))})
                      for s in ("nominal", "equal", "entropy", "effective_r2")], ignore_index=True)


def _profile():
    card = scorecard()
    cats = [c for c in card if c.startswith("cat_")]
    return plots.unit_profile(card.iloc[0], card[cats].median(), card[cats].max(), CATEGORY_NAMES)


def decomposition_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = len(UNITS)
    rank_from, rank_to = rng.permutation(n) + 1, rng.permutation(n) + 1
    method = rng.integers(-2, 3, n)
    return pd.DataFrame({"unit_id": [f"XL{i + 1:02d}" for i in range(n)], "unit_name": UNITS,
                         "rank_from": rank_from, "rank_to": rank_to, "method_effect": method,
                         "data_effect": rank_from - rank_to - method})


def leave_one_out_frame() -> pd.DataFrame:
    return pd.DataFrame({"category": list(CATEGORY_NAMES), "category_name": list(CATEGORY_NAMES.values()),
                         "mean_abs_rank_shift": np.linspace(0.2, 2.6, 9), "max_abs_rank_shift": np.arange(1, 10)})


def _history():
    months = [str(p) for p in pd.period_range("2022-01", periods=15, freq="M")]
    s = pd.Series(np.linspace(70, 93, 15), index=months)
    return plots.index_history(s, unit_name="永宁社区", town=s * 0 + 85)


CHARTS = {
    "ranking_bar": lambda: plots.ranking_bar(scorecard(), sample=True),
    "rank_bump": lambda: plots.rank_bump(scorecard(), highlight=["XL01"]),
    "category_heatmap": lambda: plots.category_heatmap(scorecard(), CATEGORY_NAMES),
    "star_distribution": lambda: plots.star_distribution(scorecard()),
    "unit_profile": _profile,
    "index_history": _history,
    "funnel_plot": lambda: plots.funnel_plot(*funnel_frames(), measure="电诈警情"),
    "control_small_multiples": lambda: plots.control_small_multiples(control_frame(), ncols=3),
    "its_plot": lambda: plots.its_plot(its_frame(), "2023-02"),
    "caterpillar": lambda: plots.caterpillar(intervals("rank")),
    "rank_uncertainty": lambda: plots.rank_uncertainty(intervals("rank_nominal")),
    "sobol_bar": lambda: plots.sobol_bar(sobol_frame()),
    "weights_compare": lambda: plots.weights_compare(weights_frame(), CATEGORY_NAMES),
    "decomposition_bar": lambda: plots.decomposition_bar(decomposition_frame(), n=5, highlight="XL07"),
    "leave_one_out_bar": lambda: plots.leave_one_out_bar(leave_one_out_frame()),
}


@pytest.fixture(autouse=True)
def _strict_warnings():
    """Any warning the charts raise (matplotlib's "Glyph ... missing from font", pandas deprecations)
    fails the test; another test's garbage-collected sockets do not (:func:`tests.helpers.strict_warnings`)."""
    with strict_warnings():
        yield


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_chart_saves_valid_reproducible_png(name, tmp_path):
    fig = CHARTS[name]()
    assert isinstance(fig, Figure)
    first, second = tmp_path / f"{name}.png", tmp_path / f"{name}_again.png"
    assert plots.save_figure(fig, first) == first
    plots.save_figure(fig, second)
    assert first.read_bytes() == second.read_bytes()  # same figure saved twice
    rebuilt = plots.save_figure(CHARTS[name](), tmp_path / f"{name}_rebuilt.png")
    assert rebuilt.read_bytes() == first.read_bytes()  # same data, same chart
    with Image.open(first) as img:
        img.verify()
    with Image.open(first) as img:
        w, h = fig.get_size_inches() * plots.DPI
        assert img.format == "PNG"
        assert abs(img.size[0] - w) <= 1 and abs(img.size[1] - h) <= 1  # figure size at DPI
        assert img.size[0] > 300 and img.size[1] > 200
        assert "Software" not in img.info  # no version or timestamp metadata


def test_svg_and_pdf_are_reproducible(tmp_path):
    fig = plots.ranking_bar(scorecard())
    for ext in ("svg", "pdf"):
        p1, p2 = plots.save_figure(fig, tmp_path / f"a.{ext}"), plots.save_figure(fig, tmp_path / f"b.{ext}")
        assert p1.read_bytes() == p2.read_bytes()


def test_star_palette_is_fixed():
    assert list(plots.STAR_COLOURS) == [5, 4, 3, 2, 1]
    assert len(set(plots.STAR_COLOURS.values())) == 5


def test_ranking_bar_order_and_labels():
    card = scorecard()
    ax = plots.ranking_bar(card).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    best = card.sort_values("rank").iloc[0]
    assert labels[0] == f"{best['rank']}. {best['unit_name']}"
    assert any(t.get_text().endswith("★" * int(best["stars"])) for t in ax.texts)


def test_bump_marks_new_unit_and_movement():
    card = scorecard()
    texts = [t.get_text() for t in plots.rank_bump(card).axes[0].texts]
    new_unit = card.loc[card["rank_prev"].isna(), "unit_name"].iloc[0]
    assert any(t.endswith(f"{new_unit} 新") for t in texts)
    assert any("↑" in t for t in texts) and any("↓" in t for t in texts)


def test_heatmap_without_names_uses_codes():
    ax = plots.category_heatmap(scorecard().drop(columns=["cat_fire"])).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["public_order", "fraud"]


def test_profile_flags_weak_categories_in_red():
    card = scorecard()
    cats = [c for c in card if c.startswith("cat_")]
    fig = plots.unit_profile(card.iloc[0], card[cats].median(), card[cats].max(), CATEGORY_NAMES)
    red = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_color() == FALL]
    weak = [CATEGORY_NAMES[c[4:]] for c in cats if card.iloc[0][c] < card[cats].median()[c]]
    assert [r.split()[0] for r in red] == weak
    assert "体检表" in fig._suptitle.get_text()


def test_stats_spellings_are_the_ones_drawn():
    """The charts read the columns qyb.stats and qyb.movements produce: population / target / lower_95 /
    upper_99_8 (funnel), unit_name / month / u / centre / lower / upper / special (control charts)."""
    df, lim = funnel_frames()
    assert isinstance(plots.funnel_plot(df, lim), Figure)
    per_unit = df.assign(**{c: np.interp(df["population"], lim["population"], lim[c])
                            for c in ("target", "lower_95", "upper_95", "lower_99_8", "upper_99_8")})
    assert isinstance(plots.funnel_plot(per_unit), Figure)
    assert isinstance(plots.control_small_multiples(control_frame()), Figure)
    # the frames of qyb.movements, straight from the sample
    from qyb.movements import control_frame as movement_control
    from qyb.movements import funnel_frame

    panel = qyb.load("2023-03").panel
    frame = funnel_frame(panel, "2023-03")
    assert isinstance(plots.funnel_plot(frame.units, frame.limits), Figure)
    assert isinstance(plots.control_small_multiples(movement_control(panel, "2023-03")), Figure)
    # other spellings are a clear error naming the columns expected
    old = lim.rename(columns={"population": "exposure", "target": "centre", "lower_95": "lower95"})
    with pytest.raises(ValueError, match="lower_95"):
        plots.funnel_plot(df, old)
    with pytest.raises(ValueError, match="special"):
        plots.control_small_multiples(control_frame().rename(columns={"lower": "lcl", "upper": "ucl",
                                                                      "special": "signal"}))


def test_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match="stars"):
        plots.ranking_bar(scorecard().drop(columns="stars"))
    with pytest.raises(ValueError, match="S1_lower"):
        plots.sobol_bar(sobol_frame().drop(columns="S1_lower"))


def test_labels_and_stars_helpers():
    assert plots.stars_text(3) == "★★★" and plots.stars_text(2) == "★★"  # one star glyph (qyb.vocab)
    assert plots.stars_text(np.nan) == "" and plots.stars_text(None) == ""
    assert plots.zh_label("fraud", CATEGORY_NAMES) == "反电诈\nfraud"
    assert plots.zh_label("entropy", sep=" ") == "熵权法 entropy"
    assert plots.zh_label("unknown_code") == "unknown_code"


def test_notebook_display_hook(monkeypatch):
    """Under IPython a returned Figure is shown as PNG (our figures bypass pyplot's inline backend)."""
    registered = {}

    class Formatter:
        def for_type(self, cls, func):
            registered[cls] = func

    class Shell:
        display_formatter = type("DF", (), {"formatters": {"image/png": Formatter()}})()

    fake = type(sys)("IPython")
    fake.get_ipython = lambda: Shell()
    with monkeypatch.context() as m:  # only while registering: matplotlib inspects IPython too
        m.setitem(sys.modules, "IPython", fake)
        _register_notebook_display()
    png = registered[Figure](plots.star_distribution(scorecard()))
    assert png.startswith(b"\x89PNG")


def test_funnel_colours_follow_the_exact_flag_when_given():
    from matplotlib.colors import to_hex

    df, lim = funnel_frames()
    df = df.copy()
    df["flag"] = "正常范围"
    df.loc[df.index[0], "flag"] = "显著偏高 (99.8%)"
    df.loc[df.index[1], "flag"] = "偏低 (95%)"
    fig = plots.funnel_plot(df, lim)
    colours = [to_hex(c) for c in fig.axes[0].collections[0].get_facecolors()]
    assert colours[0] == to_hex(plots.STAR_COLOURS[1]) and colours[1] == to_hex(plots.STAR_COLOURS[2])
    assert all(c not in (to_hex(plots.STAR_COLOURS[1]), to_hex(plots.STAR_COLOURS[2])) for c in colours[2:])
