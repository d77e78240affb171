"""Funnel plots: control limits for rates, ratios and proportions, overdispersion, flags.

Two families of functions:

* the project-facing ones -- :func:`funnel_limits` (limits over a range of expected
  counts or populations) and :func:`funnel_rates` (one row per unit: rate, z-score, limits at
  the unit's population, overdispersion-adjusted limits, significance flag in Chinese).
  qyb's default limits are Spiegelhalter's (2005, Stat Med 24:1185, appendix A.1.1)
  interpolated quantiles of Poisson(E), and the default flags an exact Poisson test of each
  count against its E; the chi-square limits of FunnelPlotR (``limits="chi2"``) -- an exact
  *confidence interval* around a count of E, too narrow at small E (a nominal 2.5% low side
  flags 5% of in-control units at E = 3 and 13.5% at E = 2) -- are kept for parity;
* FunnelPlotR v0.6.0's overdispersion (R/od_adjustment.R), :func:`overdispersion`, whose
  published numbers the tests reproduce. The exact re-implementations of PHEindicatormethods'
  funnels live in :mod:`qyb.reference.phe` (they exist only for the parity tests);
* :func:`dispersion_test`, the test that decides whether the limits are widened: FunnelPlotR's
  chi-square reference for n phi is invalid at small expected counts (under pure Poisson it
  rejects 56 % of the time for the sample's fires, mean E 0.8, and 24 % for work accidents, mean
  E 0.5), so qyb refers n phi to its exact conditional distribution given the total, by Monte
  Carlo (rejection rate 4-6 % for every indicator of the sample).

References: Spiegelhalter (2005) "Funnel plots for comparing institutional performance",
Stat Med 24:1185; Spiegelhalter (2005) "Handling over-dispersion of performance
indicators", Qual Saf Health Care 14:347.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from ._util import as_float_array, index_of, normalise_level, z_two_sided

__all__ = [
    "FUNNEL_LEVELS",
    "FUNNEL_FLAGS",
    "FUNNEL_LIMIT_METHODS",
    "funnel_limits",
    "poisson_funnel_quantile",
    "funnel_rates",
    "overdispersion",
    "OverdispersionResult",
    "dispersion_test",
    "DISPERSION_TESTS",
    "FUNNEL_SEED",
]

#: the two conventional funnel levels: 2 sigma (95%) and 3 sigma (99.8%)
FUNNEL_LEVELS = (0.95, 0.998)
#: per-unit flags (Chinese labels), from far below to far above the target
FUNNEL_FLAGS = ("显著偏低 (99.8%)", "偏低 (95%)", "正常范围", "偏高 (95%)", "显著偏高 (99.8%)")
POISSON_FUNNEL = "exact Poisson (chi-square)"
SPIEGELHALTER_FUNNEL = "Poisson(E) quantiles, interpolated (Spiegelhalter 2005); flags: exact Poisson test"
#: names of the unadjusted limit methods: qyb's default first
FUNNEL_LIMIT_METHODS = ("spiegelhalter", "chi2")
POISSON_FUNNEL_OD = "exact Poisson, overdispersion-adjusted (Spiegelhalter 2005, additive tau^2)"
#: how the dispersion test refers n phi: Monte Carlo given the total (qyb's default) or chi-square (FunnelPlotR)
DISPERSION_TESTS = {"conditional": "n phi against its exact conditional null given the total (Monte Carlo)",
                    "chi2": "n phi against chi-square(n - 1) (FunnelPlotR; invalid at small expected counts)"}
#: default seed of the dispersion test's draws (the same data always give the same p)
FUNNEL_SEED = 20050401


def _tag(level: float) -> str:
    """Column tag for a level: 0.95 -> '95', 0.998 -> '99_8'."""
    s = f"{normalise_level(level) * 100:.1f}".rstrip("0").rstrip(".")
    return s.replace(".", "_")


# ============================================================================ overdispersion

@dataclass
class OverdispersionResult:
    """Overdispersion of unit z-scores (Spiegelhalter 2005; FunnelPlotR od_adjustment.R).

    Attributes: ``phi`` (mean squared winsorised/truncated z), ``tau2`` (additive
    between-unit variance on the z-scale), ``n`` (units used), ``z`` (the raw z-scores),
    ``z_used`` (after winsorising; NaN where truncated), ``method`` ("CQC" or "SHMI"),
    ``trim`` (the trimming fraction), ``pvalue`` (P(chi2_{n-1} >= n phi), a test of
    dispersion), ``overdispersed`` (pvalue < 0.05).
    """

    phi: float
    tau2: float
    n: int
    z: np.ndarray
    z_used: np.ndarray
    method: str
    trim: float
    pvalue: float

    @property
    def overdispersed(self) -> bool:
        return bool(self.pvalue < 0.05)


def _sr_zscores(observed, expected, method):
    """z-scores and standard errors of a standardised ratio O/E (FunnelPlotR)."""
    O = observed
    E = expected
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "SHMI":
            s = 1.0 / np.sqrt(E)
            z = np.sqrt(E) * np.log(O / E)
        elif method == "CQC":
            s = 1.0 / (2.0 * np.sqrt(E))
            z = (np.sqrt(O / E) - 1.0) / s
        else:
            raise ValueError("method must be 'CQC' or 'SHMI'")
    return z, s


def _r_quantile7(x, q):
    """R's quantile(type = 7) (= numpy's default 'linear')."""
    return np.quantile(x, q, method="linear")


def overdispersion(observed, expected, method: str = "CQC", trim: float = 0.1, shmi_rounding: bool = False):
    """Estimate overdispersion of O/E across units (Spiegelhalter 2005, as FunnelPlotR does).

    z-scores: ``"CQC"`` (default) Y = sqrt(O/E), s = 1/(2 sqrt E), z = (Y - 1)/s
    (Spiegelhalter 2005, square-root transform; handles O = 0); ``"SHMI"`` z = sqrt(E) log(O/E),
    s = 1/sqrt(E).  Trimming: CQC winsorises z at the ``trim`` and 1 - ``trim`` quantiles
    (R type 7); SHMI truncates by rank (keep 0 < floor(rank k/(N+1)) < k - 1, k = 1/trim).
    phi = sum(z_kept^2)/n; tau2 = 0 if n phi < n - 1 else max(0, (n phi - (n - 1)) /
    (sum w - sum w^2 / sum w)), w = 1/s^2 (DerSimonian-Laird style).  Source: FunnelPlotR
    v0.6.0 R/od_adjustment.R; ``shmi_rounding`` rounds E to 2 decimals first, as FunnelPlotR's
    SHMI default does.  Returns an :class:`OverdispersionResult`.

    References
    ----------
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. *Qual Saf Health
        Care* 14:347-351.
    Rowley C. FunnelPlotR (R package) v0.6.0, R/od_adjustment.R.
    """
    O = as_float_array(observed).ravel()
    E = as_float_array(expected).ravel()
    if shmi_rounding:
        E = np.round(E, 2)
    z, s = _sr_zscores(O, E, method)
    ok = np.isfinite(z)
    zz = np.full(z.shape, np.nan)
    if method == "SHMI":
        k = 1.0 / trim
        N = ok.sum()
        ranks = np.full(z.shape, np.nan)
        ranks[ok] = _st.rankdata(z[ok], method="average")
        sp = np.floor(ranks * k / (N + 1))
        keep = ok & (sp > 0) & (sp < k - 1)
        zz[keep] = z[keep]
    else:
        lo, hi = _r_quantile7(z[ok], [trim, 1.0 - trim])
        zz[ok] = np.clip(z[ok], lo, hi)
        keep = ok
    n = int(keep.sum())
    phi = float(np.sum(zz[keep] ** 2) / n) if n else np.nan
    w = 1.0 / s[keep] ** 2
    if n == 0 or n * phi < n - 1:
        tau2 = 0.0
    else:
        tau2 = max(0.0, (n * phi - (n - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    pvalue = float(_st.chi2.sf(n * phi, n - 1)) if n > 1 else np.nan
    return OverdispersionResult(phi=phi, tau2=float(tau2), n=n, z=z, z_used=zz, method=method, trim=trim, pvalue=pvalue)


def _cqc_statistic(O, E, trim):
    """n phi of CQC z-scores 2 (sqrt O - sqrt E), winsorised at the ``trim`` quantiles (R type 7), along the last axis."""
    z = 2.0 * (np.sqrt(O) - np.sqrt(E))
    lo = np.quantile(z, trim, axis=-1, keepdims=True, method="linear")
    hi = np.quantile(z, 1.0 - trim, axis=-1, keepdims=True, method="linear")
    return (np.clip(z, lo, hi) ** 2).sum(axis=-1)


def dispersion_test(observed, expected, trim: float = 0.1, draws: int = 1999, seed=FUNNEL_SEED,
                    max_cells: int = 4_000_000) -> float:
    """P-value of "no overdispersion" for a funnel: n phi against its conditional null given the total.

    Statistic: T = n phi = sum of squared CQC z-scores z = 2 (sqrt O - sqrt E), winsorised at the
    ``trim`` and 1 - ``trim`` quantiles (:func:`overdispersion` with method "CQC"; the square-root
    scale handles O = 0). Null: the counts are Poisson with means proportional to E; given their
    total N they are multinomial(N, E / sum E), a distribution free of the unknown level. ``draws``
    multinomial tables (one array, draws x units) give p = (1 + #{T* >= T}) / (draws + 1), a
    valid p-value at any expected count (Besag & Clifford 1989) where FunnelPlotR's chi-square
    reference is not. ``seed`` fixes the draws (the same data give the same p); the draws are made
    in blocks of at most ``max_cells`` cells. A total of 0 gives p = 1. Units with a missing count
    or E are left out.

    References
    ----------
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. *Qual Saf Health
        Care* 14:347-351.
    Besag J, Clifford P (1989). Generalized Monte Carlo significance tests. *Biometrika* 76:633-642.
    """
    O = as_float_array(observed).ravel()
    E = as_float_array(expected).ravel()
    ok = ~(np.isnan(O) | np.isnan(E)) & (E > 0)
    O, E = O[ok], E[ok]
    N = int(round(O.sum()))
    if N == 0 or O.size < 2:
        return 1.0
    w = E / E.sum()
    t_obs = _cqc_statistic(O, E, trim)
    rng = np.random.default_rng(seed)
    chunk = max(1, max_cells // O.size)  # draws x units arrays of at most max_cells
    exceed, done = 0, 0
    while done < draws:
        k = min(chunk, int(draws) - done)
        sims = rng.multinomial(N, w, size=k).astype(float)
        exceed += int(np.sum(_cqc_statistic(sims, E[None, :], trim) >= t_obs * (1 - 1e-12)))
        done += k
    return float((1 + exceed) / (draws + 1))


# ============================================================================ project-facing

def poisson_funnel_quantile(p, expected):
    """Spiegelhalter's interpolated p-quantile of Poisson(E), as a count (element-wise).

    Spiegelhalter (2005) Stat Med 24:1185, appendix A.1.1: for a discrete Y with CDF F, let
    r_p = the smallest r with F(r) >= p (``scipy.stats.poisson.ppf(p, E)``) and
    alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)); the control limit is r_p - alpha (a linear
    interpolation of F between r_p - 1 and r_p, so the limit moves smoothly with E).  On the
    indicator scale divide by the exposure: for a rate with target theta and exposure rho
    (E = theta rho), y_p = (r_p - alpha) / rho = (r_p - alpha) / E * theta.  0 <= alpha < 1.
    E <= 0 or NaN gives NaN.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Stat Med*
        24:1185-1202.
    """
    E = as_float_array(expected)
    p = np.broadcast_to(np.asarray(p, dtype=float), E.shape)
    out = np.full(np.broadcast(E, p).shape, np.nan)
    ok = np.isfinite(E) & (E > 0)
    if ok.any():
        Eo, po = E[ok], p[ok]
        y = _st.poisson.ppf(po, Eo)
        Fy = _st.poisson.cdf(y, Eo)
        Fy1 = _st.poisson.cdf(y - 1.0, Eo)
        alpha = (Fy - po) / (Fy - Fy1)
        out[ok] = y - alpha
    return out


def funnel_limits(expected, target: float = 1.0, levels=FUNNEL_LEVELS, tau2: float = 0.0, method: str = "CQC",
                  limits: str = "spiegelhalter"):
    """Funnel limits for a ratio O/E (or a rate, with ``target`` = the town rate) at expected counts E.

    Unadjusted (tau2 = 0), ``limits``:

    * ``"spiegelhalter"`` (qyb's default): quantiles of the count's null distribution
      Poisson(E), interpolated (:func:`poisson_funnel_quantile`; Spiegelhalter 2005 Stat Med
      24:1185, appendix A.1.1): lower = target * (r_p - alpha) / E at p = a/2, upper the same
      at p = 1 - a/2; the lower limit is clipped at 0 (at small E no count can be low).
      A count x lies below the lower limit exactly when P(X <= x | E) < a/2 (the exact test
      :func:`funnel_rates` flags by).  On the upper side the interpolated limit lies in
      (r_p - 1, r_p], so a count of exactly r_p plots just above it although
      P(X >= r_p | E) >= a/2: the exact test, not the drawn line, decides the flag.
    * ``"chi2"`` (FunnelPlotR ``calculate_limits``, data_type "SR"; PHE with exact
      quantiles): lower = target * chi2.ppf(a/2, 2E) / (2E), upper = target *
      chi2.ppf(1 - a/2, 2E + 2) / (2E) -- the exact Poisson *confidence interval* around a
      count of E, not the quantiles of Poisson(E); at small E it flags in-control units far
      more often than nominal (low side at 2.5%: 5% at E = 3, 13.5% at E = 2).

    With tau2 > 0 (overdispersion, additive random effect; whatever ``limits``):
    CQC: target * (1 -/+ z sqrt(1/(4E) + tau2))^2 (lower clipped at 0);
    SHMI: target * exp(-/+ z sqrt(1/E + tau2)); z = Phi^-1(1 - a/2) (FunnelPlotR funnel_plot.R).
    For a rate per ``per`` at population P: E = target_rate * P / per.

    Returns a DataFrame with ``expected``, ``target`` and ``lower_<tag>``/``upper_<tag>`` per
    level (tag: 95, 99_8), and ``method``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Stat Med*
        24:1185-1202.
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. *Qual Saf Health
        Care* 14:347-351.
    """
    if limits not in FUNNEL_LIMIT_METHODS:
        raise ValueError(f"limits must be one of {FUNNEL_LIMIT_METHODS}, got {limits!r}")
    E = as_float_array(expected)
    out = {"expected": E, "target": float(target)}
    for lv in levels:
        lv = normalise_level(lv)
        a = 1.0 - lv
        tag = _tag(lv)
        if tau2 and tau2 > 0:
            z = z_two_sided(lv)
            with np.errstate(divide="ignore", invalid="ignore"):
                if method == "CQC":
                    half = z * np.sqrt(1.0 / (4.0 * E) + tau2)
                    lo = np.where(1.0 - half > 0, (1.0 - half) ** 2, 0.0)
                    hi = (1.0 + half) ** 2
                elif method == "SHMI":
                    half = z * np.sqrt(1.0 / E + tau2)
                    lo, hi = np.exp(-half), np.exp(half)
                else:
                    raise ValueError("method must be 'CQC' or 'SHMI'")
        elif limits == "spiegelhalter":
            with np.errstate(divide="ignore", invalid="ignore"):
                lo = np.maximum(poisson_funnel_quantile(a / 2.0, E), 0.0) / E
                hi = poisson_funnel_quantile(1.0 - a / 2.0, E) / E
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                lo = _st.chi2.ppf(a / 2.0, 2.0 * E) / (2.0 * E)
                hi = _st.chi2.ppf(1.0 - a / 2.0, 2.0 * E + 2.0) / (2.0 * E)
        out[f"lower_{tag}"] = target * lo
        out[f"upper_{tag}"] = target * hi
    if tau2 and tau2 > 0:
        out["method"] = POISSON_FUNNEL_OD
    else:
        out["method"] = SPIEGELHALTER_FUNNEL if limits == "spiegelhalter" else POISSON_FUNNEL
    return pd.DataFrame(out, index=index_of(expected))


@dataclass(frozen=True, repr=False)
class FunnelRates:
    """Result of :func:`funnel_rates`: per-unit ``table`` (count, population, rate, expected, ratio,
    target, z, limits, method, p_low, p_high, flag) and the funnel's summary: the overdispersion
    ``phi`` and ``tau2``, whether the limits were ``adjusted``, the ``target`` rate (per ``per``),
    the dispersion test's ``dispersion_pvalue`` and its method ``dispersion_test``, the ``limits`` family
    and the ``flag_rule``."""

    table: pd.DataFrame
    phi: float
    tau2: float
    adjusted: bool
    target: float
    dispersion_pvalue: float
    per: float
    limits: str
    flag_rule: str
    dispersion_test: str = DISPERSION_TESTS["conditional"]

    def __repr__(self) -> str:
        flagged = int((self.table["flag"] != "正常范围").sum())
        return (f"FunnelRates({len(self.table)} units, target {self.target:.4g} per {self.per:g}, "
                f"phi {self.phi:.3g}, {'adjusted' if self.adjusted else 'not adjusted'}, {flagged} flagged)")


def funnel_rates(
    count,
    population,
    per: float = 10000,
    target: float | None = None,
    levels=FUNNEL_LEVELS,
    adjust="auto",
    method: str = "CQC",
    trim: float = 0.1,
    limits: str = "spiegelhalter",
    test: str = "conditional",
    draws: int = 1999,
    seed=FUNNEL_SEED,
) -> FunnelRates:
    """One row per unit for a funnel plot of rates per ``per`` population.

    target rate = sum(count) / sum(population) * per unless given; expected E = target *
    population / per; ratio O/E; z (CQC: 2(sqrt O - sqrt E), Spiegelhalter 2005);
    limits from :func:`funnel_limits` at each unit's E (on the rate scale; ``limits``
    "spiegelhalter" (default) or "chi2", see there); overdispersion from
    :func:`overdispersion`.  ``adjust``: False (plain Poisson limits), True (always use the
    tau2-adjusted limits), "auto" (adjusted when the dispersion test gives p < 0.05). ``test``:
    "conditional" (default; :func:`dispersion_test` with ``draws`` and ``seed``, valid at any
    expected count; only run when ``adjust="auto"``, since otherwise it decides nothing:
    ``dispersion_pvalue`` is then NaN) or "chi2" (FunnelPlotR's P(chi2_{n-1} >= n phi), too often
    significant at small expected counts).

    ``p_low`` = P(X <= x | E) and ``p_high`` = P(X >= x | E), X ~ Poisson(E), the exact
    one-sided tail probabilities of the count.  ``flag`` (Chinese), for a level L
    (95%, 99.8%) and a = (1 - L)/2:

    * default (``limits="spiegelhalter"``, not adjusted): the exact test -- 偏低 / 显著偏低
      when p_low < a, 偏高 / 显著偏高 when p_high < a, else 正常范围.  Under the null no side
      flags more than a of in-control units at any E (the false-flag rate is at most
      nominal).  The low flag agrees with "rate below the lower limit"; a unit plotted just
      above the interpolated upper limit at a count of exactly r_p is not flagged (see
      :func:`funnel_limits`);
    * adjusted for overdispersion, or ``limits="chi2"`` (FunnelPlotR-style): the rate
      against the limits in use (strictly outside), as FunnelPlotR does.

    Returns a :class:`FunnelRates`: the per-unit ``table`` and the summary (``phi``, ``tau2``,
    ``adjusted``, ``target``, ``dispersion_pvalue``, ``dispersion_test``, ``flag_rule``).

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Stat Med*
        24:1185-1202.
    Spiegelhalter DJ (2005). Handling over-dispersion of performance indicators. *Qual Saf Health
        Care* 14:347-351.
    """
    x = as_float_array(count).ravel()
    P = as_float_array(population).ravel()
    if target is None:
        ok = ~(np.isnan(x) | np.isnan(P))
        target = float(x[ok].sum() / P[ok].sum() * per)
    E = target * P / per
    if test not in DISPERSION_TESTS:
        raise ValueError(f"test must be one of {tuple(DISPERSION_TESTS)}, got {test!r}")
    od = overdispersion(x, E, method=method, trim=trim)
    if test == "chi2":
        pvalue = od.pvalue
    elif adjust == "auto":
        pvalue = dispersion_test(x, E, trim=trim, draws=draws, seed=seed)
    else:  # the test decides nothing when the adjustment is given: not run
        pvalue = np.nan
    use_adj = bool(adjust is True or (adjust == "auto" and pvalue < 0.05))
    lim = funnel_limits(E, target=target, levels=levels, tau2=od.tau2 if use_adj else 0.0, method=method,
                        limits=limits)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = x / P * per
    out = pd.DataFrame(
        {
            "count": x,
            "population": P,
            "rate": rate,
            "expected": E,
            "ratio": x / E,
            "target": target,
            "z": od.z,
        },
        index=index_of(count, population),
    )
    levels_sorted = sorted(normalise_level(lv) for lv in levels)
    for c in lim.columns:
        if c.startswith(("lower_", "upper_")):
            out[c] = lim[c].to_numpy()
    out["method"] = lim["method"].to_numpy()
    with np.errstate(invalid="ignore"):
        p_low = np.where(E > 0, _st.poisson.cdf(x, E), np.nan)
        p_high = np.where(E > 0, _st.poisson.sf(x - 1.0, E), np.nan)
    out["p_low"] = p_low
    out["p_high"] = p_high
    exact = limits == "spiegelhalter" and not use_adj
    flag = np.full(x.shape, "正常范围", dtype=object)
    # widest level last so it overrides
    with np.errstate(invalid="ignore"):
        for lv in levels_sorted:
            tag = _tag(lv)
            wide = lv >= 0.998
            lo_lab = "显著偏低 (99.8%)" if wide else f"偏低 ({tag.replace('_', '.')}%)"
            hi_lab = "显著偏高 (99.8%)" if wide else f"偏高 ({tag.replace('_', '.')}%)"
            if exact:
                a = (1.0 - lv) / 2.0
                low, high = p_low < a, p_high < a
            else:
                low = rate < out[f"lower_{tag}"].to_numpy()
                high = rate > out[f"upper_{tag}"].to_numpy()
            flag = np.where(low, lo_lab, flag)
            flag = np.where(high, hi_lab, flag)
    flag = np.where(np.isnan(rate) | np.isnan(E), None, flag)
    out["flag"] = flag
    rule = ("exact Poisson test of the count against E (P(X <= x) or P(X >= x) < (1 - level)/2)" if exact
            else "rate strictly outside the limits in use")
    return FunnelRates(out, float(od.phi), float(od.tau2), use_adj, float(target), float(pvalue), per, limits,
                       rule, DISPERSION_TESTS[test])
