"""Charts with Chinese labels in the bundled CJK font: :mod:`~qyb.plots.base` (house style, saving),
:mod:`~qyb.plots.ranking` (榜单, 体检表), :mod:`~qyb.plots.movements` (funnel, control charts, ITS, rank
intervals), :mod:`~qyb.plots.review` (method review)."""
from qyb.plots.base import (
                            DISPLAY_DPI,
                            DPI,
                            FONT_FAMILY,
                            FONT_PATH,
                            STAR_COLOURS,
                            mark_sample,
                            save_figure,
                            stars_text,
                            use_cjk_font,
                            zh_label,
)
from qyb.plots.fairness import coverage_bars, frontier_chart
from qyb.plots.movements import caterpillar, control_small_multiples, funnel_plot, its_plot
from qyb.plots.ranking import (
    category_heatmap,
    index_history,
    rank_bump,
    ranking_bar,
    star_distribution,
    unit_profile,
    weather_calendar,
)
from qyb.plots.review import decomposition_bar, leave_one_out_bar, rank_uncertainty, sobol_bar, weights_compare

__all__ = ["FONT_PATH", "FONT_FAMILY", "STAR_COLOURS", "DPI", "DISPLAY_DPI", "use_cjk_font", "save_figure",
           "stars_text", "zh_label", "mark_sample", "ranking_bar", "rank_bump", "category_heatmap",
           "star_distribution", "unit_profile", "index_history", "funnel_plot", "control_small_multiples",
           "its_plot", "caterpillar", "rank_uncertainty", "sobol_bar", "weights_compare", "decomposition_bar",
           "leave_one_out_bar", "weather_calendar"]
__all__ += ["coverage_bars", "frontier_chart"]  # fairness (issue 9)
