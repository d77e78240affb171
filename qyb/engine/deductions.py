"""扣分 (deductions): points taken off a group's score for events such as deaths or major cases.

A rule of the method spec names a count ``measure``, the ``points`` per event,
the ``target`` group (or the index) and optionally ``max_points``::

    deducted = min(points x count, max_points)
    score    = max(score - sum of the rules' deductions at that group, 0)

This is the one place the arithmetic lives: the engine, the Monte Carlo over
method choices and the 体检表's list of deductions all call it.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from qyb.engine.transforms import lag_sum

__all__ = ["rule_points", "apply_deductions", "deduction_counts"]


def rule_points(rule: Mapping, counts) -> np.ndarray:
    """Points one rule deducts: ``min(points * count, max_points)`` (no cap when absent).

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    points = float(rule["points"]) * np.asarray(counts, dtype=float)
    if "max_points" in rule:
        points = np.minimum(points, float(rule["max_points"]))
    return points


def apply_deductions(total: np.ndarray, rules, target: str, counts: Mapping[str, np.ndarray] | None) -> np.ndarray:
    """Subtract every rule aimed at ``target`` from ``total``, one rule after another, floored at 0.

    ``counts`` maps a measure code to event counts broadcastable to ``total``;
    None (no counts given) leaves ``total`` unchanged.

    References
    ----------
    qyb design notes (docs/design.md): the barometer's scoring rules where the town's scheme is not
        public.
    """
    if counts is None:
        return total
    for rule in rules:
        if rule["target"] == target:
            total = np.maximum(total - rule_points(rule, counts[rule["measure"]]), 0.0)
    return total


def deduction_counts(method, inputs) -> dict[str, np.ndarray]:
    """The event counts of every 扣分 measure of ``method`` read from engine ``inputs``: the month's count,
    or with ``window: w`` the mean per month of the last ``w`` months (the month and ``w - 1`` before it).

    References
    ----------
    qyb design notes (docs/design.md): pooled windows for rare events (issue 9).
    """
    out = {}
    for rule in method.deductions:
        code = rule["measure"]
        if code not in out:
            w = method.deduction_window(code)
            out[code] = inputs.measure(code) if w == 1 else lag_sum(inputs, code, range(w)) / w
    return out
