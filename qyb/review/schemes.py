"""Data-driven weighting schemes (equal, entropy 熵权法, CRITIC, std, PCA) applied to the category
weights, and the ranks each scheme gives: a reference against which the published weights are read."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from qyb.data.panel import Panel
from qyb.method import Method
from qyb.review.common import scored
from qyb.review.effective import category_weights
from qyb.review.montecarlo import Choices, UncertaintyModel
from qyb.review.weights import SCHEMES, apply_scheme

__all__ = ["MIN_SCHEME_WEIGHT", "scheme_weights", "scheme_method", "scheme_ranks"]

MIN_SCHEME_WEIGHT = 1e-6  # a spec weight must be > 0: data-driven zeros are raised to this share


def scheme_weights(category_scores: pd.DataFrame, schemes=("equal", "entropy", "critic", "pca")) -> pd.DataFrame:
    """Category weights under data-driven schemes, computed on the **category scores** (units × categories).

    Design choice: the schemes weight the nine categories (the level whose
    weights the spec publishes) from the month's category scores, which are
    already benefit-oriented 0–100 (higher = safer), so no direction
    handling is needed; indicator weights within a category are kept. Each
    scheme is :func:`qyb.weights.apply_scheme` (equal, entropy 熵权法, CRITIC,
    std, PCA). Returns tidy ``scheme, category, weight`` (weights sum to 1).
    """
    frames = []
    for scheme in schemes:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown weighting scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sparse/constant columns: documented in qyb.review.weights
            w = apply_scheme(category_scores, scheme)
        frames.append(pd.DataFrame({"scheme": scheme, "category": w.index, "weight": w.to_numpy(dtype=float)}))
    return pd.concat(frames, ignore_index=True)


def scheme_method(method: Method, weights: pd.Series | dict, scheme: str) -> Method:
    """``method`` with its category weights replaced (``Method.with_weights``), named ``<method>+<scheme>``.

    Weights are stored as points summing to 100; a zero weight (a constant
    category under entropy/CRITIC) is raised to ``MIN_SCHEME_WEIGHT`` × 100
    because a spec weight must be positive.
    """
    w = pd.Series(weights, dtype=float)
    w = np.maximum(w / w.sum(), MIN_SCHEME_WEIGHT) * 100.0
    return method.with_weights(w.to_dict(), name=f"{method.name}+{scheme}")


def scheme_ranks(panel: Panel, month: str, method: Method,
                 schemes=("equal", "entropy", "critic", "pca")) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score ``month`` under derived methods whose category weights come from each scheme.

    Returns ``(weights, ranks)``: the tidy scheme weights and a frame
    ``unit_id, unit_name, scheme, index, rank, stars, rank_shift`` (shift =
    nominal rank − scheme rank, positive = rose), ``scheme = "nominal"`` first.
    """
    table = scored(panel, method, month)
    m = table.method
    t = table.months.index(month)
    codes = [g.code for g in m.categories]
    cats = pd.DataFrame(table.scores.category_scores()[t], columns=codes)
    weights = scheme_weights(cats, schemes)
    model = UncertaintyModel.from_table(table, panel, month, Choices.none())
    W = np.vstack([category_weights(m).reindex(codes).to_numpy()]
                  + [weights.loc[weights.scheme == s].set_index("category")["weight"].reindex(codes).to_numpy()
                     for s in schemes])
    ranks, stars = model.ranks_for_weights(W)
    names = ["nominal", *schemes]
    out = pd.DataFrame({
        "unit_id": np.tile(model.unit_ids, len(names)),
        "unit_name": np.tile(model.unit_names, len(names)),
        "scheme": np.repeat(names, len(model.unit_ids)),
        "rank": ranks.ravel().astype(int),
        "stars": stars.ravel().astype(int),
    })
    out["rank_shift"] = np.tile(model.rank_nominal, len(names)).astype(int) - out["rank"]
    return weights, out
