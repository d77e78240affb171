"""Poisson-gamma dispersion of a units x months panel: hand-computed moment equation, statsmodels' NB fit,
and a seeded simulation of the sample's own noise (alpha = 1/25)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from qyb.stats import nb_dispersion


def test_moment_equation_by_hand():
    y = np.array([[3.0, 10.0, 20.0], [5.0, 6.0, 30.0], [2.0, 14.0, 16.0], [6.0, 8.0, 34.0]])
    e = np.array([1.0, 2.0, 4.0])
    fit = nb_dispersion(y, e)
    # complete table, exposure constant over months: mu = row total x column total / grand total
    mu = y.sum(axis=1, keepdims=True) * y.sum(axis=0, keepdims=True) / y.sum()
    x2 = ((y - mu) ** 2 / mu).sum()
    df = y.size - (4 + 3 - 1)
    assert fit.df == df and fit.n == y.size
    assert fit.phi == pytest.approx(x2 / df, rel=1e-10)
    assert fit.phi > 1 and fit.alpha > 0
    assert ((y - mu) ** 2 / (mu * (1 + fit.alpha * mu))).sum() == pytest.approx(df, rel=1e-9)
    assert fit.shape == pytest.approx(1 / fit.alpha)
    # the two-way Poisson fit equals statsmodels' GLM with unit and month dummies
    months, units = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")
    X = pd.get_dummies(pd.DataFrame({"m": months.ravel().astype(str), "u": units.ravel().astype(str)}),
                       drop_first=True).astype(float)
    X.insert(0, "const", 1.0)
    glm = sm.GLM(y.ravel(), X, family=sm.families.Poisson(), offset=np.log(np.tile(e, 4))).fit()
    assert glm.pearson_chi2 / glm.df_resid == pytest.approx(fit.phi, rel=1e-8)


def test_poisson_data_give_no_dispersion_and_blanks_are_skipped():
    rng = np.random.default_rng(4)
    y = rng.poisson(30.0, size=(15, 29)).astype(float)
    fit = nb_dispersion(y)
    assert fit.alpha < 0.01
    flat = np.full((6, 5), 7.0)
    assert nb_dispersion(flat).alpha == 0.0 and nb_dispersion(flat).phi == 0.0
    y[3, 4] = np.nan
    assert nb_dispersion(y).n == y.size - 1
    # a unit with no events at all carries no information and no parameter
    y2 = y.copy()
    y2[:, 0] = 0.0
    assert nb_dispersion(y2).n == y.size - 1 - 15
    with pytest.raises(ValueError):
        nb_dispersion(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        nb_dispersion(-y)


def test_close_to_statsmodels_negative_binomial_on_a_large_panel():
    rng = np.random.default_rng(6)
    T, U = 40, 30
    mu = 20 * rng.gamma(8, 1 / 8, U)[None, :] * (1 + 0.2 * np.sin(np.arange(T)))[:, None]
    y = rng.poisson(mu * rng.gamma(10, 1 / 10, (T, U))).astype(float)
    months, units = np.meshgrid(np.arange(T), np.arange(U), indexing="ij")
    X = pd.get_dummies(pd.DataFrame({"m": months.ravel().astype(str), "u": units.ravel().astype(str)}),
                       drop_first=True).astype(float)
    X.insert(0, "const", 1.0)
    ml = sm.NegativeBinomial(y.ravel(), X).fit(disp=0, maxiter=300)
    ours = nb_dispersion(y).alpha
    assert ours == pytest.approx(ml.params["alpha"], rel=0.1)
    assert ours == pytest.approx(0.1, rel=0.2)


def test_sample_noise_is_recovered():
    """The sample's month noise has alpha = 1/25; 300 panels of 15 months x 29 units (crime-sized counts)."""
    from tests.sample_truth import null_counts

    rng = np.random.default_rng(20230315)
    fits = nb_dispersion(null_counts(rng, "crime_alerts", 300, 15))
    assert fits.alpha.shape == (300,)
    assert np.mean(fits.alpha) == pytest.approx(0.04, abs=0.002)
    assert np.mean(fits.phi) == pytest.approx(1 + 0.04 * 25, rel=0.1)  # phi ~ 1 + alpha x mean count
