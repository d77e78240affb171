"""Methods side by side on fairness: v1, v2, v3 (or any list) on the figures of :mod:`~qyb.review.reliability`.

:func:`fairness_review` computes, for every method, each figure twice where it can:

* ``truth`` -- from the known truth (the synthetic sample's expected figures, :func:`qyb.sample.sample_truth`);
  empty on real data;
* ``model`` -- from the data alone: truths drawn from the empirical-Bayes posterior fitted to the
  panel (:func:`qyb.sample.posterior.fit_posterior`), each scored and simulated in turn (coverage,
  P(keep) and responsiveness from posterior truths too). On the sample the two columns agree
  (tested), which is what lets the ``model`` column speak for real data.

It also tells one unit's story under each method (:func:`unit_story`: 永宁社区 27 -> 2) and draws the
frontier of reliability against responsiveness over pooling windows and star rules
(:func:`frontier`). ``table`` is ``tables/reliability.csv``.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from qyb.data.months import add_months
from qyb.data.panel import Panel
from qyb.method import Method
from qyb.review.common import as_method, scored
from qyb.review.reliability import (
    Responsiveness,
    interval_checks,
    month_figures,
    responsiveness,
    simulate_month,
)
from qyb.sample.model import MonthModel
from qyb.sample.posterior import POSTERIOR_WINDOW, fit_posterior, posterior_months, posterior_tally
from qyb.sample.truth import true_scores

__all__ = ["RELIABILITY_COLUMNS", "FIGURES", "SIZES", "Settings", "FairnessReview", "fairness_review", "method_figures",
           "unit_story", "frontier", "frontier_row", "frontier_candidates", "with_windows", "STORY_COLUMNS",
           "FRONTIER_COLUMNS", "fairness_readings", "fairness_tasks", "fairness_assemble", "run_in_order"]

RELIABILITY_COLUMNS = ["method", "figure", "detail", "figure_name", "truth", "model", "target"]
STORY_COLUMNS = ["method", "month", "unit_id", "unit_name", "rank", "stars", "true_rank", "true_stars",
                 "rank_p05", "rank_p95", "p_top3", "p_same_stars"]
FRONTIER_COLUMNS = ["candidate", "rate_window", "star_rule", "shrink", "index_reliability", "p_star_truth",
                    "p_keep_star", "p_rise_3m", "p_rise_3m_control", "months_to_rise", "size_ratio", "source"]

#: figure code -> Chinese name (what a reader of the table sees)
FIGURES = {
    "index_reliability": "指数信度（各单位差异中非偶然部分的比例）",
    "reliability": "类别得分信度",
    "p_star_truth": "星级与真实星级一致的概率",
    "p_keep_star": "下一个月保持同一星级的比例（模拟）",
    "p_keep_predicted": "保持星级概率（区间模型预测的平均值）",
    "p_keep_observed": "保持星级的实际比例（同一组模拟）",
    "coverage_overall": "90% 排名区间包含真实名次的比例",
    "coverage_extreme": "90% 排名区间包含真实名次的比例（真实名次为首尾三名）",
    "coverage_middle": "90% 排名区间包含真实名次的比例（其余名次）",
    "interval_width": "排名区间平均宽度（名次）",
    "extreme_small": "小单位落入首尾三名的概率",
    "extreme_other": "其他单位落入首尾三名的概率",
    "size_ratio": "小单位落入首尾三名的倍数（小单位 ÷ 其他单位）",
    "size_corr": "名次波动与常住人口的相关系数（Spearman）",
    "months_to_rise": "发案持续下降 30% 后星级上升所需月数（半数模拟）",
    "p_rise_3m": "发案持续下降 30% 后第 3 个月星级至少上升一档的概率",
    "p_rise_3m_control": "发案未下降时第 3 个月星级偶然上升一档的概率",
}
#: the interval models, as a reader names them
DETAIL_NAMES = {"posterior": "新方法（先估计真实水平）", "bootstrap": "原方法（本月计数重抽样）"}
#: the issue's targets (documentation in the table)
TARGETS = {"index_reliability": "≥ 0.7", "p_star_truth": "≥ 0.7", "p_rise_3m": "≥ 0.8",
           "coverage_overall": "0.88–0.93", "coverage_extreme": "≥ 0.85",
           "p_keep_predicted": "与实际比例相差 ≤ 0.05"}


@dataclass(frozen=True)
class Settings:
    """Simulation sizes of a fairness review (larger: steadier figures, longer runs).

    ``model_checks``: also estimate the interval coverage and the responsiveness from the fitted model
    when the truth is known (they are always estimated from the model when it is not).
    """

    n_draws: int = 800  # months drawn from the known truth
    n_truths: int = 30  # posterior truths for the model-based figures
    truth_draws: int = 40  # months drawn from each posterior truth
    coverage_panels: int = 40  # simulated panels for coverage and P(keep) calibration
    coverage_draws: int = 200  # interval draws per simulated panel
    response_draws: int = 60  # simulations per unit of a sustained 30 % fall
    horizon: int = 6  # months followed after the fall starts
    factor: float = 0.7  # the fall: true incident rates x 0.7
    seed: int = 0
    model_checks: bool = False

    @classmethod
    def preset(cls, name: str) -> Settings:
        """``quick`` (smoke runs), ``standard`` (the monthly report) or ``full`` (the figures of a method
        decision: every figure from both the truth and the model, with more draws)."""
        if name == "quick":
            return cls(n_draws=300, n_truths=12, truth_draws=25, coverage_panels=16, coverage_draws=120,
                       response_draws=24, horizon=4)
        if name == "standard":
            return cls()
        if name == "full":
            return cls(n_draws=2000, n_truths=60, truth_draws=60, coverage_panels=150, coverage_draws=400,
                       response_draws=200, horizon=6, model_checks=True)
        raise ValueError(f"unknown size {name!r}: quick, standard or full")

    @classmethod
    def quick(cls) -> Settings:
        return cls.preset("quick")


SIZES = ("quick", "standard", "full")


@dataclass
class FairnessReview:
    """The fairness figures of several methods for one month (see the module docstring)."""

    month: str
    methods: list[Method]
    table: pd.DataFrame
    responsiveness: dict[str, dict[str, Responsiveness]]
    story: pd.DataFrame | None
    frontier: pd.DataFrame | None
    truth_known: bool
    settings: Settings
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        src = "truth and model" if self.truth_known else "model"
        return (f"FairnessReview({self.month}, {', '.join(m.name for m in self.methods)}; figures from {src}, "
                f"{len(self.table)} rows)")

    def value(self, method: str, figure: str, detail: str = "", source: str | None = None) -> float:
        """One figure of one method (``source`` 'truth' or 'model'; default: the truth when known)."""
        source = source or ("truth" if self.truth_known else "model")
        t = self.table
        row = t[(t["method"] == method) & (t["figure"] == figure) & (t["detail"] == detail)]
        return float(row[source].iloc[0]) if len(row) else np.nan

    def points(self, source: str | None = None) -> pd.DataFrame:
        """``method, index_reliability, p_rise_3m`` of every method (the methods on the frontier chart)."""
        return pd.DataFrame({"method": [m.name for m in self.methods],
                             "index_reliability": [self.value(m.name, "index_reliability", "", source)
                                                   for m in self.methods],
                             "p_rise_3m": [self.value(m.name, "p_rise_3m", "", source) for m in self.methods]})

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Everything but the methods and settings (which the caller knows) as tables: ``table``,
        ``story`` and ``frontier`` (empty when absent, ``meta`` says which), ``curves`` and ``units`` of
        the responsiveness (one block per method and source), ``meta`` (one row). :meth:`from_frames`
        gives the same review back (the processed store keeps a month's review this way)."""
        def stacked(part: str, columns: list[str]) -> pd.DataFrame:
            blocks = [getattr(r, part).assign(method=name, source=source)
                      for name, by_source in self.responsiveness.items() for source, r in by_source.items()]
            out = pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame(columns=columns)
            return out[["method", "source", *[c for c in out.columns if c not in ("method", "source")]]]

        factors = {r.factor for by_source in self.responsiveness.values() for r in by_source.values()}
        meta = pd.DataFrame({"truth_known": [self.truth_known], "story": [self.story is not None],
                             "frontier": [self.frontier is not None], "notes": ["\n".join(self.notes)],
                             "factor": [factors.pop() if len(factors) == 1 else np.nan]})
        return {"table": self.table, "story": self.story if self.story is not None else pd.DataFrame(),
                "frontier": self.frontier if self.frontier is not None else pd.DataFrame(),
                "curves": stacked("curve", ["method", "source"]), "units": stacked("units", ["method", "source"]),
                "meta": meta}

    @classmethod
    def from_frames(cls, frames: dict[str, pd.DataFrame], month: str, methods: list[Method],
                    settings: Settings) -> FairnessReview:
        """The review :meth:`to_frames` wrote (``methods`` and ``settings`` as it was made with)."""
        meta = frames["meta"].iloc[0]
        responses: dict[str, dict[str, Responsiveness]] = {}
        curves, units = frames["curves"], frames["units"]
        for (name, source), curve in curves.groupby(["method", "source"], sort=False):
            unit_rows = units[(units["method"] == name) & (units["source"] == source)]
            responses.setdefault(name, {})[source] = Responsiveness(
                name, float(meta["factor"]), curve.drop(columns=["method", "source"]).reset_index(drop=True),
                unit_rows.drop(columns=["method", "source"]).reset_index(drop=True))
        notes = [n for n in str(meta["notes"]).split("\n") if n]
        return cls(month, list(methods), frames["table"], responses,
                   frames["story"] if bool(meta["story"]) else None,
                   frames["frontier"] if bool(meta["frontier"]) else None, bool(meta["truth_known"]), settings, notes)

    def wide(self, source: str | None = None) -> pd.DataFrame:
        """Figures down, methods across (one source): the side-by-side table."""
        source = source or ("truth" if self.truth_known else "model")
        t = self.table
        key = t["figure"] + np.where(t["detail"] != "", "|" + t["detail"], "")
        out = t.assign(key=key).pivot(index="key", columns="method", values=source)
        order = list(dict.fromkeys(key))
        out = out.reindex(order)[[m.name for m in self.methods]]
        names = t.assign(key=key).drop_duplicates("key").set_index("key")
        detail = names.loc[out.index, "detail"].map(lambda d: DETAIL_NAMES.get(d, d))
        out.insert(0, "figure_name", names.loc[out.index, "figure_name"] + np.where(detail != "", "：" + detail, ""))
        out.insert(1, "target", names.loc[out.index, "target"])
        return out.reset_index(drop=True)


def _rows(method: Method, figures: dict, source: str, category_names: dict) -> list[dict]:
    rows = []
    for key, value in figures.items():
        detail = ""
        figure = key
        if key.startswith("reliability_"):
            figure, detail = "reliability", category_names.get(key[len("reliability_"):], key)
        elif "|" in key:
            figure, detail = key.split("|", 1)
        target = TARGETS.get(figure, "") if detail in ("", "posterior") or figure == "reliability" else ""
        rows.append({"method": method.name, "figure": figure, "detail": detail, "figure_name": FIGURES[figure],
                     source: value, "target": "" if figure == "reliability" else target})
    return rows


def _interval_rows(checks: dict, model: str) -> dict:
    keys = ("coverage_overall", "coverage_extreme", "coverage_middle", "interval_width", "p_keep_predicted",
            "p_keep_observed")
    return {f"{k}|{model}": checks[k] for k in keys}


def _response_rows(r: Responsiveness) -> dict:
    return {"months_to_rise": r.months_to_rise, "p_rise_3m": r.p_rise_within(3),
            "p_rise_3m_control": r.control_within(3)}


def method_figures(panel: Panel, month: str, method: Method, truth: MonthModel | None,
                   settings: Settings | None = None) -> tuple[pd.DataFrame, dict[str, Responsiveness]]:
    """Every fairness figure of one method: rows with ``truth`` (when known) and ``model`` values."""
    s = settings or Settings()
    cats = {g.code: g.name for g in method.categories}
    rows: dict[tuple, dict] = {}
    responses = {}
    sources = {}
    post = fit_posterior(panel, month, method, POSTERIOR_WINDOW + 1)  # also the bootstrap's 12 months before
    window = posterior_months(method, month, POSTERIOR_WINDOW + 1)
    sources["model"] = {
        "draws": post.draw_truths(s.n_truths, s.seed, sorted(method.months_read(month))),
        "panels": post.draw_truths(s.coverage_panels, s.seed + 1, [m for m in window if m in post.months]),
        "steady": post.mean_model(),
    }
    if truth is not None:
        sources["truth"] = {"draws": truth, "panels": truth, "steady": truth}
    for source, models in sources.items():
        n = s.n_draws if source == "truth" else s.truth_draws
        figures = month_figures(simulate_month(method, models["draws"], month, n, s.seed))
        if source == "truth" or truth is None or s.model_checks:
            for model in ("posterior", "bootstrap"):
                figures.update(_interval_rows(interval_checks(method, models["panels"], month, s.coverage_panels,
                                                              s.coverage_draws, s.seed, model), model))
            r = responsiveness(method, models["steady"], month, s.factor, s.horizon, s.response_draws, s.seed)
            responses[source] = r
            figures.update(_response_rows(r))
        for row in _rows(method, figures, source, cats):
            key = (row["figure"], row["detail"])
            rows.setdefault(key, {k: v for k, v in row.items() if k not in ("truth", "model")}).update(
                {source: row[source]})
    table = pd.DataFrame(list(rows.values()))
    for col in ("truth", "model"):
        if col not in table:
            table[col] = np.nan
    return table[RELIABILITY_COLUMNS], responses


def fairness_tasks(panel: Panel, month: str, methods="v1,v2,v3", truth: MonthModel | None = None,
                   settings: Settings | None = None, unit: str | None = None,
                   with_frontier: bool = True) -> dict[tuple, Callable[[], object]]:
    """The independent pieces of :func:`fairness_review`, as ``{key: thunk}``: each method's figures,
    the unit's story, each frontier candidate. Each is a pure function of its arguments (its own
    seeded streams), so they may run in any order or at once (the monthly run spreads them over the
    cores: :mod:`qyb.report.prepare`) and :func:`fairness_assemble` gives the same review."""
    s = settings or Settings()
    ms = [as_method(m) for m in (methods.split(",") if isinstance(methods, str) else methods)]
    tasks: dict[tuple, Callable[[], object]] = {}
    for m in reversed(ms):  # the longest first (the last method, the one under review, reads the most)
        tasks[("method", m.name)] = partial(method_figures, panel, month, m, truth, s)
    if with_frontier:
        for i, candidate in enumerate(frontier_candidates(s)):
            tasks[("frontier", i)] = partial(frontier_row, panel, month, ms[-1], candidate, truth, s)
    if unit:
        tasks[("story",)] = partial(unit_story, panel, unit, month, ms, truth, s.coverage_draws, s.seed)
    return tasks


def fairness_assemble(results: dict[tuple, object], month: str, methods, truth_known: bool,
                      settings: Settings | None = None) -> FairnessReview:
    """The :class:`FairnessReview` of the results of :func:`fairness_tasks` (same keys)."""
    s = settings or Settings()
    ms = [as_method(m) for m in (methods.split(",") if isinstance(methods, str) else methods)]
    tables = [results[("method", m.name)][0] for m in ms]
    responses = {m.name: results[("method", m.name)][1] for m in ms}
    story = results.get(("story",))
    rows = [results[k] for k in sorted(k for k in results if k[0] == "frontier")]
    front = pd.DataFrame([r for r in rows if r is not None], columns=FRONTIER_COLUMNS) if rows else None
    notes = [] if truth_known else ["真实情况未知：各项数字由拟合的经验贝叶斯模型估计（model 列）。"]
    return FairnessReview(month, ms, pd.concat(tables, ignore_index=True), responses, story, front, truth_known, s,
                          notes)


def run_in_order(tasks: dict[tuple, Callable[[], object]]) -> dict[tuple, object]:
    """Run ``tasks`` one after another in this process (the default runner of :func:`fairness_review`)."""
    return {key: task() for key, task in tasks.items()}


def fairness_review(panel: Panel, month: str, methods="v1,v2,v3", truth: MonthModel | None = None,
                    settings: Settings | None = None, unit: str | None = None,
                    with_frontier: bool = True, run: Callable[[dict], dict] | None = None) -> FairnessReview:
    """The fairness figures of ``methods`` for ``month`` (table, responsiveness, one unit's story, frontier).

    ``truth``: the known truth (the sample's), or None on real data (then only the ``model`` column).
    ``unit``: the unit whose story is told (default none). ``with_frontier``: reliability against
    responsiveness over windows and star rules derived from the last method. ``run``: what runs
    the pieces (:func:`fairness_tasks`; default :func:`run_in_order`): the result does not depend on it.
    """
    tasks = fairness_tasks(panel, month, methods, truth, settings, unit, with_frontier)
    results = (run or run_in_order)(tasks)
    return fairness_assemble(results, month, methods, truth is not None, settings)


def unit_story(panel: Panel, unit: str, month: str, methods: list[Method], truth: MonthModel | None = None,
               n_draws: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One unit in the month before and in the month, under each method: the published rank and stars
    (each month under that method), the true ones (when the truth is known) and the calibrated 90 %
    interval of the true rank, P(true rank <= 3) and 保持星级概率 (:func:`qyb.sample.posterior.posterior_tally`).
    Columns: :data:`STORY_COLUMNS`; a month the method cannot score (too little history) is left out."""
    rows = []
    u = list(panel.units.index).index(unit)
    for m in methods:
        for mo in (add_months(month, -1), month):
            if any(x not in panel.month_pos for x in m.months_read(mo)):
                continue
            scores = scored(panel, m, mo).scores
            stars, rank = scores.stars[-1], scores.rank[-1]
            tally = posterior_tally(fit_posterior(panel, mo, m), m, mo, n_draws, seed, stars)
            q = tally.rank_quantiles([0.05, 0.95])
            true = true_scores(m, mo, truth) if truth is not None else None
            rows.append({"method": m.name, "month": mo, "unit_id": unit, "unit_name": panel.units["unit_name"].iat[u],
                         "rank": rank[u], "stars": stars[u],
                         "true_rank": true.rank[u] if true is not None else np.nan,
                         "true_stars": true.stars[u] if true is not None else np.nan,
                         "rank_p05": q[0, u], "rank_p95": q[1, u], "p_top3": tally.p_at_most(3)[u],
                         "p_same_stars": tally.same[u] / max(n_draws, 1)})
    return pd.DataFrame(rows, columns=STORY_COLUMNS)


def with_windows(method: Method, rate_window: int, star_rule: dict | None = None, shrink: str | None = None,
                 name: str | None = None) -> Method:
    """``method`` with the pooled window of its incident rates and attainment ratios set to ``rate_window``
    (rare events pooled over 12 months, and other 12-month windows, are kept), optionally another star
    rule and another shrinkage of those rates (``none`` / ``eb``): the candidates of :func:`frontier`."""
    spec = copy.deepcopy(method.spec)
    for ind in spec["indicators"]:
        t = ind["transform"] if isinstance(ind["transform"], dict) else {"type": ind["transform"]}
        if t["type"] in ("rate", "count", "attainment", "reduction") and int(t.get("window", 1)) < 12:
            t["window"] = int(rate_window)
            if shrink is not None and t["type"] in ("rate", "count"):
                t["shrink"] = shrink
        ind["transform"] = t
    changes = {"indicators": spec["indicators"]}
    if star_rule is not None:
        changes["stars"] = star_rule
    return method.derive(name or f"{method.name}-w{rate_window}", **changes)


#: star rules the frontier tries: v3's bands, and v2's shares
FRONTIER_RULES = {"bands": {"rule": "bands", "bands": {5: 6, 4: 3, 2: 3, 1: 6}},
                  "shares": {"rule": "shares", "shares": {5: 0.1, 4: 0.2, 3: 0.4, 2: 0.2, 1: 0.1}}}
#: (window of the incident rates and attainment ratios, star rule, shrinkage of those rates)
FRONTIER_CANDIDATES = ((1, "bands", "none"), (3, "bands", "none"), (3, "bands", "eb"), (6, "bands", "none"),
                       (12, "bands", "none"), (1, "shares", "none"), (3, "shares", "none"), (3, "shares", "eb"),
                       (6, "shares", "none"), (12, "shares", "none"))
STANDARD_CANDIDATES = ((1, "bands", "none"), (3, "bands", "none"), (3, "bands", "eb"), (6, "bands", "none"),
                       (12, "bands", "none"), (3, "shares", "none"))
QUICK_CANDIDATES = ((1, "bands", "none"), (3, "bands", "none"), (3, "shares", "none"), (6, "bands", "none"))


def frontier_candidates(settings: Settings) -> tuple:
    """The (window, star rule, shrinkage) triples :func:`frontier` tries by default with ``settings``:
    :data:`FRONTIER_CANDIDATES` with the ``full`` settings, :data:`STANDARD_CANDIDATES` with ``standard``,
    :data:`QUICK_CANDIDATES` with ``quick``."""
    return (FRONTIER_CANDIDATES if settings.model_checks else
            QUICK_CANDIDATES if settings.n_draws < Settings().n_draws else STANDARD_CANDIDATES)


def frontier(panel: Panel, month: str, base: Method, truth: MonthModel | None = None,
             settings: Settings | None = None, candidates=None) -> pd.DataFrame:
    """Reliability against responsiveness for candidates derived from ``base`` (:func:`with_windows`).

    ``candidates``: (window, star rule, shrinkage) triples (default: :func:`frontier_candidates`).
    Each is scored on the truth (or, without one, on
    posterior truths of the panel): index reliability, P(star = truth), P(keep star), P(star up in
    month 3 of a sustained 30 % fall) and its chance level, months until the star rises. A candidate
    needing months the data do not hold is left out. Columns: :data:`FRONTIER_COLUMNS`.
    """
    s = settings or Settings()
    rows = [frontier_row(panel, month, base, c, truth, s) for c in candidates or frontier_candidates(s)]
    return pd.DataFrame([r for r in rows if r is not None], columns=FRONTIER_COLUMNS)


def frontier_row(panel: Panel, month: str, base: Method, candidate: tuple, truth: MonthModel | None = None,
                 settings: Settings | None = None) -> dict | None:
    """One row of :func:`frontier`: the candidate ``(window, star rule, shrinkage)`` derived from ``base``
    (None when it needs months the data do not hold)."""
    s = settings or Settings()
    w, label, shrink = candidate
    m = with_windows(base, w, FRONTIER_RULES[label], shrink, f"{base.name}-w{w}-{label}-{shrink}")
    held = truth.month_pos if truth is not None else panel.month_pos
    if any(mo not in held for mo in m.months_read(month)):
        return None  # too little history for this window
    if truth is not None:
        draws, steady, source = truth, truth, "truth"
    else:
        post = fit_posterior(panel, month, m)
        draws = post.draw_truths(s.n_truths, s.seed, sorted(m.months_read(month)))
        steady, source = post.mean_model(), "model"
    n = s.n_draws if truth is not None else s.truth_draws
    f = month_figures(simulate_month(m, draws, month, n, s.seed))
    r = responsiveness(m, steady, month, s.factor, s.horizon, s.response_draws, s.seed)
    return {"candidate": m.name, "rate_window": w, "star_rule": label, "shrink": shrink,
            "index_reliability": f["index_reliability"], "p_star_truth": f["p_star_truth"],
            "p_keep_star": f["p_keep_star"], "p_rise_3m": r.p_rise_within(3),
            "p_rise_3m_control": r.control_within(3), "months_to_rise": r.months_to_rise,
            "size_ratio": f["size_ratio"], "source": source}


# ---------------------------------------------------------------- plain-Chinese readings
def _pct(x) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.0%}"


def _num(x, digits: int = 2) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _design_words(method: Method) -> str:
    """What makes a method noise-robust, in words (from its spec)."""
    words = []
    windows = sorted({int(i.transform.get("window", 1)) for i in method.indicators if i.transform.get("window", 1) > 1})
    if windows:
        words.append("数字按近 " + "、".join(map(str, windows)) + " 个月合计")
    shrunk = [i for i in method.indicators if i.transform.get("shrink") == "eb"]
    rates = [i for i in method.indicators if i.transform["type"] in ("rate", "count")]
    if shrunk and len(shrunk) == len(rates):
        words.append("发案率向全镇平均水平收缩")
    elif shrunk:
        words.append("、".join(i.name.split("（")[0] for i in shrunk) + "向全镇平均水平收缩")
    if all(i.normalise["method"] == "goalposts" for i in method.indicators):
        words.append("按固定标准而非当月最好最差单位评分")
    if any(d.get("window", 1) > 1 for d in method.deductions):
        words.append("扣分按近一年月均计")
    if method.stars.get("rule") == "bands":
        words.append("星级按与全镇中位数的差距划档")
    return "、".join(words) or "原有规则"


def _candidate_words(row) -> str:
    """A frontier candidate in words: 按近 3 个月合计、星级按与中位数差距划档（发案率收缩）."""
    rule = {"bands": "星级按与中位数差距划档", "shares": "星级按比例分配"}.get(row["star_rule"], row["star_rule"])
    shrink = "、发案率收缩" if row.get("shrink") == "eb" else ""
    return f"“按近 {int(row['rate_window'])} 个月合计、{rule}{shrink}”"


def fairness_readings(fr: FairnessReview) -> dict[str, str]:
    """Short plain-Chinese readings of a :class:`FairnessReview` (keys: ``source``, ``reliability``,
    ``stars``, ``intervals``, ``size``, ``responsiveness``, ``story``, ``frontier``, ``conclusion``), for
    a 综治办 reader: no formulas, every number with what it means."""
    names = [m.name for m in fr.methods]
    v = fr.value
    out = {}
    out["source"] = ("以下数字来自示例数据的“真实情况”（生成示例数据时设定的各单位真实发案水平），并与只用数据本身估计的结果"
                     "（经验贝叶斯模型）对照：两者一致，说明在真实数据上也可以用模型估计这些数字。" if fr.truth_known else
                     "真实情况未知：以下数字由按本地数据拟合的经验贝叶斯模型估计（假定各单位的真实发案水平在近一年内稳定）。")
    parts = [f"{n}：{_pct(v(n, 'index_reliability'))}" for n in names]
    out["reliability"] = (
        "“指数信度”是各村（社区）本月平安形势指数的差别中，真正反映工作差别、而不是偶然波动的部分。"
        + "；".join(parts) + "。信度低于一半，意味着排名先后主要由偶然因素决定。")
    parts = [f"{n} 与真实星级一致 {_pct(v(n, 'p_star_truth'))}、下月保持 {_pct(v(n, 'p_keep_star'))}" for n in names]
    out["stars"] = "公布的星级有多大把握：" + "；".join(parts) + "。"
    parts = []
    for n in names:
        parts.append(f"{n} 原方法（以本月观测值为准重抽样）覆盖 {_pct(v(n, 'coverage_overall', 'bootstrap'))}、"
                     f"首尾三名仅 {_pct(v(n, 'coverage_extreme', 'bootstrap'))}；新方法（先估计真实水平再抽样）覆盖 "
                     f"{_pct(v(n, 'coverage_overall', 'posterior'))}、首尾三名 {_pct(v(n, 'coverage_extreme', 'posterior'))}，"
                     f"预测的保持星级概率平均 {_pct(v(n, 'p_keep_predicted', 'posterior'))}，实际 "
                     f"{_pct(v(n, 'p_keep_observed', 'posterior'))}")
    out["intervals"] = ("90% 排名区间应当在九成情况下包含真实名次。" + "；".join(parts) +
                        "。原方法把本月的偶然好坏当成真实水平，对排在最前和最后的单位尤其过于自信；新方法的区间和保持星级概率与实际相符，"
                        "榜单上的“排名区间”和“保持星级概率”现由新方法给出。")
    parts = [f"{n} 为 {_num(v(n, 'size_ratio'), 1)} 倍" for n in names]
    out["size"] = ("人口最少的四分之一单位（多为村）落入首三名或末三名的可能，相对其他单位：" + "；".join(parts) +
                   "。小单位的数字少，偶然波动大，更容易忽上忽下，并非工作忽好忽坏。")
    parts = [f"{n} 第 3 个月上升的概率 {_pct(v(n, 'p_rise_3m'))}（即使没有下降也会偶然上升 {_pct(v(n, 'p_rise_3m_control'))}），"
             f"半数情况下 {_num(v(n, 'months_to_rise'), 0)} 个月内上升" for n in names]
    out["responsiveness"] = ("如果某单位的各类警情、事故真实减少 30% 并保持下去，星级多快能反映出来：" + "；".join(parts) +
                             "。星级既要稳，也要能及时体现真实进步。")
    if fr.story is not None and len(fr.story):
        st = fr.story
        name = st["unit_name"].iat[0]
        lines = []
        for n in names:
            rows = st[st["method"] == n].sort_values("month")
            if not len(rows):
                continue
            seq = "、".join(f"{r.month[-2:].lstrip('0')} 月第 {int(r.rank)} 名（{int(r.stars)} 星）" for r in rows.itertuples())
            last = rows.iloc[-1]
            truth = (f"，真实名次约为第 {int(last.true_rank)} 名" if np.isfinite(last.true_rank) else "")
            lines.append(f"按 {n}：{seq}{truth}，本月真实名次 90% 区间为第 {int(last.rank_p05)}–{int(last.rank_p95)} 名")
        out["story"] = f"{name}：" + "；".join(lines) + "。名次大起大落而真实名次区间变化不大时，起落主要来自偶然波动。"
    else:
        out["story"] = ""
    f = fr.frontier
    if f is not None and len(f):
        meets = f[(f["index_reliability"] >= 0.7) & (f["p_star_truth"] >= 0.7) & (f["p_rise_3m"] >= 0.8)]
        best_rel = f.sort_values("index_reliability").iloc[-1]
        fastest = f.sort_values("p_rise_3m").iloc[-1]
        text = ("不同合计期、星级规则与收缩方式的取舍：合计期越长，信度越高，但真实进步反映得越慢；星级按比例分配反应快，"
                "但偶然升降也多。"
                f"信度最高的是{_candidate_words(best_rel)}（信度 {_pct(best_rel['index_reliability'])}，星级与真实一致 "
                f"{_pct(best_rel['p_star_truth'])}，第 3 个月上升概率 {_pct(best_rel['p_rise_3m'])}）；反应最快的是"
                f"{_candidate_words(fastest)}（第 3 个月上升概率 {_pct(fastest['p_rise_3m'])}，但不下降也会偶然上升 "
                f"{_pct(fastest['p_rise_3m_control'])}，星级与真实一致仅 {_pct(fastest['p_star_truth'])}）。")
        if len(meets):
            pick = meets.sort_values("rate_window").iloc[0]
            text += (f"同时达到三项目标（信度 ≥ 70%、星级与真实一致 ≥ 70%、第 3 个月上升 ≥ 80%）的是"
                     f"{_candidate_words(pick)}。")
        else:
            text += ("没有一种组合同时达到三项目标（信度 ≥ 70%、星级与真实一致 ≥ 70%、第 3 个月上升 ≥ 80%），"
                     "需要在“稳”与“快”之间取舍（见上表）。")
        out["frontier"] = text
    else:
        out["frontier"] = ""
    last = fr.methods[-1]
    ln = last.name
    out["conclusion"] = (
        "结论：星级若主要取决于偶然波动，就不宜据此奖惩。"
        f"{ln}（{_design_words(last)}）的指数信度为 {_pct(v(ln, 'index_reliability'))}，星级与真实一致 "
        f"{_pct(v(ln, 'p_star_truth'))}，真实进步 30% 时第 3 个月星级上升的概率 {_pct(v(ln, 'p_rise_3m'))}"
        + ("。代价是多数单位同为三星：它们之间的差别小于每月的偶然波动，本来就分不出高下。"
           if last.stars.get("rule") == "bands" else "。"))
    return out
