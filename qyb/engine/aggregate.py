"""Aggregation of child scores into a parent score, with missing values.

Inputs have children on the last axis: ``scores[..., child]`` and ``weights[child]`` (or, in the
``*_of`` forms, a list of child arrays: the engine holds each child apart, contiguous). A missing
child (NaN) is dropped and the remaining weights are renormalised, as COINr's ``a_amean`` /
``a_gmean`` do; a parent with no child present is NaN. Sums over the children are taken in
numpy's pairwise order (:func:`pairwise_sum`), so both forms give the same bits.
"""
from __future__ import annotations

import numpy as np

#: numpy's pairwise summation: blocks of this many terms are split in two (``PW_BLOCKSIZE``)
_PAIRWISE_BLOCK = 128


def pairwise_sum(terms: list) -> np.ndarray:
    """``terms[0] + terms[1] + ...`` (arrays of one broadcast shape) in the order ``np.sum(x, axis=-1)``
    adds the ``len(terms)`` entries of a contiguous last axis: from 0, one by one below 8 terms,
    else in 8 running sums combined as ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`` plus the
    rest, halving blocks above 128 terms (numpy's ``pairwise_sum``). Summing children held as
    separate arrays is then bit for bit the sum of the stacked children, at the speed of whole-array
    additions.

    References
    ----------
    Higham NJ (1993). The accuracy of floating point summation. *SIAM Journal on Scientific Computing*
        14(4):783-799 (pairwise summation).
    """
    n = len(terms)
    if n < 8:
        return _running_sum(np.add(terms[0], 0.0), terms[1:])  # 0 + t0 + t1 + ...: 0 + t0 == t0 + 0.0
    if n <= _PAIRWISE_BLOCK:
        r = list(terms[:8])
        i = 8
        while i + 8 <= n:
            r = [r[j] + terms[i + j] for j in range(8)]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        return _running_sum(total, terms[i:]) + 0.0  # numpy adds the sum to its identity, 0: -0.0 becomes 0.0
    half = n // 2
    half -= half % 8
    return pairwise_sum(terms[:half]) + pairwise_sum(terms[half:])


def _running_sum(total: np.ndarray, terms) -> np.ndarray:
    """``total + terms[0] + terms[1] + ...``, left to right (in place once ``total`` is a full array of its own)."""
    for t in terms:
        if np.shape(total) == np.shape(t) and isinstance(total, np.ndarray) and total.ndim:
            total += t
        else:
            total = total + t
    return total


def weighted_arithmetic_of(children: list, weights) -> np.ndarray:
    """The children held as separate arrays (the engine's layout): :func:`weighted_arithmetic`, to the bit."""
    xs = [np.asarray(x, dtype=float) for x in children]
    ws = [np.asarray(w, dtype=float) for w in weights]
    if not any(np.isnan(np.add.reduce(x, axis=None)) for x in xs):  # a NaN makes the sum NaN: none missing,
        # so the weights' sum is the same everywhere
        wsum = pairwise_sum(ws)
        terms = [w * x for w, x in zip(ws, xs)]
    else:
        missing = [np.isnan(x) for x in xs]
        wsum = pairwise_sum([np.where(m, 0.0, w) for m, w in zip(missing, ws)])
        terms = [np.where(m, 0.0, w * x) for m, w, x in zip(missing, ws, xs)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return pairwise_sum(terms) / np.where(wsum > 0, wsum, np.nan)


def weighted_geometric_of(children: list, weights, floor: float = 1.0) -> np.ndarray:
    """The children held as separate arrays: :func:`weighted_geometric`, to the bit."""
    logs = []
    for x in children:
        x = np.asarray(x, dtype=float)
        with np.errstate(invalid="ignore"):
            logs.append(np.log(np.where(np.isnan(x), np.nan, np.maximum(x, floor))))
    return np.exp(weighted_arithmetic_of(logs, weights))


def _split(scores: np.ndarray, weights) -> tuple[list, list]:
    x = np.asarray(scores, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), x.shape)
    n = x.shape[-1]
    return [x[..., i] for i in range(n)], [w[..., i] for i in range(n)]


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
    return weighted_arithmetic_of(*_split(scores, weights))


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
    return weighted_geometric_of(*_split(scores, weights), floor)


def aggregate_children(children: list, weights, spec: dict) -> np.ndarray:
    """The children held as separate arrays: :func:`aggregate`, to the bit."""
    if spec["method"] == "arithmetic":
        return weighted_arithmetic_of(children, weights)
    if spec["method"] == "geometric":
        return weighted_geometric_of(children, weights, spec.get("floor", 1.0))
    raise ValueError(f"unknown aggregation {spec['method']!r}")


def aggregate(scores: np.ndarray, weights: np.ndarray, spec: dict) -> np.ndarray:
    """Dispatch on ``spec['method']``: arithmetic or geometric.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    return aggregate_children(*_split(scores, weights), spec)
