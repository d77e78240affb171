"""Validation of a parsed method spec: every key known, every value in range, the tree well formed.

Each failure is an :class:`qyb.errors.InputError` naming the spec file, the key
(``indicators[3].transform.baseline``), the rule broken and what to do.
"""
from __future__ import annotations

import functools
import json
import re

import numpy as np

from qyb.data.catalogue import load_catalogue, suggest
from qyb.data.months import parse_month
from qyb.data.yamlfile import non_finite
from qyb.errors import InputError, Problem
from qyb.method.options import (
    AGGREGATIONS,
    CAPPED_TRANSFORMS,
    DEDUCTION_KEYS,
    DEFAULTS_KEYS,
    GROUP_KEYS,
    IMPUTATIONS,
    INDEX_KEYS,
    INDICATOR_KEYS,
    MISSING_POLICIES,
    NORMALISATIONS,
    SCALINGS,
    SCREENS,
    SHRINKAGES,
    STAR_KEYS,
    STAR_RULES,
    TOP_KEYS,
    TRANSFORMS,
    TREATMENTS,
    _with_defaults,
)
from qyb.method.windows import REDUCTION_BASELINES


def _check_keys(src: str, where: str, mapping, allowed: set[str]) -> None:
    if not isinstance(mapping, dict):
        return
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        raise _fail(src, key, "unknown key (a typo?)", f"Allowed here: {', '.join(sorted(allowed))}.")


def _fail(source: str, key: str, rule: str, hint: str) -> InputError:
    return InputError(Problem(source, f"key '{key}': {rule}", hint))



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


def _check_bands(src: str, bands) -> None:
    """``bands: {5: a, 4: b, 2: c, 1: d}``: index points above (5, 4) or below (2, 1) the town median,
    ``a >= b >= 0 >= c >= d``... given as positive distances: 5 and 4 above, 2 and 1 below."""
    vals = [bands.get(k) for k in (5, 4, 2, 1)] if isinstance(bands, dict) else [None]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0 for v in vals) \
            or vals[0] < vals[1] or vals[3] < vals[2]:
        raise _fail(src, "stars.bands", "need index points from the town median for 5, 4, 2 and 1 stars: positive "
                    "numbers with 5 >= 4 and 1 >= 2",
                    "E.g. {5: 5, 4: 2, 2: 2, 1: 5}: 5 stars at least 5 points above the median, 4 stars at least "
                    "2 above, 2 stars at least 2 below, 1 star at least 5 below, 3 stars in between.")


def _check_deduction_window(src: str, where: str, rule: dict, rules: list) -> None:
    """``window`` of a 扣分 rule: a whole number of months 1-24; rules on one measure share it."""
    w = rule.get("window", 1)
    if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WINDOW:
        raise _fail(src, f"{where}.window", f"{w!r} is not a whole number of months from 1 to {MAX_WINDOW}",
                    "E.g. window: 12 deducts the mean events per month of the last 12 months.")
    others = {r.get("window", 1) for r in rules if isinstance(r, dict) and r.get("measure") == rule.get("measure")}
    if len(others) > 1:
        raise _fail(src, f"{where}.window", f"rules on {rule.get('measure')} use different windows {sorted(others)}",
                    "Give every rule on one measure the same window.")


def _check_robust_transform(src: str, key: str, t: dict) -> None:
    """The noise-robust transform options: ``window`` (months pooled, 1-24), ``shrink`` (none | eb),
    ``bound`` (a 压降率 clipped to [-bound, bound] before normalisation; null = unbounded)."""
    if "window" in t:
        w = t["window"]
        if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WINDOW:
            raise _fail(src, f"{key}.window", f"{w!r} is not a whole number of months from 1 to {MAX_WINDOW}",
                        "E.g. window: 3 pools the month with the two before it (rare events: 12).")
    if "shrink" in t and t["shrink"] not in SHRINKAGES:
        raise _fail(src, f"{key}.shrink", f"{t['shrink']!r} is not one of {list(SHRINKAGES)}",
                    "eb: empirical-Bayes shrinkage toward the pooled rate; none: the crude rate.")
    if t.get("bound") is not None and (isinstance(t["bound"], bool) or not isinstance(t["bound"], (int, float))
                                       or not 0 < t["bound"] <= 100):
        raise _fail(src, f"{key}.bound", f"{t['bound']!r} is not a number in (0, 100] or null",
                    "E.g. bound: 1 keeps every 压降率 within -100 % .. +100 % before normalisation.")


#: the longest pooled window a transform may ask for (months)
MAX_WINDOW = 24


#: the most groups and indicators a spec may have (a town's scheme has tens; a spec of 50,000 is refused at once)
MAX_GROUPS = 500
MAX_INDICATORS = 2000
#: the range of a weight: smaller is "remove the node" (a denormal weight such as 5e-324 divides to nothing),
#: larger is a typo
WEIGHT_RANGE = (1e-6, 1e6)
#: the longest name or title a spec may give (characters); descriptions may be longer
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 5000
#: a spec's ``name``: an identifier (it names output files); derived methods add ``+scheme`` parts
NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
DERIVED_NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+-]{0,199}$")


def _check_numbers(src: str, where: str, value, depth: int = 0) -> None:
    """Every number anywhere in the spec is finite (YAML's ``.inf`` and ``.nan`` are floats) and every
    integer within 2**53; every text within :data:`MAX_TEXT_CHARS`; nesting at most 20 levels."""
    if depth > 20:
        raise _fail(src, where or "<top>", "nested more than 20 levels deep", "A spec is a few levels deep; check "
                    "the indentation.")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_numbers(src, f"{where}.{k}" if where else str(k), v, depth + 1)
    elif isinstance(value, list):
        for n, v in enumerate(value):
            _check_numbers(src, f"{where}[{n}]", v, depth + 1)
    elif non_finite(value):
        raise _fail(src, where, f"{value!r} is not a finite number within ±2**53",
                    "Give an ordinary number (not .inf, .nan or a number beyond 2**53).")
    elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        raise _fail(src, where, f"the text is {len(value):,} characters long (at most {MAX_TEXT_CHARS:,})",
                    "Shorten it.")


def _check_name(src: str, s: dict) -> None:
    """``name`` is an identifier (letters, digits, ``_``, ``-``): it names output files
    (``scorecard_<name>.csv``), so it may hold no path (``x/../../tmp``)."""
    name = s["name"]
    if isinstance(name, int) and not isinstance(name, bool):
        name = s["name"] = str(name)
    rule = DERIVED_NAME_RULE if s.get("derived_from") else NAME_RULE
    if not isinstance(name, str) or not rule.match(name):
        raise _fail(src, "name", f"{name!r} is not an identifier: use letters, digits, '_' and '-' (at most 64, "
                    "starting with a letter or digit)", "E.g. name: v4 (the name is part of output file names).")
    for key in ("title",):
        if key in s and (not isinstance(s[key], str) or len(s[key]) > MAX_NAME_CHARS):
            raise _fail(src, key, f"must be a text of at most {MAX_NAME_CHARS} characters", "Shorten it.")


def _validate(s: dict, src: str) -> None:
    if not isinstance(s, dict):
        raise _fail(src, "<top>", "the spec is not a mapping", "Write the spec as YAML keys (see methods/v1.yaml).")
    for key in ("name", "effective_from", "index", "stars", "groups", "indicators"):
        if key not in s:
            raise _fail(src, key, "missing", "Add it; see methods/v1.yaml for a complete spec.")
    for key, most in (("groups", MAX_GROUPS), ("indicators", MAX_INDICATORS)):
        if isinstance(s[key], list) and len(s[key]) > most:
            raise _fail(src, key, f"{len(s[key]):,} entries: more than any scheme qyb scores (at most {most:,})",
                        "Check that this is the right file.")
    _check_numbers(src, "", s)
    _check_keys(src, "", s, TOP_KEYS)
    _check_name(src, s)
    _check_keys(src, "index", s["index"], INDEX_KEYS)
    _check_keys(src, "defaults", s.get("defaults", {}), DEFAULTS_KEYS)
    _check_keys(src, "stars", s["stars"], STAR_KEYS)
    if s.get("measures") is not None:  # measures the spec adds to the catalogue (or overrides): checked there
        load_catalogue(None, s["measures"], src)
    s["effective_from"] = parse_month(str(s["effective_from"]), f"{src}: key 'effective_from'")
    if not isinstance(s.get("candidate", False), bool):
        raise _fail(src, "candidate", f"{s['candidate']!r} is not true or false",
                    "candidate: true keeps a proposed method out of force; leave it out otherwise.")
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
        _check_deduction_window(src, where, d, s.get("deductions", []))
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
    _check_bounds(src, key, _with_defaults(value, table) if isinstance(value, (str, dict)) else {})


def _check_bounds(src: str, key: str, spec: dict) -> None:
    """The ranges of a scale, normalisation or aggregation: ``low < high`` (affine and min-max scales,
    min-max normalisation), ``sd > 0`` (z-scores), ``scale > 0`` (goalposts), ``floor > 0`` (geometric mean)."""
    method = spec.get("method")
    low, high = spec.get("low"), spec.get("high")
    if method in ("affine", "minmax") and isinstance(low, (int, float)) and isinstance(high, (int, float)) \
            and not low < high:
        raise _fail(src, key, f"low ({low!r}) must be below high ({high!r})", "E.g. {method: affine, low: 60, high: 100}.")
    for param, what in (("sd", "the standard deviation"), ("scale", "the scale"), ("floor", "the floor")):
        value = spec.get(param)
        if param in spec and value is not None and not isinstance(value, bool) and isinstance(value, (int, float)) \
                and not value > 0:
            raise _fail(src, f"{key}.{param}", f"{value!r}: {what} must be > 0", "Give a positive number.")


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
    lo, hi = WEIGHT_RANGE
    if not lo <= w <= hi:
        raise _fail(src, f"{where}.weight", f"{w!r} is outside the range of weights ({lo:g} to {hi:g})",
                    "Weights are relative within a parent (e.g. 20, 15, 10); remove a node rather than give it a "
                    "vanishing weight.")
    for key in ("name",):
        if key in node and (not isinstance(node[key], str) or len(node[key]) > MAX_NAME_CHARS):
            raise _fail(src, f"{where}.{key}", f"must be a text of at most {MAX_NAME_CHARS} characters",
                        "Give the Chinese name shown in reports.")


@functools.lru_cache(maxsize=64)
def _catalogue_codes(extra_json: str, src: str) -> tuple[str, ...]:
    return load_catalogue(None, json.loads(extra_json) if extra_json else None, src).codes


def _check_measure(src: str, key: str, measure, extra) -> None:
    known = _catalogue_codes(json.dumps(extra, sort_keys=True, ensure_ascii=False, default=str) if extra else "", src)
    if measure not in known:
        close = suggest(str(measure), known)
        raise _fail(src, key, f"unknown measure '{measure}'" + (f" (did you mean {', '.join(close)}?)" if close else ""),
                    "Use a measure code of the catalogue (README, raw data contract), e.g. fraud_alerts, or declare "
                    "it in the spec's `measures:` list.")


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
    _check_keys(src, f"{where}.transform", t, set(TRANSFORMS[ttype][1]) | {"type"}
                | ({"cap"} if ttype in CAPPED_TRANSFORMS else set()))
    for param in ("cap", "offset"):
        value = t.get(param)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or value != value or abs(value) == float("inf")):
            raise _fail(src, f"{where}.transform.{param}", f"{value!r} is not a finite number", "Fix the value.")
    if ttype == "log" and t.get("cap") is not None and t["cap"] + t.get("offset", 0.0) <= 0:
        raise _fail(src, f"{where}.transform.cap", "ln(cap + offset) is not defined", "Give a cap above -offset.")
    if ttype == "reduction" and t.get("baseline", "yoy") not in REDUCTION_BASELINES:
        raise _fail(src, f"{where}.transform.baseline", f"not one of {sorted(REDUCTION_BASELINES)}", "Pick one.")
    _check_robust_transform(src, f"{where}.transform", t)
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
    if rule == "bands":
        _check_bands(src, stars.get("bands"))
    elif rule == "thresholds":
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


