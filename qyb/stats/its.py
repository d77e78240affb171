"""Interrupted time series: segmented (quasi-)Poisson regression for a monthly total.

log E[y_t] = b0 + b1 t + b2 step_t + b3 (t - t0) step_t + log(population_t)
(+ optional Fourier terms for season), t = months since the first month, t0 = the
intervention month (default 2023-02, the barometer's start), step_t = 1 from t0 on.
exp(b2) is the level change (rate ratio at the intervention), exp(b3) the change in the
monthly trend (ratio per month).  Quasi-Poisson: scale = Pearson chi^2 / df (df = residual
degrees of freedom), standard errors times sqrt(scale), intervals and p-values from Student's
t with the residual df (statsmodels ``use_t=True``; the scale is estimated, so z would be
too narrow on a few dozen months).  Plain Poisson: scale 1, normal intervals.

The slope change needs at least :data:`MIN_POST_SLOPE` (3) months from the intervention on:
with 2, the step and the time-since term fit the two post months exactly (the slope change is
then just the ratio of the last month to the one before, with no residual information), so
the model drops the slope-change term, fits the level change only, and reports the slope
change as NaN with a note.  Source: Bernal, Cummins & Gasparrini (2017) Int J Epidemiol
46:348 ("Interrupted time series regression for the evaluation of public health
interventions"); fitted with statsmodels GLM (``fit(scale="X2")`` for quasi-Poisson).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ._util import normalise_level

__all__ = ["ITSResult", "its_poisson", "DEFAULT_INTERVENTION", "MIN_POST_SLOPE"]

DEFAULT_INTERVENTION = "2023-02"
#: months from the intervention on needed to estimate a slope change
MIN_POST_SLOPE = 3


@dataclass
class ITSResult:
    """Result of :func:`its_poisson` (in the manner of scipy.stats results).

    Attributes: ``level_change`` and ``slope_change`` (rate ratios), ``pre_slope`` (monthly
    rate ratio before the intervention), ``scale`` (1 for Poisson; Pearson chi^2/df for
    quasi-Poisson), ``table`` (term, estimate as rate ratio, lower, upper, pvalue, method),
    ``fitted`` (month, count, population, fitted, counterfactual and the three as rates per
    ``per``), ``model`` (the statsmodels results), ``method``, ``level``, ``note`` (empty, or
    why a term was not estimated: the slope change with fewer than 3 post-intervention
    months, when it is NaN; the table's ``note`` column carries the same text on that row).
    """

    level_change: float
    slope_change: float
    pre_slope: float
    scale: float
    table: pd.DataFrame
    fitted: pd.DataFrame
    method: str
    level: float
    model: object = field(repr=False)
    note: str = ""

    def confidence_interval(self, term: str = "level_change"):
        """(lower, upper) of a term's rate ratio: level_change, slope_change or pre_slope."""
        row = self.table.loc[term]
        return float(row["lower"]), float(row["upper"])


def its_poisson(counts: pd.Series, population, intervention=DEFAULT_INTERVENTION, quasi: bool = True,
                level: float = 0.95, per: float = 10000, harmonics: int = 0) -> ITSResult:
    """Segmented Poisson / quasi-Poisson regression around an intervention month.

    ``counts``: Series of monthly totals indexed by month (Period, Timestamp or "YYYY-MM");
    ``population``: Series on the same months or a scalar (the offset is log population).
    ``harmonics``: number of sine/cosine pairs of period 12 for seasonality (0 = none).
    Needs at least 3 months before and 2 from the intervention on; with fewer than 3 from the
    intervention on the model has no slope-change term (``slope_change`` NaN, ``note`` says why).
    Quasi-Poisson intervals and p-values use t with the residual df; Poisson ones the normal.
    Returns an :class:`ITSResult`; the counterfactual continues the pre-intervention level and
    trend (step and slope-change terms set to 0).

    References
    ----------
    Bernal JL, Cummins S, Gasparrini A (2017). Interrupted time series regression for the evaluation
        of public health interventions. *Int J Epidemiol* 46:348-355.
    """
    level = normalise_level(level)
    y = counts.astype(float).copy()
    y.index = pd.PeriodIndex(pd.to_datetime(pd.Index(y.index).astype(str)), freq="M") \
        if not isinstance(y.index, pd.PeriodIndex) else y.index.asfreq("M")
    y = y.sort_index()
    if isinstance(population, pd.Series):
        pop = population.copy()
        pop.index = pd.PeriodIndex(pd.to_datetime(pd.Index(pop.index).astype(str)), freq="M") \
            if not isinstance(pop.index, pd.PeriodIndex) else pop.index.asfreq("M")
        pop = pop.reindex(y.index).astype(float)
    else:
        pop = pd.Series(float(population), index=y.index)
    if y.isna().any() or pop.isna().any() or (pop <= 0).any():
        raise ValueError("counts and populations must be complete, populations > 0")
    t0p = pd.Period(intervention, freq="M")
    first = y.index[0]
    t = np.array([(m - first).n for m in y.index], dtype=float)
    t0 = float((t0p - first).n)
    step = (t >= t0).astype(float)
    if step.sum() < 2 or (1 - step).sum() < 3:
        raise ValueError("need at least 3 months before and 2 from the intervention on")
    n_post = int(step.sum())
    with_slope = n_post >= MIN_POST_SLOPE
    note = "" if with_slope else (
        f"slope change not estimated: {n_post} month(s) from the intervention on, at least "
        f"{MIN_POST_SLOPE} needed (with {n_post} the post-intervention segment is saturated); "
        "level-change-only model")
    X = pd.DataFrame({"const": 1.0, "time": t, "step": step, "time_since": (t - t0) * step}, index=y.index)
    if not with_slope:
        X = X.drop(columns="time_since")
    for h in range(1, harmonics + 1):
        month_no = np.array([m.month for m in y.index], dtype=float)
        X[f"sin{h}"] = np.sin(2 * np.pi * h * month_no / 12)
        X[f"cos{h}"] = np.cos(2 * np.pi * h * month_no / 12)
    offset = np.log(pop.to_numpy())
    model = sm.GLM(y.to_numpy(), X, family=sm.families.Poisson(), offset=offset)
    # quasi-Poisson: scale = Pearson chi2 / residual df, t intervals with the residual df
    res = model.fit(scale="X2", use_t=True) if quasi else model.fit(scale=1.0, use_t=False)
    scale = float(res.scale)
    ci = res.conf_int(alpha=1 - level)
    terms = {"pre_slope": "time", "level_change": "step", "slope_change": "time_since"}

    def _get(frame_or_series, v, col=None):
        if v not in X.columns:
            return np.nan
        return frame_or_series.loc[v, col] if col is not None else frame_or_series[v]

    table = pd.DataFrame(
        {
            "estimate": [np.exp(_get(res.params, v)) for v in terms.values()],
            "lower": [np.exp(_get(ci, v, 0)) for v in terms.values()],
            "upper": [np.exp(_get(ci, v, 1)) for v in terms.values()],
            "pvalue": [_get(res.pvalues, v) for v in terms.values()],
        },
        index=pd.Index(list(terms), name="term"),
    )
    method = ("quasi-Poisson (t, residual df)" if quasi else "Poisson") \
        + " segmented regression, log(population) offset"
    if not with_slope:
        method += ", level change only"
    table["level"] = level
    table["method"] = method
    table["note"] = ["", "", note]
    Xcf = X.copy()
    Xcf["step"] = 0.0
    if with_slope:
        Xcf["time_since"] = 0.0
    fitted = res.predict(X, offset=offset)
    cf = res.predict(Xcf, offset=offset)
    fit_df = pd.DataFrame(
        {
            "month": y.index,
            "count": y.to_numpy(),
            "population": pop.to_numpy(),
            "fitted": np.asarray(fitted),
            "counterfactual": np.asarray(cf),
        }
    )
    fit_df["rate"] = fit_df["count"] / fit_df["population"] * per
    fit_df["fitted_rate"] = fit_df["fitted"] / fit_df["population"] * per
    fit_df["counterfactual_rate"] = fit_df["counterfactual"] / fit_df["population"] * per
    fit_df["after"] = step.astype(bool)
    return ITSResult(
        level_change=float(table.loc["level_change", "estimate"]),
        slope_change=float(table.loc["slope_change", "estimate"]),
        pre_slope=float(table.loc["pre_slope", "estimate"]),
        scale=scale,
        table=table,
        fitted=fit_df,
        method=method,
        level=level,
        model=res,
        note=note,
    )
