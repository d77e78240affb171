"""Known answers for every transform, normalisation, aggregation, scaling and star rule (hand-computed)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from qyb.engine import aggregate, normalise, rank_desc, scale_index, stars_by_share, stars_by_threshold, transforms

NAN = np.nan


# ---------------------------------------------------------------- transforms
def test_rate_per_10000():
    # 25 alerts in 27,000 residents = 9.259259... per 10,000
    assert_allclose(transforms.rate([25, 0], [27000, 5000]), [25 / 2.7, 0.0])


def test_rate_zero_population_is_missing():
    assert np.isnan(transforms.rate([3], [0])[0])


def test_reduction_against_baseline_and_zero_baseline_floor():
    # 20 -> 15: (20-15)/20 = 0.25; 10 -> 12: -0.2; 0 -> 0: 0; 0 -> 2 with floor 1: -2
    assert_allclose(transforms.reduction([15, 12, 0, 2], [20, 10, 0, 0]), [0.25, -0.2, 0.0, -2.0])
    # 3-month mean baseline 2/3 is floored at 1: (2/3 - 0) / 1
    assert_allclose(transforms.reduction([0], [2 / 3]), [2 / 3])


def test_attainment_and_zero_total():
    assert_allclose(transforms.attainment([9, 0, 0], [10, 0, 4]), [0.9, 1.0, 0.0])
    assert np.isnan(transforms.attainment([0], [0], zero_total=None)[0])


class _Inputs:
    def __init__(self, series):
        self.series = series  # measure -> list over months (last = now)

    def measure(self, code, lag=0):
        return np.array([self.series[code][-1 - lag]], dtype=float)

    def attribute(self, code):
        return np.array([10000.0])


def test_baselines_yoy_mom_3m():
    counts = list(range(1, 14))  # 13 months: 1..13, now = 13
    inputs = _Inputs({"x": counts})
    assert transforms.baseline(inputs, "x", "yoy")[0] == 1
    assert transforms.baseline(inputs, "x", "mom")[0] == 12
    assert transforms.baseline(inputs, "x", "3m")[0] == pytest.approx((12 + 11 + 10) / 3)


# ---------------------------------------------------------------- normalisation
def test_minmax_both_directions_and_nan():
    x = np.array([2.0, 4.0, 6.0, NAN])
    assert_allclose(normalise.minmax(x), [0, 50, 100, NAN])
    assert_allclose(normalise.minmax(x, direction=-1), [100, 50, 0, NAN])
    assert_allclose(normalise.minmax(x, low=1, high=10), [1, 5.5, 10, NAN])


def test_minmax_constant_column():
    assert np.isnan(normalise.minmax(np.array([3.0, 3.0]))).all()
    assert_allclose(normalise.minmax(np.array([3.0, 3.0]), constant=100), [100, 100])


def test_minmax_is_per_row_of_leading_axes():
    x = np.array([[0.0, 10.0], [5.0, 7.0]])
    assert_allclose(normalise.minmax(x), [[0, 100], [0, 100]])


def test_goalposts_clip_and_direction_from_order():
    assert_allclose(normalise.goalposts(np.array([0.7, 0.9, 1.0, 0.5]), worst=0.8, best=1.0),
                    [0, 50, 100, 0])
    # lower is better: worst 10, best 0
    assert_allclose(normalise.goalposts(np.array([0.0, 5.0, 12.0]), worst=10, best=0), [100, 50, 0])


def test_percentile_rank_with_ties_matches_coinr_prank():
    # ranks (min): 1, 2, 2, 4 -> (r-1)/(n-1)*100
    assert_allclose(normalise.percentile(np.array([1.0, 3.0, 3.0, 9.0, NAN])),
                    [0, 100 / 3, 100 / 3, 100, NAN])


def test_zscore():
    x = np.array([1.0, 2.0, 3.0])
    assert_allclose(normalise.zscore(x), [-1, 0, 1])
    assert_allclose(normalise.zscore(x, direction=-1, mean=50, sd=10), [60, 50, 40])


def test_rank_min_equals_scipy_rankdata_min():
    from scipy.stats import rankdata

    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, size=(20, 9)).astype(float)
    assert_allclose(normalise.rank_min(x), rankdata(x, method="min", axis=-1))


# ---------------------------------------------------------------- aggregation
def test_weighted_arithmetic_and_missing_renormalised():
    scores = np.array([[80.0, 60.0, 100.0], [80.0, NAN, 100.0], [NAN, NAN, NAN]])
    w = np.array([2.0, 1.0, 1.0])
    out = aggregate.weighted_arithmetic(scores, w)
    assert_allclose(out[:2], [(160 + 60 + 100) / 4, (160 + 100) / 3])
    assert np.isnan(out[2])


def test_weighted_geometric_with_floor():
    out = aggregate.weighted_geometric(np.array([[100.0, 25.0], [0.0, 100.0]]), np.array([1.0, 1.0]))
    assert_allclose(out, [50.0, 10.0])  # sqrt(100*25); sqrt(max(0,1)*100)


# ---------------------------------------------------------------- index, ranks, stars
def test_scale_affine_and_minmax():
    total = np.array([0.0, 50.0, 100.0])
    assert_allclose(scale_index(total, {"method": "affine", "low": 60, "high": 100}), [60, 80, 100])
    assert_allclose(scale_index(np.array([20.0, 30.0, 40.0]), {"method": "minmax", "low": 0, "high": 100}),
                    [0, 50, 100])


def test_rank_desc_ties_share_best_rank():
    assert_allclose(rank_desc(np.array([70.0, 90.0, 70.0, 50.0, NAN])), [2, 1, 2, 4, NAN])
    # float noise does not split a tie
    assert_allclose(rank_desc(np.array([0.1 + 0.2, 0.3])), [1, 1])


def test_stars_by_threshold():
    thr = {5: 85, 4: 75, 3: 65, 2: 55}
    assert_allclose(stars_by_threshold(np.array([90, 85, 84.99, 75, 65, 55, 54.9]), thr), [5, 5, 4, 4, 3, 2, 1])


def test_stars_by_share_29_units():
    # cut-offs for n = 29: floor(29*[.1,.3,.7,.9] + .5) = 3, 9, 20, 26
    ranks = np.arange(1, 30, dtype=float)
    stars = stars_by_share(ranks, {5: 0.1, 4: 0.2, 3: 0.4, 2: 0.2, 1: 0.1})
    assert list(np.bincount(stars.astype(int))[1:]) == [3, 6, 11, 6, 3]
    assert stars[2] == 5 and stars[3] == 4 and stars[25] == 2 and stars[26] == 1


def test_stars_by_share_ties_share_a_star():
    ranks = np.array([1.0, 2.0, 3.0, 3.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    stars = stars_by_share(ranks, {5: 0.3, 4: 0.2, 3: 0.2, 2: 0.2, 1: 0.1})
    assert stars[2] == stars[3] == 5
