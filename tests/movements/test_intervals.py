"""qyb.movements.intervals: rank intervals and 保持星级概率 (issue 4, part 2; calibrated and memory-bounded in
issue 9: the posterior model by default, the bootstrap kept for comparison)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import qyb
from qyb.data.panel import Panel
from qyb.method import Method
from qyb.movements.intervals import (
    RANK_INTERVAL_COLUMNS,
    dispersion_table,
    draw_counts,
    draw_handled,
    rank_intervals,
    rank_jumps,
    resampled_measures,
)

SPEC = {
    "name": "toy", "effective_from": "2023-01", "missing": "fail",
    "defaults": {"normalise": {"method": "minmax", "low": 0, "high": 100, "constant": 100}},
    "index": {"code": "index", "name": "指数", "scale": {"method": "identity"}},
    "stars": {"rule": "shares", "shares": {5: 0.2, 4: 0.2, 3: 0.2, 2: 0.2, 1: 0.2}},
    "groups": [{"code": "order", "name": "治安", "weight": 1}, {"code": "fraud", "name": "反诈", "weight": 1}],
    "indicators": [
        {"code": "crime_rate", "parent": "order", "measures": {"value": "crime_alerts"},
         "transform": {"type": "rate", "per": 10000, "denominator": "population"}, "direction": -1},
        {"code": "fraud_rate", "parent": "fraud", "measures": {"value": "fraud_alerts"},
         "transform": {"type": "rate", "per": 10000, "denominator": "population"}, "direction": -1},
        {"code": "warn", "parent": "fraud", "measures": {"handled": "fraud_warnings_handled",
                                                          "total": "fraud_warnings"},
         "transform": "attainment", "normalise": {"method": "goalposts", "worst": 0.5, "best": 1.0}},
    ],
}
N_UNITS = 12


def toy_panel(scale: int = 1) -> Panel:
    """One month, 12 units of equal population, distinct rates; counts multiplied by ``scale``."""
    ids = [f"U{i:02d}" for i in range(N_UNITS)]
    units = pd.DataFrame({"unit_name": [f"单位{i}" for i in range(N_UNITS)], "town": "T",
                          "population": 20000.0}, index=pd.Index(ids, name="unit_id"))
    crime = np.array([12, 30, 18, 25, 9, 41, 22, 15, 35, 27, 11, 19]) * scale
    fraud = np.array([3, 7, 2, 9, 5, 4, 11, 6, 1, 8, 3, 5]) * scale
    idx = pd.MultiIndex.from_product([["2023-03"], ids], names=["month", "unit_id"])
    handled = np.array([36, 38, 33, 40, 31, 39, 35, 37, 34, 32, 30, 29]) * scale
    values = pd.DataFrame({"crime_alerts": crime, "fraud_alerts": fraud,
                           "fraud_warnings": 40 * scale, "fraud_warnings_handled": handled},
                          index=idx).astype(float)
    return Panel.from_frame(".", units, values)


@pytest.fixture(scope="module")
def toy_method() -> Method:
    return Method.from_dict(SPEC)


@pytest.fixture(scope="module")
def edition() -> qyb.Edition:
    return qyb.load("2023-03")


@pytest.fixture(scope="module")
def sample_2023_03(edition) -> pd.DataFrame:
    return edition.rank_intervals(draws=1000, seed=7)


def test_intervals_shrink_as_counts_grow(toy_method):
    widths = []
    for scale in (1, 10, 100):
        ri = rank_intervals(toy_panel(scale), "2023-03", toy_method, n_draws=2000, seed=1)
        widths.append((ri["rank_p95"] - ri["rank_p05"]).mean())
        assert ri["rank"].tolist() == rank_intervals(toy_panel(1), "2023-03", toy_method, n_draws=10)["rank"].tolist()
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] > 3 and widths[2] < 1.5


def test_reproducible_with_seed(toy_method):
    a = rank_intervals(toy_panel(), "2023-03", toy_method, n_draws=500, seed=42)
    b = rank_intervals(toy_panel(), "2023-03", toy_method, n_draws=500, seed=42)
    c = rank_intervals(toy_panel(), "2023-03", toy_method, n_draws=500, seed=43)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["p_same_stars"], c["p_same_stars"])
    # chunking does not change the draws' order or the result
    d = rank_intervals(toy_panel(), "2023-03", toy_method, n_draws=500, seed=42, chunk=128)
    pd.testing.assert_frame_equal(a.drop(columns=[]), d)


def test_columns_and_method_named(sample_2023_03):
    ri = sample_2023_03
    assert list(ri.columns[:len(RANK_INTERVAL_COLUMNS)]) == list(RANK_INTERVAL_COLUMNS)
    assert (ri["method"] == "v2").all() and ri["interval_method"].str.contains("Poisson").all()
    assert len(ri) == 29 and ri["unit_id"].is_unique
    assert ((ri["rank_p05"] <= ri["rank_median"]) & (ri["rank_median"] <= ri["rank_p95"])).all()
    assert ri[["p_top3", "p_same_stars"]].apply(lambda s: s.between(0, 1)).all().all()


def test_nominal_rank_is_the_published_one():
    for month in ("2023-02", "2023-03"):
        ed = qyb.load(month)
        ri = ed.rank_intervals(draws=20).set_index("unit_id")
        card = ed.scorecard.set_index("unit_id")
        assert (ri["rank"] == card["rank"]).all()
        assert (ri["stars"] == card["stars"]).all()
        np.testing.assert_allclose(ri["index"], card["index"], rtol=0, atol=1e-9)


def test_top3_sums_to_three_and_bootstrap_holds_the_nominal_rank(edition, sample_2023_03):
    ri = sample_2023_03
    assert ri["p_top3"].sum() == pytest.approx(3.0, abs=0.02)  # index values essentially never tie
    assert (ri["model"] == "posterior").all() and ri["interval_method"].str.contains("true rank").all()
    # the bootstrap centres every draw on the observed month, so its intervals hold the published rank
    boot = edition.rank_intervals(draws=1000, seed=7, model="bootstrap")
    inside = (boot["rank"] >= boot["rank_p05"]) & (boot["rank"] <= boot["rank_p95"])
    assert inside.mean() >= 0.9 and (boot["model"] == "bootstrap").all()
    assert boot["interval_method"].str.contains("Poisson").all()


def test_posterior_intervals_are_about_the_true_rank():
    """On the sample the truth is known: the calibrated interval holds the true rank of most units, while
    the published rank of the month's luckiest units lies outside it (永宁社区: published 2nd, true ~22nd)."""
    from qyb.sample import sample_truth, true_scores

    ed = qyb.load("2023-03")
    ri = ed.rank_intervals(draws=1500, seed=3).set_index("unit_id")
    true = pd.Series(true_scores(ed.method, "2023-03", sample_truth()).rank, index=ed.units.index)
    covered = (ri["rank_p05"] <= true) & (true <= ri["rank_p95"])
    assert covered.mean() >= 0.8
    yn = ri.loc["XL01"]
    assert yn["rank"] == 2 and yn["rank_p05"] > 10 and yn["p_top3"] < 0.01
    assert yn["rank_p05"] <= true["XL01"] <= yn["rank_p95"]
    # a lucky month does not keep its star: the posterior predictive says so
    assert yn["p_same_stars"] < 0.1


def test_chunked_draws_equal_unchunked(toy_method):
    """Draws made in chunks (bounded memory) give the same figures as all at once, for the same seed."""
    ed = qyb.load("2023-03")
    for model in ("posterior", "bootstrap"):
        whole = ed.rank_intervals(draws=300, seed=11, model=model)
        parts = rank_intervals(ed.panel, "2023-03", ed.method, n_draws=300, seed=11, model=model, chunk=64)
        pd.testing.assert_frame_equal(whole, parts)


def test_stored_ranks_equal_histograms(monkeypatch):
    """Beyond HISTOGRAM_CELLS the drawn ranks are kept instead of per-unit histograms: same figures."""
    from qyb.engine import draws

    ed = qyb.load("2023-03")
    a = ed.rank_intervals(draws=200, seed=5)
    monkeypatch.setattr(draws, "HISTOGRAM_CELLS", 10)
    b = rank_intervals(ed.panel, "2023-03", ed.method, n_draws=200, seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_rank_quantiles_match_numpy_inverted_cdf():
    from qyb.engine.draws import RankTally

    rng = np.random.default_rng(2)
    ranks = np.argsort(rng.random((997, 12)), axis=1).argsort(axis=1) + 1.0
    tally = RankTally(12, 12, np.ones(12))
    tally.add(ranks[:500], ranks[:500], np.ones((500, 12)))
    tally.add(ranks[500:], ranks[500:], np.ones((497, 12)))
    levels = [0.05, 0.5, 0.95, 0.1]
    np.testing.assert_array_equal(tally.rank_quantiles(levels),
                                  np.quantile(ranks, levels, axis=0, method="inverted_cdf"))
    np.testing.assert_allclose(tally.p_at_most(3), (ranks <= 3).mean(axis=0))


def test_memory_does_not_grow_with_the_ranks_drawn():
    """Working memory is one chunk: 4x the draws costs far less than 4x the peak (only the float32 indices
    kept for their quantiles grow, 4 bytes per draw and unit)."""
    import tracemalloc

    ed = qyb.load("2023-03")

    def peak(draws: int) -> int:
        tracemalloc.start()
        rank_intervals(ed.panel, "2023-03", ed.method, n_draws=draws, seed=1, chunk=100)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(400), peak(1600)
    assert large < 1.3 * small


def test_draw_counts_moments():
    rng = np.random.default_rng(0)
    x = np.array([0.0, 3.0, 25.0, np.nan])
    p = draw_counts(x, 200_000, rng)
    assert np.isnan(p[:, 3]).all()
    # without history a zero draws from its Jeffreys posterior predictive: Gamma(1/2, 1)-Poisson
    assert p[:, 0].mean() == pytest.approx(0.5, rel=0.02) and p[:, 0].var() == pytest.approx(1.0, rel=0.03)
    # with a town-rate prior m: Gamma(m, 2)-Poisson, mean m/2, variance m/2 + m/4; m = 0 stays 0
    z = draw_counts(np.array([0.0, 0.0, 0.0]), 200_000, rng, zero_prior=np.array([4.0, 0.03, 0.0]))
    assert z[:, 0].mean() == pytest.approx(2.0, rel=0.02)
    assert z[:, 1].mean() == pytest.approx(0.015, abs=0.0015)  # Monte Carlo sd of the mean ~ 0.0003
    assert z[:, 0].var() == pytest.approx(3.0, rel=0.03) and (z[:, 2] == 0).all()
    np.testing.assert_allclose(p[:, 1:3].mean(0), [3, 25], rtol=0.01)
    np.testing.assert_allclose(p[:, 1:3].var(0), [3, 25], rtol=0.02)
    nb = draw_counts(x, 200_000, rng, size=5.0)
    np.testing.assert_allclose(nb[:, 1:3].mean(0), [3, 25], rtol=0.01)
    np.testing.assert_allclose(nb[:, 1:3].var(0), [3 + 9 / 5, 25 + 625 / 5], rtol=0.03)


def test_draw_handled_binomial():
    rng = np.random.default_rng(0)
    h = draw_handled(np.array([36.0, 40.0, 0.0]), np.array([40.0, 40.0, 0.0]), 100_000, rng)
    assert (h <= 40).all() and (h[:, 2] == 0).all()
    # beta-binomial: p ~ Beta(h + 1/2, t - h + 1/2); mean t (h + 1/2) / (t + 1)
    assert h[:, 0].mean() == pytest.approx(40 * 36.5 / 41, rel=0.005)
    a, b, t = 36.5, 4.5, 40
    var = t * a * b * (a + b + t) / ((a + b) ** 2 * (a + b + 1))
    assert h[:, 0].var() == pytest.approx(var, rel=0.05)
    # 40 of 40 is not certain: some draws fall short, most do not
    assert 0.5 < (h[:, 1] == 40).mean() < 1.0


def test_dispersion_rule():
    rng = np.random.default_rng(0)
    means = rng.uniform(5, 40, size=200)
    pois = rng.poisson(np.broadcast_to(means, (12, 200))).astype(float)
    k = 4.0
    nb = rng.poisson(rng.gamma(k, np.broadcast_to(means / k, (12, 200)))).astype(float)
    t = dispersion_table({"crime_alerts": pois, "fraud_alerts": nb}).set_index("measure")
    assert t.loc["crime_alerts", "distribution"] == "poisson"
    assert t.loc["fraud_alerts", "distribution"] == "negative binomial"
    assert t.loc["fraud_alerts", "size"] == pytest.approx(k, rel=0.25)


def test_resampled_measures_cover_method(toy_method):
    counts, pairs = resampled_measures(toy_method)
    assert counts == ["crime_alerts", "fraud_alerts"]
    assert pairs == [("fraud_warnings_handled", "fraud_warnings")]


def test_yongning_jump_against_both_intervals(edition, sample_2023_03):
    # 27 -> 2 is a large move; whether it clears both 90 % intervals is read off the draws, and
    # jump_survives says exactly that (March's upper end below February's lower end)
    previous = edition.previous()  # February as published: under v1, the method in force then
    assert previous.month == "2023-02" and previous.method.name == "v1"
    before = previous.rank_intervals(draws=1000, seed=7)
    jumps = rank_jumps(sample_2023_03, before).set_index("unit_id")
    yn = jumps.loc["XL01"]
    assert (yn["rank_before"], yn["rank"], yn["method_before"], yn["method"]) == (27, 2, "v1", "v2")
    assert bool(yn["jump_survives"]) == (yn["rank_p95"] < yn["rank_p05_before"])
    # the calibrated intervals of the true rank overlap: the jump is not told apart from chance
    assert yn["move"] == 25 and yn["rank_p05"] > 10 and not yn["jump_survives"]
    # the bootstrap, taking each observed month as the truth, saw a real jump
    boot_now = edition.rank_intervals(draws=1000, seed=7, model="bootstrap")
    boot_before = previous.rank_intervals(draws=1000, seed=7, model="bootstrap")
    boot = rank_jumps(boot_now, boot_before).set_index("unit_id").loc["XL01"]
    assert boot["rank_p95"] <= 16 and boot["rank_p05_before"] >= 10


def test_ranking_table_gains_interval_columns(edition, sample_2023_03):
    from qyb.method import load_method
    from qyb.report import ranking

    card = edition.scorecard
    table = ranking.ranking_table(card, load_method("v2"), intervals=sample_2023_03)
    assert list(table.columns[-2:]) == ["排名区间 (5–95%)", "保持星级概率"]
    yn = table.set_index("单位编码").loc["XL01"]
    ri = sample_2023_03.set_index("unit_id").loc["XL01"]
    assert yn["排名区间 (5–95%)"] == f"{int(ri['rank_p05'])}–{int(ri['rank_p95'])}"
    assert yn["保持星级概率"] == round(ri["p_same_stars"], 2)
    assert list(ranking.ranking_table(card, load_method("v2")).columns) == list(table.columns[:-2])
    # the edition's 榜单 is the same table
    pd.testing.assert_frame_equal(edition.ranking(intervals=sample_2023_03), table)
