"""The 体检表 (check-up sheet) of a unit: its index, stars and rank with the movement, each category
against the town median and best, its weakest indicators (短板) with the raw figures behind them,
and its index over the last 12 months.

Pure functions on an :class:`~qyb.edition.Edition` (scorecard, indicator table, history, panel);
nothing here reads or writes a file.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from qyb.data.catalogue import MEASURE_BY_CODE
from qyb.data.months import add_months
from qyb.data.panel import Panel
from qyb.report.ranking import CATEGORY_DECIMALS, category_names
from qyb.vocab import BASELINES, INDEX_DECIMALS, fmt_score, movement_phrase, movement_text, stars_text

__all__ = ["UnitProfile", "unit_profiles", "category_comparison", "style_categories", "format_indicator_value",
           "raw_figures", "weakest_indicators", "index_history", "town_reference", "town_index_median",
           "profiles_summary"]


def category_comparison(card: pd.DataFrame, unit_id: str, method) -> pd.DataFrame:
    """Each category's score for one unit beside the town median and best.

    Columns: 类别, code, 本单位, 全镇中位数, 全镇最高, 与中位数差 (unit minus median),
    in the method's category order.
    """
    cats = category_names(method)
    row = card.set_index("unit_id").loc[unit_id]
    rows = []
    for col, name in cats.items():
        values = card[col].astype(float)
        median, best, own = float(values.median()), float(values.max()), float(row[col])
        rows.append({"类别": name, "code": col[4:], "本单位": round(own, CATEGORY_DECIMALS),
                     "全镇中位数": round(median, CATEGORY_DECIMALS), "全镇最高": round(best, CATEGORY_DECIMALS),
                     "与中位数差": round(own - median, CATEGORY_DECIMALS)})
    return pd.DataFrame(rows)


def style_categories(categories: pd.DataFrame):
    """The category comparison as a table with in-cell bars (0-100) and 短板 (below median) in red.

    Cheap enough to show for all 29 units in one run, where 29 matplotlib charts are not.
    """
    below = categories["与中位数差"] < 0

    def colour(column: pd.Series) -> list[str]:
        return ["color: #c0392b; font-weight: bold" if b else "" for b in below]

    return (categories.style.hide(axis="index").format(precision=1)
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

    def name(code: str) -> str:  # the panel's catalogue knows measures a data folder or spec added
        cat = getattr(panel, "catalogue", None)
        if cat is not None and code in cat:
            return cat[code].name
        return MEASURE_BY_CODE[code].name if code in MEASURE_BY_CODE else code

    t, m = indicator.transform, indicator.measures
    kind = t["type"]
    if kind == "rate":
        code = m["value"]
        den = t.get("denominator", "population")
        den_value = panel.units.at[unit_id, den] if den in panel.units.columns else None
        den_name = {"population": "常住人口", "floating_population": "流动人口"}.get(den, den)
        return f"{name(code)} {fmt(get(code, month))} 起，{den_name} {fmt(den_value)}"
    if kind == "reduction":
        code = m["value"]
        base = BASELINES[t.get("baseline", "yoy")]
        values = [get(code, add_months(month, -k)) for k in base.lags]
        return (f"{name(code)} 本月 {fmt(get(code, month))} 起，{base.phrase} "
                f"{'、'.join(fmt(b) for b in values)} 起")
    if kind == "attainment":
        h, tot = m["handled"], m["total"]
        return f"{name(h)} {fmt(get(h, month))} / {name(tot)} {fmt(get(tot, month))}"
    code = m["value"]
    return f"{name(code)} {fmt(get(code, month))} 起"


def weakest_indicators(long: pd.DataFrame, unit_id: str, method, panel: Panel, n: int = 3) -> pd.DataFrame:
    """The unit's ``n`` lowest-scoring indicators (短板) with their values and raw figures.

    Ties in score keep the method's indicator order. Columns: 指标, code, 类别,
    得分, 全镇中位得分, 指标值, 原始数据.
    """
    by_code = {ind.code: ind for ind in method.indicators}
    cats = {g.code: g.name for g in method.categories}
    order = {ind.code: j for j, ind in enumerate(method.indicators)}
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
    """The unit's index, stars and rank over the last ``n`` months of a multi-month scorecard."""
    own = history[history["unit_id"] == unit_id].sort_values("month").tail(n)
    return pd.DataFrame({"月份": own["month"].to_numpy(),
                         "平安形势指数": own["index"].astype(float).round(INDEX_DECIMALS).to_numpy(),
                         "星级": own["stars"].map(stars_text).to_numpy(),
                         "排名": own["rank"].astype(int).to_numpy()})


@dataclass
class UnitProfile:
    """The 体检表 of one unit: headline figures and its three tables."""

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

    @property
    def index_series(self) -> pd.Series:
        """平安形势指数 by month (the history table as a Series, for a line chart)."""
        return pd.Series(self.history["平安形势指数"].to_numpy(), index=self.history["月份"].to_numpy(),
                         name=self.unit_name, dtype=float)

    @property
    def title(self) -> str:
        return f"{self.unit_name}（{self.unit_id}）"

    @property
    def headline(self) -> str:
        """"平安形势指数 92.64，★★★★★，第 2 名 / 29，↑25（上期第27名）"."""
        return (f"平安形势指数 {fmt_score(self.index, INDEX_DECIMALS)}，{stars_text(self.stars)}，"
                f"第 {self.rank} 名 / {self.n_units}，{movement_phrase(self.rank, self.rank_prev)}")


def unit_profiles(edition, unit_id: str | None = None, n_weakest: int = 3) -> list[UnitProfile]:
    """体检表 of every unit of an :class:`~qyb.edition.Edition` (in rank order), or of ``unit_id``."""
    card = edition.scorecard
    ordered = card.sort_values(["rank", "unit_id"], kind="stable")
    if unit_id:
        ordered = ordered[ordered["unit_id"] == unit_id]
    long, history, method = edition.indicators, edition.history, edition.method
    out = []
    for r in ordered.itertuples(index=False):
        row = r._asdict()
        prev = row["rank_prev_published"]
        notes = []
        if row.get("imputed"):
            notes.append(f"插补指标 (imputed): {row['imputed']}")
        row = {k: v for k, v in row.items() if not k.startswith("ind_")}
        row["rank_change"] = pd.NA if prev is None or pd.isna(prev) else int(prev) - int(row["rank"])
        out.append(UnitProfile(
            unit_id=row["unit_id"], unit_name=row["unit_name"], month=row["month"], index=float(row["index"]),
            stars=int(row["stars"]), rank=int(row["rank"]), rank_prev=None if pd.isna(prev) else int(prev),
            n_units=len(card), categories=category_comparison(card, row["unit_id"], method),
            weakest=weakest_indicators(long, row["unit_id"], method, edition.panel, n_weakest),
            history=index_history(history, row["unit_id"]), row=row, notes=notes))
    return out


def town_reference(card: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Town median and best of every ``cat_`` score (Series indexed by the ``cat_`` column)."""
    cats = card[[c for c in card.columns if c.startswith("cat_")]].astype(float)
    return cats.median(), cats.max()


def town_index_median(history: pd.DataFrame, n: int = 12) -> pd.Series:
    """The town's median 平安形势指数 per month over the last ``n`` months of a multi-month scorecard."""
    return history.groupby("month")["index"].median().sort_index().tail(n)


def profiles_summary(profiles: list[UnitProfile]) -> pd.DataFrame:
    """One machine-readable row per profiled unit: headline figures and the three 短板 codes."""
    rows = []
    for p in profiles:
        weak = list(p.weakest["code"]) + [""] * 3
        rows.append({"unit_id": p.unit_id, "unit_name": p.unit_name, "month": p.month,
                     "index": round(p.index, INDEX_DECIMALS), "stars": p.stars, "rank": p.rank,
                     "rank_prev_published": p.rank_prev, "movement": movement_text(p.rank, p.rank_prev),
                     "weakest_1": weak[0], "weakest_2": weak[1], "weakest_3": weak[2]})
    return pd.DataFrame(rows).astype({"rank_prev_published": "Int64"}) if rows else pd.DataFrame()
