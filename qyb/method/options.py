"""The choices a method spec may make: transforms, normalisations, aggregations, scalings, star rules,
data steps, and the keys allowed at each level of a spec (anything else is a typo and an error)."""
from __future__ import annotations

TRANSFORMS = {
    # type: (required measure roles, optional parameters with defaults)
    "value": (("value",), {}),
    "count": (("value",), {}),
    "rate": (("value",), {"per": 10000, "denominator": "population"}),
    "reduction": (("value",), {"baseline": "yoy", "floor": 1.0}),
    "attainment": (("handled", "total"), {"zero_total": 1.0}),
    "log": (("value",), {"offset": 0.0}),  # ln(min(x, cap) + offset): UNDP's income index takes ln GNI
}
#: transforms that take an optional ``cap`` (``min(x, cap)`` before anything else, as UNDP caps expected years
#: of schooling at 18 and GNI per capita at 75,000)
CAPPED_TRANSFORMS = ("value", "count", "rate", "log")
# Noise-robust transform options (issue 9), added to the types above: pool ``window`` months, shrink
# rates toward the pooled rate of the units scored together (empirical Bayes), bound a 压降率.
ROBUST_TRANSFORM_PARAMS = {
    "count": {"window": 1, "shrink": "none"},
    "rate": {"window": 1, "shrink": "none"},
    "reduction": {"window": 1, "bound": None},
    "attainment": {"window": 1},
}
for _type, _params in ROBUST_TRANSFORM_PARAMS.items():
    TRANSFORMS[_type][1].update(_params)
SHRINKAGES = ("none", "eb")
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


# Noise-robust star rule and 扣分 option (issue 9): ``bands`` gives stars by the index's distance from the
# town median (units that cannot be told apart from the middle share 3 stars); a 扣分 rule may count the
# events of a ``window`` of months (mean per month), so one death is not the whole month's story.
STAR_RULES = (*STAR_RULES, "bands")
STAR_KEYS = STAR_KEYS | {"bands"}
DEDUCTION_KEYS = DEDUCTION_KEYS | {"window"}
# ``candidate: true`` marks a method proposed for review, never in force by its effective month
TOP_KEYS = TOP_KEYS | {"candidate"}


def _with_defaults(value, table: dict) -> dict:
    """'minmax' or {'method': 'minmax', ...} -> dict with defaults filled (for transforms: key 'type')."""
    if isinstance(value, str):
        value = {"method": value}
    value = dict(value)
    key = "type" if "type" in value else "method"
    defaults = table.get(value[key], {})
    return {**defaults, **value}
