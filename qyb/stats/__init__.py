"""qyb.stats: statistics of counts, rates and proportions for the 平安晴雨表.

Pure functions, vectorised over units, no I/O.  Every interval carries the name of
its method.  Modules:

* :mod:`qyb.stats.intervals` -- Poisson (Garwood, Byar), Wilson and Clopper-Pearson intervals.
"""
from __future__ import annotations

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
