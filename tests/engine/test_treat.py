"""Outlier treatment (qyb.engine.treat) against COINr's published ASEM tables and by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qyb.reference.denominate import denominate
from qyb.reference.impute import impute_group_mean
from qyb.reference.screen import screen_units
from qyb.engine.treat import (
    DETAIL_COLUMNS,
    check_skew_kurt,
    kurt,
    log_ct,
    skew,
    treat_column,
    winsorise,
)
from qyb.reference.treat import treat

# Printed tables carry 7 significant digits (R's default print).
RTOL = 1e-6
ATOL = 1e-9


# --------------------------------------------------------------------------
# helpers


def _load(asem):
    idata = pd.read_csv(asem / "ASEM_iData.csv")
    imeta = pd.read_csv(asem / "ASEM_iMeta.csv")
    inds = imeta.loc[imeta["Type"] == "Indicator", "iCode"].tolist()
    return idata, imeta, inds


def _raw(asem):
    """COINr new_coin: rows sorted by uCode, indicator columns in iMeta order."""
    idata, imeta, inds = _load(asem)
    units = idata.sort_values("uCode").set_index("uCode")
    return units, imeta, inds


def _published(asem, name):
    return pd.read_csv(asem / "published" / f"results_{name}.csv")


def _assert_dets(ours: pd.DataFrame, pub: pd.DataFrame):
    """Every column of the published Dets_Table equals ours, within print precision."""
    ours = ours.set_index("iCode").loc[pub["iCode"]]
    for col in pub.columns:
        if col in ("rowname", "iCode"):
            continue
        assert col in DETAIL_COLUMNS, col
        p = pub[col]
        o = ours[col]
        if col.endswith(".Pass"):
            exp = p.map({True: True, False: False, "True": True, "False": False})
            got = o.astype(object).where(o.notna(), np.nan)
            for icode, e, g in zip(pub["iCode"], exp, got):
                if pd.isna(e):
                    assert pd.isna(g), (icode, col, g)
                else:
                    assert g == e, (icode, col, g, e)
        else:
            e = p.to_numpy(dtype=float)
            g = o.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            np.testing.assert_array_equal(np.isnan(g), np.isnan(e), err_msg=col)
            m = ~np.isnan(e)
            np.testing.assert_allclose(g[m], e[m], rtol=RTOL, atol=ATOL, err_msg=col)


def _example_build(asem):
    """COINr build_example_coin() up to Treat, from qyb's own steps."""
    units, imeta, inds = _raw(asem)
    by = imeta.dropna(subset=["Denominator"]).set_index("iCode")["Denominator"].to_dict()
    den = denominate(units[inds], units, by)
    imp = impute_group_mean(den.data, units["EurAsia_group"])
    scr = screen_units(imp.data, dat_thresh=0.9, unit_screen="byNA")
    tr = treat(scr.data, winmax=5)
    return den, imp, scr, tr


# --------------------------------------------------------------------------
# skew and kurtosis


def test_skew_kurt_by_hand():
    # x = 1,2,3,4,10: d = -3,-2,-1,0,6; sum d^2 = 50, d^3 = 180, d^4 = 1394, n = 5
    # g1 = sqrt(5) 180 / 50^1.5 = 0.72 sqrt(2.5); G1 = g1 sqrt(20)/3 = 1.2 sqrt(2)
    # r = 5 * 1394 / 2500 = 2.788; G2 = (6 (r - 3) + 6) * 4 / 6 = 3.152
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert skew(x) == pytest.approx(1.2 * np.sqrt(2), rel=1e-12)
    assert kurt(x) == pytest.approx(3.152, rel=1e-12)
    # NaN are dropped (na.rm = TRUE)
    assert skew(np.append(x, np.nan)) == pytest.approx(skew(x), rel=1e-14)
    assert kurt(np.append(x, np.nan)) == pytest.approx(kurt(x), rel=1e-14)


def test_skew_kurt_too_few_or_constant_is_nan():
    assert np.isnan(skew([1.0, 2.0]))
    assert np.isnan(kurt([1.0, 2.0, 3.0]))
    assert np.isnan(skew([2.0, 2.0, 2.0, 2.0]))
    assert check_skew_kurt([2.0, 2.0, 2.0, 2.0]).passed is None


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(4, 40),
              elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)))
def test_skew_kurt_equal_scipy_unbiased(x):
    """e1071 type 2 = Joanes & Gill G1/G2 = scipy's bias-corrected skew / excess kurtosis."""
    if np.ptp(x) < 1e-3 * max(1.0, np.abs(x).max()):
        return  # (near-)constant: both sides are 0/0
    np.testing.assert_allclose(skew(x), scipy.stats.skew(x, bias=False), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(kurt(x), scipy.stats.kurtosis(x, fisher=True, bias=False),
                               rtol=1e-7, atol=1e-9)


def test_skew_kurt_vectorised_over_columns():
    rng = np.random.default_rng(1)
    m = rng.lognormal(size=(30, 4))
    m[3, 1] = np.nan
    np.testing.assert_allclose(skew(m), [skew(m[:, j]) for j in range(4)], rtol=1e-13)
    np.testing.assert_allclose(kurt(m), [kurt(m[:, j]) for j in range(4)], rtol=1e-13)


def test_check_rule_fails_only_when_both_exceed():
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])  # skew 1.70, kurt 3.15
    assert check_skew_kurt(x).passed is True
    assert check_skew_kurt(x, skew_thresh=1.5, kurt_thresh=3.0).passed is False
    assert check_skew_kurt(x, skew_thresh=1.5, kurt_thresh=3.2).passed is True


# --------------------------------------------------------------------------
# winsorise and log_CT


def test_winsorise_ties_clipped_together_and_counted():
    x = np.r_[np.arange(1.0, 21.0), 100.0, 100.0]  # skew 2.82, kurt 7.13: fails
    w = winsorise(x, winmax=5)
    # both 100s go in one round to the next value, 20
    assert w.nwin == 2
    assert w.side == "high"
    np.testing.assert_array_equal(w.x[-2:], [20.0, 20.0])
    assert list(w.treated[-2:]) == ["winhi", "winhi"]
    assert (w.treated[:-2] == "").all()


def test_winsorise_nwin_is_cumulative_on_one_side():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(10, 1, 40), 30.0, 60.0, 100.0]
    w = winsorise(x, winmax=5)
    changed = int((w.x != x).sum())
    assert w.side == "high" and w.nwin == changed >= 2
    assert (w.treated != "").sum() == changed


def test_winsorise_low_side_and_winmax_zero():
    x = -np.array([1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 7, 60], dtype=float)
    w = winsorise(x)
    assert w.side == "low" and w.nwin == 1 and w.x.min() == -7
    w0 = winsorise(x, winmax=0)
    assert w0.nwin == 0 and w0.side == "" and np.array_equal(w0.x, x)


def test_winsorise_force_win_follows_coinr_trace():
    # symmetric 1..20 passes; force_win clips anyway, side re-decided every round:
    # skew 0 -> high (20 -> 19); skew < 0 -> low (1 -> 2); skew > 0 -> high (19, 19 -> 18).
    # COINr's nwin = length(imax) + length(imin) of the latest rounds = 2 + 1 = 3.
    w = winsorise(np.arange(1.0, 21.0), winmax=3, force_win=True)
    assert w.nwin == 3 and w.side == "both"
    assert w.x.max() == 18.0 and w.x.min() == 2.0
    assert list(w.treated[[0, 18, 19]]) == ["winlo", "winhi", "winhi"]
    with pytest.raises(ValueError):
        winsorise(np.arange(5.0), winmax=None, force_win=True)


def test_log_ct_formula_and_nan():
    x = np.array([2.0, 4.0, np.nan, 12.0])
    np.testing.assert_allclose(log_ct(x)[[0, 1, 3]],
                               np.log(np.array([2.0, 4.0, 12.0]) - 2.0 + 0.1))
    assert np.isnan(log_ct(x)[2])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(5, 40),
              elements=st.floats(0, 1e4, allow_nan=False, allow_subnormal=False)),
       st.integers(0, 6))
def test_treat_column_properties(x, winmax):
    """Winsorising keeps order, range and NaN; log_CT keeps order; rank order never inverted."""
    x = x.copy()
    x[0] = np.nan
    res = treat_column(x, winmax=winmax)
    y = res.x
    assert np.isnan(y[0]) and not np.isnan(y[1:]).any()
    ok = ~np.isnan(x)
    order = np.argsort(x[ok], kind="stable")
    assert (np.diff(y[ok][order]) >= -1e-12).all()  # monotone non-decreasing map
    if res.details["treatment"] == "winsorise":
        assert y[ok].min() >= x[ok].min() and y[ok].max() <= x[ok].max()
        assert (res.points != "").sum() == res.details["winsorise.nwin"]


# --------------------------------------------------------------------------
# COINr published tables


def test_treat_df3_dets(asem_oracles):
    """Treat(ASEM_iData[c("Flights", "Goods", "Services")]) with defaults."""
    idata, _, _ = _load(asem_oracles)
    res = treat(idata[["Flights", "Goods", "Services"]])
    pub = _published(asem_oracles, "treat_df3_dets")
    _assert_dets(res.details, pub)
    # COINr's Treated_Points: Flights row 30, Goods rows 11 and 35 (1-based) winsorised high
    pts = res.points
    assert list(np.flatnonzero(pts["Flights"] == "winhi") + 1) == [30]
    assert list(np.flatnonzero(pts["Goods"] == "winhi") + 1) == [11, 35]
    assert (pts["Services"] == "").all()
    assert list(res.details["treatment"]) == ["winsorise", "winsorise", "none"]
    # the treated frame: clipped points take the next value, others untouched
    fl = idata["Flights"].to_numpy()
    assert res.data["Flights"].iloc[29] == np.sort(fl)[-2]
    assert res.data["Services"].equals(idata["Services"])


def test_treat_raw_default_dets(asem_oracles):
    """Treat(coin, dset = "Raw") with the example's defaults (winmax 5)."""
    units, _, inds = _raw(asem_oracles)
    res = treat(units[inds])
    _assert_dets(res.details, _published(asem_oracles, "treat_raw_default_dets"))
    assert len(res.details) == 49
    # on the Raw data every failing indicator is fixed by winsorising
    assert set(res.details["treatment"]) == {"none", "winsorise"}


def test_treat_raw_winmax1_dets(asem_oracles):
    """Treat(Raw, f1_para = list(winmax = 1)): Goods falls through to log_CT."""
    units, _, inds = _raw(asem_oracles)
    res = treat(units[inds], winmax=1)
    _assert_dets(res.details, _published(asem_oracles, "treat_raw_winmax1_dets"))
    goods = res.details.set_index("iCode").loc["Goods"]
    assert goods["treatment"] == "log_CT"
    # log_CT is applied to the ORIGINAL column, not the winsorised one
    g = units["Goods"].to_numpy()
    np.testing.assert_allclose(res.data["Goods"].to_numpy(), log_ct(g), rtol=1e-15)
    assert (res.points["Goods"] == "log_CT").all()


def test_treat_raw_flights_winmax0(asem_oracles):
    """indiv_specs Flights = list(f1_para = list(winmax = 0)): no winsorising, log_CT."""
    units, _, inds = _raw(asem_oracles)
    res = treat(units[inds], indiv={"Flights": {"winmax": 0}})
    _assert_dets(res.details, _published(asem_oracles, "treat_raw_flights_winmax0"))
    assert res.details.set_index("iCode").loc["Flights", "winsorise.nwin"] == 0
    # the other indicators keep the default treatment
    _assert_dets(res.details.loc[res.details["iCode"] != "Flights"],
                 _published(asem_oracles, "treat_raw_default_dets").query("iCode != 'Flights'"))
    assert res.record["args"]["indiv"] == {"Flights": {"winmax": 0}}


def test_treat_indiv_none_skips_indicator(asem_oracles):
    units, _, inds = _raw(asem_oracles)
    res = treat(units[inds], indiv={"Flights": "none", "LPI": "none"})
    assert "Flights" not in set(res.details["iCode"]) and len(res.details) == 47
    assert res.data["Flights"].equals(units["Flights"])


def test_treat_qtreat_dets(asem_oracles):
    """qTreat(df1, winmax = 1, skew_thresh = 1.5, kurt_thresh = 3), f2 = log_CT."""
    idata, _, _ = _load(asem_oracles)
    res = treat(idata[["Flights", "Goods", "Services"]], winmax=1, skew_thresh=1.5,
                kurt_thresh=3.0)
    _assert_dets(res.details, _published(asem_oracles, "treat_qtreat_dets"))
    assert list(res.details["treatment"]) == ["log_CT", "log_CT", "none"]


def test_example_build_treatment(asem_oracles):
    """build_example_coin(): Denominate -> Impute(i_mean_grp, EurAsia) -> Screen(0.9) -> Treat.

    build_steps.md: no log_CT, 15 indicators winsorised (nwin 1-4), FemLab on the
    low side, all others high; no unit removed by screening.
    """
    den, imp, scr, tr = _example_build(asem_oracles)
    assert scr.removed == [] and len(scr.data) == 51
    d = tr.details.set_index("iCode")
    win = d[d["treatment"] == "winsorise"]
    assert len(win) == 15
    assert (d["treatment"] != "log_CT").all()
    assert win["winsorise.nwin"].between(1, 4).all()
    assert win["winsorise.nwin"].max() == 4
    assert set(win.index[win["side"] == "low"]) == {"FemLab"}
    assert (win.drop("FemLab")["side"] == "high").all()
    assert win["check_SkewKurt1.Pass"].all()
    assert set(win.index) == {
        "Flights", "Bord", "Gas", "Services", "FDI", "ForPort", "CostImpEx", "Tariff",
        "StMob", "CultServ", "Forest", "Poverty", "NGOs", "FemLab", "PubDebt"}
    assert tr.record["summary"]["n_winsorised_indicators"] == 15
    # points flagged = points winsorised
    assert int((tr.points != "").to_numpy().sum()) == int(win["winsorise.nwin"].sum())


def test_example_build_treated_data_matches_normalised_head(asem_oracles):
    """The treated columns, min-max scaled to 0-100, give COINr's printed Normalised head.

    (n_minmax: (x - min)/(max - min) * 100, all four have Direction +1.) This checks
    the treated VALUES of the full build, not only the details table.
    """
    _, _, _, tr = _example_build(asem_oracles)
    pub = _published(asem_oracles, "datasel_normalised_head").set_index("uCode")
    for col in ["LPI", "Flights", "Ship", "Bord"]:
        x = tr.data[col]
        n = (x - x.min()) / (x.max() - x.min()) * 100
        np.testing.assert_allclose(n.loc[pub.index].to_numpy(), pub[col].to_numpy(),
                                   rtol=1e-6, atol=1e-6, err_msg=col)


def test_details_columns_and_record(asem_oracles):
    idata, _, _ = _load(asem_oracles)
    res = treat(idata[["uName", "Flights", "Goods"]])
    assert list(res.details.columns) == DETAIL_COLUMNS
    assert list(res.details["iCode"]) == ["Flights", "Goods"]  # text column passed through
    assert res.data["uName"].equals(idata["uName"])
    assert res.record["step"] == "treat"
    assert res.record["args"]["winmax"] == 5
    assert res.record["args"]["skew_thresh"] == 2.0
    assert res.record["args"]["f2"] == "log_CT"


def test_treat_array_matches_frame_treatment_per_block(asem_oracles):
    """Engine layout (..., units, indicators): each block treated like a COINr data set;
    padding units (present False) are ignored and left as they are."""
    from qyb.engine.treat import treat_array

    idata, _, _ = _load(asem_oracles)
    df = idata[["Flights", "Goods", "Services"]]
    x = df.to_numpy(dtype=float)
    pad = np.full((3, 3), 1e9)  # absurd padding rows: would dominate if not masked
    block2 = np.vstack([x * 3.0, pad])
    block1 = np.vstack([x, pad])
    values = np.stack([block1, block2])
    present = np.r_[np.ones(len(x), bool), np.zeros(3, bool)]
    res = treat_array(values, present=present)
    frame = treat(df)
    np.testing.assert_allclose(res.values[0, :len(x)], frame.data.to_numpy(), rtol=1e-15)
    np.testing.assert_allclose(res.values[1, :len(x)], 3.0 * frame.data.to_numpy(), rtol=1e-14)
    assert (res.values[:, len(x):] == 1e9).all()
    assert res.treatment.tolist() == [["winsorise", "winsorise", "none"]] * 2
    assert res.nwin.tolist() == [[1, 2, -1]] * 2
    assert (res.points[0, :len(x)] == frame.points.to_numpy()).all()
    assert len(res.details) == 6
