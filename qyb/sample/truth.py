"""The sample knows its truth: the expected figure of every measure, unit and month before chance.

The synthetic sample (:mod:`qyb.sample.build`) draws each count as
``Poisson(mu * G)``, ``G ~ Gamma(25, 1/25)`` (month noise, coefficient of variation 0.2), with
``mu = base rate x population x unit risk x season x town trend``; rare events (deaths, major
cases) and 乱点挂牌 as ``Poisson(mu)``; each attainment as ``Binomial(total, clip(p_u + e, 0, 1))``
with the unit's own rate ``p_u`` and month noise ``e ~ N(0, 0.02^2)``. :func:`sample_truth`
returns those ``mu`` (and ``total x p_u``) as a :class:`~qyb.sample.model.MonthModel`, so that

* the **true** index, rank and stars of any method are the method applied to the expected figures
  (:func:`true_scores`);
* fresh months are drawn from the same truth with the sample's own overdispersion
  (``truth.simulate(n, seed)``), for the reliability analysis (:mod:`qyb.review.reliability`).

The staged headline months of 永宁社区 (a bad 2023-02, a very good 2023-03, a bad 2022-03) are
chance, not truth: its expected figures are those of its unit risk, like every other unit's.
"""
from __future__ import annotations

import functools

import numpy as np

from qyb.data.catalogue import MEASURE_BY_CODE, MEASURE_CODES
from qyb.data.months import month_range
from qyb.data.panel import Panel
from qyb.engine.draws import ArrayInputs, score_inputs, unit_groups
from qyb.engine.score import Scores
from qyb.method import Method
from qyb.sample.build import FIRST_MONTH, LAST_MONTH, SEED, _simulate, build, units_frame
from qyb.sample.model import MonthModel

__all__ = ["sample_truth", "true_scores", "truth_for", "FIXED_MEASURES"]

#: measures that are what is due or planned: no chance at all
FIXED_MEASURES = ("rental_due", "patrols_planned")


@functools.lru_cache(maxsize=4)
def _truth(seed: int) -> MonthModel:
    rng = np.random.default_rng(seed)
    units = units_frame()
    months = month_range(FIRST_MONTH, LAST_MONTH)
    record: dict = {}
    _simulate(rng, units, months, record)
    kind = tuple("fixed" if c in FIXED_MEASURES else "handled" if MEASURE_BY_CODE[c].total else "count"
                 for c in MEASURE_CODES)
    expected = np.stack([record["expected"][c] for c in MEASURE_CODES], axis=-1)
    size = np.array([record["size"].get(c, np.inf) for c in MEASURE_CODES])
    rate_sd = np.array([record["rate_sd"].get(c, 0.0) for c in MEASURE_CODES])
    model = MonthModel(units.set_index("unit_id"), months, MEASURE_CODES, expected, kind, size, rate_sd,
                       label=f"sample truth (seed {seed})")
    model.expected.flags.writeable = False
    return model


def sample_truth(seed: int = SEED) -> MonthModel:
    """The synthetic sample's truth: expected figures (months 2022-01..2023-12 x 29 units x every measure)
    and the noise the sample was drawn with. Built by re-running the generator (cheap, no file read)."""
    return _truth(int(seed))


def true_scores(method: Method, month: str, truth: MonthModel | None = None) -> Scores:
    """The method applied to the expected figures of ``month``: true index, rank, stars, category scores.

    Estimators that exist to handle chance (empirical-Bayes shrinkage) are the identity on
    noise-free figures (:class:`~qyb.engine.draws.ArrayInputs` with ``noise_free``); a pooled
    window or a longer baseline still averages the true figures of its months. With several
    truths held (a posterior), the scores have their leading axis.
    """
    truth = truth or sample_truth()
    inputs = ArrayInputs(truth.expected, truth.months, truth.measures, truth.units, month, noise_free=True)
    return score_inputs(method, inputs, unit_groups(truth.units))


@functools.lru_cache(maxsize=2)
def _sample_array(seed: int) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """The sample's figures as written (months, units, measures), regenerated in memory."""
    units, frames = build(seed)
    months = tuple(sorted(frames))
    array = np.stack([frames[m][[MEASURE_BY_CODE[c].name for c in MEASURE_CODES]].to_numpy(float) for m in months])
    return months, tuple(units["unit_id"]), array


def truth_for(panel: Panel, seed: int = SEED) -> MonthModel | None:
    """The sample's truth when ``panel`` holds the synthetic sample unchanged (every figure of every
    month it holds equals the generator's), else None: on real or edited data the truth is unknown."""
    if not panel.synthetic:
        return None
    months, units, array = _sample_array(int(seed))
    if tuple(panel.units.index) != units or not set(panel.months) <= set(months) or \
            tuple(panel.measures) != tuple(MEASURE_CODES):
        return None
    rows = [months.index(m) for m in panel.months]
    return sample_truth(seed) if np.array_equal(panel.array, array[rows], equal_nan=True) else None
