"""The sample knows its truth (issue 9): expected figures, the simulator, true scores."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import qyb
from qyb.method import load_method
from qyb.sample import sample_truth, true_scores, truth_for
from qyb.sample.build import DISPERSION, RARE_RATES, RATE_NOISE_SD, UNITS


@pytest.fixture(scope="module")
def truth():
    return sample_truth()


def test_truth_holds_every_measure_unit_and_month(truth):
    assert truth.expected.shape == (24, 29, 20) and truth.months[0] == "2022-01" and truth.months[-1] == "2023-12"
    assert list(truth.units.index) == [u[0] for u in UNITS]
    k = truth.measure_pos
    # rare events: the generator's constant per unit and month, Poisson
    np.testing.assert_array_equal(truth.expected[..., k["traffic_deaths"]], RARE_RATES["traffic_deaths"])
    assert np.isinf(truth.size[k["traffic_deaths"]]) and truth.size[k["crime_alerts"]] == DISPERSION
    # what is due is fixed: the expected figure is the figure
    ed = qyb.load("2023-03")
    np.testing.assert_array_equal(truth.expected[14, :, k["rental_due"]], ed.panel.cube("rental_due", ["2023-03"])[0])
    # handled = expected total x the unit's own attainment rate, a rate in (0, 1], constant over months
    p = truth.true_rate("disputes_resolved")
    assert ((p > 0) & (p <= 1)).all() and np.allclose(p, p[0]) and truth.rate_sd[k["disputes_resolved"]] == RATE_NOISE_SD
    # magnitudes as documented: ~25 crime alerts a unit a month before the mechanism
    assert 20 < truth.expected[:12, :, k["crime_alerts"]].mean() < 32


def test_simulator_reproduces_means_and_dispersion(truth):
    """Draws from the truth have the expected means and NB2 variances mu + mu^2/25 (Poisson for rare events);
    attainment is Binomial(total, clip(p + N(0, 0.02^2))) -- checked against its exact moments."""
    t = truth.select(["2023-03"])
    draws = t.simulate(6000, seed=4)  # (6000, 1, 29, 20)
    k = t.measure_pos
    for code, size in (("crime_alerts", DISPERSION), ("fraud_alerts", DISPERSION), ("major_cases", np.inf)):
        mu = t.expected[0, :, k[code]]
        x = draws[:, 0, :, k[code]]
        var = mu + mu ** 2 / size
        z = (x.mean(axis=0) - mu) / np.sqrt(var / len(x))
        assert np.abs(z).max() < 4.5, code
        ratio = x.var(axis=0, ddof=1) / var  # about 1 for every unit; pooled over units, within 4 %
        assert abs(ratio.mean() - 1) < 0.04, code
        if np.isfinite(size):  # the overdispersion is the sample's own: Poisson would be far too narrow
            assert (x.var(axis=0, ddof=1) > 1.02 * mu).mean() > 0.9
    # attainment: E = E[T] E[clip(p + e)]; with a fixed total (rental_due) the moments are exact
    code = "rental_inspected"
    n = t.expected[0, :, k["rental_due"]]
    p = t.true_rate(code)[0]
    sd = RATE_NOISE_SD
    lo, hi = -p / sd, (1 - p) / sd  # E[clip(p + e, 0, 1)] for e ~ N(0, sd^2)
    mean_p = (p * (stats.norm.cdf(hi) - stats.norm.cdf(lo)) + sd * (stats.norm.pdf(lo) - stats.norm.pdf(hi))
              + 1.0 * stats.norm.sf(hi))
    x = draws[:, 0, :, k[code]]
    np.testing.assert_allclose(x.mean(axis=0), n * mean_p, rtol=0.003)
    assert (x <= n).all()


def test_the_shipped_sample_is_one_draw_from_its_truth(truth):
    """The shipped figures scatter around the truth as the simulator says: standardised residuals of every
    count (the staged headline cells of 永宁社区 aside) have mean ~0 and variance ~1."""
    ed = qyb.load("2023-12")
    panel = ed.panel
    months = panel.months
    t = truth.select(months)
    staged = {("2022-03", "XL01"), ("2023-02", "XL01"), ("2023-03", "XL01")}
    keep = np.array([[(m, u) not in staged for u in panel.units.index] for m in months])
    for code in ("crime_alerts", "fraud_alerts", "traffic_accidents", "hazards_found", "fires"):
        mu = t.expected[..., t.measure_pos[code]]
        size = t.size[t.measure_pos[code]]
        z = (panel.cube(code, months) - mu) / np.sqrt(mu + mu ** 2 / size)
        z = z[keep]
        assert abs(z.mean()) < 0.12, code
        assert 0.8 < z.var() < 1.25, code


def test_chunked_simulation_equals_one_go(truth):
    t = truth.select(["2023-01", "2023-02", "2023-03"])
    whole = t.simulate(300, seed=9)
    sampler = t.sampler(9)
    parts = np.concatenate([sampler.draw(100), sampler.draw(77), sampler.draw(123)])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, t.simulate(300, seed=10))


def test_true_scores_under_any_method(truth):
    v2 = load_method("v2")
    true = true_scores(v2, "2023-03", truth)
    assert true.rank.shape == (29,) and sorted(true.rank) == list(range(1, 30))
    # with stable true rates every unit's true 压降率 is the town's: every reduction scores the same
    codes = [i.code for i in v2.indicators]
    for code in ("crime_reduction", "fraud_reduction", "traffic_reduction"):
        j = codes.index(code)
        assert np.ptp(true.values[:, j]) < 1e-9 and (true.indicator_scores[:, j] == 100).all()
    # shrinkage is the identity on expected figures: v3's shrunk rates are the true pooled rates
    v3 = load_method("v3")
    t3 = true_scores(v3, "2023-03", truth)
    j = [i.code for i in v3.indicators].index("crime_rate")
    k = truth.measure_pos["crime_alerts"]
    rows = [truth.month_pos[m] for m in ("2023-01", "2023-02", "2023-03")]
    pooled = truth.expected[rows, :, k].mean(axis=0) / truth.units["population"].to_numpy() * 1e4
    np.testing.assert_allclose(t3.values[:, j], pooled)
    # 永宁社区's staged months are chance, not truth: its true rank is far from 2nd
    assert true.rank[0] > 15


def test_truth_is_known_only_for_the_unchanged_sample():
    ed = qyb.load("2023-03")
    assert truth_for(ed.panel) is sample_truth()
    assert truth_for(ed.panel.with_value("2023-03", "XL01", "crime_alerts", 5.0)) is None
