"""qyb's engine, driven by an ordinary method spec, reproduces COINr's published ASEM example.

Published tables: ../shared/oracles/asem/published/results_*.csv (COINr 1.1.14
pkgdown prints, rounded to 2 decimals or 3 significant figures). Skips when
../shared is absent.
"""
from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

from qyb.engine import score_values
from qyb.method import Method
from qyb.reference import asem
from qyb.reference.results import compare_ranks, group_ranks, signif

PRINT_2DP = 0.005 + 1e-9  # a value printed with 2 decimals is within half a unit of the last digit
TOP_SIX = {"CHE": 68.38, "NLD": 64.82, "DNK": 64.80, "NOR": 64.47, "BEL": 63.54, "SWE": 63.00}


@cache
def _data(path: str) -> asem.AsemData:
    return asem.read_asem(path)


@cache
def _build(path: str, normalise: str = "minmax", impute: bool = True, drop: tuple = ()) -> asem.AsemBuild:
    return asem.build(_data(path), normalise=normalise, impute=impute, drop=drop)


def published(oracles, name: str) -> pd.DataFrame:
    return pd.read_csv(oracles / "published" / f"results_{name}.csv")


def assert_printed(ours, printed, decimals=None, digits=None):
    ours, printed = np.asarray(ours, dtype=float), np.asarray(printed, dtype=float)
    if decimals is not None:
        assert np.abs(ours - printed).max() <= 0.5 * 10.0 ** -decimals + 1e-9, (ours, printed)
    else:
        np.testing.assert_array_equal(signif(ours, digits), printed)


# ---------------------------------------------------------------- the nominal build
def test_the_spec_is_an_ordinary_validated_method(asem_oracles):
    b = _build(str(asem_oracles))
    m = b.method
    assert isinstance(m, Method) and len(m.indicators) == 49 and len(m.groups) == 10
    assert m.root.code == "Index" and {g.parent for g in m.groups} == {"Index", "Conn", "Sust"}
    denominated = {i.code: i.transform["denominator"] for i in m.indicators if i.transform["type"] == "rate"}
    assert len(denominated) == 17 and denominated["Bord"] == "Area" and denominated["Gas"] == "Energy"
    assert all(i.transform["per"] == 1 for i in m.indicators if i.code in denominated)
    assert Method(m.spec).hash == m.hash  # the spec alone rebuilds the method
    assert [s["step"] for s in b.scores.steps] == ["transform", "impute", "screen", "treat", "normalise",
                                                   "aggregate"]
    assert b.scores.step("impute")["summary"]["n_imputed"] == 65  # build_steps.md: 65 NA cells filled
    assert b.scores.step("screen")["summary"]["n_removed"] == 0


def test_index_top_six_and_every_aggregate_of_the_results_table(asem_oracles):
    agg = _build(str(asem_oracles)).aggregated().set_index("uCode")
    assert list(agg.index[:6]) == list(TOP_SIX)
    assert_printed(agg["Index"].iloc[:6], list(TOP_SIX.values()), decimals=2)
    pub = published(asem_oracles, "results_aggs_head").set_index("uCode")
    cols = [c for c in pub.columns if c not in ("rowname", "Rank")]
    assert list(agg.columns[1:]) == cols  # same aggregate columns, same order
    assert_printed(agg.loc[pub.index, cols], pub[cols], decimals=2)
    np.testing.assert_array_equal(agg.loc[pub.index, "Rank"], pub["Rank"])


def test_ranks_of_all_51_countries(asem_oracles):
    ranks = _build(str(asem_oracles)).index_ranks()
    nominal = published(asem_oracles, "adjust_compare_multi").set_index("uCode")["Nominal"]
    assert len(ranks) == 51
    pd.testing.assert_series_equal(ranks.reindex(nominal.index), nominal, check_names=False)


def test_aggregated_dataset_first_rows(asem_oracles):
    b = _build(str(asem_oracles))
    nodes = pd.DataFrame(b.scores.nodes, index=b.units)
    pub = published(asem_oracles, "aggregate_signif3")  # first 5 units in uCode order, signif(3)
    cols = [c for c in pub.columns if c != "rowname"]
    assert_printed(nodes[cols].iloc[:5], pub[cols], digits=3)
    sust = published(asem_oracles, "datasel_sust_level2").set_index("uCode")  # printed to 7 s.f.
    np.testing.assert_allclose(nodes.loc[sust.index, sust.columns[1:]], sust[sust.columns[1:]], rtol=5e-7)


def test_normalised_head(asem_oracles):
    norm = _build(str(asem_oracles)).frames["normalised"]
    pub = published(asem_oracles, "datasel_normalised_head").set_index("uCode")
    cols = list(pub.columns[1:])
    np.testing.assert_allclose(norm.loc[pub.index, cols], pub[cols], rtol=5e-7, atol=5e-6)


def test_treatment_of_the_build(asem_oracles):
    """build_steps.md: 15 indicators winsorised (1-4 points), FemLab on the low side, no log_CT."""
    det = _build(str(asem_oracles)).treat_details().set_index("iCode")
    assert len(det) == 49
    win = det[det["treatment"] == "winsorise"]
    assert len(win) == 15 and (det["treatment"] == "log_CT").sum() == 0
    assert win["winsorise.nwin"].between(1, 4).all()
    assert list(win.index[win["side"] == "low"]) == ["FemLab"] and (win["side"] != "").all()
    assert win["check_SkewKurt1.Pass"].all() and not win["check_SkewKurt0.Pass"].any()
    assert det.loc[det["treatment"] == "none", "check_SkewKurt0.Pass"].all()


def _raw_treat_method(data, winmax, indiv=None) -> Method:
    """treat.html: Treat on the Raw data set (no denomination, imputation or screening)."""
    spec = asem.asem_spec(data.imeta, impute=False)
    del spec["screen"]
    spec["treat"]["winmax"] = winmax
    for ind in spec["indicators"]:
        ind["transform"] = {"type": "value"}
        if ind["code"] in (indiv or {}):
            ind["treat"] = indiv[ind["code"]]
    return Method(spec)


@pytest.mark.parametrize("table,winmax,indiv", [
    ("treat_raw_default_dets", 5, None),
    ("treat_raw_winmax1_dets", 1, None),
    ("treat_raw_flights_winmax0", 1, {"Flights": {"winmax": 0}}),
])
def test_treatment_details_on_raw_data_through_the_engine(asem_oracles, table, winmax, indiv):
    data = _data(str(asem_oracles))
    method = _raw_treat_method(data, winmax, indiv)
    s = score_values(method, data.raw().to_numpy())
    det = s.step("treat")["details"].set_index("iCode")
    pub = published(asem_oracles, table).set_index("iCode")
    for col in pub.columns.drop("rowname"):
        ours = det.loc[pub.index, col]
        if col.endswith(".Pass"):
            exp = pub[col].map({True: True, False: False, "True": True, "False": False})
            assert [None if pd.isna(v) else bool(v) for v in ours] == \
                   [None if pd.isna(v) else bool(v) for v in exp], col
        else:
            np.testing.assert_allclose(ours.astype(float), pub[col].astype(float), rtol=5e-7, atol=1e-12,
                                       err_msg=col)


# ---------------------------------------------------------------- results helpers
def test_unit_summary_of_india(asem_oracles):
    ours = asem.unit_profile(_build(str(asem_oracles)), "IND", levels=(4, 3, 2))
    pub = published(asem_oracles, "results_unit_summary_IND")
    assert list(ours["Code"]) == list(pub["Code"]) and list(ours["Name"]) == list(pub["Name"])
    np.testing.assert_array_equal(ours["Rank"], pub["Rank"])
    assert_printed(ours["Score"], pub["Score"], decimals=2)


def test_strengths_and_weaknesses_of_spain(asem_oracles):
    strengths, weaknesses = asem.unit_strengths(_build(str(asem_oracles)), "ESP")
    for ours, name in ((strengths, "strengths_ESP"), (weaknesses, "weaknesses_ESP")):
        pub = published(asem_oracles, f"results_{name}")
        for col in ("Code", "Name", "Pillar", "Unit"):
            assert list(ours[col]) == list(pub[col]), col
        np.testing.assert_array_equal(ours["Rank"], pub["Rank"])
        np.testing.assert_allclose(ours["Value"], pub["Value"])


@pytest.mark.parametrize("group", ["XL", "L"])
def test_group_ranks_by_gdp_per_capita(asem_oracles, group):
    b = _build(str(asem_oracles))
    agg = b.aggregated().set_index("uCode").drop(columns="Rank")
    ranks = group_ranks(agg, b.data.idata["GDPpc_group"])
    pub = published(asem_oracles, f"results_groupranks_{group}").set_index("uCode")
    cols = list(pub.columns.drop(["rowname", "GDPpc_group"]))
    assert (ranks.loc[pub.index, "GDPpc_group"] == group).all()
    np.testing.assert_array_equal(ranks.loc[pub.index, cols], pub[cols])


# ---------------------------------------------------------------- variants
@pytest.mark.parametrize("column,variant,table", [
    ("Prank", {"normalise": "percentile"}, "adjust_compare_prank"),
    ("NoLPIFor", {"drop": ("LPI", "Forest")}, None),
    ("Screen90", {"impute": False}, "adjust_compare_screen90"),
])
def test_variants_reproduce_the_adjustments_article(asem_oracles, column, variant, table):
    nominal = _build(str(asem_oracles))
    alt = _build(str(asem_oracles), **variant)
    multi = published(asem_oracles, "adjust_compare_multi").set_index("uCode")[column]
    pd.testing.assert_series_equal(alt.index_ranks().reindex(multi.index), multi, check_names=False)
    if table:
        pub = published(asem_oracles, table).drop(columns="rowname")
        ours = compare_ranks(nominal.index_ranks(), alt.index_ranks())
        pd.testing.assert_frame_equal(ours, pub, check_dtype=False)


def test_screening_without_imputation_matches_the_overview_build(asem_oracles):
    b = _build(str(asem_oracles), impute=False)
    assert sorted(b.scores.step("screen")["summary"]["removed"]) == ["BGD", "BRN", "KHM", "LAO", "MMR"]
    assert "imputed" not in b.frames and np.isnan(b.frames["treated"].to_numpy()).any()
    agg = b.aggregated().set_index("uCode")
    pub = published(asem_oracles, "overview_aggs_head").set_index("uCode")
    cols = list(pub.columns.drop("rowname"))
    assert_printed(agg.loc[pub.index, cols], pub[cols], decimals=2)


def test_removing_each_pillar_mean_absolute_rank_change(asem_oracles):
    ours = asem.remove_elements(_data(str(asem_oracles)), level=2)
    pub = published(asem_oracles, "sens_remove_elements").set_index("name")["value"]
    assert list(ours.index) == list(pub.index)
    np.testing.assert_allclose(ours, pub, rtol=5e-7)


# ---------------------------------------------------------------- the command
def test_command_writes_results_and_intermediate_datasets(asem_oracles, tmp_path):
    out = tmp_path / "asem.csv"
    assert asem.main(["--data", str(asem_oracles), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns[:3]) == ["uCode", "Rank", "Index"] and len(table) == 51
    assert list(table["uCode"][:6]) == list(TOP_SIX)
    ours = _build(str(asem_oracles)).aggregated()
    np.testing.assert_array_equal(table["Index"], ours["Index"])  # full precision round trip
    for stage in ("denominated", "imputed", "treated", "normalised"):
        frame = pd.read_csv(tmp_path / f"asem_{stage}.csv", index_col="uCode")
        assert frame.shape == (51, 49), stage
    details = pd.read_csv(tmp_path / "asem_treat_details.csv")
    assert (details["treatment"] == "winsorise").sum() == 15
    steps = json.loads((tmp_path / "asem_steps.json").read_text(encoding="utf-8"))
    assert [s["step"] for s in steps][1:4] == ["impute", "screen", "treat"]
    assert steps[1]["args"] == {"impute_by": "column", "use_group": "EurAsia_group"}


def test_command_variant_and_comparison(asem_oracles, tmp_path):
    out = tmp_path / "prank.csv"
    assert asem.main(["--data", str(asem_oracles), "--out", str(out), "--normalise", "percentile",
                      "--compare"]) == 0
    pub = published(asem_oracles, "adjust_compare_prank").drop(columns="rowname")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "prank_compare.csv"), pub, check_dtype=False)


def test_command_without_data_is_a_clear_error(tmp_path, capsys):
    assert asem.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "ASEM_iData.csv" in err and "--data" in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_examples_module_still_runs_the_command(tmp_path):
    """``python -m qyb.examples.asem`` (the old location) runs :func:`qyb.reference.asem.main`."""
    import subprocess
    import sys

    from qyb.examples import asem as shim

    assert shim.main is asem.main and shim.build is asem.build
    done = subprocess.run([sys.executable, "-m", "qyb.examples.asem", "--data", str(tmp_path / "nowhere"),
                           "--out", str(tmp_path / "x.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ASEM_iData.csv" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.csv").exists()
