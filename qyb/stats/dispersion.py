"""Extra-Poisson variation of a panel of counts: the Poisson-gamma (negative binomial) dispersion.

Monthly counts of the same indicator in many units vary more than Poisson: a month can be
bad for reasons no model of the unit knows. The model, for unit u and month t::

    y_ut | G_ut ~ Poisson(mu_ut G_ut),   G_ut ~ Gamma(shape 1/alpha, mean 1),   mu_ut = e_ut a_u b_t

(e: exposure, a: unit effect, b: month effect common to every unit), so that
Var(y_ut) = mu_ut + alpha mu_ut^2 (the NB2 variance). ``alpha`` is the squared coefficient of
variation of the month noise (the shipped sample uses alpha = 1/25, CV 0.2). It is what a
two-period comparison must allow for beyond Poisson (:func:`qyb.stats.compare_counts`).

Estimation (:func:`nb_dispersion`): the two-way Poisson model is fitted by iterative proportional
fitting (its maximum-likelihood estimate; blank cells are skipped), then alpha by the moment
equation of Breslow (1984) -- the Pearson statistic with NB2 variance equals its degrees of
freedom, sum (y - mu)^2 / (mu (1 + alpha mu)) = n - p, with p = units + months - 1 fitted
effects -- and alpha = 0 when the Pearson statistic does not exceed n - p. The quasi-Poisson
scale phi = X^2 / (n - p) is reported beside it. Vectorised over leading (replicate) axes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._util import as_float_array

__all__ = ["NB_DISPERSION", "DispersionFit", "nb_dispersion"]

NB_DISPERSION = "Poisson-gamma (NB2) moment estimate, unit and month effects (Breslow 1984)"


@dataclass(frozen=True)
class DispersionFit:
    """Result of :func:`nb_dispersion` (arrays when the input had leading replicate axes).

    ``alpha``: NB2 dispersion (variance mu + alpha mu^2; 0 = Poisson); ``phi``: quasi-Poisson
    scale X^2 / df; ``df``: n - p; ``n``: cells used (non-blank, fitted mean > 0); ``method``.
    """

    alpha: float | np.ndarray
    phi: float | np.ndarray
    df: float | np.ndarray
    n: float | np.ndarray
    method: str = NB_DISPERSION

    @property
    def shape(self) -> float | np.ndarray:
        """Gamma shape of one unit-month's noise, 1/alpha (inf for Poisson)."""
        with np.errstate(divide="ignore"):
            out = 1.0 / np.asarray(self.alpha, dtype=float)
        return float(out) if out.ndim == 0 else out


def _twoway_poisson(y: np.ndarray, e: np.ndarray, ok: np.ndarray, iterations: int = 500,
                    tol: float = 1e-12) -> np.ndarray:
    """Fitted means e a_u b_t of the two-way Poisson model (IPF), arrays (..., T, U); NaN off ``ok``."""
    yz = np.where(ok, y, 0.0)
    ez = np.where(ok, e, 0.0)
    b = np.ones(y.shape[:-1] + (1,))
    a = np.ones(y.shape[:-2] + (1, y.shape[-1]))
    row_tot = yz.sum(axis=-2, keepdims=True)  # per unit
    col_tot = yz.sum(axis=-1, keepdims=True)  # per month
    for _ in range(iterations):
        with np.errstate(divide="ignore", invalid="ignore"):
            a_new = np.where(row_tot > 0, row_tot / (ez * b).sum(axis=-2, keepdims=True), 0.0)
            b_new = np.where(col_tot > 0, col_tot / (ez * a_new).sum(axis=-1, keepdims=True), 0.0)
        change = np.nanmax(np.abs(b_new - b) / np.maximum(b_new, 1e-300)) if b.size else 0.0
        a, b = a_new, b_new
        if change < tol:
            break
    return np.where(ok, e * a * b, np.nan)


def nb_dispersion(counts, exposures=1.0, iterations: int = 60) -> DispersionFit:
    """Estimate the Poisson-gamma dispersion alpha of a months x units panel of counts.

    ``counts``: array (..., months, units) (a DataFrame months x units works); NaN = blank.
    ``exposures``: broadcastable to ``counts`` (e.g. the population by unit). Fitted means by the
    two-way Poisson model mu_ut = e_ut a_u b_t (iterative proportional fitting); then
    alpha solves sum (y - mu)^2 / (mu (1 + alpha mu)) = n - p (Breslow 1984), p = the unit and
    month effects with a positive total minus one, n = cells with mu > 0; alpha = 0 when the
    Pearson X^2 <= n - p. Solved by bisection on log alpha (``iterations`` halvings of
    [1e-8, 1e4]; the left side decreases in alpha). phi = X^2 / (n - p) (quasi-Poisson scale).
    Returns a :class:`DispersionFit` (scalars for one panel, arrays over leading axes).

    References
    ----------
    Breslow NE (1984). Extra-Poisson variation in log-linear models. *Applied Statistics*
        33:38-44.
    Lawless JF (1987). Negative binomial and mixed Poisson regression. *Canadian Journal of
        Statistics* 15:209-225.
    """
    y = as_float_array(counts)
    if y.ndim < 2:
        raise ValueError("counts must be a months x units panel (at least 2 dimensions)")
    e = np.broadcast_to(as_float_array(exposures), y.shape).astype(float)
    ok = ~(np.isnan(y) | np.isnan(e))
    if np.any(y[ok] < 0) or np.any(e[ok] <= 0):
        raise ValueError("counts must be >= 0 and exposures > 0")
    mu = _twoway_poisson(y, e, ok)
    used = ok & (mu > 0)
    n = used.sum(axis=(-2, -1)).astype(float)
    units = (np.where(used, 1, 0).sum(axis=-2) > 0).sum(axis=-1)
    months = (np.where(used, 1, 0).sum(axis=-1) > 0).sum(axis=-1)
    df = n - (units + months - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(used, (y - mu) ** 2 / mu, 0.0)
        mu0 = np.where(used, mu, 0.0)
        x2 = r2.sum(axis=(-2, -1))
        phi = np.where(df > 0, x2 / df, np.nan)
    lo = np.full(np.shape(x2), np.log(1e-8))
    hi = np.full(np.shape(x2), np.log(1e4))
    for _ in range(iterations):
        mid = (lo + hi) / 2
        f = (r2 / (1 + np.exp(mid)[..., None, None] * mu0)).sum(axis=(-2, -1)) - df
        lo = np.where(f > 0, mid, lo)
        hi = np.where(f > 0, hi, mid)
    alpha = np.where((df > 0) & (x2 > df), np.exp((lo + hi) / 2), 0.0)
    alpha = np.where(df > 0, alpha, np.nan)
    if np.ndim(alpha) == 0:
        return DispersionFit(float(alpha), float(phi), float(df), float(n))
    return DispersionFit(alpha, phi, df, n)
