"""Fair stars (issue 9): the reliability formula on constructed cases, the figures of v1/v2/v3 on the
sample's truth, model estimates against the truth, and the calibration targets of the rank intervals by
seeded simulation."""
from __future__ import annotations

import numpy as np
import pytest

import qyb
from qyb.method import load_method
from qyb.review.montecarlo import Choices, method_uncertainty
from qyb.review.reliability import (
    extreme_mask,
    interval_checks,
    month_figures,
    reliability_coefficient,
    responsiveness,
    simulate_month,
)
from qyb.sample import sample_truth
from qyb.sample.posterior import fit_posterior

MONTH = "2023-03"


@pytest.fixture(scope="module")
def truth():
    return sample_truth()


# ---------------------------------------------------------------- the formula
def test_reliability_known_answer_by_hand():
    # two units, three months: x = T + c_d + e; unit deviations from the month mean are +-(1 + e)
    x = np.array([[0.0, 2.0], [1.0, 5.0], [-1.0, 1.0]])  # draws x units
    # centred: [[-1, 1], [-2, 2], [-1, 1]] -> per-unit variance 1/3; noise = 2/(2-1) * 1/3 = 2/3
    # between units per draw (ddof 1): 2, 8, 2 -> mean 4;  reliability = 1 - (2/3) / 4 = 5/6
    assert reliability_coefficient(x) == pytest.approx(5 / 6)


def test_reliability_known_answer_constructed():
    """True scores with variance S^2 plus independent noise s^2 and a town-wide shift: S^2 / (S^2 + s^2)."""
    rng = np.random.default_rng(0)
    T = np.linspace(-3, 3, 29)
    S2 = T.var(ddof=1)
    for s in (0.5, 2.0, 6.0):
        x = T + rng.normal(0, 10, size=(40_000, 1)) + rng.normal(0, s, size=(40_000, 29))
        assert reliability_coefficient(x) == pytest.approx(S2 / (S2 + s ** 2), abs=0.01)
    # no noise at all: 1; no true differences: about 0
    assert reliability_coefficient(np.tile(T, (5, 1))) == pytest.approx(1.0)
    assert abs(reliability_coefficient(rng.normal(size=(40_000, 29)))) < 0.01
    # any axes; one coefficient per remaining axis
    cats = np.stack([np.tile(T, (50, 1)), np.tile(T, (50, 1)) + rng.normal(0, 100, (50, 29))], axis=-1)
    r = reliability_coefficient(cats, draws_axis=0, units_axis=1)
    assert r.shape == (2,) and r[0] == pytest.approx(1.0) and r[1] < 0.05


def test_extreme_mask():
    np.testing.assert_array_equal(extreme_mask(np.array([1, 3, 4, 26, 27, 29]), 29), [1, 1, 0, 0, 1, 1])


# ---------------------------------------------------------------- the sample's truth, v1 v2 v3
@pytest.fixture(scope="module")
def figures(truth):
    return {name: month_figures(simulate_month(load_method(name), truth, MONTH, 800, seed=1))
            for name in ("v1", "v2", "v3")}


def test_stars_are_mostly_chance_under_v1_and_v2(figures):
    v1, v2 = figures["v1"], figures["v2"]
    assert v2["index_reliability"] < 0.3 and v1["index_reliability"] < 0.5
    assert v2["p_star_truth"] < 0.45 and v1["p_star_truth"] < 0.5
    assert v2["p_keep_star"] < 0.4
    assert v2["reliability_public_order"] < 0.3  # three 压降率 of pure chance in 社会治安, 反电诈, 交通
    assert v2["size_ratio"] > 1.2 and v2["size_corr"] < 0  # small units swing more


def test_v3_meets_the_goals_of_reliability_and_stars(figures):
    v3 = figures["v3"]
    assert v3["index_reliability"] >= 0.7 and v3["p_star_truth"] >= 0.7
    assert v3["p_keep_star"] > figures["v2"]["p_keep_star"] + 0.3
    assert v3["size_ratio"] < figures["v2"]["size_ratio"]


def test_model_estimates_agree_with_the_truth(truth, figures):
    """On real data the truth is unknown; the figures estimated from posterior truths of the panel agree with
    the truth-based ones on the sample."""
    ed = qyb.load(MONTH)
    for name in ("v2", "v3"):
        m = load_method(name)
        post = fit_posterior(ed.panel, MONTH, m)
        est = month_figures(simulate_month(m, post.draw_truths(30, 2, sorted(m.months_read(MONTH))), MONTH, 40, 3))
        true = figures[name]
        assert est["index_reliability"] == pytest.approx(true["index_reliability"], abs=0.08), name
        assert est["p_star_truth"] == pytest.approx(true["p_star_truth"], abs=0.08), name
        assert est["p_keep_star"] == pytest.approx(true["p_keep_star"], abs=0.06), name


@pytest.mark.slow
def test_responsiveness_to_a_sustained_fall(truth):
    """A unit's incidents fall 30 % for good. v3 pools 3 months, so its star follows with a lag and seldom
    rises by chance; v1 reacts at once but its stars also rise by chance half the time. (v3 does not reach
    the issue's 0.8 within 3 months -- the frontier in notebook 03 shows what the data allow.)"""
    v3 = responsiveness(load_method("v3"), truth, MONTH, factor=0.7, horizon=4, n_draws=120, seed=5)
    curve = v3.curve.set_index("h")
    assert v3.units["eligible"].sum() >= 15
    assert curve.loc[1, "p_rise"] < curve.loc[2, "p_rise"] < curve.loc[3, "p_rise"]  # the window catches up
    assert v3.p_rise_within(3) > 4 * v3.control_within(3) and v3.control_within(3) < 0.15
    assert v3.months_to_rise == 3
    v1 = responsiveness(load_method("v1"), truth, MONTH, factor=0.7, horizon=3, n_draws=60, seed=5)
    assert v1.months_to_rise == 1 and v1.control_within(3) > 0.4
    # no fall, no rise beyond chance: the method's truth never lifts anybody
    flat = responsiveness(load_method("v3"), truth, MONTH, factor=1.0, horizon=3, n_draws=20, seed=5)
    assert not flat.units["eligible"].any() and flat.curve["p_rise"].isna().all()


# ---------------------------------------------------------------- calibrated uncertainty (seeded simulation)
@pytest.mark.slow
def test_calibrated_rank_intervals_meet_the_targets(truth):
    """Point 3 of issue 9, by seeded simulation from the sample's truth under v2 (the method in force):
    90 % rank intervals cover 0.88-0.93 overall and >= 0.85 for the extreme units; the mean 保持星级概率 is
    within 0.05 of the share of units that keep their star. The bootstrap they replace misses the extremes."""
    v2 = load_method("v2")
    new = interval_checks(v2, truth, MONTH, n_panels=60, n_draws=300, seed=2, model="posterior")
    assert 0.88 <= new["coverage_overall"] <= 0.93
    assert new["coverage_extreme"] >= 0.85
    assert abs(new["p_keep_predicted"] - new["p_keep_observed"]) <= 0.05
    old = interval_checks(v2, truth, MONTH, n_panels=60, n_draws=300, seed=2, model="bootstrap")
    assert old["coverage_extreme"] < 0.8 and old["p_keep_predicted"] - old["p_keep_observed"] > 0.1


# ---------------------------------------------------------------- the method Monte Carlo never degenerates
@pytest.mark.parametrize("month,name", [("2023-03", "v2"), ("2023-02", "v1")])
def test_no_option_combination_gives_degenerate_stars(month, name):
    """Percentile scores under star thresholds once gave 24-29 units one star (p_star_1 ~ 0.17 for the unit
    ranked 4th). Thresholds are now carried to each option's scale: no draw piles the town into one star."""
    ed = qyb.load(month, name)
    for norm in ("percentile", "minmax", "spec"):
        for agg in ("arithmetic", "geometric"):
            choices = Choices(weights="uniform", normalisations=(norm,), aggregations=(agg,),
                              star_rules=("thresholds",))
            r = method_uncertainty(ed.panel, month, ed.method, 300, seed=1, choices=choices)
            biggest = max((r.stars == k).sum(axis=1).max() for k in range(1, 6))
            assert biggest <= 20, (norm, agg)
            s = r.summary().set_index("rank_nominal")
            assert s.loc[4, "p_star_1"] == 0.0 and s.loc[1, "p_star_1"] == 0.0, (norm, agg)
