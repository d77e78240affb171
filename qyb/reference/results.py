"""Result tables for one unit or the whole table: ranks, unit summary, strengths and weaknesses, comparisons.

Small functions on tidy pandas objects (index = unit codes, one column per
indicator or aggregate), reproducing COINr's results helpers (v1.1.14,
``R/results.R``, ``R/compare.R``): ``rank_df``, ``get_unit_summary``,
``get_str_weak``, ``get_results(use = "groupranks")``, ``compare_coins``,
``compare_coins_multi`` and the ``MeanAbsDiff`` of ``remove_elements``. The
barometer's 体检表 (a unit's check-up sheet: where it is strong, where it is
weak) uses the same functions on its indicator scores.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["rank_frame", "unit_summary", "strengths_weaknesses", "group_ranks", "compare_ranks",
           "compare_ranks_multi", "mean_abs_rank_diff", "signif"]


def signif(x, digits: int = 3):
    """R's ``signif``: round to ``digits`` significant figures (0 stays 0, NaN stays NaN)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(x))))
    factor = 10.0 ** (digits - 1 - mag)
    return np.where(np.isfinite(x) & (x != 0), np.round(x * factor) / factor, x)


def rank_frame(data: pd.DataFrame, groups: pd.Series | None = None) -> pd.DataFrame:
    """Rank every column, 1 = highest; ties share the best rank; NaN stays NaN.

    ``rank(-x, ties.method = "min", na.last = "keep")`` per column, within each
    value of ``groups`` when given. Source: COINr ``rank_df``.
    """
    num = data.select_dtypes("number")
    if groups is None:
        return num.rank(ascending=False, method="min", na_option="keep")
    g = groups.reindex(num.index)
    return num.groupby(g, sort=False).rank(ascending=False, method="min", na_option="keep")


def unit_summary(scores: pd.DataFrame, unit, codes: Sequence[str] | None = None,
                 names: Mapping[str, str] | None = None, nround: int | None = 2) -> pd.DataFrame:
    """Score and rank of one unit on each of ``codes`` (default: every column), in that order.

    Ranks are over all units of ``scores`` (rank_frame, unrounded scores);
    scores are then rounded to ``nround`` decimals. Columns ``Code, Name,
    Score, Rank``. Source: COINr ``get_unit_summary`` (codes ordered from the
    highest level down, e.g. index, sub-indices, pillars).
    """
    if unit not in scores.index:
        raise KeyError(f"unit_summary: unit {unit!r} not in the scores")
    codes = list(codes if codes is not None else scores.columns)
    ranks = rank_frame(scores[codes])
    score = scores.loc[unit, codes].to_numpy(dtype=float)
    out = pd.DataFrame({"Code": codes, "Name": [(names or {}).get(c, c) for c in codes],
                        "Score": score if nround is None else np.round(score, nround),
                        "Rank": ranks.loc[unit, codes].to_numpy(dtype=float)})
    return out


def strengths_weaknesses(values: pd.DataFrame, unit, directions: Mapping[str, int] | None = None,
                         top: int = 5, bottom: int = 5, min_discard: bool = True,
                         names: Mapping[str, str] | None = None, parents: Mapping[str, str] | None = None,
                         units_of_measure: Mapping[str, str] | None = None, sig_figs: int | None = 3,
                         groups: pd.Series | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A unit's strengths and weaknesses: its best- and worst-ranked indicators.

    Source: COINr ``get_str_weak``. Steps: multiply each column by its
    direction (so higher is better; COINr does this for raw data); rank all
    units per indicator (``rank_frame``, within ``groups`` if given); take the
    unit's ranks, drop indicators where it is missing, and with ``min_discard``
    drop those where its rank equals the indicator's worst rank (a shared
    bottom, e.g. a zero count, is no strength); sort by rank (stable: ties keep
    the column order, COINr orders indicators by level then parent code);
    strengths = the first ``top``, weaknesses = the last ``bottom``, both in
    ascending rank order. Values are the unit's original values rounded to
    ``sig_figs`` significant figures.
    Columns ``Code, Name, Parent, Rank, Value, Unit``.
    """
    if unit not in values.index:
        raise KeyError(f"strengths_weaknesses: unit {unit!r} not in the data")
    cols = list(values.columns)
    d = pd.Series({c: (directions or {}).get(c, 1) for c in cols}, dtype=float)
    ranks = rank_frame(values[cols].astype(float) * d, groups)
    own = ranks.loc[unit]
    own = own[own.notna()]
    if min_discard:
        worst = ranks[own.index].max()
        own = own[own != worst]
    order = np.argsort(own.to_numpy(), kind="stable")
    own = own.iloc[order]

    def table(codes) -> pd.DataFrame:
        raw = values.loc[unit, codes].to_numpy(dtype=float)
        return pd.DataFrame({
            "Code": list(codes), "Name": [(names or {}).get(c, c) for c in codes],
            "Parent": [(parents or {}).get(c, "") for c in codes], "Rank": own[codes].to_numpy(dtype=float),
            "Value": raw if sig_figs is None else signif(raw, sig_figs),
            "Unit": [(units_of_measure or {}).get(c, "") for c in codes]})

    return table(list(own.index[:top])), table(list(own.index[max(len(own) - bottom, 0):]))


def group_ranks(scores: pd.DataFrame, groups: pd.Series, nround: int | None = 2) -> pd.DataFrame:
    """Ranks within each group of units (e.g. GDP per capita class, or town), per column.

    As COINr ``get_results(use = "groupranks")``: scores are rounded to
    ``nround`` decimals first (so scores equal when printed tie), then ranked
    with ``rank_frame(..., groups)``. Returns the group column then the ranks.
    """
    num = scores.select_dtypes("number")
    if nround is not None:
        num = num.round(nround)
    out = rank_frame(num, groups)
    out.insert(0, groups.name or "group", groups.reindex(out.index))
    return out


def compare_ranks(rank_1: pd.Series, rank_2: pd.Series, sort: bool = True) -> pd.DataFrame:
    """Two rankings side by side: ``coin.1``, ``coin.2``, ``Diff = coin.1 - coin.2``, ``Abs.diff``.

    Units missing from one ranking get NaN there. Sorted by ``Abs.diff``
    decreasing (NaN last; ties keep the unit order). Source: COINr
    ``compare_coins(sort_by = "Abs.diff", decreasing = TRUE)``.
    """
    units = rank_1.index.union(rank_2.index, sort=True)
    out = pd.DataFrame({"uCode": units, "coin.1": rank_1.reindex(units).to_numpy(dtype=float),
                        "coin.2": rank_2.reindex(units).to_numpy(dtype=float)})
    out["Diff"] = out["coin.1"] - out["coin.2"]
    out["Abs.diff"] = out["Diff"].abs()
    if sort:
        out = out.sort_values("Abs.diff", ascending=False, kind="stable", na_position="last")
    return out.reset_index(drop=True)


def compare_ranks_multi(rankings: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Several rankings side by side, one column each (COINr ``compare_coins_multi``)."""
    frame = pd.DataFrame({k: v.astype(float) for k, v in rankings.items()})
    frame.index.name = "uCode"
    return frame.reset_index()


def mean_abs_rank_diff(nominal: pd.Series, others: Mapping[str, pd.Series]) -> pd.Series:
    """Mean absolute rank change against the nominal ranking, per alternative.

    ``mean_u |rank_alt(u) - rank_nominal(u)|`` over units ranked in both;
    ``Nominal`` is 0. Source: COINr ``remove_elements(...)$MeanAbsDiff``.
    """
    out = {"Nominal": 0.0}
    for name, ranks in others.items():
        diff = (ranks.reindex(nominal.index) - nominal).abs()
        out[name] = float(diff.mean(skipna=True))
    return pd.Series(out)
