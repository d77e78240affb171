"""Denomination: divide an indicator by another variable (per capita, per area, per GDP).

Reproduces COINr (v1.1.14, ``R/denominate.R``) ``Denominate.data.frame`` with
its default ``f_denom = "/"``::

    x_denominated = x / (denominator / ScaleFactor)

Rows are matched by the index (COINr matches ``x_ID`` to ``denoms_ID``,
``uCode`` by default); NaN in either propagates. Columns not named in ``by``
pass through untouched.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["denominate", "DenominateResult"]


class DenominateResult(NamedTuple):
    """Result of :func:`denominate`.

    ``data``: the frame with the denominated columns replaced;
    ``details``: one row per denominated indicator (``iCode``, ``Denominator``,
    ``ScaleFactor``, ``n_nan_introduced``: cells with a value that became NaN
    because the denominator is missing (or 0/0), ``n_nonfinite``: cells that
    became +-inf through division by zero);
    ``record``: the step's method and arguments.
    """

    data: pd.DataFrame
    details: pd.DataFrame
    record: dict[str, Any]


def denominate(
    data: pd.DataFrame,
    denominators: pd.DataFrame | Mapping[str, pd.Series],
    by: Mapping[str, str],
    scale: Mapping[str, float] | None = None,
) -> DenominateResult:
    """Denominate indicators: ``x / (denominator / scale)`` (COINr ``Denominate``).

    Parameters
    ----------
    data : DataFrame, index = unit codes, one column per indicator.
    denominators : DataFrame (or mapping name -> Series) of denominator
        variables indexed by unit code; it may hold more units than ``data``
        but must cover all of them.
    by : mapping indicator -> denominator column (COINr ``denomby$iCode`` ->
        ``denomby$Denominator``; in the ASEM example iMeta's ``Denominator``).
    scale : optional mapping indicator -> scale factor (COINr
        ``denomby$ScaleFactor``, default 1 for every indicator).

    Formula, per indicator ``i`` with denominator ``d`` and scale ``s``:
    ``x_i / (d / s)``. Source: COINr ``Denominate.data.frame`` (R/denominate.R).
    Division by zero gives ``inf`` (as in R, ``x/0``); it is reported in
    ``details.n_nonfinite`` rather than silently changed.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("denominate: data must be a pandas DataFrame")
    den = denominators if isinstance(denominators, pd.DataFrame) else pd.DataFrame(dict(denominators))
    scale = dict(scale or {})
    by = dict(by)
    missing_ind = [i for i in by if i not in data.columns]
    if missing_ind:
        raise ValueError(f"denominate: indicators not found in data: {missing_ind}")
    missing_den = sorted({d for d in by.values() if d not in den.columns})
    if missing_den:
        raise ValueError(f"denominate: denominators not found: {missing_den}")
    extra_scale = [i for i in scale if i not in by]
    if extra_scale:
        raise ValueError(f"denominate: scale given for indicators not denominated: {extra_scale}")
    if not den.index.is_unique:
        raise ValueError("denominate: denominator index (unit codes) has duplicates")
    absent = data.index.difference(den.index)
    if len(absent):
        raise ValueError(f"denominate: units without denominators: {list(absent)}")

    matched = den.reindex(data.index)
    out = data.copy()
    rows = []
    for ind, dcol in by.items():
        s = float(scale.get(ind, 1.0))
        x = pd.to_numeric(data[ind], errors="raise").to_numpy(dtype=float)
        d = pd.to_numeric(matched[dcol], errors="raise").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = x / (d / s)
        out[ind] = y
        rows.append({
            "iCode": ind,
            "Denominator": dcol,
            "ScaleFactor": s,
            "n_nan_introduced": int((np.isnan(y) & ~np.isnan(x)).sum()),
            "n_nonfinite": int(np.isinf(y).sum()),
        })
    details = pd.DataFrame(rows, columns=["iCode", "Denominator", "ScaleFactor",
                                          "n_nan_introduced", "n_nonfinite"])
    record = {
        "step": "denominate",
        "method": "coinr_denominate",
        "args": {"f_denom": "/", "by": by, "scale": {i: float(scale.get(i, 1.0)) for i in by}},
    }
    return DenominateResult(out, details, record)
