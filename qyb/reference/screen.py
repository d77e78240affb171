"""Data availability and unit screening (COINr ``get_data_avail``, ``get_stats``, ``Screen``).

Reproduces COINr (v1.1.14, ``R/screen_units.R``, ``R/stats.R``):

* :func:`data_availability` -- per unit (row): missing and zero counts,
  ``Dat_Avail`` and ``Non_Zero`` (COINr ``get_data_avail.data.frame``);
* :func:`indicator_availability` -- per indicator (column): ``N.Avail``,
  ``Frc.Avail`` and zero counts (the availability columns of COINr ``get_stats``);
* :func:`screen_units` -- keep or drop units by availability (COINr
  ``Screen.data.frame``), with forced inclusions/exclusions.

Data frames: index = unit codes, numeric columns = indicators; non-numeric
columns are ignored in the counts (COINr ``split_by_numeric``) but kept in the
screened frame.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from qyb.engine.screen import screen_mask

__all__ = [
    "data_availability",
    "indicator_availability",
    "screen_units",
    "ScreenResult",
    "SUMMARY_COLUMNS",
]

UNIT_SCREENS = ("byNA", "byzeros", "byNAandzeros", "none")

#: Columns of the screening summary, as COINr ``Screen(...)$DataSummary``.
SUMMARY_COLUMNS = [
    "N_missing", "N_zero", "N_miss_or_zero", "Dat_Avail", "Non_Zero",
    "LowData", "LowNonZero", "LowDatOrZeroFlag", "Included",
]


def _numeric(data: pd.DataFrame, fname: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{fname}: data must be a pandas DataFrame")
    cols = [c for c in data.columns
            if pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])]
    if not cols:
        raise ValueError(f"{fname}: data has no numeric (indicator) columns")
    return data[cols].astype(float)


def data_availability(data: pd.DataFrame) -> pd.DataFrame:
    """Per-unit availability, COINr ``get_data_avail.data.frame``.

    With ``k`` numeric columns, per row::

        N_missing      = number of NaN
        N_zero         = number of values equal to 0 (NaN excluded)
        N_miss_or_zero = N_missing + N_zero
        Dat_Avail      = 1 - N_missing / k
        Non_Zero       = 1 - N_zero / (k - N_missing)      # share of non-zero among present values

    Returns a frame indexed like ``data`` with those five columns.
    Source: COINr ``get_data_avail.data.frame`` (R/screen_units.R).
    """
    x = _numeric(data, "data_availability")
    k = x.shape[1]
    na = x.isna().sum(axis=1)
    zero = (x == 0).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        non_zero = 1 - zero / (k - na)
    return pd.DataFrame({
        "N_missing": na.astype(int),
        "N_zero": zero.astype(int),
        "N_miss_or_zero": (na + zero).astype(int),
        "Dat_Avail": 1 - na / k,
        "Non_Zero": non_zero.astype(float),
    }, index=x.index)


def indicator_availability(data: pd.DataFrame) -> pd.DataFrame:
    """Per-indicator availability, the availability columns of COINr ``get_stats``.

    With ``n`` units, per column: ``N.Avail`` = non-NaN count,
    ``Frc.Avail = N.Avail / n``, ``N.NonZero`` = non-NaN non-zero count,
    ``Frc.NonZero = N.NonZero / n`` (COINr divides by all units, not by the
    available ones). One row per indicator, column
    ``iCode`` first. Source: COINr ``get_stats`` (R/stats.R).
    """
    x = _numeric(data, "indicator_availability")
    n_av = x.notna().sum()
    n_nz = (x.notna() & (x != 0)).sum()
    return pd.DataFrame({
        "iCode": list(x.columns),
        "N.Avail": n_av.to_numpy().astype(int),
        "Frc.Avail": (n_av / len(x)).to_numpy(),
        "N.NonZero": n_nz.to_numpy().astype(int),
        "Frc.NonZero": (n_nz / len(x)).to_numpy(),
    })


class ScreenResult(NamedTuple):
    """Result of :func:`screen_units`.

    ``data``: the kept units (rows of the input, order preserved);
    ``summary``: per unit of the input, columns :data:`SUMMARY_COLUMNS`
    (COINr ``DataSummary``); ``removed``: list of removed unit codes
    (COINr ``RemovedUnits``); ``record``: the step's method and arguments.
    """

    data: pd.DataFrame
    summary: pd.DataFrame
    removed: list
    record: dict[str, Any]


def screen_units(
    data: pd.DataFrame,
    dat_thresh: float = 0.9,
    unit_screen: str = "byNA",
    nonzero_thresh: float = 0.05,
    force: Mapping[Any, bool] | None = None,
) -> ScreenResult:
    """Screen units by data availability, COINr ``Screen.data.frame``.

    From :func:`data_availability`::

        LowData          = Dat_Avail < dat_thresh
        LowNonZero       = Non_Zero  < nonzero_thresh
        LowDatOrZeroFlag = LowData | LowNonZero
        Included = !LowData ("byNA") | !LowNonZero ("byzeros")
                 | !LowDatOrZeroFlag ("byNAandzeros") | TRUE ("none", ours: flags only)

    ``force`` maps unit code -> True/False to force inclusion/exclusion over
    the rule (COINr ``Force``). COINr's own default ``dat_thresh`` is 2/3; the
    ASEM example build uses 0.9 (our default). Source: COINr
    ``Screen.data.frame`` (R/screen_units.R).
    """
    if unit_screen not in UNIT_SCREENS:
        raise ValueError(f"screen_units: unit_screen must be one of {UNIT_SCREENS}, got {unit_screen!r}")
    for name, v in (("dat_thresh", dat_thresh), ("nonzero_thresh", nonzero_thresh)):
        if not 0 <= v <= 1:
            raise ValueError(f"screen_units: {name} must be between 0 and 1, got {v}")
    summary = data_availability(data)
    x = _numeric(data, "screen_units").to_numpy()
    rule = {"method": unit_screen, "dat_thresh": dat_thresh, "nonzero_thresh": nonzero_thresh}
    low_data = summary["Dat_Avail"] < dat_thresh
    low_nz = summary["Non_Zero"] < nonzero_thresh
    summary["LowData"] = low_data
    summary["LowNonZero"] = low_nz
    summary["LowDatOrZeroFlag"] = low_data | low_nz
    if unit_screen == "none":
        included = pd.Series(True, index=summary.index)
    else:  # the engine's rule (qyb.engine.screen.screen_mask), on one block of units
        included = pd.Series(screen_mask(x, np.ones(len(x), dtype=bool), rule)[0], index=summary.index)
    force = dict(force or {})
    unknown = [u for u in force if u not in summary.index]
    if unknown:
        raise ValueError(f"screen_units: forced units not found in data: {unknown}")
    if force:
        f = pd.Series(force, dtype=bool)
        included = included.copy()
        included.loc[f.index] = f.to_numpy()
    summary["Included"] = included.astype(bool)
    kept = data.loc[summary["Included"].to_numpy()]
    removed = list(summary.index[~summary["Included"].to_numpy()])
    record = {
        "step": "screen",
        "method": "coinr_screen",
        "args": {"unit_screen": unit_screen, "dat_thresh": float(dat_thresh),
                 "nonzero_thresh": float(nonzero_thresh),
                 "force": {str(k): bool(v) for k, v in force.items()}},
        "summary": {"n_units": int(len(summary)), "n_removed": len(removed),
                    "removed": [str(u) for u in removed]},
    }
    return ScreenResult(kept, summary[SUMMARY_COLUMNS], removed, record)
