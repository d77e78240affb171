"""qyb.stats: statistics of counts, rates and proportions for the 平安晴雨表.

Pure functions, vectorised over units, no I/O.  Every interval carries the name of
its method.  Modules:

* :mod:`qyb.stats.intervals` -- Poisson (Garwood, Byar), Wilson and Clopper-Pearson intervals;
  ``poisson_ci``, ``wilson_ci``, ``rate_ci``, ``proportion_ci``.
* :mod:`qyb.stats.compare` -- two-period comparison: rate ratio with the Poisson-gamma mid-p
  interval and the exact Poisson one beside it, conditional binomial and E-test p-values, BH
  q-values, Chinese verdicts, baselines.
* :mod:`qyb.stats.ratio` -- the conditional beta-binomial (Poisson-gamma) test, mid-p interval and
  median-unbiased estimate of a rate ratio.
* :mod:`qyb.stats.dispersion` -- the Poisson-gamma (NB2) dispersion of a units x months panel.
* :mod:`qyb.stats.funnel` -- funnel limits (Spiegelhalter's interpolated Poisson quantiles by
  default; chi-square as FunnelPlotR), overdispersion (Spiegelhalter 2005) with a conditional
  Monte Carlo test valid at small counts, per-unit flags by an exact Poisson test.
* :mod:`qyb.stats.shrinkage` -- empirical-Bayes (Poisson-gamma) shrunken rates.
* :mod:`qyb.stats.trend` -- Theil-Sen slope and Mann-Kendall test, many series at once.
* :mod:`qyb.stats.control` -- u-chart, Laney u', special-cause rules (rare events not charted).
* :mod:`qyb.stats.rtm` -- regression-to-the-mean flags (rare events not flagged).
* :mod:`qyb.stats.its` -- interrupted time series (segmented quasi-Poisson regression with season,
  robust errors and a residual autocorrelation check).
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
from .control import CONTROL_MIN_EXPECTED, LANEY_U, NOT_CHARTED, U_CHART, special_cause_rules, u_chart
from .dispersion import NB_DISPERSION, DispersionFit, nb_dispersion
from .funnel import (
    DISPERSION_TESTS,
    FUNNEL_FLAGS,
    FUNNEL_LEVELS,
    FUNNEL_LIMIT_METHODS,
    FUNNEL_SEED,
    FunnelRates,
    OverdispersionResult,
    dispersion_test,
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
from .its import DEFAULT_INTERVENTION, ITS_ERRORS, MIN_POST_SLOPE, ITSResult, its_poisson
from .ratio import RATIO_METHOD_BB, RATIO_METHOD_POISSON_MIDP, betabinom_tails, rate_ratio_midp
from .rtm import RTM_MIN_EXPECTED, RTM_NOTES, rtm_flags
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
    "RATIO_METHOD_BB",
    "RATIO_METHOD_POISSON_MIDP",
    "betabinom_tails",
    "rate_ratio_midp",
    "NB_DISPERSION",
    "DispersionFit",
    "nb_dispersion",
    "DISPERSION_TESTS",
    "FUNNEL_SEED",
    "dispersion_test",
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
    "CONTROL_MIN_EXPECTED",
    "LANEY_U",
    "NOT_CHARTED",
    "U_CHART",
    "special_cause_rules",
    "u_chart",
    "DEFAULT_INTERVENTION",
    "ITS_ERRORS",
    "MIN_POST_SLOPE",
    "ITSResult",
    "its_poisson",
    "RTM_MIN_EXPECTED",
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
