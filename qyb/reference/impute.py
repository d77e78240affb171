"""Imputation of missing indicator values (COINr ``Impute`` and its ``i_*`` functions).

Reproduces COINr (v1.1.14, ``R/impute.R``):

* column-wise (``impute_by = "column"``, the default): ``i_mean``, ``i_median``,
  ``i_mean_grp``, ``i_median_grp`` applied to each indicator;
* row-wise (``impute_by = "row"``) with ``i_mean``, optionally after min-max
  normalisation (``normalise_first``).

Every function takes a DataFrame (index = unit codes, one numeric column per
indicator), never alters a non-NaN cell, and returns an :class:`ImputeResult`
with the imputed frame, a boolean mask of the cells it filled (for flag
columns), per-indicator counts, and a record of the method and arguments.
Cells that cannot be imputed (all values of the column, group or row missing)
stay NaN, as in COINr (which warns).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from qyb.engine.impute import impute_block_mean, impute_group_mean_array

__all__ = [
    "ImputeResult",
    "impute_mean",
    "impute_median",
    "impute_group_mean",
    "impute_group_median",
    "impute_mean_group",
    "impute_median_group",
    "impute_row_mean",
]


class ImputeResult(NamedTuple):
    """Result of an imputation step.

    ``data``: imputed frame (same shape, index and columns as the input);
    ``imputed``: boolean frame, True where a NaN was replaced;
    ``details``: one row per indicator: ``iCode``, ``n_missing`` (before),
    ``n_imputed``, ``n_still_missing``;
    ``record``: ``{"step": "impute", "method": ..., "args": ...}``.
    """

    data: pd.DataFrame
    imputed: pd.DataFrame
    details: pd.DataFrame
    record: dict[str, Any]


def _numeric_frame(data: pd.DataFrame, fname: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{fname}: data must be a pandas DataFrame")
    bad = [c for c in data.columns
           if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])]
    if bad:
        # COINr Impute.data.frame: "Non-numeric columns detected in x."
        raise ValueError(f"{fname}: non-numeric columns {bad}; pass indicator columns only")
    return data.astype(float)


def _finish(data: pd.DataFrame, filled: pd.DataFrame, method: str, args: dict) -> ImputeResult:
    was_na = data.isna()
    # never alter a non-NaN value (COINr checks this and restores originals)
    out = data.where(~was_na, filled)
    imputed = was_na & out.notna()
    details = pd.DataFrame({
        "iCode": list(data.columns),
        "n_missing": was_na.sum().to_numpy(),
        "n_imputed": imputed.sum().to_numpy(),
        "n_still_missing": out.isna().sum().to_numpy(),
    })
    record = {"step": "impute", "method": method, "args": args,
              "summary": {"n_imputed": int(imputed.to_numpy().sum()),
                          "n_still_missing": int(out.isna().to_numpy().sum())}}
    return ImputeResult(out, imputed, details, record)


def _groups(data: pd.DataFrame, groups, fname: str) -> pd.Series:
    if isinstance(groups, pd.Series):
        missing = data.index.difference(groups.index)
        if len(missing):
            raise ValueError(f"{fname}: no group given for units {list(missing)}")
        if not groups.index.is_unique:
            raise ValueError(f"{fname}: groups index has duplicates")
        return groups.reindex(data.index)
    g = np.asarray(groups, dtype=object)
    if g.ndim != 1 or len(g) != len(data):
        raise ValueError(f"{fname}: groups must have one entry per row of data ({len(data)})")
    return pd.Series(g, index=data.index)


def impute_mean(data: pd.DataFrame) -> ImputeResult:
    """COINr ``i_mean`` by column: each NaN -> mean of the column's non-NaN values.

    ``x[is.na(x)] <- mean(x, na.rm = TRUE)``. Source: COINr ``i_mean`` (R/impute.R).
    """
    x = _numeric_frame(data, "impute_mean")
    filled = pd.DataFrame(impute_block_mean(x.to_numpy(), np.ones(len(x), dtype=bool))[0],
                          index=x.index, columns=x.columns)
    return _finish(x, filled, "i_mean", {"impute_by": "column"})


def impute_median(data: pd.DataFrame) -> ImputeResult:
    """COINr ``i_median`` by column: each NaN -> median of the column's non-NaN values.

    ``x[is.na(x)] <- stats::median(x, na.rm = TRUE)`` (mean of the two middle
    values when their number is even). Source: COINr ``i_median`` (R/impute.R).
    """
    x = _numeric_frame(data, "impute_median")
    filled = x.fillna(x.median(skipna=True))
    return _finish(x, filled, "i_median", {"impute_by": "column"})


def _impute_group(data, groups, how: str, fname: str, method: str) -> ImputeResult:
    x = _numeric_frame(data, fname)
    g = _groups(x, groups, fname)
    # groupby(...).transform skips NaN values; a group with no values gives NaN
    # (R: mean(numeric(0)) is NaN, the cell stays missing); a unit whose group
    # is NaN is left as it is (COINr skip_f_na = TRUE).
    stat = x.groupby(g, dropna=True, sort=False).transform(how)
    stat = stat.reindex(index=x.index)
    labels = g.where(g.notna(), None)
    args = {"impute_by": "column", "use_group": g.name,
            "groups": {str(k): str(v) for k, v in labels.items()}}
    return _finish(x, stat, method, args)


def impute_group_mean(data: pd.DataFrame, groups: pd.Series | Sequence) -> ImputeResult:
    """COINr ``i_mean_grp`` by column: each NaN -> mean of the non-NaN values of its group.

    For indicator column ``x`` and grouping ``f``: ``split(x, f)``, ``i_mean``
    within each group, ``unsplit``. If every value of a group is NaN for an
    indicator, the mean is NaN and those cells stay NaN (COINr then warns
    about remaining NAs); units whose group label is NaN are left unaltered
    (``skip_f_na = TRUE``). ``groups``: Series indexed by unit code (e.g.
    ``EurAsia_group``) or a sequence aligned with the rows.
    Source: COINr ``i_mean_grp`` and ``Impute.coin(use_group=...)`` (R/impute.R).
    """
    x = _numeric_frame(data, "impute_group_mean")
    g = _groups(x, groups, "impute_group_mean")
    filled, _ = impute_group_mean_array(x.to_numpy(), g.to_numpy(dtype=object))
    labels = g.where(g.notna(), None)
    args = {"impute_by": "column", "use_group": g.name, "groups": {str(k): str(v) for k, v in labels.items()}}
    return _finish(x, pd.DataFrame(filled, index=x.index, columns=x.columns), "i_mean_grp", args)


def impute_group_median(data: pd.DataFrame, groups: pd.Series | Sequence) -> ImputeResult:
    """COINr ``i_median_grp`` by column: each NaN -> median of the non-NaN values of its group.

    As :func:`impute_group_mean` with ``stats::median``. Source: COINr
    ``i_median_grp`` (R/impute.R).
    """
    return _impute_group(data, groups, "median", "impute_group_median", "i_median_grp")


#: Aliases with COINr's word order (``i_mean_grp``, ``i_median_grp``).
impute_mean_group = impute_group_mean
impute_median_group = impute_group_median


def impute_row_mean(
    data: pd.DataFrame,
    normalise_first: bool = False,
    directions: Sequence[float] | pd.Series | None = None,
) -> ImputeResult:
    """COINr ``Impute(impute_by = "row", f_i = "i_mean")``: NaN -> mean of the unit's other values.

    Without normalisation each NaN gets the mean of the row's non-NaN values
    (sensible only for indicators on a common scale). With
    ``normalise_first=True`` (needs ``directions``, +1/-1 per column)::

        z = x * dir;  z_n = (z - min z) / (max z - min z)        # per column
        z_n[NaN] = row mean of z_n;  x = (z_n (max z - min z) + min z) * dir

    Source: COINr ``Impute.data.frame`` (R/impute.R).
    """
    x = _numeric_frame(data, "impute_row_mean")
    args: dict[str, Any] = {"impute_by": "row", "normalise_first": bool(normalise_first)}
    if normalise_first:
        if directions is None:
            raise ValueError("impute_row_mean: normalise_first=True needs directions")
        if isinstance(directions, pd.Series):
            d = directions.reindex(x.columns)
            if d.isna().any():
                raise ValueError("impute_row_mean: directions missing for some columns")
            d = d.to_numpy(dtype=float)
        else:
            d = np.asarray(directions, dtype=float)
        if d.shape != (x.shape[1],) or not np.isin(d, (-1.0, 1.0)).all():
            raise ValueError("impute_row_mean: directions must be -1 or 1, one per column")
        z = x.to_numpy() * d
        mn, mx = np.nanmin(z, axis=0), np.nanmax(z, axis=0)
        zn = (z - mn) / (mx - mn)
        rm = pd.DataFrame(zn).mean(axis=1, skipna=True).to_numpy()[:, None]
        zn = np.where(np.isnan(zn), rm, zn)
        back = (zn * (mx - mn) + mn) * d
        filled = pd.DataFrame(back, index=x.index, columns=x.columns)
        args["directions"] = [float(v) for v in d]
    else:
        rm = x.mean(axis=1, skipna=True)
        filled = x.apply(lambda col: col.fillna(rm))
    return _finish(x, filled, "i_mean", args)
