"""Monte Carlo over method choices (issue 5): exactness at zero perturbation, per-option agreement with
the engine, reproducibility, the weight distributions, and the Sobol indices of the rank shift."""
from __future__ import annotations

import numpy as np
import pytest

import qyb
from qyb.engine import score_panel, score_values
from qyb.review.montecarlo import (
    DEFAULT_SHARES,
    Choices,
    UncertaintyModel,
    derive_choice,
    method_uncertainty,
    sobol_rank_shift,
    star_rule,
)

SUMMARY = ["unit_id", "unit_name", "rank_nominal", "rank_median", "rank_p05", "rank_p95",
           "p_star_1", "p_star_2", "p_star_3", "p_star_4", "p_star_5", "stars_nominal"]


@pytest.fixture(scope="module")
def march():
    """2023-03 under v2 (star rule by shares): table, panel and the default model."""
    ed = qyb.load("2023-03", "v2")
    table, panel = ed.table, ed.panel
    return table, panel, UncertaintyModel.from_table(table, panel, "2023-03")


@pytest.mark.parametrize("month,method", [("2023-02", "v1"), ("2023-07", "v2")])
def test_zero_perturbation_reproduces_nominal_ranking_exactly(month, method):
    ed = qyb.load(month, method)
    card = ed.scorecard
    result = method_uncertainty(ed.panel, month, ed.method, n_draws=200, seed=3, choices=Choices.none())
    assert result.ranks.shape == (200, 29)
    np.testing.assert_array_equal(result.ranks, np.tile(card["rank"].to_numpy(float), (200, 1)))
    np.testing.assert_array_equal(result.stars, np.tile(card["stars"].to_numpy(float), (200, 1)))
    np.testing.assert_array_equal(result.rank_nominal, card["rank"].to_numpy(float))
    s = result.summary()
    assert (s["rank_median"] == s["rank_nominal"]).all() and (s["rank_p05"] == s["rank_p95"]).all()
    assert result.town()["mean_abs_rank_shift"].iloc[0] == 0.0


def test_zero_perturbation_march_and_zero_spread(march):
    table, panel, _ = march
    none = UncertaintyModel.from_table(table, panel, "2023-03", Choices.none()).run(100, seed=1)
    np.testing.assert_array_equal(none.ranks, np.tile(table.scores.rank[1], (100, 1)))
    np.testing.assert_array_equal(none.stars, np.tile(table.scores.stars[1], (100, 1)))
    # a uniform spread of 0 is the same as no weight variation
    zero = UncertaintyModel.from_table(table, panel, "2023-03", Choices(
        weights="uniform", spread=0.0, normalisations=("spec",), aggregations=("spec",),
        star_rules=("spec",))).run(100, seed=1)
    np.testing.assert_array_equal(zero.ranks, none.ranks)


@pytest.mark.parametrize("normalisation", ["spec", "minmax", "percentile"])
@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric"])
def test_each_fixed_option_equals_the_engine_on_the_derived_method(march, normalisation, aggregation):
    table, panel, _ = march
    choices = Choices(weights="none", normalisations=(normalisation,), aggregations=(aggregation,),
                      star_rules=("spec",))
    model = UncertaintyModel.from_table(table, panel, "2023-03", choices)
    ranks, stars, _ = model.evaluate(np.zeros((3, 0)))
    derived = derive_choice(table.method, normalisation, aggregation)
    engine = score_panel(panel, derived, ["2023-03"]).scores
    t = 1  # months: [2023-02, 2023-03]
    np.testing.assert_array_equal(ranks, np.tile(engine.rank[t], (3, 1)))
    np.testing.assert_array_equal(stars, np.tile(engine.stars[t], (3, 1)))


def test_weights_only_equals_engine_with_those_weights(march):
    table, panel, model = march
    w = np.array([30, 10, 10, 10, 10, 10, 10, 5, 5], dtype=float)
    ranks, stars = model.ranks_for_weights(w)
    derived = table.method.with_weights(dict(zip(model.categories, w)))
    engine = score_panel(panel, derived, ["2023-03"]).scores
    np.testing.assert_array_equal(ranks[0], engine.rank[1])
    np.testing.assert_array_equal(stars[0], engine.stars[1])


def test_seed_reproducibility(march):
    _, _, model = march
    a, b, c = model.run(2000, seed=11), model.run(2000, seed=11), model.run(2000, seed=12)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    np.testing.assert_array_equal(a.stars, b.stars)
    assert a.summary().equals(b.summary())
    assert not np.array_equal(a.ranks, c.ranks)


def test_summary_columns_and_probabilities(march):
    _, _, model = march
    r = model.run(3000, seed=0)
    s = r.summary()
    assert list(s.columns) == SUMMARY
    assert len(s) == 29
    np.testing.assert_allclose(s[[f"p_star_{k}" for k in range(1, 6)]].sum(axis=1), 1.0)
    assert ((s["rank_p05"] <= s["rank_median"]) & (s["rank_median"] <= s["rank_p95"])).all()
    assert s.loc[s.unit_id == "XL01", "rank_nominal"].item() == 2
    # mean absolute rank shift = mean over draws of mean over units of |rank - nominal|
    manual = np.abs(r.ranks - r.rank_nominal).mean()
    assert r.town()["mean_abs_rank_shift"].item() == pytest.approx(manual)
    assert r.town()["mean_abs_rank_shift"].item() > 0
    # every draw is a permutation-with-ties ranking: rank 1 present in every draw
    assert (r.ranks.min(axis=1) == 1).all()


def test_weight_distributions(march):
    table, panel, model = march
    u = np.random.default_rng(0).random((20000, model.n_factors))
    w = model.weights_of(u)
    w0 = model.nominal_weights
    assert (w >= 0.75 * w0 - 1e-12).all() and (w <= 1.25 * w0 + 1e-12).all()
    np.testing.assert_allclose(w.mean(axis=0), w0, rtol=0.01)
    dm = UncertaintyModel.from_table(table, panel, "2023-03", Choices(weights="dirichlet", concentration=50.0))
    wd = dm.weights_of(np.random.default_rng(1).random((20000, dm.n_factors)))
    share = w0 / w0.sum()
    np.testing.assert_allclose(wd.sum(axis=1), 1.0)
    np.testing.assert_allclose(wd.mean(axis=0), share, atol=0.003)
    # Var w_c = s_c (1 - s_c) / (kappa + 1)
    np.testing.assert_allclose(wd.var(axis=0), share * (1 - share) / 51.0, rtol=0.1)


def test_star_rules():
    from qyb.method import load_method

    v1, v2 = load_method("v1"), load_method("v2")
    assert star_rule(v1, "spec") == v1.stars and star_rule(v1, "thresholds") == v1.stars
    assert star_rule(v1, "shares") == {"rule": "shares", "shares": DEFAULT_SHARES}
    # v1's thresholds 80/70/60/50 on v2's 60 + 0.4 x total scale
    assert star_rule(v2, "thresholds")["thresholds"] == {5: 92.0, 4: 88.0, 3: 84.0, 2: 80.0}


def test_choices_validation():
    with pytest.raises(ValueError, match="weights"):
        Choices(weights="triangular")
    with pytest.raises(ValueError, match="normalisations"):
        Choices(normalisations=("zscore",))
    with pytest.raises(ValueError, match="spread"):
        Choices(spread=1.5)


def test_sobol_of_rank_shift(march):
    _, _, model = march
    result = sobol_rank_shift(model, 256, seed=5, n_boot=200)
    assert (result.n, result.n_boot, result.seed) == (256, 200, 5)
    s = result.table
    assert list(s.columns) == ["factor", "S1", "S1_lower", "S1_upper", "ST", "ST_lower", "ST_upper"]
    assert list(s["factor"]) == ["weights", "normalisation", "aggregation", "star_rule"]
    star = s.set_index("factor").loc["star_rule"]
    assert star["S1"] == 0.0 and star["ST"] == 0.0  # stars never move ranks
    assert (s["ST"] >= -0.05).all() and (s["ST_lower"] <= s["ST_upper"]).all()
    again = sobol_rank_shift(model, 256, seed=5, n_boot=200).table
    assert s.equals(again)
    per_category = sobol_rank_shift(model, 256, seed=5, n_boot=0, grouped=False).table
    assert per_category["factor"].tolist()[:9] == [f"w_{c}" for c in model.categories]


def test_sobol_single_factor_explains_everything(march):
    table, panel, _ = march
    only_weights = UncertaintyModel.from_table(
        table, panel, "2023-03", Choices(normalisations=("spec",), aggregations=("spec",), star_rules=("spec",)))
    assert only_weights.factors == [f"w_{c}" for c in only_weights.categories]
    s = sobol_rank_shift(only_weights, 512, seed=2, n_boot=0).table.set_index("factor")
    assert s.loc["weights", "ST"] == pytest.approx(1.0, abs=0.1)
    assert s.loc["weights", "S1"] == pytest.approx(1.0, abs=0.15)


def test_tiny_geometric_by_hand():
    """Three units, two categories of one indicator each (no normalisation): the geometric draw by hand."""
    from qyb.method import Method

    spec = {
        "name": "tiny", "effective_from": "2023-01",
        "index": {"code": "index", "scale": {"method": "identity"}},
        "stars": {"rule": "thresholds", "thresholds": {5: 80, 4: 60, 3: 40, 2: 20}},
        "groups": [{"code": "a", "weight": 3}, {"code": "b", "weight": 1}],
        "indicators": [
            {"code": "x", "parent": "a", "measures": {"value": "crime_alerts"}, "transform": "value",
             "normalise": "none"},
            {"code": "y", "parent": "b", "measures": {"value": "fires"}, "transform": "value",
             "normalise": "none"},
        ],
    }
    m = Method.from_dict(spec)
    values = np.array([[80.0, 10.0], [40.0, 90.0], [60.0, 40.0]])
    model = UncertaintyModel(m, values, choices=Choices(weights="none", normalisations=("spec",),
                                                        aggregations=("arithmetic", "geometric"),
                                                        star_rules=("spec",)))
    ranks, stars, choice = model.evaluate(np.array([[0.1], [0.9]]))
    assert choice["aggregation"].tolist() == [0, 1]
    arith = (3 * values[:, 0] + values[:, 1]) / 4  # 62.5, 52.5, 55
    geo = np.exp((3 * np.log(values[:, 0]) + np.log(values[:, 1])) / 4)  # 47.6, 51.6, 54.2
    np.testing.assert_array_equal(ranks[0], [1, 3, 2])
    np.testing.assert_array_equal(ranks[1], [3, 2, 1])
    assert arith.argmax() == 0 and geo.argmax() == 2
    np.testing.assert_array_equal(stars[0], [4, 3, 3])
    # the thresholds are carried to the geometric scale by equipercentile linking: one unit reaches the
    # 4-star minimum (60) under the spec's arithmetic mean, so the unit first under the geometric mean
    # (54.2) is the one with four stars there (the spec's 60 would give nobody four stars)
    np.testing.assert_array_equal(stars[1], [3, 3, 4])
    # and the engine agrees on the geometric variant
    engine = score_values(derive_choice(m, "spec", "geometric"), values)
    np.testing.assert_allclose(engine.index, geo)
