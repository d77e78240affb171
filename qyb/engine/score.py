"""The array layer of the engine: indicator values -> scores -> groups -> index -> ranks -> stars.

:func:`score_values` works on arrays whose last two axes are (units,
indicators) and any leading axes (months, towns, Monte Carlo draws): no loop
over units or draws. :mod:`qyb.engine.table` scores months of a panel with it;
the uncertainty analyses call it directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qyb.engine.aggregate import aggregate_children
from qyb.engine.deductions import apply_deductions
from qyb.engine.normalise import normalise, scale_index
from qyb.engine.ranks import assign_stars, rank_desc
from qyb.engine.steps import run_pipeline
from qyb.engine.transforms import stack_columns
from qyb.method import Group, Method

__all__ = ["Scores", "score_values"]

@dataclass(repr=False)
class Scores:
    """Everything the engine computed, as arrays with leading axes (..., units)."""

    method: Method
    values: np.ndarray  # (..., U, I) indicator values after imputation
    imputed: np.ndarray  # (..., U, I) bool
    indicator_scores: np.ndarray | None  # (..., U, I); None when scored lean (index, ranks and stars only)
    nodes: dict[str, np.ndarray]  # group code -> (..., U); root: total before scaling
    index: np.ndarray  # (..., U)
    rank: np.ndarray  # (..., U)
    stars: np.ndarray  # (..., U)
    steps: list[dict] = field(default_factory=list)  # how it was made: one record per step, in order
    stages: dict[str, np.ndarray] = field(default_factory=dict)  # values after each data step
    present: np.ndarray | None = None  # (..., U) units scored (False: padding or screened out)

    def __repr__(self) -> str:
        return (f"Scores({self.method.name}, shape {tuple(self.index.shape)} (..., units), "
                f"{len(self.method.indicators)} indicators, steps: {', '.join(s['step'] for s in self.steps)})")

    def step(self, name: str) -> dict | None:
        """The record of step ``name`` ('transform', 'impute', 'screen', 'treat', 'normalise', 'aggregate')."""
        return next((s for s in self.steps if s["step"] == name), None)

    def take(self, where) -> Scores:
        """The same scores indexed on the leading axes by ``where`` (e.g. un-blocking units)."""
        return Scores(self.method, self.values[where], self.imputed[where], _apply(self.indicator_scores, lambda a: a[where]),
                      {k: v[where] for k, v in self.nodes.items()}, self.index[where], self.rank[where],
                      self.stars[where], self.steps, {k: v[where] for k, v in self.stages.items()},
                      None if self.present is None else self.present[where])

    def map(self, func) -> Scores:
        """The same record with ``func`` applied to every array (e.g. allocating a larger copy)."""
        return Scores(self.method, func(self.values), func(self.imputed), _apply(self.indicator_scores, func),
                      {k: func(v) for k, v in self.nodes.items()}, func(self.index), func(self.rank),
                      func(self.stars), list(self.steps), {k: func(v) for k, v in self.stages.items()},
                      None if self.present is None else func(self.present))

    def assign(self, where, other: Scores) -> None:
        """Write ``other``'s arrays into this record's at ``where`` (in place)."""
        for name in ("values", "imputed", "indicator_scores", "index", "rank", "stars", "present"):
            target = getattr(self, name)
            if target is not None:
                target[where] = getattr(other, name)
        for mine, theirs in ((self.nodes, other.nodes), (self.stages, other.stages)):
            for key, target in mine.items():
                target[where] = theirs[key]

    def category_scores(self) -> np.ndarray:
        """(..., U, C) scores of the categories directly under the index."""
        return np.stack([self.nodes[g.code] for g in self.method.categories], axis=-1)


def _apply(a: np.ndarray | None, func):
    return None if a is None else func(a)


def score_values(method: Method, values: np.ndarray, deductions: dict[str, np.ndarray] | None = None,
                 present: np.ndarray | None = None, imputed: np.ndarray | None = None,
                 attributes: dict[str, np.ndarray] | None = None, unit_ids=None, lean: bool = False) -> Scores:
    """Score indicator values of shape (..., units, indicators) under ``method``.

    ``deductions`` maps a measure code to event counts (..., units) for the spec's
    扣分 rules; ``present`` (..., units) marks real units (False = padding);
    ``attributes`` maps unit attributes (e.g. a grouping for group-mean
    imputation) to labels (units,) or (..., units).
    Steps: the spec's data steps (impute -> screen -> treat, :mod:`qyb.engine.steps`)
    -> normalise each indicator across units -> aggregate groups deepest first
    (weights renormalised over children present) -> subtract deductions at their
    target group, floored at 0 -> scale the root to the index -> rank -> stars.
    ``Scores.steps`` records each step's method, arguments and details. ``lean``: leave out the
    (..., units, indicators) array of indicator scores (``indicator_scores`` None), which the
    Monte Carlo paths do not read; every other figure is the same.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    values = np.asarray(values, dtype=float)
    if present is None:
        present = np.ones(values.shape[:-1], dtype=bool)
    piped = run_pipeline(method, values, present, attributes, unit_ids)
    values, present = piped.values, piped.present
    imputed = piped.imputed if imputed is None else (np.asarray(imputed, dtype=bool) | piped.imputed)
    columns = [normalise(values[..., j], ind.normalise, ind.direction) for j, ind in enumerate(method.indicators)]
    scores = None if lean else stack_columns(columns, by_column=not values.flags.c_contiguous)  # values' layout
    position = {ind.code: j for j, ind in enumerate(method.indicators)}
    nodes: dict[str, np.ndarray] = {}
    for group in method.aggregation_order():
        children = method.children(group.code)
        child_scores = [nodes[c.code] if isinstance(c, Group) else columns[position[c.code]] for c in children]
        total = aggregate_children(child_scores, [c.weight for c in children], group.aggregation)
        total = apply_deductions(total, method.deductions, group.code, deductions)
        nodes[group.code] = total
    index = scale_index(nodes[method.root.code], method.scale)
    index = np.where(present, index, np.nan)
    rank = rank_desc(index)
    stars = assign_stars(index, rank, method.stars)
    steps = [_transform_record(method), *piped.steps, _normalise_record(method), _aggregate_record(method)]
    if piped.treated_points is not None:
        piped.stages["treated_points"] = piped.treated_points
    return Scores(method, values, imputed, scores, nodes, index, rank, stars, steps, piped.stages, present)


def _transform_record(method: Method) -> dict:
    """Indicator transforms, denomination included (COINr ``Denominate``: rate with ``per: 1``)."""
    denominated = {i.code: {"denominator": i.transform.get("denominator", "population"),
                            "per": i.transform.get("per", 10000)}
                   for i in method.indicators if i.transform["type"] == "rate"}
    return {"step": "transform", "method": "qyb_transforms",
            "args": {i.code: dict(i.transform) for i in method.indicators},
            "summary": {"n_indicators": len(method.indicators), "n_denominated": len(denominated)},
            "details": denominated}


def _normalise_record(method: Method) -> dict:
    return {"step": "normalise", "method": "per_indicator",
            "args": {i.code: {**i.normalise, "direction": i.direction} for i in method.indicators},
            "summary": {"methods": sorted({i.normalise["method"] for i in method.indicators})}}


def _aggregate_record(method: Method) -> dict:
    return {"step": "aggregate", "method": "weighted_tree",
            "args": {g.code: {**g.aggregation, "children": {c.code: c.weight for c in method.children(g.code)}}
                     for g in method.aggregation_order()},
            "summary": {"missing": method.missing, "weights": "renormalised over children present (a_amean)",
                        "index_scale": method.scale, "stars": method.stars.get("rule")}}
