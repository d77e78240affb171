"""Is a movement real? Verdicts on count indicators and rank intervals, on a validated panel.

* :mod:`~qyb.movements.tables` -- per-unit rate ratios, intervals, p/q values and verdicts for
  each count indicator and baseline (overdispersion allowed for, judged against the unit's
  long-run level, one family of q-values per month); the frames behind the funnel plot, control
  charts and the interrupted time series, and the Chinese display tables of notebook 02;
* :mod:`~qyb.movements.intervals` -- rank intervals by resampling the month's counts through the
  full scoring method.

Thin glue between :class:`qyb.data.Panel` and :mod:`qyb.stats`; nothing here reads or writes a file.
"""
from qyb.movements.intervals import DEFAULT_SEED, rank_draws, rank_intervals, rank_jumps, rank_summary_text
from qyb.movements.tables import (
    BASELINE_NAMES,
    BASELINES,
    COUNT_INDICATORS,
    MOVEMENT_COLUMNS,
    FunnelFrame,
    baseline_months,
    control_frame,
    control_note,
    counts_frame,
    display_funnel_flags,
    display_movements,
    display_rank_intervals,
    display_verdict_counts,
    funnel_frame,
    funnel_text,
    its_fit,
    its_table,
    its_text,
    movements_all,
    movements_table,
    summary_text,
    verdict_counts,
)

__all__ = [
    "movements_table", "movements_all", "baseline_months", "verdict_counts", "display_movements", "summary_text",
    "display_verdict_counts", "display_funnel_flags", "funnel_text", "display_rank_intervals",
    "FunnelFrame", "funnel_frame", "control_frame", "control_note", "its_fit", "its_table", "its_text",
    "counts_frame", "rank_intervals", "rank_draws", "rank_jumps", "rank_summary_text", "DEFAULT_SEED",
    "BASELINES", "BASELINE_NAMES", "COUNT_INDICATORS", "MOVEMENT_COLUMNS",
]
