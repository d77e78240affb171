"""Properties of the engine (hypothesis): monotonicity, permutation and scale invariance, order."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qyb.engine import score_values
from qyb.method import Method

N_UNITS, N_IND = 7, 4


def make_method(normalise="minmax", aggregation="arithmetic", weights=(3, 1, 2, 1), group_weights=(2, 1),
                stars=None):
    return Method({
        "name": "prop", "effective_from": "2023-01", "measures": [f"m{j}" for j in range(N_IND)],
        "defaults": {"normalise": {"method": normalise, "constant": 100} if normalise != "goalposts"
                     else {"method": "minmax"}, "aggregation": aggregation},
        "index": {"code": "index", "name": "指数"},
        "stars": stars or {"rule": "thresholds", "thresholds": {5: 80, 4: 60, 3: 40, 2: 20}},
        "groups": [{"code": "a", "weight": group_weights[0]}, {"code": "b", "weight": group_weights[1]}],
        "indicators": [{"code": f"i{j}", "parent": "a" if j < 2 else "b", "measures": {"value": f"m{j}"},
                        "transform": "value", "direction": 1 if j % 2 == 0 else -1, "weight": weights[j],
                        **({"normalise": {"method": "goalposts", "worst": 50 * (j % 2), "best": 50 * (1 - j % 2)}}
                           if normalise == "goalposts" else {})}
                       for j in range(N_IND)],
    })


values_strategy = arrays(np.float64, (N_UNITS, N_IND), elements=st.integers(0, 50).map(float))


@settings(max_examples=150, deadline=None)
@given(values_strategy, st.integers(0, N_UNITS - 1), st.integers(0, N_IND - 1), st.integers(1, 30),
       st.sampled_from(["minmax", "percentile", "goalposts"]))
def test_improving_a_raw_figure_never_lowers_the_index(values, unit, ind, step, norm):
    method = make_method(norm)
    before = score_values(method, values).index[unit]
    better = values.copy()
    better[unit, ind] += step if method.indicators[ind].direction == 1 else -step
    after = score_values(method, better).index[unit]
    assert after >= before - 1e-9


@settings(max_examples=100, deadline=None)
@given(values_strategy, st.permutations(list(range(N_UNITS))))
def test_permuting_units_changes_nothing(values, perm):
    method = make_method()
    a = score_values(method, values)
    b = score_values(method, values[perm])
    np.testing.assert_allclose(b.index, a.index[perm])
    np.testing.assert_array_equal(b.rank, a.rank[perm])
    np.testing.assert_array_equal(b.stars, a.stars[perm])


@settings(max_examples=100, deadline=None)
@given(values_strategy, st.floats(0.01, 1000), st.sampled_from(["arithmetic", "geometric"]))
def test_multiplying_all_weights_by_a_constant_changes_nothing(values, c, aggregation):
    base = make_method(aggregation=aggregation)
    scaled = make_method(aggregation=aggregation, weights=tuple(c * w for w in (3, 1, 2, 1)),
                         group_weights=(2 * c, c))
    np.testing.assert_allclose(score_values(scaled, values).index, score_values(base, values).index, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(values_strategy, st.sampled_from(["thresholds", "shares"]))
def test_stars_never_decrease_as_index_rises_and_ranks_follow_index(values, rule):
    stars = ({"rule": "shares", "shares": {5: 0.15, 4: 0.25, 3: 0.3, 2: 0.2, 1: 0.1}} if rule == "shares" else None)
    s = score_values(make_method(stars=stars), values)
    order = np.argsort(-s.index, kind="stable")
    idx, rank, star = s.index[order], s.rank[order], s.stars[order]
    assert np.all(np.diff(star) <= 0)
    assert np.all(np.diff(rank) >= 0)
    # ranks agree with the index: a strictly higher index has a strictly better rank
    higher = idx[:, None] > idx[None, :] + 1e-9
    rank_row, rank_col = np.broadcast_arrays(rank[:, None], rank[None, :])
    assert np.all(rank_row[higher] < rank_col[higher])


def test_draws_axis_is_vectorised():
    rng = np.random.default_rng(0)
    draws = rng.integers(0, 50, size=(100, N_UNITS, N_IND)).astype(float)
    method = make_method()
    batch = score_values(method, draws)
    one = score_values(method, draws[17])
    np.testing.assert_allclose(batch.index[17], one.index)
    np.testing.assert_array_equal(batch.rank[17], one.rank)
