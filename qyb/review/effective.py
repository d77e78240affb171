"""Nominal against effective weights: how much each category actually moves the index.

Paruolo, Saisana & Saltelli 2013 (*JRSS A* 176:609); OECD/JRC *Handbook on
Constructing Composite Indicators* 2008, Step 6.
"""
from __future__ import annotations

import pandas as pd

from qyb.data.months import month_range
from qyb.data.panel import Panel
from qyb.method import Method
from qyb.review import coherence
from qyb.review.common import scored

__all__ = ["WEIGHTS_COLUMNS", "category_weights", "effective_weights", "effective_weights_from_table",
           "weights_table"]

#: columns of ``tables/weights.csv``
WEIGHTS_COLUMNS = ["scheme", "category", "weight"]


def category_weights(method: Method) -> pd.Series:
    """Nominal category weights normalised to sum 1 (``w_c / Σ w``), indexed by category code."""
    w = pd.Series({g.code: g.weight for g in method.categories}, dtype=float)
    return w / w.sum()


# ---------------------------------------------------------------- 1. effective weights
def effective_weights(panel: Panel, method: Method, first: str, last: str | None = None) -> pd.DataFrame:
    """Nominal vs effective weight of each category over ``first..last`` (units × months pooled).

    Per category ``c`` (see :func:`qyb.review.coherence.correlation_weights`):
    ``r2 = corr(x_c, index)²`` and ``eta2 = Var(E[index | x_c]) / Var(index)``
    (the first-order variance-based index, correlation ratio), each also as a
    share of their sum, beside ``nominal = w_c / Σ w``. Source: Paruolo,
    Saisana & Saltelli 2013 (*JRSS A* 176:609); OECD/JRC Handbook 2008 §6.
    Returns ``category, category_name, nominal, r, r2, r2_share, eta2,
    eta2_share, n`` (``n`` = unit-months pooled).
    """
    months = month_range(first, last or first)
    return effective_weights_from_table(scored(panel, method, months[0], months[-1]), months)


def effective_weights_from_table(table, months: list[str]) -> pd.DataFrame:
    m = table.method
    rows = [table.months.index(mo) for mo in months]
    cats = table.scores.category_scores()[rows].reshape(-1, len(m.categories))
    index = table.scores.index[rows].reshape(-1)
    codes = [g.code for g in m.categories]
    X = pd.DataFrame(cats, columns=codes)
    out = coherence.correlation_weights(X, index, category_weights(m))
    out = out.rename(columns={"child": "category"})
    out.insert(1, "category_name", [g.name for g in m.categories])
    out["n"] = len(X)
    return out


def weights_table(method: Method, effective: pd.DataFrame, schemes: pd.DataFrame | None = None) -> pd.DataFrame:
    """``weights.csv``: ``scheme, category, weight`` for nominal, effective (r² and η² shares) and every scheme."""
    nominal = category_weights(method)
    frames = [pd.DataFrame({"scheme": "nominal", "category": nominal.index, "weight": nominal.to_numpy()}),
              pd.DataFrame({"scheme": "effective_r2", "category": effective["category"],
                            "weight": effective["r2_share"]}),
              pd.DataFrame({"scheme": "effective_eta2", "category": effective["category"],
                            "weight": effective["eta2_share"]})]
    if schemes is not None:
        frames.append(schemes[["scheme", "category", "weight"]])
    return pd.concat(frames, ignore_index=True)[WEIGHTS_COLUMNS]
