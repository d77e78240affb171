"""Exact re-implementations of PHEindicatormethods v2.1.0's funnels (``calculate_funnel_limits``,
``assign_funnel_significance``, ``calculate_funnel_points``; R/Funnels.R, R/utils.R), kept so the
parity tests can reproduce PHE's published numbers to its own tolerance. The project's funnels are
:func:`qyb.stats.funnel_limits` and :func:`qyb.stats.funnel_rates`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from qyb.stats._util import as_float_array, index_of
from qyb.stats.intervals import WILSON, _poisson_limits

__all__ = ["phe_poisson_funnel", "phe_funnel_grid", "phe_funnel_limits", "phe_funnel_significance",
           "phe_funnel_points", "wilson_funnel_limits", "r_signif_floor", "r_signif_ceiling"]


def _phe_poisson_cis(z, x_a, x_b):
    """PHE ``poisson_cis`` (R/utils.R), vectorised: P(x_a <= X <= x_b), X ~ Poisson(z), by the
    series q_k = z^k/k! summed while k <= z or q > 1e-10 tot (rescaled by 1e30 when tot > 1e30),
    in the same order of floating-point operations as the R code."""
    z = np.asarray(z, dtype=float)
    x_a = np.broadcast_to(np.asarray(x_a, dtype=float), z.shape)
    x_b = np.broadcast_to(np.asarray(x_b, dtype=float), z.shape)
    q = np.ones(z.shape)
    tot = np.zeros(z.shape)
    s = np.zeros(z.shape)
    k = 0.0
    active = np.ones(z.shape, dtype=bool)
    while True:
        active &= (k <= z) | (q > tot * 1e-10)
        if not active.any():
            break
        tot = np.where(active, tot + q, tot)
        s = np.where(active & (k >= x_a) & (k <= x_b), s + q, s)
        big = active & (tot > 1e30)
        if big.any():
            s = np.where(big, s / 1e30, s)
            tot = np.where(big, tot / 1e30, tot)
            q = np.where(big, q / 1e30, q)
        k += 1.0
        q = np.where(active, q * z / k, q)
    return s / tot


def phe_poisson_funnel(obs, p, side: str, series: bool = True):
    """PHEindicatormethods ``poisson_funnel`` (R/utils.R), vectorised: the Poisson mean mu at
    which obs events sit on a one-sided p limit, by 23 halvings of v in mu = (1 + obs) v/(1 - v).

    side "low": find mu with P(X >= obs | mu) = p (target qchisq(p, 2 obs)/2);
    side "high": P(X <= obs | mu) = p (target qchisq(1 - p, 2 obs + 2)/2).
    Tail probabilities come from scipy's Poisson cdf/sf; with ``series=True`` (default) those
    within 1e-6 (relative) of p are recomputed with PHE's truncated series
    (:func:`_phe_poisson_cis`), so every halving decides as PHE's does and the result
    reproduces PHE to the last digit (``series=False``: a step can flip, ~5e-7 relative).
    """
    obs = as_float_array(obs)
    v = np.full(obs.shape, 0.5)
    dv = 0.5
    while dv > 1e-7:
        dv /= 2.0
        mu = (1.0 + obs) * v / (1.0 - v)
        if side == "low":
            prob = _st.poisson.sf(obs - 1.0, mu)
        elif side == "high":
            prob = _st.poisson.cdf(obs, mu)
        else:
            raise ValueError("side must be 'low' or 'high'")
        if series:
            # PHE's series only where the comparison with p is close enough to depend on it
            near = np.abs(prob - p) <= 1e-6 * p
            if near.any():
                lo_k = obs[near] if side == "low" else 0.0
                hi_k = 1e10 if side == "low" else obs[near]
                prob = prob.copy()
                prob[near] = _phe_poisson_cis(mu[near], lo_k, hi_k)
        if side == "low":
            v = np.where(prob > p, v - dv, v + dv)
        else:
            v = np.where(prob < p, v - dv, v + dv)
    return (1.0 + obs) * v / (1.0 - v)


def _r_as_character_len(x: float) -> int:
    """nchar(as.character(x)) in R for a whole-number double (15 significant digits).

    R prints in scientific notation when that is shorter than fixed (1e+05 has 5 chars).
    """
    if x == 0:
        return 1
    fixed = str(int(x)) if abs(x) < 1e15 else f"{x:.0f}"
    digits = fixed.lstrip("-")
    sig = digits.rstrip("0")
    mant = sig[0] + ("." + sig[1:] if len(sig) > 1 else "")
    exp = len(digits) - 1
    sci = ("-" if x < 0 else "") + mant + "e+" + f"{exp:02d}"
    return len(sci) if len(sci) < len(fixed) else len(fixed)


def r_signif_floor(x: float) -> float:
    """PHE ``signif.floor``: n = nchar(floor(0.95x)) - 1; floor(0.95x / 10^n) * 10^n (0 -> 0)."""
    if x == 0:
        return 0.0
    n = _r_as_character_len(np.floor(0.95 * x)) - 1
    return float(np.floor(0.95 * x / 10.0**n) * 10.0**n)


def r_signif_ceiling(x: float) -> float:
    """PHE ``signif.ceiling``: n = nchar(ceiling(1.05x)) - 2; ceiling(1.05x / 10^n) * 10^n (0 -> 0)."""
    if x == 0:
        return 0.0
    n = _r_as_character_len(np.ceil(1.05 * x)) - 2
    return float(np.ceil(1.05 * x / 10.0**n) * 10.0**n)


def phe_funnel_grid(min_den: float, max_den: float, statistic: str, av: float | None = None, years: float = 1) -> np.ndarray:
    """The 100-point denominator (or event) grid of PHE ``calculate_funnel_limits``.

    axis_min = 0 if max > 2 min else signif.floor(min); axis_max = signif.ceiling(max)
    (rates: on min/years, max/years, times years, then in events: floor/ceiling(axis * av)).
    col[1] = max(1, axis_min); col[j] = max(round((axis_max/col[j-1])^(1/(101-off)) col[j-1]),
    col[j-1] + 1), off = j (proportion, rate) or j - 1 (ratio); R's round (half to even).
    """
    if statistic == "rate":
        axis_min = 0.0 if max_den > 2 * min_den else r_signif_floor(min_den / years) * years
        axis_max = r_signif_ceiling(max_den / years) * years
        axis_min = np.floor(axis_min * av)
        axis_max = np.ceil(axis_max * av)
    elif statistic in ("proportion", "ratio"):
        axis_min = 0.0 if max_den > 2 * min_den else r_signif_floor(min_den)
        axis_max = r_signif_ceiling(max_den)
    else:
        raise ValueError("statistic must be 'proportion', 'rate' or 'ratio'")
    col = np.empty(100)
    col[0] = max(1.0, axis_min)
    for j in range(2, 101):  # a recurrence over grid points, not over units
        off = j - 1 if statistic == "ratio" else j
        col[j - 1] = max(np.round((axis_max / col[j - 2]) ** (1.0 / (101 - off)) * col[j - 2]), col[j - 2] + 1)
    return col


def wilson_funnel_limits(n, a: float, p: float):
    """Closed-form inverse of Wilson used by PHE ``sigma_adjustment`` for proportion funnels.

    For one-sided p (0.975 or 0.999), z = qnorm(p): low is the observed proportion whose Wilson
    upper limit equals a, high the one whose Wilson lower limit equals a:
    first = a(n/z^2 + 1); last = 1/z^2 + 1/n;
    adj = sqrt((8a(n/z^2 + 1))^2 - 64(1/z^2 + 1/n) a (n(a(n/z^2 + 2) - 1) + z^2(a - 1)));
    low = (first - adj/8)/last/n, high = (first + adj/8)/last/n (PHE R/Funnels.R).
    Returns (low, high) as proportions (unclipped).
    """
    n = as_float_array(n)
    z = _st.norm.ppf(p)
    first = a * (n / z**2 + 1.0)
    last = 1.0 / z**2 + 1.0 / n
    with np.errstate(invalid="ignore"):
        adj = np.sqrt((8.0 * a * (n / z**2 + 1.0)) ** 2
                      - 64.0 * (1.0 / z**2 + 1.0 / n) * a * (n * (a * (n / z**2 + 2.0) - 1.0) + z**2 * (a - 1.0)))
    low = (first - adj / 8.0) / last / n
    high = (first + adj / 8.0) / last / n
    return low, high


def _phe_denominator_derived(num, den, rate, statistic, rate_type, multiplier):
    num = as_float_array(num)
    if statistic in ("proportion", "ratio"):
        return as_float_array(den)
    rate = as_float_array(rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = multiplier * num / rate
    if rate_type == "dsr":
        return np.where(num == 0, np.nan, d)
    if den is None:
        return np.where(num == 0, np.nan, d)
    return np.where(num == 0, as_float_array(den), d)


def phe_funnel_limits(
    numerator,
    denominator=None,
    rate=None,
    statistic: str = "proportion",
    multiplier: float = 100,
    rate_type: str | None = None,
    years_of_data: float = 1,
    ratio_type: str = "count",
    bisection: bool = True,
) -> pd.DataFrame:
    """PHEindicatormethods ``calculate_funnel_limits`` (v2.1.0, R/Funnels.R), reproduced.

    Builds PHE's 100-point grid (:func:`phe_funnel_grid`) and the 95% (2s) and 99.8% (3s)
    limits along it.  Proportion: Wilson inverse (:func:`wilson_funnel_limits`) times
    ``multiplier``, clipped to [0, 100] as PHE does whatever the multiplier; columns
    Population, lower/upper_2s/3s_limit, baseline.  Rate: grid of Events, limit rate =
    Ev / (mu / av) * m with mu from :func:`phe_poisson_funnel` (``bisection=False`` uses exact
    chi-square quantiles instead), and the *_population_1_year columns mu / av / years.
    Ratio: grid of Observed_events, *_exp_events = mu, *_count = O/mu - 1 (ratio_type "count")
    or *_isr = O/mu * multiplier ("isr").  Also a ``method`` column.
    """
    num = as_float_array(numerator)
    den = None if denominator is None else as_float_array(denominator)
    dd = _phe_denominator_derived(num, den, rate, statistic, rate_type, multiplier)
    av = np.nansum(num) / np.nansum(dd)
    dmin, dmax = np.nanmin(dd), np.nanmax(dd)
    grid = phe_funnel_grid(dmin, dmax, statistic, av=av, years=years_of_data)
    sides = {"2s": 0.025, "3s": 0.001}

    def mu(obs, p, side):
        if bisection:
            return phe_poisson_funnel(obs, p, side)
        if side == "low":
            return _st.chi2.ppf(p, 2.0 * obs) / 2.0
        return _st.chi2.ppf(1.0 - p, 2.0 * obs + 2.0) / 2.0

    if statistic == "proportion":
        out = {"Population": grid}
        for s, pp in sides.items():
            lo, hi = wilson_funnel_limits(grid, av, 1.0 - pp)
            out[f"lower_{s}_limit"] = np.maximum(0.0, lo * multiplier)
            out[f"upper_{s}_limit"] = np.minimum(100.0, hi * multiplier)
        out["baseline"] = av * multiplier
        out["method"] = WILSON
        df = pd.DataFrame(out)
        return df[["Population", "lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit", "baseline", "method"]]
    if statistic == "rate":
        out = {"Events": grid}
        for s, pp in sides.items():
            for bound, side in (("lower", "high"), ("upper", "low")):
                m_ = mu(grid, pp, side)
                out[f"{bound}_{s}_population_1_year"] = m_ / av / years_of_data
                out[f"{bound}_{s}_limit"] = grid / (m_ / av) * multiplier
        out["baseline"] = av * multiplier
        out["method"] = "Poisson"
        return pd.DataFrame(out)
    if statistic == "ratio":
        out = {"Observed_events": grid}
        for s, pp in sides.items():
            for bound, side in (("lower", "high"), ("upper", "low")):
                m_ = mu(grid, pp, side)
                out[f"{bound}_{s}_exp_events"] = m_
                if ratio_type == "count":
                    out[f"{bound}_{s}_count"] = grid / m_ - 1.0
                else:
                    out[f"{bound}_{s}_isr"] = grid / m_ * multiplier
        out["method"] = "Poisson"
        return pd.DataFrame(out)
    raise ValueError("statistic must be 'proportion', 'rate' or 'ratio'")


def phe_funnel_significance(
    numerator,
    denominator,
    rate=None,
    statistic: str = "proportion",
    rate_type: str | None = None,
    multiplier: float = 100000,
):
    """PHEindicatormethods ``assign_funnel_significance`` (v2.1.0), reproduced.

    Proportion: x/n against the Wilson-inverse limits around av = sum x / sum n; checked in
    order (strict): < low(99.8%) "Low (0.001)", < low(95%) "Low (0.025)", > high(99.8%)
    "High (0.001)", > high(95%) "High (0.025)", else "Not significant".
    Rate/ratio: the count's own limits (exact for obs < 10, Byar from 10; 0 for obs = 0 on
    the low side) divided by E (ratio: expected; rate: derived denominator) compared with the
    target (1; rates: av): target < low(99.8%) "High (0.001)" ... (NA comparisons are FALSE).
    DSRs with fewer than 10 events: "Not applicable for events less than 10 for dsrs".
    Returns an object array of labels.
    """
    x = as_float_array(numerator)
    if statistic == "proportion":
        n = as_float_array(denominator)
        av = np.nansum(x) / np.nansum(n)
        prop = x / n
        lo3, hi3 = wilson_funnel_limits(n, av, 0.999)
        lo2, hi2 = wilson_funnel_limits(n, av, 0.975)
        return np.select(
            [prop < lo3, prop < lo2, prop > hi3, prop > hi2],
            ["Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)"],
            default="Not significant",
        ).astype(object)
    if statistic == "ratio":
        E = as_float_array(denominator)
        target = 1.0
    elif statistic == "rate":
        E = _phe_denominator_derived(x, denominator, rate, "rate", rate_type, multiplier)
        target = np.nansum(x) / np.nansum(E)
    else:
        raise ValueError("statistic must be 'proportion', 'rate' or 'ratio'")
    lims = {}
    for lv in (0.998, 0.95):
        lo, hi, _ = _poisson_limits(x, lv, "phe")
        lo = np.where(x == 0, 0.0, lo)
        with np.errstate(divide="ignore", invalid="ignore"):
            lims[lv] = (lo / E, hi / E)
    with np.errstate(invalid="ignore"):
        out = np.select(
            [target < lims[0.998][0], target < lims[0.95][0], target > lims[0.998][1], target > lims[0.95][1]],
            ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"],
            default="Not significant",
        ).astype(object)
    if statistic == "rate" and rate_type == "dsr":
        out = np.where(x < 10, "Not applicable for events less than 10 for dsrs", out).astype(object)
    return out


def phe_funnel_points(numerator, rate, rate_type: str = "crude", denominator=None, years_of_data: float = 1,
                      multiplier: float = 100000) -> pd.DataFrame:
    """PHEindicatormethods ``calculate_funnel_points`` (v2.1.0), reproduced.

    dsr: rate_chart = NA if num < 10 else rate; denominator_derived = NA if num < 10 else
    m num / rate / years.  crude: rate_chart = rate; denominator_derived = m num / rate / years
    (num = 0: denominator / years).  Returns columns rate_chart, denominator_derived.
    """
    x = as_float_array(numerator)
    r = as_float_array(rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = multiplier * x / r / years_of_data
    if rate_type == "dsr":
        rc = np.where(x < 10, np.nan, r)
        dd = np.where(x < 10, np.nan, d)
    elif rate_type == "crude":
        rc = r
        den = np.full(x.shape, np.nan) if denominator is None else as_float_array(denominator)
        dd = np.where(x == 0, den / years_of_data, d)
    else:
        raise ValueError("rate_type must be 'dsr' or 'crude'")
    return pd.DataFrame({"rate_chart": rc, "denominator_derived": dd}, index=index_of(numerator, rate))
