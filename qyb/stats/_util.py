"""Small helpers shared by the ``qyb.stats`` modules (not public API)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as _st


def normalise_level(level: float) -> float:
    """Return a confidence level on (0, 1]; 95 or 99.8 (percent) are accepted.

    PHEindicatormethods accepts both spellings (conf >= 90 is divided by 100).
    """
    level = float(level)
    if 1.0 < level <= 100.0:
        level = level / 100.0
    if not 0.0 < level <= 1.0:
        raise ValueError(f"confidence level must be in (0, 1] or (1, 100] percent, got {level!r}")
    return level


def z_two_sided(level: float) -> float:
    """z = Phi^-1(level + (1 - level)/2), e.g. 0.95 -> 1.959964, 0.998 -> 3.090232 (PHE utils.R)."""
    level = normalise_level(level)
    return float(_st.norm.ppf(level + (1.0 - level) / 2.0))


def as_float_array(x) -> np.ndarray:
    """Array of float64 (pandas NA -> NaN)."""
    if isinstance(x, (pd.Series, pd.Index)):
        return x.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(x, dtype=float)


def index_of(*objs):
    """The index of the first pandas Series among ``objs`` (or None)."""
    for o in objs:
        if isinstance(o, pd.Series):
            return o.index
    return None


def wrap_like(template, values: np.ndarray):
    """Return ``values`` shaped like ``template``: float for a scalar, Series for a Series."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, name=template.name)
    if np.ndim(template) == 0:
        return float(values)
    return values
