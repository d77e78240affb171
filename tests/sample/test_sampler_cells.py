"""The simulations' fast paths draw and score the very numbers of the plain ones (issue 13: same figures)."""
from __future__ import annotations

import numpy as np
import pytest

import qyb
from qyb.engine.draws import ArrayInputs, CellInputs, score_inputs, unit_groups
from qyb.engine.transforms import indicator_value
from qyb.method import load_method
from qyb.sample.model import cells_read, stream
from qyb.sample.posterior import fit_posterior
from qyb.sample.truth import truth_for

MONTH = "2023-12"


@pytest.fixture(scope="module")
def panel():
    return qyb.load(MONTH).panel


def test_cells_are_the_dense_draws(panel):
    """``draw_chunk`` (cells) and ``draw`` (a dense array, NaN where not drawn) give the same numbers, for one
    truth and for posterior truths picked draw by draw."""
    method = load_method("v3")
    months = sorted(method.months_read(MONTH))
    post = fit_posterior(panel, MONTH, method)
    for model, truths in ((truth_for(panel).select(months), None),
                          (post.draw_truths(4, 0, months), np.repeat(np.arange(4), 3))):
        dense = model.sampler(5, cells_read(method, MONTH)).draw(12, truths)
        sampler = model.sampler(5, cells_read(method, MONTH))
        cells = sampler.draw_chunk(12, truths)
        for code in model.measures:
            k = model.measure_pos[code]
            if code not in cells:
                assert np.isnan(dense[..., k]).all()
                continue
            rows = [model.month_pos[m] for m in sampler.months_of(code)]
            np.testing.assert_array_equal(dense[..., k][:, rows], cells[code])
            others = [t for t in range(len(model.months)) if t not in rows]
            assert np.isnan(dense[..., k][:, others]).all()


def test_month_noise_by_runs_is_drawing_every_cell_with_its_own_shape():
    """Gamma month noise drawn run by run (one shape per run, numpy's scalar path) is the numbers of one
    draw with a shape per cell, in the same order; an infinite size keeps the mean and still uses its numbers."""
    from qyb.sample.model import MonthSampler

    size = np.array([2.0, 2.0, np.inf, 5.0, 5.0, 5.0, 2.0])
    mean = np.random.default_rng(1).uniform(0, 4, (len(size), 3, 6))
    sampler = MonthSampler.__new__(MonthSampler)
    sampler.streams = {("x", "gamma"): stream(3, "x", "gamma")}
    got = sampler._noisy("x", mean, size)
    finite = np.isfinite(size)
    shape = np.where(finite, size, 1.0)[:, None, None]
    g = stream(3, "x", "gamma").standard_gamma(np.broadcast_to(shape, mean.shape)) / shape
    np.testing.assert_array_equal(got, np.maximum(np.where(finite[:, None, None], mean * g, mean), 0.0))


def test_known_indicator_values_score_as_computed(panel):
    """Scoring with some indicators' values given (``known``, broadcast over new leading axes) is scoring
    with them computed: the responsiveness experiment reuses the control's values that way."""
    method = load_method("v3")
    months = sorted(method.months_read(MONTH))
    truth = truth_for(panel).select(months)
    data = truth.sampler(0, cells_read(method, MONTH)).draw(50)
    inputs = ArrayInputs(data, months, truth.measures, truth.units, MONTH)
    known = {ind.code: indicator_value(method, ind, inputs) for ind in method.indicators[::2]}
    groups = unit_groups(truth.units)
    plain = score_inputs(method, inputs, groups)
    twice = ArrayInputs(np.broadcast_to(data, (2, *data.shape)), months, truth.measures, truth.units, MONTH)
    for scored in (score_inputs(method, inputs, groups, known=known), score_inputs(method, twice, groups, known=known)):
        for field in ("index", "rank", "stars"):
            np.testing.assert_array_equal(np.broadcast_to(getattr(plain, field), getattr(scored, field).shape),
                                          getattr(scored, field))
    cells = CellInputs({c: data[..., truth.measure_pos[c]][:, [truth.month_pos[m] for m in ms]]
                        for c, ms in cells_read(method, MONTH).items()}, cells_read(method, MONTH), truth.units,
                       MONTH)
    np.testing.assert_array_equal(score_inputs(method, cells, groups).index, plain.index)
