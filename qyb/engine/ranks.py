"""Ranks and stars: the last steps of scoring, on arrays whose last axis is units.

One rank function for the whole package (:func:`rank_asc`, and :func:`rank_desc` = 1 for the
best): ties share the best rank, NaN stays NaN. It sorts each row once (``O(U log U)`` time and
``O(U)`` memory per row), so it ranks draws x 600,000 units as readily as 29.
"""
from __future__ import annotations

import warnings

import numpy as np

__all__ = ["RANK_DECIMALS", "rank_asc", "rank_desc", "stars_by_threshold", "stars_by_share", "stars_by_band",
           "assign_stars"]

RANK_DECIMALS = 9  # indices equal to 9 decimals tie: float noise must not split a tie


# ---------------------------------------------------------------- stars and ranks
def rank_asc(x: np.ndarray, decimals: int | None = None) -> np.ndarray:
    """Ranks along the last axis, smallest = 1; ties share the lowest rank; NaN stays NaN.

    ``rank_i = 1 + #{j : x_j < x_i}`` over the non-missing values (R's ``rank(x, ties.method =
    "min", na.last = "keep")``), computed by one stable sort per row: in sorted order each value's
    rank is the position where its run of equal values starts. ``decimals``: round first, so
    values equal to that many decimals tie.

    References
    ----------
    R Core Team. ``rank(x, ties.method = "min")``, *R: A Language and Environment for Statistical
        Computing*.
    """
    x = np.asarray(x, dtype=float)
    if decimals is not None:
        x = np.round(x, decimals)
    shape = x.shape
    n = shape[-1] if shape else 1
    flat = x.reshape(-1, n)
    missing = np.isnan(flat)
    key = np.where(missing, np.inf, np.minimum(flat, np.finfo(float).max))  # a real +inf ranks before NaN
    order = np.argsort(key, axis=-1)  # ties need no stable order: tied values get one rank
    rows = np.arange(flat.shape[0])[:, None]
    ordered = key[rows, order]
    new_run = np.empty(flat.shape, dtype=bool)
    new_run[:, 0] = True
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=new_run[:, 1:])
    run_start = new_run * np.arange(1, n + 1, dtype=np.int32)  # position (1-based) where a run starts, else 0
    np.maximum.accumulate(run_start, axis=-1, out=run_start)  # integer accumulate: fast
    ranks = np.empty(flat.shape)
    ranks[rows, order] = run_start
    ranks[missing] = np.nan
    return ranks.reshape(shape)


def rank_desc(index: np.ndarray) -> np.ndarray:
    """Rank along the last axis, 1 = highest; ties share the best rank; NaN stays NaN.

    ``rank = 1 + #{units with a strictly higher index}`` (R: ``rank(-x, ties = "min")``), on the
    index rounded to :data:`RANK_DECIMALS` decimals so float noise cannot split a tie.

    References
    ----------
    R Core Team. ``rank(x, ties.method = "min")``, *R: A Language and Environment for Statistical
        Computing*.
    """
    return rank_asc(-np.asarray(index, dtype=float), RANK_DECIMALS)


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
    out = np.ones(r.shape)
    for k in range(cuts.shape[-1]):
        out += r <= cuts[..., k]
    return np.where(np.isnan(r), np.nan, out)


def stars_by_band(index: np.ndarray, bands: dict) -> np.ndarray:
    """Stars by the distance ``d = index - median`` from the town median (NaN-aware, along the last axis).

    ``5`` if ``d >= bands[5]``, ``4`` if ``d >= bands[4]``, ``1`` if ``d <= -bands[1]``, ``2`` if
    ``d <= -bands[2]``, else ``3``: units within the middle band -- which the month's noise cannot
    tell apart from the town's typical unit -- share three stars, and a unit needs a clear margin
    for more or fewer. Set the bands above the index's month-to-month noise (``qyb review``
    measures it).

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance. *Statistics in
        Medicine* 24:1185-1202 (units within the limits are not told apart from the average).
    """
    x = np.round(np.asarray(index, dtype=float), RANK_DECIMALS)
    if np.isnan(x).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            d = x - np.nanmedian(x, axis=-1, keepdims=True)
    else:  # nothing to leave out: the same median, without nanmedian's masked arrays
        d = x - np.median(x, axis=-1, keepdims=True)
    up = 3.0 + (d >= bands[4]) + (d >= bands[5])
    out = np.where(d <= -bands[2], 2.0, up)
    out = np.where(d <= -bands[1], 1.0, out)
    return np.where(np.isnan(x), np.nan, out)


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
    if rule["rule"] == "bands":
        return stars_by_band(index, rule["bands"])
    return stars_by_share(rank, rule["shares"])
