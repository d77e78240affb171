"""Regression-to-the-mean flag: a movement that follows an extreme month.

A unit whose "before" month was unusually bad will, on average, look better next month
even if nothing changed (Barnett, van der Pols & Dobson 2005, Int J Epidemiol 34:215).

Definition used here (documented for the report):

* history = the ``window`` months before the month examined (default 12; it includes the
  baseline months of lags 1-3, and of lag 12 when window >= 12);
* the unit's own mean rate u_h = sum of counts / sum of exposures over the history;
* the before period is **extreme high** when its count lies above the unit's own 2-sigma
  u-chart limit, z = (x_b - u_h E_b) / sqrt(u_h E_b) > 2, **and** its rate is in the top
  decile of the unit's monthly rates in the history (>= the 90% quantile); **extreme low**
  symmetrically (z < -2 and <= the 10% quantile). Both are required: with 12 months of
  history the decile rule alone flags every month that is the year's highest or lowest,
  and the z rule alone flags ordinary noise in large units' seasonal peaks;
* ``rtm_flag`` is True when the movement goes back toward the unit's mean: a fall after an
  extreme-high before period, or a rise after an extreme-low one;
* rare events get no z and no flag: below :data:`RTM_MIN_EXPECTED` = 5 expected events in the
  before period (u_h E_b) the normal approximation behind z means nothing (one fire where 0.08
  are expected gives z = 3.3), so ``before_z`` is NaN, ``extreme`` None and the flag False.
  The movement verdicts do not rely on this flag: they compare the month with the unit's
  long-run level directly (:mod:`qyb.movements.tables`), which is valid at any count.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .compare import _to_monthly_period_index, baseline_counts

__all__ = ["rtm_flags", "RTM_NOTES", "RTM_MIN_EXPECTED"]

#: expected events in the before period below which no z (and no flag) is computed
RTM_MIN_EXPECTED = 5.0

RTM_NOTES = {
    "high": "前期异常偏高，本期下降可能部分源于均值回归",
    "low": "前期异常偏低，本期上升可能部分源于均值回归",
}


def rtm_flags(counts: pd.DataFrame, exposures, month, lags=(1,), window: int = 12,
              z_threshold: float = 2.0, decile: float = 0.1, min_expected: float = RTM_MIN_EXPECTED) -> pd.DataFrame:
    """Flag movements that may be regression to the mean (see the module docstring).

    ``counts``: months x units; ``exposures``: same shape, a Series by unit, or a scalar.
    Returns a DataFrame by unit: count_before, exposure_before, count_now, exposure_now,
    rate_ratio, history_rate (u_h per exposure unit), expected_before (u_h E_b), before_z (NaN
    below ``min_expected``), before_quantile (share of history months with a rate <= the before
    rate), extreme ("high" / "low" / None), rtm_flag, rtm_note (Chinese; empty when not flagged).

    References
    ----------
    Barnett AG, van der Pols JC, Dobson AJ (2005). Regression to the mean: what it is and how to
        deal with it. *Int J Epidemiol* 34:215-220.
    """
    b = baseline_counts(counts, exposures, month, lags)
    cts = counts.copy()
    cts.index = _to_monthly_period_index(cts.index)
    now = pd.Period(month, freq="M")
    hist_months = [now - k for k in range(window, 0, -1)]
    hist_months = [m for m in hist_months if m in cts.index]
    if len(hist_months) < 3:
        raise ValueError(f"regression-to-the-mean check for {now} needs at least 3 months of history")
    if isinstance(exposures, pd.DataFrame):
        exp = exposures.copy()
        exp.index = _to_monthly_period_index(exp.index)
        eh = exp.loc[hist_months, cts.columns].to_numpy(float)
    elif isinstance(exposures, pd.Series):
        eh = np.broadcast_to(exposures.reindex(cts.columns).to_numpy(float), (len(hist_months), cts.shape[1]))
    else:
        eh = np.full((len(hist_months), cts.shape[1]), float(exposures))
    ch = cts.loc[hist_months].to_numpy(float)
    ok = ~(np.isnan(ch) | np.isnan(eh))
    uh = np.nansum(np.where(ok, ch, np.nan), axis=0) / np.nansum(np.where(ok, eh, np.nan), axis=0)
    rates = np.where(ok, ch / eh, np.nan)
    xb = b["count_before"].to_numpy(float)
    ebf = b["exposure_before"].to_numpy(float)
    rb = xb / ebf
    expected_before = uh * ebf
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(expected_before >= min_expected, (xb - expected_before) / np.sqrt(expected_before), np.nan)
    quantile = np.quantile if ok.all() else np.nanquantile  # nanquantile loops over units
    q_lo = quantile(rates, decile, axis=0)
    q_hi = quantile(rates, 1.0 - decile, axis=0)
    share = np.nanmean(rates <= rb[None, :], axis=0)
    high = (z > z_threshold) & (rb >= q_hi)
    low = (z < -z_threshold) & (rb <= q_lo)
    extreme = np.where(high & ~low, "high", np.where(low & ~high, "low", None)).astype(object)
    xn = b["count_now"].to_numpy(float)
    en = b["exposure_now"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = (xn / en) / rb
    flag = ((extreme == "high") & (rr < 1)) | ((extreme == "low") & (rr > 1))
    note = np.where(flag, np.where(extreme == "high", RTM_NOTES["high"], RTM_NOTES["low"]), "")
    return pd.DataFrame(
        {
            "count_before": xb,
            "exposure_before": ebf,
            "count_now": xn,
            "exposure_now": en,
            "rate_ratio": rr,
            "history_rate": uh,
            "expected_before": expected_before,
            "before_z": z,
            "before_quantile": share,
            "extreme": pd.Series(extreme, index=b.index, dtype=object),  # None stays None
            "rtm_flag": flag,
            "rtm_note": note,
        },
        index=b.index,
    )
