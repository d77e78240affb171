"""The tables of the monthly report: the 榜单 (ranking list) and the 体检表 (unit check-up sheet).

Pure functions: they take the scorecard (:func:`qyb.scorecard.scorecard_for`),
the tidy indicator table (:meth:`qyb.score.ScoreTable.indicator_long`), the
raw panel values and the method, and return DataFrames or small result
objects. No file or network I/O; the notebooks ``01_ranking`` and
``04_unit_profiles`` call them and display the result, and the run writes the
same tables as CSV/XLSX.

Movement on the 榜单 is measured against the rank *published* last month
(``rank_prev_published``: under the method then in force), which is what a
reader of last month's list saw; when the method changed between the two
editions the list says so (:func:`method_change_note`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qyb.data.catalogue import MEASURE_BY_CODE
from qyb.data.months import add_months, month_number

STAR = "★"
UP, DOWN, SAME = "↑", "↓", "—"

#: Column code -> Chinese header of the published 榜单 (ranking.csv / ranking.xlsx).
RANKING_HEADERS: dict[str, str] = {
    "rank": "排名",
    "unit_name": "村(社区)",
    "unit_id": "单位编码",
    "index": "平安形势指数",
    "stars_text": "星级",
    "stars": "星数",
    "rank_prev_published": "上期排名",
    "movement": "升降",
}
INDEX_DECIMALS = 2
CATEGORY_DECIMALS = 1


# ---------------------------------------------------------------- small formatters
def star_string(stars) -> str | pd.Series:
    """1-5 stars as ★ characters ("★★★"); accepts a number or a Series."""
    if isinstance(stars, pd.Series):
        return stars.map(lambda n: STAR * int(n) if pd.notna(n) else "")
    return STAR * int(stars) if pd.notna(stars) else ""


def movement_text(rank, rank_prev):
    """Movement since last month's rank: "↑3" (rose 3 places), "↓2", "—" (unchanged), "" (no previous rank).

    Accepts scalars or aligned Series (nullable integers).
    """
    if isinstance(rank, pd.Series):
        prev = pd.Series(rank_prev, index=rank.index)
        return pd.Series([movement_text(r, p) for r, p in zip(rank, prev)], index=rank.index, dtype=object)
    if rank_prev is None or pd.isna(rank_prev) or pd.isna(rank):
        return ""
    change = int(rank_prev) - int(rank)
    if change > 0:
        return f"{UP}{change}"
    if change < 0:
        return f"{DOWN}{-change}"
    return SAME


def movement_phrase(rank, rank_prev) -> str:
    """"↑25（上期第27名）" — the movement with last month's rank, for a profile headline."""
    text = movement_text(rank, rank_prev)
    if text == "":
        return "无上期排名 (no previous rank)"
    return f"{text}（上期第{int(rank_prev)}名）"


def category_names(method) -> dict[str, str]:
    """``cat_<code>`` column -> Chinese category name, in the method's order."""
    return {f"cat_{g.code}": g.name for g in method.categories}


# ---------------------------------------------------------------- 榜单
def ranking_table(card: pd.DataFrame, method, intervals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published 榜单: one row per unit, best first, Chinese headers, ★ strings, movement arrows.

    Columns: 排名, 村(社区), 单位编码, 平安形势指数 (2 decimals), 星级 (★), 星数,
    上期排名 (published), 升降, then one column per category (1 decimal), in the
    method's order. Ties keep the unit register order (unit_id). With ``intervals`` (the frame of
    :func:`qyb.uncertainty.rank_intervals_for`), two more: 排名区间 (5–95%), 保持星级概率.
    """
    cats = category_names(method)
    out = card.sort_values(["rank", "unit_id"], kind="stable").reset_index(drop=True)
    prev = out["rank_prev_published"] if "rank_prev_published" in out else out["rank_prev"]
    table = pd.DataFrame({
        "rank": out["rank"].astype(int),
        "unit_name": out["unit_name"],
        "unit_id": out["unit_id"],
        "index": out["index"].astype(float).round(INDEX_DECIMALS),
        "stars_text": star_string(out["stars"]),
        "stars": out["stars"].astype(int),
        "rank_prev_published": pd.array(prev, dtype="Int64"),
        "movement": movement_text(out["rank"], prev),
    })
    for col, name in cats.items():
        table[col] = out[col].astype(float).round(CATEGORY_DECIMALS)
    if intervals is not None:  # issue 4: 排名区间 and 保持星级概率 from qyb.uncertainty.rank_intervals_for
        from qyb.movements.intervals import ranking_columns
        table = table.join(ranking_columns(intervals), on="unit_id")
    return table.rename(columns={**RANKING_HEADERS, **cats})


def method_change_note(card: pd.DataFrame) -> str:
    """A sentence saying which method this edition uses and whether it changed since last month."""
    method = str(card["method"].iat[0])
    prev = str(card["method_prev_published"].iat[0]) if "method_prev_published" in card else ""
    if not prev:
        return f"本期采用评分办法 {method}；无上期公布排名 (method {method}; no previous edition)。"
    if prev != method:
        return (f"注意：评分办法由上期的 {prev} 调整为本期的 {method}，升降按上期公布排名（{prev}）计算 "
                f"(the method changed from {prev} to {method}; movement is against last month's published rank)。")
    return f"本期与上期均采用评分办法 {method} (method {method}, unchanged)。"


def movers(card: pd.DataFrame, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` biggest risers and fallers against last month's published rank.

    Returns two frames (村(社区), 单位编码, 上期排名, 本期排名, 升降, 星级); units
    that did not move are left out, so either frame may be shorter than ``n``.
    """
    prev = card["rank_prev_published"] if "rank_prev_published" in card else card["rank_prev"]
    change = (pd.array(prev, dtype="Int64") - pd.array(card["rank"], dtype="Int64"))
    frame = pd.DataFrame({
        "村(社区)": card["unit_name"].to_numpy(),
        "单位编码": card["unit_id"].to_numpy(),
        "上期排名": pd.array(prev, dtype="Int64"),
        "本期排名": card["rank"].astype(int).to_numpy(),
        "change": change,
        "星级": star_string(card["stars"].reset_index(drop=True)).to_numpy(),
    }).dropna(subset=["change"])
    frame["升降"] = movement_text(pd.Series(frame["本期排名"]), frame["上期排名"])
    cols = ["村(社区)", "单位编码", "上期排名", "本期排名", "升降", "星级"]
    risers = frame[frame["change"] > 0].sort_values(["change", "本期排名"], ascending=[False, True], kind="stable")
    fallers = frame[frame["change"] < 0].sort_values(["change", "本期排名"], ascending=[True, True], kind="stable")
    return risers.head(n)[cols].reset_index(drop=True), fallers.head(n)[cols].reset_index(drop=True)


def star_distribution(card: pd.DataFrame) -> pd.DataFrame:
    """How many units have each star rating (5 down to 1), their share and names (best first)."""
    total = len(card)
    rows = []
    for n in (5, 4, 3, 2, 1):
        units = card[card["stars"] == n].sort_values(["rank", "unit_id"], kind="stable")
        rows.append({"星级": STAR * n, "星数": n, "单位数": len(units),
                     "占比": round(len(units) / total, 4) if total else 0.0,
                     "单位": "、".join(units["unit_name"])})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- 体检表
def history_start(month: str, first_data_month: str, history_needed: int, n: int = 12) -> str:
    """First month of the ``n``-month index history that the data allow under a method.

    A method that looks back ``history_needed`` months (e.g. 12 for a year-on-year
    压降率) can score a month only if that much data precede it.
    """
    earliest = add_months(first_data_month, history_needed)
    start = add_months(month, -(n - 1))
    return start if month_number(start) >= month_number(earliest) else min(earliest, month)


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


def raw_figures(indicator, unit_id: str, month: str, raw: pd.DataFrame, units: pd.DataFrame) -> str:
    """The raw figures behind one indicator value of one unit, in words.

    ``raw`` is the panel's raw measures indexed by (month, unit_id). Rates show the
    count and the denominator; 压降率 the count now and its baseline months;
    attainment ratios handled / total.
    """
    def get(code: str, m: str):
        try:
            v = raw.at[(m, unit_id), code]
        except KeyError:
            return None
        return None if pd.isna(v) else v

    def fmt(v) -> str:
        return "—" if v is None else f"{v:,.0f}"

    t, m = indicator.transform, indicator.measures
    kind = t["type"]
    if kind == "rate":
        code = m["value"]
        den = t.get("denominator", "population")
        den_value = units.at[unit_id, den] if den in units.columns else None
        den_name = {"population": "常住人口", "floating_population": "流动人口"}.get(den, den)
        return f"{MEASURE_BY_CODE[code].name} {fmt(get(code, month))} 起，{den_name} {fmt(den_value)}"
    if kind == "reduction":
        code = m["value"]
        lags = {"yoy": (12,), "mom": (1,), "3m": (1, 2, 3)}[t.get("baseline", "yoy")]
        base = [get(code, add_months(month, -k)) for k in lags]
        label = {"yoy": "去年同期", "mom": "上月", "3m": "前三月"}[t.get("baseline", "yoy")]
        base_text = "、".join(fmt(b) for b in base)
        return f"{MEASURE_BY_CODE[code].name} 本月 {fmt(get(code, month))} 起，{label} {base_text} 起"
    if kind == "attainment":
        h, tot = m["handled"], m["total"]
        return f"{MEASURE_BY_CODE[h].name} {fmt(get(h, month))} / {MEASURE_BY_CODE[tot].name} {fmt(get(tot, month))}"
    code = m["value"]
    return f"{MEASURE_BY_CODE[code].name} {fmt(get(code, month))} 起"


def weakest_indicators(long: pd.DataFrame, unit_id: str, method, raw: pd.DataFrame, units: pd.DataFrame,
                       n: int = 3) -> pd.DataFrame:
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
                     "原始数据": raw_figures(ind, unit_id, month, raw, units)})
    return pd.DataFrame(rows)


def index_history(history: pd.DataFrame, unit_id: str, n: int = 12) -> pd.DataFrame:
    """The unit's index, stars and rank over the last ``n`` months of a multi-month scorecard."""
    own = history[history["unit_id"] == unit_id].sort_values("month").tail(n)
    return pd.DataFrame({"月份": own["month"].to_numpy(),
                         "平安形势指数": own["index"].astype(float).round(INDEX_DECIMALS).to_numpy(),
                         "星级": star_string(own["stars"].reset_index(drop=True)).to_numpy(),
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
        return (f"平安形势指数 {self.index:.2f}，{star_string(self.stars)}，第 {self.rank} 名 / {self.n_units}，"
                f"{movement_phrase(self.rank, self.rank_prev)}")


def unit_profiles(card: pd.DataFrame, long: pd.DataFrame, history: pd.DataFrame, method,
                  raw: pd.DataFrame, units: pd.DataFrame, unit: str | None = None,
                  n_weakest: int = 3) -> list[UnitProfile]:
    """体检表 of every unit (in rank order), or of one unit given by id or Chinese name.

    Raises ValueError naming the known units when ``unit`` matches none.
    """
    ordered = card.sort_values(["rank", "unit_id"], kind="stable")
    if unit:
        pick = ordered[(ordered["unit_id"] == unit) | (ordered["unit_name"] == unit)]
        if pick.empty:
            raise ValueError(f"unknown unit '{unit}'; use a unit_id or name from units.csv, "
                             f"e.g. {ordered['unit_id'].iat[0]} ({ordered['unit_name'].iat[0]})")
        ordered = pick
    prev_col = "rank_prev_published" if "rank_prev_published" in card else "rank_prev"
    out = []
    for r in ordered.itertuples(index=False):
        row = r._asdict()
        prev = row[prev_col]
        notes = []
        if row.get("imputed"):
            notes.append(f"插补指标 (imputed): {row['imputed']}")
        row = {k: v for k, v in row.items() if not k.startswith("ind_")}
        row["rank_change"] = pd.NA if prev is None or pd.isna(prev) else int(prev) - int(row["rank"])
        out.append(UnitProfile(
            unit_id=row["unit_id"], unit_name=row["unit_name"], month=row["month"], index=float(row["index"]),
            stars=int(row["stars"]), rank=int(row["rank"]), rank_prev=None if pd.isna(prev) else int(prev),
            n_units=len(card), categories=category_comparison(card, row["unit_id"], method),
            weakest=weakest_indicators(long, row["unit_id"], method, raw, units, n_weakest),
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
