"""The noise-robust spec options (issue 9): accepted as documented, every bad value a clear error naming
the key, and methods/v3.yaml a candidate that is never in force by itself."""
from __future__ import annotations

import copy

import pytest

import qyb
from qyb.errors import InputError
from qyb.method import Method, load_method, method_for_month

BASE = {
    "name": "t", "effective_from": "2023-01",
    "index": {"code": "index", "scale": {"method": "identity"}},
    "stars": {"rule": "shares", "shares": {5: 0.2, 4: 0.2, 3: 0.2, 2: 0.2, 1: 0.2}},
    "groups": [{"code": "g", "name": "组", "weight": 1}],
    "indicators": [{"code": "r", "parent": "g", "measures": {"value": "crime_alerts"},
                    "transform": {"type": "rate"}, "direction": -1},
                   {"code": "d", "parent": "g", "measures": {"value": "fraud_alerts"},
                    "transform": {"type": "reduction"}},
                   {"code": "a", "parent": "g", "measures": {"handled": "disputes_resolved",
                                                            "total": "disputes_received"},
                    "transform": {"type": "attainment"}}],
    "deductions": [{"measure": "traffic_deaths", "points": 20, "target": "g"}],
}


def with_(path: str, value) -> dict:
    spec = copy.deepcopy(BASE)
    node = spec
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    node[keys[-1]] = value
    return spec


@pytest.mark.parametrize("path,value,lags", [
    ("indicators.0.transform.window", 3, (0, 1, 2)),
    ("indicators.0.transform.shrink", "eb", (0,)),
    ("indicators.1.transform.baseline", "12m", (0, *range(1, 13))),
    ("indicators.1.transform.bound", 1.0, (0, 12)),
    ("indicators.2.transform.window", 12, tuple(range(12))),
])
def test_each_option_is_accepted_with_the_months_it_reads(path, value, lags):
    m = Method.from_dict(with_(path, value))
    ind = m.indicators[int(path.split(".")[1])]
    assert ind.transform[path.split(".")[-1]] == value
    assert ind.lags == lags


def test_reduction_window_shifts_the_baseline():
    m = Method.from_dict(with_("indicators.1.transform", {"type": "reduction", "baseline": "12m", "window": 3}))
    assert m.indicators[1].lags == tuple(range(15))  # the window 0..2 and the twelve months before it
    m = Method.from_dict(with_("indicators.1.transform", {"type": "reduction", "baseline": "yoy", "window": 3}))
    assert m.indicators[1].lags == (0, 1, 2, 12, 13, 14)


def test_deduction_window_and_bands_are_accepted():
    spec = with_("deductions.0.window", 12)
    spec["stars"] = {"rule": "bands", "bands": {5: 6, 4: 3, 2: 3, 1: 6}}
    m = Method.from_dict(spec)
    assert m.deduction_window("traffic_deaths") == 12 and m.history_needed() == 12
    assert m.stars["rule"] == "bands"


@pytest.mark.parametrize("path,value,key", [
    ("indicators.0.transform.window", 0, "indicators[0].transform.window"),
    ("indicators.0.transform.window", 25, "indicators[0].transform.window"),
    ("indicators.0.transform.window", 1.5, "indicators[0].transform.window"),
    ("indicators.0.transform.window", True, "indicators[0].transform.window"),
    ("indicators.0.transform.shrink", "bayes", "indicators[0].transform.shrink"),
    ("indicators.1.transform.bound", -1, "indicators[1].transform.bound"),
    ("indicators.1.transform.bound", "one", "indicators[1].transform.bound"),
    ("indicators.1.transform.baseline", "6m", "indicators[1].transform.baseline"),
    ("indicators.1.transform.shrink", "eb", "indicators[1].transform"),  # no shrink for a 压降率
    ("indicators.2.transform.bound", 1, "indicators[2].transform"),  # no bound for attainment
    ("deductions.0.window", 0, "deductions[0].window"),
    ("candidate", "yes", "candidate"),
])
def test_bad_option_values_name_the_key(path, value, key):
    with pytest.raises(InputError) as err:
        Method.from_dict(with_(path, value), "spec.yaml")
    text = err.value.message()
    assert f"key '{key}" in text and "spec.yaml" in text


@pytest.mark.parametrize("bands", [None, {5: 6, 4: 3, 2: 3}, {5: 2, 4: 3, 2: 3, 1: 6}, {5: 6, 4: 3, 2: 4, 1: 3},
                                   {5: 6, 4: 0, 2: 3, 1: 6}, {5: 6, 4: 3, 2: 3, 1: float("nan")}])
def test_bad_bands(bands):
    spec = copy.deepcopy(BASE)
    spec["stars"] = {"rule": "bands", "bands": bands}
    with pytest.raises(InputError, match="stars.bands"):
        Method.from_dict(spec)


def test_rules_on_one_measure_share_a_window():
    spec = copy.deepcopy(BASE)
    spec["deductions"] = [{"measure": "traffic_deaths", "points": 20, "target": "g", "window": 12},
                          {"measure": "traffic_deaths", "points": 5, "target": "index", "window": 3}]
    with pytest.raises(InputError, match="different windows"):
        Method.from_dict(spec)


def test_v3_is_a_valid_candidate_never_in_force():
    v3 = load_method("v3")
    assert v3.candidate and v3.spec["illustrative"] and v3.stars["rule"] == "bands"
    assert v3.history_needed() == 11
    # the sample's months stay under v2 (and v1 in 2023-02), also after v3's nominal effective month
    assert method_for_month("2023-12").name == "v2" and method_for_month("2024-06").name == "v2"
    assert qyb.load("2023-12").method.name == "v2" and qyb.load("2023-02").method.name == "v1"
    # named, it scores every month with a year of history
    card = qyb.load("2023-03", "v3").scorecard
    assert len(card) == 29 and card["stars"].between(1, 5).all() and (card["method"] == "v3").all()


def test_v1_and_v2_figures_are_unchanged_by_the_new_options():
    """The options default to the old behaviour: v2's hash and published scores are those of before."""
    v2 = load_method("v2")
    assert v2.hash[:8] == "d8d7c790"
    mar = qyb.load("2023-03").scorecard.set_index("unit_id")
    assert mar.at["XL01", "rank"] == 2 and mar.at["XL01", "stars"] == 5
