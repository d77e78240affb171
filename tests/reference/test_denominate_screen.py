"""Denomination (qyb.reference.denominate) and unit screening (qyb.reference.screen) against COINr."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qyb.reference.denominate import denominate
from qyb.reference.impute import impute_group_mean
from qyb.reference.screen import (
    SUMMARY_COLUMNS,
    data_availability,
    indicator_availability,
    screen_units,
)

RTOL = 1e-6


def _units(asem):
    return pd.read_csv(asem / "ASEM_iData.csv").sort_values("uCode").set_index("uCode")


def _inds(asem):
    imeta = pd.read_csv(asem / "ASEM_iMeta.csv")
    return imeta, imeta.loc[imeta["Type"] == "Indicator", "iCode"].tolist()


def _pub(asem, name):
    return pd.read_csv(asem / "published" / f"results_{name}.csv")


# --------------------------------------------------------------------------
# denominate


def test_denominate_by_hand_with_scale():
    x = pd.DataFrame({"cases": [10.0, 20.0, np.nan], "score": [1.0, 2.0, 3.0]},
                     index=["u1", "u2", "u3"])
    den = pd.DataFrame({"pop": [20000.0, 40000.0, 5.0, 1.0]}, index=["u2", "u1", "u3", "extra"])
    res = denominate(x, den, {"cases": "pop"}, scale={"cases": 10000})
    # x / (pop / 10000): per 10,000 residents, rows matched by unit code
    np.testing.assert_allclose(res.data["cases"].iloc[:2], [10 / 4.0, 20 / 2.0])
    assert np.isnan(res.data.loc["u3", "cases"])
    assert res.data["score"].equals(x["score"])
    assert res.record["args"] == {"f_denom": "/", "by": {"cases": "pop"},
                                  "scale": {"cases": 10000.0}}


def test_denominate_errors():
    x = pd.DataFrame({"a": [1.0]}, index=["u1"])
    d = pd.DataFrame({"p": [2.0]}, index=["u1"])
    with pytest.raises(ValueError, match="not found in data"):
        denominate(x, d, {"b": "p"})
    with pytest.raises(ValueError, match="denominators not found"):
        denominate(x, d, {"a": "q"})
    with pytest.raises(ValueError, match="without denominators"):
        denominate(x, d.rename(index={"u1": "u9"}), {"a": "p"})


def test_denominate_asem_example(asem_oracles):
    """Denominate(coin, "Raw"): the 17 iMeta Denominator pairs, ScaleFactor 1."""
    units = _units(asem_oracles)
    imeta, inds = _inds(asem_oracles)
    by = imeta.dropna(subset=["Denominator"]).set_index("iCode")["Denominator"].to_dict()
    assert len(by) == 17
    res = denominate(units[inds], units, by)
    assert res.data.loc["AUT", "Flights"] == pytest.approx(29.01725 / 8735.453, rel=1e-12)
    assert res.data.loc["BEL", "Bord"] == pytest.approx(48 / 30528, rel=1e-12)
    # LAO has no Energy: Elec and Gas become NaN (NA propagates)
    assert res.data.loc["LAO", ["Elec", "Gas"]].isna().all()
    assert res.details.set_index("iCode").loc[["Elec", "Gas"], "n_nan_introduced"].tolist() == [1, 1]
    untouched = [i for i in inds if i not in by]
    assert res.data[untouched].equals(units[untouched])


# --------------------------------------------------------------------------
# availability and screening


def test_screen_df_summary(asem_oracles):
    """Screen(ASEM_iData[40:51, c(uCode, Research, Pat, CultServ, CultGood)], byNA, 0.75)."""
    idata = pd.read_csv(asem_oracles / "ASEM_iData.csv")
    df = idata.iloc[39:51][["uCode", "Research", "Pat", "CultServ", "CultGood"]].set_index("uCode")
    res = screen_units(df, dat_thresh=0.75, unit_screen="byNA")
    pub = _pub(asem_oracles, "screen_df_summary").set_index("uCode")
    ours = res.summary.loc[pub.index]
    assert list(res.summary.columns) == SUMMARY_COLUMNS
    for col in SUMMARY_COLUMNS:
        if pub[col].dtype == bool or col in ("LowData", "LowNonZero", "LowDatOrZeroFlag", "Included"):
            assert ours[col].tolist() == pub[col].astype(bool).tolist(), col
        else:
            np.testing.assert_allclose(ours[col].to_numpy(dtype=float),
                                       pub[col].to_numpy(dtype=float), rtol=RTOL, err_msg=col)
    # KOR sits exactly on the threshold (0.75) and is kept: the rule is Dat_Avail < dat_thresh
    assert bool(res.summary.loc["KOR", "Included"])
    assert res.removed == ["LAO", "MMR", "VNM"]
    assert list(res.data.index) == [u for u in df.index if u not in res.removed]


def test_screen_coin_removed_85(asem_oracles):
    """Screen(coin, "Raw", byNA, dat_thresh = 0.85)$RemovedUnits = BRN LAO MMR."""
    units = _units(asem_oracles)
    _, inds = _inds(asem_oracles)
    res = screen_units(units[inds], dat_thresh=0.85)
    assert res.removed == ["BRN", "LAO", "MMR"]
    assert res.record["summary"]["n_removed"] == 3


def test_impute_avail_summary(asem_oracles):
    """get_data_avail(coin, "Raw")$Summary head (units sorted by uCode)."""
    units = _units(asem_oracles)
    _, inds = _inds(asem_oracles)
    ours = data_availability(units[inds])
    for name in ("impute_avail_summary", "analysis_avail_summary"):
        pub = _pub(asem_oracles, name).set_index("uCode")
        got = ours.loc[pub.index]
        for col in ["N_missing", "N_zero", "N_miss_or_zero", "Dat_Avail", "Non_Zero"]:
            np.testing.assert_allclose(got[col].to_numpy(dtype=float),
                                       pub[col].to_numpy(dtype=float), rtol=RTOL, err_msg=col)


def test_impute_stats_avail(asem_oracles):
    """get_stats(coin, "Raw")[c("iCode", "N.Avail", "Frc.Avail")] head, printed to 3 s.f."""
    units = _units(asem_oracles)
    _, inds = _inds(asem_oracles)
    ours = indicator_availability(units[inds]).set_index("iCode")
    pub = _pub(asem_oracles, "impute_stats_avail").set_index("iCode")
    got = ours.loc[pub.index]
    assert got["N.Avail"].tolist() == pub["N.Avail"].astype(int).tolist()
    np.testing.assert_allclose(got["Frc.Avail"], pub["Frc.Avail"], atol=5e-4)
    # get_stats cols 9 and 12: N.NonZero and Frc.NonZero (= N.NonZero / n) for LPI..Elec
    assert got.loc[["LPI", "Flights", "Ship", "Bord", "Elec"], "N.NonZero"].tolist() == [51, 51, 42, 45, 47]
    np.testing.assert_allclose(got.loc[["Ship", "Bord", "Elec"], "Frc.NonZero"],
                               [0.824, 0.882, 0.922], atol=5e-4)


def test_screen_after_imputation_removes_nobody_but_before_it_removes_five(asem_oracles):
    """Example build screens the Imputed dset (nobody removed); the adjustments article's
    coin90 screens Denominated at 0.9 without imputing: BGD BRN KHM LAO MMR go (their
    Index ranks are NA in results_adjust_compare_screen90.csv)."""
    units = _units(asem_oracles)
    imeta, inds = _inds(asem_oracles)
    by = imeta.dropna(subset=["Denominator"]).set_index("iCode")["Denominator"].to_dict()
    den = denominate(units[inds], units, by).data
    imp = impute_group_mean(den, units["EurAsia_group"]).data
    assert screen_units(imp, dat_thresh=0.9).removed == []
    removed = screen_units(den, dat_thresh=0.9).removed
    pub = _pub(asem_oracles, "adjust_compare_screen90")
    assert sorted(removed) == sorted(pub.loc[pub["coin.2"].isna(), "uCode"])


def test_screen_modes_and_force():
    df = pd.DataFrame({"a": [0.0, np.nan, 1.0], "b": [0.0, np.nan, 2.0], "c": [0.0, 5.0, 3.0]},
                      index=["zeros", "sparse", "full"])
    s = data_availability(df)
    assert s.loc["zeros", "Non_Zero"] == 0.0 and s.loc["sparse", "Dat_Avail"] == pytest.approx(1 / 3)
    assert screen_units(df, 0.5, "byNA").removed == ["sparse"]
    assert screen_units(df, 0.5, "byzeros").removed == ["zeros"]
    assert screen_units(df, 0.5, "byNAandzeros").removed == ["zeros", "sparse"]
    assert screen_units(df, 0.5, "none").removed == []
    forced = screen_units(df, 0.5, "byNA", force={"sparse": True, "full": False})
    assert forced.removed == ["full"]
    with pytest.raises(ValueError):
        screen_units(df, 0.5, "byNAs")
    with pytest.raises(ValueError):
        screen_units(df, 0.5, force={"nobody": True})
