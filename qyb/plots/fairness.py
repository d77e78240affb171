"""Charts of the fairness section of the method review (notebook 03): interval coverage before and after,
and the frontier of reliability against responsiveness."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from qyb.plots.base import HIGHLIGHT, STAR_COLOURS, _figure, _finish, _num, _require

__all__ = ["coverage_bars", "frontier_chart"]


def coverage_bars(table: pd.DataFrame, *, source: str = "truth",
                  title: str | None = "90% 排名区间的覆盖率 (coverage of the 90% rank intervals)",
                  sample: bool = False) -> Figure:
    """Coverage of the true rank, all units and the extreme ones, per method, for the two interval models:
    rows of ``tables/reliability.csv`` (``method, figure, detail`` and the ``source`` column)."""
    _require(table, ["method", "figure", "detail", source], "reliability table")
    methods = list(dict.fromkeys(table["method"]))
    fig = _figure(1.6 * len(methods) + 3.5, 3.8)
    ax = fig.add_subplot()
    bars = [("bootstrap", "coverage_overall", "原方法：全部", STAR_COLOURS[2]),
            ("bootstrap", "coverage_extreme", "原方法：首尾三名", STAR_COLOURS[1]),
            ("posterior", "coverage_overall", "新方法：全部", STAR_COLOURS[4]),
            ("posterior", "coverage_extreme", "新方法：首尾三名", HIGHLIGHT)]
    x = np.arange(len(methods))
    width = 0.8 / len(bars)
    for k, (model, figure, name, colour) in enumerate(bars):
        rows = table[(table["figure"] == figure) & (table["detail"] == model)].set_index("method")
        v = _num(rows.reindex(methods)[source])
        ax.bar(x + (k - 1.5) * width, v, width, color=colour, label=name)
    ax.axhline(0.9, color="black", lw=0.8, ls="--", label="应有 90%")
    ax.set_xticks(x, methods)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("包含真实名次的比例")
    ax.legend(fontsize=8, frameon=False, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)


def frontier_chart(frontier: pd.DataFrame, methods: pd.DataFrame | None = None, *,
                   title: str | None = "稳与快的取舍 (reliability vs responsiveness)",
                   sample: bool = False) -> Figure:
    """Index reliability (x) against P(star up in month 3 of a sustained 30 % fall) (y), one point per
    candidate (``rate_window``; a line per ``star_rule`` and ``shrink``), with the goals (0.7, 0.8) dashed;
    ``methods`` (optional:
    ``method, index_reliability, p_rise_3m``) adds the methods themselves."""
    _require(frontier, ["candidate", "rate_window", "star_rule", "index_reliability", "p_rise_3m"], "frontier")
    fig = _figure(7.2, 4.6)
    ax = fig.add_subplot()
    keys = ["star_rule", "shrink"] if "shrink" in frontier.columns else ["star_rule"]
    for k, (key, part) in enumerate(frontier.groupby(keys, sort=False)):
        key = key if isinstance(key, tuple) else (key,)
        rule, shrink = key[0], (key[1] if len(key) > 1 else "none")
        part = part.sort_values("rate_window")
        colour = (HIGHLIGHT, STAR_COLOURS[1], STAR_COLOURS[4], STAR_COLOURS[2])[k % 4]
        label = {"bands": "星级按与中位数差距划档", "shares": "星级按比例分配"}.get(str(rule), str(rule))
        label += "，发案率收缩" if shrink == "eb" else ""
        ax.plot(_num(part["index_reliability"]), _num(part["p_rise_3m"]), "-o" if shrink != "eb" else "--s",
                color=colour, label=label, ms=5)
        for r in part.itertuples():
            ax.annotate(f"{int(r.rate_window)} 个月", (r.index_reliability, r.p_rise_3m), fontsize=7.5,
                        xytext=(4, 4), textcoords="offset points")
    if methods is not None and len(methods):
        ax.scatter(_num(methods["index_reliability"]), _num(methods["p_rise_3m"]), marker="s", color="black",
                   zorder=3, label="各评分办法")
        for r in methods.itertuples():
            ax.annotate(str(r.method), (r.index_reliability, r.p_rise_3m), fontsize=8, xytext=(4, -10),
                        textcoords="offset points")
    ax.axvline(0.7, color="grey", lw=0.8, ls="--")
    ax.axhline(0.8, color="grey", lw=0.8, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("指数信度（差异中非偶然部分）")
    ax.set_ylabel("发案持续下降 30% 后第 3 个月星级上升的概率")
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    ax.spines[["top", "right"]].set_visible(False)
    return _finish(fig, title, sample)
