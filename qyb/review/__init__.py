"""Method review (方法评估): what the weighting and other method choices do to the ranking.

* :mod:`~qyb.review.effective` -- nominal against effective weights;
* :mod:`~qyb.review.weights` -- data-driven weighting schemes (equal, entropy, CRITIC, std, PCA);
* :mod:`~qyb.review.schemes` -- those schemes applied to the category weights, and their ranks;
* :mod:`~qyb.review.montecarlo` -- Monte Carlo over method choices, Sobol' indices of the rank shift;
* :mod:`~qyb.review.sobol` -- Saltelli design and Sobol' estimators (generic);
* :mod:`~qyb.review.comparison` -- two methods or editions side by side, the method/data decomposition,
  leave one category out;
* :mod:`~qyb.review.coherence` -- correlations, Cronbach's alpha, PCA;
* :mod:`~qyb.review.reliability` -- fair stars: reliability, P(star = truth), P(keep star), interval coverage,
  size bias and responsiveness, by simulation from a truth (the sample's, or a fitted posterior);
* :mod:`~qyb.review.fairness` -- methods side by side on those figures (``tables/reliability.csv``), one
  unit's story, the frontier of reliability against responsiveness;
* :mod:`~qyb.review.display` -- the review's tables as a reader sees them (Chinese headers, no codes);
* :mod:`~qyb.review.summary` -- the whole review of a month (:func:`run_review`) and its readings.

Every function takes a validated panel and methods; nothing here reads or writes a file.
"""
from qyb.review.comparison import (
                                   LeaveOneOut,
                                   MethodComparison,
                                   compare_methods,
                                   compare_scorecards,
                                   decompose_rank_change,
                                   leave_one_out,
)
from qyb.review.fairness import FairnessReview, fairness_readings, fairness_review
from qyb.review.summary import TABLE_COLUMNS, MethodReview, readings, run_review

__all__ = ["MethodReview", "run_review", "readings", "TABLE_COLUMNS", "MethodComparison", "compare_methods",
           "compare_scorecards", "decompose_rank_change", "LeaveOneOut", "leave_one_out", "FairnessReview",
           "fairness_review", "fairness_readings"]
