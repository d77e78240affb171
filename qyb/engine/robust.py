"""Noise-robust indicator values: pooled windows, empirical-Bayes shrinkage, bounded 压降率.

A unit of 6,000 residents has a fire or a work accident a few times a year; judged on one month
its rate is 0 or huge, and its rank follows chance. The method spec can ask for (README,
"Noise-robust options"):

* ``window: w`` -- the mean of the last ``w`` months (the month and ``w - 1`` before it) instead
  of the month alone (:func:`pooled_mean`);
* ``shrink: eb`` -- the empirical-Bayes rate (:func:`eb_shrink`): each unit's rate pulled toward
  the pooled rate of the units scored together, the more the less it has seen;
* ``bound: b`` on a 压降率 -- clipped to ``[-b, b]`` before normalisation (:func:`bounded`), so a
  1 -> 5 count (-400 %) cannot set the scale for every other unit.

Arrays have the units on the last axis and any leading axes (months, draws). On noise-free
figures (a truth; ``inputs.noise_free``) shrinkage is the identity: there is no chance to shrink.
"""
from __future__ import annotations

import numpy as np

__all__ = ["pooled_mean", "eb_shrink", "bounded"]


def pooled_mean(stack: np.ndarray) -> np.ndarray:
    """Mean over the window (axis 0) of ``stack`` (window, ..., units); NaN if any month is missing.

    References
    ----------
    qyb design notes (docs/design.md): pooled windows for rare events (issue 9).
    """
    return np.mean(np.asarray(stack, dtype=float), axis=0)


def eb_shrink(stack: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Empirical-Bayes (gamma-Poisson) rate per unit of exposure per month, from a window of counts.

    ``stack``: (W, ..., U) monthly counts of the window; ``exposure``: (U,) per month (population
    for a rate, 1 for a count). With ``S_u`` the window's count, ``E_u = W e_u``, ``R_u = S_u / E_u``
    and the pooled rate ``m = sum S / sum E`` (over the units present):

    * month noise (``W >= 2``): ``1/k = sum_ut ((x_ut - R_u e_u)^2 - R_u e_u) W/(W-1) / sum_ut (R_u e_u)^2``,
      floored at 0 (NB2 moments; Poisson when ``W = 1``); the window's overdispersion
      ``phi_u = 1 + m e_u / k``;
    * between-unit variance (Marshall 1991, with the overdispersion):
      ``A = sum E_u (R_u - m)^2 / sum E_u - m sum phi_u / sum E_u``;
    * estimate ``(alpha + S_u/phi_u) / (beta + E_u/phi_u)`` with ``alpha = m^2/A``, ``beta = m/A``: the
      gamma posterior mean (Clayton & Kaldor 1987), ``m`` for every unit when ``A <= 0``.

    References
    ----------
    Clayton D, Kaldor J (1987). Empirical Bayes estimates of age-standardized relative risks for use
        in disease mapping. *Biometrics* 43:671-681.
    Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes estimators.
        *Applied Statistics* 40:283-294.
    Anscombe FJ (1949). The statistical analysis of insect counts based on the negative binomial
        distribution. *Biometrics* 5:165-173.
    """
    x = np.asarray(stack, dtype=float)
    W = x.shape[0]
    e = np.broadcast_to(np.asarray(exposure, dtype=float), x.shape[1:])
    ok = ~np.isnan(x).any(axis=0) & (e > 0)
    xs = np.where(ok, x, 0.0)
    E = np.where(ok, W * e, 0.0)
    S = xs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.where(E > 0, S / np.where(E > 0, E, 1.0), 0.0)
        m = S.sum(axis=-1, keepdims=True) / E.sum(axis=-1, keepdims=True)
        if W >= 2:
            mu = R * e
            dev = xs  # ((x - mu)^2 - mu where ok, else 0), in xs's place (not needed after S)
            dev -= mu
            np.square(dev, out=dev)
            dev -= mu
            np.copyto(dev, 0.0, where=~ok)
            resid = dev.sum(axis=0) * W / (W - 1)
            inv_k = resid.sum(axis=-1, keepdims=True) / (W * np.where(ok, mu, 0.0) ** 2).sum(axis=-1, keepdims=True)
            inv_k = np.where(np.isfinite(inv_k) & (inv_k > 0), inv_k, 0.0)
        else:
            inv_k = np.zeros_like(m)
        phi = 1.0 + m * e * inv_k
        s2 = (E * (R - m) ** 2).sum(axis=-1, keepdims=True) / E.sum(axis=-1, keepdims=True)
        A = s2 - m * np.where(ok, phi, 0.0).sum(axis=-1, keepdims=True) / E.sum(axis=-1, keepdims=True)
        shrunk = (m ** 2 / A + S / phi) / (m / A + E / phi)
    out = np.where(np.isfinite(A) & (A > 0) & (m > 0), shrunk, np.broadcast_to(m, R.shape))
    return np.where(ok, out, np.nan)


def bounded(x: np.ndarray, bound: float | None) -> np.ndarray:
    """``clip(x, -bound, bound)``; unchanged when ``bound`` is None.

    References
    ----------
    qyb design notes (docs/design.md): bounded 压降率 before normalisation (issue 9).
    """
    if bound is None:
        return np.asarray(x, dtype=float)
    return np.clip(np.asarray(x, dtype=float), -float(bound), float(bound))
