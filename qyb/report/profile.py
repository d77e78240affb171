"""The 体检表 (check-up sheet) of a unit: its index, stars and rank with the movement, each category
against the town median and best, its weakest indicators (短板) with the raw figures behind them,
every deduction (扣分) with its reason, the 预警 that name it, and its last 12 months **as published**
(:mod:`qyb.report.published`; re-scored figures under the current method beside them, labelled).

Pure functions on an :class:`~qyb.edition.Edition` (scorecard, indicator table, published history,
panel); nothing here writes a file (the published history may read earlier months' records).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from qyb.data.catalogue import measure_of
from qyb.data.months import add_months
from qyb.data.panel import Panel
from qyb.report.htmlsafe import escape_frame
from qyb.report.ranking import CATEGORY_DECIMALS, category_names
from qyb.vocab import BASELINES, INDEX_DECIMALS, fmt_score, movement_phrase, movement_text, stars_text

__all__ = ["UnitProfile", "unit_profiles", "category_comparison", "style_categories", "format_indicator_value",
           "raw_figures", "weakest_indicators", "index_history", "town_reference", "town_index_median",
           "profiles_summary"]


def category_comparison(card: pd.DataFrame, unit_id: str, method, reference: tuple | None = None) -> pd.DataFrame:
    """Each category's score for one unit beside the town median and best.

    Columns: 类别, code, 本单位, 全镇中位数, 全镇最高, 与中位数差 (unit minus median),
    in the method's category order. ``reference``: :func:`town_reference` of ``card``, computed once
    when many units are compared.
    """
    cats = category_names(method)
    median, best = reference if reference is not None else town_reference(card)
    own = card.loc[card["unit_id"] == unit_id, list(cats)].astype(float).iloc[0]
    cols = list(cats)
    values = own.to_numpy()
    med, top = median.reindex(cols).to_numpy(dtype=float), best.reindex(cols).to_numpy(dtype=float)
    return pd.DataFrame({"类别": list(cats.values()), "code": [c[4:] for c in cols],
                         "本单位": values.round(CATEGORY_DECIMALS), "全镇中位数": med.round(CATEGORY_DECIMALS),
                         "全镇最高": top.round(CATEGORY_DECIMALS),
                         "与中位数差": (values - med).round(CATEGORY_DECIMALS)})


def style_categories(categories: pd.DataFrame):
    """The category comparison as a table with in-cell bars (0-100) and 短板 (below median) in red.

    Cheap enough to show for all 29 units in one run, where 29 matplotlib charts are not.
    """
    below = (categories["与中位数差"] < 0).to_numpy()
    categories = categories.drop(columns=[c for c in ("code",) if c in categories]).reset_index(drop=True)

    def colour(column: pd.Series) -> list[str]:
        return ["color: #c0392b; font-weight: bold" if b else "" for b in below]

    categories = escape_frame(categories)  # category names come from the spec: text, not markup
    return (categories.style.hide(axis="index").format(fmt_score, subset=categories.columns[1:])
            .bar(subset=["本单位"], vmin=0, vmax=100, color="#8fbc8f")
            .apply(colour, subset=["类别", "与中位数差"]))


def format_indicator_value(value: float, transform: dict) -> str:
    """An indicator value as a reader expects it: rates per 10,000, percentages, counts."""
    if value is None or pd.isna(value):
        return "缺失 (missing)"
    kind = transform["type"]
    if kind == "rate":
        return f"{value:.2f} 起/万人"
    if kind == "reduction":
        return f"{value * 100:+.1f}%"
    if kind == "attainment":
        return f"{value * 100:.1f}%"
    return f"{value:g}"


def raw_figures(indicator, unit_id: str, month: str, panel: Panel) -> str:
    """The raw figures behind one indicator value of one unit, in words.

    Rates show the count and the denominator; 压降率 the count now and its baseline months;
    attainment ratios handled / total.
    """
    def get(code: str, m: str):
        return panel.value(m, unit_id, code)

    def fmt(v) -> str:
        return "—" if v is None else f"{v:,.0f}"

    catalogue = getattr(panel, "catalogue", None)  # knows measures a data folder or spec added

    def name(code: str) -> str:
        measure = measure_of(code, catalogue)
        return code if measure is None else measure.name

    def unit(code: str) -> str:  # the unit of measure the catalogue gives (宗, 起, 人, 间 …)
        measure = measure_of(code, catalogue)
        return (measure.unit if measure is not None and measure.unit else "起")

    t, m = indicator.transform, indicator.measures
    kind = t["type"]
    if kind == "rate":
        code = m["value"]
        den = t.get("denominator", "population")
        den_value = panel.units.at[unit_id, den] if den in panel.units.columns else None
        den_name = {"population": "常住人口", "floating_population": "流动人口"}.get(den, den)
        return f"{name(code)} {fmt(get(code, month))} {unit(code)}，{den_name} {fmt(den_value)}"
    if kind == "reduction":
        code = m["value"]
        base = BASELINES[t.get("baseline", "yoy")]
        values = [get(code, add_months(month, -k)) for k in base.lags]
        return (f"{name(code)} 本月 {fmt(get(code, month))} {unit(code)}，{base.phrase} "
                f"{'、'.join(fmt(b) for b in values)} {unit(code)}")
    if kind == "attainment":
        h, tot = m["handled"], m["total"]
        return f"{name(h)} {fmt(get(h, month))} / {name(tot)} {fmt(get(tot, month))}"
    code = m["value"]
    return f"{name(code)} {fmt(get(code, month))} {unit(code)}"


def weakest_indicators(long: pd.DataFrame, unit_id: str, method, panel: Panel, n: int = 3,
                       medians: pd.Series | None = None) -> pd.DataFrame:
    """The unit's ``n`` lowest-scoring indicators (短板) with their values and raw figures.

    Ties in score keep the method's indicator order. Columns: 指标, code, 类别,
    得分, 全镇中位得分, 指标值, 原始数据. ``medians``: the town median score per indicator
    (computed from ``long`` when not given).
    """
    by_code = {ind.code: ind for ind in method.indicators}
    cats = {g.code: g.name for g in method.categories}
    order = {ind.code: j for j, ind in enumerate(method.indicators)}
    if medians is None:
        medians = long.groupby("indicator")["score"].median()
    own = long[long["unit_id"] == unit_id].copy()
    own["order"] = own["indicator"].map(order)
    own = own.sort_values(["score", "order"], kind="stable").head(n)
    month = str(own["month"].iat[0]) if len(own) else ""
    rows = []
    for r in own.itertuples():
        ind = by_code[r.indicator]
        rows.append({"指标": r.indicator_name, "code": r.indicator, "类别": cats.get(r.category, r.category),
                     "得分": round(float(r.score), CATEGORY_DECIMALS),
                     "全镇中位得分": round(float(medians[r.indicator]), CATEGORY_DECIMALS),
                     "指标值": format_indicator_value(r.value, ind.transform) + ("（插补）" if r.imputed else ""),
                     "原始数据": raw_figures(ind, unit_id, month, panel)})
    return pd.DataFrame(rows)


def index_history(history: pd.DataFrame, unit_id: str, n: int = 12) -> pd.DataFrame:
    """The unit's last ``n`` months **as published** (rows of :func:`qyb.report.published.published_history`).

    Columns: 月份, 平安形势指数, 星级, 排名, 升降, 扣分, 评分办法, 来源 (发布记录 / 按当时办法重算 /
    本期发布), and, labelled, the same month under the current method: 按现行办法重算指数 and
    按现行办法重算排名 (empty where it cannot score the month). A plain multi-month scorecard (no
    ``source``) is shown as it is.
    """
    from qyb.report.published import unit_history

    own = unit_history(history, unit_id, n)
    out = pd.DataFrame({"月份": own["month"].astype(str).to_numpy(),
                        "平安形势指数": own["index"].astype(float).round(INDEX_DECIMALS).to_numpy(),
                        "星级": own["stars"].map(stars_text).to_numpy(),
                        "排名": pd.array(own["rank"], dtype="Int64")})
    if "source" in own:
        rescored = pd.to_numeric(own["index_rescored"], errors="coerce").round(INDEX_DECIMALS)
        out["升降"] = own["movement"].to_numpy()
        out["扣分"] = own["deduction"].astype(float).to_numpy()
        out["评分办法"] = own["method"].to_numpy()
        out["来源"] = own["source"].to_numpy()
        out[f"按现行办法（{own['rescored_method'].iat[-1]}）重算指数" if len(own) else "按现行办法重算指数"] = \
            rescored.to_numpy()
        out["按现行办法重算排名"] = pd.array(pd.to_numeric(own["rank_rescored"], errors="coerce"), dtype="Int64")
    return out


@dataclass
class UnitProfile:
    """The 体检表 of one unit: headline figures and its tables.

    ``categories``: each category against the town median and best; ``weakest``: the 短板
    indicators with their raw figures; ``deductions``: every 扣分 of the month with its reason
    (:func:`qyb.report.deductions.deduction_items` rows of this unit); ``history``: the last 12
    months as published (:func:`index_history`); ``alerts``: the 预警 that name this unit
    (``level``, ``rule``, ``months``).
    """

    unit_id: str
    unit_name: str
    month: str
    index: float
    stars: int
    rank: int
    rank_prev: int | None
    n_units: int
    categories: pd.DataFrame
    weakest: pd.DataFrame
    history: pd.DataFrame
    row: dict = field(default_factory=dict)  # the scorecard row, rank_change against the published rank
    notes: list[str] = field(default_factory=list)
    deductions: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: list[dict] = field(default_factory=list)

    @property
    def index_series(self) -> pd.Series:
        """平安形势指数 by month as published (the history table as a Series, for a line chart)."""
        return pd.Series(self.history["平安形势指数"].to_numpy(), index=self.history["月份"].to_numpy(),
                         name=self.unit_name, dtype=float)

    @property
    def title(self) -> str:
        """The unit's name as a page heading (no internal code)."""
        return self.unit_name

    @property
    def headline(self) -> str:
        """"平安形势指数 92.64，★★★★★，第 2 名 / 29，↑25（上期第27名）"."""
        return (f"平安形势指数 {fmt_score(self.index, INDEX_DECIMALS)}，{stars_text(self.stars)}，"
                f"第 {self.rank} 名 / {self.n_units}，{movement_phrase(self.rank, self.rank_prev)}")

    @property
    def deduction_lines(self) -> list[str]:
        """Each deduction as printed (``交通事故死亡 1 人，交通安全 −20``); empty when none."""
        return list(self.deductions["text"]) if len(self.deductions) else []


def unit_profiles(edition, unit_id: str | None = None, n_weakest: int = 3, *, history: pd.DataFrame | None = None,
                  deductions: pd.DataFrame | None = None, alerts: pd.DataFrame | None = None,
                  card: pd.DataFrame | None = None) -> list[UnitProfile]:
    """体检表 of every unit of an :class:`~qyb.edition.Edition` (in rank order), or of ``unit_id``.

    ``history``: the published history (:func:`qyb.report.published.published_history`; default:
    computed without records, i.e. every earlier month under the method in force then);
    ``deductions``: the month's :func:`~qyb.report.deductions.deduction_items` (default: computed);
    ``alerts``: the 预警 list (:func:`qyb.report.alerts.alert_table`; default: none shown);
    ``card``: the scorecard as published (default ``edition.scorecard``). Town medians and bests
    are computed once for all units.
    """
    from qyb.report.deductions import deduction_items
    from qyb.report.published import published_history

    card = edition.scorecard if card is None else card
    method = edition.method
    if history is None:
        history = published_history(edition, current=None)
    if deductions is None:
        deductions = deduction_items(edition.panel, edition.month, method, card)
    ordered = card.sort_values(["rank", "unit_id"], kind="stable")
    if unit_id:
        ordered = ordered[ordered["unit_id"] == unit_id]
    long = edition.indicators
    medians = long.groupby("indicator")["score"].median()
    reference = town_reference(card)
    by_unit_deductions = dict(tuple(deductions.groupby("unit_id", sort=False))) if len(deductions) else {}
    by_unit_alerts = ({u: g[["level", "rule", "months", "first_month", "last_month", "streak"]].to_dict("records")
                       for u, g in alerts.groupby("unit_id", sort=False)} if alerts is not None and len(alerts) else {})
    out = []
    for r in ordered.itertuples(index=False):
        row = r._asdict()
        prev = row["rank_prev_published"]
        notes = []
        if row.get("imputed"):
            notes.append(f"插补指标：{row['imputed']}")
        row = {k: v for k, v in row.items() if not k.startswith("ind_")}
        row["rank_change"] = pd.NA if prev is None or pd.isna(prev) else int(prev) - int(row["rank"])
        uid = row["unit_id"]
        out.append(UnitProfile(
            unit_id=uid, unit_name=row["unit_name"], month=row["month"], index=float(row["index"]),
            stars=int(row["stars"]), rank=int(row["rank"]), rank_prev=None if pd.isna(prev) else int(prev),
            n_units=len(card), categories=category_comparison(card, uid, method, reference),
            weakest=weakest_indicators(long, uid, method, edition.panel, n_weakest, medians),
            history=index_history(history, uid), row=row, notes=notes,
            deductions=by_unit_deductions.get(uid, deductions.iloc[:0]).reset_index(drop=True),
            alerts=by_unit_alerts.get(uid, [])))
    return out


def town_reference(card: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Town median and best of every ``cat_`` score (Series indexed by the ``cat_`` column)."""
    cats = card[[c for c in card.columns if c.startswith("cat_")]].astype(float)
    return cats.median(), cats.max()


def town_index_median(history: pd.DataFrame, n: int = 12) -> pd.Series:
    """The town's median 平安形势指数 per month over the last ``n`` months (a published history or a
    multi-month scorecard)."""
    return history.groupby("month")["index"].median().sort_index().tail(n)


def profiles_summary(profiles: list[UnitProfile]) -> pd.DataFrame:
    """One machine-readable row per profiled unit: headline figures and the three 短板 codes."""
    rows = []
    for p in profiles:
        weak = list(p.weakest["code"]) + [""] * 3
        rows.append({"unit_id": p.unit_id, "unit_name": p.unit_name, "month": p.month,
                     "index": round(p.index, INDEX_DECIMALS), "stars": p.stars, "rank": p.rank,
                     "rank_prev_published": p.rank_prev, "movement": movement_text(p.rank, p.rank_prev),
                     "weakest_1": weak[0], "weakest_2": weak[1], "weakest_3": weak[2],
                     "deduction": float(p.deductions["points"].sum()) if len(p.deductions) else 0.0,
                     "deduction_text": "；".join(p.deduction_lines),
                     "alert": "、".join(a["level"] for a in p.alerts)})
    return pd.DataFrame(rows).astype({"rank_prev_published": "Int64"}) if rows else pd.DataFrame()
