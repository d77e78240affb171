"""Trend in a monthly series: Theil-Sen slope with interval, Mann-Kendall test.

Vectorised over many series: ``y`` is one series (1-D) or units x months (2-D); the time
points ``x`` are shared.  Results match ``scipy.stats.theilslopes`` and
``scipy.stats.kendalltau`` (tau-b, two-sided, method "auto").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from ._util import normalise_level

__all__ = ["THEIL_SEN", "MANN_KENDALL", "trend", "kendall_exact_pvalue"]

THEIL_SEN = "Theil-Sen (Sen 1968)"
MANN_KENDALL = "Mann-Kendall (Kendall tau-b against time)"


def _tie_sums(y):
    """Per row: ytie = sum t(t-1)/2, y0 = sum t(t-1)(t-2), y1 = sum t(t-1)(2t+5) over tie groups."""
    eq = y[:, :, None] == y[:, None, :]
    t = eq.sum(axis=2).astype(float)  # size of each element's tie group
    # every group of size t is counted t times: divide by t
    ytie = np.sum((t - 1.0) / 2.0, axis=1)
    y0 = np.sum((t - 1.0) * (t - 2.0), axis=1)
    y1 = np.sum((t - 1.0) * (2.0 * t + 5.0), axis=1)
    return ytie, y0, y1


def _mahonian_cdf(n: int) -> np.ndarray:
    """CDF of the number of inversions (discordant pairs) of a random permutation of n items.

    Exact null distribution of Kendall's statistic without ties (Kendall 1970, Rank
    Correlation Methods): coefficients of prod_{j=1..n} (1 + q + ... + q^(j-1)) / j.
    """
    tot = n * (n - 1) // 2
    pmf = np.zeros(tot + 1)
    pmf[0] = 1.0
    for j in range(2, n + 1):  # builds one distribution; not a loop over units
        c = np.cumsum(pmf)
        new = c.copy()
        new[j:] -= c[:-j]
        pmf = new / j
    return np.cumsum(pmf)


def kendall_exact_pvalue(n: int, c):
    """Two-sided exact p for Kendall's test without ties: min(1, 2 P(D <= min(c, tot - c))),
    D = discordant pairs among n (as scipy's ``_kendall_p_exact``).

    References
    ----------
    Kendall MG (1970). *Rank Correlation Methods*, 4th ed. London: Griffin.
    """
    tot = n * (n - 1) // 2
    c = np.asarray(c)
    cmin = np.minimum(c, tot - c).astype(int)
    if n <= 2:
        return np.ones(c.shape)
    cdf = _mahonian_cdf(n)
    p = 2.0 * cdf[cmin]
    p = np.where(4 * c == n * (n - 1), 1.0, p)
    return np.minimum(p, 1.0)


def trend(y, x=None, level: float = 0.95) -> pd.DataFrame:
    """Theil-Sen slope (with interval) and Mann-Kendall test for one or many series.

    Slope = median of (y_j - y_i)/(x_j - x_i) over pairs with x_j > x_i; intercept =
    median(y) - slope median(x); interval = order statistics of the pairwise slopes at
    (N -/+ z sigma)/2 with sigma^2 = [n(n-1)(2n+5) - sum_ties t(t-1)(2t+5)]/18 (Sen 1968,
    JASA 63:1379, eq. 2.6; as scipy.stats.theilslopes).
    Mann-Kendall: tau-b of y against time, S = concordant - discordant; p exact (no ties and
    n <= 33, or at most one discordant pair either way) else normal with
    var S = [n(n-1)(2n+5) - sum t(t-1)(2t+5)]/18 (Kendall 1970; as scipy.stats.kendalltau).

    ``y``: 1-D (one series) or 2-D (series x time), a DataFrame's rows being series; ``x``:
    time points (default 0, 1, ...; months since start), shared by all series.  A series with
    any NaN gives NaN; a constant series (every y tied) has no Mann-Kendall test: tau and p
    are NaN, and a negative tie-corrected variance (constant y with tied x) is clipped to 0
    (Theil-Sen interval = the slope).  Returns a DataFrame, one row per series: slope, slope_lower,
    slope_upper, intercept, tau, pvalue, n, level, method.

    References
    ----------
    Sen PK (1968). Estimates of the regression coefficient based on Kendall's tau. *JASA*
        63:1379-1389.
    Kendall MG (1970). *Rank Correlation Methods*, 4th ed. London: Griffin.
    """
    index = y.index if isinstance(y, pd.DataFrame) else None
    Y = np.asarray(y, dtype=float)
    one = Y.ndim == 1
    Y = np.atleast_2d(Y)
    T = Y.shape[1]
    X = np.arange(T, dtype=float) if x is None else np.asarray(x, dtype=float)
    if X.shape != (T,):
        raise ValueError("x must have one value per time point")
    if T < 3:
        raise ValueError("need at least 3 time points")
    level = normalise_level(level)
    bad = np.isnan(Y).any(axis=1)
    Y = np.where(bad[:, None], 0.0, Y)

    # ---- Theil-Sen
    i, j = np.nonzero(X[None, :] - X[:, None] > 0)  # pairs with x_j > x_i (i row, j column)
    dx = X[j] - X[i]
    slopes = np.sort((Y[:, j] - Y[:, i]) / dx, axis=1)
    nt = slopes.shape[1]
    med = np.median(slopes, axis=1)
    intercept = np.median(Y, axis=1) - med * np.median(X)
    alpha = 1.0 - level
    z = _st.norm.ppf(alpha / 2.0)
    _, _, y1 = _tie_sums(Y)
    _, _, x1 = _tie_sums(X[None, :])
    sigsq = (T * (T - 1) * (2 * T + 5) - x1[0] - y1) / 18.0
    # a constant series with tied x makes the tie-corrected variance negative: clip to 0
    # (the interval collapses to the median slope; the p-value is NaN below)
    sigsq = np.maximum(sigsq, 0.0)
    sigma = np.sqrt(sigsq)
    Ru = np.minimum(np.round((nt - z * sigma) / 2.0).astype(int), nt - 1)
    Rl = np.maximum(np.round((nt + z * sigma) / 2.0).astype(int) - 1, 0)
    rows = np.arange(Y.shape[0])
    lo, hi = slopes[rows, Rl], slopes[rows, Ru]

    # ---- Mann-Kendall (Kendall tau-b of y against x)
    iu, ju = np.triu_indices(T, 1)
    sx = np.sign(X[ju] - X[iu])
    sy = np.sign(Y[:, ju] - Y[:, iu])
    S = np.sum(sx * sy, axis=1)
    tot = T * (T - 1) // 2
    ytie, y0, y1 = _tie_sums(Y)
    xtie, x0, x1 = (v[0] for v in _tie_sums(X[None, :]))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.clip(S / np.sqrt(tot - xtie) / np.sqrt(tot - ytie), -1.0, 1.0)
    dis = np.sum((sx * sy) < 0, axis=1)
    exact = (xtie == 0) & (ytie == 0) & ((T <= 33) | (np.minimum(dis, tot - dis) <= 1))
    m = T * (T - 1.0)
    var = (m * (2 * T + 5) - x1 - y1) / 18.0 + (2 * xtie * ytie) / m + x0 * y0 / (9 * m * (T - 2))
    var = np.maximum(var, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_asym = np.where(var > 0, 2.0 * _st.norm.sf(np.abs(S / np.sqrt(var))), np.nan)
    p = np.where(exact, kendall_exact_pvalue(T, tot - dis) if exact.any() else np.nan, p_asym)
    p = np.where(ytie == tot, np.nan, p)
    tau = np.where(ytie == tot, np.nan, tau)

    out = pd.DataFrame(
        {
            "slope": med,
            "slope_lower": lo,
            "slope_upper": hi,
            "intercept": intercept,
            "tau": tau,
            "pvalue": p,
            "n": T,
            "level": level,
            "method": f"{THEIL_SEN}; {MANN_KENDALL}",
        },
        index=index,
    )
    out.loc[bad, ["slope", "slope_lower", "slope_upper", "intercept", "tau", "pvalue"]] = np.nan
    return out.iloc[0] if one else out
