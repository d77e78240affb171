"""Noise-robust options of the engine (issue 9): known answers for pooled windows, empirical-Bayes shrinkage,
bounded 压降率 against a longer baseline, 扣分 windows and stars by bands."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.data.months import month_range
from qyb.data.panel import Panel
from qyb.engine import PanelInputs, indicator_values, score_panel, stars_by_band
from qyb.engine.draws import ArrayInputs
from qyb.engine.robust import bounded, eb_shrink, pooled_mean
from qyb.method import Method
from qyb.stats import eb_rates

MONTHS = month_range("2022-01", "2023-03")  # 15 months


def tiny_panel() -> Panel:
    """Three units; counts that make hand computation easy."""
    ids = ["A", "B", "C"]
    units = pd.DataFrame({"unit_name": ["甲", "乙", "丙"], "town": "T", "population": [10000.0, 20000.0, 40000.0]},
                         index=pd.Index(ids, name="unit_id"))
    rows = []
    for t, m in enumerate(MONTHS):
        for j, u in enumerate(ids):
            rows.append({"month": m, "unit_id": u,
                         "crime_alerts": 10.0 * (j + 1) + t,          # A: 10, 11, ...; B: 20, ...; C: 30, ...
                         "fires": float((t + j) % 3 == 0),
                         "traffic_deaths": float(t == 14 and j == 0) + float(t == 10 and j == 1),
                         "disputes_received": 10.0, "disputes_resolved": float(6 + j + (t % 2))})
    values = pd.DataFrame(rows).set_index(["month", "unit_id"])
    return Panel.from_frame(".", units, values)


def spec(indicators, stars=None, deductions=None) -> Method:
    s = {"name": "tiny", "effective_from": "2022-01", "missing": "fail",
         "index": {"code": "index", "scale": {"method": "identity"}},
         "stars": stars or {"rule": "shares", "shares": {5: 0.2, 4: 0.2, 3: 0.2, 2: 0.2, 1: 0.2}},
         "groups": [{"code": "g", "name": "组", "weight": 1}],
         "indicators": [dict(code=f"i{n}", parent="g", **ind) for n, ind in enumerate(indicators)]}
    if deductions:
        s["deductions"] = deductions
    return Method.from_dict(s)


def values_of(method: Method, month: str = "2023-03") -> np.ndarray:
    return indicator_values(method, PanelInputs(tiny_panel(), [month], method.history_needed()))[0]


def test_pooled_window_rate_count_and_attainment():
    m = spec([{"measures": {"value": "crime_alerts"}, "transform": {"type": "rate", "window": 3}},
              {"measures": {"value": "fires"}, "transform": {"type": "count", "window": 12}},
              {"measures": {"handled": "disputes_resolved", "total": "disputes_received"},
               "transform": {"type": "attainment", "window": 2}}])
    v = values_of(m)
    # 2023-03 is month t = 14: crime of A over t = 12, 13, 14 is 22, 23, 24 -> mean 23 per 10,000
    np.testing.assert_allclose(v[:, 0], [23.0, 33.0 / 2, 43.0 / 4])
    # fires over the 12 months t = 3..14: (t + j) % 3 == 0 happens 4 times for every unit
    np.testing.assert_allclose(v[:, 1], [4 / 12] * 3)
    # disputes over t = 13, 14: (6 + j + 1 + 6 + j + 0) / 20
    np.testing.assert_allclose(v[:, 2], [13 / 20, 15 / 20, 17 / 20])
    assert m.history_needed() == 11 and m.months_read("2023-03")[0] == "2022-04"


def test_reduction_against_a_longer_baseline_floored_and_bounded():
    m = spec([{"measures": {"value": "crime_alerts"},
               "transform": {"type": "reduction", "baseline": "12m", "window": 3, "floor": 30, "bound": 0.2}}])
    # now: mean of t = 12..14; baseline: the 12 months before the window, t = 0..11
    now = np.array([23.0, 33.0, 43.0])
    base = np.array([10.0, 20.0, 30.0]) + 5.5
    expected = np.clip((base - now) / np.maximum(base, 30), -0.2, 0.2)
    np.testing.assert_allclose(values_of(m)[:, 0], expected)
    assert expected[0] == -0.2  # bounded: A's -48 % is clipped
    assert m.history_needed() == 14


def test_eb_shrink_is_marshall_for_one_month():
    """With one month there is no month noise to estimate: Marshall's (1991) moment estimator, as
    :func:`qyb.stats.eb_rates` computes it."""
    rng = np.random.default_rng(0)
    pop = rng.uniform(5000, 40000, 29)
    x = rng.poisson(pop * 1e-3 * rng.gamma(5, 1 / 5, 29)).astype(float)
    ours = eb_shrink(x[None, :], pop) * 1e4
    ref = eb_rates(x, pop, per=1e4).table["estimate"].to_numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


def test_eb_shrink_hand_example_and_pooling():
    # equal exposures 1, counts 10, 20, 30: m = 20, s^2 = 200/3, A = s^2 - 20, alpha = m^2/A, beta = m/A
    est = eb_shrink(np.array([[10.0, 20.0, 30.0]]), np.ones(3))
    np.testing.assert_allclose(est, [13.0, 20.0, 27.0])
    # no more spread than chance: every unit gets the pooled rate
    np.testing.assert_allclose(eb_shrink(np.array([[19.0, 20.0, 21.0]]), np.ones(3)), [20.0] * 3)
    # a missing figure stays missing and is left out of the moments
    out = eb_shrink(np.array([[10.0, 20.0, 30.0, np.nan]]), np.ones(4))
    assert np.isnan(out[3]) and np.allclose(out[:3], [13.0, 20.0, 27.0])
    # leading axes (draws) are independent fits
    stack = np.array([[[10.0, 20.0, 30.0], [19.0, 20.0, 21.0]]])  # (window 1, draws 2, units 3)
    np.testing.assert_allclose(eb_shrink(stack, np.ones(3)), [[13.0, 20.0, 27.0], [20.0, 20.0, 20.0]])


def test_eb_shrink_with_month_noise_shrinks_more_than_poisson():
    """Month-to-month noise (estimated from the window) is chance too: the window's shrinkage grows with it."""
    rng = np.random.default_rng(5)
    theta = rng.gamma(8, 1 / 8, 40)
    quiet = rng.poisson(np.broadcast_to(20 * theta, (6, 40))).astype(float)
    noisy = rng.poisson(20 * theta * rng.gamma(5, 1 / 5, (6, 40))).astype(float)
    def pull(x):
        crude = x.mean(axis=0)
        shrunk = eb_shrink(x, np.ones(40))
        return np.mean(np.abs(shrunk - crude.mean()) / np.abs(crude - crude.mean()))
    assert pull(noisy) < pull(quiet) < 1.0


def test_transform_shrink_and_noise_free_identity():
    m = spec([{"measures": {"value": "crime_alerts"}, "transform": {"type": "rate", "window": 3, "shrink": "eb"}}])
    p = tiny_panel()
    arr = np.stack([p.cube(c, p.months) for c in p.measures], axis=-1)
    noisy = indicator_values(m, ArrayInputs(arr, p.months, p.measures, p.units, "2023-03"))[:, 0]
    exact = indicator_values(m, ArrayInputs(arr, p.months, p.measures, p.units, "2023-03", noise_free=True))[:, 0]
    np.testing.assert_allclose(exact, [23.0, 33.0 / 2, 43.0 / 4])  # a truth: no shrinkage
    assert np.ptp(noisy) < np.ptp(exact)  # observed: pulled toward the pooled rate


def test_deduction_window_counts_mean_events_per_month():
    m = spec([{"measures": {"value": "crime_alerts"}, "transform": "count", "direction": -1}],
             deductions=[{"measure": "traffic_deaths", "points": 12, "target": "index", "window": 12}])
    card = score_panel(tiny_panel(), m, ["2023-03"]).scorecard("2023-03").set_index("unit_id")
    plain = score_panel(tiny_panel(), m.derive("plain", deductions=[]), ["2023-03"]).scorecard("2023-03")
    # A had one death in 2023-03 (t = 14) and B one in t = 10: both in the 12-month window -> 12 x 1/12 = 1 point
    np.testing.assert_allclose(plain.set_index("unit_id")["index"] - card["index"], [1.0, 1.0, 0.0])


def test_stars_by_band_known_answer():
    idx = np.array([[70.0, 76.0, 80.0, 82.0, 85.0, 89.0, 90.0, np.nan]])  # median 82
    bands = {5: 8, 4: 3, 2: 3, 1: 8}  # 5 stars from +8 (inclusive), 4 from +3, 2 from -3, 1 from -8
    np.testing.assert_array_equal(stars_by_band(idx, bands), [[1, 2, 3, 3, 4, 4, 5, np.nan]])
    # the engine applies it through the spec
    m = spec([{"measures": {"value": "crime_alerts"}, "transform": "count", "normalise": "none"}],
             stars={"rule": "bands", "bands": bands})
    stars = score_panel(tiny_panel(), m, ["2023-03"]).scorecard("2023-03")["stars"].tolist()
    assert stars == [1, 3, 5]  # 24, 34, 44: median 34


def test_pooled_mean_and_bounded():
    np.testing.assert_allclose(pooled_mean(np.array([[1.0, 2.0], [3.0, 6.0]])), [2.0, 4.0])
    assert np.isnan(pooled_mean(np.array([[1.0], [np.nan]]))[0])
    np.testing.assert_allclose(bounded(np.array([-4.0, 0.3, 2.0]), 1.0), [-1.0, 0.3, 1.0])
    np.testing.assert_allclose(bounded(np.array([-4.0]), None), [-4.0])


@pytest.mark.parametrize("window", [1, 3])
def test_shrunk_rates_score_like_the_engine_in_draws(window):
    """The options work on draws arrays (leading axes) exactly as on one month."""
    m = spec([{"measures": {"value": "crime_alerts"}, "transform": {"type": "rate", "window": window,
                                                                    "shrink": "eb"}}])
    p = tiny_panel()
    arr = np.stack([p.cube(c, p.months) for c in p.measures], axis=-1)
    one = indicator_values(m, ArrayInputs(arr, p.months, p.measures, p.units, "2023-03"))
    many = indicator_values(m, ArrayInputs(np.stack([arr, arr]), p.months, p.measures, p.units, "2023-03"))
    np.testing.assert_allclose(many, np.stack([one, one]))
