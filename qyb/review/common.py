"""Small helpers the review modules share: a method by name, a scored table from the panel."""
from __future__ import annotations

from qyb.data.months import month_range
from qyb.data.panel import Panel
from qyb.engine import ScoreTable, score_panel
from qyb.method import Method, load_method

__all__ = ["as_method", "scored"]


def as_method(m: str | Method) -> Method:
    """``m`` itself, or the spec it names."""
    return m if isinstance(m, Method) else load_method(m)


def scored(panel: Panel, method: Method, first: str, last: str | None = None) -> ScoreTable:
    """Scores of ``first..last`` (default just ``first``) under ``method``, from ``panel`` (no re-reading)."""
    return score_panel(panel, method, month_range(first, last or first))
