"""Imputation (qyb.reference.impute) against COINr's published imputation tables and by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qyb.reference.denominate import denominate
from qyb.reference.impute import (
    impute_group_mean,
    impute_group_median,
    impute_mean,
    impute_median,
    impute_median_group,
    impute_row_mean,
)

RTOL = 1e-6


def _df1(asem):
    """imputation.Rmd: df1 <- ASEM_iData[37:46, 36:39] (Pat, CultServ, CultGood, Tourist)."""
    idata = pd.read_csv(asem / "ASEM_iData.csv")
    df1 = idata.iloc[36:46, 35:39]
    assert list(df1.columns) == ["Pat", "CultServ", "CultGood", "Tourist"]
    return df1


def _assert_table(ours: pd.DataFrame, asem, name: str):
    pub = pd.read_csv(asem / "published" / f"results_{name}.csv")
    cols = [c for c in pub.columns if c != "rowname"]
    assert list(ours.columns) == cols
    np.testing.assert_allclose(ours.to_numpy(dtype=float), pub[cols].to_numpy(dtype=float),
                               rtol=RTOL, atol=1e-9)


def test_impute_df_imean(asem_oracles):
    df1 = _df1(asem_oracles)
    res = impute_mean(df1)
    _assert_table(res.data, asem_oracles, "impute_df_imean")
    assert res.imputed.equals(df1.isna())
    assert res.record["method"] == "i_mean"
    assert res.details.set_index("iCode")["n_imputed"].to_dict() == {
        "Pat": 2, "CultServ": 1, "CultGood": 4, "Tourist": 0}


def test_impute_df_imedian_grp(asem_oracles):
    """Impute(df1, f_i = "i_median_grp", f_i_para = list(f = groups)), groups a x5, b x5."""
    df1 = _df1(asem_oracles)
    groups = ["a"] * 5 + ["b"] * 5
    res = impute_group_median(df1, groups)
    _assert_table(res.data, asem_oracles, "impute_df_imedian_grp")
    assert impute_median_group is impute_group_median
    assert res.record["method"] == "i_median_grp"


def test_impute_df_row(asem_oracles):
    """Impute(df1, i_mean, impute_by = "row", normalise_first = FALSE)."""
    res = impute_row_mean(_df1(asem_oracles), normalise_first=False)
    _assert_table(res.data, asem_oracles, "impute_df_row")


def test_impute_df_row_norm(asem_oracles):
    """Impute(df1, i_mean, impute_by = "row", normalise_first = TRUE, directions = rep(1, 4))."""
    res = impute_row_mean(_df1(asem_oracles), normalise_first=True, directions=[1, 1, 1, 1])
    _assert_table(res.data, asem_oracles, "impute_df_row_norm")
    assert res.record["args"]["normalise_first"] is True


def test_group_mean_by_hand_and_all_missing_group():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0, 10.0, np.nan, 30.0],
                       "b": [np.nan, np.nan, np.nan, 4.0, np.nan, 8.0]},
                      index=list("uvwxyz"))
    g = pd.Series(["A", "A", "A", "B", "B", "B"], index=list("uvwxyz"))
    res = impute_group_mean(df, g)
    assert res.data.loc["v", "a"] == 2.0
    assert res.data.loc["y", "a"] == 20.0
    assert res.data.loc["y", "b"] == 6.0
    # group A has no value of b: R's mean(numeric(0)) is NaN, so the cells stay NaN
    assert res.data.loc[["u", "v", "w"], "b"].isna().all()
    assert not res.imputed.loc[["u", "v", "w"], "b"].any()
    d = res.details.set_index("iCode")
    assert d.loc["b", "n_missing"] == 4 and d.loc["b", "n_imputed"] == 1
    assert d.loc["b", "n_still_missing"] == 3
    assert res.record["summary"] == {"n_imputed": 3, "n_still_missing": 3}


def test_group_label_missing_leaves_unit_alone():
    df = pd.DataFrame({"a": [1.0, np.nan, 3.0, np.nan]}, index=list("wxyz"))
    g = pd.Series(["A", "A", "A", None], index=list("wxyz"))
    res = impute_group_mean(df, g)
    assert res.data.loc["x", "a"] == 2.0
    assert np.isnan(res.data.loc["z", "a"])


def test_groups_aligned_by_index_not_position():
    df = pd.DataFrame({"a": [1.0, np.nan, 100.0, 300.0]}, index=["p", "q", "r", "s"])
    g = pd.Series({"s": "B", "r": "B", "q": "B", "p": "A"})
    assert impute_group_mean(df, g).data.loc["q", "a"] == 200.0
    with pytest.raises(ValueError, match="no group"):
        impute_group_mean(df, g.drop("p"))


def test_median_and_non_numeric_rejected():
    df = pd.DataFrame({"a": [1.0, 2.0, 10.0, np.nan]})
    assert impute_median(df).data["a"].iloc[3] == 2.0
    with pytest.raises(ValueError, match="non-numeric"):
        impute_mean(pd.DataFrame({"a": [1.0, None], "t": ["x", "y"]}))


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, (12, 3), elements=st.one_of(
    st.just(np.nan), st.floats(-1e6, 1e6, allow_nan=False))),
    st.lists(st.sampled_from("ABC"), min_size=12, max_size=12))
def test_group_mean_never_touches_present_values(m, labels):
    df = pd.DataFrame(m, columns=["x", "y", "z"])
    res = impute_group_mean(df, labels)
    present = df.notna()
    assert (res.data[present] == df[present]).sum().sum() == present.sum().sum()
    assert res.imputed.equals(df.isna() & res.data.notna())
    # every filled cell equals its group's mean of present values
    for col in df.columns:
        means = df[col].groupby(pd.Series(labels)).mean()
        filled = res.imputed[col]
        exp = pd.Series(labels)[filled].map(means).to_numpy(dtype=float)
        np.testing.assert_allclose(res.data.loc[filled, col].to_numpy(dtype=float), exp, rtol=1e-12)


def test_example_build_imputation(asem_oracles):
    """Impute(coin, "Denominated", i_mean_grp, use_group = "EurAsia_group"): 65 cells filled."""
    idata = pd.read_csv(asem_oracles / "ASEM_iData.csv").sort_values("uCode").set_index("uCode")
    imeta = pd.read_csv(asem_oracles / "ASEM_iMeta.csv")
    inds = imeta.loc[imeta["Type"] == "Indicator", "iCode"].tolist()
    by = imeta.dropna(subset=["Denominator"]).set_index("iCode")["Denominator"].to_dict()
    den = denominate(idata[inds], idata, by).data
    res = impute_group_mean(den, idata["EurAsia_group"])
    assert int(res.imputed.to_numpy().sum()) == 65
    assert not res.data.isna().any().any()
    # LAO (Asia) has no Energy, so Elec/Gas are NaN after denomination and get the Asia mean
    asia = idata.index[idata["EurAsia_group"] == "Asia"].drop("LAO")
    assert res.data.loc["LAO", "Elec"] == pytest.approx(den.loc[asia, "Elec"].mean(), rel=1e-12)
    assert res.imputed.loc["LAO", ["Elec", "Gas"]].all()
    assert res.record["args"]["use_group"] == "EurAsia_group"


def test_group_mean_array_matches_frame_version(asem_oracles):
    """Engine layout (months, units, indicators), groups per unit, padding ignored."""
    from qyb.engine.impute import impute_group_mean_array

    idata = pd.read_csv(asem_oracles / "ASEM_iData.csv").sort_values("uCode").set_index("uCode")
    imeta = pd.read_csv(asem_oracles / "ASEM_iMeta.csv")
    inds = imeta.loc[imeta["Type"] == "Indicator", "iCode"].tolist()
    x = idata[inds]
    g = idata["EurAsia_group"].to_numpy()
    frame = impute_group_mean(x, g)
    pad = np.full((2, len(inds)), 1e9)
    values = np.stack([np.vstack([x.to_numpy(), pad]), np.vstack([2 * x.to_numpy(), pad])])
    groups = np.r_[g, ["Asia", "Europe"]]
    present = np.r_[np.ones(len(x), bool), [False, False]]
    filled, mask = impute_group_mean_array(values, groups, present=present)
    np.testing.assert_allclose(filled[0, :len(x)], frame.data.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(filled[1, :len(x)], 2 * frame.data.to_numpy(), rtol=1e-12)
    assert (mask[0, :len(x)] == frame.imputed.to_numpy()).all()
    assert not mask[:, len(x):].any() and (filled[:, len(x):] == 1e9).all()


def test_group_mean_array_empty_group_and_unlabelled():
    from qyb.engine.impute import impute_group_mean_array

    v = np.array([[1.0, np.nan], [np.nan, np.nan], [5.0, 2.0], [np.nan, 4.0]])
    filled, mask = impute_group_mean_array(v, ["A", "A", "B", None])
    assert filled[1, 0] == 1.0 and np.isnan(filled[1, 1]) and np.isnan(filled[0, 1])
    assert np.isnan(filled[3, 0])  # no label: left alone
    assert mask.tolist() == [[False, False], [True, False], [False, False], [False, False]]
