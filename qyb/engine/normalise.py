"""Normalisation of indicator values across units, NaN-aware, along the last axis.

Every function takes an array whose last axis is units (any leading axes:
months, towns, Monte Carlo draws) and returns scores of the same shape. NaN
marks a missing value (or a padded slot) and stays NaN. ``direction`` is +1
when higher values are better and -1 when lower values are better; it is
applied first, as COINr's ``Normalise`` does (x <- x * direction).
"""
from __future__ import annotations

import warnings

import numpy as np

from qyb.engine.ranks import rank_asc


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def _nan_extremes(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``nanmin`` and ``nanmax`` along the last axis (keepdims), NaN for an all-NaN row, without the
    warning: what ``np.nanmin`` / ``np.nanmax`` compute for a float array (``np.fmin.reduce``)."""
    return np.fmin.reduce(d, axis=-1, keepdims=True), np.fmax.reduce(d, axis=-1, keepdims=True)


def _near_zero(x: np.ndarray) -> np.ndarray:
    """``np.isclose(x, 0.0)`` (default tolerances): ``|x| <= 1e-8``, False for NaN and infinities."""
    return np.abs(x) <= 1e-8


def _flat_rows(out: np.ndarray, spread: np.ndarray, d: np.ndarray, constant: float | None) -> np.ndarray:
    """``out``, with ``constant`` (NaN if None) for the non-missing values of rows whose ``spread`` is
    zero (``np.isclose(spread, 0)``: all units equal); ``out`` itself when no row is flat."""
    flat = _near_zero(spread)
    if not flat.any():
        return out
    return np.where(flat & ~np.isnan(d), np.nan if constant is None else constant, out)


def minmax(x: np.ndarray, direction: int = 1, low: float = 0.0, high: float = 100.0,
           constant: float | None = None) -> np.ndarray:
    """Min-max: ``(d*x - min) / (max - min) * (high - low) + low``, with d the direction.

    Source: OECD/JRC Handbook on Constructing Composite Indicators (2008), sec. 5;
    COINr ``n_minmax``. Where all units are equal (max == min) the result is
    ``constant`` (NaN by default, as COINr; the barometer's specs use 100: no unit
    did worse than another).

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    d = direction * np.asarray(x, dtype=float)
    lo, hi = _nan_extremes(d)
    span = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (d - lo) / span * (high - low) + low
    return _flat_rows(out, span, d, constant)


def goalposts(x: np.ndarray, worst: float, best: float, scale: float = 100.0, direction: int = 1) -> np.ndarray:
    """Distance between fixed goalposts: ``clip((x - worst) / (best - worst), 0, 1) * scale``.

    The order of ``worst`` and ``best`` carries the direction (``direction`` is
    ignored, the goalposts already say which way is better). Source: OECD/JRC
    Handbook (2008), "distance to a reference"; COINr ``n_goalposts``.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.subtract(x, worst, out=np.empty_like(x))  # one working array for the four steps
        out /= best - worst
        np.clip(out, 0.0, 1.0, out=out)
        out *= scale
        return out


def rank_min(x: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, smallest = 1, ties share the lowest rank, NaN stays NaN: the engine's
    one rank function :func:`qyb.engine.ranks.rank_asc` (R's ``rank(x, ties.method = "min")``).

    References
    ----------
    R Core Team. ``rank(x, ties.method = "min")``, *R: A Language and Environment for Statistical
        Computing*.
    """
    return rank_asc(x)


def percentile(x: np.ndarray, direction: int = 1, constant: float | None = None) -> np.ndarray:
    """Percentile rank on 0-100: ``(rank_min(d*x) - 1) / (n - 1) * 100``, n = non-missing units.

    Source: COINr ``n_prank`` (scaled by 100 so all normalisations share 0-100).

    References
    ----------
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    d = direction * np.asarray(x, dtype=float)
    n = np.sum(~np.isnan(d), axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (rank_min(d) - 1.0) / (n - 1.0) * 100.0
    if constant is not None:
        lo, hi = _nan_extremes(d)
        flat = hi == lo
        out = np.where(flat & ~np.isnan(d), constant, out)
    return out


def zscore(x: np.ndarray, direction: int = 1, mean: float = 0.0, sd: float = 1.0,
           constant: float | None = None) -> np.ndarray:
    """Standardisation: ``(d*x - mean(d*x)) / sd(d*x) * sd + mean`` (sample sd, ddof = 1).

    Source: OECD/JRC Handbook (2008), sec. 5; COINr ``n_zscore`` (``m_sd``).

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    d = direction * np.asarray(x, dtype=float)
    mu = _quiet(np.nanmean, d, axis=-1, keepdims=True)
    s = _quiet(np.nanstd, d, axis=-1, ddof=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (d - mu) / s * sd + mean
    return _flat_rows(out, s, d, constant)


def normalise(x: np.ndarray, spec: dict, direction: int = 1) -> np.ndarray:
    """Dispatch on ``spec['method']`` with the spec's parameters.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    params = {k: v for k, v in spec.items() if k != "method"}
    method = spec["method"]
    if method == "minmax":
        return minmax(x, direction, **params)
    if method == "goalposts":
        return goalposts(x, **params)
    if method == "percentile":
        return percentile(x, direction, **params)
    if method == "zscore":
        return zscore(x, direction, **params)
    if method == "none":
        return np.asarray(x, dtype=float) * 1.0
    raise ValueError(f"unknown normalisation {method!r}")


def scale_index(total: np.ndarray, scale: dict) -> np.ndarray:
    """Convert the aggregated total (0-100) into the 平安形势指数 on 0-100.

    identity: unchanged; affine: ``low + (high - low) * total / 100`` (a 折算 such as
    60 + 0.4 x total); minmax: rescaled across units so the best is ``high`` and the
    worst ``low``.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    if scale["method"] == "identity":
        return total
    if scale["method"] == "affine":
        return scale["low"] + (scale["high"] - scale["low"]) * total / 100.0
    spec = {"method": "minmax", "low": scale["low"], "high": scale["high"], "constant": scale["high"]}
    return normalise(total, spec)
