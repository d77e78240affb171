"""The synthetic sample (示例数据) and the models that draw months of raw figures.

* :mod:`~qyb.sample.build` -- writes the sample data set (``python -m qyb.sample``), byte-identical for a seed;
* :mod:`~qyb.sample.truth` -- the sample's truth: the expected figure of every measure, unit and month
  before chance, and the true index, rank and stars of any method;
* :mod:`~qyb.sample.model` -- :class:`MonthModel` (expected figures and their noise) and the simulator that
  draws fresh months from it;
* :mod:`~qyb.sample.posterior` -- the same kind of model fitted to a real panel: empirical-Bayes
  gamma-Poisson and beta-binomial posteriors of every unit's true rates.
"""
from qyb.sample.build import (
    FIRST_MONTH,
    HEADLINE_UNIT,
    LAST_MONTH,
    MECHANISM_START,
    SEED,
    UNITS,
    build,
    main,
    units_frame,
    write,
)
from qyb.sample.model import MonthModel, MonthSampler, measures_read
from qyb.sample.truth import sample_truth, true_scores, truth_for

__all__ = ["SEED", "FIRST_MONTH", "LAST_MONTH", "MECHANISM_START", "HEADLINE_UNIT", "UNITS", "build", "write",
           "main", "units_frame", "MonthModel", "MonthSampler", "measures_read", "sample_truth", "true_scores", "truth_for"]
