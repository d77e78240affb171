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

import pandas as pd

from qyb.vocab import INDEX_DECIMALS, LABELS, SCORE_DECIMALS, STAR, movement_text, stars_text

#: Column code -> Chinese header of the published 榜单 (ranking.csv / ranking.xlsx).
RANKING_HEADERS: dict[str, str] = {c: LABELS[c] for c in ("rank", "unit_name", "unit_id", "index", "stars_text",
                                                          "stars", "rank_prev_published", "movement", "deduction",
                                                          "deduction_text")}
CATEGORY_DECIMALS = SCORE_DECIMALS
RANKING_INTERVAL_HEADERS = {"rank_interval": "排名区间 (5–95%)", "p_same_stars": "保持星级概率"}


# ---------------------------------------------------------------- small formatters
def star_string(stars) -> str | pd.Series:
    """1-5 stars as ★ characters ("★★★"); accepts a number or a Series (:func:`qyb.vocab.stars_text`)."""
    if isinstance(stars, pd.Series):
        return stars.map(stars_text)
    return stars_text(stars)


def movements_text(rank: pd.Series, rank_prev) -> pd.Series:
    """:func:`qyb.vocab.movement_text` of aligned Series (nullable integers)."""
    prev = pd.Series(rank_prev, index=rank.index)
    return pd.Series([movement_text(r, p) for r, p in zip(rank, prev)], index=rank.index, dtype=object)


def category_names(method) -> dict[str, str]:
    """``cat_<code>`` column -> Chinese category name, in the method's order."""
    return {f"cat_{g.code}": g.name for g in method.categories}


# ---------------------------------------------------------------- 榜单
def ranking_table(card: pd.DataFrame, method, intervals: pd.DataFrame | None = None,
                  deductions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The published 榜单: one row per unit, best first, Chinese headers, ★ strings, movement arrows.

    Columns: 排名, 村(社区), 单位编码, 平安形势指数 (2 decimals), 星级 (★), 星数,
    上期排名 (published), 升降, then one column per category (1 decimal), in the
    method's order. Ties keep the unit register order (unit_id). With ``intervals`` (the frame of
    :func:`qyb.uncertainty.rank_intervals_for`), two more: 排名区间 (5–95%), 保持星级概率. With
    ``deductions`` (:func:`qyb.report.deductions.deduction_totals`, indexed by unit_id), 扣分 (points)
    after 升降 and 扣分事由 (the reasons) after the categories.
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
        "movement": movements_text(out["rank"], prev),
    })
    if deductions is not None:
        d = deductions.reindex(out["unit_id"])
        table["deduction"] = d["deduction"].fillna(0.0).to_numpy(dtype=float)
    for col in cats:
        table[col] = out[col].astype(float).round(CATEGORY_DECIMALS)
    if deductions is not None:
        table["deduction_text"] = d["deduction_text"].fillna("").to_numpy(dtype=object)
    if intervals is not None:  # 排名区间 and 保持星级概率 from the rank intervals
        table = table.join(ranking_columns(intervals), on="unit_id")
    return table.rename(columns={**RANKING_HEADERS, **cats})


def method_change_note(card: pd.DataFrame) -> str:
    """A sentence saying which method this edition uses and whether it changed since last month."""
    method = str(card["method"].iat[0])
    prev = str(card["method_prev_published"].iat[0]) if "method_prev_published" in card else ""
    if not prev:
        return f"本期采用评分办法 {method}；无上期公布排名。"
    if prev != method:
        return f"注意：评分办法由上期的 {prev} 调整为本期的 {method}，升降按上期公布排名（{prev}）计算。"
    return f"本期与上期均采用评分办法 {method}。"


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
    frame["升降"] = movements_text(pd.Series(frame["本期排名"]), frame["上期排名"])
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




def ranking_columns(intervals: pd.DataFrame) -> pd.DataFrame:
    """The columns the published 榜单 gains, indexed by unit_id: 排名区间 (5–95%) as "p05–p95"
    and 保持星级概率 (P(stars unchanged), 2 decimals). Join on unit_id."""
    ri = intervals.set_index("unit_id")
    return pd.DataFrame({
        RANKING_INTERVAL_HEADERS["rank_interval"]: [f"{int(a)}–{int(b)}" for a, b in zip(ri["rank_p05"], ri["rank_p95"])],
        RANKING_INTERVAL_HEADERS["p_same_stars"]: ri["p_same_stars"].astype(float).round(2).to_numpy(),
    }, index=ri.index)


# ---------------------------------------------------------------- is a move beyond chance
MOVER_COLUMNS = ["unit_id", "unit_name", "rank_prev", "rank", "move", "movement", "interval_prev", "interval",
                 "beyond_chance", "verdict"]
VERDICTS = {True: "超出随机波动", False: "不能排除随机波动", None: "无法判断（缺少上期排名区间）"}


def movers_beyond_chance(card: pd.DataFrame, intervals: pd.DataFrame | None,
                         previous_intervals: pd.DataFrame | None, n: int = 5) -> pd.DataFrame:
    """The ``n`` biggest risers and the ``n`` biggest fallers against last month's published rank,
    each with whether the move is beyond chance.

    A move is beyond chance when the two months' 5–95% rank intervals (resampled counts through
    the full method, :func:`qyb.movements.intervals.rank_intervals`) do not overlap: a riser's
    upper bound now is better than its lower bound last month (:func:`qyb.movements.intervals.rank_jumps`).
    Columns :data:`MOVER_COLUMNS`; ``move`` > 0 = rose; ``beyond_chance`` None where either
    month's intervals are missing. Risers first (largest first), then fallers.
    """
    prev = card["rank_prev_published"] if "rank_prev_published" in card else card["rank_prev"]
    frame = pd.DataFrame({"unit_id": card["unit_id"].astype(str).to_numpy(),
                          "unit_name": card["unit_name"].to_numpy(),
                          "rank_prev": pd.array(prev, dtype="Int64"),
                          "rank": pd.array(card["rank"], dtype="Int64")})
    frame["move"] = frame["rank_prev"] - frame["rank"]
    frame = frame.dropna(subset=["move"])
    risers = frame[frame["move"] > 0].sort_values(["move", "rank"], ascending=[False, True], kind="stable").head(n)
    fallers = frame[frame["move"] < 0].sort_values(["move", "rank"], ascending=[True, True], kind="stable").head(n)
    out = pd.concat([risers, fallers], ignore_index=True)
    out["movement"] = [movement_text(r, p) for r, p in zip(out["rank"], out["rank_prev"])]

    def bounds(ri):
        if ri is None or not len(ri):
            return None
        b = ri.set_index(ri["unit_id"].astype(str))
        return {u: (int(lo), int(hi)) for u, lo, hi in zip(b.index, b["rank_p05"], b["rank_p95"])}

    now, before = bounds(intervals), bounds(previous_intervals)
    text = lambda b, u: f"{b[u][0]}–{b[u][1]}" if b and u in b else ""  # noqa: E731
    out["interval_prev"] = [text(before, u) for u in out["unit_id"]]
    out["interval"] = [text(now, u) for u in out["unit_id"]]
    beyond = []
    for u, move in zip(out["unit_id"], out["move"]):
        if not now or not before or u not in now or u not in before:
            beyond.append(None)
        elif move > 0:
            beyond.append(now[u][1] < before[u][0])
        else:
            beyond.append(now[u][0] > before[u][1])
    out["beyond_chance"] = pd.array(beyond, dtype="boolean")
    out["verdict"] = [VERDICTS[None if pd.isna(b) else bool(b)] for b in out["beyond_chance"]]
    out["move"] = out["move"].astype(int)
    return out[MOVER_COLUMNS].reset_index(drop=True)
