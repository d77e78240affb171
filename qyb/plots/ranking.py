"""Charts of the 榜单 and the 体检表: index bars, rank movement, category heatmap, star distribution,
one unit's categories against the town, and its index over the months.

Inputs follow the scorecard contract: ``unit_id, unit_name, index (0-100), stars (1-5), rank (1 = best),
rank_prev, rank_change, cat_<code> (0-100)``; Chinese category names come as a mapping ``code -> name``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from qyb.plots.base import (
    FALL,
    HIGHLIGHT,
    NEUTRAL,
    RISE,
    STAR_COLOURS,
    _by_rank,
    _category_codes,
    _figure,
    _finish,
    _movement,
    _num,
    _require,
    _star_legend,
    _text_colour,
    stars_text,
    zh_label,
)
from qyb.vocab import INDEX_DECIMALS, fmt_score

__all__ = ["ranking_bar", "rank_bump", "category_heatmap", "star_distribution", "unit_profile", "index_history",
           "weather_calendar"]

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
        ax.text(v + 0.8, yi, f"{fmt_score(v, INDEX_DECIMALS)} {stars_text(s)}", va="center", fontsize=7.5)
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
    fig = _figure(0.62 * len(codes) + 2.9, 0.24 * len(card) + 1.9)  # 9 categories: 8.5 in, an A4 page wide
    ax = fig.add_subplot()
    im = ax.imshow(values, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if not np.isnan(v):  # inside its cell: not measured by the layout (the same layout, far faster)
            ax.text(c, r, fmt_score(v), ha="center", va="center", fontsize=6.5,
                    color=_text_colour(im.cmap(im.norm(v))), in_layout=False)
    ax.set_xticks(range(len(codes)), [zh_label(c, category_names) for c in codes], fontsize=7.5)
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
    ax.set_xticks(range(5), [f"{stars_text(s)}\n{s}星" for s in tiers], fontsize=9)
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
            ax.text(v - 1.5 if inside else v + 1.5, yi, fmt_score(v), va="center", ha="right" if inside else "left",
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
            bits.append(f"平安形势指数 {fmt_score(row['index'], INDEX_DECIMALS)} {stars_text(stars)}")
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
        ax.annotate(fmt_score(s.iloc[-1], INDEX_DECIMALS), (x[-1], s.iloc[-1]), xytext=(4, 6),
                    textcoords="offset points",
                    fontsize=8, color=HIGHLIGHT)
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    lo, hi = np.nanmin(s.to_numpy(), initial=100), np.nanmax(s.to_numpy(), initial=0)
    ax.set_ylim(max(0, min(lo, 100) - 8), min(100, max(hi, 0) + 8) + 2)
    ax.set_ylabel("平安形势指数 (index)")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title or f"{unit_name} 近{len(s)}个月平安形势指数 (index, last {len(s)} months)", sample)


# --------------------------------------------------------------------------- 晴雨 calendar (issue 12)

def weather_calendar(history: pd.DataFrame, *, title: str | None = "晴雨日历：各村（社区）历月公布星级",
                     sample: bool = False) -> Figure:
    """Units (rows) × months (columns), each cell coloured by the stars published that month.

    ``history``: the long published history (``unit_id, unit_name, month, stars`` and ``rank``):
    one row per unit and month. Rows follow the latest month's rank (best at the top); a cell
    shows the number of stars; a month with no figure for a unit stays white.
    """
    _require(history, ["unit_id", "unit_name", "month", "stars"], "published history")
    months = sorted(history["month"].astype(str).unique())
    latest = history[history["month"].astype(str) == months[-1]]
    order_by = "rank" if "rank" in latest else "stars"
    latest = latest.assign(_k=_num(latest[order_by]) * (1 if order_by == "rank" else -1))
    units = list(latest.sort_values(["_k", "unit_id"], kind="stable")["unit_id"])
    units += [u for u in dict.fromkeys(history["unit_id"]) if u not in set(units)]
    names = history.drop_duplicates("unit_id").set_index("unit_id")["unit_name"]
    grid = (history.assign(month=history["month"].astype(str), _s=_num(history["stars"]))
            .pivot_table(index="unit_id", columns="month", values="_s", aggfunc="last")
            .reindex(index=units, columns=months).to_numpy())
    palette = np.array(["#ffffff"] + [STAR_COLOURS[s] for s in (1, 2, 3, 4, 5)], dtype=object)
    codes = np.where(np.isnan(grid), 0, np.clip(np.nan_to_num(grid), 1, 5)).astype(int)
    from matplotlib.colors import ListedColormap

    fig = _figure(min(max(1.6 + 0.52 * len(months), 6.0), 8.3), 0.23 * len(units) + 1.9)
    ax = fig.add_subplot()
    ax.imshow(codes, cmap=ListedColormap(list(palette)), vmin=-0.5, vmax=5.5, aspect="auto",
              interpolation="nearest")
    for (r, c), s in np.ndenumerate(codes):
        if s:
            ax.text(c, r, str(s), ha="center", va="center", fontsize=6.5, color=_text_colour(palette[s]))
    ax.set_xticks(range(len(months)), [f"{m[2:4]}.{m[5:]}" for m in months], fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(units)), [str(names.get(u, u)) for u in units], fontsize=7.5)
    ax.set_xticks(np.arange(len(months) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(units) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", lw=1)
    ax.tick_params(length=0, which="both")
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    _star_legend(ax, loc="upper left", bbox_to_anchor=(0, -0.01), ncols=5, frameon=False)
    return _finish(fig, title, sample)
