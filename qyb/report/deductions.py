"""The 扣分 of a month as a reader sees them: every deduction of every unit with its reason.

``交通事故死亡 1 人，交通安全 −20``: the rule's name, the count and its unit (人 for deaths, 起
otherwise), the score it comes off (a category, or 总分 for the index) and the points, from the
same arithmetic the engine applies (:func:`qyb.engine.deductions.rule_points`). Vectorised over
units: one cube read and one array operation per rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from qyb.data.catalogue import measure_of
from qyb.data.panel import Panel
from qyb.engine.deductions import rule_points
from qyb.vocab import fmt_points

__all__ = ["DEDUCTION_COLUMNS", "count_unit", "deduction_items", "deduction_totals"]

DEDUCTION_COLUMNS = ["month", "unit_id", "rule", "measure", "count", "count_unit", "points", "target",
                     "target_name", "floored", "text"]


def count_unit(measure: str, catalogue=None) -> str:
    """The counting word of a measure: its unit of measure in the catalogue (人 for deaths, 起 for
    incidents …); for a measure without one, 人 for numbers of people (``…人数``), else 起."""
    found = measure_of(measure, catalogue)
    if found is not None and found.unit:
        return found.unit
    name = found.name if found is not None else measure
    return "人" if name.endswith("人数") or name.endswith("人") else "起"


def _fmt_count(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:g}"


def deduction_items(panel: Panel, month: str, method, card: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every deduction of ``month`` under ``method``: one row per (unit, rule) that took points off.

    Columns :data:`DEDUCTION_COLUMNS`: ``points`` as the rule gives them
    (``min(points x count, max_points)``); ``target_name`` the category's Chinese name, or 总分 for
    a rule aimed at the index; ``floored`` True where the scorecard (``card``, optional) shows the
    target category at 0, i.e. the deduction took it to the floor and less than ``points`` came
    off; ``text`` the printed line (``交通事故死亡 1 人，交通安全 −20``). Rows follow the unit
    register, then the method's rule order.
    """
    names = {g.code: g.name for g in method.groups}
    root = method.root.code
    units = panel.units.index.to_numpy()
    frames = []
    for order, rule in enumerate(method.deductions):
        counts = panel.cube(rule["measure"], [month])[0]
        points = rule_points(rule, np.nan_to_num(counts))
        hit = points > 0
        if not hit.any():
            continue
        target = rule["target"]
        frames.append(pd.DataFrame({
            "month": month, "unit_id": units[hit], "rule": rule.get("name", rule["measure"]),
            "measure": rule["measure"], "count": counts[hit], "count_unit": count_unit(rule["measure"], panel.catalogue),
            "points": points[hit], "target": target,
            "target_name": "总分" if target == root else names.get(target, target), "_order": order,
            "_unit": np.flatnonzero(hit)}))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in DEDUCTION_COLUMNS})
    out = pd.concat(frames, ignore_index=True).sort_values(["_unit", "_order"], kind="stable")
    out["floored"] = False
    if card is not None:
        floor = card.set_index("unit_id")
        at_zero = [float(floor.at[u, f"cat_{t}"]) <= 0 if f"cat_{t}" in floor.columns else False
                   for u, t in zip(out["unit_id"], out["target"])]
        out["floored"] = np.asarray(at_zero, dtype=bool)
    out["text"] = [f"{r} {_fmt_count(c)} {cu}，{tn} {fmt_points(p)}" + ("（已扣至 0 分）" if f else "")
                   for r, c, cu, tn, p, f in zip(out["rule"], out["count"], out["count_unit"], out["target_name"],
                                                 out["points"], out["floored"])]
    return out[DEDUCTION_COLUMNS].reset_index(drop=True)


def deduction_totals(items: pd.DataFrame, unit_ids) -> pd.DataFrame:
    """Per unit (in ``unit_ids`` order): ``deduction`` (points, 0 where none) and ``deduction_text``
    (the reasons joined by "；", empty where none)."""
    index = pd.Index(list(unit_ids), name="unit_id")
    if items.empty:
        return pd.DataFrame({"deduction": 0.0, "deduction_text": ""}, index=index)
    grouped = items.groupby("unit_id", sort=False)
    return pd.DataFrame({"deduction": grouped["points"].sum().astype(float),
                         "deduction_text": grouped["text"].agg("；".join)}).reindex(index).fillna(
        {"deduction": 0.0, "deduction_text": ""})
