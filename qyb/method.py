"""Method specs: load a YAML spec, validate every key, describe it, derive variants.

A spec is a tree: indicators (leaves) -> groups (categories, or deeper levels)
-> the index (root). Each indicator names its raw measure(s), a transform, a
direction, a normalisation and a weight; each group has a weight within its
parent and an aggregation rule. The index is scaled to 0-100 and converted to
stars by a star rule. Specs are plain data: ``Method.spec`` is the parsed
dict, ``Method.derive`` returns a re-validated copy with some keys replaced,
so any result can be re-run with one choice changed (as COINr does).

Optional data steps between indicator values and normalisation (run by
:mod:`qyb.pipeline` in this order, each recorded on the result):

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
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from qyb.errors import InputError, Problem
from qyb.measures import MEASURE_CODES
from qyb.months import month_number, parse_month

METHODS_DIR = Path(__file__).resolve().parents[1] / "methods"

TRANSFORMS = {
    # type: (required measure roles, optional parameters with defaults)
    "value": (("value",), {}),
    "count": (("value",), {}),
    "rate": (("value",), {"per": 10000, "denominator": "population"}),
    "reduction": (("value",), {"baseline": "yoy", "floor": 1.0}),
    "attainment": (("handled", "total"), {"zero_total": 1.0}),
}
BASELINES = {"yoy": (12,), "mom": (1,), "3m": (1, 2, 3)}
NORMALISATIONS = {
    "minmax": {"low": 0.0, "high": 100.0, "constant": None},
    "goalposts": {"worst": None, "best": None, "scale": 100.0},
    "percentile": {"constant": None},
    "zscore": {"mean": 0.0, "sd": 1.0, "constant": None},
    "none": {},
}
AGGREGATIONS = {"arithmetic": {}, "geometric": {"floor": 1.0}}
SCALINGS = {"identity": {}, "affine": {"low": 60.0, "high": 100.0}, "minmax": {"low": 0.0, "high": 100.0}}
STAR_RULES = ("thresholds", "shares", "none")
MISSING_POLICIES = ("fail", "impute_mean", "skip")
# Pipeline steps between indicator values and normalisation (COINr's Impute, Screen, Treat),
# run in this order when present; see qyb.pipeline.
IMPUTATIONS = {"none": {}, "mean": {}, "group_mean": {"group": None}}
SCREENS = {"none": {}, "byNA": {"dat_thresh": 0.9, "nonzero_thresh": 0.05},
           "byzeros": {"dat_thresh": 0.9, "nonzero_thresh": 0.05},
           "byNAandzeros": {"dat_thresh": 0.9, "nonzero_thresh": 0.05}}
TREATMENTS = {"none": {}, "winsorise": {"winmax": 5, "skew_thresh": 2.0, "kurt_thresh": 3.5,
                                        "force_win": False, "log_fallback": True}}


# Keys a spec may use at each level; anything else is a typo and an error (named).
TOP_KEYS = {"name", "title", "version", "effective_from", "illustrative", "disclaimer", "description", "reference",
            "missing",
            "defaults", "index", "stars", "groups", "indicators", "deductions", "measures", "impute", "screen",
            "treat", "derived_from"}
INDEX_KEYS = {"code", "name", "scale", "aggregation"}
DEFAULTS_KEYS = {"normalise", "aggregation"}
GROUP_KEYS = {"code", "name", "parent", "weight", "aggregation", "description"}
INDICATOR_KEYS = {"code", "name", "parent", "measures", "transform", "direction", "weight", "normalise", "treat",
                  "description"}
DEDUCTION_KEYS = {"measure", "name", "points", "target", "max_points"}
STAR_KEYS = {"rule", "thresholds", "shares"}


def _check_keys(src: str, where: str, mapping, allowed: set[str]) -> None:
    if not isinstance(mapping, dict):
        return
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise _fail(src, key, "unknown key (a typo?)", f"Allowed here: {', '.join(sorted(allowed))}.")


def _fail(source: str, key: str, rule: str, hint: str) -> InputError:
    return InputError(Problem(source, f"key '{key}': {rule}", hint))


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

    # ------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, spec: dict, source: str = "<spec>") -> "Method":
        return cls(spec, source)

    def derive(self, name: str | None = None, **changes) -> "Method":
        """A copy with top-level keys replaced (re-validated); records its parent method."""
        spec = copy.deepcopy(self.spec)
        spec.update(copy.deepcopy(changes))
        spec["name"] = name or f"{self.name}+derived"
        spec["derived_from"] = {"method": self.name, "hash": self.hash, "changes": sorted(changes)}
        return Method(spec, f"{self.source} (derived)")

    def with_weights(self, weights: dict[str, float], name: str | None = None) -> "Method":
        """Replace the weights of groups and/or indicators named in ``weights``."""
        spec = copy.deepcopy(self.spec)
        for section in ("groups", "indicators"):
            for item in spec[section]:
                if item["code"] in weights:
                    item["weight"] = float(weights[item["code"]])
        return self.derive(name or f"{self.name}+weights", groups=spec["groups"], indicators=spec["indicators"])

    def without(self, codes, name: str | None = None) -> "Method":
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

    def history_needed(self) -> int:
        """How many months before the scored month the transforms look back."""
        lags = [max(BASELINES[i.transform.get("baseline", "mom")]) for i in self.indicators
                if i.transform["type"] == "reduction"]
        return max(lags, default=0)

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


# ---------------------------------------------------------------- validation
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


def _with_defaults(value, table: dict) -> dict:
    """'minmax' or {'method': 'minmax', ...} -> dict with defaults filled (for transforms: key 'type')."""
    if isinstance(value, str):
        value = {"method": value}
    value = dict(value)
    key = "type" if "type" in value else "method"
    defaults = table.get(value[key], {})
    return {**defaults, **value}


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


def _check_step(src: str, key: str, value, table: dict) -> None:
    """Validate a pipeline step spec (impute / screen / treat) and its parameters."""
    if value is None or value is False:
        return
    _check_choice(src, key, value, table)
    spec = _with_defaults(value, table)
    extra = set(spec) - set(table[spec["method"]]) - {"method"}
    if extra:
        raise _fail(src, key, f"unknown parameters {sorted(extra)} for {spec['method']}",
                    f"Allowed: {sorted(table[spec['method']]) or 'none'}.")
    if spec["method"] == "group_mean" and not isinstance(spec.get("group"), str):
        raise _fail(src, f"{key}.group", "missing", "Name the unit attribute that defines the groups, e.g. town.")
    for k in ("dat_thresh", "nonzero_thresh"):
        if k in spec and not (isinstance(spec[k], (int, float)) and 0 <= spec[k] <= 1):
            raise _fail(src, f"{key}.{k}", f"{spec[k]!r} is not a number in [0, 1]", "E.g. 0.9.")
    if "winmax" in spec and spec["winmax"] is not None and not (
            isinstance(spec["winmax"], int) and not isinstance(spec["winmax"], bool) and spec["winmax"] >= 0):
        raise _fail(src, f"{key}.winmax", f"{spec['winmax']!r} is not a whole number >= 0",
                    "The most points winsorised per indicator, e.g. 5.")
    for k in ("skew_thresh", "kurt_thresh"):
        if k in spec and not isinstance(spec[k], (int, float)):
            raise _fail(src, f"{key}.{k}", f"{spec[k]!r} is not a number", "E.g. skew 2, kurtosis 3.5.")


def _validate(s: dict, src: str) -> None:
    if not isinstance(s, dict):
        raise _fail(src, "<top>", "the spec is not a mapping", "Write the spec as YAML keys (see methods/v1.yaml).")
    for key in ("name", "effective_from", "index", "stars", "groups", "indicators"):
        if key not in s:
            raise _fail(src, key, "missing", "Add it; see methods/v1.yaml for a complete spec.")
    _check_keys(src, "", s, TOP_KEYS)
    _check_keys(src, "index", s["index"], INDEX_KEYS)
    _check_keys(src, "defaults", s.get("defaults", {}), DEFAULTS_KEYS)
    _check_keys(src, "stars", s["stars"], STAR_KEYS)
    s["effective_from"] = parse_month(str(s["effective_from"]), f"{src}: key 'effective_from'")
    if s.get("missing", "fail") not in MISSING_POLICIES:
        raise _fail(src, "missing", f"'{s['missing']}' is not one of {MISSING_POLICIES}", "Pick one.")
    index = s["index"]
    root = index.get("code", "index") if isinstance(index, dict) else None
    if root is None:
        raise _fail(src, "index", "must be a mapping", "Give index: {code, name, scale}.")
    _check_choice(src, "index.scale", index.get("scale", "identity"), SCALINGS)
    _check_choice(src, "index.aggregation", index.get("aggregation", "arithmetic"), AGGREGATIONS)
    _check_choice(src, "defaults.normalise", s.get("defaults", {}).get("normalise", "minmax"), NORMALISATIONS)
    _check_choice(src, "defaults.aggregation", s.get("defaults", {}).get("aggregation", "arithmetic"), AGGREGATIONS)
    _check_step(src, "impute", s.get("impute"), IMPUTATIONS)
    _check_step(src, "screen", s.get("screen"), SCREENS)
    _check_step(src, "treat", s.get("treat"), TREATMENTS)
    codes: set[str] = {root}
    groups = s["groups"]
    if not isinstance(groups, list) or not groups:
        raise _fail(src, "groups", "must be a non-empty list", "List the categories with code, name and weight.")
    for n, g in enumerate(groups):
        where = f"groups[{n}]"
        _check_keys(src, where, g, GROUP_KEYS)
        _check_node(src, where, g, codes)
        _check_choice(src, f"{where}.aggregation", g.get("aggregation", "arithmetic"), AGGREGATIONS)
    group_codes = {g["code"] for g in groups} | {root}
    for n, g in enumerate(groups):
        parent = g.get("parent", root)
        if parent not in group_codes or parent == g["code"]:
            raise _fail(src, f"groups[{n}].parent", f"'{parent}' is not a group code", "Name an existing group.")
    _check_acyclic(src, groups, root)
    indicators = s["indicators"]
    if not isinstance(indicators, list) or not indicators:
        raise _fail(src, "indicators", "must be a non-empty list", "List the indicators.")
    for n, ind in enumerate(indicators):
        where = f"indicators[{n}]"
        _check_keys(src, where, ind, INDICATOR_KEYS)
        _check_node(src, where, ind, codes)
        if ind.get("parent") not in group_codes:
            raise _fail(src, f"{where}.parent", f"'{ind.get('parent')}' is not a group code",
                        "Set parent to one of the group codes.")
        _check_indicator(src, where, ind, s.get("measures"))
        own = ind.get("treat")
        if own is not None and own is not False:
            _check_step(src, f"{where}.treat", own if not isinstance(own, dict) or "method" in own
                        else {"method": "winsorise", **own}, TREATMENTS)
    parents = {i["parent"] for i in indicators} | {g.get("parent", root) for g in groups}
    for n, g in enumerate(groups):
        if g["code"] not in parents:
            raise _fail(src, f"groups[{n}]", f"group '{g['code']}' has no indicators or subgroups",
                        "Give it children or remove it.")
    for n, d in enumerate(s.get("deductions", [])):
        where = f"deductions[{n}]"
        _check_keys(src, where, d, DEDUCTION_KEYS)
        _check_measure(src, f"{where}.measure", d.get("measure"), s.get("measures"))
        if "max_points" in d and (isinstance(d["max_points"], bool) or not isinstance(d["max_points"], (int, float))
                                  or d["max_points"] < 0):
            raise _fail(src, f"{where}.max_points", f"{d['max_points']!r} is not a number >= 0",
                        "The most points this rule may deduct, e.g. 15.")
        if not isinstance(d.get("points"), (int, float)) or d["points"] < 0:
            raise _fail(src, f"{where}.points", "must be a number >= 0", "Points deducted per event.")
        if d.get("target") not in group_codes:
            raise _fail(src, f"{where}.target", f"'{d.get('target')}' is not a group code", "Name a group or the index.")
    _check_stars(src, s["stars"])


def _check_choice(src: str, key: str, value, table: dict) -> None:
    """``value`` is a method name or {method: name, **parameters}; the parameters must be the method's."""
    method = value if isinstance(value, str) else (value or {}).get("method")
    if method not in table:
        raise _fail(src, key, f"'{method}' is not one of {sorted(table)}", "Pick one of those.")
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(table[method]) - {"method"})
        if unknown:
            raise _fail(src, f"{key}.{unknown[0]}", f"unknown parameters {unknown} for {method} (a typo?)",
                        f"Allowed: {', '.join(sorted(table[method])) or 'none'}.")
        for param, given in value.items():
            if param != "method" and isinstance(table[method].get(param), float) and (
                    isinstance(given, bool) or not isinstance(given, (int, float))):
                raise _fail(src, f"{key}.{param}", f"{given!r} is not a number", "Give a number.")


def _check_node(src: str, where: str, node: dict, codes: set[str]) -> None:
    if not isinstance(node, dict) or not node.get("code"):
        raise _fail(src, f"{where}.code", "missing", "Give every node a unique ASCII code.")
    if node["code"] in codes:
        raise _fail(src, f"{where}.code", f"'{node['code']}' is used twice", "Codes must be unique.")
    codes.add(node["code"])
    w = node.get("weight", 1.0)
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
        raise _fail(src, f"{where}.weight", f"{w!r} is not a positive number",
                    "Weights must be > 0; remove a node rather than give it weight 0.")


def _check_measure(src: str, key: str, measure, extra) -> None:
    known = set(MEASURE_CODES) | set(extra or [])
    if measure not in known:
        raise _fail(src, key, f"unknown measure '{measure}'",
                    "Use a measure code from the raw data contract (README), e.g. fraud_alerts.")


def _check_indicator(src: str, where: str, ind: dict, extra_measures) -> None:
    tr = ind.get("transform")
    ttype = tr if isinstance(tr, str) else (tr or {}).get("type")
    if ttype not in TRANSFORMS:
        raise _fail(src, f"{where}.transform.type", f"'{ttype}' is not one of {sorted(TRANSFORMS)}", "Pick one.")
    if isinstance(tr, str):
        ind["transform"] = {"type": tr}
    roles, _ = TRANSFORMS[ttype]
    measures = ind.get("measures")
    if not isinstance(measures, dict):
        raise _fail(src, f"{where}.measures", "must map roles to measures",
                    f"For a {ttype} transform give: {', '.join(roles)}.")
    for role in roles:
        if role not in measures:
            raise _fail(src, f"{where}.measures.{role}", "missing", f"A {ttype} transform needs {role}.")
        _check_measure(src, f"{where}.measures.{role}", measures[role], extra_measures)
    t = ind["transform"]
    _check_keys(src, f"{where}.transform", t, set(TRANSFORMS[ttype][1]) | {"type"})
    if ttype == "reduction" and t.get("baseline", "yoy") not in BASELINES:
        raise _fail(src, f"{where}.transform.baseline", f"not one of {sorted(BASELINES)}", "Pick one.")
    for param, rule, ok in (("per", "a number > 0", lambda v: v > 0), ("floor", "a number > 0", lambda v: v > 0),
                            ("zero_total", "a number in [0, 1] or null", lambda v: 0 <= v <= 1)):
        if param in t and not (t[param] is None and param == "zero_total") and not (
                isinstance(t[param], (int, float)) and not isinstance(t[param], bool) and ok(t[param])):
            raise _fail(src, f"{where}.transform.{param}", f"{t[param]!r} is not {rule}", "Fix the value.")
    if "denominator" in t and not isinstance(t["denominator"], str):
        raise _fail(src, f"{where}.transform.denominator", "must name a column of units.csv", "E.g. population.")
    if ind.get("direction", 1) not in (1, -1):
        raise _fail(src, f"{where}.direction", "must be 1 (higher is better) or -1 (lower is better)", "Fix it.")
    norm = ind.get("normalise")
    if norm is not None:
        _check_choice(src, f"{where}.normalise", norm, NORMALISATIONS)
        if isinstance(norm, dict) and norm.get("method") == "goalposts":
            if not all(isinstance(norm.get(k), (int, float)) for k in ("worst", "best")) or norm["worst"] == norm["best"]:
                raise _fail(src, f"{where}.normalise", "goalposts need numeric, different 'worst' and 'best'",
                            "Give e.g. {method: goalposts, worst: 0.8, best: 1.0}.")
            if (norm["best"] > norm["worst"]) != (ind.get("direction", 1) == 1):
                raise _fail(src, f"{where}.normalise", "the goalposts point the other way than 'direction'",
                            "For direction 1 best > worst; for direction -1 best < worst.")


def _check_acyclic(src: str, groups: list[dict], root: str) -> None:
    parent = {g["code"]: g.get("parent", root) for g in groups}
    for code in parent:
        seen, node = set(), code
        while node != root:
            if node in seen:
                raise _fail(src, "groups", f"the parent chain of '{code}' loops", "Fix the parent keys.")
            seen.add(node)
            node = parent[node]


def _check_stars(src: str, stars: dict) -> None:
    rule = stars.get("rule") if isinstance(stars, dict) else None
    if rule not in STAR_RULES:
        raise _fail(src, "stars.rule", f"'{rule}' is not one of {STAR_RULES}", "Pick thresholds or shares.")
    if rule == "none":  # no star rating (e.g. a reference index such as COINr's ASEM example)
        return
    if rule == "thresholds":
        thr = stars.get("thresholds", {})
        vals = [thr.get(k) for k in (5, 4, 3, 2)]
        if any(not isinstance(v, (int, float)) for v in vals) or vals != sorted(vals, reverse=True):
            raise _fail(src, "stars.thresholds", "need numeric minimum index for 5, 4, 3 and 2 stars, descending",
                        "E.g. {5: 85, 4: 75, 3: 65, 2: 55}; below the 2-star minimum is 1 star.")
    else:
        shares = stars.get("shares", {})
        vals = [shares.get(k) for k in (5, 4, 3, 2, 1)]
        if any(not isinstance(v, (int, float)) or v < 0 for v in vals) or abs(sum(vals) - 1) > 1e-9:
            raise _fail(src, "stars.shares", "need a share for each of 5..1 stars, >= 0, summing to 1",
                        "E.g. {5: 0.1, 4: 0.2, 3: 0.4, 2: 0.2, 1: 0.1}.")


# ---------------------------------------------------------------- loading
def load_method(name_or_path: str | Path, methods_dir: Path | None = None) -> Method:
    """Load a spec by name (``v2`` -> methods/v2.yaml) or by path to a YAML file."""
    methods_dir = Path(methods_dir or METHODS_DIR)
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        path = methods_dir / f"{name_or_path}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in methods_dir.glob("*.yaml"))) or "none"
        raise InputError(Problem(str(path), f"method '{name_or_path}' not found",
                                 f"Use one of: {available}, or a path to a YAML spec."))
    stat = path.stat()
    try:
        spec = _parse_yaml(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    except yaml.YAMLError as exc:
        raise InputError(Problem(str(path), f"not valid YAML ({exc.__class__.__name__})", "Fix the YAML syntax."))
    return Method(spec, str(path), path)


@functools.lru_cache(maxsize=64)
def _parse_yaml(path: str, mtime_ns: int, size: int):
    """Parsed YAML of a spec file, cached per (path, modification time, size); Method deep-copies it."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)


def available_methods(methods_dir: Path | None = None) -> list[Method]:
    """Every spec in the methods folder, by effective month; two in force from the same month is an error."""
    methods_dir = Path(methods_dir or METHODS_DIR)
    methods = sorted((load_method(p) for p in sorted(methods_dir.glob("*.yaml"))),
                     key=lambda m: (month_number(m.effective_from), m.name))
    for a, b in zip(methods, methods[1:]):
        if a.effective_from == b.effective_from or a.name == b.name:
            clash = "effective_from" if a.effective_from == b.effective_from else "name"
            raise InputError(Problem(str(b.path), f"methods {a.name} ({a.path.name}) and {b.name} ({b.path.name}) "
                                     f"share {clash} {getattr(a, clash)}",
                                     "Each method needs its own name and effective month; move or edit one."))
    return methods


def method_for_month(month: str, methods_dir: Path | None = None) -> Method:
    """The method in force in ``month``: the latest whose effective_from is not after it."""
    methods = available_methods(methods_dir)
    in_force = [m for m in methods if month_number(m.effective_from) <= month_number(month)]
    if not in_force:
        first = methods[0] if methods else None
        hint = (f"The earliest method ({first.name}) is in force from {first.effective_from}; "
                f"pass --method {first.name} to score an earlier month under it.") if first else "Add a spec."
        raise InputError(Problem("--month", f"no method in force in {month}", hint))
    return in_force[-1]
