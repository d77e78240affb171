"""COINr ``Treat.data.frame`` on a DataFrame, for the ASEM reproduction and parity tests.

Every column goes through the engine's :func:`qyb.engine.treat.treat_column`
(the same code the engine runs on its arrays); this module only adds the
DataFrame interface and COINr's details table.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd

from qyb.engine.treat import DETAIL_COLUMNS, treat_column

__all__ = ["treat", "TreatResult"]


class TreatResult(NamedTuple):
    """Result of :func:`treat`.

    ``data``: treated frame (same index/columns as the input);
    ``details``: one row per treated indicator, columns :data:`DETAIL_COLUMNS`;
    ``points``: frame of ``"winhi"``/``"winlo"``/``"log_CT"``/``""`` per cell
    (COINr ``Treated_Points``); ``record``: the step's method and arguments.
    """

    data: pd.DataFrame
    details: pd.DataFrame
    points: pd.DataFrame
    record: dict[str, Any]


def treat(
    data: pd.DataFrame,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    force_win: bool = False,
    log_fallback: bool = True,
    indiv: dict[str, dict[str, Any] | str] | None = None,
) -> TreatResult:
    """COINr ``Treat.data.frame`` with the default specs; see :func:`treat_column`.

    Every numeric column is treated independently (on its un-directed values,
    as COINr does); non-numeric columns pass through untouched and get no
    details row. ``indiv`` maps an indicator code to keyword overrides of
    :func:`treat_column` (COINr ``indiv_specs``), or to ``"none"`` to skip it.

    ``details`` columns (COINr ``Dets_Table`` names, NaN/None where a stage was
    not reached): ``iCode``; ``check_SkewKurt0.Pass/.Skew/.Kurt`` (the raw
    column); ``winsorise.nwin`` (points winsorised, COINr's count);
    ``check_SkewKurt1.*`` (after winsorising); ``check_SkewKurt2.*`` (after
    log_CT of the original). Extras: ``side`` ("high"/"low"/"both"/"") and
    ``treatment`` ("none", "winsorise", "log_CT", "not_checked"). COINr drops
    the ``check_SkewKurt2`` columns when no column reaches log_CT and drops a
    column's row when its check is NA; here all columns and rows are always
    present. Source: COINr ``Treat.data.frame`` / ``Treat.numeric`` (R/treat.R).
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("treat: data must be a pandas DataFrame")
    indiv = dict(indiv or {})
    unknown = set(indiv) - set(data.columns)
    if unknown:
        raise ValueError(f"treat: indiv names unknown columns {sorted(unknown)}")
    base = dict(winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh,
                force_win=force_win, log_fallback=log_fallback)
    out = data.copy()
    points = pd.DataFrame("", index=data.index, columns=data.columns, dtype=object)
    rows = []
    for col in data.columns:
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            continue
        spec = indiv.get(col)
        if isinstance(spec, str):
            if spec != "none":
                raise ValueError(f"treat: indiv spec for {col!r} must be a dict or 'none'")
            continue
        kw = {**base, **(spec or {})}
        res = treat_column(data[col].to_numpy(dtype=float), **kw)
        out[col] = res.x
        points[col] = res.points
        rows.append({"iCode": col, **res.details})
    details = pd.DataFrame(rows, columns=DETAIL_COLUMNS)
    for k in range(3):
        details[f"check_SkewKurt{k}.Pass"] = details[f"check_SkewKurt{k}.Pass"].astype("boolean")
    details["winsorise.nwin"] = details["winsorise.nwin"].astype("Int64")
    record = {
        "step": "treat",
        "method": "coinr_treat",
        "args": {
            "f_pass": "check_SkewKurt",
            "f1": "winsorise",
            "f2": "log_CT" if log_fallback else None,
            "combine_treat": False,
            **{k: v for k, v in base.items() if k != "log_fallback"},
            "indiv": {k: v for k, v in indiv.items()},
        },
        "summary": {
            "n_winsorised_indicators": int((details["treatment"] == "winsorise").sum()),
            "n_log_indicators": int((details["treatment"] == "log_CT").sum()),
            "n_points_winsorised": int(details.loc[details["treatment"] == "winsorise",
                                                   "winsorise.nwin"].sum()),
        },
    }
    return TreatResult(out, details, points, record)


# --------------------------------------------------------------------------
# array layer for the engine
