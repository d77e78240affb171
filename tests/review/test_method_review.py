"""Method review (issue 5): effective weights, schemes, comparison (Kendall τ), the method/data
decomposition of 永宁's 27 -> 2, leave-one-category-out and coherence — with numbers asserted."""
from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import qyb
from qyb.engine import score_panel, score_values
from qyb.method import Method, load_method
from qyb.review import TABLE_COLUMNS, compare_methods, decompose_rank_change, leave_one_out
from qyb.review.coherence import coherence_tables
from qyb.review.effective import category_weights, effective_weights, effective_weights_from_table, weights_table
from qyb.review.montecarlo import Choices, UncertaintyModel
from qyb.review.schemes import scheme_method, scheme_ranks


@pytest.fixture(scope="module")
def march() -> qyb.Edition:
    """2023-03 under v2 (the method in force), on the sample data."""
    return qyb.load("2023-03", "v2")


def tiny_method(weights=(2, 1, 1)) -> Method:
    """Three categories of one indicator each, no normalisation (score = value), arithmetic."""
    measures = ["crime_alerts", "fraud_alerts", "fires"]
    return Method.from_dict({
        "name": "tiny", "effective_from": "2023-01",
        "index": {"code": "index", "scale": {"method": "identity"}},
        "stars": {"rule": "thresholds", "thresholds": {5: 80, 4: 60, 3: 40, 2: 20}},
        "groups": [{"code": c, "weight": w} for c, w in zip("abc", weights)],
        "indicators": [{"code": f"x_{c}", "parent": c, "measures": {"value": m}, "transform": "value",
                        "normalise": "none"} for c, m in zip("abc", measures)],
    })


# ---------------------------------------------------------------- effective weights
def test_effective_weights_follow_nominal_shares_on_orthogonal_categories():
    """Uncorrelated categories of equal variance: r_c = w_c σ / σ_Y, so r² shares are w_c² / Σ w²."""
    m = tiny_method((5, 3, 2))
    h = np.array([[1, 1, 1], [1, -1, 1], [1, 1, -1], [1, -1, -1],
                  [-1, 1, 1], [-1, -1, 1], [-1, 1, -1], [-1, -1, -1]], dtype=float)  # orthogonal ±1 design
    values = 50 + 10 * h
    scores = score_values(m, values[None])  # one month
    table = SimpleNamespace(method=m, months=["2023-01"], scores=scores)
    eff = effective_weights_from_table(table, ["2023-01"]).set_index("category")
    np.testing.assert_allclose(eff["nominal"], [0.5, 0.3, 0.2])
    np.testing.assert_allclose(eff["r2_share"], np.array([25, 9, 4]) / 38)
    np.testing.assert_allclose(eff["r"], np.array([5, 3, 2]) / np.sqrt(38))
    assert list(eff["r2_share"].rank(ascending=False)) == list(eff["nominal"].rank(ascending=False))
    assert list(eff["eta2_share"].rank(ascending=False)) == [1.0, 2.0, 3.0]
    assert (eff["n"] == 8).all()


def test_effective_weights_sample_month(march):
    eff = effective_weights_from_table(march.table, ["2023-03"])
    pd.testing.assert_frame_equal(effective_weights(march.panel, march.method, "2023-03"), eff)
    assert list(eff.columns) == ["category", "category_name", "nominal", "r", "r2", "r2_share", "eta2",
                                 "eta2_share", "n"]
    np.testing.assert_allclose(eff["nominal"].sum(), 1.0)
    np.testing.assert_allclose(eff["r2_share"].sum(), 1.0)
    assert eff.loc[eff.category == "public_order", "nominal"].item() == pytest.approx(0.22)
    assert eff["category_name"].iloc[0] == "社会治安"


# ---------------------------------------------------------------- comparison and Kendall's tau
def _tau_b_by_pairs(x, y) -> float:
    """Kendall's τ_b by counting pairs (Kendall 1945), independent of scipy."""
    conc = disc = tx = ty = 0
    for i, j in combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif dx == dy:
            conc += 1
        else:
            disc += 1
    return (conc - disc) / np.sqrt((conc + disc + tx) * (conc + disc + ty))


def test_compare_methods_kendall_tau_against_scipy_and_pair_counting():
    panel = qyb.load("2023-04").panel
    cmp = compare_methods(panel, "v1", "v2", "2023-03", "2023-04")
    assert cmp.summary["month"].tolist() == ["2023-03", "2023-04"]
    for month in ("2023-03", "2023-04"):
        a = qyb.load(month, "v1").scorecard["rank"].to_numpy()
        b = qyb.load(month, "v2").scorecard["rank"].to_numpy()
        row = cmp.summary.set_index("month").loc[month]
        ref = stats.kendalltau(a, b)
        assert row["kendall_tau"] == pytest.approx(ref.statistic, abs=1e-12)
        assert row["kendall_pvalue"] == pytest.approx(ref.pvalue, abs=1e-12)
        assert row["kendall_tau"] == pytest.approx(_tau_b_by_pairs(a, b), abs=1e-12)
        assert row["mean_abs_rank_shift"] == pytest.approx(np.abs(a - b).mean())
        u = cmp.units[cmp.units.month == month]
        np.testing.assert_array_equal(u["rank_a"], a)
        np.testing.assert_array_equal(u["rank_shift"], a - b)
    top = cmp.most_affected(3, "2023-03")
    assert len(top) == 3 and top["abs_shift"].is_monotonic_decreasing
    assert top["abs_shift"].iloc[0] == cmp.summary.set_index("month").loc["2023-03", "max_abs_rank_shift"]
    same = compare_methods(panel, "v2", "v2", "2023-03")
    assert same.summary["kendall_tau"].item() == pytest.approx(1.0)
    assert same.summary["n_star_changes"].item() == 0


# ---------------------------------------------------------------- decomposition
@pytest.fixture(scope="module")
def decomposition(march):
    return decompose_rank_change(march.panel, "2023-02", "v1", "2023-03", "v2")


def test_decomposition_parts_add_up_for_every_unit(decomposition):
    d = decomposition
    assert list(d.columns[:9]) == TABLE_COLUMNS["method_decomposition"]
    assert len(d) == 29
    np.testing.assert_array_equal(d["method_effect"] + d["data_effect"], d["rank_from"] - d["rank_to"])
    np.testing.assert_array_equal(d["method_effect_alt"] + d["data_effect_alt"], d["total_change"])
    np.testing.assert_allclose(d["method_effect_shapley"] + d["data_effect_shapley"], d["total_change"])
    # the ends are the published ranks: February under v1, March under v2
    feb, mar = qyb.load("2023-02", "v1").scorecard, qyb.load("2023-03", "v2").scorecard
    np.testing.assert_array_equal(d["rank_from"], feb["rank"])
    np.testing.assert_array_equal(d["rank_to"], mar["rank"])
    # the middle step is February's data under v2: the scorecard's rank_prev (same method)
    np.testing.assert_array_equal(d["rank_mid"], mar["rank_prev"].to_numpy(dtype=int))


def test_decomposition_yongning(decomposition):
    r = decomposition.set_index("unit_id").loc["XL01"]
    assert r["unit_name"] == "永宁社区"
    assert (r["rank_from"], r["rank_mid"], r["rank_to"]) == (27, 26, 2)
    assert (r["method_effect"], r["data_effect"], r["total_change"]) == (1, 24, 25)
    assert (r["rank_alt_mid"], r["method_effect_alt"], r["data_effect_alt"]) == (6, 4, 21)
    assert (r["method_effect_shapley"], r["data_effect_shapley"]) == (2.5, 22.5)


# ---------------------------------------------------------------- leave one category out
def test_leave_one_out_tiny_case_by_hand():
    m = tiny_method((2, 1, 1))
    values = np.array([[90.0, 10.0, 10.0],    # A: index (180+10+10)/4 = 50
                       [50.0, 60.0, 60.0],    # B: (100+60+60)/4 = 55
                       [70.0, 40.0, 30.0]])   # C: (140+40+30)/4 = 52.5
    model = UncertaintyModel(m, values, choices=Choices.none(), unit_ids=["A", "B", "C"])
    np.testing.assert_array_equal(model.rank_nominal, [3, 1, 2])
    result = leave_one_out(model)
    loo = result.ranks
    got = loo.pivot(index="unit_id", columns="category", values="rank_without")
    # without a: A 10, B 60, C 35 -> 3,1,2; without b: A 63.3, B 53.3, C 56.7 -> 1,3,2;
    # without c: A 63.3, B 53.3, C 60 -> 1,3,2
    assert got.to_dict("list") == {"a": [3, 1, 2], "b": [1, 3, 2], "c": [1, 3, 2]}
    shift = loo.pivot(index="unit_id", columns="category", values="rank_shift")
    assert shift.to_dict("list") == {"a": [0, 0, 0], "b": [2, -2, 0], "c": [2, -2, 0]}
    summary = result.summary.set_index("category")
    assert summary["mean_abs_rank_shift"].tolist() == pytest.approx([0.0, 4 / 3, 4 / 3])
    # the engine agrees: scoring the method with the category removed
    for c in "abc":
        engine = score_values(m.without([c]), values[:, [k for k, x in enumerate("abc") if x != c]])
        np.testing.assert_array_equal(engine.rank, got[c].to_numpy())


def test_leave_one_out_sample_matches_engine(march):
    table, panel = march.table, march.panel
    model = UncertaintyModel.from_table(table, panel, "2023-03", Choices.none())
    loo = leave_one_out(model).ranks
    assert len(loo) == 9 * 29
    for code in ("fraud", "patrol"):
        engine = score_panel(panel, table.method.without([code]), ["2023-03"]).scores.rank[1]
        got = loo[loo.category == code]["rank_without"].to_numpy()
        np.testing.assert_array_equal(got, engine)


# ---------------------------------------------------------------- schemes and weights table
def test_scheme_method_and_ranks(march):
    v2 = load_method("v2")
    derived = scheme_method(v2, {g.code: 1.0 for g in v2.categories}, "equal")
    assert derived.name == "v2+equal" and derived.spec["derived_from"]["method"] == "v2"
    assert [g.weight for g in derived.categories] == pytest.approx([100 / 9] * 9)
    weights, ranks = scheme_ranks(march.panel, "2023-03", v2, schemes=["equal", "entropy"])
    assert set(weights["scheme"]) == {"equal", "entropy"}
    np.testing.assert_allclose(weights.groupby("scheme")["weight"].sum(), 1.0)
    card = march.scorecard
    nominal = ranks[ranks.scheme == "nominal"]
    np.testing.assert_array_equal(nominal["rank"], card["rank"])
    assert (nominal["rank_shift"] == 0).all()
    # the equal-weights ranking is the engine's on the derived method
    table = march.rescore(derived).table
    np.testing.assert_array_equal(ranks[ranks.scheme == "equal"]["rank"], table.scores.rank[-1])


def test_weights_table_has_every_scheme():
    v2 = load_method("v2")
    eff = pd.DataFrame({"category": [g.code for g in v2.categories], "r2_share": 1 / 9, "eta2_share": 1 / 9})
    schemes = pd.DataFrame({"scheme": "equal", "category": eff["category"], "weight": 1 / 9})
    t = weights_table(v2, eff, schemes)
    assert list(t.columns) == ["scheme", "category", "weight"]
    assert t["scheme"].unique().tolist() == ["nominal", "effective_r2", "effective_eta2", "equal"]
    np.testing.assert_allclose(t.groupby("scheme")["weight"].sum(), 1.0)
    assert category_weights(v2)["fraud"] == pytest.approx(0.18)


# ---------------------------------------------------------------- coherence
def test_coherence_tables(march):
    table = march.table
    coh = coherence_tables(table, "2023-03")
    codes = [i.code for i in table.method.indicators]
    assert list(coh.correlation.columns) == codes and coh.correlation.shape == (14, 14)
    np.testing.assert_allclose(np.diag(coh.correlation.to_numpy())[~np.isnan(np.diag(coh.correlation))], 1.0)
    a = coh.alpha.set_index("category")
    assert a.loc["fraud", "k"] == 3 and a.loc["patrol", "k"] == 1 and np.isnan(a.loc["patrol", "alpha"])
    x = pd.DataFrame(table.scores.indicator_scores[1], columns=codes)[["crime_rate", "crime_reduction"]]
    k, c = 2, x.cov().to_numpy()
    assert a.loc["public_order", "alpha"] == pytest.approx(k / (k - 1) * (1 - np.trace(c) / c.sum()))
    assert coh.pca["proportion"].sum() == pytest.approx(1.0)
    assert coh.pca["cumulative"].is_monotonic_increasing
