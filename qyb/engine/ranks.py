"""Ranks, stars and the index scale: the last steps of scoring, on arrays whose last axis is units.

One rank function for the whole package (:func:`rank_desc`): 1 = best, ties
share the best rank, NaN stays NaN.
"""
from __future__ import annotations

import numpy as np

from qyb.engine.normalise import normalise

__all__ = ["RANK_DECIMALS", "rank_desc", "stars_by_threshold", "stars_by_share", "assign_stars",
           "scale_index"]

RANK_DECIMALS = 9  # indices equal to 9 decimals tie: float noise must not split a tie


# ---------------------------------------------------------------- stars and ranks
def rank_desc(index: np.ndarray) -> np.ndarray:
    """Rank along the last axis, 1 = highest; ties share the best rank; NaN stays NaN.

    ``rank = 1 + #{units with a strictly higher index}`` (R: ``rank(-x, ties = "min")``).

    References
    ----------
    R Core Team. ``rank(x, ties.method = "min")``, *R: A Language and Environment for Statistical
        Computing*.
    """
    x = np.round(np.asarray(index, dtype=float), RANK_DECIMALS)
    above = (x[..., None, :] > x[..., :, None]).sum(axis=-1)
    return np.where(np.isnan(x), np.nan, above + 1.0)


def stars_by_threshold(index: np.ndarray, thresholds: dict) -> np.ndarray:
    """``1 + #{k in 5,4,3,2 : index >= thresholds[k]}``: 5 stars at or above the 5-star minimum.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    x = np.round(np.asarray(index, dtype=float), RANK_DECIMALS)
    out = 1.0 + sum((x >= thresholds[k]).astype(float) for k in (5, 4, 3, 2))
    return np.where(np.isnan(x), np.nan, out)


def stars_by_share(rank: np.ndarray, shares: dict) -> np.ndarray:
    """Stars by rank position: the top ``shares[5]`` of units get 5 stars, the next ``shares[4]`` 4, ...

    Cut-offs are ``c_k = floor(n * cumulative_share_k + 0.5)`` ranks (n = ranked units);
    ``stars = 1 + #{k in 5,4,3,2 : rank <= c_k}``. Tied units share a rank, hence a star.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    r = np.asarray(rank, dtype=float)
    n = np.sum(~np.isnan(r), axis=-1, keepdims=True)
    cumulative = np.cumsum([shares[k] for k in (5, 4, 3, 2)])
    cuts = np.floor(n[..., None] * cumulative + 0.5)  # (..., 1, 4)
    out = 1.0 + (r[..., None] <= cuts).sum(axis=-1)
    return np.where(np.isnan(r), np.nan, out)


def assign_stars(index: np.ndarray, rank: np.ndarray, rule: dict) -> np.ndarray:
    """Stars 1-5 under the method's star rule: ``thresholds`` (:func:`stars_by_threshold`), ``shares``
    (:func:`stars_by_share`) or ``none`` (NaN: a reference index without stars).

    References
    ----------
    qyb design notes (docs/design.md): 星级 from 平安形势指数, high to low.
    """
    if rule["rule"] == "none":
        return np.full(np.shape(index), np.nan)
    if rule["rule"] == "thresholds":
        return stars_by_threshold(index, rule["thresholds"])
    return stars_by_share(rank, rule["shares"])


def scale_index(total: np.ndarray, scale: dict) -> np.ndarray:
    """Convert the aggregated total (0-100) into the 平安形势指数 on 0-100.

    identity: unchanged; affine: ``low + (high - low) * total / 100`` (a 折算 such as
    60 + 0.4 x total); minmax: rescaled across units so the best is ``high`` and the
    worst ``low``.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    if scale["method"] == "identity":
        return total
    if scale["method"] == "affine":
        return scale["low"] + (scale["high"] - scale["low"]) * total / 100.0
    spec = {"method": "minmax", "low": scale["low"], "high": scale["high"], "constant": scale["high"]}
    return normalise(total, spec)
