"""Charts of movements and rank uncertainty: funnel plot, control charts, interrupted time series,
rank intervals. Column names are those :mod:`qyb.stats` and :mod:`qyb.movements` produce."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from qyb.plots.base import (
    HIGHLIGHT,
    STAR_COLOURS,
    _figure,
    _finish,
    _num,
    _require,
)

__all__ = ["funnel_plot", "control_small_multiples", "its_plot", "caterpillar", "interval_chart"]

# --------------------------------------------------------------------------- statistics (issue 4)

def funnel_plot(df: pd.DataFrame, limits: pd.DataFrame | None = None, *, label: str = "unit_name",
                per: float = 10000, measure: str = "", title: str | None = "漏斗图 (funnel plot)",
                sample: bool = False) -> Figure:
    """Rates against exposure with the centre line and 95% / 99.8% control limits.

    ``df``: ``unit_name``, ``population``, ``rate`` (the per-unit frame of
    :func:`qyb.movements.funnel_frame`); ``limits``: a grid with ``population``, ``target``,
    ``lower_95, upper_95, lower_99_8, upper_99_8`` (the names :func:`qyb.stats.funnel_limits`
    gives).  Without ``limits`` the per-unit limit columns of ``df`` itself are used.  Units beyond
    99.8% are red and named, beyond 95% orange; where ``df`` has the ``flag`` column of
    :func:`qyb.stats.funnel_rates`, it decides (exact test).
    """
    x_col = lx = "population"
    _require(df, [x_col, "rate"], "funnel data")
    lim = (df if limits is None else limits).copy()
    c = {"centre": "target", "lo95": "lower_95", "hi95": "upper_95", "lo998": "lower_99_8", "hi998": "upper_99_8"}
    _require(lim, [lx, *c.values()], "funnel limits")
    lim = lim.sort_values(lx)
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
    ax.set_xlabel("常住人口 (population)")
    ax.set_ylabel(f"{measure + ' ' if measure else ''}每万人发生率 (rate per {per:,.0f})")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def control_small_multiples(df: pd.DataFrame, *, ncols: int = 6, measure: str = "",
                            title: str | None = "各单位控制图 (control charts by unit)",
                            sample: bool = False) -> Figure:
    """A grid of small control charts, one per unit: u, centre line, limits, signals in red.

    Long frame of :func:`qyb.movements.control_frame`: ``unit_name``, ``month``, ``u``, ``centre``,
    ``lower``, ``upper``, ``special`` (the names :func:`qyb.stats.u_chart` gives).
    """
    _require(df, ["unit_name", "month", "u", "centre", "lower", "upper", "special"], "control data")
    unit, lcl, ucl, sig = "unit_name", "lower", "upper", "special"
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


def interval_chart(df: pd.DataFrame, nominal: str, title: str | None, sample: bool,
                   nominal_label: str) -> Figure:
    """Intervals of ranks (5–95%) with the median and the nominal rank, one row per unit, best at
    the top: ``unit_name, <nominal>, rank_median, rank_p05, rank_p95`` (``stars`` colours the marker)."""
    _require(df, ["unit_name", nominal, "rank_median", "rank_p05", "rank_p95"], "rank intervals")
    label = "unit_name"
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
    return interval_chart(df, "rank", title, sample, "公布排名 (published rank)")
