"""Movements of count indicators: is a unit's fall (or rise) in alerts real?

Thin, tested glue between the validated panel (:class:`qyb.data.Panel`) and :mod:`qyb.stats`:
every statistic here is a call into ``qyb.stats`` and every frame is tidy, one row per unit
x indicator x baseline, naming its method.

The verdict of one row (:func:`movements_all`; the columns of :data:`MOVEMENT_COLUMNS`):

1. **Against the baseline** (``mom`` previous month, ``yoy`` same month last year, ``3m`` the
   previous three months pooled): rate ratio now / before with the mid-p interval of the
   Poisson-gamma model (:func:`qyb.stats.compare_counts` with the dispersion alpha of the
   indicator, estimated from the panel's last :data:`DISPERSION_MONTHS` months across all units
   by :func:`qyb.stats.nb_dispersion`); ``p_baseline``. The exact Poisson interval and p-values
   (``rr_lower_poisson``, ``rr_upper_poisson``, ``p_exact``, ``p_etest``) stay beside it: they
   assume Poisson counts, which the sample's months are not.
2. **Against the unit's long-run level** (regression to the mean): the same model compares the
   month with the unit's own mean over the :data:`LONG_RUN_MONTHS` months before it
   (``rr_long_run``, interval, ``p_long_run``); ``expected_ratio`` = long-run rate / baseline
   rate is the ratio chance alone predicts when nothing changed (永宁社区's fraud alerts: 13 in
   2022-03 against a 12-month mean of 5.3 gives 0.41).
3. **One family**: ``p_value`` = max(p_baseline, p_long_run) -- a movement is significant only
   when it is significant against both (an intersection-union test, Berger 1982) -- and
   ``q_value`` is Benjamini-Hochberg over every row the month's table publishes (every count
   indicator x every baseline the data allow x every unit; ``family``, ``family_size``), whatever
   subset is asked for, so a baseline or an indicator cannot be shopped for significance.
4. **Verdict** (:func:`qyb.stats.verdict`): 显著下降 / 显著上升 when q < alpha and both
   intervals exclude 1 on the same side; otherwise 基本持平 (ratio 0.9-1.1), 下降但不显著,
   上升但不显著. The regression-to-the-mean flag of :func:`qyb.stats.rtm_flags` is kept as a
   note (it needs at least 5 expected events in the baseline).

Exposures are the populations the rates use: one month = the unit's 常住人口 (person-months);
a baseline of k months sums the k counts over k x the population.

Chart frames: :func:`funnel_frame` (per-unit rates and limits, plus a limit grid),
:func:`control_frame` (u-chart / Laney u' over the last 13 months, rare events left out),
:func:`its_fit` (segmented quasi-Poisson regression of the town's total around the mechanism's
start, with season and robust errors).
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
    "resolve_indicator",
    "BASELINES",
    "BASELINE_NAMES",
    "MOVEMENT_COLUMNS",
    "DISPERSION_MONTHS",
    "LONG_RUN_MONTHS",
    "baseline_months",
    "counts_frame",
    "indicator_dispersion",
    "family_indicators",
    "movements_table",
    "movements_all",
    "verdict_counts",
    "display_movements",
    "display_verdict_counts",
    "display_funnel_flags",
    "funnel_text",
    "display_rank_intervals",
    "its_table",
    "its_text",
    "ratio_text",
    "FunnelFrame",
    "funnel_frame",
    "control_frame",
    "control_note",
    "its_fit",
    "summary_text",
]

#: count measures the movements report covers (events; rates per 10,000 residents)
BASELINES = tuple(_BASELINE_TABLE)
BASELINE_NAMES = {code: b.name for code, b in _BASELINE_TABLE.items()}
PER = 10000
#: months of history read: yoy needs 12, the long-run level 12 before the month, ITS the whole series
HISTORY_MONTHS = 36
#: months (ending with the month compared) from which each indicator's dispersion is estimated
DISPERSION_MONTHS = 24
#: months before the month compared that form the unit's long-run level
LONG_RUN_MONTHS = 12

MOVEMENT_COLUMNS = (
    "month", "unit_id", "unit_name", "indicator", "indicator_name", "baseline", "months_before",
    "count_before", "exposure_before", "count_now", "exposure_now", "rate_before", "rate_now",
    "rate_ratio", "rate_ratio_mue", "rr_lower", "rr_upper", "level", "method", "dispersion",
    "dispersion_months", "p_baseline",
    "long_run_months", "count_long_run", "exposure_long_run", "rate_long_run", "expected_ratio",
    "rr_long_run", "rr_long_lower", "rr_long_upper", "p_long_run",
    "p_value", "q_value", "family", "family_size", "significant", "verdict",
    "rr_lower_poisson", "rr_upper_poisson", "method_poisson", "p_exact", "p_etest",
    "rtm_flag", "rtm_extreme", "rtm_note",
)


def baseline_months(month: str, baseline: str) -> list[str]:
    """The months a baseline of ``month`` reads (``yoy`` of 2023-03: 2022-03)."""
    return [add_months(month, -k) for k in _BASELINE_TABLE[baseline].lags]


def counts_frame(panel: Panel, indicator: str, months: list[str] | None = None) -> pd.DataFrame:
    """Monthly counts of one measure: months ("YYYY-MM") x unit_id, in register order."""
    months = panel.months if months is None else months
    return pd.DataFrame(panel.cube(indicator, months), index=pd.Index(months, name="month"),
                        columns=panel.units.index)


def family_indicators(panel: Panel) -> tuple[str, ...]:
    """The count measures whose movements the month's table publishes: those the panel's catalogue marks for
    movements (the shipped catalogue: :data:`COUNT_INDICATORS`) that the panel holds."""
    wanted = panel.catalogue.movement_counts() if panel.catalogue is not None else COUNT_INDICATORS
    return tuple(m for m in wanted if m in panel.measure_pos)


def resolve_indicator(word: str, panel: Panel) -> str:
    """The count measure a user named by code, Chinese name or alias (``电诈警情`` → ``fraud_alerts``), among
    :func:`family_indicators` of ``panel`` (a measure a data folder's catalogue adds is one of them).

    Raises :class:`qyb.errors.InputError` naming the closest measures when none matches."""
    from qyb.data.catalogue import suggest
    from qyb.errors import InputError, Problem

    allowed = family_indicators(panel)
    names = {}
    for code in allowed:
        measure = panel.catalogue[code] if panel.catalogue is not None and code in panel.catalogue \
            else MEASURE_BY_CODE[code]
        for key in (code, measure.name, *measure.aliases):
            names.setdefault(key, code)
    if word in names:
        return names[word]
    close = suggest(word, list(names))
    listed = "、".join(f"{code} ({_measure_name(panel, code)})" for code in allowed)
    raise InputError(Problem(
        str(panel.data_dir), f"--indicator {word!r} is not a count measure with movements",
        f"Use one of: {listed}, or all" + (f" (did you mean {'、'.join(close)}?)" if close else ""),
        zh=f"没有可做变动分析的计数指标“{word}”",
        hint_zh=f"可选：{listed}，或 all" + (f"（是否想输入：{'、'.join(close)}？）" if close else "")))


def _measure_name(panel: Panel, code: str) -> str:
    if panel.catalogue is not None and code in panel.catalogue:
        return panel.catalogue[code].name
    return MEASURE_BY_CODE[code].name


def _check_indicator(indicator: str, panel: Panel) -> None:
    allowed = family_indicators(panel)
    if indicator not in allowed:
        raise ValueError(f"indicator must be a count measure, one of {allowed}; got {indicator!r}")


def _check_baseline(baseline: str) -> None:
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}; got {baseline!r}")


def _span(months: list[str]) -> str:
    return f"{months[0]}..{months[-1]}" if months else ""


def indicator_dispersion(panel: Panel, month: str, indicator: str) -> tuple[float, list[str]]:
    """Poisson-gamma dispersion alpha of ``indicator`` from the panel, and the months it used.

    The :data:`DISPERSION_MONTHS` months ending with ``month`` that have a file, every unit, fitted
    with unit and month effects (:func:`qyb.stats.nb_dispersion`, population as exposure). Fewer
    than 2 months carry no information on it: alpha 0 (Poisson) is returned then.
    """
    window = [m for m in month_range(add_months(month, -(DISPERSION_MONTHS - 1)), month) if m in panel.month_pos]
    if len(window) < 2:
        return 0.0, window
    fit = stats.nb_dispersion(panel.cube(indicator, window), panel.units["population"].to_numpy(float))
    alpha = fit.alpha if np.isfinite(fit.alpha) else 0.0
    return float(alpha), window


def _long_run(panel: Panel, month: str, indicator: str) -> dict:
    """Each unit's counts over the (up to) 12 months before ``month`` that have a value."""
    window = [m for m in (add_months(month, -k) for k in range(LONG_RUN_MONTHS, 0, -1)) if m in panel.month_pos]
    pop = panel.units["population"].to_numpy(float)
    if not window:
        nan = np.full(pop.shape, np.nan)
        return {"count": nan, "exposure": nan, "months": nan, "span": ""}
    cube = panel.cube(indicator, window)
    used = (~np.isnan(cube)).sum(axis=0).astype(float)
    count = np.where(used > 0, np.nansum(cube, axis=0), np.nan)
    return {"count": count, "exposure": np.where(used > 0, used * pop, np.nan), "months": used,
            "span": _span(window)}


def _usable_baselines(panel: Panel, month: str, baselines) -> list[str]:
    return [b for b in baselines if panel.has_months([month, *baseline_months(month, b)])]


def _indicator_rows(panel: Panel, month: str, indicator: str, baselines: list[str]) -> pd.DataFrame:
    """Every unit x baseline of one indicator: counts before/now, the long-run window, dispersion, RTM flag."""
    counts = counts_frame(panel, indicator)
    population = panel.units["population"].astype(float)
    alpha, disp_window = indicator_dispersion(panel, month, indicator)
    long = _long_run(panel, month, indicator)
    frames = []
    for baseline in baselines:
        lags = _BASELINE_TABLE[baseline].lags
        base = stats.baseline_counts(counts, population, month, lags, baseline)
        try:
            rtm = stats.rtm_flags(counts, population, month, lags)
            rtm_cols = {"rtm_flag": rtm["rtm_flag"].astype(bool).to_numpy(), "rtm_extreme": rtm["extreme"].to_numpy(),
                        "rtm_note": rtm["rtm_note"].to_numpy()}
        except ValueError:  # fewer than 3 months of history: no flag can be computed
            rtm_cols = {"rtm_flag": pd.array([pd.NA] * len(base), dtype="boolean"), "rtm_extreme": None,
                        "rtm_note": ""}
        frames.append(pd.DataFrame({
            "month": month,
            "unit_id": base.index.to_numpy(),
            "unit_name": panel.units.loc[base.index, "unit_name"].to_numpy(),
            "indicator": indicator,
            "indicator_name": _measure_name(panel, indicator),
            "baseline": baseline,
            "months_before": base["months_before"].to_numpy(),
            "n_months_before": float(len(lags)),
            **{c: base[c].to_numpy() for c in ("count_before", "exposure_before", "count_now", "exposure_now")},
            "dispersion": alpha,
            "dispersion_months": _span(disp_window),
            "long_run_months": long["span"],
            "count_long_run": long["count"],
            "exposure_long_run": long["exposure"],
            "n_months_long_run": long["months"],
            **rtm_cols,
        }))
    return pd.concat(frames, ignore_index=True)


def _compare(rows: pd.DataFrame, level: float) -> pd.DataFrame:
    """Both comparisons of every row at once: against the baseline and against the long-run level."""
    comp = stats.compare_counts(rows["count_before"], rows["exposure_before"], rows["count_now"],
                                rows["exposure_now"], level=level, per=PER, dispersion=rows["dispersion"],
                                months_before=rows["n_months_before"], months_now=1)
    out = rows.copy()
    for c in ("rate_before", "rate_now", "rate_ratio", "rate_ratio_mue", "rr_lower", "rr_upper", "level", "method",
              "rr_lower_poisson", "rr_upper_poisson", "method_poisson", "p_exact", "p_etest"):
        out[c] = comp[c].to_numpy()
    out["p_baseline"] = comp["p_value"].to_numpy()
    # the long-run comparison is the same for every baseline of a unit and indicator: once per pair
    first = ~out.duplicated(["indicator", "unit_id"])
    u = out[first]
    lr = stats.rate_ratio_midp(u["count_long_run"], u["exposure_long_run"], u["count_now"], u["exposure_now"],
                               u["dispersion"], months_before=u["n_months_long_run"], months_now=1, level=level,
                               estimate=False)
    key = pd.MultiIndex.from_frame(u[["indicator", "unit_id"]])
    at = key.get_indexer(pd.MultiIndex.from_frame(out[["indicator", "unit_id"]]))
    out["rr_long_lower"], out["rr_long_upper"], out["p_long_run"] = lr["lower"][at], lr["upper"][at], lr["pvalue"][at]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_long = out["count_long_run"] / out["exposure_long_run"]
        out["rate_long_run"] = rate_long * PER
        out["expected_ratio"] = rate_long / (out["count_before"] / out["exposure_before"])
        out["rr_long_run"] = (out["count_now"] / out["exposure_now"]) / rate_long
    return out


def _family_label(month: str, n_indicators: int, n_baselines: int, n_units: int, size: int) -> str:
    return (f"{month} 全部变动判断（{n_indicators} 项计数指标 × {n_baselines} 种基期 × {n_units} 个村(社区)，"
            f"{size} 个判断）")


def movements_all(panel: Panel, month: str, indicators=None, baselines=None, alpha: float = 0.05,
                  level: float = 0.95) -> pd.DataFrame:
    """The month's movement verdicts (see the module docstring): the frame of ``tables/movements.csv``.

    The family -- every count indicator of :func:`family_indicators` x every baseline whose months
    are in the panel x every unit -- is always computed, and q is Benjamini-Hochberg over all of it; ``indicators`` /
    ``baselines`` (default: all) only select which rows are returned, with the family's q
    (:func:`movement_family` then :func:`select_movements`).
    ``alpha``: the false discovery rate of the verdicts; ``level``: of the intervals. A month
    without any usable baseline gives an empty frame with the columns of :data:`MOVEMENT_COLUMNS`.
    """
    _check_selection(panel, indicators, baselines)
    return select_movements(movement_family(panel, month, alpha, level), panel, indicators, baselines)


def _check_selection(panel: Panel, indicators, baselines) -> None:
    for ind in () if indicators is None else indicators:
        _check_indicator(ind, panel)
    for b in () if baselines is None else baselines:
        _check_baseline(b)


def movement_family(panel: Panel, month: str, alpha: float = 0.05, level: float = 0.95) -> pd.DataFrame:
    """Every verdict of the month's family (every count indicator x every usable baseline x every unit),
    with the family's q: what :func:`movements_all` selects its rows from (the edition keeps it in the
    processed store, so the notebooks and the command line compute it once). Columns: those of
    :data:`MOVEMENT_COLUMNS`; empty when no baseline is usable."""
    family = family_indicators(panel)
    usable = _usable_baselines(panel, month, BASELINES)
    if not usable:
        return pd.DataFrame(columns=list(MOVEMENT_COLUMNS))
    rows = pd.concat([_indicator_rows(panel, month, ind, usable) for ind in family], ignore_index=True)
    table = _compare(rows, level)
    table["p_value"] = np.fmax(table["p_baseline"].to_numpy(float), table["p_long_run"].to_numpy(float))
    table.loc[table["p_baseline"].isna() | table["p_long_run"].isna(), "p_value"] = np.nan
    table["q_value"] = stats.bh_qvalues(table["p_value"].to_numpy(float))
    size = int(table["p_value"].notna().sum())
    table["family"] = _family_label(month, len(family), len(usable), len(panel.units), size)
    table["family_size"] = size
    lower = np.fmin(table["rr_lower"].to_numpy(float), table["rr_long_lower"].to_numpy(float))
    upper = np.fmax(table["rr_upper"].to_numpy(float), table["rr_long_upper"].to_numpy(float))
    table["verdict"] = stats.verdict(table["rate_ratio"].to_numpy(float), table["q_value"].to_numpy(float),
                                     alpha=alpha, rr_lower=lower, rr_upper=upper)
    table["significant"] = table["verdict"].isin(["显著下降", "显著上升"])
    return table[list(MOVEMENT_COLUMNS)]


def select_movements(family: pd.DataFrame, panel: Panel, indicators=None, baselines=None) -> pd.DataFrame:
    """The rows of ``family`` (:func:`movement_family`) for ``indicators`` x ``baselines`` (default: all)."""
    _check_selection(panel, indicators, baselines)
    if not len(family):
        return family.reset_index(drop=True)
    indicators = family_indicators(panel) if indicators is None else tuple(indicators)
    baselines = BASELINES if baselines is None else tuple(baselines)
    table = family[family["indicator"].isin(indicators) & family["baseline"].isin(baselines)]
    return table[list(MOVEMENT_COLUMNS)].reset_index(drop=True)


def movements_table(panel: Panel, month: str, indicator: str = "fraud_alerts", baseline: str = "yoy",
                    alpha: float = 0.05, level: float = 0.95, family: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit: the change of ``indicator`` in ``month`` against ``baseline``.

    The rows of :func:`movements_all` for one indicator and baseline (q from the month's whole
    family; ``family``: the month's :func:`movement_family` when already made). A baseline whose
    months have no file is an :class:`~qyb.errors.InputError`. Columns: :data:`MOVEMENT_COLUMNS`.
    """
    _check_indicator(indicator, panel)
    _check_baseline(baseline)
    absent = [m for m in [month, *baseline_months(month, baseline)] if m not in panel.month_pos]
    if absent:
        raise InputError(Problem(str(panel.data_dir), f"cannot compare {month} {BASELINE_NAMES[baseline]}: "
                                 f"no data file for {', '.join(absent)}",
                                 "Add the baseline months' files, or choose another baseline (--baseline)."))
    if family is None:
        return movements_all(panel, month, [indicator], [baseline], alpha=alpha, level=level)
    return select_movements(family, panel, [indicator], [baseline])


def verdict_counts(table: pd.DataFrame) -> pd.DataFrame:
    """How many units got each verdict, per indicator x baseline (all five verdicts, zeros kept)."""
    cat = pd.Categorical(table["verdict"], categories=list(stats.VERDICTS))
    out = (table.assign(verdict=cat).groupby(["indicator", "baseline"], observed=False)["verdict"]
           .value_counts().unstack("verdict").reset_index())
    out.columns.name = None
    return out


def ratio_text(rate_ratio, count_before, count_now) -> str:
    """The rate ratio as a reader sees it: ``'0.62'``, or the plain counts ``'13 → 0'`` where a ratio
    of 0 or infinity would say nothing useful, ``'—'`` when both counts are 0 or missing."""
    if pd.isna(count_before) or pd.isna(count_now) or (count_before == 0 and count_now == 0):
        return "—"
    if count_before == 0 or count_now == 0:
        return f"{int(count_before)} → {int(count_now)}"
    return f"{float(rate_ratio):.2f}"


def _interval_text(lower, upper) -> str:
    if pd.isna(lower) or pd.isna(upper):
        return "—"
    hi = "无上限" if np.isinf(upper) else f"{upper:.2f}"
    return f"{lower:.2f} – {hi}"


def _p_text(p) -> str:
    if pd.isna(p):
        return "—"
    return "< 0.0001" if p < 1e-4 else f"{p:.4f}"


#: the Chinese headers of :func:`display_movements`, in order
DISPLAY_HEADERS = ("村(社区)", "基期", "基期数", "本期数", "基期万人率", "本期万人率", "率比", "95% 区间",
                   "近12月月均", "无变化时预期率比", "p 值", "q 值", "判断", "提示")


def _fixed(values, decimals: int) -> list[str]:
    return ["—" if not np.isfinite(v) else f"{v:.{decimals}f}" for v in np.asarray(values, dtype=float)]


def display_movements(table: pd.DataFrame) -> pd.DataFrame:
    """The per-unit table as a reader sees it: Chinese headers, no codes, plain ratios, sorted by p.

    率比 is :func:`ratio_text` ("13 → 0" where a count is 0); 95% 区间 the verdict model's interval;
    近12月月均 the unit's mean count per month over the long-run window; 无变化时预期率比 the
    ratio chance alone predicts (long-run rate / baseline rate); p and q the verdict's (q over
    the month's whole family); 提示 the regression-to-the-mean note. Numbers are text with fixed
    decimals (rates 2, monthly means 1); 基期 is left out when the table has one baseline only.
    """
    t = table.sort_values(["p_value", "unit_id"], kind="stable")
    per_month = t["count_long_run"] / (t["exposure_long_run"] / t["exposure_now"])
    out = pd.DataFrame({
        "村(社区)": t["unit_name"].to_numpy(),
        "基期": [BASELINE_NAMES[b] for b in t["baseline"]],
        "基期数": t["count_before"].astype("Int64").to_numpy(),
        "本期数": t["count_now"].astype("Int64").to_numpy(),
        "基期万人率": _fixed(t["rate_before"], 2),
        "本期万人率": _fixed(t["rate_now"], 2),
        "率比": [ratio_text(r, b, n) for r, b, n in zip(t["rate_ratio"], t["count_before"], t["count_now"])],
        "95% 区间": [_interval_text(lo, hi) for lo, hi in zip(t["rr_lower"], t["rr_upper"])],
        "近12月月均": _fixed(per_month, 1),
        "无变化时预期率比": _fixed(t["expected_ratio"], 2),
        "p 值": [_p_text(p) for p in t["p_value"]],
        "q 值": [_p_text(q) for q in t["q_value"]],
        "判断": t["verdict"].to_numpy(),
        "提示": t["rtm_note"].fillna("").to_numpy(),
    })[list(DISPLAY_HEADERS)]
    return out.drop(columns="基期") if t["baseline"].nunique() == 1 else out


def display_verdict_counts(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`verdict_counts` as a reader sees it: 指标 and 基期 in Chinese, one column per verdict, no codes."""
    vc = verdict_counts(table)
    names = dict(zip(table["indicator"], table["indicator_name"]))
    out = pd.DataFrame({"指标": [names[i] for i in vc["indicator"]],
                        "基期": [BASELINE_NAMES[b] for b in vc["baseline"]]})
    for v in stats.VERDICTS:
        out[v] = vc[v].to_numpy()
    order = {code: k for k, code in enumerate(COUNT_INDICATORS)}
    rank = vc["indicator"].map(order) * 10 + vc["baseline"].map({b: k for k, b in enumerate(BASELINES)})
    return out.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


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
    _check_indicator(indicator, panel)
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


def display_funnel_flags(frame: FunnelFrame) -> pd.DataFrame:
    """The units outside the funnel's limits, as a reader sees them (Chinese headers, no codes)."""
    u = frame.units[frame.units["flag"] != "正常范围"]
    return pd.DataFrame({
        "村(社区)": u["unit_name"].to_numpy(),
        "本月发生数": u["count"].astype("Int64").to_numpy(),
        "按全镇水平的预期数": _fixed(u["expected"], 1),
        "每万人发生率": _fixed(u["rate"], 2),
        "判断": u["flag"].to_numpy(),
    })


def funnel_text(frame: FunnelFrame) -> str:
    """One Chinese paragraph: how many units lie outside the limits and whether the limits were widened."""
    res = frame.result
    flagged = int((frame.units["flag"] != "正常范围").sum())
    if res.adjusted:
        spread = (f"各村(社区)之间的差异明显大于随机波动（检验 p = {_p_text(res.dispersion_pvalue)}），"
                  "控制限已相应放宽，只有差异特别突出的单位才会落在限外。")
    else:
        spread = (f"各村(社区)之间的差异没有超出随机波动能解释的范围（检验 p = {_p_text(res.dispersion_pvalue)}），"
                  "控制限按纯随机波动画出。")
    return (f"全镇平均每万人 {res.target:.2f} 起。{spread}本月落在 95% 控制限以外的村(社区)共 {flagged} 个"
            f"（在 {len(frame.units)} 个单位中，纯属偶然也常会有一两个落在 95% 限外）。")


def display_rank_intervals(ri: pd.DataFrame) -> pd.DataFrame:
    """Rank intervals as a reader sees them: Chinese headers, no codes, in rank order."""
    t = ri.sort_values("rank", kind="stable")
    return pd.DataFrame({
        "排名": t["rank"].astype("Int64").to_numpy(),
        "村(社区)": t["unit_name"].to_numpy(),
        "星级": [("★" * int(s)) if pd.notna(s) else "" for s in t["stars"]],
        "排名中位数": _fixed(t["rank_median"], 0),
        "排名区间（5%–95%）": [f"{int(a)}–{int(b)}" for a, b in zip(t["rank_p05"], t["rank_p95"])],
        "进入前三概率": [f"{p:.0%}" for p in t["p_top3"]],
        "保持星级概率": [f"{p:.0%}" for p in t["p_same_stars"]],
    })


def _control_all(panel: Panel, month: str, indicator: str, months: int, chart: str) -> pd.DataFrame:
    _check_indicator(indicator, panel)
    window = [m for m in month_range(add_months(month, -(months - 1)), month) if m in panel.months]
    counts = counts_frame(panel, indicator, window)
    out = stats.u_chart(counts, panel.units["population"].astype(float), per=PER, chart=chart)
    out = out.rename(columns={"unit": "unit_id"})
    out.insert(1, "unit_name", out["unit_id"].map(panel.units["unit_name"]).to_numpy())
    out["indicator"] = indicator
    return out


def control_frame(panel: Panel, month: str, indicator: str = "fraud_alerts", months: int = 13,
                  chart: str = "auto") -> pd.DataFrame:
    """The charted units' last ``months`` months (ending ``month``) as a u-chart / Laney u' long frame.

    :func:`qyb.stats.u_chart` per 10,000 residents, centre line and 3-sigma limits from the
    unit's own window, special-cause rules; plus unit_id, unit_name, indicator. Units expecting
    fewer than :data:`qyb.stats.CONTROL_MIN_EXPECTED` (5) events a month are left out (their
    charts would signal on noise; :func:`control_note` names them); when no unit is left this is
    an :class:`~qyb.errors.InputError` saying so.
    """
    out = _control_all(panel, month, indicator, months, chart)
    charted = out[out["charted"]].reset_index(drop=True)
    if charted.empty:
        raise InputError(Problem(str(panel.data_dir), f"{_measure_name(panel, indicator)}每月预期发生数在每个村(社区)"
                                 f"都不足 {stats.CONTROL_MIN_EXPECTED:g} 起，控制图在这样少的数字上只会对偶然波动报警",
                                 "Read the movement table and the funnel plot for this indicator instead."))
    return charted


def control_note(panel: Panel, month: str, indicator: str = "fraud_alerts", months: int = 13) -> str:
    """A Chinese sentence naming the units :func:`control_frame` leaves out (empty when none)."""
    out = _control_all(panel, month, indicator, months, "auto")
    left = out.loc[~out["charted"]].drop_duplicates("unit_id")
    if left.empty:
        return ""
    names = "、".join(left["unit_name"])
    return (f"以下 {len(left)} 个村(社区)每月预期{_measure_name(panel, indicator)}不足 "
            f"{stats.CONTROL_MIN_EXPECTED:g} 起，未画控制图（数字太少，控制图只会对偶然波动报警）：{names}。")


def its_fit(panel: Panel, month: str, indicator: str = "fraud_alerts",
            intervention: str = stats.DEFAULT_INTERVENTION, quasi: bool = True, harmonics="auto",
            errors: str = "conservative") -> stats.ITSResult:
    """Segmented quasi-Poisson regression of the town's monthly total up to ``month``.

    Town total of the counts over all units, offset log(sum of populations);
    :func:`qyb.stats.its_poisson` (Bernal et al. 2017): level change and slope change as rate
    ratios with intervals, the yearly season (``harmonics``, default "auto"), standard errors
    robust to autocorrelation (``errors``, default "conservative") and the residual
    autocorrelation check. Uses only months up to ``month`` (a report does not look ahead).
    """
    _check_indicator(indicator, panel)
    window = [m for m in panel.months if m <= month]
    total = counts_frame(panel, indicator, window).sum(axis=1, min_count=1)
    try:
        return stats.its_poisson(total, float(panel.units["population"].sum()), intervention=intervention,
                                 quasi=quasi, per=PER, harmonics=harmonics, errors=errors)
    except ValueError as exc:  # too few months around the intervention, or a gap in the series
        raise InputError(Problem(str(panel.data_dir), f"no interrupted time series of {indicator} around "
                                 f"{intervention} up to {month}: {exc}",
                                 "It needs the months before and after the intervention without gaps.")) from exc


def its_table(its: stats.ITSResult) -> pd.DataFrame:
    """The ITS estimates as a reader sees them: Chinese headers, rate ratios, the residual check."""
    names = {"pre_slope": "机制前每月趋势", "level_change": "机制启动时的水平变化", "slope_change": "启动后每月趋势的变化"}
    t = its.table
    rows = []
    for term, name in names.items():
        r = t.loc[term]
        if pd.isna(r["estimate"]):
            rows.append({"项目": name, "率比": "—", "95% 区间": "—", "p 值": "—", "说明": "启动后月份太少，暂不估计"})
            continue
        rows.append({"项目": name, "率比": f"{r['estimate']:.3f}", "95% 区间": _interval_text(r["lower"], r["upper"]),
                     "p 值": _p_text(r["pvalue"]), "说明": ""})
    auto = "是" if its.autocorrelated else "否"
    rows.append({"项目": "残差自相关检查", "率比": f"DW = {its.durbin_watson:.2f}", "95% 区间": "",
                 "p 值": _p_text(its.ljung_box_pvalue),
                 "说明": f"相邻月份残差相关系数 {its.acf1:.2f}；是否自相关：{auto}（标准误已按 Newey–West 方法稳健处理）"})
    return pd.DataFrame(rows)


def its_text(its: stats.ITSResult) -> str:
    """One Chinese paragraph on the town-wide level change: the estimate, whether chance explains it, the checks."""
    lo, hi = its.confidence_interval("level_change")
    change = its.level_change - 1
    word = "下降" if change < 0 else "上升"
    clear = lo > 1 or hi < 1
    verdict = ("区间不含 1，变化难以用偶然解释" if clear else "区间包含 1，这样大小的变化偶然也会出现，尚不能确认")
    auto = ("残差存在自相关（相邻月份互相牵连），标准误已按 Newey–West 方法放宽。" if its.autocorrelated
            else f"残差没有明显的自相关（Durbin–Watson 值 {its.durbin_watson:.2f}，约为 2 表示各月相互独立）。")
    season = {"none": "本序列太短，未能扣除季节波动，结论须更加谨慎。"}.get(its.season, "模型已扣除季节波动。")
    return (f"机制启动当月，全镇水平{word}约 {abs(change):.0%}（率比 {its.level_change:.3f}，95% 区间 "
            f"{_interval_text(lo, hi)}）：{verdict}。{season}{auto}")


def _fmt_ratio(x: float) -> str:
    return "∞" if np.isinf(x) else ("—" if np.isnan(x) else f"{x:.2f}")


def _row_reading(r) -> str:
    """One movement in a sentence: counts, ratio, interval, long-run comparison, verdict."""
    change = ratio_text(r.rate_ratio, r.count_before, r.count_now)
    ratio = f"率比 {change}" if "→" not in change else "本期或基期为 0"
    return (f"{r.unit_name}（{int(r.count_before)} → {int(r.count_now)} 起，{ratio}，95% 区间 "
            f"{_interval_text(r.rr_lower, r.rr_upper)}；近12月月均 "
            f"{r.count_long_run / (r.exposure_long_run / r.exposure_now):.1f} 起，无变化时预期率比 "
            f"{_fmt_ratio(r.expected_ratio)}；q = {_p_text(r.q_value)}，{r.verdict}）")


def summary_text(table: pd.DataFrame, alpha: float = 0.05) -> str:
    """A Chinese paragraph (markdown) for one indicator x baseline table: verdict counts, the
    significant movements, and the large falls or rises that are not significant once the unit's
    long-run level and the month's whole family of comparisons are taken into account."""
    row = table.iloc[0]
    counts = table["verdict"].value_counts()
    parts = "、".join(f"{v} {int(counts.get(v, 0))} 个" for v in stats.VERDICTS)
    text = (f"**{row['indicator_name']}**，{row['month']} 对比{BASELINE_NAMES[row['baseline']]}"
            f"（{row['months_before']}）：{len(table)} 个村(社区)中，{parts}。"
            f"全镇合计 {int(table['count_before'].sum())} → {int(table['count_now'].sum())} 起。")
    sig = table[table["significant"]].sort_values("p_value")
    if len(sig):
        text += "排除偶然波动和均值回归后仍然成立的变动：" + "；".join(_row_reading(r) for r in sig.itertuples()) + "。"
    else:
        text += "排除偶然波动和均值回归后，没有一个村(社区)的变动可以确认是真实的。"
    near = table[~table["significant"] & (table["p_baseline"] < alpha)].sort_values("p_baseline")
    if len(near):
        text += ("以下变动单看与基期的对比较为明显，但结合该单位近12个月的平均水平、并对本月全部 "
                 f"{int(row['family_size'])} 个判断统一校正后，不能排除偶然：" +
                 "；".join(_row_reading(r) for r in near.head(5).itertuples()) + "。")
    return text
