"""Movements of count indicators: is a unit's fall (or rise) in alerts real?

Thin, tested glue between the validated panel (:class:`qyb.io.Panel`) and
:mod:`qyb.stats`: every statistic here is a call into ``qyb.stats`` and every
frame is tidy, one row per unit (and indicator x baseline), naming its method.

* :func:`movements_table` -- one month, one count indicator, one baseline
  (``mom`` previous month, ``yoy`` same month last year, ``3m`` the previous three
  months together): counts, exposures, rates per 10,000, rate ratio with the exact
  conditional (Clopper-Pearson) interval, E-test and exact binomial p, BH q across
  the town's units, Chinese verdict (:func:`qyb.stats.compare_counts`, baselines by
  :func:`qyb.stats.baseline_counts`) and the regression-to-the-mean flag
  (:func:`qyb.stats.rtm_flags`).
  Exposures are the populations the rates use: one month = the unit's 常住人口
  (person-months); the three-month baseline sums the three counts over 3 x the
  population, so its rate is the mean monthly rate.
* :func:`movements_all` -- every count indicator x the three baselines, the frame
  written to ``tables/movements.csv`` (q-values within each indicator x baseline).
* chart frames: :func:`funnel_frame` (per-unit rates and limits, plus a limit grid),
  :func:`control_frame` (u-chart / Laney u' over the last 13 months),
  :func:`its_fit` (segmented quasi-Poisson regression for the town's total around
  the mechanism's start, 2023-02).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qyb import stats
from qyb.data.catalogue import COUNT_INDICATORS, MEASURE_BY_CODE
from qyb.data.months import add_months, month_range
from qyb.data.panel import Panel
from qyb.errors import InputError, Problem
from qyb.vocab import BASELINES as _BASELINE_TABLE

__all__ = [
    "COUNT_INDICATORS",
    "BASELINES",
    "BASELINE_NAMES",
    "MOVEMENT_COLUMNS",
    "baseline_months",
    "counts_frame",
    "movements_table",
    "movements_all",
    "verdict_counts",
    "display_movements",
    "FunnelFrame",
    "funnel_frame",
    "control_frame",
    "its_fit",
    "summary_text",
]

#: count measures the movements report covers (events; rates per 10,000 residents)
BASELINES = tuple(_BASELINE_TABLE)
BASELINE_NAMES = {code: b.name for code, b in _BASELINE_TABLE.items()}
PER = 10000
#: months of history read: yoy needs 12, the RTM check 12 before the month, ITS the whole series
HISTORY_MONTHS = 36

MOVEMENT_COLUMNS = (
    "month", "unit_id", "unit_name", "indicator", "indicator_name", "baseline", "months_before",
    "count_before", "exposure_before", "count_now", "exposure_now", "rate_before", "rate_now",
    "rate_ratio", "rr_lower", "rr_upper", "level", "method", "p_etest", "p_exact", "q_value",
    "significant", "verdict", "rtm_flag", "rtm_extreme", "rtm_note",
)


def baseline_months(month: str, baseline: str) -> list[str]:
    """The months a baseline of ``month`` reads (``yoy`` of 2023-03: 2022-03)."""
    return [add_months(month, -k) for k in _BASELINE_TABLE[baseline].lags]


def counts_frame(panel: Panel, indicator: str, months: list[str] | None = None) -> pd.DataFrame:
    """Monthly counts of one measure: months ("YYYY-MM") x unit_id, in register order."""
    months = panel.months if months is None else months
    return pd.DataFrame(panel.cube(indicator, months), index=pd.Index(months, name="month"),
                        columns=panel.units.index)


def _check_indicator(indicator: str) -> None:
    if indicator not in COUNT_INDICATORS:
        raise ValueError(f"indicator must be a count measure, one of {COUNT_INDICATORS}; got {indicator!r}")


def movements_table(panel: Panel, month: str, indicator: str = "fraud_alerts", baseline: str = "yoy",
                    alpha: float = 0.05, level: float = 0.95) -> pd.DataFrame:
    """One row per unit: the change of ``indicator`` in ``month`` against ``baseline``.

    before/now from :func:`qyb.stats.baseline_counts` (exposure = population per month,
    3m: 3 x population); comparison by :func:`qyb.stats.compare_counts`:
    rate_ratio = (x1/E1)/(x0/E0), exact conditional CI (Clopper-Pearson on x1 | n ~
    Bin(n, E1/(E0+E1)); Breslow & Day 1987), p_exact (scipy.stats.binomtest), p_etest
    (Krishnamoorthy & Thomson 2004; scipy.stats.poisson_means_test), q_value
    (Benjamini-Hochberg 1995 across the units), verdict (q < alpha and the interval excludes 1:
    显著下降/上升; else
    ratio in 0.9-1.1: 基本持平; else 下降/上升但不显著). RTM flag from
    :func:`qyb.stats.rtm_flags` (a movement back toward the unit's own 12-month mean
    after an extreme before period; Barnett et al. 2005). Columns: :data:`MOVEMENT_COLUMNS`.
    """
    _check_indicator(indicator)
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}; got {baseline!r}")
    absent = [m for m in [month, *baseline_months(month, baseline)] if m not in panel.month_pos]
    if absent:
        raise InputError(Problem(str(panel.data_dir), f"cannot compare {month} {BASELINE_NAMES[baseline]}: "
                                 f"no data file for {', '.join(absent)}",
                                 "Add the baseline months' files, or choose another baseline (--baseline)."))
    counts = counts_frame(panel, indicator)
    population = panel.units["population"].astype(float)
    lags = _BASELINE_TABLE[baseline].lags
    base = stats.baseline_counts(counts, population, month, lags, baseline)
    comp = stats.compare_counts(base["count_before"], base["exposure_before"], base["count_now"],
                                base["exposure_now"], level=level, alpha=alpha, per=PER)
    try:
        rtm = stats.rtm_flags(counts, population, month, lags)
        rtm_cols = {"rtm_flag": rtm["rtm_flag"].astype(bool), "rtm_extreme": rtm["extreme"],
                    "rtm_note": rtm["rtm_note"]}
    except ValueError:  # fewer than 3 months of history: no flag can be computed
        rtm_cols = {"rtm_flag": pd.Series(pd.NA, index=comp.index, dtype="boolean"),
                    "rtm_extreme": None, "rtm_note": ""}
    out = pd.DataFrame({
        "month": base["month"],
        "unit_id": comp.index.to_numpy(),
        "unit_name": panel.units.loc[comp.index, "unit_name"].to_numpy(),
        "indicator": indicator,
        "indicator_name": MEASURE_BY_CODE[indicator].name,
        "baseline": baseline,
        "months_before": base["months_before"],
    }, index=comp.index)
    out = pd.concat([out, comp], axis=1)
    for k, v in rtm_cols.items():
        out[k] = v
    return out[list(MOVEMENT_COLUMNS)].reset_index(drop=True)


def movements_all(panel: Panel, month: str, indicators=None, baselines=None, **kwargs) -> pd.DataFrame:
    """:func:`movements_table` for every indicator x baseline, stacked (q within each pair).

    ``indicators`` / ``baselines``: default every count indicator / every baseline. A baseline
    whose months are not in the panel (e.g. yoy in the first year) is left out; the result may
    then be empty (with the columns of :data:`MOVEMENT_COLUMNS`). This frame is
    ``tables/movements.csv``.
    """
    indicators = COUNT_INDICATORS if indicators is None else tuple(indicators)
    baselines = BASELINES if baselines is None else tuple(baselines)
    for b in baselines:
        if b not in _BASELINE_TABLE:
            raise ValueError(f"baseline must be one of {BASELINES}; got {b!r}")
    usable = [b for b in baselines if panel.has_months([month, *baseline_months(month, b)])]
    frames = [movements_table(panel, month, ind, b, **kwargs)  # indicators x baselines; units vectorised
              for ind in indicators for b in usable]
    if not frames:
        return pd.DataFrame(columns=list(MOVEMENT_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def verdict_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How many units got each verdict, per indicator x baseline (all five verdicts, zeros kept)."""
    cat = pd.Categorical(table["verdict"], categories=list(stats.VERDICTS))
    out = (table.assign(verdict=cat).groupby(["indicator", "baseline", "verdict"], observed=False)
           .size().unstack("verdict").reset_index())
    out.columns.name = None
    return out


def display_movements(table: pd.DataFrame) -> pd.DataFrame:
    """The per-unit table as a reader sees it: Chinese headers, rounded, sorted by p."""
    t = table.sort_values(["p_exact", "unit_id"], kind="stable")

    def fmt(x, d=2):
        return np.where(np.isfinite(x.astype(float)), np.round(x.astype(float), d).astype(str),
                        np.where(np.isinf(x.astype(float)), "∞", "—"))

    return pd.DataFrame({
        "村(社区)": t["unit_name"],
        "编码": t["unit_id"],
        "基期数": t["count_before"].astype(int),
        "本期数": t["count_now"].astype(int),
        "基期万人率": t["rate_before"].round(2),
        "本期万人率": t["rate_now"].round(2),
        "率比": fmt(t["rate_ratio"]),
        "95%区间": [f"{a}–{b}" for a, b in zip(fmt(t["rr_lower"]), fmt(t["rr_upper"]))],
        "p (精确)": t["p_exact"].round(4),
        "p (E检验)": t["p_etest"].round(4),
        "q (BH)": t["q_value"].round(4),
        "判断": t["verdict"],
        "均值回归提示": t["rtm_note"].fillna(""),
    }).reset_index(drop=True)


# ---------------------------------------------------------------- chart frames
@dataclass(frozen=True)
class FunnelFrame:
    """What a funnel plot draws: ``units`` (one row per unit: unit_id, unit_name, count, population, rate,
    limits at its population, flag), ``limits`` (a grid of populations with the limits) and the
    statistics' own ``result`` (overdispersion, target, flag rule)."""

    units: pd.DataFrame
    limits: pd.DataFrame
    result: stats.FunnelRates


def funnel_frame(panel: Panel, month: str, indicator: str = "fraud_alerts", grid_points: int = 200) -> FunnelFrame:
    """Funnel plot data for ``month``: per-unit rates and limits, and a grid of limits.

    Per unit: :func:`qyb.stats.funnel_rates` (rate per 10,000, z, exact Poisson 95% / 99.8%
    limits at the unit's population, Spiegelhalter overdispersion adjustment when the
    dispersion test says so, Chinese flag) with unit_id, unit_name. Grid: population from
    0.8 x min to 1.2 x max, limits by :func:`qyb.stats.funnel_limits` with the same target
    and tau^2 (columns population, expected, target, lower_95 ... upper_99_8, method).
    """
    _check_indicator(indicator)
    counts = counts_frame(panel, indicator, [month]).iloc[0]
    pop = panel.units["population"].astype(float)
    res = stats.funnel_rates(counts, pop, per=PER)
    units = res.table.copy()
    units.insert(0, "unit_name", panel.units.loc[units.index, "unit_name"].to_numpy())
    units.insert(0, "unit_id", units.index.to_numpy())
    units = units.reset_index(drop=True)
    units["indicator"] = indicator
    units["month"] = month
    grid_pop = np.linspace(0.8 * pop.min(), 1.2 * pop.max(), grid_points)
    grid = stats.funnel_limits(res.target * grid_pop / PER, target=res.target,
                               tau2=res.tau2 if res.adjusted else 0.0)
    grid.insert(0, "population", grid_pop)
    return FunnelFrame(units, grid, res)


def control_frame(panel: Panel, month: str, indicator: str = "fraud_alerts", months: int = 13,
                  chart: str = "auto") -> pd.DataFrame:
    """Each unit's last ``months`` months (ending ``month``) as a u-chart / Laney u' long frame.

    :func:`qyb.stats.u_chart` per 10,000 residents, centre line and 3-sigma limits from the
    unit's own window, special-cause rules; plus unit_id, unit_name, indicator.
    """
    _check_indicator(indicator)
    window = [m for m in month_range(add_months(month, -(months - 1)), month) if m in panel.months]
    counts = counts_frame(panel, indicator, window)
    out = stats.u_chart(counts, panel.units["population"].astype(float), per=PER, chart=chart)
    out = out.rename(columns={"unit": "unit_id"})
    out.insert(1, "unit_name", out["unit_id"].map(panel.units["unit_name"]).to_numpy())
    out["indicator"] = indicator
    return out


def its_fit(panel: Panel, month: str, indicator: str = "fraud_alerts",
            intervention: str = stats.DEFAULT_INTERVENTION, quasi: bool = True) -> stats.ITSResult:
    """Segmented (quasi-)Poisson regression of the town's monthly total up to ``month``.

    Town total of the counts over all units, offset log(sum of populations);
    :func:`qyb.stats.its_poisson` (Bernal et al. 2017): level change and slope change as
    rate ratios with intervals. Uses only months up to ``month`` (a report does not look ahead).
    """
    _check_indicator(indicator)
    window = [m for m in panel.months if m <= month]
    total = counts_frame(panel, indicator, window).sum(axis=1, min_count=1)
    try:
        return stats.its_poisson(total, float(panel.units["population"].sum()), intervention=intervention,
                                 quasi=quasi, per=PER)
    except ValueError as exc:  # too few months around the intervention, or a gap in the series
        raise InputError(Problem(str(panel.data_dir), f"no interrupted time series of {indicator} around "
                                 f"{intervention} up to {month}: {exc}",
                                 "It needs the months before and after the intervention without gaps.")) from exc


def _fmt_ratio(x: float) -> str:
    return "∞" if np.isinf(x) else ("—" if np.isnan(x) else f"{x:.2f}")


def summary_text(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """A Chinese paragraph (markdown) for one indicator x baseline table: verdict counts and the
    significant movements with ratio, 95% interval, p and q."""
    row = table.iloc[0]
    counts = table["verdict"].value_counts()
    parts = "、".join(f"{v} {int(counts.get(v, 0))} 个" for v in stats.VERDICTS)
    text = (f"**{row['indicator_name']}**（{row['indicator']}），{row['month']} 对比"
            f"{BASELINE_NAMES[row['baseline']]}（{row['months_before']}）：{len(table)} 个村(社区)中，{parts}。"
            f"全镇合计 {int(table['count_before'].sum())} → {int(table['count_now'].sum())} 起。")
    sig = table[table["significant"]].sort_values("p_exact")
    if len(sig):
        items = [f"{r.unit_name}（{int(r.count_before)} → {int(r.count_now)} 起，率比 {_fmt_ratio(r.rate_ratio)}，"
                 f"95% 区间 {_fmt_ratio(r.rr_lower)}–{_fmt_ratio(r.rr_upper)}，p = {r.p_exact:.4f}，"
                 f"q = {r.q_value:.4f}，{r.verdict}{'；有均值回归提示' if pd.notna(r.rtm_flag) and bool(r.rtm_flag) else ''}）"
                 for r in sig.itertuples()]
        text += f" 经多重比较校正（BH，q < {alpha}）后显著的变动：" + "；".join(items) + "。"
    else:
        text += f" 经多重比较校正（BH，q < {alpha}）后，没有一个单位的变动达到显著。"
    return text
