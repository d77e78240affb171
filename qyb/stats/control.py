"""Control charts for a unit's monthly counts: u-chart and Laney's u'-chart, special causes.

u_i = c_i / n_i (count over exposure, times ``per``); centre line u_bar = sum c / sum n;
sigma_i = sqrt(u_bar / n_i); limits u_bar -/+ 3 sigma_i (Montgomery, Introduction to
Statistical Quality Control, 7th ed., sec. 7.3.3).  Laney's u' (Laney 2002, Quality
Engineering 14:531): z_i = (u_i - u_bar) / sigma_i, sigma_z = mean moving range of z / 1.128,
limits u_bar -/+ 3 sigma_i sigma_z.

Special-cause rules (flags on every point of a qualifying run):

* ``rule_beyond``: a point beyond the 3-sigma limits;
* ``rule_run8``: 8 consecutive points on the same side of the centre line;
* ``rule_trend6``: 6 consecutive points steadily increasing or decreasing (5 rises or 5 falls);
* ``rule_2of3``: 2 of 3 consecutive points beyond 2 sigma on the same side.

(Western Electric / Nelson rules 1, 2, 3 and 5, with the run lengths of Montgomery 2013.)
With Laney's chart sigma means sigma_i sigma_z throughout.

Rare events get no chart: the limits are a normal approximation to the count, which fails at
small counts. A unit is charted only when its expected count per month (centre line x mean
exposure) is at least :data:`CONTROL_MIN_EXPECTED` = 5. By simulation of 13 in-control Poisson
months (2,000 series per point), the share of series with at least one signal is 4.5-5.5 % from
5 expected events a month on, but 7.5 % at 3, 9 % at 2, 11 % at 1, 21 % at 0.5 and 42 % at 0.25
(a single event in a quiet unit lies "beyond 3 sigma").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats as _st

__all__ = ["U_CHART", "LANEY_U", "NOT_CHARTED", "CONTROL_MIN_EXPECTED", "u_chart", "special_cause_rules"]

U_CHART = "u-chart"
LANEY_U = "Laney u'-chart"
NOT_CHARTED = "not charted: fewer than 5 expected events a month"
#: a unit is charted only when it expects at least this many events a month (module docstring)
CONTROL_MIN_EXPECTED = 5.0
_D2 = 1.128  # d2 for moving ranges of 2


def _runs(mask: np.ndarray, length: int) -> np.ndarray:
    """Mark every point that lies in a window of ``length`` consecutive True values (rows)."""
    U, T = mask.shape
    out = np.zeros_like(mask)
    if T < length:
        return out
    win = sliding_window_view(mask, length, axis=1).all(axis=2)  # (U, T - length + 1)
    for k in range(length):  # spread each qualifying window over its points (window offsets)
        out[:, k:k + win.shape[1]] |= win
    return out


def special_cause_rules(u: np.ndarray, centre: np.ndarray, sigma: np.ndarray) -> dict:
    """The four rules above on arrays (units x months); sigma is the per-point sigma in use.

    Returns a dict of boolean arrays: rule_beyond, rule_run8, rule_trend6, rule_2of3.
    NaN points break runs.

    References
    ----------
    Montgomery DC (2019). *Introduction to Statistical Quality Control*, 8th ed., ch. 7 (the u
        chart) and the Western Electric rules.
    """
    u = np.atleast_2d(u)
    z = (u - centre) / sigma
    valid = ~np.isnan(z)
    beyond = valid & (np.abs(z) > 3)
    above = valid & (z > 0)
    below = valid & (z < 0)
    run8 = _runs(above, 8) | _runs(below, 8)
    d = np.diff(u, axis=1)
    up = np.concatenate([np.zeros((u.shape[0], 1), bool), d > 0], axis=1)
    down = np.concatenate([np.zeros((u.shape[0], 1), bool), d < 0], axis=1)
    # 6 points rising = 5 consecutive rises; mark the 5 rises and the point before them
    rise5 = _runs(up, 5)
    fall5 = _runs(down, 5)
    trend6 = rise5 | fall5
    trend6[:, :-1] |= (rise5[:, 1:] & ~up[:, :-1] & up[:, 1:]) | (fall5[:, 1:] & ~down[:, :-1] & down[:, 1:])
    hi2 = valid & (z > 2)
    lo2 = valid & (z < -2)
    two3 = np.zeros_like(hi2)
    T = u.shape[1]
    if T >= 3:
        for side in (hi2, lo2):
            win = sliding_window_view(side, 3, axis=1)
            hit = win.sum(axis=2) >= 2  # (U, T - 2)
            for k in range(3):
                two3[:, k:k + hit.shape[1]] |= hit & win[:, :, k]
    return {"rule_beyond": beyond, "rule_run8": run8, "rule_trend6": trend6, "rule_2of3": two3}


def u_chart(counts, exposures, per: float = 1.0, chart: str = "auto", alpha: float = 0.05,
            min_expected: float = CONTROL_MIN_EXPECTED) -> pd.DataFrame:
    """u-chart (or Laney u') for monthly counts with exposures, one or many units.

    ``counts``/``exposures``: Series indexed by month (one unit) or DataFrame months x units
    (exposures may be a Series by unit or a scalar).  ``chart``: "u", "laney" or "auto" --
    Laney's u' when the counts are overdispersed: Pearson X^2 = sum (c_i - u_bar n_i)^2 /
    (u_bar n_i) exceeds its chi2_{T-1} (1 - alpha) quantile *and* sigma_z > 1 (so u' widens).
    A unit whose expected count per month, ``expected`` = u_bar x mean exposure, is below
    ``min_expected`` (default 5; see the module docstring) is not charted: ``charted`` False,
    limits and z NaN, no rule fires, chart :data:`NOT_CHARTED` (0 charts every unit).

    Returns a long DataFrame, one row per unit and month: unit, month, count, exposure, u,
    centre, sigma, lower, upper, lower_2s, upper_2s, z, the four rule columns, special (any
    rule), chart, sigma_z, dispersion_pvalue, expected, charted.  u, centre and limits are per
    ``per``; lower limits are clipped at 0.

    References
    ----------
    Montgomery DC (2019). *Introduction to Statistical Quality Control*, 8th ed., ch. 7 (the u
        chart) and the Western Electric rules.
    Laney DB (2002). Improved control charts for attributes. *Quality Engineering* 14:531-537.
    """
    if isinstance(counts, pd.Series):
        cdf = counts.to_frame(name=counts.name if counts.name is not None else "unit")
    else:
        cdf = pd.DataFrame(counts)
    if isinstance(exposures, pd.DataFrame):
        edf = exposures.reindex(index=cdf.index, columns=cdf.columns)
    elif isinstance(exposures, pd.Series) and isinstance(counts, pd.Series):
        edf = exposures.reindex(cdf.index).to_frame(name=cdf.columns[0])
    elif isinstance(exposures, pd.Series):
        edf = pd.DataFrame(np.broadcast_to(exposures.reindex(cdf.columns).to_numpy(float), cdf.shape),
                           index=cdf.index, columns=cdf.columns)
    else:
        edf = pd.DataFrame(float(exposures), index=cdf.index, columns=cdf.columns)
    if chart not in ("u", "laney", "auto"):
        raise ValueError("chart must be 'u', 'laney' or 'auto'")
    c = cdf.to_numpy(float).T  # units x months
    n = edf.to_numpy(float).T
    if np.any(n[~np.isnan(n)] <= 0):
        raise ValueError("exposures must be > 0")
    ok = ~(np.isnan(c) | np.isnan(n))
    u = c / n
    ubar = np.nansum(np.where(ok, c, np.nan), axis=1) / np.nansum(np.where(ok, n, np.nan), axis=1)
    sig = np.sqrt(ubar[:, None] / n)
    with np.errstate(divide="ignore", invalid="ignore"):  # a unit with no events: z and sigma_z undefined
        z = (u - ubar[:, None]) / sig
        mr = np.abs(np.diff(z, axis=1))
        n_mr = (~np.isnan(mr)).sum(axis=1)
        sigma_z = np.where(n_mr > 0, np.nansum(mr, axis=1) / np.maximum(n_mr, 1), np.nan) / _D2
        x2 = np.nansum(np.where(ok, (c - ubar[:, None] * n) ** 2 / (ubar[:, None] * n), np.nan), axis=1)
    dfree = ok.sum(axis=1) - 1
    disp_p = _st.chi2.sf(x2, dfree)
    if chart == "u":
        laney = np.zeros(c.shape[0], bool)
    elif chart == "laney":
        laney = np.ones(c.shape[0], bool)
    else:
        laney = (disp_p < alpha) & (sigma_z > 1)
    with np.errstate(invalid="ignore"):
        expected = ubar * np.nanmean(np.where(ok, n, np.nan), axis=1)
    charted = expected >= min_expected
    s_used = np.where(charted[:, None], sig * np.where(laney, sigma_z, 1.0)[:, None], np.nan)
    rules = {k: v & charted[:, None] for k, v in special_cause_rules(u, ubar[:, None], s_used).items()}
    U, T = c.shape
    units = np.repeat(cdf.columns.to_numpy(), T)
    months = np.tile(cdf.index.to_numpy(), U)
    out = pd.DataFrame(
        {
            "unit": units,
            "month": months,
            "count": c.ravel(),
            "exposure": n.ravel(),
            "u": (u * per).ravel(),
            "centre": np.repeat(ubar * per, T),
            "sigma": (s_used * per).ravel(),
            "lower": (np.maximum(0.0, ubar[:, None] - 3 * s_used) * per).ravel(),
            "upper": ((ubar[:, None] + 3 * s_used) * per).ravel(),
            "lower_2s": (np.maximum(0.0, ubar[:, None] - 2 * s_used) * per).ravel(),
            "upper_2s": ((ubar[:, None] + 2 * s_used) * per).ravel(),
            "z": ((u - ubar[:, None]) / s_used).ravel(),
        }
    )
    for k, v in rules.items():
        out[k] = v.ravel()
    out["special"] = out[list(rules)].any(axis=1)
    out["chart"] = np.repeat(np.where(charted, np.where(laney, LANEY_U, U_CHART), NOT_CHARTED), T)
    out["sigma_z"] = np.repeat(sigma_z, T)
    out["dispersion_pvalue"] = np.repeat(disp_p, T)
    out["expected"] = np.repeat(expected, T)
    out["charted"] = np.repeat(charted, T)
    if isinstance(counts, pd.Series):
        out = out.drop(columns="unit").set_index("month")
    return out
