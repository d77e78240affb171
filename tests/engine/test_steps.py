"""The engine's data steps (impute -> screen -> treat) driven by the method spec, and their records."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.data.panel import load_panel
from qyb.engine import score_panel, score_values
from qyb.engine.screen import screen_mask
from qyb.errors import InputError
from qyb.method import Method, load_method
from qyb.paths import DATA_RAW
from qyb.reference.impute import impute_group_mean
from qyb.reference.screen import screen_units
from qyb.reference.treat import treat

NAN = np.nan
RNG = np.random.default_rng(6)


def spec(n_ind=4, **top):
    base = {
        "name": "pipe", "effective_from": "2023-01", "measures": [f"m{j}" for j in range(n_ind)],
        "missing": "skip", "index": {"code": "index"}, "stars": {"rule": "none"},
        "groups": [{"code": "a"}, {"code": "b"}],
        "indicators": [{"code": f"i{j}", "parent": "a" if j < n_ind // 2 else "b",
                        "measures": {"value": f"m{j}"}, "transform": "value",
                        "direction": -1 if j == 1 else 1, "normalise": {"method": "minmax"}}
                       for j in range(n_ind)],
    }
    base.update(top)
    return base


def skewed(n_units=30, n_ind=4):
    x = RNG.lognormal(0, 1.2, size=(n_units, n_ind))
    x[0, 0] = 80.0  # one spike
    return x


# ---------------------------------------------------------------- impute
def test_group_mean_imputation_matches_coinr_reproduction_and_is_recorded():
    x = skewed()
    x[[2, 5, 11], [0, 1, 3]] = NAN
    groups = np.array(["Asia", "Europe"] * 15, dtype=object)
    m = Method(spec(impute={"method": "group_mean", "group": "region"}))
    s = score_values(m, x, attributes={"region": groups})
    frame = pd.DataFrame(x, columns=[f"i{j}" for j in range(4)])
    expected = impute_group_mean(frame, groups).data.to_numpy()
    np.testing.assert_allclose(s.stages["imputed"], expected)
    assert s.imputed.sum() == 3 and s.imputed[2, 0] and s.imputed[11, 3]
    rec = s.step("impute")
    assert rec["method"] == "i_mean_grp" and rec["args"]["use_group"] == "region"
    assert rec["summary"] == {"n_missing": 3, "n_imputed": 3, "n_still_missing": 0}
    assert [r["step"] for r in s.steps] == ["transform", "impute", "normalise", "aggregate"]


def test_group_mean_needs_the_attribute():
    m = Method(spec(impute={"method": "group_mean", "group": "region"}))
    with pytest.raises(InputError, match="region"):
        score_values(m, skewed())


def test_missing_impute_mean_policy_is_the_mean_step():
    m = Method(spec(missing="impute_mean"))
    assert m.impute == {"method": "mean"}
    x = skewed()
    x[3, 2] = NAN
    s = score_values(m, x)
    assert s.values[3, 2] == pytest.approx(np.nanmean(x[:, 2]))
    assert s.step("impute")["method"] == "i_mean"


def test_skip_keeps_nan_through_normalisation_and_renormalises_weights():
    x = skewed()
    x[4, 0] = NAN
    s = score_values(Method(spec()), x)
    assert np.isnan(s.indicator_scores[4, 0]) and not np.isnan(s.indicator_scores[4, 1])
    assert s.nodes["a"][4] == pytest.approx(s.indicator_scores[4, 1])  # the present child alone
    assert np.isnan(s.indicator_scores[:, 0]).sum() == 1


# ---------------------------------------------------------------- screen
def test_screen_mask_matches_screen_units_and_drops_units_from_everything():
    x = skewed(n_units=12, n_ind=10)
    x[1, :2] = NAN  # 80 % available
    x[7, :1] = NAN  # 90 %
    x[9, 3:5] = 0.0
    frame = pd.DataFrame(x, columns=[f"i{j}" for j in range(10)])
    for unit_screen in ("byNA", "byzeros", "byNAandzeros"):
        ref = screen_units(frame, dat_thresh=0.9, unit_screen=unit_screen, nonzero_thresh=0.85)
        kept, _, _ = screen_mask(x, np.ones(12, bool), {"method": unit_screen, "dat_thresh": 0.9,
                                                          "nonzero_thresh": 0.85})
        np.testing.assert_array_equal(kept, ref.summary["Included"].to_numpy())
    m = Method(spec(n_ind=10, screen={"method": "byNA", "dat_thresh": 0.9}))
    s = score_values(m, x, unit_ids=np.array([f"u{k}" for k in range(12)]))
    assert np.isnan(s.index[1]) and np.isnan(s.rank[1]) and not s.present[1]
    assert np.nanmax(s.rank) == 11
    assert s.step("screen")["summary"]["removed"] == ["u1"]
    # the screened unit does not shape the others' scores
    kept = np.delete(x, 1, axis=0)
    np.testing.assert_allclose(np.delete(s.index, 1), score_values(Method(spec(n_ind=10)), kept).index)


# ---------------------------------------------------------------- treat
def test_treat_step_matches_coinr_treat_globally_and_per_indicator():
    x = skewed()
    indicators = spec()["indicators"]
    indicators[2]["treat"] = {"winmax": 1}
    indicators[3]["treat"] = "none"
    m = Method(spec(treat={"method": "winsorise", "winmax": 5}, indicators=indicators))
    s = score_values(m, x)
    frame = pd.DataFrame(x, columns=[f"i{j}" for j in range(4)])
    ref = treat(frame, winmax=5, indiv={"i2": {"winmax": 1}, "i3": "none"})
    np.testing.assert_allclose(s.stages["treated"], ref.data.to_numpy())
    rec = s.step("treat")
    got = rec["details"].drop(columns=["block", "indicator"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, ref.details.reset_index(drop=True), check_dtype=False)
    assert rec["args"]["indiv"] == {"i2": {"winmax": 1, "skew_thresh": 2.0, "kurt_thresh": 3.5,
                                           "force_win": False, "log_fallback": True}}
    assert s.stages["treated_points"][0, 0] in ("winhi", "log_CT")


def test_treat_only_on_one_indicator_without_a_global_spec():
    indicators = spec()["indicators"]
    indicators[0]["treat"] = {"method": "winsorise", "winmax": 2}
    m = Method(spec(indicators=indicators))
    assert m.treat is None and m.indicators[0].treat["winmax"] == 2 and m.indicators[1].treat is None
    s = score_values(m, skewed())
    assert list(s.step("treat")["details"]["iCode"]) == ["i0"]


def test_treat_per_block_is_vectorised_over_blocks():
    x = np.stack([skewed(), skewed()])  # two months
    m = Method(spec(treat={"method": "winsorise"}))
    both = score_values(m, x)
    for t in range(2):
        np.testing.assert_allclose(both.index[t], score_values(m, x[t]).index)
    assert len(both.step("treat")["details"]) == 8


@pytest.mark.parametrize("key,value,words", [
    ("impute", {"method": "median"}, "impute"),
    ("impute", {"method": "group_mean"}, "impute.group"),
    ("treat", {"method": "winsorise", "winmax": -1}, "treat.winmax"),
    ("treat", {"method": "winsorise", "winmx": 3}, "unknown parameters"),
    ("screen", {"method": "byNA", "dat_thresh": 1.5}, "screen.dat_thresh"),
])
def test_bad_step_specs_are_clear_errors(key, value, words):
    with pytest.raises(InputError, match=words.replace(".", r"\.")):
        Method(spec(**{key: value}))


def test_without_removes_nodes_and_prunes_empty_groups():
    m = Method(spec())
    less = m.without(["i2", "i3"])
    assert [g.code for g in less.groups] == ["a"] and [i.code for i in less.indicators] == ["i0", "i1"]
    assert less.spec["derived_from"]["method"] == "pipe"
    assert [i.code for i in m.without(["b"]).indicators] == ["i0", "i1"]
    with pytest.raises(InputError):
        m.without(["nope"])


# ---------------------------------------------------------------- the barometer
@pytest.fixture(scope="module")
def panel():
    return load_panel(DATA_RAW)


def test_barometer_methods_record_their_steps_and_are_unchanged_by_the_pipeline(panel):
    table = score_panel(panel, load_method("v2"), ["2023-03"])
    steps = [r["step"] for r in table.scores.steps]
    assert steps == ["transform", "normalise", "aggregate"]  # v2 has no data steps
    card = table.scorecard("2023-03").set_index("unit_id")
    assert card.loc["XL01", "rank"] == 2


def test_barometer_variant_winsorises_a_month_where_one_unit_spikes(panel):
    spiked = panel.with_value("2023-03", "XL05", "fires", 40)  # one unit's count spikes
    v2 = load_method("v2")
    treated = v2.derive("v2-treated", treat={"method": "winsorise", "winmax": 3})
    plain = score_panel(spiked, v2, ["2023-03"])
    table = score_panel(spiked, treated, ["2023-03"])
    rec = table.scores.step("treat")
    det = rec["details"]
    assert rec["args"]["global"]["winmax"] == 3 and len(det) == 2 * len(v2.indicators)  # per month (block)
    fires = list(treated.spec["indicators"]).index(next(i for i in treated.spec["indicators"]
                                                        if i["code"] == "fires"))
    j = [i.code for i in treated.indicators].index("fires")
    assert fires == j
    t = table.months.index("2023-03")
    unit = list(panel.units.index).index("XL05")
    assert table.scores.stages["treated"][t, unit, j] < 40  # the spike was pulled in
    assert table.scores.stages["treated_points"][t, unit, j] in ("winhi", "log_CT")
    # the other units' fire scores are no longer squeezed against one extreme
    others = np.delete(np.arange(len(panel.units)), unit)
    assert (table.scores.indicator_scores[t, others, j].mean()
            < plain.scores.indicator_scores[t, others, j].mean())


# ---------------------------------------------------------------- result helpers (体检表)
def test_strengths_weaknesses_known_answer_with_ties_and_min_discard():
    from qyb.reference.results import strengths_weaknesses
    values = pd.DataFrame({"a": [3, 2, 1], "b": [0, 0, 5], "c": [1, 2, 3], "d": [9, 1, 1]},
                          index=["u", "v", "w"], dtype=float)
    # ranks of u (1 = best): a 1, b 2 (tied with v at the bottom -> discarded), c 1 with direction -1, d 1
    s, w = strengths_weaknesses(values, "u", directions={"c": -1}, top=2, bottom=2)
    assert list(s["Code"]) == ["a", "c"] and list(s["Rank"]) == [1, 1]  # ties keep column order
    assert list(w["Code"]) == ["c", "d"]
    s, _ = strengths_weaknesses(values, "u", directions={"c": -1}, top=4, min_discard=False)
    assert list(s["Code"]) == ["a", "c", "d", "b"]


def test_unit_profile_helpers_on_the_barometer(panel):
    from qyb.reference.results import group_ranks, strengths_weaknesses, unit_summary
    table = score_panel(panel, load_method("v2"), ["2023-03"])
    card = table.scorecard("2023-03").set_index("unit_id")
    cats = card[[c for c in card.columns if c.startswith("cat_")] + ["index"]]
    summary = unit_summary(cats, "XL01", ["index", *cats.columns[:-1]])
    assert summary.loc[0, "Rank"] == card.loc["XL01", "rank"] == 2
    long = table.indicator_long("2023-03").pivot(index="unit_id", columns="indicator", values="score")
    s, w = strengths_weaknesses(long, "XL01", top=3, bottom=3)
    assert "fraud_reduction" in set(s["Code"])  # the article: 永宁's fraud-alert reduction was the town's best
    assert (s["Rank"].to_numpy() <= w["Rank"].min()).all()
    ranks = group_ranks(cats, panel.units["former_town"])
    assert ranks.groupby("former_town")["index"].min().eq(1).all()
