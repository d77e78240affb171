"""Published history: what the town published each month, never silently re-scored.

Each run of ``qyb run`` leaves a **record** of what it published in ``reports/YYYY-MM/published.csv``
(:data:`RECORD_FILE`): one row per unit with the index, stars and rank as printed, the deductions,
and the method's name and hash. The published history of a month ``M`` is, for every month from
the start of the mechanism (the earliest method's ``effective_from``) to ``M``:

* the record of that month where one exists (source ``发布记录``);
* otherwise the month scored under the method **in force then** (:func:`qyb.method.method_for_month`),
  which is what was (or would have been) published (source ``按当时办法重算``);
* for ``M`` itself, the edition being published (source ``本期发布``).

Beside the published figures the history carries the same months re-scored under the method of
``M`` (``index_rescored``, ``stars_rescored``, ``rank_rescored``), labelled as such: 永宁社区's
2023-02 stays 55.91 / 27th under v1 however 2023-02 scores under v2.

A month is re-published only on purpose: :func:`check_republish` refuses to replace a record whose
published figures (index to the printed decimals, stars, rank, method hash) would change.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.files import csv_bytes, read_csv_table, write_bytes_atomic
from qyb.data.months import add_months, month_number, month_range
from qyb.engine import score_panel
from qyb.errors import InputError, Problem
from qyb.method import method_for_month
from qyb.vocab import INDEX_DECIMALS, movement_text

__all__ = ["RECORD_FILE", "SOURCE_RECORD", "SOURCE_RECONSTRUCTED", "SOURCE_CURRENT", "HISTORY_COLUMNS",
           "record_frame", "read_record", "write_record", "check_republish", "published_history",
           "unit_history", "with_published_previous"]

RECORD_FILE = "published.csv"
SOURCE_RECORD = "发布记录"
SOURCE_RECONSTRUCTED = "按当时办法重算"
SOURCE_CURRENT = "本期发布"
RECORD_COLUMNS = ["month", "unit_id", "unit_name", "index", "stars", "rank", "rank_prev", "deduction",
                  "deduction_text", "method", "method_title", "method_hash"]
HISTORY_COLUMNS = [*RECORD_COLUMNS, "movement", "source", "index_rescored", "stars_rescored", "rank_rescored",
                   "rescored_method"]
_DTYPES = {"month": str, "unit_id": str, "unit_name": str, "method": str, "method_hash": str,
           "deduction_text": str, "method_title": str}


# ---------------------------------------------------------------- the record of one published month
def record_frame(card: pd.DataFrame, method, deductions: pd.DataFrame | None = None) -> pd.DataFrame:
    """The record of a published month: one row per unit, best first (:data:`RECORD_COLUMNS` and the
    ``cat_`` scores). ``card``: the scorecard as published (``rank_prev_published`` is the previous
    rank shown); ``deductions``: :func:`qyb.report.deductions.deduction_totals` indexed by unit_id."""
    out = card.sort_values(["rank", "unit_id"], kind="stable").reset_index(drop=True)
    prev = out["rank_prev_published"] if "rank_prev_published" in out else out["rank_prev"]
    frame = pd.DataFrame({
        "month": out["month"].astype(str), "unit_id": out["unit_id"].astype(str), "unit_name": out["unit_name"],
        "index": out["index"].astype(float), "stars": pd.array(out["stars"], dtype="Int64"),
        "rank": pd.array(out["rank"], dtype="Int64"), "rank_prev": pd.array(prev, dtype="Int64"),
        "deduction": 0.0, "deduction_text": "", "method": method.name, "method_title": method.title,
        "method_hash": method.hash})
    if deductions is not None:
        d = deductions.reindex(frame["unit_id"])
        frame["deduction"] = d["deduction"].fillna(0.0).to_numpy(dtype=float)
        frame["deduction_text"] = d["deduction_text"].fillna("").to_numpy(dtype=object)
    for col in [c for c in out.columns if c.startswith("cat_")]:
        frame[col] = out[col].astype(float).to_numpy()
    return frame


def read_record(reports_root: Path | str | None, month: str) -> pd.DataFrame | None:
    """The record published for ``month`` under ``reports_root`` (None when there is none)."""
    if reports_root is None:
        return None
    path = Path(reports_root) / month / RECORD_FILE
    if not path.is_file():
        return None
    frame = read_csv_table(path, dtype=_DTYPES, keep_default_na=False,
                           na_values={"index": [""], "rank": [""], "rank_prev": [""], "stars": [""]})
    for col in ("stars", "rank", "rank_prev"):
        frame[col] = pd.array(pd.to_numeric(frame[col], errors="coerce"), dtype="Int64")
    frame["deduction"] = pd.to_numeric(frame["deduction"], errors="coerce").fillna(0.0)
    return frame


def write_record(record: pd.DataFrame, folder: Path | str) -> Path:
    """Write ``record`` as ``folder/published.csv`` (UTF-8 with BOM, atomically)."""
    path = Path(folder) / RECORD_FILE
    write_bytes_atomic(csv_bytes(record), path)
    return path


def _printed(record: pd.DataFrame) -> pd.DataFrame:
    """What a reader saw: index to the printed decimals, stars, rank, method hash (by unit)."""
    return pd.DataFrame({"index": record["index"].astype(float).round(INDEX_DECIMALS).to_numpy(),
                         "stars": pd.array(record["stars"], dtype="Int64"),
                         "rank": pd.array(record["rank"], dtype="Int64"),
                         "method_hash": record["method_hash"].astype(str).to_numpy()},
                        index=record["unit_id"].astype(str).to_numpy()).sort_index()


def check_republish(reports_root: Path | str | None, record: pd.DataFrame, republish: bool = False) -> str | None:
    """Refuse (InputError) to replace a month's record with different published figures.

    Returns None when there is no record yet or the figures are the same; a sentence saying what
    changed when ``republish`` is True (the run notes it in run.json).
    """
    month = str(record["month"].iat[0])
    old = read_record(reports_root, month)
    if old is None:
        return None
    before, after = _printed(old), _printed(record)
    if before.equals(after):
        return None
    methods = (f"{old['method'].iat[0]}→{record['method'].iat[0]}"
               if old["method_hash"].iat[0] != record["method_hash"].iat[0] else str(record["method"].iat[0]))
    common = before.index.intersection(after.index)
    changed = [u for u in common if not before.loc[u].equals(after.loc[u])]
    what = (f"{month} was published under {old['method'].iat[0]} (hash {str(old['method_hash'].iat[0])[:12]}); "
            f"re-running it ({methods}) changes the published figures of {len(changed)} unit(s)"
            + (f" and the unit list ({len(before)}→{len(after)})" if len(before) != len(after) else "")
            + (f", e.g. {changed[0]}" if changed else ""))
    if republish:
        return what
    path = Path(reports_root) / month / RECORD_FILE
    raise InputError(Problem(str(path), f"已发布月份不会被悄悄改写 (a published month is not re-scored silently): {what}",
                             "Pass --republish to replace the published record on purpose "
                             "(the replaced figures are noted in run.json), or run another month."))


# ---------------------------------------------------------------- the history
def _months_published(edition) -> list[str]:
    """Months from the start of the mechanism to the edition's month that the panel holds."""
    start = edition.mechanism_start
    if month_number(start) > month_number(edition.month):
        start = edition.month
    have = set(edition.panel.months)
    return [m for m in month_range(start, edition.month) if m in have]


def _score_months(panel, method, months: list[str]) -> pd.DataFrame | None:
    """Scorecards of ``months`` under ``method`` (one engine call); months that cannot be scored
    (a gap in the files, a look-back before the data) are dropped one by one."""
    if not months:
        return None
    try:
        card = score_panel(panel, method, months).scorecard()
        return card[card["month"].isin(months)]
    except InputError:
        if len(months) == 1:
            return None
        parts = [_score_months(panel, method, [m]) for m in months]
        parts = [p for p in parts if p is not None]
        return pd.concat(parts, ignore_index=True) if parts else None


def _reconstructed(edition, months: list[str]) -> list[pd.DataFrame]:
    """Months without a record, scored under the method in force then: one engine call per method."""
    by_method: dict[str, tuple] = {}
    for m in months:
        try:
            method = method_for_month(m)
        except InputError:
            continue
        by_method.setdefault(method.hash, (method, []))[1].append(m)
    out = []
    for method, ms in by_method.values():
        card = _score_months(edition.panel, method, ms)
        if card is None:
            continue
        card = card.assign(method_title=method.title, method_hash=method.hash, source=SOURCE_RECONSTRUCTED)
        out.append(card)
    return out


def published_history(edition, reports_root: Path | str | None = None, current: pd.DataFrame | None = None,
                      rescore: bool = True) -> pd.DataFrame:
    """The published history up to the edition's month: one row per unit and month (see module doc).

    ``reports_root``: where the records are (``reports/``; None: no records, every earlier month is
    reconstructed under the method in force then); ``current``: the record of the edition's month
    (default: built from ``edition.scorecard``). Columns :data:`HISTORY_COLUMNS` and the ``cat_``
    scores; ``rank_prev`` and ``movement`` are against the previous month *as published*; the
    ``*_rescored`` columns hold the month under the edition's method (empty where it cannot score
    it). Rows are ordered by month, then rank.
    """
    months = _months_published(edition)
    earlier = [m for m in months if m != edition.month]
    parts, missing = [], []
    for m in earlier:
        rec = read_record(reports_root, m)
        if rec is None:
            missing.append(m)
        else:
            parts.append(rec.assign(source=SOURCE_RECORD))
    for card in _reconstructed(edition, missing):
        card = card.assign(deduction=np.nan, deduction_text="")
        parts.append(card)
    if current is None:
        current = record_frame(edition.scorecard, edition.method)
    parts.append(current.assign(source=SOURCE_CURRENT))
    keep = [*RECORD_COLUMNS, "source"]
    frames = []
    for p in parts:
        p = p.copy()
        for col in keep:
            if col not in p:
                p[col] = pd.NA
        frames.append(p[keep + [c for c in p.columns if c.startswith("cat_")]])
    history = pd.concat(frames, ignore_index=True)
    history["month"] = history["month"].astype(str)
    history["unit_id"] = history["unit_id"].astype(str)
    for col in ("stars", "rank"):
        history[col] = pd.array(pd.to_numeric(history[col], errors="coerce"), dtype="Int64")
    history = history.sort_values(["month", "rank", "unit_id"], kind="stable").reset_index(drop=True)
    start = history["month"].eq(edition.mechanism_start) & history["source"].ne(SOURCE_RECORD)
    history.loc[start, "rank_prev"] = pd.NA  # the first edition had no previous one to move from
    history = _link_previous(history)
    history = _fill_deductions(history, edition)
    if rescore:
        history = _add_rescored(history, edition)
    else:
        for col in ("index_rescored", "stars_rescored", "rank_rescored", "rescored_method"):
            history[col] = pd.NA
    cats = [c for c in history.columns if c.startswith("cat_")]
    return history[HISTORY_COLUMNS + cats]


def _link_previous(history: pd.DataFrame) -> pd.DataFrame:
    """``rank_prev`` / ``movement`` against the previous published month (vectorised by a shifted merge)."""
    months = sorted(history["month"].unique())
    following = dict(zip(months[:-1], months[1:]))
    prev = history[["month", "unit_id", "rank"]].copy()
    prev["month"] = prev["month"].map(following)
    prev = prev.dropna(subset=["month"]).rename(columns={"rank": "_prev"})
    out = history.merge(prev, on=["month", "unit_id"], how="left")
    first = out["month"] == months[0]
    # the first month keeps the previous rank its record printed (earlier than the history shows)
    out["rank_prev"] = pd.array(np.where(first, out["rank_prev"], out["_prev"]), dtype="Int64")
    out["movement"] = [movement_text(r, p) for r, p in zip(out["rank"], out["rank_prev"])]
    return out.drop(columns="_prev")


def _fill_deductions(history: pd.DataFrame, edition) -> pd.DataFrame:
    """Deductions of reconstructed months (records carry their own), from the method in force then."""
    from qyb.report.deductions import deduction_items, deduction_totals

    todo = history["source"].eq(SOURCE_RECONSTRUCTED)
    if not todo.any():
        return history
    history = history.copy()
    for month in history.loc[todo, "month"].unique():
        rows = todo & history["month"].eq(month)
        method = method_for_month(month)
        items = deduction_items(edition.panel, month, method)
        totals = deduction_totals(items, history.loc[rows, "unit_id"])
        history.loc[rows, "deduction"] = totals["deduction"].to_numpy()
        history.loc[rows, "deduction_text"] = totals["deduction_text"].to_numpy()
    history["deduction"] = history["deduction"].astype(float)
    return history


def _add_rescored(history: pd.DataFrame, edition) -> pd.DataFrame:
    """The history's months under the edition's method, beside the published figures."""
    months = sorted(history["month"].unique())
    card = _score_months(edition.panel, edition.method, months)
    if card is None:
        for col in ("index_rescored", "stars_rescored", "rank_rescored"):
            history[col] = pd.NA
        history["rescored_method"] = edition.method.name
        return history
    card = card.assign(month=card["month"].astype(str), unit_id=card["unit_id"].astype(str))
    re = card[["month", "unit_id", "index", "stars", "rank"]].rename(
        columns={"index": "index_rescored", "stars": "stars_rescored", "rank": "rank_rescored"})
    out = history.merge(re, on=["month", "unit_id"], how="left")
    out["rescored_method"] = edition.method.name
    return out


def unit_history(history: pd.DataFrame, unit_id: str, n: int = 12) -> pd.DataFrame:
    """One unit's last ``n`` published months (rows of :func:`published_history`, oldest first)."""
    own = history[history["unit_id"] == unit_id].sort_values("month")
    return own.tail(n).reset_index(drop=True)


def with_published_previous(card: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """``card`` with ``rank_prev_published`` / ``method_prev_published`` taken from the published history
    (the previous month's record where one exists), so the 榜单's 升降 is against what was printed."""
    month = str(card["month"].iat[0])
    prev_month = add_months(month, -1)
    prev = history[history["month"] == prev_month]
    if prev.empty:
        return card
    ranks = prev.set_index("unit_id")["rank"]
    out = card.copy()
    out["rank_prev_published"] = pd.array(out["unit_id"].astype(str).map(ranks), dtype="Int64")
    out["method_prev_published"] = str(prev["method"].iat[0])
    return out
