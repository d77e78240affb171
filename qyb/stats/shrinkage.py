"""Empirical-Bayes shrunken rates for small units (Poisson-gamma, method of moments).

A small unit's crude rate jumps about from month to month; the empirical-Bayes estimate
pulls it toward the town's pooled rate, the more so the smaller its population.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from ._util import as_float_array, index_of, normalise_level
from .intervals import EXACT_POISSON, exact_poisson_ci

__all__ = ["EB_METHOD", "eb_rates"]

EB_METHOD = "empirical Bayes Poisson-gamma (Marshall 1991 moments)"


@dataclass(frozen=True, repr=False)
class EBRates:
    """Result of :func:`eb_rates`: the per-unit ``table`` and the fitted gamma prior.

    ``prior_mean`` and ``prior_var`` are per ``per`` population; ``alpha`` and ``beta`` the
    gamma prior's shape and rate (rate per ``per``); ``method`` names the estimator.
    """

    table: pd.DataFrame
    prior_mean: float
    prior_var: float
    alpha: float
    beta: float
    method: str

    def __repr__(self) -> str:
        return (f"EBRates({len(self.table)} units, prior mean {self.prior_mean:.4g}, "
                f"prior variance {self.prior_var:.4g}; {self.method})")


def eb_rates(count, population, per: float = 10000, level: float = 0.95) -> EBRates:
    """Empirical-Bayes (Poisson-gamma) shrunken rates per ``per`` population.

    Model: x_i ~ Poisson(n_i theta_i), theta_i ~ Gamma(mean m, variance A)
    (Clayton & Kaldor 1987, Biometrics 43:671).  Moment estimates (Marshall 1991, Appl Stat
    40:283): m = sum x / sum n; s^2 = sum n_i (r_i - m)^2 / sum n_i with r_i = x_i/n_i;
    A = max(0, s^2 - m / nbar), nbar = sum n / k.
    Shrinkage weight w_i = A / (A + m/n_i); estimate = m + w_i (r_i - m)
    = (alpha + x_i) / (beta + n_i), the mean of the gamma posterior Gamma(alpha + x_i, beta + n_i),
    alpha = m^2 / A, beta = m / A; interval = that posterior's level quantiles.
    When A = 0 (no evidence of between-unit variation) every estimate is the pooled rate m,
    weight 0, and the interval is the exact Poisson interval of the pooled rate.

    Returns an :class:`EBRates`: ``table`` with columns count, population, rate (crude),
    estimate, weight, lower, upper, level, method; and the prior (prior_mean, prior_var per
    ``per``, alpha, beta).

    References
    ----------
    Clayton D, Kaldor J (1987). Empirical Bayes estimates of age-standardized relative risks
    for use in disease mapping. Biometrics 43:671-681.
    Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes estimators.
    Applied Statistics 40:283-294.
    """
    x = as_float_array(count).ravel()
    n = as_float_array(population).ravel()
    if np.any(n <= 0) or np.any(x < 0):
        raise ValueError("populations must be > 0 and counts >= 0")
    level = normalise_level(level)
    a = 1.0 - level
    ok = ~(np.isnan(x) | np.isnan(n))
    k = ok.sum()
    m = x[ok].sum() / n[ok].sum()
    r = x / n
    s2 = np.sum(n[ok] * (r[ok] - m) ** 2) / n[ok].sum()
    nbar = n[ok].sum() / k
    A = max(0.0, s2 - m / nbar)
    if A > 0 and m > 0:
        w = A / (A + m / n)
        alpha, beta = m**2 / A, m / A
        est = (alpha + x) / (beta + n)
        lower = _st.gamma.ppf(a / 2.0, alpha + x, scale=1.0 / (beta + n))
        upper = _st.gamma.ppf(1.0 - a / 2.0, alpha + x, scale=1.0 / (beta + n))
        method = EB_METHOD
    else:
        w = np.zeros_like(x)
        alpha = beta = np.inf
        est = np.full_like(x, m)
        lo, up = exact_poisson_ci(x[ok].sum(), level)
        lower = np.full_like(x, lo / n[ok].sum())
        upper = np.full_like(x, up / n[ok].sum())
        method = EB_METHOD + "; no between-unit variance: pooled rate, " + EXACT_POISSON
    nan = ~ok
    out = pd.DataFrame(
        {
            "count": x,
            "population": n,
            "rate": r * per,
            "estimate": np.where(nan, np.nan, est * per),
            "weight": np.where(nan, np.nan, w),
            "lower": np.where(nan, np.nan, lower * per),
            "upper": np.where(nan, np.nan, upper * per),
            "level": level,
            "method": method,
        },
        index=index_of(count, population),
    )
    return EBRates(out, float(m * per), float(A * per**2), float(alpha), float(beta / per), method)
