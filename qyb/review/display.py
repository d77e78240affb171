"""The method review as a reader sees it: Chinese headers, names instead of codes, no row numbers.

Every function takes a section of :class:`~qyb.review.summary.MethodReview` (or the fairness review)
and returns a frame ready for ``Page.table`` in notebook 03: the machine-readable tables
(``tables/*.csv``) keep their English codes; these are for people.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from qyb.review.fairness import FIGURES, FairnessReview
from qyb.vocab import LABELS, stars_text

__all__ = ["effective_table", "town_table", "uncertainty_table", "sensitivity_table", "weights_table_zh",
           "scheme_ranks_table", "comparison_tables", "decomposition_table", "leave_one_out_table",
           "alpha_table", "pca_table", "correlation_table", "fairness_table", "story_table", "frontier_table",
           "GLOSSARY"]


def _interval(lo, hi) -> list[str]:
    return [f"{int(a)}–{int(b)}" if np.isfinite(a) and np.isfinite(b) else "" for a, b in zip(lo, hi)]


def effective_table(effective: pd.DataFrame) -> pd.DataFrame:
    """Nominal against effective weights per category."""
    e = effective
    return pd.DataFrame({"类别": e["category_name"], "名义权重": e["nominal"], "与指数的相关系数 r": e["r"],
                         "有效权重（r² 份额）": e["r2_share"], "有效权重（η² 份额）": e["eta2_share"]})


def town_table(town: pd.DataFrame) -> pd.DataFrame:
    t = town
    return pd.DataFrame({"随机组合次数": t["n_draws"], "单位数": t["n_units"],
                         "平均名次变动": t["mean_abs_rank_shift"],
                         "平均名次变动 90% 范围": [f"{a:.1f}–{b:.1f}" for a, b in
                                            zip(t["mean_abs_rank_shift_p05"], t["mean_abs_rank_shift_p95"])],
                         "最大名次变动": t["max_abs_rank_shift"], "第一名不变的比例": t["p_top_unchanged"],
                         "星级改变的比例": t["p_star_change"]})


def uncertainty_table(u: pd.DataFrame) -> pd.DataFrame:
    """Rank and stars under method uncertainty, by nominal rank."""
    u = u.sort_values(["rank_nominal", "unit_id"], kind="stable")
    out = pd.DataFrame({"村(社区)": u["unit_name"], "名义排名": u["rank_nominal"],
                        "名义星级": [stars_text(s) for s in u["stars_nominal"]],
                        "排名中位数": u["rank_median"], "排名区间（5%–95%）": _interval(u["rank_p05"], u["rank_p95"])})
    for k in range(5, 0, -1):
        out[f"{k} 星概率"] = u[f"p_star_{k}"].to_numpy()
    return out


def sensitivity_table(sens: pd.DataFrame) -> pd.DataFrame:
    s = sens
    return pd.DataFrame({"方法选择": [LABELS.get(f, f) for f in s["factor"]], "一阶指数 S1": s["S1"],
                         "S1 的 95% 区间": [f"{a:.2f}–{b:.2f}" for a, b in zip(s["S1_lower"], s["S1_upper"])],
                         "总效应指数 ST": s["ST"],
                         "ST 的 95% 区间": [f"{a:.2f}–{b:.2f}" for a, b in zip(s["ST_lower"], s["ST_upper"])]})


def weights_table_zh(weights: pd.DataFrame, categories: dict[str, str]) -> pd.DataFrame:
    """Category weights under each scheme: categories down, schemes across (Chinese names)."""
    wide = weights.pivot(index="category", columns="scheme", values="weight")
    wide = wide.reindex([c for c in categories if c in wide.index])
    wide.columns = [LABELS.get(c, c) for c in wide.columns]
    wide.insert(0, "类别", [categories[c] for c in wide.index])
    return wide.reset_index(drop=True)


def scheme_ranks_table(ranks: pd.DataFrame) -> pd.DataFrame:
    wide = ranks.pivot(index=["unit_id", "unit_name"], columns="scheme", values="rank")
    order = ["nominal"] + [c for c in wide.columns if c != "nominal"]
    wide = wide[order].sort_values("nominal", kind="stable")
    wide.columns = [LABELS.get(c, c) for c in wide.columns]
    wide = wide.reset_index().drop(columns="unit_id").rename(columns={"unit_name": "村(社区)"})
    return wide


def comparison_tables(comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary, the units most affected) of a method comparison."""
    s = comparison.summary
    summary = pd.DataFrame({"月份": s["month"], "办法 A": s["method_a"], "办法 B": s["method_b"],
                            "Kendall τ（1 = 排名完全一致）": s["kendall_tau"], "平均名次差": s["mean_abs_rank_shift"],
                            "最大名次差": s["max_abs_rank_shift"], "星级不同的单位数": s["n_star_changes"],
                            "单位数": s["n_units"]})
    m = comparison.most_affected(8)
    a, b = s["method_a"].iat[0], s["method_b"].iat[0]
    most = pd.DataFrame({"村(社区)": m["unit_name"], f"{a} 排名": m["rank_a"], f"{b} 排名": m["rank_b"],
                         f"{a} 星级": [stars_text(x) for x in m["stars_a"]],
                         f"{b} 星级": [stars_text(x) for x in m["stars_b"]], "名次差": m["rank_shift"]})
    return summary, most


def decomposition_table(dec: pd.DataFrame, unit: str | None = None) -> pd.DataFrame:
    """Method and data effects of each unit's rank change (positive = rose); one unit when ``unit`` is given."""
    d = dec if unit is None else dec[dec["unit_id"] == unit]
    d = d.sort_values("total_change", key=np.abs, ascending=False, kind="stable")
    return pd.DataFrame({
        "村(社区)": d["unit_name"],
        "上期": [f"{m}（{x}）第 {int(r)} 名" for m, x, r in zip(d["month_from"], d["method_from"], d["rank_from"])],
        "本期": [f"{m}（{x}）第 {int(r)} 名" for m, x, r in zip(d["month_to"], d["method_to"], d["rank_to"])],
        "名次变动": d["total_change"], "方法效应": d["method_effect"], "数据效应": d["data_effect"],
        "方法效应（两种顺序平均）": d["method_effect_shapley"], "数据效应（两种顺序平均）": d["data_effect_shapley"]})


def leave_one_out_table(loo: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"去掉的类别": loo["category_name"], "平均名次变动": loo["mean_abs_rank_shift"],
                         "最大名次变动": loo["max_abs_rank_shift"]})


def alpha_table(alpha: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"类别": alpha["category_name"], "指标数": alpha["k"], "单位数": alpha["n"],
                         "Cronbach α": alpha["alpha"]})


def pca_table(pca: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"主成分": [f"第 {int(c)} 主成分" if str(c).isdigit() else str(c) for c in pca["component"]],
                         "特征值": pca["eigenvalue"], "解释方差比例": pca["proportion"], "累计比例": pca["cumulative"]})


def correlation_table(corr: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Correlation matrix of the indicators with Chinese names on both axes."""
    out = corr.rename(index=names, columns=names)
    out.insert(0, "指标", out.index)
    return out.reset_index(drop=True)


def fairness_table(fr: FairnessReview, source: str | None = None) -> pd.DataFrame:
    """v1, v2, v3 side by side: one row per figure (Chinese), one column per method, the goal last."""
    wide = fr.wide(source)
    out = wide.rename(columns={"figure_name": "指标", "target": "目标"})
    cols = ["指标"] + [m.name for m in fr.methods] + ["目标"]
    return out[cols]


def story_table(story: pd.DataFrame) -> pd.DataFrame:
    s = story
    return pd.DataFrame({"评分办法": s["method"], "月份": s["month"], "村(社区)": s["unit_name"],
                         "公布排名": s["rank"].astype("Int64"), "公布星级": [stars_text(x) for x in s["stars"]],
                         "真实排名": pd.array(s["true_rank"], dtype="Float64").round(0).astype("Int64"),
                         "真实星级": [stars_text(x) for x in s["true_stars"]],
                         "真实排名 90% 区间": _interval(s["rank_p05"], s["rank_p95"]),
                         "进入前三的概率": s["p_top3"], "保持星级概率": s["p_same_stars"]})


def frontier_table(frontier: pd.DataFrame) -> pd.DataFrame:
    f = frontier
    rules = {"bands": "按与中位数差距划档", "shares": "按比例分配"}
    return pd.DataFrame({"合计期（月）": f["rate_window"], "星级规则": [rules.get(r, r) for r in f["star_rule"]],
                         "发案率收缩": ["是" if x == "eb" else "否" for x in f["shrink"]],
                         FIGURES["index_reliability"]: f["index_reliability"],
                         FIGURES["p_star_truth"]: f["p_star_truth"], FIGURES["p_keep_star"]: f["p_keep_star"],
                         FIGURES["p_rise_3m"]: f["p_rise_3m"], FIGURES["p_rise_3m_control"]: f["p_rise_3m_control"],
                         FIGURES["months_to_rise"]: f["months_to_rise"], FIGURES["size_ratio"]: f["size_ratio"]})


#: Plain-Chinese glossary of the review's terms (notebook 03)
GLOSSARY = """\
**术语说明**

- **名义权重 / 有效权重**：名义权重是评分办法写明的权重；有效权重衡量各类别本月实际对排名的影响（类别得分差距越大，影响越大）。
- **蒙特卡洛（随机组合）**：把权重、标准化方法、汇总方式、星级规则在合理范围内随机组合上万次，看排名变化多少。
- **Sobol 指数**：把“名次变动”的来源分摊到各项方法选择上。一阶指数 S1 是某一项单独造成的比例，
  总效应 ST 还包括它与其他选择的共同作用；数值在 0–1 之间，越大影响越大。
- **Kendall τ**：两种排名的一致程度，1 表示完全一致，0 表示毫无关系。
- **方法效应 / 数据效应**：名次变化中，因评分办法改变造成的部分与因数据变化造成的部分。
- **Cronbach α**：同一类别内各指标是否指向同一方向，0.7 以上一般认为一致性较好。
- **主成分**：把许多指标归纳成少数几个综合方向；第一主成分解释的比例越高，指标越像在衡量同一件事。
- **指数信度**：各单位指数的差别中，真正反映工作差别、而不是偶然波动的比例；1 表示完全不受偶然影响。
- **真实名次 / 真实星级**：假如没有偶然波动（各单位按其真实发案水平），按同一办法得到的名次和星级。
- **排名区间（90%）**：真实名次有九成把握落在这个范围内。
- **保持星级概率**：下一个月重新统计时，仍得到同样星级的可能性。
- **收缩估计（经验贝叶斯）**：数字少的单位，其发案率向全镇平均水平适当靠拢，避免因一两起事件大起大落。
"""
