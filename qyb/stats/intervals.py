"""Confidence intervals for counts, rates and proportions.

All functions are vectorised over units (numpy arrays or pandas Series) and
name the method beside every interval, in the manner of PHEindicatormethods.

Method labels (the ``method`` column / attribute):

* ``"exact Poisson (Garwood)"`` -- chi-square quantiles (Garwood 1936);
* ``"Byar"`` -- Byar's approximation (Breslow & Day 1987, vol. II, p. 69);
* ``"Wilson"`` -- Wilson score interval (Wilson 1927; Newcombe 1998, method 3);
* ``"Clopper-Pearson"`` -- exact binomial interval (Clopper & Pearson 1934).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st

from ._util import as_float_array, index_of, normalise_level, wrap_like, z_two_sided

__all__ = [
    "EXACT_POISSON",
    "BYAR",
    "WILSON",
    "CLOPPER_PEARSON",
    "PHE_EXACT_BELOW",
    "poisson_ci",
    "byar_ci",
    "exact_poisson_ci",
    "wilson_ci",
    "clopper_pearson_ci",
    "rate_ci",
    "proportion_ci",
]

EXACT_POISSON = "exact Poisson (Garwood)"
BYAR = "Byar"
WILSON = "Wilson"
CLOPPER_PEARSON = "Clopper-Pearson"
#: PHEindicatormethods' ``phe_rate`` uses exact limits below this many events and Byar's from it on.
PHE_EXACT_BELOW = 10

_POISSON_METHODS = ("exact", "byar", "phe")


def _check_counts(x: np.ndarray, what: str = "count") -> None:
    if np.any(x[~np.isnan(x)] < 0):
        raise ValueError(f"{what} must be >= 0")


def exact_poisson_ci(count, level: float = 0.95):
    """Exact (Garwood) limits for a Poisson count x.

    lower = chi2.ppf(a/2, 2x) / 2 (0 when x = 0); upper = chi2.ppf(1 - a/2, 2x + 2) / 2,
    a = 1 - level.  Source: Garwood (1936) Biometrika 28:437; PHEindicatormethods
    ``phe_rate`` (R/Rates.R), reproduced to 1.5e-8 by the tests.  Returns (lower, upper).

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28:437-442.
    """
    x = as_float_array(count)
    _check_counts(x)
    level = normalise_level(level)
    a = 1.0 - level
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, _st.chi2.ppf(a / 2.0, 2.0 * np.where(x > 0, x, 1.0)) / 2.0, 0.0)
        upper = _st.chi2.ppf(1.0 - a / 2.0, 2.0 * x + 2.0) / 2.0
    lower = np.where(np.isnan(x), np.nan, lower)
    return wrap_like(count, lower), wrap_like(count, upper)


def byar_ci(count, level: float = 0.95):
    """Byar's approximation to the exact Poisson limits for a count x.

    lower = x (1 - 1/(9x) - z/(3 sqrt x))^3 ; upper = (x+1) (1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3,
    z = Phi^-1(1 - a/2).  Source: Breslow & Day (1987) Statistical Methods in Cancer
    Research II, p. 69; PHEindicatormethods ``byars_lower``/``byars_upper`` (R/utils.R).
    As in PHE a negative lower limit (tiny x at high confidence) is NaN; x = 0 gives lower 0.
    Returns (lower, upper).

    References
    ----------
    Breslow NE, Day NE (1987). *Statistical Methods in Cancer Research, Vol. II*. Lyon: IARC (Byar's
        approximation, p. 69).
    Public Health England / OHID. PHEindicatormethods (R package) v2.1.0: ``phe_rate``,
        ``phe_proportion``.
    """
    x = as_float_array(count)
    _check_counts(x)
    z = z_two_sided(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = x * (1.0 - 1.0 / (9.0 * x) - z / (3.0 * np.sqrt(x))) ** 3
        upper = (x + 1.0) * (1.0 - 1.0 / (9.0 * (x + 1.0)) + z / (3.0 * np.sqrt(x + 1.0))) ** 3
    lower = np.where(x == 0, 0.0, lower)
    lower = np.where(lower < 0, np.nan, lower)
    return wrap_like(count, lower), wrap_like(count, upper)


def _poisson_limits(x: np.ndarray, level: float, method: str):
    """(lower, upper, method label per element) for counts x (arrays)."""
    method = method.lower()
    if method not in _POISSON_METHODS:
        raise ValueError(f"method must be one of {_POISSON_METHODS}, got {method!r}")
    el, eu = exact_poisson_ci(x, level)
    if method == "exact":
        labels = np.full(x.shape, EXACT_POISSON, dtype=object)
        return el, eu, labels
    bl, bu = byar_ci(x, level)
    if method == "byar":
        labels = np.full(x.shape, BYAR, dtype=object)
        return bl, bu, labels
    # "phe": PHEindicatormethods phe_rate: exact below 10 events, Byar from 10 on.
    use_exact = x < PHE_EXACT_BELOW
    labels = np.where(use_exact, EXACT_POISSON, BYAR).astype(object)
    return np.where(use_exact, el, bl), np.where(use_exact, eu, bu), labels


def poisson_ci(count, level: float = 0.95, method: str = "exact"):
    """Confidence limits for a Poisson count: returns (lower, upper).

    ``method``:
      * ``"exact"`` (default) -- Garwood: lower = chi2.ppf(a/2, 2x)/2, upper = chi2.ppf(1-a/2, 2x+2)/2
        (Garwood 1936).  For x = 14 at 95%: 7.65 -- 23.49.
      * ``"byar"`` -- Byar's approximation (Breslow & Day 1987), see :func:`byar_ci`.
      * ``"phe"`` -- PHEindicatormethods ``phe_rate`` rule: exact for x < 10, Byar for x >= 10.

    ``count`` may be a scalar, array or Series (the result has the same shape / index).
    ``level`` accepts 0.95 or 95.

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28:437-442.
    Breslow NE, Day NE (1987). *Statistical Methods in Cancer Research, Vol. II*. Lyon: IARC (Byar's
        approximation, p. 69).
    Public Health England / OHID. PHEindicatormethods (R package) v2.1.0: ``phe_rate``,
        ``phe_proportion``.
    """
    x = as_float_array(count)
    lower, upper, _ = _poisson_limits(x, level, method)
    return wrap_like(count, np.asarray(lower, dtype=float)), wrap_like(count, np.asarray(upper, dtype=float))


def wilson_ci(successes, total, level: float = 0.95):
    """Wilson score interval for a proportion x/n: returns (lower, upper).

    lower, upper = (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)),
    z = Phi^-1(1 - a/2).  Source: Wilson (1927) JASA 22:209; Newcombe (1998) Stat Med
    17:857, method 3 (81/263 -> 0.2553 -- 0.3662); PHEindicatormethods ``wilson_lower`` /
    ``wilson_upper`` (R/utils.R).  level = 1 gives (0, 1); n = 0 gives NaN.
    x need not be an integer (PHE's tests use 0.445/1).

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. *JASA*
        22:209-212.
    Public Health England / OHID. PHEindicatormethods (R package) v2.1.0: ``phe_rate``,
        ``phe_proportion``.
    """
    x = as_float_array(successes)
    n = as_float_array(total)
    x, n = np.broadcast_arrays(x, n)
    if np.any((x < 0) | (x > n)):
        raise ValueError("successes must satisfy 0 <= successes <= total")
    level = normalise_level(level)
    template = successes if np.ndim(successes) else total
    if level == 1.0:
        nan = np.isnan(x) | np.isnan(n) | (n == 0)
        return wrap_like(template, np.where(nan, np.nan, 0.0)), wrap_like(template, np.where(nan, np.nan, 1.0))
    z = z_two_sided(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = z * np.sqrt(z**2 + 4.0 * x * (1.0 - x / n))
        denom = 2.0 * (n + z**2)
        lower = (2.0 * x + z**2 - root) / denom
        upper = (2.0 * x + z**2 + root) / denom
    bad = n == 0
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    return wrap_like(template, lower), wrap_like(template, upper)


def clopper_pearson_ci(successes, total, level: float = 0.95):
    """Exact (Clopper-Pearson) binomial interval for x/n: returns (lower, upper).

    lower = Beta.ppf(a/2; x, n - x + 1) (0 when x = 0); upper = Beta.ppf(1 - a/2; x + 1, n - x)
    (1 when x = n).  Source: Clopper & Pearson (1934) Biometrika 26:404; equals
    ``scipy.stats.binomtest(x, n).proportion_ci(method="exact")``.  n = 0 gives NaN.

    References
    ----------
    Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the case
        of the binomial. *Biometrika* 26:404-413.
    """
    x = as_float_array(successes)
    n = as_float_array(total)
    x, n = np.broadcast_arrays(x, n)
    level = normalise_level(level)
    a = 1.0 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(x > 0, _st.beta.ppf(a / 2.0, np.where(x > 0, x, 1.0), n - x + 1.0), 0.0)
        upper = np.where(x < n, _st.beta.ppf(1.0 - a / 2.0, x + 1.0, np.where(x < n, n - x, 1.0)), 1.0)
    bad = np.isnan(x) | np.isnan(n) | (n <= 0)
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    template = successes if np.ndim(successes) else total
    return wrap_like(template, lower), wrap_like(template, upper)


def rate_ci(count, population, per: float = 10000, level: float = 0.95, method: str = "exact") -> pd.DataFrame:
    """Crude rates per ``per`` population with Poisson limits, as a tidy DataFrame.

    rate = count / population * per; lower/upper = poisson_ci(count, level, method) / population * per.
    ``method`` as in :func:`poisson_ci`; ``"phe"`` reproduces PHEindicatormethods ``phe_rate``
    (exact below 10 events, Byar from 10 on; per-row ``method`` column says which).
    Columns: count, population, rate, lower, upper, level, method, per.
    A missing count gives NaN everywhere and method None (as PHE's NA); a missing or zero
    population gives NaN rate and limits.

    References
    ----------
    Garwood F (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28:437-442.
    Breslow NE, Day NE (1987). *Statistical Methods in Cancer Research, Vol. II*. Lyon: IARC (Byar's
        approximation, p. 69).
    Public Health England / OHID. PHEindicatormethods (R package) v2.1.0: ``phe_rate``,
        ``phe_proportion``.
    """
    x = as_float_array(count)
    n = as_float_array(population)
    x, n = np.broadcast_arrays(x, n)
    level_ = normalise_level(level)
    lo, up, labels = _poisson_limits(np.asarray(x, dtype=float), level_, method)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_ok = np.where(n > 0, n, np.nan)
        rate = x / n_ok * per
        lower = lo / n_ok * per
        upper = up / n_ok * per
    labels = np.where(np.isnan(x), None, labels)
    idx = index_of(count, population)
    return pd.DataFrame(
        {
            "count": x,
            "population": n,
            "rate": rate,
            "lower": lower,
            "upper": upper,
            "level": level_,
            "method": labels,
            "per": float(per),
        },
        index=idx,
    )


def proportion_ci(successes, total, per: float = 1, level: float = 0.95) -> pd.DataFrame:
    """Proportions (e.g. 化解率, 处置率) with Wilson limits, as a tidy DataFrame.

    proportion = x / n * per; lower/upper = wilson_ci(x, n, level) * per (Wilson 1927;
    PHEindicatormethods ``phe_proportion``).  ``per=100`` gives percentages.
    Columns: successes, total, proportion, lower, upper, level, method, per.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference. *JASA*
        22:209-212.
    Public Health England / OHID. PHEindicatormethods (R package) v2.1.0: ``phe_rate``,
        ``phe_proportion``.
    """
    x = as_float_array(successes)
    n = as_float_array(total)
    x, n = np.broadcast_arrays(x, n)
    level_ = normalise_level(level)
    lo, up = wilson_ci(x, n, level_)
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = np.where(n > 0, x / np.where(n > 0, n, 1.0), np.nan) * per
    idx = index_of(successes, total)
    return pd.DataFrame(
        {
            "successes": x,
            "total": n,
            "proportion": prop,
            "lower": np.asarray(lo) * per,
            "upper": np.asarray(up) * per,
            "level": level_,
            "method": WILSON,
            "per": float(per),
        },
        index=idx,
    )
