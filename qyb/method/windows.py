"""Which months a transform reads: pooled windows and the baselines of 压降率.

A transform may pool ``window`` months (the scored month and the ``window - 1`` before it) so
that a rare event is counted over months rather than judged on one month's 0 or 1. A 压降率
compares that window with a baseline:

* ``yoy`` -- the same window a year earlier: lags ``12 .. 12 + window - 1``;
* ``mom`` -- the window just before: lags ``window .. 2 window - 1``;
* ``3m`` -- the three months before the window: lags ``window .. window + 2``;
* ``12m`` -- the twelve months before the window: lags ``window .. window + 11`` (a longer,
  steadier baseline than one month last year).

With ``window: 1`` (the default) these are qyb's original baselines (:data:`qyb.vocab.BASELINES`).
"""
from __future__ import annotations

from qyb.vocab import BASELINES

__all__ = ["REDUCTION_BASELINES", "current_lags", "baseline_lags", "transform_lags"]

#: baselines a 压降率 may use: qyb's three plus ``12m``
REDUCTION_BASELINES = (*BASELINES, "12m")


def current_lags(transform: dict) -> tuple[int, ...]:
    """Lags of the pooled window: ``0 .. window - 1``."""
    return tuple(range(int(transform.get("window", 1) or 1)))


def baseline_lags(transform: dict) -> tuple[int, ...]:
    """Lags a 压降率's baseline averages (see the module docstring)."""
    w = int(transform.get("window", 1) or 1)
    kind = transform.get("baseline", "yoy")
    if kind == "yoy":
        return tuple(range(12, 12 + w))
    if kind == "mom":
        return tuple(range(w, 2 * w))
    if kind == "3m":
        return tuple(range(w, w + 3))
    if kind == "12m":
        return tuple(range(w, w + 12))
    raise ValueError(f"unknown baseline {kind!r}; one of {REDUCTION_BASELINES}")


def transform_lags(transform: dict) -> tuple[int, ...]:
    """Every lag (0 = the scored month) a transform reads."""
    lags = current_lags(transform)
    if transform["type"] == "reduction":
        lags = lags + baseline_lags(transform)
    return tuple(sorted(set(lags)))
