"""Empirical-Bayes posteriors of true rates (issue 9): recovery of known parameters, calibration, chunks."""
from __future__ import annotations

import numpy as np
import pytest

import qyb
from qyb.method import load_method
from qyb.sample import sample_truth
from qyb.sample.posterior import fit_counts, fit_pairs, fit_posterior, posterior_chunks


def gamma_poisson(rng, units=400, months=12, alpha=6.0, k=20.0, rate=2e-3, lead=()):
    pop = rng.uniform(5_000, 40_000, size=units)
    theta = rng.gamma(alpha, 1 / alpha, size=(*lead, units))
    month_factor = 1 + 0.1 * np.sin(np.arange(months))  # town trend and season
    mu = theta[..., None, :] * pop * rate * month_factor[:, None]
    x = rng.poisson(mu * rng.gamma(k, 1 / k, size=mu.shape)).astype(float)
    return x, pop, theta


def test_fit_counts_recovers_prior_and_month_noise():
    rng = np.random.default_rng(1)
    x, pop, theta = gamma_poisson(rng)
    fit = fit_counts(x, pop)
    assert fit.alpha == pytest.approx(6.0, rel=0.25)
    assert fit.size == pytest.approx(20.0, rel=0.3)
    # the posterior mean is closer to the truth than the crude ratio (shrinkage pays)
    crude = x.sum(axis=0) / fit.exposure.sum(axis=0)
    assert np.mean((fit.mean - theta) ** 2) < np.mean((crude - theta) ** 2)


def test_posterior_intervals_cover_at_their_level():
    """90 % posterior intervals of theta cover the truth ~90 % of the time (gamma-Poisson with month noise)."""
    from scipy import stats

    rng = np.random.default_rng(2)
    x, pop, theta = gamma_poisson(rng, units=300, months=13, lead=(20,))
    fit = fit_counts(x, pop)  # twenty panels at once
    lo = stats.gamma.ppf(0.05, fit.shape, scale=1 / fit.rate)
    hi = stats.gamma.ppf(0.95, fit.shape, scale=1 / fit.rate)
    assert 0.87 <= ((lo <= theta) & (theta <= hi)).mean() <= 0.93


def test_fit_pairs_recovers_beta_prior_and_rate_noise():
    rng = np.random.default_rng(3)
    units, months, a, b, sd = 500, 12, 30.0, 3.0, 0.03
    p = rng.beta(a, b, size=units)
    n = rng.poisson(60, size=(months, units)).astype(float)
    h = rng.binomial(n.astype(int), np.clip(p + rng.normal(0, sd, size=(months, units)), 0, 1)).astype(float)
    fit = fit_pairs(h, n)
    assert fit.rate_sd == pytest.approx(sd, rel=0.25)
    assert fit.prior_a / (fit.prior_a + fit.prior_b) == pytest.approx(a / (a + b), abs=0.01)
    assert fit.prior_a + fit.prior_b == pytest.approx(a + b, rel=0.35)
    assert np.corrcoef(fit.mean, p)[0, 1] > 0.9


def test_vectorised_fit_equals_one_panel_at_a_time():
    rng = np.random.default_rng(4)
    x, pop, _ = gamma_poisson(rng, units=50, lead=(3,))
    together = fit_counts(x, pop)
    for i in range(3):
        alone = fit_counts(x[i], pop)
        np.testing.assert_allclose(together.shape[i], alone.shape)
        np.testing.assert_allclose(together.rate[i], alone.rate)
        assert together.size[i] == alone.size


def test_sample_posterior_agrees_with_the_truth():
    """On the sample the fitted posterior means track the true expected figures."""
    ed = qyb.load("2023-03")
    post = fit_posterior(ed.panel, "2023-03", ed.method)
    assert post.months[0] == "2022-03" and post.months[-1] == "2023-03"  # 12 months and the yoy baseline
    truth = sample_truth().select(post.months)
    mean = post.mean_model()
    for code in ("crime_alerts", "fraud_alerts", "traffic_accidents"):
        k = truth.measure_pos[code]
        est, true = mean.expected[-1, :, mean.measure_pos[code]], truth.expected[-1, :, k]
        assert np.corrcoef(est, true)[0, 1] > 0.9, code
        assert abs(np.mean(est / true) - 1) < 0.1, code
    assert {"rental_due", "patrols_planned"} <= set(post.fixed)  # what is due never varies


def test_posterior_draws_in_chunks_equal_one_go():
    ed = qyb.load("2023-03")
    m = load_method("v2")
    post = fit_posterior(ed.panel, "2023-03", m)
    one = list(posterior_chunks(post, m, "2023-03", 120, seed=5, chunk=120))
    many = list(posterior_chunks(post, m, "2023-03", 120, seed=5, chunk=50))
    assert len(one) == 1 and len(many) == 3
    for field in ("true_index", "true_rank", "fresh_stars"):
        np.testing.assert_array_equal(getattr(one[0], field), np.concatenate([getattr(c, field) for c in many]))
