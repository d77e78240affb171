"""qyb.method: the method in force in a month, what scoring a month reads, derived methods."""
from __future__ import annotations

import pytest

from qyb.errors import InputError
from qyb.method import load_method, method_for_month, resolve_method


def test_derived_method_records_its_parent_and_changes_the_hash():
    v2 = load_method("v2")
    derived = v2.with_weights({"fraud": 1.0})
    assert derived.spec["derived_from"]["method"] == "v2" and derived.hash != v2.hash
    assert [g.weight for g in derived.groups if g.code == "fraud"] == [1.0]


def test_the_method_in_force_is_the_latest_effective_one():
    assert method_for_month("2023-02").name == "v1"
    assert method_for_month("2023-03").name == "v2" == method_for_month("2024-01").name
    with pytest.raises(InputError, match="no method in force in 2022-12"):
        method_for_month("2022-12")
    v1 = load_method("v1")
    assert resolve_method("2023-03", v1) is v1
    assert resolve_method("2023-03", "v1").hash == v1.hash
    assert resolve_method("2023-03", None).name == "v2"


def test_lags_and_months_read():
    v2 = load_method("v2")
    lags = {i.code: i.lags for i in v2.indicators}
    assert lags["crime_rate"] == (0,)
    assert lags["fraud_reduction"] == (0, 12)  # 同比: the same month last year
    assert lags["traffic_reduction"] == (0, 1, 2, 3)  # the three previous months
    assert v2.history_needed() == 12
    assert v2.months_read("2023-03") == ["2022-03", "2022-12", "2023-01", "2023-02", "2023-03"]
    assert load_method("v1").months_read("2023-02") == ["2023-02"]
