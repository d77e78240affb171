"""Charts of the 平安晴雨表 with Chinese labels, drawn with the bundled CJK font.

Every chart function takes pandas objects and returns a :class:`matplotlib.figure.Figure`
built without pyplot (no global figure state, safe under the Agg backend and in
loops over 29 units); nothing is written to disk except by :func:`save_figure`.

Importing this module registers the bundled font (``qyb/fonts/QybSansSC-Regular.otf``,
a subset of Noto Sans CJK SC under the SIL Open Font License) via
:func:`use_cjk_font`, so unit and indicator names render on machines without
CJK system fonts.

Inputs follow the scorecard contract: ``unit_id, unit_name, index (0-100),
stars (1-5), rank (1 = best), rank_prev, rank_change, cat_<code> (0-100)``;
Chinese category names come as a mapping ``code -> name`` (e.g. from the
method spec).  Labels are Chinese first with English codes alongside.
"""
from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = [
    "FONT_PATH", "FONT_FAMILY", "STAR_COLOURS", "DPI", "DISPLAY_DPI",
    "use_cjk_font", "save_figure", "stars_text", "mark_sample",
    "ranking_bar", "rank_bump", "category_heatmap", "unit_profile", "index_history",
    "funnel_plot", "control_small_multiples", "its_plot", "caterpillar",
    "rank_uncertainty", "sobol_bar", "weights_compare", "star_distribution",
]

FONT_PATH = Path(__file__).resolve().parents[1] / "fonts" / "QybSansSC-Regular.otf"
FONT_FAMILY = "Qyb Sans SC"
#: resolution of :func:`save_figure`
DPI = 150

#: fixed star palette, 5★ dark green … 1★ red (ColorBrewer RdYlGn, colour-blind-checked order)
STAR_COLOURS: dict[int, str] = {
    5: "#1a7837",
    4: "#78c679",
    3: "#fdd835",
    2: "#fd8d3c",
    1: "#d7301f",
}
NEUTRAL = "#9e9e9e"
HIGHLIGHT = "#1f5fbf"
RISE, FALL = STAR_COLOURS[5], STAR_COLOURS[1]

#: Chinese labels for codes that appear in the statistics and method-review tables
CODE_NAMES: dict[str, str] = {
    # uncertainty factors (Sobol)
    "weights": "权重", "normalisation": "标准化方法", "normalization": "标准化方法",
    "aggregation": "加权方式", "star_rule": "星级规则", "imputation": "缺失值处理",
    # weighting schemes
    "nominal": "名义权重", "expert": "专家权重", "equal": "等权", "entropy": "熵权法",
    "critic": "CRITIC", "std": "标准差法", "pca": "主成分法", "effective": "有效权重",
    "effective_r2": "有效权重 (r²)", "effective_eta2": "有效权重 (η²)", "effective_s1": "有效权重 (S1)",
}


# --------------------------------------------------------------------------- font

def use_cjk_font() -> str:
    """Register the bundled CJK font with matplotlib and put it first; return its family name.

    Sets ``font.family = sans-serif`` with the bundled face at the head of
    ``font.sans-serif`` (the previous entries stay behind it as fallbacks) and
    ``axes.unicode_minus = False`` (the hyphen-minus is in every font).  Idempotent.
    """
    if not FONT_PATH.is_file():
        raise FileNotFoundError(f"bundled font missing: {FONT_PATH} (see qyb/fonts/README.md)")
    fm = font_manager.fontManager
    if not any(Path(f.fname) == FONT_PATH for f in fm.ttflist):
        fm.addfont(str(FONT_PATH))
        # Only the Regular face ships: let bold requests resolve to it quietly instead of
        # logging "Failed to find font weight bold" (matplotlib draws no faux bold anyway).
        regular = next(f for f in fm.ttflist if Path(f.fname) == FONT_PATH)
        fm.ttflist.append(dataclasses.replace(regular, weight=700))
        if hasattr(fm, "_findfont_cached"):  # private cache of findfont results
            fm._findfont_cached.cache_clear()
    rc = matplotlib.rcParams
    rest = [f for f in rc["font.sans-serif"] if f != FONT_FAMILY]
    rc["font.sans-serif"] = [FONT_FAMILY, *rest]
    rc["font.family"] = ["sans-serif"]
    rc["axes.unicode_minus"] = False
    return FONT_FAMILY


def save_figure(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` reproducibly (same figure, same bytes).

    PNG by default (fixed ``dpi``); ``.svg`` and ``.pdf`` also work.  Metadata that
    would vary between runs (software version, creation date, SVG ids) is left out.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    metadata = {"png": {"Software": None},
                "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
                "svg": {"Creator": None, "Date": None}}.get(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "qyb"}):
        fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
    return path


# --------------------------------------------------------------------------- helpers

def stars_text(n, total: int = 0) -> str:
    """``3 -> '★★★'``; with ``total=5``: ``'★★★☆☆'``."""
    n = int(n)
    return "★" * n + "☆" * max(total - n, 0)


def zh_label(code: str, names: Mapping[str, str] | None = None, sep: str = "\n") -> str:
    """Chinese name first, code alongside: ``'社会治安\\npublic_order'``; the code alone if unnamed."""
    names = {**CODE_NAMES, **(names or {})}
    name = names.get(code)
    return f"{name}{sep}{code}" if name and name != code else str(code)


def _figure(width: float, height: float, layout: str | None = "constrained", **kw) -> Figure:
    """A pyplot-free figure; ``layout=None`` for grids of many axes placed by ``subplots_adjust``
    (constrained layout costs about a second for 30 small axes)."""
    use_cjk_font()  # cheap; survives a user's rcParams reset
    return Figure(figsize=(width, height), layout=layout, **kw)


def mark_sample(fig: Figure, text: str = "示例数据 (synthetic sample data)") -> Figure:
    """Stamp a visible 示例数据 banner on a figure fed by the synthetic sample."""
    fig.text(0.995, 0.995, text, ha="right", va="top", fontsize=8, color="#b71c1c",
             bbox={"boxstyle": "round,pad=0.25", "fc": "#fff3e0", "ec": "#b71c1c", "lw": 0.6})
    return fig


def _finish(fig: Figure, title: str | None, sample: bool) -> Figure:
    """Title, optional 示例数据 banner, then fix the layout.

    Constrained layout is run once and then frozen: repeated draws of some layouts
    (colorbars, rotated tick labels) otherwise drift by a pixel between saves, and a
    frozen figure shows in a notebook exactly as :func:`save_figure` writes it.  To
    re-flow after adding artists: ``fig.set_layout_engine("constrained")``.
    """
    if title:
        fig.suptitle(title, fontsize=12)
    if sample:
        mark_sample(fig)
    if fig.get_layout_engine() is not None:
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
    return fig


def _num(s) -> np.ndarray:
    """Float array from a column that may be nullable Int64 (pd.NA -> NaN)."""
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _require(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")


def _by_rank(scorecard: pd.DataFrame) -> pd.DataFrame:
    _require(scorecard, ["unit_name", "index", "stars", "rank"], "scorecard")
    return scorecard.assign(_i=_num(scorecard["index"])).sort_values(
        ["rank", "_i", "unit_name"], ascending=[True, False, True], kind="stable")


def _category_codes(scorecard: pd.DataFrame, category_names: Mapping[str, str] | None) -> list[str]:
    have = [c[4:] for c in scorecard.columns if c.startswith("cat_")]
    if category_names:
        ordered = [c for c in category_names if c in have]
        return ordered + [c for c in have if c not in ordered]
    return have


def _star_legend(ax, stars: Iterable[int] = (5, 4, 3, 2, 1), **kw) -> None:
    handles = [Patch(color=STAR_COLOURS[s], label=f"{stars_text(s)} {s}星") for s in stars]
    ax.legend(handles=handles, title="星级 (stars)", fontsize=8, title_fontsize=8, **kw)


def _movement(change) -> str:
    """``+3 -> '↑3'``, ``-2 -> '↓2'``, ``0 -> '–'``, NaN -> '新' (no previous rank)."""
    if change is None or pd.isna(change):
        return "新"
    change = int(change)
    return f"↑{change}" if change > 0 else f"↓{-change}" if change < 0 else "–"


def _text_colour(rgba) -> str:
    r, g, b = to_rgb(rgba)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


# --------------------------------------------------------------------------- 榜单 (issue 3)

def ranking_bar(scorecard: pd.DataFrame, *, title: str | None = "平安形势指数排名 (index ranking)",
                sample: bool = False) -> Figure:
    """Horizontal bars of the 平安形势指数 by unit, best at the top, coloured by stars, ★ at bar ends."""
    card = _by_rank(scorecard)
    n = len(card)
    fig = _figure(8, 0.27 * n + 1.3)
    ax = fig.add_subplot()
    y = np.arange(n)
    stars = card["stars"].astype(int).to_numpy()
    ax.barh(y, card["_i"], color=[STAR_COLOURS[s] for s in stars], height=0.72)
    for yi, v, s in zip(y, card["_i"], stars):
        ax.text(v + 0.8, yi, f"{v:.1f} {stars_text(s)}", va="center", fontsize=7.5)
    ax.set_yticks(y, [f"{int(r)}. {u}" for r, u in zip(card["rank"], card["unit_name"])], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel("平安形势指数 (index, 0–100)")
    ax.spines[["top", "right"]].set_visible(False)
    _star_legend(ax, loc="lower right", framealpha=0.9)
    return _finish(fig, title, sample)


def rank_bump(scorecard: pd.DataFrame, *, highlight: Iterable[str] = (), n_movers: int = 3,
              prev_col: str = "rank_prev", labels: tuple[str, str] = ("上月 (previous)", "本月 (current)"),
              title: str | None = "排名变化 (rank movement)", sample: bool = False) -> Figure:
    """Slope chart from the previous rank to the current rank (1 at the top).

    The ``n_movers`` largest rises (green) and falls (red) and the units in ``highlight``
    (unit_id or unit_name, blue) are drawn strong; the rest grey.  Units without a
    previous rank show only their current point.  ``prev_col`` may be
    ``rank_prev_published`` to show the rank as published under the method then in force.
    """
    card = _by_rank(scorecard)
    _require(card, [prev_col], "scorecard")
    now, prev = _num(card["rank"]), _num(card[prev_col])
    change = prev - now
    n = len(card)
    order = np.argsort(-np.abs(np.nan_to_num(change)), kind="stable")
    movers = set(order[:n_movers][np.nan_to_num(np.abs(change[order[:n_movers]])) > 0])
    wanted = set(map(str, highlight))
    ids = card["unit_id"].astype(str).to_numpy() if "unit_id" in card else np.full(n, "")
    names = card["unit_name"].astype(str).to_numpy()
    fig = _figure(7.5, 0.24 * n + 1.6)
    ax = fig.add_subplot()
    prev_pos = np.empty(n)  # label rows on the left, in previous-rank order (ties spread)
    has_prev = ~np.isnan(prev)
    prev_pos[has_prev] = np.argsort(np.argsort(prev[has_prev], kind="stable"), kind="stable") + 1
    for i in range(n):
        strong = ids[i] in wanted or names[i] in wanted
        colour = HIGHLIGHT if strong else (RISE if change[i] > 0 else FALL) if i in movers else NEUTRAL
        style = {"color": colour, "lw": 2.4 if (strong or i in movers) else 0.9,
                 "alpha": 1 if (strong or i in movers) else 0.6, "zorder": 3 if colour != NEUTRAL else 2}
        if has_prev[i]:
            ax.plot([0, 1], [prev[i], now[i]], marker="o", ms=3.5, **style)
            ax.text(-0.03, prev_pos[i], f"{names[i]} {int(prev[i])}", ha="right", va="center",
                    fontsize=7.5, color=colour if colour != NEUTRAL else "black")
        else:
            ax.plot([1], [now[i]], marker="o", ms=3.5, **style)
        ax.text(1.03, i + 1, f"{int(now[i])} {names[i]} {_movement(change[i])}", ha="left",
                va="center", fontsize=7.5, color=colour if colour != NEUTRAL else "black")
    ax.set_ylim(n + 0.6, 0.4)
    ax.set_xlim(-0.55, 1.55)
    ax.set_xticks([0, 1], labels)
    ax.set_yticks([])
    ax.tick_params(axis="x", length=0)
    ax.spines[["top", "right", "left", "bottom"]].set_visible(False)
    return _finish(fig, title, sample)


def category_heatmap(scorecard: pd.DataFrame, category_names: Mapping[str, str] | None = None, *,
                     title: str | None = "分类得分 (category scores)", sample: bool = False) -> Figure:
    """Units (rows, by rank) × categories (columns) heatmap of ``cat_`` scores, annotated."""
    card = _by_rank(scorecard)
    codes = _category_codes(card, category_names)
    if not codes:
        raise ValueError("scorecard has no cat_<code> columns")
    values = card[[f"cat_{c}" for c in codes]].to_numpy(dtype=float)
    fig = _figure(1.0 * len(codes) + 3.2, 0.26 * len(card) + 1.9)
    ax = fig.add_subplot()
    im = ax.imshow(values, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=7,
                    color=_text_colour(im.cmap(im.norm(v))))
    ax.set_xticks(range(len(codes)), [zh_label(c, category_names) for c in codes], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(card)), [f"{int(r)}. {u}" for r, u in zip(card["rank"], card["unit_name"])],
                  fontsize=8)
    ax.tick_params(length=0)
    fig.colorbar(im, ax=ax, shrink=0.5, label="得分 (score, 0–100)")
    return _finish(fig, title, sample)


def star_distribution(scorecard: pd.DataFrame, *, title: str | None = "星级分布 (units by stars)",
                      sample: bool = False) -> Figure:
    """Number of units in each star tier, 5★ to 1★."""
    _require(scorecard, ["stars"], "scorecard")
    tiers = [5, 4, 3, 2, 1]
    counts = scorecard["stars"].astype(int).value_counts().reindex(tiers, fill_value=0)
    fig = _figure(6, 3.4)
    ax = fig.add_subplot()
    bars = ax.bar(range(5), counts.to_numpy(), color=[STAR_COLOURS[s] for s in tiers])
    ax.bar_label(bars, [f"{c} 个" for c in counts], fontsize=9)
    ax.set_xticks(range(5), [f"{stars_text(s, 5)}\n{s}星" for s in tiers], fontsize=9)
    ax.set_ylabel("村(社区)数 (units)")
    ax.set_ylim(0, max(counts.max(), 1) * 1.18)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


# --------------------------------------------------------------------------- 体检表 (issue 3)

def _by_code(s, codes: list[str]) -> np.ndarray:
    """Values of a Series/mapping indexed by ``code`` or ``cat_code``, in ``codes`` order."""
    s = pd.Series(s, dtype=object)
    s.index = [str(k)[4:] if str(k).startswith("cat_") else str(k) for k in s.index]
    return _num(s.reindex(codes))


def unit_profile(unit_row, town_median, town_best, category_names: Mapping[str, str] | None = None, *,
                 title: str | None = None, sample: bool = False) -> Figure:
    """A unit's 体检表: each category score against the town median (|) and best (◆).

    ``unit_row`` is one scorecard row (Series or dict); ``town_median`` / ``town_best``
    are indexed by category code or by the ``cat_`` column name.  Categories below
    the median are labelled in red (短板).
    """
    row = pd.Series(unit_row)
    codes = _category_codes(row.to_frame().T, category_names)
    score = _by_code(row, codes)
    med, best = _by_code(town_median, codes), _by_code(town_best, codes)
    stars = int(row.get("stars", 3))
    fig = _figure(7.5, 0.42 * len(codes) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(codes))
    ax.barh(y, score, color=STAR_COLOURS[stars], height=0.6, label="本单位 (unit)")
    ax.scatter(med, y, marker="|", s=260, color="black", lw=2, zorder=3, label="全镇中位数 (town median)")
    ax.scatter(best, y, marker="D", s=28, color=STAR_COLOURS[5], edgecolor="white", zorder=4,
               label="全镇最好 (town best)")
    for yi, v in zip(y, score):
        if not np.isnan(v):
            inside = v >= 12
            ax.text(v - 3.5 if inside else v + 1.5, yi, f"{v:.0f}", va="center", ha="right" if inside else "left",
                    fontsize=7.5, color=_text_colour(STAR_COLOURS[stars]) if inside else "#333333", zorder=5)
    ax.set_yticks(y, [zh_label(c, category_names, sep=" ") for c in codes], fontsize=8.5)
    for tick, weak in zip(ax.get_yticklabels(), score < med):
        if weak:
            tick.set_color(FALL)
    ax.invert_yaxis()
    ax.set_xlim(0, 108)
    ax.set_xlabel("分类得分 (category score, 0–100);红色为低于全镇中位数的短板")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, fontsize=7.5, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title is None:
        bits = [f"{row.get('unit_name', '')} 体检表"]
        if "index" in row:
            bits.append(f"平安形势指数 {float(row['index']):.1f} {stars_text(stars)}")
        if "rank" in row:
            bits.append(f"第 {int(row['rank'])} 名 {_movement(row.get('rank_change'))}")
        title = " · ".join(bits)
    return _finish(fig, title, sample)


def index_history(series_by_month, *, unit_name: str = "", town=None, months: int = 12,
                  title: str | None = None, sample: bool = False) -> Figure:
    """A unit's 平安形势指数 over the last ``months`` months (optionally beside a town series)."""
    s = pd.Series(series_by_month, dtype=float).sort_index().iloc[-months:]
    labels = [str(m) for m in s.index]
    fig = _figure(7, 3.2)
    ax = fig.add_subplot()
    x = np.arange(len(s))
    if town is not None:
        t = pd.Series(town, dtype=float)
        t.index = t.index.map(str)
        ax.plot(x, t.reindex(labels).to_numpy(), color=NEUTRAL, lw=1.2, ls="--", label="全镇中位数 (town median)")
    ax.plot(x, s.to_numpy(), color=HIGHLIGHT, lw=2, marker="o", ms=4, label=unit_name or "本单位 (unit)")
    if len(s):
        ax.annotate(f"{s.iloc[-1]:.1f}", (x[-1], s.iloc[-1]), xytext=(4, 6), textcoords="offset points",
                    fontsize=8, color=HIGHLIGHT)
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    lo, hi = np.nanmin(s.to_numpy(), initial=100), np.nanmax(s.to_numpy(), initial=0)
    ax.set_ylim(max(0, min(lo, 100) - 8), min(100, max(hi, 0) + 8) + 2)
    ax.set_ylabel("平安形势指数 (index)")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title or f"{unit_name} 近{len(s)}个月平安形势指数 (index, last {len(s)} months)", sample)


# --------------------------------------------------------------------------- statistics (issue 4)

def _col(df: pd.DataFrame, *names: str, what: str = "data") -> str:
    """The first of ``names`` present in ``df`` (accepts both the brief's and qyb.stats' spellings)."""
    for n in names:
        if n in df.columns:
            return n
    raise ValueError(f"{what}: need one of the columns {list(names)}; got {list(df.columns)}")


def funnel_plot(df: pd.DataFrame, limits: pd.DataFrame | None = None, *, label: str = "unit_name",
                per: float = 10000, measure: str = "", title: str | None = "漏斗图 (funnel plot)",
                sample: bool = False) -> Figure:
    """Rates against exposure with the centre line and 95% / 99.8% control limits.

    ``df``: ``unit_name``, ``population`` (or ``exposure``), ``rate``; ``limits``: a grid
    with the same exposure column, ``centre`` (or ``target``), ``lower95, upper95,
    lower998, upper998`` (or qyb.stats' ``lower_95 … upper_99_8``).  Without ``limits``
    the per-unit limit columns of ``df`` itself are used (the output of
    :func:`qyb.stats.funnel_rates`).  Units beyond 99.8% are red and named, beyond 95% orange;
    where ``df`` has the ``flag`` column of :func:`qyb.stats.funnel_rates`, it decides (exact test).
    """
    x_col = _col(df, "population", "exposure", what="funnel data")
    lim = (df if limits is None else limits).copy()
    lx = _col(lim, x_col, "exposure", "population", what="funnel limits")
    lim = lim.sort_values(lx)
    c = {k: _col(lim, *names, what="funnel limits") for k, names in {
        "centre": ("centre", "target"), "lo95": ("lower95", "lower_95"), "hi95": ("upper95", "upper_95"),
        "lo998": ("lower998", "lower_99_8"), "hi998": ("upper998", "upper_99_8")}.items()}
    fig = _figure(7.5, 4.8)
    ax = fig.add_subplot()
    ax.plot(lim[lx], lim[c["centre"]], color="black", lw=1.2, label="全镇水平 (town rate)")
    for lo, hi, ls, name in (("lo95", "hi95", "--", "95% 控制限 (limits)"), ("lo998", "hi998", ":", "99.8% 控制限 (limits)")):
        ax.plot(lim[lx], lim[c[lo]], color="#555555", ls=ls, lw=1, label=name)
        ax.plot(lim[lx], lim[c[hi]], color="#555555", ls=ls, lw=1)
    x, rate = _num(df[x_col]), _num(df["rate"])
    bounds = {k: (np.interp(x, lim[lx], lim[c[k]]) if limits is not None else _num(df[c[k]]))
              for k in ("lo95", "hi95", "lo998", "hi998")}
    if "flag" in df.columns:  # the statistics' own verdict (an exact test) decides the colour
        flag = df["flag"].astype(str)
        out998 = flag.str.startswith("显著").to_numpy()
        out95 = (flag.str.contains("偏") & ~flag.str.startswith("显著")).to_numpy()
    else:
        out998 = (rate < bounds["lo998"]) | (rate > bounds["hi998"])
        out95 = ((rate < bounds["lo95"]) | (rate > bounds["hi95"])) & ~out998
    colours = np.where(out998, STAR_COLOURS[1], np.where(out95, STAR_COLOURS[2], HIGHLIGHT))
    ax.scatter(x, rate, c=colours, s=28, edgecolor="white", lw=0.5, zorder=3)
    names = df[label].astype(str).to_numpy() if label in df else np.full(len(df), "")
    flagged = np.flatnonzero(out95 | out998)
    for k, i in enumerate(flagged[np.argsort(x[flagged], kind="stable")]):  # alternate up/down
        ax.annotate(names[i], (x[i], rate[i]), xytext=(4, 4 if k % 2 == 0 else -11),
                    textcoords="offset points", fontsize=7.5)
    ax.set_xlabel(f"人口 ({x_col})")
    ax.set_ylabel(f"{measure + ' ' if measure else ''}每万人发生率 (rate per {per:,.0f})")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def control_small_multiples(df: pd.DataFrame, *, ncols: int = 6, measure: str = "",
                            title: str | None = "各单位控制图 (control charts by unit)",
                            sample: bool = False) -> Figure:
    """A grid of small control charts, one per unit: u, centre line, limits, signals in red.

    Long frame: ``unit_name`` (or ``unit``), ``month``, ``u``, ``centre``, ``lcl``/``ucl``
    (or ``lower``/``upper`` as :func:`qyb.stats.u_chart` names them), ``signal`` (or ``special``).
    """
    unit = _col(df, "unit_name", "unit", what="control data")
    lcl, ucl = _col(df, "lcl", "lower", what="control data"), _col(df, "ucl", "upper", what="control data")
    sig = _col(df, "signal", "special", what="control data")
    units = list(dict.fromkeys(df[unit]))
    ncols = max(1, min(ncols, len(units)))
    nrows = -(-len(units) // ncols)
    height = 1.55 * nrows + 0.9
    fig = _figure(2.0 * ncols + 0.4, height, layout=None)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.99, top=1 - 0.65 / height, bottom=0.75 / height,
                        hspace=0.45, wspace=0.3)
    for ax, name in zip(axes.flat, units):
        d = df[df[unit] == name]
        x = np.arange(len(d))
        ax.step(x, d[ucl], where="mid", color="#777777", lw=0.8, ls="--")
        ax.step(x, d[lcl], where="mid", color="#777777", lw=0.8, ls="--")
        ax.plot(x, d["centre"], color="black", lw=0.8)
        ax.plot(x, d["u"], color=HIGHLIGHT, lw=1.1, marker="o", ms=2)
        s = d[sig].astype("boolean").fillna(False).to_numpy(dtype=bool)
        ax.scatter(x[s], d["u"].to_numpy()[s], color=STAR_COLOURS[1], s=16, zorder=3)
        ax.set_title(str(name), fontsize=8, pad=2)
        ax.tick_params(labelsize=6)
        ax.spines[["top", "right"]].set_visible(False)
    months = [str(m) for m in dict.fromkeys(df["month"])]
    step = max(1, len(months) // 4)
    for c in range(ncols):  # month labels under the lowest chart of each column
        ax = axes[(len(units) - 1 - c) // ncols, c]
        ax.set_xticks(range(0, len(months), step), months[::step], rotation=45, ha="right", fontsize=6)
        ax.tick_params(labelbottom=True)
    for ax in list(axes.flat)[len(units):]:
        ax.set_visible(False)
    fig.supylabel(f"{measure} 率 (u)" if measure else "率 (u)", fontsize=9)
    fig.supxlabel("月份 (month) · 虚线 = 控制限 (limits) · 红点 = 特殊原因信号 (signal)", fontsize=8)
    return _finish(fig, title, sample)


def its_plot(df: pd.DataFrame, intervention: str | None = None, *, measure: str = "",
             title: str | None = "中断时间序列 (interrupted time series)", sample: bool = False) -> Figure:
    """Observed monthly series, the fitted segmented model and the counterfactual (no mechanism).

    Columns ``month, observed, fitted, counterfactual``; ``intervention`` is the first
    month of the mechanism (default: the first month where a boolean ``intervention`` or
    ``post`` column is true).
    """
    _require(df, ["month", "observed", "fitted", "counterfactual"], "ITS data")
    months = [str(m) for m in df["month"]]
    if intervention is None:
        flag = next((c for c in ("intervention", "post") if c in df.columns), None)
        if flag is not None and df[flag].astype(bool).any():
            intervention = months[int(np.argmax(df[flag].astype(bool).to_numpy()))]
    x = np.arange(len(df))
    fig = _figure(8, 4)
    ax = fig.add_subplot()
    ax.plot(x, _num(df["observed"]), color="#444444", marker="o", ms=3, lw=0.8, label="实际值 (observed)")
    ax.plot(x, _num(df["fitted"]), color=HIGHLIGHT, lw=2, label="模型拟合 (fitted)")
    post = np.zeros(len(df), bool)
    if intervention is not None and str(intervention) in months:
        i0 = months.index(str(intervention))
        post[i0:] = True
        ax.axvline(i0 - 0.5, color=STAR_COLOURS[1], lw=1, ls="-.")
        ax.text(i0 - 0.4, 0.98, f"机制启动 {intervention}", transform=ax.get_xaxis_transform(),
                va="top", fontsize=8, color=STAR_COLOURS[1])
    cf = np.where(post | (intervention is None), _num(df["counterfactual"]), np.nan)
    ax.plot(x, cf, color=STAR_COLOURS[2], lw=1.6, ls="--", label="反事实 (counterfactual, no mechanism)")
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], months[::step], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"{measure} 全镇月度数 (town monthly)" if measure else "全镇月度数 (town monthly)")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def _interval_chart(df: pd.DataFrame, nominal: str, title: str | None, sample: bool,
                    nominal_label: str) -> Figure:
    _require(df, [nominal, "rank_median", "rank_p05", "rank_p95"], "rank intervals")
    label = _col(df, "unit_name", "unit_id", what="rank intervals")
    d = df.assign(_n=_num(df[nominal])).sort_values(["_n", label], kind="stable")
    n = len(d)
    y = np.arange(n)
    fig = _figure(7, 0.24 * n + 1.4)
    ax = fig.add_subplot()
    ax.hlines(y, _num(d["rank_p05"]), _num(d["rank_p95"]), color=HIGHLIGHT, lw=3, alpha=0.45,
              label="5–95% 区间 (interval)")
    ax.scatter(_num(d["rank_median"]), y, color=HIGHLIGHT, s=18, zorder=3, label="中位数 (median)")
    colours = [STAR_COLOURS[int(s)] for s in d["stars"]] if "stars" in d else "white"
    ax.scatter(d["_n"], y, marker="D", s=22, c=colours, edgecolor="black", lw=0.5, zorder=4)
    ax.scatter([], [], marker="D", s=22, c="white", edgecolor="black", lw=0.5, label=nominal_label)
    ax.set_yticks(y, [f"{int(r)}. {u}" for r, u in zip(d["_n"], d[label])], fontsize=8)
    ax.invert_yaxis()
    top = max(np.nanmax(_num(d["rank_p95"]), initial=1), n)
    ax.set_xlim(0.5, top + 0.5)
    ax.set_xticks([1, *range(5, int(top) + 1, 5)])
    ax.set_xlabel("排名 (rank; 1 = 最好 best)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def caterpillar(df: pd.DataFrame, *, title: str | None = "排名区间 (rank intervals, count resampling)",
                sample: bool = False) -> Figure:
    """Rank intervals sorted by nominal rank: ``unit_name, rank, rank_median, rank_p05, rank_p95``."""
    return _interval_chart(df, "rank", title, sample, "公布排名 (published rank)")


# --------------------------------------------------------------------------- method review (issue 5)

def rank_uncertainty(df: pd.DataFrame, *,
                     title: str | None = "方法不确定性下的排名 (rank under method uncertainty)",
                     sample: bool = False) -> Figure:
    """Median and 5–95% rank per unit against the nominal rank:
    ``unit_name, rank_nominal, rank_median, rank_p05, rank_p95``."""
    return _interval_chart(df, "rank_nominal", title, sample, "名义排名 (nominal rank)")


def sobol_bar(df: pd.DataFrame, factor_names: Mapping[str, str] | None = None, *,
              title: str | None = "敏感性分析 (Sobol indices)", sample: bool = False) -> Figure:
    """First-order (S1) and total (ST) Sobol indices per factor with bootstrap intervals:
    ``factor, S1, S1_lower, S1_upper, ST, ST_lower, ST_upper``."""
    _require(df, ["factor", "S1", "S1_lower", "S1_upper", "ST", "ST_lower", "ST_upper"], "Sobol table")
    d = df.assign(_st=_num(df["ST"])).sort_values("_st", ascending=False, kind="stable")
    x = np.arange(len(d))
    fig = _figure(1.1 * len(d) + 3, 3.8)
    ax = fig.add_subplot()
    for k, (col, colour, name) in enumerate((("S1", HIGHLIGHT, "一阶 S1 (first order)"),
                                            ("ST", STAR_COLOURS[2], "总效应 ST (total)"))):
        v = _num(d[col])
        err = np.vstack([v - _num(d[f"{col}_lower"]), _num(d[f"{col}_upper"]) - v]).clip(0)
        ax.bar(x + (k - 0.5) * 0.38, v, 0.38, yerr=err, capsize=3, color=colour, label=name,
               error_kw={"lw": 0.8})
    ax.set_xticks(x, [zh_label(str(f), factor_names) for f in d["factor"]], fontsize=8.5)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("Sobol 指数 (share of variance)")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def weights_compare(df: pd.DataFrame, category_names: Mapping[str, str] | None = None, *,
                    scheme_names: Mapping[str, str] | None = None,
                    title: str | None = "权重方案比较 (weights by scheme)", sample: bool = False) -> Figure:
    """Grouped bars of each category's weight under each scheme: long ``scheme, category, weight``."""
    _require(df, ["scheme", "category", "weight"], "weights table")
    table = df.pivot_table(index="category", columns="scheme", values="weight", aggfunc="first", sort=False)
    if category_names:
        table = table.reindex([c for c in category_names if c in table.index]
                              + [c for c in table.index if c not in category_names])
    schemes = list(table.columns)
    width = 0.8 / max(len(schemes), 1)
    x = np.arange(len(table))
    palette = matplotlib.colormaps["tab10"]
    fig = _figure(0.5 * len(table) * max(len(schemes), 2) / 2 + 4, 4.2)
    ax = fig.add_subplot()
    for k, s in enumerate(schemes):
        ax.bar(x + (k - (len(schemes) - 1) / 2) * width, table[s].to_numpy(float), width,
               color=palette(k % 10), label=zh_label(str(s), scheme_names, sep=" "))
    ax.set_xticks(x, [zh_label(str(c), category_names) for c in table.index], fontsize=8)
    ax.set_ylabel("权重 (weight)")
    ax.legend(fontsize=8, frameon=False, ncols=min(len(schemes), 4))
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


# --------------------------------------------------------------------------- notebooks

#: resolution of figures shown in a notebook (and in the HTML reports made from it)
DISPLAY_DPI = 110


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DISPLAY_DPI, metadata={"Software": None})
    return buf.getvalue()


def _register_notebook_display() -> None:
    """Let IPython show a returned Figure as PNG (our figures bypass pyplot, so the inline
    backend never sees them); a no-op outside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, _figure_png)


use_cjk_font()
_register_notebook_display()
