"""Method specs: load a YAML spec, validate every key, describe it, derive variants.

* :mod:`qyb.method.options` -- the choices a spec may make and the keys allowed;
* :mod:`qyb.method.checks` -- validation, each failure naming file, key, rule and remedy;
* :mod:`qyb.method.spec` -- :class:`Method` (the validated spec: tree, weights, hash, derive);
* :mod:`qyb.method.load` -- by name or path, the method in force in a month.
"""
from qyb.method.load import available_methods, load_method, method_for_month, resolve_method
from qyb.method.options import (
                                AGGREGATIONS,
                                IMPUTATIONS,
                                MISSING_POLICIES,
                                NORMALISATIONS,
                                SCALINGS,
                                SCREENS,
                                STAR_RULES,
                                TRANSFORMS,
                                TREATMENTS,
)
from qyb.method.spec import Group, Indicator, Method
from qyb.paths import METHODS_DIR

__all__ = ["Method", "Group", "Indicator", "load_method", "available_methods", "method_for_month",
           "resolve_method", "METHODS_DIR", "TRANSFORMS", "NORMALISATIONS", "AGGREGATIONS", "SCALINGS",
           "STAR_RULES", "MISSING_POLICIES", "IMPUTATIONS", "SCREENS", "TREATMENTS"]
