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
    "INDEX_DECIMALS", "SCORE_DECIMALS", "fmt_score",
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


# ---------------------------------------------------------------- labels
#: Chinese names of the codes that appear in published tables and charts (method-review factors,
#: weighting schemes, scorecard columns). One table, so a factor is not 加权方式 in one place and
#: 汇总方式 in another.
LABELS: dict[str, str] = {
    # scorecard / 榜单 columns
    "rank": "排名", "unit_name": "村(社区)", "unit_id": "单位编码", "index": "平安形势指数",
    "stars_text": "星级", "stars": "星数", "rank_prev": "上期排名", "rank_prev_published": "上期排名",
    "movement": "升降", "deduction": "扣分",
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


#: The banner every page fed by synthetic data carries (one sentence, shown once per page).
SYNTHETIC_BANNER = ("示例数据 (synthetic sample data)：本报告所用数据为合成示例数据，"
                    "单位名称真实，所有数字均为虚构，不代表任何真实情况。")
#: The short stamp on charts made from synthetic data.
SYNTHETIC_STAMP = "示例数据 (synthetic sample data)"
