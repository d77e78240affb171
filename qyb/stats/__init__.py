"""qyb.stats: statistics of counts, rates and proportions for the 平安晴雨表.

Pure functions, vectorised over units, no I/O.  Every interval carries the name of
its method.  Modules:

* :mod:`qyb.stats.intervals` -- Poisson (Garwood, Byar), Wilson and Clopper-Pearson intervals;
  ``poisson_ci``, ``wilson_ci``, ``rate_ci``, ``proportion_ci``.
* :mod:`qyb.stats.compare` -- two-period comparison: rate ratio with exact conditional
  interval, conditional binomial and E-test p-values, BH q-values, Chinese verdicts, baselines.
* :mod:`qyb.stats.funnel` -- funnel limits (Spiegelhalter's interpolated Poisson quantiles by
  default; chi-square as FunnelPlotR), overdispersion (Spiegelhalter 2005), per-unit flags by an
  exact Poisson test; PHEindicatormethods / FunnelPlotR re-implementations.
* :mod:`qyb.stats.shrinkage` -- empirical-Bayes (Poisson-gamma) shrunken rates.
* :mod:`qyb.stats.trend` -- Theil-Sen slope and Mann-Kendall test, many series at once.
* :mod:`qyb.stats.control` -- u-chart, Laney u', special-cause rules.
* :mod:`qyb.stats.rtm` -- regression-to-the-mean flags.
* :mod:`qyb.stats.its` -- interrupted time series (segmented quasi-Poisson regression).
"""
from __future__ import annotations

from .compare import (
    DEFAULT_BAND,
    RR_METHOD,
    VERDICTS,
    baseline_counts,
    bh_qvalues,
    binom_test_pvalue,
    compare_baseline,
    compare_counts,
    etest_pvalue,
    verdict,
)
from .control import LANEY_U, U_CHART, special_cause_rules, u_chart
from .funnel import (
    FUNNEL_FLAGS,
    FUNNEL_LEVELS,
    FUNNEL_LIMIT_METHODS,
    FunnelRates,
    OverdispersionResult,
    funnel_limits,
    funnel_rates,
    overdispersion,
    poisson_funnel_quantile,
)
from .intervals import (
    BYAR,
    CLOPPER_PEARSON,
    EXACT_POISSON,
    PHE_EXACT_BELOW,
    WILSON,
    byar_ci,
    clopper_pearson_ci,
    exact_poisson_ci,
    poisson_ci,
    proportion_ci,
    rate_ci,
    wilson_ci,
)
from .its import DEFAULT_INTERVENTION, MIN_POST_SLOPE, ITSResult, its_poisson
from .rtm import RTM_NOTES, rtm_flags
from .shrinkage import EB_METHOD, EBRates, eb_rates
from .trend import MANN_KENDALL, THEIL_SEN, kendall_exact_pvalue, trend

__all__ = [
    "DEFAULT_BAND",
    "RR_METHOD",
    "VERDICTS",
    "baseline_counts",
    "bh_qvalues",
    "binom_test_pvalue",
    "compare_baseline",
    "compare_counts",
    "etest_pvalue",
    "verdict",
    "FUNNEL_FLAGS",
    "FUNNEL_LEVELS",
    "FUNNEL_LIMIT_METHODS",
    "FunnelRates",
    "OverdispersionResult",
    "funnel_limits",
    "funnel_rates",
    "overdispersion",
    "poisson_funnel_quantile",
    "BYAR",
    "CLOPPER_PEARSON",
    "EXACT_POISSON",
    "PHE_EXACT_BELOW",
    "WILSON",
    "byar_ci",
    "clopper_pearson_ci",
    "exact_poisson_ci",
    "poisson_ci",
    "proportion_ci",
    "rate_ci",
    "wilson_ci",
    "LANEY_U",
    "U_CHART",
    "special_cause_rules",
    "u_chart",
    "DEFAULT_INTERVENTION",
    "MIN_POST_SLOPE",
    "ITSResult",
    "its_poisson",
    "RTM_NOTES",
    "rtm_flags",
    "EB_METHOD",
    "EBRates",
    "eb_rates",
    "MANN_KENDALL",
    "THEIL_SEN",
    "kendall_exact_pvalue",
    "trend",
]
