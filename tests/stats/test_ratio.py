"""The conditional beta-binomial rate ratio (Poisson-gamma counts): scipy cross-checks, known answers, duality,
and seeded simulations of its size and coverage under the sample's own noise model."""
from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest
from scipy import stats

from qyb.stats import betabinom_tails, nb_dispersion, rate_ratio_midp


def _exact_below(x: int, n: int, a: float, b: float) -> float:
    """P(X < x) for BetaBinomial(n, a, b) in rational arithmetic (a check, not library code)."""
    a, b = Fraction(a), Fraction(b)

    def rising(q, k):
        out = Fraction(1)
        for i in range(k):
            out *= q + i
        return out

    den = rising(a + b, n)
    return float(sum(comb(n, j) * rising(a, j) * rising(b, n - j) / den for j in range(x)))


def test_tails_match_scipy():
    rng = np.random.default_rng(3)
    n = rng.integers(0, 160, 300).astype(float)
    x = np.floor(rng.uniform(0, 1, 300) * (n + 1))
    pi = rng.uniform(0.01, 0.99, 300)
    K = rng.choice([2.0, 25.0, 50.0, 325.0, 4000.0, np.inf], 300)
    below, at, above = betabinom_tails(x, n, pi, K)
    for i in range(300):
        d = stats.binom(n[i], pi[i]) if np.isinf(K[i]) else stats.betabinom(n[i], pi[i] * K[i], (1 - pi[i]) * K[i])
        # scipy's betaln loses ~1e-11 at a precision of thousands; qyb's rising factorials do not
        assert below[i] == pytest.approx(d.cdf(x[i] - 1), abs=2e-11)
        assert at[i] == pytest.approx(d.pmf(x[i]), abs=2e-11)
        assert above[i] == pytest.approx(d.sf(x[i]), abs=2e-11)
    for n_, x_, p_ in ((47, 26, 0.069), (128, 114, 0.805), (60, 3, 0.2)):
        assert betabinom_tails(x_, n_, p_, 4000.0)[0] == pytest.approx(
            _exact_below(x_, n_, p_ * 4000, (1 - p_) * 4000), abs=2e-12)
    # a huge precision is the binomial (stable: rising factorials as sums of logs)
    b_big = betabinom_tails(7, 20, 0.3, 1e12)
    b_bin = betabinom_tails(7, 20, 0.3, np.inf)
    np.testing.assert_allclose(b_big, b_bin, rtol=1e-9)
    # a tiny block budget gives the same answer
    np.testing.assert_allclose(betabinom_tails(x, n, pi, K, max_cells=50), (below, at, above), rtol=1e-13)


def test_yongning_fraud_known_answers():
    """13 -> 0 fraud alerts at equal exposure: x1 | n = 13 ~ BetaBinomial(13, k, k), k = 1/alpha."""
    alpha = 0.04
    r = rate_ratio_midp(13, 29000, 0, 29000, alpha)
    p0 = stats.betabinom(13, 25, 25).pmf(0)
    assert r["pvalue"][0] == pytest.approx(p0, rel=1e-10)  # mid-p: 2 x P(X = 0)/2
    assert r["lower"][0] == 0.0
    # the upper limit solves P(X = 0 | pi) / 2 = 0.025 (mid-p lower tail at x = 0)
    pu = r["upper"][0] / (1 + r["upper"][0])
    assert stats.betabinom(13, pu * 50, (1 - pu) * 50).pmf(0) / 2 == pytest.approx(0.025, rel=1e-7)
    # median-unbiased: the mean of the exact 50 % limits; at x = 0 the lower one is 0 and the upper solves
    # P(X <= 0) = 1/2; the binomial case in closed form: pi_U = 1 - 0.5^(1/13)
    b = rate_ratio_midp(13, 1.0, 0, 1.0, 0.0)
    half = (1 - 0.5 ** (1 / 13)) / 2
    assert b["mue"][0] == pytest.approx(half / (1 - half), rel=1e-8)
    assert 0 < r["mue"][0] < 0.1 and np.isfinite(r["mue"][0])
    # against the long-run level: 0 now against 64 in the 12 months before, K = 13/alpha
    lr = rate_ratio_midp(64, 12 * 29000, 0, 29000, alpha, months_before=12)
    assert lr["pvalue"][0] == pytest.approx(stats.betabinom(64, 25, 300).pmf(0), rel=1e-10)
    # no events: p = 1, no interval; x0 = 0: an infinite upper limit
    z = rate_ratio_midp([0, 0], [1.0, 1.0], [0, 4], [1.0, 1.0], alpha)
    assert z["pvalue"][0] == 1 and np.isnan(z["lower"][0]) and np.isinf(z["upper"][1]) and z["lower"][1] > 0


def test_midp_test_and_interval_are_dual():
    rng = np.random.default_rng(8)
    x0, x1 = rng.poisson(12, 400), rng.poisson(9, 400)
    e0 = rng.choice([1.0, 3.0, 12.0], 400)
    m0 = e0  # one month of exposure each
    for alpha in (0.0, 0.04, 0.2):
        r = rate_ratio_midp(x0, e0, x1, 1.0, alpha, months_before=m0, estimate=False)
        ok = (x0 + x1) > 0
        excludes = (r["upper"] < 1) | (r["lower"] > 1)
        assert ((r["pvalue"] < 0.05) == excludes)[ok].all()
        assert (r["lower"] <= r["upper"])[ok].all()
    with pytest.raises(ValueError):
        rate_ratio_midp(1, 1.0, 2, 1.0, -0.1)


@pytest.mark.parametrize("mu", [5, 20, 50])
def test_coverage_under_the_sample_noise_model(mu):
    """95 % intervals cover the true ratio 0.93-0.97 of the time at 5, 20 and 50 expected events a month.

    The sample's noise (Gamma month noise of shape 25 on a Poisson mean); alpha estimated from a 15-month,
    29-unit panel of the same model, as the published table does; true ratios 1, 0.7 and 1.5 (last month).
    The exact Poisson interval kept beside it covers 0.77-0.80 at 50 expected events.
    """
    rng = np.random.default_rng(20230300 + mu)
    T, U, reps = 15, 29, 60
    covered, covered_poisson = [], []
    for r in (1.0, 0.7, 1.5):
        means = np.full((reps, T, U), float(mu))
        means[:, -1, :] *= r
        counts = rng.poisson(means * rng.gamma(25, 1 / 25, means.shape)).astype(float)
        alpha = nb_dispersion(counts, 1.0).alpha
        x0, x1 = counts[:, -2, :].ravel(), counts[:, -1, :].ravel()
        out = rate_ratio_midp(x0, 1.0, x1, 1.0, np.repeat(alpha, U), estimate=False)
        ok = (x0 + x1) > 0
        covered.append(((out["lower"] <= r) & (r <= out["upper"]))[ok])
        n = (x0 + x1)[ok]
        lo, hi = stats.beta.ppf(0.025, x1[ok], x0[ok] + 1), stats.beta.ppf(0.975, x1[ok] + 1, x0[ok])
        p_true = r / (1 + r)
        covered_poisson.append((np.nan_to_num(lo, nan=0.0) <= p_true) & (p_true <= np.nan_to_num(hi, nan=1.0)))
        assert n.size > 0
    coverage = np.concatenate(covered).mean()
    assert 0.93 <= coverage <= 0.97, coverage
    if mu == 50:
        assert np.concatenate(covered_poisson).mean() < 0.85  # what the Poisson interval gave
