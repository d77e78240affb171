"""Aggregation of child scores into a parent score, with missing values.

Inputs have children on the last axis: ``scores[..., child]`` and ``weights[child]``.
A missing child (NaN) is dropped and the remaining weights are renormalised, as
COINr's ``a_amean`` / ``a_gmean`` do; a parent with no child present is NaN.
"""
from __future__ import annotations

import numpy as np


def weighted_arithmetic(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum(w_i x_i) / sum(w_i)`` over the children present.

    Source: OECD/JRC Handbook (2008), sec. 6.1; COINr ``a_amean``.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    x = np.asarray(scores, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), x.shape)
    present = ~np.isnan(x)
    wsum = np.sum(np.where(present, w, 0.0), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(np.where(present, w * x, 0.0), axis=-1) / np.where(wsum > 0, wsum, np.nan)


def weighted_geometric(scores: np.ndarray, weights: np.ndarray, floor: float = 1.0) -> np.ndarray:
    """``exp(sum(w_i ln max(x_i, floor)) / sum(w_i))`` over the children present.

    Scores below ``floor`` are raised to it, because a zero score would make the
    geometric mean zero whatever the other children are (the Handbook's remark
    on geometric aggregation of min-max scores). Source: OECD/JRC Handbook
    (2008), sec. 6.1; COINr ``a_gmean``.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    x = np.asarray(scores, dtype=float)
    with np.errstate(invalid="ignore"):
        logs = np.log(np.where(np.isnan(x), np.nan, np.maximum(x, floor)))
    return np.exp(weighted_arithmetic(logs, weights))


def aggregate(scores: np.ndarray, weights: np.ndarray, spec: dict) -> np.ndarray:
    """Dispatch on ``spec['method']``: arithmetic or geometric.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    if spec["method"] == "arithmetic":
        return weighted_arithmetic(scores, weights)
    if spec["method"] == "geometric":
        return weighted_geometric(scores, weights, spec.get("floor", 1.0))
    raise ValueError(f"unknown aggregation {spec['method']!r}")
