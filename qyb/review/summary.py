"""The whole method review of one month (notebook 03, ``qyb review``), and its plain-Chinese readings."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from qyb.data.months import add_months, month_number, parse_month
from qyb.data.panel import Panel
from qyb.errors import InputError
from qyb.method import Method
from qyb.review.coherence import Coherence, coherence_tables
from qyb.review.common import as_method, scored
from qyb.review.comparison import (
    DECOMPOSITION_COLUMNS,
    LeaveOneOut,
    MethodComparison,
    compare_methods,
    decompose_rank_change,
    default_decomposition_pair,
    leave_one_out,
)
from qyb.review.effective import WEIGHTS_COLUMNS, effective_weights, effective_weights_from_table, weights_table
from qyb.review.fairness import RELIABILITY_COLUMNS, FairnessReview, Settings, fairness_review
from qyb.review.montecarlo import Choices, MonteCarloResult, UncertaintyModel, sobol_rank_shift
from qyb.review.schemes import scheme_ranks
from qyb.vocab import LABELS, SYNTHETIC_BANNER

__all__ = ["TABLE_COLUMNS", "MethodReview", "run_review", "readings", "fairness_section", "fairness_plan", "fairness_of"]

#: Columns of the machine-readable tables of the review.
TABLE_COLUMNS = {
    "weights": WEIGHTS_COLUMNS,
    "method_uncertainty": ["unit_id", "rank_nominal", "rank_median", "rank_p05", "rank_p95",
                           "p_star_1", "p_star_2", "p_star_3", "p_star_4", "p_star_5", "interval_method"],
    "sensitivity": ["factor", "S1", "S1_lower", "S1_upper", "ST", "ST_lower", "ST_upper", "interval_method"],
    "method_decomposition": DECOMPOSITION_COLUMNS,
    "reliability": RELIABILITY_COLUMNS,
}


@dataclass
class MethodReview:
    """Everything notebook 03 shows, for one month (see :func:`run_review`)."""

    month: str
    method: Method
    methods: list[str]
    effective: pd.DataFrame
    weights: pd.DataFrame
    scheme_ranks: pd.DataFrame
    monte_carlo: MonteCarloResult
    uncertainty: pd.DataFrame
    town: pd.DataFrame
    sensitivity: pd.DataFrame
    comparison: MethodComparison | None
    decomposition: pd.DataFrame | None
    leave_one_out: LeaveOneOut
    coherence: Coherence
    fairness: FairnessReview | None = None
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # section -> why it could not be made

    def __repr__(self) -> str:
        left = f", skipped: {', '.join(self.skipped)}" if self.skipped else ""
        return (f"MethodReview({self.month} · {self.method.name}, {self.monte_carlo.n_draws} draws, "
                f"compared {' vs '.join(self.methods)}{left})")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The machine-readable tables, with exactly the contract's columns (empty when skipped)."""
        decomposition = (self.decomposition if self.decomposition is not None
                         else pd.DataFrame(columns=TABLE_COLUMNS["method_decomposition"]))
        reliability = (self.fairness.table if self.fairness is not None
                       else pd.DataFrame(columns=TABLE_COLUMNS["reliability"]))
        return {
            "weights": self.weights[TABLE_COLUMNS["weights"]],
            "method_uncertainty": self.uncertainty[TABLE_COLUMNS["method_uncertainty"]],
            "sensitivity": self.sensitivity[TABLE_COLUMNS["sensitivity"]],
            "method_decomposition": decomposition[TABLE_COLUMNS["method_decomposition"]],
            "reliability": reliability[TABLE_COLUMNS["reliability"]],
        }


def check_schemes(schemes: list[str]) -> None:
    """Every weighting scheme is known (InputError naming the closest ones otherwise)."""
    from qyb.data.catalogue import suggest
    from qyb.errors import Problem
    from qyb.review.weights import SCHEMES

    for scheme in schemes:
        if scheme not in SCHEMES:
            close = suggest(str(scheme), SCHEMES)
            raise InputError(Problem("--schemes", f"unknown weighting scheme '{scheme}'"
                                     + (f" (did you mean {', '.join(close)}?)" if close else ""),
                                     f"Choose from {', '.join(SCHEMES)}, separated by commas.",
                                     zh=f"未知的赋权方法“{scheme}”", code="unknown_scheme"))


def _split(text) -> list:
    """'v1, v2' or a list of names / Methods -> a list (names stripped, empty entries dropped)."""
    if isinstance(text, (list, tuple)):
        return [t if isinstance(t, Method) else str(t).strip() for t in text
                if isinstance(t, Method) or str(t).strip()]
    return [t.strip() for t in str(text).split(",") if t.strip()]


def run_review(panel: Panel, month: str, method: Method, methods="v1,v2",
               schemes="equal,entropy,critic,pca", n_draws: int = 10_000, seed: int = 0,
               sobol_n: int = 1024, choices: Choices | None = None, fairness="v1,v2,v3",
               fairness_size: str | Settings = "standard", unit: str | None = None,
               compute_fairness: Callable[..., FairnessReview] | None = None) -> MethodReview:
    """Run the whole method review of ``month`` under ``method``, on ``panel`` (nothing is re-read).

    ``methods``: method names (a list or comma-separated); the comparison is first vs last.
    ``schemes``: weighting schemes for the category weights.
    ``n_draws``/``seed``: the Monte Carlo; Sobol' uses ``sobol_n`` rows
    (rounded to a power of two, at most ``n_draws`` rounded up) with the same seed.
    ``fairness``: methods compared on reliability, P(star = truth), P(keep star), coverage,
    responsiveness and size bias (:func:`qyb.review.fairness.fairness_review`; the sample's truth
    when the panel is the unchanged sample, the fitted model otherwise; empty or None: skipped),
    ``fairness_size``: ``quick`` / ``standard`` / ``full`` (or :class:`~qyb.review.fairness.Settings`),
    ``unit``: the unit whose story it tells; ``compute_fairness``: what makes the fairness section, with
    :func:`fairness_of`'s arguments (default :func:`fairness_of`; :meth:`qyb.Edition.review` passes one
    that keeps it in the processed store).
    A section the data cannot support (e.g. comparing with a method whose baselines precede the
    data) is left out and ``skipped`` says why; the rest of the review is still made.
    """
    month = parse_month(month)
    fair_methods = [as_method(n) for n in _split(fairness)] if fairness else []  # a bad name fails at once
    names = _split(methods)
    if not names:
        raise ValueError("give at least one method name, e.g. 'v1,v2'")
    for name in names:  # a bad name fails at once, not after the Monte Carlo
        as_method(name)
    scheme_list = _split(schemes)
    check_schemes(scheme_list)
    n_draws, seed = int(n_draws), int(seed)
    skipped: dict[str, str] = {}
    table = scored(panel, method, month)
    # effective weights over the months the method has been in force (at most 12; the month alone when
    # the method is used before its effective month)
    first = max(method.effective_from, add_months(month, -11))
    if month_number(first) > month_number(month):
        first = month
    try:
        eff = effective_weights(panel, method, first, month) if first != month else \
            effective_weights_from_table(table, [month])
    except InputError:  # a gap in the months: this month alone
        eff = effective_weights_from_table(table, [month])
    sw, sranks = scheme_ranks(panel, month, method, scheme_list)
    weights = weights_table(method, eff, sw)
    model = UncertaintyModel.from_table(table, panel, month, choices)
    mc = model.run(n_draws, seed)
    n_sobol = 1 << int(np.ceil(np.log2(max(2, min(int(sobol_n), max(n_draws, 2))))))
    sobol = sobol_rank_shift(model, n_sobol, seed, n_boot=500) if model.n_factors else None
    sens = sobol.table if sobol is not None else pd.DataFrame(columns=TABLE_COLUMNS["sensitivity"])
    comparison = decomposition = None
    try:
        comparison = compare_methods(panel, names[0], names[-1], month)
    except InputError as exc:
        skipped["comparison"] = f"{names[0]} 与 {names[-1]} 无法在 {month} 对比：{exc.problems[0].rule}"
    pair = default_decomposition_pair(month, names)
    try:
        decomposition = decompose_rank_change(panel, *pair)
    except InputError as exc:
        skipped["decomposition"] = (f"无法分解 {pair[0]}（{pair[1]}）到 {pair[2]}（{pair[3]}）的名次变化："
                                    f"{exc.problems[0].rule}")
    fair = fairness_section(panel, month, fair_methods, fairness_size, seed, unit, skipped, compute_fairness)
    loo = leave_one_out(UncertaintyModel.from_table(table, panel, month, Choices.none()))
    coh = coherence_tables(table, month)
    notes = [SYNTHETIC_BANNER] if panel.synthetic else []
    if method.spec.get("illustrative"):
        notes.append("示例权重：方法规格中的权重为演示用途而设 (illustrative weights).")
    uncertainty = mc.summary().assign(interval_method=mc_interval_method(mc))
    sens = sens.assign(interval_method=sobol_interval_method(sobol)) if sobol is not None else \
        sens.assign(interval_method=pd.Series(dtype=str))
    return MethodReview(month, method, names, eff, weights, sranks, mc, uncertainty, mc.town(), sens,
                        comparison, decomposition, loo, coh, fair, notes, skipped)


def fairness_section(panel: Panel, month: str, methods="v1,v2,v3", size: str | Settings = "standard", seed: int = 0,
                     unit: str | None = None, skipped: dict | None = None,
                     compute: Callable[..., FairnessReview] | None = None,
                     run: Callable[[dict], dict] | None = None) -> FairnessReview | None:
    """The review's fairness section alone: ``methods`` (names, a list or comma-separated, or Methods) that
    the data can score in ``month`` compared by ``compute`` (default :func:`fairness_of`; ``run``: what runs
    its pieces); the others noted in ``skipped``; None when none is left."""
    ms = [as_method(n) for n in _split(methods)] if methods else []
    if not ms:
        return None
    usable, settings = fairness_plan(panel, month, ms, size, seed, {} if skipped is None else skipped)
    return (compute or fairness_of)(panel, month, usable, settings, unit, run=run) if usable else None


def fairness_plan(panel: Panel, month: str, methods: list[Method], size, seed: int,
                  skipped: dict) -> tuple[list[Method], Settings]:
    """The methods of the fairness section the data can score in ``month`` (the others noted in
    ``skipped``, with why) and its simulation settings (``size``: a preset name or Settings; ``seed``)."""
    usable, why = [], []
    for m in methods:
        missing = [mo for mo in m.months_read(month) if mo not in panel.month_pos]
        if missing:
            why.append(f"{m.name} 需要 {missing[0]} 的数据")
        else:
            usable.append(m)
    if why:
        skipped["fairness"] = "部分办法无法在本月比较：" + "；".join(why)
    settings = size if isinstance(size, Settings) else Settings.preset(size)
    return usable, replace(settings, seed=int(seed))


def fairness_of(panel: Panel, month: str, methods: list[Method], settings: Settings, unit: str | None,
                run: Callable[[dict], dict] | None = None) -> FairnessReview:
    """The fairness section (:func:`qyb.review.fairness.fairness_review`, its pieces run by ``run``) against
    the sample's truth when the panel is the unchanged sample (:func:`qyb.sample.truth.truth_for`), else the
    fitted model alone."""
    from qyb.sample.truth import truth_for

    return fairness_review(panel, month, methods, truth_for(panel), settings, unit, run=run)


def mc_interval_method(mc: MonteCarloResult) -> str:
    """What made each column of ``method_uncertainty.csv``."""
    return (f"rank_median/rank_p05/rank_p95: order statistics (inverted empirical CDF, Hyndman-Fan type 1) of "
            f"the ranks in {mc.n_draws} Monte Carlo draws over the method choices ({', '.join(mc.factors) or 'none'};"
            f" seed {mc.seed}), star thresholds carried to each option's scale by equipercentile linking; "
            f"p_star_k: share of those draws giving k stars (no interval)")


def sobol_interval_method(sobol) -> str:
    """What made each column of ``sensitivity.csv``."""
    return (f"S1: Saltelli (2010) estimator, ST: Jansen (1999) estimator, on n = {sobol.n} Saltelli rows "
            f"({sobol.runs} model runs, seed {sobol.seed}); *_lower/*_upper: {sobol.level:.0%} percentile "
            f"bootstrap intervals over the rows ({sobol.n_boot} resamples)")


# ---------------------------------------------------------------- plain-Chinese readings
def _fmt_rank(x) -> str:
    return f"第 {int(x)} 名"


def readings(review: MethodReview, focus: str | None = None) -> dict[str, str]:
    """Short plain-Chinese readings of each section (keys: weights, uncertainty, sensitivity, schemes,
    comparison, decomposition, leave_one_out, coherence). ``focus``: a unit_id to single out
    (default: the unit with the largest rank change in the decomposition)."""
    out = {}
    eff = review.effective
    gap = eff.assign(gap=eff["r2_share"] - eff["nominal"])
    over = gap.sort_values("gap", ascending=False).iloc[0]
    under = gap.sort_values("gap").iloc[0]
    out["weights"] = (
        f"名义权重是评分办法写明的权重；有效权重是各类别得分与平安形势指数的相关程度（r² 份额）和一阶方差贡献（η² 份额），"
        f"反映本月各类别实际对排名的影响。{over['category_name']}的实际影响（r² 份额 {over['r2_share']:.0%}）"
        f"高于其名义权重（{over['nominal']:.0%}），因为各单位在这一类别上差距大；"
        f"{under['category_name']}的实际影响（{under['r2_share']:.0%}）低于名义权重（{under['nominal']:.0%}）。"
        f"权重大并不等于影响大：影响还取决于各单位在该类别上的差距。"
        f"（基于 {int(eff['n'].iloc[0])} 个单位·月；单位少时 η² 偏高，宜看排序而非小数。）")
    u = review.uncertainty
    town = review.town.iloc[0]
    width = (u["rank_p95"] - u["rank_p05"])
    wide = u.assign(width=width).sort_values(["width", "rank_nominal"], ascending=[False, True]).iloc[0]
    stable = u[(u["rank_p95"] - u["rank_p05"]) <= 2]
    out["uncertainty"] = (
        f"在 {int(town['n_draws'])} 次随机组合（类别权重、标准化方法、汇总方式、星级规则同时变动）下，"
        f"各单位排名平均变动 {town['mean_abs_rank_shift']:.1f} 个名次（90% 的组合在 "
        f"{town['mean_abs_rank_shift_p05']:.1f}–{town['mean_abs_rank_shift_p95']:.1f} 之间）。"
        f"区间最宽的是{wide['unit_name']}（名义{_fmt_rank(wide['rank_nominal'])}，5%–95% 区间 "
        f"{int(wide['rank_p05'])}–{int(wide['rank_p95'])} 名），其排名在很大程度上取决于方法选择；"
        f"{len(stable)} 个单位的区间不超过 2 个名次，排名稳健。星级概率 p_star_k 表示该单位得 k 星的组合所占比例。")
    sens = review.sensitivity
    if len(sens):
        top = sens.sort_values("ST", ascending=False).iloc[0]
        names = {**LABELS, "aggregation": "汇总方式（算术/几何）"}
        w = sens.set_index("factor")
        wtxt = (f"类别权重变动（默认在名义值 ±25% 内）的一阶指数为 {w.loc['weights', 'S1']:.2f}，"
                if "weights" in w.index else "")
        out["sensitivity"] = (
            "Sobol 指数衡量各项方法选择对“平均名次变动”的贡献：一阶指数 S1 是单独一项的贡献，"
            "总效应 ST 还包括它与其他选择的交互。"
            f"影响最大的是{names.get(top['factor'], top['factor'])}（ST = {top['ST']:.2f}，95% 区间 "
            f"{top['ST_lower']:.2f}–{top['ST_upper']:.2f}）。{wtxt}"
            f"星级规则只改变星级、不改变名次，所以它的指数为 0。ST 明显大于 S1 说明各选择之间存在交互。")
    else:
        out["sensitivity"] = "没有设定任何不确定的方法选择，无敏感性指数。"
    sr = review.scheme_ranks
    moved = sr[sr["scheme"] != "nominal"].groupby("scheme")["rank_shift"].apply(lambda s: s.abs().mean())
    if len(moved):
        out["schemes"] = (
            "按数据驱动的权重方案（在各类别得分上计算）重新赋权后，各单位平均名次变动："
            + "；".join(f"{k} {v:.1f}" for k, v in moved.items())
            + "。数据驱动权重奖励单位之间差异大的类别，并不代表该类别更重要，仅作对照。")
    else:
        out["schemes"] = ""
    if review.comparison is None:
        out["comparison"] = review.skipped.get("comparison", "")
    else:
        out["comparison"] = _comparison_reading(review.comparison)
    d = review.decomposition
    if d is None:
        out["decomposition"] = review.skipped.get("decomposition", "")
    else:
        out["decomposition"] = _decomposition_reading(d, focus)
    out.update(_loo_and_coherence_readings(review))
    return out


def _comparison_reading(comparison: MethodComparison) -> str:
    cmp = comparison.summary.iloc[0]
    most = comparison.most_affected(1).iloc[0]
    return (
        f"同一个月（{cmp['month']}）的数据分别按 {cmp['method_a']} 和 {cmp['method_b']} 评分："
        f"两种排名的 Kendall τ = {cmp['kendall_tau']:.2f}（1 表示完全一致），平均名次差 {cmp['mean_abs_rank_shift']:.1f}，"
        f"{int(cmp['n_star_changes'])} 个单位星级不同。受影响最大的是{most['unit_name']}"
        f"（{cmp['method_a']} {_fmt_rank(most['rank_a'])}，{cmp['method_b']} {_fmt_rank(most['rank_b'])}）。")


def _decomposition_reading(d: pd.DataFrame, focus: str | None) -> str:
    if focus is None or focus not in set(d["unit_id"]):
        focus = d.assign(a=d["total_change"].abs()).sort_values("a", ascending=False)["unit_id"].iloc[0]
    r = d.set_index("unit_id").loc[focus]
    return (
        f"{r['unit_name']}从 {r['month_from']}（{r['method_from']}）{_fmt_rank(r['rank_from'])}到 "
        f"{r['month_to']}（{r['method_to']}）{_fmt_rank(r['rank_to'])}，共变动 {int(r['total_change']):+d} 名。"
        f"先换方法、数据不变（{r['month_from']} 按 {r['method_to']} 评分为{_fmt_rank(r['rank_mid'])}）："
        f"方法效应 {int(r['method_effect']):+d} 名；再换数据、方法不变：数据效应 {int(r['data_effect']):+d} 名；"
        f"两者相加恰为总变动。若先换数据后换方法，方法效应为 {int(r['method_effect_alt']):+d}、数据效应为 "
        f"{int(r['data_effect_alt']):+d}（两种顺序的平均：方法 {r['method_effect_shapley']:+.1f}，数据 "
        f"{r['data_effect_shapley']:+.1f}）。正数表示名次上升。")


def _loo_and_coherence_readings(review: MethodReview) -> dict[str, str]:
    out = {}
    loo = review.leave_one_out.summary.sort_values("mean_abs_rank_shift", ascending=False)
    out["leave_one_out"] = (
        f"逐一去掉一个类别（其余类别权重按比例放大）后重新排名：去掉{loo.iloc[0]['category_name']}时名次变动最大"
        f"（平均 {loo.iloc[0]['mean_abs_rank_shift']:.1f} 名，最多 {int(loo.iloc[0]['max_abs_rank_shift'])} 名），"
        f"去掉{loo.iloc[-1]['category_name']}时最小（平均 {loo.iloc[-1]['mean_abs_rank_shift']:.1f} 名）。")
    a = review.coherence.alpha.dropna(subset=["alpha"])
    pca = review.coherence.pca
    low = a[a["alpha"] < 0.5]
    lowtxt = ("、".join(low["category_name"]) + "的 α 低于 0.5，类别内指标方向不一致（例如发案率与压降率衡量的是不同的事）"
              if len(low) else "多指标类别的 α 都不低于 0.5")
    out["coherence"] = (
        f"Cronbach's α 衡量同一类别内各指标是否一致（只对含两项以上指标的类别计算）：{lowtxt}。"
        f"主成分分析中第一主成分解释了 {pca['proportion'].iloc[0]:.0%} 的方差，前三个共 "
        f"{pca['cumulative'].iloc[min(2, len(pca) - 1)]:.0%}：各指标衡量的是不同方面，指数不是单一维度，"
        f"这也是权重选择会影响排名的原因。")
    return out
