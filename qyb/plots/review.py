"""Charts of the method review (notebook 03): rank under method uncertainty, Sobol' indices, weights
by scheme, the method/data decomposition of rank changes, leaving one category out."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from qyb.plots.base import HIGHLIGHT, STAR_COLOURS, _figure, _finish, _num, _require, zh_label
from qyb.plots.movements import interval_chart

__all__ = ["rank_uncertainty", "sobol_bar", "weights_compare", "decomposition_bar", "leave_one_out_bar"]



def rank_uncertainty(df: pd.DataFrame, *,
                     title: str | None = "方法不确定性下的排名 (rank under method uncertainty)",
                     sample: bool = False) -> Figure:
    """Median and 5–95% rank per unit against the nominal rank:
    ``unit_name, rank_nominal, rank_median, rank_p05, rank_p95``."""
    return interval_chart(df, "rank_nominal", title, sample, "名义排名 (nominal rank)")


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


def decomposition_bar(df: pd.DataFrame, n: int = 10, highlight: str | None = None, *,
                      title: str | None = "名次变化的方法效应与数据效应 (method vs data effect)",
                      sample: bool = False) -> Figure:
    """Stacked bars of ``method_effect`` and ``data_effect`` (places gained, + = rose) for the ``n`` units
    with the largest total change (``highlight``: a unit_id always shown)."""
    _require(df, ["unit_id", "unit_name", "rank_from", "rank_to", "method_effect", "data_effect"], "decomposition")
    d = df.assign(_abs=(df["method_effect"] + df["data_effect"]).abs())
    d = d.sort_values(["_abs", "unit_id"], ascending=[False, True], kind="stable")
    top = d.head(n)
    if highlight is not None and highlight not in set(top["unit_id"]):
        top = pd.concat([top, d[d["unit_id"] == highlight]])
    top = top.iloc[::-1]
    y = np.arange(len(top))
    fig = _figure(7, 0.32 * len(top) + 1.6)
    ax = fig.add_subplot()
    me, de = top["method_effect"].to_numpy(float), top["data_effect"].to_numpy(float)
    ax.barh(y, me, color="#8c6bb1", label="方法效应 (method effect)")
    # stack the data effect after the method effect when both point the same way, else from 0
    left = np.where(np.sign(me) == np.sign(de), me, 0.0)
    ax.barh(y, de, left=left, color="#41ab5d", label="数据效应 (data effect)")
    labels = [f"{u} ({int(a)}→{int(b)})" for u, a, b in zip(top["unit_name"], top["rank_from"], top["rank_to"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("名次变化 (places gained; + = 上升)")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def leave_one_out_bar(summary: pd.DataFrame, *, title: str | None = "逐一去掉类别后的名次变动 (leave one out)",
                      sample: bool = False) -> Figure:
    """Mean absolute rank shift when each category is left out (``category_name, mean_abs_rank_shift``)."""
    _require(summary, ["category_name", "mean_abs_rank_shift"], "leave-one-out summary")
    d = summary.sort_values("mean_abs_rank_shift")
    fig = _figure(6, 0.35 * len(d) + 1.2)
    ax = fig.add_subplot()
    ax.barh(d["category_name"], _num(d["mean_abs_rank_shift"]), color="#4292c6")
    ax.set_xlabel("平均名次变动 (mean absolute rank shift)")
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)
