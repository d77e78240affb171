"""Indicator transforms: raw measures -> indicator values, vectorised over units and months.

Rules where the article is silent (documented in the README too):

* rate per 10,000: ``count / population * 10000``; population comes from the
  unit register and is validated > 0, so the rate is always defined.
* 压降率 (reduction): ``(baseline - now) / max(baseline, floor)``, computed on
  counts (the register's population does not change between months, so the
  count ratio equals the rate ratio). The baseline is the same month last year
  (``yoy``), the previous month (``mom``) or the mean of the previous three
  months (``3m``). ``floor`` (default 1 event) keeps a zero baseline from
  dividing by zero: 0 -> 0 is no change (0), 0 -> 2 is -200 %.
* attainment (化解率, 巡查完成率): ``handled / total``; a zero total scores
  ``zero_total`` (default 1.0: nothing to handle, nothing left undone).
* log: ``ln(x + offset)`` (offset 0 by default; ln 0 is -inf and fails as an
  infinite value), the transform of income in UNDP's Human Development Index.
* cap (on value, count, rate and log): ``min(x, cap)`` of the raw value (of
  the rate for ``rate``; before the logarithm for ``log``), as UNDP caps
  expected years of schooling at 18 and GNI per capita at 75,000 PPP$.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from qyb.engine.robust import bounded, eb_shrink, pooled_mean
from qyb.method import Method
from qyb.method.windows import baseline_lags, current_lags
from qyb.vocab import BASELINES


class Inputs(Protocol):
    """Where transforms read raw figures from: a measure at a lag, a unit attribute."""

    def measure(self, code: str, lag: int = 0) -> np.ndarray: ...

    def attribute(self, code: str) -> np.ndarray: ...


def rate(count: np.ndarray, denominator: np.ndarray, per: float = 10000.0) -> np.ndarray:
    """Rate per ``per`` of the denominator: ``count / denominator * per``; NaN where denominator <= 0.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    den = np.asarray(denominator, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(count, dtype=float) / np.where(den > 0, den, np.nan) * per


def reduction(now: np.ndarray, baseline: np.ndarray, floor: float = 1.0) -> np.ndarray:
    """压降率: ``(baseline - now) / max(baseline, floor)``; positive = fewer events than the baseline.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    base = np.asarray(baseline, dtype=float)
    return (base - np.asarray(now, dtype=float)) / np.maximum(base, floor)


def attainment(handled: np.ndarray, total: np.ndarray, zero_total: float | None = 1.0) -> np.ndarray:
    """Attainment ratio ``handled / total``; ``zero_total`` where total == 0 (NaN if None).

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    tot = np.asarray(total, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(handled, dtype=float) / tot
    return np.where(tot == 0, np.nan if zero_total is None else zero_total, out)


def capped(x: np.ndarray, cap: float | None = None) -> np.ndarray:
    """``min(x, cap)`` (NaN stays NaN); ``x`` itself when ``cap`` is None.

    References
    ----------
    UNDP (2020). *Human Development Report 2020, Technical notes*: technical note 1, "Calculating the
        Human Development Index" (expected years of schooling capped at 18, GNI per capita at 75,000).
    """
    x = np.asarray(x, dtype=float)
    return x if cap is None else np.minimum(x, float(cap))


def log_value(x: np.ndarray, cap: float | None = None, offset: float = 0.0) -> np.ndarray:
    """``ln(min(x, cap) + offset)``; NaN where the argument is negative, -inf where it is 0.

    With goalposts ``ln(min)`` and ``ln(max)`` this is UNDP's income index
    ``(ln x - ln 100) / (ln 75,000 - ln 100)``.

    References
    ----------
    UNDP (2020). *Human Development Report 2020, Technical notes*: technical note 1, "Calculating the
        Human Development Index", the income index.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(capped(x, cap) + offset)


def baseline(inputs: Inputs, code: str, kind: str) -> np.ndarray:
    """Mean of the measure over the baseline's lags (yoy: 12; mom: 1; 3m: 1, 2, 3).

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    lags = BASELINES[kind].lags
    return sum(inputs.measure(code, lag) for lag in lags) / len(lags)


def lag_sum(inputs: Inputs, code: str, lags) -> np.ndarray:
    """``x(lag_0) + x(lag_1) + ...``: the measure's figures at ``lags`` as floats, added left to right from 0
    (the sum a window or a baseline pools), in one working array.

    References
    ----------
    qyb design notes (docs/design.md): pooled windows for rare events (issue 9).
    """
    total = None
    for lag in lags:
        x = np.asarray(inputs.measure(code, lag))  # counts may be integers: added into the float total
        if total is None:
            total = np.add(x, 0.0, dtype=float)  # 0 + x, as sum() starts: a new array (and -0.0 becomes 0.0)
        elif np.broadcast_shapes(total.shape, x.shape) == total.shape:
            total += x
        else:
            total = total + x
    return np.zeros(()) if total is None else total


def indicator_value(method: Method, indicator, inputs: Inputs) -> np.ndarray:
    """The value of one indicator for every unit (and month / draw) in ``inputs``.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    t, m = indicator.transform, indicator.measures
    kind = t["type"]
    if _robust(t):
        return robust_value(t, m, inputs)
    if kind in ("value", "count"):
        return capped(inputs.measure(m["value"]), t.get("cap"))
    if kind == "rate":
        den = t.get("denominator", "population")
        return capped(rate(inputs.measure(m["value"]), inputs.attribute(den), float(t.get("per", 10000))),
                      t.get("cap"))
    if kind == "log":
        return log_value(inputs.measure(m["value"]), t.get("cap"), float(t.get("offset", 0.0)))
    if kind == "reduction":
        floor = NOISE_FREE_FLOOR if getattr(inputs, "noise_free", False) else float(t.get("floor", 1.0))
        return reduction(inputs.measure(m["value"]), baseline(inputs, m["value"], t.get("baseline", "yoy")), floor)
    if kind == "attainment":
        return attainment(inputs.measure(m["handled"]), inputs.measure(m["total"]), t.get("zero_total", 1.0))
    raise ValueError(f"unknown transform {kind!r}")


#: the floor of a 压降率 on noise-free (expected) figures: the floor guards against a zero *count*;
#: an expected figure is never a chance zero, so the truth divides by the expected baseline itself
NOISE_FREE_FLOOR = 1e-12


def _robust(t: dict) -> bool:
    """Does the transform use a noise-robust option (window > 1, shrink, bound, a 12m baseline)?"""
    return (int(t.get("window", 1) or 1) > 1 or t.get("shrink", "none") != "none" or t.get("bound") is not None
            or t.get("baseline") == "12m")


def robust_value(t: dict, m: dict, inputs: Inputs) -> np.ndarray:
    """Count, rate, attainment or 压降率 with the noise-robust options (:mod:`qyb.engine.robust`).

    ``window`` months pooled (mean per month; for attainment, handled and total summed over the
    window); ``shrink: eb`` the empirical-Bayes rate (count per
    month for ``count``); a 压降率 compares the window's mean with its baseline's mean
    (:func:`qyb.method.windows.baseline_lags`), ``(baseline - now) / max(baseline, floor)``,
    clipped to ``[-bound, bound]``. Noise-free inputs (a truth) skip shrinkage and the floor.

    References
    ----------
    Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes estimators.
        *Applied Statistics* 40:283-294.
    """
    noise_free = getattr(inputs, "noise_free", False)
    kind = t["type"]
    if kind == "attainment":
        pooled = [lag_sum(inputs, m[role], current_lags(t)) for role in ("handled", "total")]
        return attainment(*pooled, t.get("zero_total", 1.0))
    code = m["value"]
    window = [inputs.measure(code, lag) for lag in current_lags(t)]
    if len({np.shape(x) for x in window}) > 1:
        window = np.broadcast_arrays(*window)
    stack = np.stack(window, dtype=float)
    if kind in ("value", "count", "rate"):
        den = inputs.attribute(t.get("denominator", "population")) if kind == "rate" else np.ones(stack.shape[-1])
        per = float(t.get("per", 10000)) if kind == "rate" else 1.0
        if t.get("shrink", "none") == "eb" and not noise_free:
            return capped(eb_shrink(stack, den) * per, t.get("cap"))
        return capped(rate(pooled_mean(stack), den, per), t.get("cap"))
    lags = baseline_lags(t)
    base = lag_sum(inputs, code, lags) / len(lags)
    floor = NOISE_FREE_FLOOR if noise_free else float(t.get("floor", 1.0))
    return bounded(reduction(pooled_mean(stack), base, floor), t.get("bound"))


def indicator_values(method: Method, inputs: Inputs, by_indicator: bool = False,
                     known: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """All indicators stacked on the last axis: shape (..., units, indicators); with ``by_indicator``
    each indicator's values are contiguous in memory (the same array values; the Monte Carlo paths
    score in that layout, :func:`qyb.engine.score.stack_last`). ``known``: indicator code -> values
    already computed from the same figures (broadcast over the leading axes), taken as they are.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    known = known or {}
    return stack_columns([known[ind.code] if ind.code in known else indicator_value(method, ind, inputs)
                          for ind in method.indicators], by_indicator)


def stack_columns(columns: list, by_column: bool = False) -> np.ndarray:
    """``np.stack(columns, axis=-1)`` (broadcast to one shape); with ``by_column`` the same values laid out
    column by column (a (..., n) view of an (n, ...) array), so that each column stays contiguous.
    The engine's Monte Carlo paths keep that layout from the transforms to the aggregation: nothing is
    interleaved and split again."""
    shapes = {np.shape(c) for c in columns}
    if len(shapes) > 1:
        shape = np.broadcast_shapes(*shapes)
        columns = [np.broadcast_to(c, shape) for c in columns]
    if by_column:
        return np.moveaxis(np.stack(columns, axis=0), 0, -1)
    return np.stack(columns, axis=-1)
