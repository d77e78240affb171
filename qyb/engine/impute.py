"""Imputation on engine arrays ``(..., units, indicators)``: COINr's ``i_mean`` and ``i_mean_grp``.

Each NaN cell of a present unit is filled from the units of its block (the
leading axes: month, town, draw); nothing loops over units or blocks. The
DataFrame forms COINr's parity tests use (:mod:`qyb.reference.impute`) call
these functions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["impute_block_mean", "impute_group_mean_array"]


def impute_block_mean(values: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace a missing value by the mean of the present units of its block (month x town).

    ``x[is.na(x)] <- mean(x, na.rm = TRUE)`` per indicator and block. Source:
    COINr ``i_mean`` (column-wise ``Impute``).
    """
    missing = np.isnan(values) & present[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(np.where(present[..., None], values, np.nan), axis=-2, keepdims=True)
        count = np.sum(~np.isnan(values) & present[..., None], axis=-2, keepdims=True)
        means = total / count
    out = np.where(missing, means, values)
    return out, missing & ~np.isnan(out)  # a cell no unit could fill is not flagged as imputed


def impute_group_mean_array(
    values: np.ndarray,
    groups,
    present: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """COINr ``i_mean_grp`` on an engine array ``(..., units, indicators)``.

    Each NaN cell of a present unit becomes the mean of the non-NaN values of
    the present units of its group, in the same block (the leading axes, e.g.
    month) and indicator; a group with no value leaves the cell NaN; a unit
    whose label is None/NaN is left as is. ``groups``: labels shaped
    ``(units,)`` or ``(..., units)``; ``present`` (..., units) marks real units
    (False = padding, ignored and never filled). Vectorised with a one-hot
    group matrix -- no loop over units, blocks or groups.
    Returns ``(filled, imputed_mask)``. Source: COINr ``i_mean_grp`` (R/impute.R).
    """
    v = np.asarray(values, dtype=float)
    if v.ndim < 2:
        raise ValueError("impute_group_mean_array: values must be (..., units, indicators)")
    lab = np.asarray(groups, dtype=object)
    lab = np.broadcast_to(lab, v.shape[:-1])
    known = ~pd.isna(lab)
    if present is not None:
        known = known & np.broadcast_to(np.asarray(present, dtype=bool), v.shape[:-1])
    codes = np.full(lab.shape, -1)
    if known.any():
        uniq, inv = np.unique(lab[known].astype(str), return_inverse=True)
        codes[known] = inv
        k = len(uniq)
    else:
        k = 0
    onehot = (codes[..., None] == np.arange(k)).astype(float)  # (..., U, K)
    ok = ~np.isnan(v)
    sums = np.einsum("...uk,...ui->...ki", onehot, np.where(ok, v, 0.0))
    counts = np.einsum("...uk,...ui->...ki", onehot, ok.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts  # (..., K, I); 0/0 -> NaN for a group with no value
    per_unit = np.einsum("...uk,...ki->...ui", onehot, np.nan_to_num(means, nan=0.0))
    has_value = np.einsum("...uk,...ki->...ui", onehot, (counts > 0).astype(float)) > 0
    fill = ~ok & known[..., None] & has_value
    return np.where(fill, per_unit, v), fill
