"""Is a movement real? Verdicts on count indicators and rank intervals, on a validated panel.

* :mod:`~qyb.movements.tables` -- per-unit rate ratios, intervals, p/q values and verdicts for
  each count indicator and baseline; the frames behind the funnel plot, control charts and the
  interrupted time series;
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
    counts_frame,
    display_movements,
    funnel_frame,
    its_fit,
    movements_all,
    movements_table,
    summary_text,
    verdict_counts,
)

__all__ = [
    "movements_table", "movements_all", "baseline_months", "verdict_counts", "display_movements", "summary_text",
    "FunnelFrame", "funnel_frame", "control_frame", "its_fit", "counts_frame",
    "rank_intervals", "rank_draws", "rank_jumps", "rank_summary_text", "DEFAULT_SEED",
    "BASELINES", "BASELINE_NAMES", "COUNT_INDICATORS", "MOVEMENT_COLUMNS",
]
