"""Month-level entry points that analysts, notebooks and the command line share.

``scorecard_for(month, method, data_dir)`` loads only the months the method
needs, scores, and adds the previous month's *published* rank (under the
method that was in force then), which is what a ranking list shows as
movement when the method changed between editions (e.g. 2023-02 under v1 ->
2023-03 under v2).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from qyb.errors import InputError
from qyb.data.panel import Panel, load_panel, require_month
from qyb.method import Method, load_method, method_for_month
from qyb.data.months import add_months, month_range, parse_month
from qyb.paths import DATA_RAW
from qyb.engine import ScoreTable, score_panel


def resolve_method(month: str, method: str | Method | None) -> Method:
    """The named method, or the one in force in ``month``."""
    if isinstance(method, Method):
        return method
    return load_method(method) if method else method_for_month(month)


def load_for_months(data_dir: Path | str | None, first: str, last: str, method: Method,
                    extra_back: int = 1) -> Panel:
    """Validated panel with the months ``first..last`` plus the history the method looks back to."""
    data_dir = Path(data_dir) if data_dir else DATA_RAW
    start = add_months(first, -(method.history_needed() + extra_back))
    return load_panel(data_dir, month_range(start, last), allow_blank=method.missing != "fail")


def score_table(month: str, method: str | Method | None = None, data_dir: Path | str | None = None,
                first: str | None = None) -> tuple[ScoreTable, Panel]:
    """Score ``first..month`` (default: just ``month``) under one method; returns the table and the panel."""
    month = parse_month(month)
    first = parse_month(first) if first else month
    m = resolve_method(month, method)
    data_dir = Path(data_dir) if data_dir else DATA_RAW
    require_month(data_dir, month)
    panel = load_for_months(data_dir, first, month, m)
    return score_panel(panel, m, month_range(first, month)), panel


def scorecard_for(month: str, method: str | Method | None = None,
                  data_dir: Path | str | None = None) -> pd.DataFrame:
    """The scorecard of ``month`` with ``rank_prev`` (same method) and the published previous rank."""
    table, panel = score_table(month, method, data_dir)
    card = table.scorecard(month)
    return add_published_previous(card, panel, month, table.method)


def add_published_previous(card: pd.DataFrame, panel: Panel, month: str, method: Method) -> pd.DataFrame:
    """Add ``rank_prev_published`` / ``method_prev_published``: last month's rank under the method then in force.

    Equals ``rank_prev`` when the method did not change; empty when there is no
    previous month or no method was in force.
    """
    prev = add_months(month, -1)
    card = card.copy()
    try:
        prev_method = method_for_month(prev)
    except InputError:
        prev_method = None
    if prev_method is None or prev not in panel.months:
        card["rank_prev_published"] = pd.array([pd.NA] * len(card), dtype="Int64")
        card["method_prev_published"] = ""
        return card
    if prev_method.hash == method.hash:
        card["rank_prev_published"] = card["rank_prev"]
    else:
        try:
            prev_panel = load_for_months(panel.data_dir, prev, prev, prev_method, extra_back=0)
            prev_card = score_panel(prev_panel, prev_method, [prev]).scorecard(prev).set_index("unit_id")
        except InputError:  # last month cannot be scored as published: this month's card is still valid
            card["rank_prev_published"] = pd.array([pd.NA] * len(card), dtype="Int64")
            card["method_prev_published"] = prev_method.name
            return card
        card["rank_prev_published"] = pd.array(card["unit_id"].map(prev_card["rank"]), dtype="Int64")
    card["method_prev_published"] = prev_method.name
    return card
