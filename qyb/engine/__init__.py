"""The scoring engine: arrays in, arrays out; no file is read or written here.

Flow of one month: indicator values (:mod:`~qyb.engine.transforms`: rates,
压降率, attainment) -> data steps (:mod:`~qyb.engine.steps`: impute, screen,
treat) -> normalisation (:mod:`~qyb.engine.normalise`) -> aggregation up the
method's tree (:mod:`~qyb.engine.aggregate`) with 扣分
(:mod:`~qyb.engine.deductions`) -> index scale, ranks and stars
(:mod:`~qyb.engine.ranks`). :mod:`~qyb.engine.score` runs the chain on
``(..., units, indicators)`` arrays (any leading axes: months, towns, draws);
:mod:`~qyb.engine.table` scores months of a :class:`~qyb.data.Panel` within
each town and builds the scorecard.
"""
from qyb.engine.deductions import apply_deductions, deduction_counts, rule_points
from qyb.engine.normalise import scale_index
from qyb.engine.ranks import (
    RANK_DECIMALS,
    assign_stars,
    rank_asc,
    rank_desc,
    stars_by_band,
    stars_by_share,
    stars_by_threshold,
)
from qyb.engine.score import Scores, score_values
from qyb.engine.table import PanelInputs, ScoreTable, score_panel
from qyb.engine.transforms import indicator_values

__all__ = ["Scores", "score_values", "ScoreTable", "score_panel", "PanelInputs", "indicator_values",
           "rank_desc", "rank_asc", "assign_stars", "scale_index", "stars_by_share", "stars_by_threshold", "RANK_DECIMALS",
           "apply_deductions", "rule_points"]
__all__ += ["stars_by_band", "deduction_counts"]  # noise-robust options (issue 9)
