"""Outlier treatment: COINr's skew/kurtosis test, iterative winsorisation, log fallback.

Reproduces COINr (v1.1.14, ``R/treat.R``) ``Treat.data.frame`` / ``Treat.numeric``
with its default specification::

    f_pass = check_SkewKurt(na.rm = TRUE, skew_thresh = 2, kurt_thresh = 3.5)
    f1     = winsorise(na.rm = TRUE, winmax = 5, skew_thresh = 2, kurt_thresh = 3.5,
                       force_win = FALSE)
    f2     = log_CT(na.rm = TRUE)
    combine_treat = FALSE

Per column: if it passes the check it is left unchanged; otherwise it is
winsorised; if the winsorised column still fails, ``log_CT`` is applied to the
ORIGINAL column (``combine_treat=False``) and used whether or not it passes.

Everything works on the non-NaN values of a column (COINr's ``na.rm = TRUE``);
NaN cells stay NaN.  Columns are looped (the winsorisation is iterative by
nature, at most ``winmax`` rounds); nothing loops over units.

The details table reproduces COINr's ``Dets_Table`` column names
(``check_SkewKurt0.Pass`` ... ``check_SkewKurt2.Kurt``, ``winsorise.nwin``) and
adds ``side`` and ``treatment``; see :func:`treat`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "skew",
    "kurt",
    "check_skew_kurt",
    "SkewKurtCheck",
    "winsorise",
    "WinsoriseResult",
    "log_ct",
    "treat_column",
    "ColumnTreatment",
    "treat_array",
    "TreatArrayResult",
    "DETAIL_COLUMNS",
]

#: Columns of the details table, in COINr ``Dets_Table`` order, plus our two extras.
DETAIL_COLUMNS = [
    "iCode",
    "check_SkewKurt0.Pass",
    "check_SkewKurt0.Skew",
    "check_SkewKurt0.Kurt",
    "winsorise.nwin",
    "check_SkewKurt1.Pass",
    "check_SkewKurt1.Skew",
    "check_SkewKurt1.Kurt",
    "check_SkewKurt2.Pass",
    "check_SkewKurt2.Skew",
    "check_SkewKurt2.Kurt",
    "side",
    "treatment",
]


# --------------------------------------------------------------------------
# moments


def _centred(x, axis):
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x)
    n = np.sum(ok, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.sum(np.where(ok, x, 0.0), axis=axis, keepdims=True) / np.sum(ok, axis=axis, keepdims=True)
    return x - mean, n


def skew(x, axis: int = 0):
    """Sample skewness, e1071 ``skewness(type = 2)`` (= COINr ``skew``, = Excel SKEW).

    NaN are removed first (``na.rm = TRUE``). With ``d = x - mean(x)`` over the
    ``n`` non-NaN values::

        g1 = sqrt(n) * sum(d^3) / sum(d^2)^(3/2)
        G1 = g1 * sqrt(n (n - 1)) / (n - 2)

    Source: COINr ``skew()`` (``R/treat.R``, copied from e1071::skewness type 2);
    Joanes & Gill (1998) G1. Equals ``scipy.stats.skew(x, bias=False)``.
    Returns NaN when fewer than 3 values (COINr stops with an error there) or
    when all values are equal (0/0, as in R). Vectorised along ``axis`` for 2-D input.
    """
    d, n = _centred(x, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        m2 = np.nansum(d**2, axis=axis)
        m3 = np.nansum(d**3, axis=axis)
        g1 = np.sqrt(n) * m3 / m2**1.5
        out = g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
    out = np.where(n < 3, np.nan, out)
    return float(out) if np.ndim(out) == 0 else out


def kurt(x, axis: int = 0):
    """Sample excess kurtosis, e1071 ``kurtosis(type = 2)`` (= COINr ``kurt``, = Excel KURT).

    NaN are removed first. With ``d = x - mean(x)`` over the ``n`` non-NaN values::

        r  = n * sum(d^4) / sum(d^2)^2
        G2 = ((n + 1) (r - 3) + 6) (n - 1) / ((n - 2) (n - 3))

    Source: COINr ``kurt()`` (``R/treat.R``, copied from e1071::kurtosis type 2);
    Joanes & Gill (1998) G2. Equals ``scipy.stats.kurtosis(x, fisher=True, bias=False)``.
    NaN when fewer than 4 values or all values equal.
    """
    d, n = _centred(x, axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        m2 = np.nansum(d**2, axis=axis)
        m4 = np.nansum(d**4, axis=axis)
        r = n * m4 / m2**2
        out = ((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
    out = np.where(n < 4, np.nan, out)
    return float(out) if np.ndim(out) == 0 else out


class SkewKurtCheck(NamedTuple):
    """Result of :func:`check_skew_kurt`: ``passed`` is None when skew or kurtosis is NaN."""

    passed: bool | None
    skew: float
    kurt: float


def check_skew_kurt(x, skew_thresh: float = 2.0, kurt_thresh: float = 3.5) -> SkewKurtCheck:
    """COINr ``check_SkewKurt``: pass = ``|skew| < skew_thresh  OR  kurt < kurt_thresh``.

    A column fails only if BOTH its absolute skew (e1071 type 2) reaches
    ``skew_thresh`` and its excess kurtosis (type 2) reaches ``kurt_thresh``.
    NaN values are removed (``na.rm = TRUE``). If skew or kurtosis cannot be
    computed (too few values, constant column) ``passed`` is None (R's NA).
    Source: COINr ``check_SkewKurt()`` in ``R/treat.R``.
    """
    s = skew(x)
    k = kurt(x)
    if np.isnan(s) or np.isnan(k):
        # R: NA | TRUE is TRUE, but with NaN skew AND kurt the answer is NA.
        if (not np.isnan(s) and abs(s) < skew_thresh) or (not np.isnan(k) and k < kurt_thresh):
            return SkewKurtCheck(True, s, k)
        return SkewKurtCheck(None, s, k)
    return SkewKurtCheck(bool(abs(s) < skew_thresh or k < kurt_thresh), s, k)


# --------------------------------------------------------------------------
# the two treatments


class WinsoriseResult(NamedTuple):
    """Result of :func:`winsorise`.

    ``x``: winsorised copy; ``nwin``: points winsorised as COINr counts them;
    ``treated``: per cell ``"winhi"``, ``"winlo"`` or ``""`` (COINr ``treated``);
    ``side``: ``"high"``, ``"low"``, ``"both"`` or ``""``.
    """

    x: np.ndarray
    nwin: int
    treated: np.ndarray
    side: str


def winsorise(
    x,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    force_win: bool = False,
) -> WinsoriseResult:
    """COINr ``winsorise``: clip the most extreme point(s) until the column passes.

    Source: COINr ``winsorise()`` in ``R/treat.R``. Algorithm (NaN ignored)::

        nwin <- 0; imax <- imin <- NULL
        while ((!pass | force_win) & nwin < winmax):
            if skew(x) >= 0:   imax <- which(x == max(x)); x[imax] <- max(x[-imax])   # high side
            else:              imin <- which(x == min(x)); x[imin] <- min(x[-imin])   # low side
            nwin <- length(imax) + length(imin)
            pass <- check_SkewKurt(x)

    Ties at the extreme are clipped together. ``imax``/``imin`` hold the
    positions clipped in the latest round on each side, not an accumulation;
    since clipped points stay tied at the new extreme, on one side this equals
    the cumulative count (and it can overshoot ``winmax`` with ties). The side
    is re-decided each round from the sign of the current skew.
    ``winmax=None`` means no limit (not allowed with ``force_win``).
    """
    x = np.array(x, dtype=float, copy=True)
    if force_win and winmax is None:
        raise ValueError("winsorise: force_win=True needs a finite winmax")
    ok = ~np.isnan(x)
    passing = check_skew_kurt(x, skew_thresh, kurt_thresh).passed
    nwin = 0
    imax = np.zeros(x.shape, dtype=bool)
    imin = np.zeros(x.shape, dtype=bool)

    def below() -> bool:
        return True if winmax is None else nwin < winmax

    while ((not passing) or force_win) and below():
        if skew(x) >= 0:
            top = np.nanmax(x)
            imax = ok & (x == top)
            rest = x[ok & ~imax]
            if rest.size == 0:
                break
            x[imax] = rest.max()
        else:
            bottom = np.nanmin(x)
            imin = ok & (x == bottom)
            rest = x[ok & ~imin]
            if rest.size == 0:
                break
            x[imin] = rest.min()
        nwin = int(imax.sum() + imin.sum())
        passing = check_skew_kurt(x, skew_thresh, kurt_thresh).passed

    treated = np.full(x.shape, "", dtype=object)
    treated[imax] = "winhi"
    treated[imin] = "winlo"
    side = {(True, False): "high", (False, True): "low", (True, True): "both"}.get(
        (bool(imax.any()), bool(imin.any())), ""
    )
    return WinsoriseResult(x, nwin, treated, side)


def log_ct(x) -> np.ndarray:
    """COINr ``log_CT``: ``log(x - min(x) + 0.01 * (max(x) - min(x)))``.

    A modified "COIN Tool log" transform; min and max over the non-NaN values
    (``na.rm = TRUE``), NaN stays NaN. The minimum maps to ``log(0.01 (max - min))``.
    Source: COINr ``log_CT()`` in ``R/treat.R``.
    """
    x = np.asarray(x, dtype=float)
    if np.isnan(x).all():
        return x.copy()
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x - lo + 0.01 * (hi - lo))


# --------------------------------------------------------------------------
# per column and per data frame


@dataclass(frozen=True)
class ColumnTreatment:
    """What :func:`treat_column` did to one column.

    ``x``: the treated values; ``details``: one row of the details table (a
    dict keyed by :data:`DETAIL_COLUMNS` minus ``iCode``); ``points``: per-cell
    ``"winhi"``/``"winlo"``/``"log_CT"``/``""``.
    """

    x: np.ndarray
    details: dict[str, Any]
    points: np.ndarray = field(repr=False)


def _empty_details() -> dict[str, Any]:
    d: dict[str, Any] = {c: np.nan for c in DETAIL_COLUMNS[1:]}
    for k in range(3):
        d[f"check_SkewKurt{k}.Pass"] = None
    d["winsorise.nwin"] = None
    d["side"] = ""
    d["treatment"] = "none"
    return d


def _put_check(d: dict, k: int, chk: SkewKurtCheck) -> None:
    d[f"check_SkewKurt{k}.Pass"] = chk.passed
    d[f"check_SkewKurt{k}.Skew"] = chk.skew
    d[f"check_SkewKurt{k}.Kurt"] = chk.kurt


def treat_column(
    x,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    force_win: bool = False,
    log_fallback: bool = True,
) -> ColumnTreatment:
    """COINr ``Treat.numeric`` with the default specs (winsorise, then log_CT).

    1. check = check_SkewKurt(x); pass -> return x unchanged (``treatment="none"``).
    2. x1 = winsorise(x, winmax, ...); check again (``check_SkewKurt1``);
       pass -> return x1 (``treatment="winsorise"``).
    3. Otherwise (``combine_treat = FALSE``) x2 = log_CT(ORIGINAL x), checked
       (``check_SkewKurt2``) and returned whether or not it passes
       (``treatment="log_CT"``). With ``log_fallback=False`` (COINr ``f2 = NULL``)
       the winsorised column is returned instead.

    If a check returns NA (too few values, constant column) COINr returns the
    column untreated; we do the same and mark ``treatment="not_checked"``.
    ``force_win`` is passed to winsorise only (COINr ``f1_para``), so it acts
    only on columns that fail the first check. Source: COINr ``Treat.numeric``
    (``R/treat.R``).
    """
    x0 = np.asarray(x, dtype=float)
    d = _empty_details()
    points = np.full(x0.shape, "", dtype=object)

    chk0 = check_skew_kurt(x0, skew_thresh, kurt_thresh)
    _put_check(d, 0, chk0)
    if chk0.passed is None:
        d["treatment"] = "not_checked"
        return ColumnTreatment(x0.copy(), d, points)
    if chk0.passed:
        return ColumnTreatment(x0.copy(), d, points)

    win = winsorise(x0, winmax, skew_thresh, kurt_thresh, force_win)
    d["winsorise.nwin"] = win.nwin
    d["side"] = win.side
    chk1 = check_skew_kurt(win.x, skew_thresh, kurt_thresh)
    _put_check(d, 1, chk1)
    if chk1.passed is None:
        d["treatment"] = "not_checked"
        return ColumnTreatment(x0.copy(), d, points)
    if chk1.passed or not log_fallback:
        d["treatment"] = "winsorise"
        return ColumnTreatment(win.x, d, win.treated)

    x2 = log_ct(x0)
    chk2 = check_skew_kurt(x2, skew_thresh, kurt_thresh)
    _put_check(d, 2, chk2)
    if chk2.passed is None:
        d["treatment"] = "not_checked"
        return ColumnTreatment(x0.copy(), d, points)
    d["treatment"] = "log_CT"
    points = np.where(np.isnan(x0), "", "log_CT").astype(object)
    return ColumnTreatment(x2, d, points)


class TreatArrayResult(NamedTuple):
    """Result of :func:`treat_array`.

    ``values``: treated array, same shape as the input ``(..., units, indicators)``;
    ``points``: same shape, ``"winhi"``/``"winlo"``/``"log_CT"``/``""``;
    ``treatment``: ``(..., indicators)`` ``"none"``/``"winsorise"``/``"log_CT"``/``"not_checked"``;
    ``nwin``: ``(..., indicators)`` points winsorised (-1 where not winsorised);
    ``details``: long table, one row per (block, indicator): ``block`` (tuple of
    leading indices), ``indicator`` (position) and the :data:`DETAIL_COLUMNS` minus iCode.
    """

    values: np.ndarray
    points: np.ndarray
    treatment: np.ndarray
    nwin: np.ndarray
    details: pd.DataFrame


def treat_array(
    values: np.ndarray,
    present: np.ndarray | None = None,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    force_win: bool = False,
    log_fallback: bool = True,
) -> TreatArrayResult:
    """:func:`treat_column` on every (block, indicator) column of an engine array.

    ``values`` is ``(..., units, indicators)``; each column is treated across
    units within its block (e.g. one month), as COINr treats one data set.
    Units with ``present`` False (padding) are left out of the statistics and
    returned unchanged. Loops over columns only (block x indicator), never
    over units. Same formulas and sources as :func:`treat_column`.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim < 2:
        raise ValueError("treat_array: values must be (..., units, indicators)")
    pres = (np.ones(v.shape[:-1], dtype=bool) if present is None
            else np.broadcast_to(np.asarray(present, dtype=bool), v.shape[:-1]))
    out = v.copy()
    points = np.full(v.shape, "", dtype=object)
    treatment = np.full(v.shape[:-2] + v.shape[-1:], "none", dtype=object)
    nwin = np.full(treatment.shape, -1, dtype=int)
    rows = []
    for block in np.ndindex(v.shape[:-2]):
        keep = pres[block]
        for j in range(v.shape[-1]):
            col = v[block][keep, j]
            res = treat_column(col, winmax=winmax, skew_thresh=skew_thresh,
                               kurt_thresh=kurt_thresh, force_win=force_win,
                               log_fallback=log_fallback)
            tgt = out[block]
            tgt[keep, j] = res.x
            pts = points[block]
            pts[keep, j] = res.points
            treatment[block + (j,)] = res.details["treatment"]
            if res.details["winsorise.nwin"] is not None:
                nwin[block + (j,)] = res.details["winsorise.nwin"]
            rows.append({"block": block, "indicator": j, **res.details})
    details = pd.DataFrame(rows, columns=["block", "indicator", *DETAIL_COLUMNS[1:]])
    return TreatArrayResult(out, points, treatment, nwin, details)
