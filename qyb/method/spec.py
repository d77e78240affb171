"""Method specs: load a YAML spec, validate every key, describe it, derive variants.

A spec is a tree: indicators (leaves) -> groups (categories, or deeper levels)
-> the index (root). Each indicator names its raw measure(s), a transform, a
direction, a normalisation and a weight; each group has a weight within its
parent and an aggregation rule. The index is scaled to 0-100 and converted to
stars by a star rule. Specs are plain data: ``Method.spec`` is the parsed
dict, ``Method.derive`` returns a re-validated copy with some keys replaced,
so any result can be re-run with one choice changed (as COINr does).

Optional data steps between indicator values and normalisation (run by
:mod:`qyb.engine.steps` in this order, each recorded on the result):

* ``impute: {method: mean | group_mean, group: <unit attribute>}`` -- COINr
  ``i_mean`` / ``i_mean_grp``; ``missing: impute_mean`` is shorthand for
  ``impute: {method: mean}``. ``missing`` then says what happens to values
  still missing: ``fail`` (an error), ``skip`` (NaN kept through normalisation,
  weights renormalised over the children present).
* ``screen: {method: byNA | byzeros | byNAandzeros, dat_thresh, nonzero_thresh}``
  -- COINr ``Screen``; screened-out units get no score and no rank.
* ``treat: {method: winsorise, winmax, skew_thresh, kurt_thresh, force_win,
  log_fallback}`` -- COINr ``Treat`` (global); an indicator's own ``treat:``
  overrides keys (COINr ``indiv_specs``) or is ``none`` to skip it.

Denomination is the ``rate`` transform with a unit-attribute ``denominator``
and ``per: 1`` (COINr ``Denominate``: ``x / (denominator / 1)``).
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from qyb.data.months import add_months
from qyb.errors import InputError, Problem
from qyb.method.checks import _validate
from qyb.method.options import (
    AGGREGATIONS,
    IMPUTATIONS,
    NORMALISATIONS,
    SCALINGS,
    SCREENS,
    TRANSFORMS,
    TREATMENTS,
    _with_defaults,
)
from qyb.method.windows import transform_lags


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    parent: str
    measures: dict
    transform: dict
    direction: int
    weight: float
    normalise: dict
    treat: dict | None = None  # effective treatment (global spec merged with the indicator's own)

    @property
    def lags(self) -> tuple[int, ...]:
        """The months (0 = the scored month, k = k months before) whose figures the value reads."""
        return transform_lags(self.transform)


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    parent: str | None
    weight: float
    aggregation: dict


class Method:
    """A validated method spec. Build with :func:`load_method` or :meth:`from_dict`."""

    def __init__(self, spec: dict, source: str = "<spec>", path: Path | None = None):
        self.spec = copy.deepcopy(spec)
        self.source = source
        self.path = path
        _validate(self.spec, source)
        s = self.spec
        self.name: str = str(s["name"])
        self.title: str = str(s.get("title", self.name))
        self.effective_from: str = s["effective_from"]
        self.missing: str = s.get("missing", "fail")
        defaults = s.get("defaults", {})
        index = s["index"]
        self.root = Group(index.get("code", "index"), index.get("name", "平安形势指数"), None, 1.0,
                          _with_defaults(index.get("aggregation", defaults.get("aggregation", "arithmetic")),
                                         AGGREGATIONS))
        self.scale: dict = _with_defaults(index.get("scale", "identity"), SCALINGS)
        self.stars: dict = s["stars"]
        self.groups: list[Group] = [
            Group(g["code"], g.get("name", g["code"]), g.get("parent", self.root.code), float(g.get("weight", 1.0)),
                  _with_defaults(g.get("aggregation", defaults.get("aggregation", "arithmetic")), AGGREGATIONS))
            for g in s["groups"]
        ]
        self.impute: dict | None = _step_spec(s.get("impute"), IMPUTATIONS)
        if self.impute is None and self.missing == "impute_mean":
            self.impute = {"method": "mean"}  # the policy is shorthand for the mean imputation step
        self.screen: dict | None = _step_spec(s.get("screen"), SCREENS)
        self.treat: dict | None = _step_spec(s.get("treat"), TREATMENTS)
        self.indicators: list[Indicator] = [
            Indicator(i["code"], i.get("name", i["code"]), i["parent"], dict(i["measures"]),
                      _with_defaults(i["transform"], {k: v[1] for k, v in TRANSFORMS.items()}),
                      int(i.get("direction", 1)), float(i.get("weight", 1.0)),
                      _normalise_spec(i.get("normalise"), defaults.get("normalise", "minmax")),
                      _indicator_treat(self.treat, i.get("treat")))
            for i in s["indicators"]
        ]
        self.deductions: list[dict] = list(s.get("deductions", []))
        #: measures the spec adds to the catalogue or overrides (its ``measures:`` list), read with the data
        self.measure_entries: list = list(s.get("measures") or [])

    # ------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, spec: dict, source: str = "<spec>") -> Method:
        return cls(spec, source)

    def derive(self, name: str | None = None, **changes) -> Method:
        """A copy with top-level keys replaced (re-validated); records its parent method."""
        spec = copy.deepcopy(self.spec)
        spec.update(copy.deepcopy(changes))
        spec["name"] = name or f"{self.name}+derived"
        spec["derived_from"] = {"method": self.name, "hash": self.hash, "changes": sorted(changes)}
        return Method(spec, f"{self.source} (derived)")

    def with_weights(self, weights: dict[str, float], name: str | None = None) -> Method:
        """Replace the weights of groups and/or indicators named in ``weights`` (unknown codes are an error)."""
        unknown = set(weights) - {g.code for g in self.groups} - {i.code for i in self.indicators}
        if unknown:
            raise InputError(Problem(self.source, f"cannot set the weight of unknown codes {sorted(unknown)}",
                                     "Name groups or indicators of the method: "
                                     + ", ".join(g.code for g in self.categories) + ", ..."))
        spec = copy.deepcopy(self.spec)
        for section in ("groups", "indicators"):
            for item in spec[section]:
                if item["code"] in weights:
                    item["weight"] = float(weights[item["code"]])
        return self.derive(name or f"{self.name}+weights", groups=spec["groups"], indicators=spec["indicators"])

    def without(self, codes, name: str | None = None) -> Method:
        """A copy with the named indicators and/or groups (and everything under them) removed.

        Groups left without children are removed too, up the tree; 扣分 rules aimed
        at a removed group are dropped. This is COINr's ``change_ind(drop = ...)``
        for indicators and ``remove_elements`` for aggregates (COINr zeroes the
        weight; with weights renormalised over the children present, removing the
        node gives the same scores).
        """
        drop = set(codes)
        unknown = drop - {g.code for g in self.groups} - {i.code for i in self.indicators}
        if unknown:
            raise InputError(Problem(self.source, f"cannot remove unknown codes {sorted(unknown)}",
                                     "Name indicators or groups of the method."))
        spec = copy.deepcopy(self.spec)
        parent = {g["code"]: g.get("parent", self.root.code) for g in spec["groups"]}
        parent.update({i["code"]: i["parent"] for i in spec["indicators"]})

        def removed(code: str) -> bool:
            while code in parent:
                if code in drop:
                    return True
                code = parent[code]
            return False

        spec["indicators"] = [i for i in spec["indicators"] if not removed(i["code"])]
        groups = [g for g in spec["groups"] if not removed(g["code"])]
        while True:  # prune groups that lost all their children
            used = {i["parent"] for i in spec["indicators"]} | {g.get("parent", self.root.code) for g in groups}
            kept = [g for g in groups if g["code"] in used]
            if len(kept) == len(groups):
                break
            groups = kept
        if not spec["indicators"]:
            raise InputError(Problem(self.source, "removing those codes leaves no indicator", "Keep at least one."))
        codes_left = {g["code"] for g in groups} | {self.root.code}
        changes = {"groups": groups, "indicators": spec["indicators"],
                   "deductions": [d for d in spec.get("deductions", []) if d["target"] in codes_left]}
        return self.derive(name or f"{self.name}-{'-'.join(sorted(drop))}", **changes)

    # ------------------------------------------------------------ description
    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the spec (formatting and key order do not matter)."""
        text = json.dumps(self.spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def candidate(self) -> bool:
        """A method proposed for review (``candidate: true``): never in force by its effective month."""
        return bool(self.spec.get("candidate", False))

    @property
    def categories(self) -> list[Group]:
        """The groups directly under the index (the nine 类别 of the barometer)."""
        return [g for g in self.groups if g.parent == self.root.code]

    def children(self, code: str) -> list[Indicator | Group]:
        return [g for g in self.groups if g.parent == code] + [i for i in self.indicators if i.parent == code]

    def aggregation_order(self) -> list[Group]:
        """Groups deepest first, the root last, so children are scored before parents."""
        depth = {self.root.code: 0}
        pending = list(self.groups)
        while pending:
            rest = []
            for g in pending:
                if g.parent in depth:
                    depth[g.code] = depth[g.parent] + 1
                else:
                    rest.append(g)
            pending = rest
        return sorted(self.groups, key=lambda g: -depth[g.code]) + [self.root]

    def measures_used(self) -> set[str]:
        used = {m for i in self.indicators for m in i.measures.values()}
        return used | {d["measure"] for d in self.deductions}

    def deduction_window(self, measure: str) -> int:
        """Months whose events a 扣分 measure counts (the mean per month; 1 = the month alone)."""
        return max((int(d.get("window", 1)) for d in self.deductions if d["measure"] == measure), default=1)

    def measure_lags(self) -> dict[str, set[int]]:
        """Measure -> the lags (0 = the scored month) at which the transforms and 扣分 rules read it."""
        out: dict[str, set[int]] = {}
        for i in self.indicators:
            for measure in i.measures.values():
                out.setdefault(measure, set()).update(i.lags)
        for d in self.deductions:
            out.setdefault(d["measure"], set()).update(range(self.deduction_window(d["measure"])))
        return out

    def lags(self) -> set[int]:
        """Every lag (0 = the scored month) the transforms and the 扣分 rules read."""
        lags = {k for i in self.indicators for k in i.lags}
        return lags | {k for d in self.deductions for k in range(self.deduction_window(d["measure"]))}

    def history_needed(self) -> int:
        """How many months before the scored month the transforms (and 扣分 windows) look back."""
        return max(self.lags(), default=0)

    def months_read(self, month: str) -> list[str]:
        """Every month whose raw figures scoring ``month`` reads (the month itself and its baselines)."""
        return [add_months(month, -k) for k in sorted(self.lags(), reverse=True)]

    def measures_by_month(self, month: str) -> dict[str, set[str]]:
        """Which measures scoring ``month`` reads in each month it reads (baselines read only the measures
        whose indicators look back; deductions read the month itself)."""
        out: dict[str, set[str]] = {}
        for ind in self.indicators:
            for k in ind.lags:
                out.setdefault(add_months(month, -k), set()).update(ind.measures.values())
        if self.deductions:
            out.setdefault(month, set()).update(d["measure"] for d in self.deductions)
        return {m: out[m] for m in sorted(out)}

    def names(self) -> dict[str, str]:
        """code -> Chinese name for every node of the tree."""
        out = {self.root.code: self.root.name}
        out.update({g.code: g.name for g in self.groups})
        out.update({i.code: i.name for i in self.indicators})
        return out

    def describe(self) -> str:
        lines = [f"{self.title} [{self.name}], in force from {self.effective_from}, hash {self.hash[:12]}"]
        if self.spec.get("illustrative"):
            lines.append("  示例权重 (illustrative weights): " + str(self.spec.get("disclaimer", "")).strip())

        def walk(code: str, indent: int) -> None:
            for child in self.children(code):
                if isinstance(child, Group):
                    lines.append(f"{'  ' * indent}{child.name} ({child.code}) weight {child.weight:g}, "
                                 f"{child.aggregation['method']}")
                    walk(child.code, indent + 1)
                else:
                    lines.append(f"{'  ' * indent}- {child.name} ({child.code}) weight {child.weight:g}: "
                                 f"{child.transform['type']} of {child.measures}, direction {child.direction:+d}, "
                                 f"{child.normalise['method']}")

        for step in ("impute", "screen", "treat"):
            spec = getattr(self, step)
            if spec is not None:
                lines.append(f"  {step}: {spec}")
        walk(self.root.code, 1)
        for d in self.deductions:
            lines.append(f"  扣分 deduction: {d['points']:g} points per {d['measure']} from {d['target']}")
        lines.append(f"  index scale: {self.scale}; stars: {self.stars}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Method({self.name!r}, effective_from={self.effective_from!r}, hash={self.hash[:12]!r})"



def _normalise_spec(own, default) -> dict:
    """An indicator's normalisation: its own over the spec's default when both name the same method
    (so ``normalise: minmax`` on an indicator keeps the default's ``constant``), else its own."""
    base = _with_defaults(default, NORMALISATIONS)
    if own is None:
        return base
    own = _with_defaults(own, NORMALISATIONS)
    if own["method"] != base["method"]:
        return own
    given = own if isinstance(own, dict) else {}
    return {**base, **{k: v for k, v in given.items() if v is not None or k not in base}}


def _step_spec(value, table: dict) -> dict | None:
    """A pipeline step spec with defaults filled; None when absent or ``method: none``."""
    if value is None or value is False:
        return None
    spec = _with_defaults(value, table)
    return None if spec["method"] == "none" else spec


def _indicator_treat(global_spec: dict | None, own) -> dict | None:
    """The treatment of one indicator: the global spec updated by the indicator's own keys.

    ``treat: none`` (or false) on an indicator switches it off; an indicator may
    also turn treatment on when there is no global spec (COINr ``indiv_specs``).
    """
    if own is None:
        return global_spec
    if own is False or own == "none" or (isinstance(own, dict) and own.get("method") == "none"):
        return None
    own = {"method": own} if isinstance(own, str) else dict(own)
    base = global_spec or {"method": own.get("method", "winsorise")}
    merged = {**base, **own}
    return _with_defaults(merged, TREATMENTS)


