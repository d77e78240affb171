"""One vocabulary for the whole package: baselines, star glyphs, movement arrows, Chinese labels.

Tables, charts, texts and the command line all read these, so a label is
written once. Nothing here computes a statistic or reads a file.

* :data:`BASELINES` -- what a 压降率 or a movement compares with: ``mom`` (环比,
  the previous month), ``yoy`` (同比, the same month last year), ``3m`` (the mean
  of the three previous months). Each names its lags in months.
* :func:`stars_text` -- 1-5 stars as ``★★★`` (the tables' and the charts' glyphs).
* :func:`movement_text` -- ``↑3``, ``↓2``, ``—`` (unchanged), ``新`` (no previous rank).
* :data:`LABELS` -- Chinese names of the codes that appear in published tables.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "Baseline", "BASELINES", "baseline", "STAR", "stars_text", "UP", "DOWN", "SAME", "NEW",
    "movement_text", "movement_phrase", "LABELS", "label", "SYNTHETIC_BANNER", "SYNTHETIC_STAMP",
    "INDEX_DECIMALS", "SCORE_DECIMALS", "fmt_score", "fmt_index", "fmt_pct", "fmt_points", "MINUS",
    "CODE_COLUMNS", "GLOSSARY", "month_zh", "text_width", "pad_text",
]


# ---------------------------------------------------------------- baselines
@dataclass(frozen=True)
class Baseline:
    """A comparison period: ``code``, the ``lags`` (months before the month compared) it averages,
    and its Chinese name as tables print it (``name``) and as a sentence says it (``phrase``)."""

    code: str
    lags: tuple[int, ...]
    name: str
    phrase: str

    @property
    def lookback(self) -> int:
        """How many months before the compared month the baseline reaches."""
        return max(self.lags)


#: The baselines of 压降率 and movements, in the order reports list them.
BASELINES: dict[str, Baseline] = {
    "mom": Baseline("mom", (1,), "环比 (上月)", "上月"),
    "yoy": Baseline("yoy", (12,), "同比 (去年同月)", "去年同期"),
    "3m": Baseline("3m", (1, 2, 3), "较前三月均值", "前三月"),
}


def baseline(code: str) -> Baseline:
    """The :class:`Baseline` named ``code``; ValueError listing the known codes otherwise."""
    try:
        return BASELINES[code]
    except KeyError:
        raise ValueError(f"baseline must be one of {sorted(BASELINES)}; got {code!r}") from None


# ---------------------------------------------------------------- stars and movement
STAR = "★"
UP, DOWN, SAME, NEW = "↑", "↓", "—", "新"


def _missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x) or x is __import__("pandas").NA
    except TypeError:  # pandas.NA in a boolean context
        return True


def stars_text(n) -> str:
    """``3 -> '★★★'``; an empty string where there is no star rating (NaN, None)."""
    if _missing(n):
        return ""
    return STAR * int(n)


def movement_text(rank, rank_prev) -> str:
    """Movement since the previous rank: ``'↑3'`` (rose 3 places), ``'↓2'``, ``'—'`` (unchanged),
    ``'新'`` (no previous rank)."""
    if _missing(rank_prev) or _missing(rank):
        return NEW
    change = int(rank_prev) - int(rank)
    if change > 0:
        return f"{UP}{change}"
    if change < 0:
        return f"{DOWN}{-change}"
    return SAME


def movement_phrase(rank, rank_prev) -> str:
    """``'↑25（上期第27名）'``: the movement with the previous rank, for a headline."""
    if _missing(rank_prev) or _missing(rank):
        return "无上期排名"
    return f"{movement_text(rank, rank_prev)}（上期第{int(rank_prev)}名）"


# ---------------------------------------------------------------- reproducible draws
#: The seed of the published rank intervals (the date of the second edition, 2023-03-01): the one
#: constant every reader of them (the run, the notebooks, the processed store) shares without
#: importing the resampling code.
RANK_INTERVAL_SEED = 20230301


# ---------------------------------------------------------------- display rounding
#: One rounding rule for display: the index to 2 decimals (ties on the 榜单 are visible), every
#: other score to 1 decimal. Round half away from zero, as a reader does by hand.
INDEX_DECIMALS = 2
SCORE_DECIMALS = 1


def fmt_score(x, decimals: int = SCORE_DECIMALS) -> str:
    """A score as text with ``decimals`` places, half away from zero; '' for a missing value."""
    if _missing(x):
        return ""
    x = float(x)
    if not math.isfinite(x):
        return ""
    q = 10 ** decimals
    r = math.floor(abs(x) * q + 0.5 + 1e-9) / q
    return f"{math.copysign(r, x) if r else 0.0:.{decimals}f}"


def fmt_index(x) -> str:
    """The 平安形势指数 as every page prints it: :data:`INDEX_DECIMALS` places (``92.64``)."""
    return fmt_score(x, INDEX_DECIMALS)


def fmt_pct(x, decimals: int = 0) -> str:
    """A share 0-1 as a percentage: ``0.375 -> '38%'`` (half away from zero); '' when missing."""
    text = fmt_score(None if _missing(x) else float(x) * 100, decimals)
    return f"{text}%" if text else ""


#: the minus sign of printed deductions and falls (U+2212, as typeset Chinese documents use)
MINUS = "\u2212"


def fmt_points(x) -> str:
    """Points deducted as printed: ``20 -> '−20'``, ``2.5 -> '−2.5'`` (no trailing ``.0``)."""
    if _missing(x):
        return ""
    text = f"{abs(float(x)):.1f}".removesuffix(".0")
    return f"{MINUS}{text}" if float(x) else "0"


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: two for a wide or full-width character (Chinese, ★ is one),
    none for a combining mark, one otherwise (Unicode Standard Annex #11, East Asian Width)."""
    import unicodedata

    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def pad_text(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (:func:`text_width`), as ``f"{text:<width}"``
    pads ASCII; longer text is left as it is."""
    return text + " " * max(0, width - text_width(text))


def month_zh(month: str) -> str:
    """``'2023-12' -> '2023年12月'``."""
    year, mon = str(month)[:4], int(str(month)[5:7])
    return f"{year}年{mon}月"


# ---------------------------------------------------------------- labels
#: Chinese names of the codes that appear in published tables and charts (method-review factors,
#: weighting schemes, scorecard columns). One table, so a factor is not 加权方式 in one place and
#: 汇总方式 in another.
LABELS: dict[str, str] = {
    # scorecard / 榜单 columns
    "rank": "排名", "unit_name": "村(社区)", "unit_id": "单位编码", "index": "平安形势指数",
    "stars_text": "星级", "stars": "星数", "rank_prev": "上期排名", "rank_prev_published": "上期排名",
    "movement": "升降", "deduction": "扣分", "deduction_text": "扣分事由", "month": "月份", "method": "评分办法",
    "method_title": "评分办法名称", "method_hash": "办法校验码", "source": "数据来源",
    "index_rescored": "按现行办法重算指数", "stars_rescored": "按现行办法重算星级", "rank_rescored": "按现行办法重算排名",
    "rescored_method": "重算所用办法", "category": "类别", "category_name": "类别", "indicator": "指标编码",
    "indicator_name": "指标", "score": "得分", "value": "指标值", "unit_type": "类型", "population": "常住人口",
    # rank intervals (qyb.movements.intervals)
    "rank_median": "排名中位数", "rank_p05": "排名区间下限 (5%)", "rank_p95": "排名区间上限 (95%)",
    "p_top3": "进入前三概率", "p_same_stars": "保持星级概率", "index_p05": "指数下限 (5%)",
    "index_p95": "指数上限 (95%)", "n_draws": "抽样次数", "seed": "随机种子", "rank_nominal": "名义排名",
    "rank_interval": "排名区间 (5–95%)",
    # alerts (qyb.report.alerts)
    "level": "等级", "rule": "规则", "streak": "连续月数", "first_month": "起始月份", "last_month": "截至月份",
    "months": "触发月份", "stars_now": "本月星级",
    # method-uncertainty factors (Monte Carlo, Sobol)
    "weights": "类别权重", "normalisation": "标准化方法", "aggregation": "汇总方式",
    "star_rule": "星级规则", "imputation": "缺失值处理",
    # weighting schemes
    "nominal": "名义权重", "expert": "专家权重", "equal": "等权", "entropy": "熵权法",
    "critic": "CRITIC 法", "std": "标准差法", "pca": "主成分法", "effective": "有效权重",
    "effective_r2": "有效权重 (r²)", "effective_eta2": "有效权重 (η²)", "effective_s1": "有效权重 (S1)",
}


def label(code: str, names: dict[str, str] | None = None) -> str:
    """The Chinese label of ``code`` (``names`` first, then :data:`LABELS`), else the code itself."""
    if names and code in names:
        return names[code]
    return LABELS.get(code, code)


#: Columns that are internal codes: written to the machine-readable CSV/XLSX, never shown on a page
#: for people (the 榜单, the 体检表, the summary and the analyst pages hide them).
CODE_COLUMNS: frozenset[str] = frozenset({
    "unit_id", "单位编码", "code", "indicator", "指标编码", "method_hash", "办法校验码", "group", "imputed",
    "interval_method", "category",
})

#: Short explanations of the statistical terms the pages use, in plain Chinese (the pages' 名词解释).
#: Keys are the terms as printed; :meth:`qyb.report.notebook.Page.glossary` shows the ones a page names.
GLOSSARY: dict[str, str] = {
    "平安形势指数": "按评分办法把九个方面的得分加权汇总并折算后的综合分数，越高越好。",
    "星级": "按评分办法把指数分成五档：★★★★★ 最好，★ 最差。",
    "扣分": "发生死亡事故、重大案事件等情形时，按评分办法从相应类别或总分中直接扣除的分数。",
    "短板": "本单位得分最低、或低于全镇中位数的指标和类别，是下一步整改的重点。",
    "中位数": "把 29 个单位的数值从小到大排列后居中的那个数，不受个别极端值影响。",
    "排名区间": "把本月各项计数按其随机性重新抽样数千次、每次完整重算排名，取第 5 至第 95 百分位："
              "区间越宽，名次越不可靠。",
    "超出随机波动": "两期的排名区间互不重叠：名次变化大于计数本身的偶然波动所能解释的范围。",
    "率比": "本期发生率除以基期发生率；小于 1 表示下降，大于 1 表示上升。",
    "置信区间": "在给定把握（通常 95%）下，真实数值可能所在的范围；区间越宽，数字越不确定。",
    "p 值": "如果实际上没有变化，仍观察到这样大或更大变化的概率；越小越不像偶然。",
    "q 值": "同时检验多个单位时按 Benjamini–Hochberg（BH）方法校正后的 p 值，控制误判的比例。",
    "BH 校正": "Benjamini–Hochberg 多重比较校正：同时看 29 个单位时，避免把偶然的突出当成真实变化。",
    "均值回归": "一个异常偏高（或偏低）的月份之后，数字往往自然回落（或回升），不一定是工作成效。",
    "控制图": "把每月的数值与该单位自身的平均水平和波动范围比较；超出控制限的点才提示有特殊原因。",
    "漏斗图": "按人口规模画出的控制限：人口越少，偶然波动越大，控制限越宽。",
    "中断时间序列": "比较机制启动前后全镇趋势的变化，估计机制启动带来的水平和斜率变化。",
    "蒙特卡洛模拟": "把评分办法中可以有不同选择的地方（权重、标准化方法等）随机组合数千次，看排名如何变化。",
    "Sobol 敏感性指数": "衡量排名的变化有多大比例来自某一项方法选择：一阶指数看它单独的作用，总效应指数还包括"
                      "与其他选择的交互作用。",
    "Cronbach's α": "衡量同一类别内各指标是否指向同一方向的系数（0–1）：越高说明这些指标越一致。",
    "熵权法": "按指标在各单位之间的差异程度（信息熵）确定权重的客观赋权方法。",
    "CRITIC 法": "同时考虑指标的差异程度和指标之间相关性的客观赋权方法。",
    "有效权重": "某一类别对最终排名实际起到的作用大小，可能与名义权重不同。",
    "预警": "按预警规则，连续多个月星级偏低或星级骤降的单位，需要跟进督促。",
    "发布记录": "当月实际发布的数字（评分办法和校验码一并保存），以后不会因办法调整而改写。",
    "按当时办法重算": "没有保存发布记录的月份，按该月当时施行的评分办法重新计算得到的数字。",
    "按现行办法重算": "用本期施行的评分办法重新计算以往月份的数字，仅供对照，不改变当时的发布结果。",
}

#: The banner every page fed by synthetic data carries (one sentence, shown once per page).
SYNTHETIC_BANNER = ("示例数据：本报告所用数据为合成示例数据，"
                    "单位名称真实，所有数字均为虚构，不代表任何真实情况。")
#: The short stamp on charts and documents made from synthetic data (Chinese only: leaders and 村 cadres read them).
SYNTHETIC_STAMP = "示例数据"
