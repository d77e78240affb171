"""Outlier treatment against COINr's published ASEM tables: :func:`qyb.reference.treat.treat` (the DataFrame
API) and the engine's :func:`qyb.engine.treat.treat_array` on the same data (the hand-computed checks of the
engine's primitives are in tests/engine/test_treat.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from qyb.engine.treat import DETAIL_COLUMNS, log_ct
from qyb.reference.denominate import denominate
from qyb.reference.impute import impute_group_mean
from qyb.reference.screen import screen_units
from qyb.reference.treat import treat

# Printed tables carry 7 significant digits (R's default print).
RTOL = 1e-6
ATOL = 1e-9


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
