"""The analysis commands: qyb movements / intervals / review write the report's tables from the command line
(``qyb score``, ``qyb validate`` and ``qyb run`` are tested in tests/sample, tests/data and tests/report)."""
from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from tests.helpers import run_cli


def test_movements_command_yongning_fraud_yoy(tmp_path, capsys):
    out = tmp_path / "mv.csv"
    code, stdout, err = run_cli(capsys, "movements", "--month", "2023-03", "--out", out)
    assert code == 0, err
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_id": str}).set_index("unit_id")
    assert len(table) == 29 and (table["baseline"] == "yoy").all()
    yn = table.loc["XL01"]
    assert (yn["count_before"], yn["count_now"]) == (13, 0)
    expected = stats.binomtest(0, 13, p=yn["exposure_now"] / (yn["exposure_now"] + yn["exposure_before"])).pvalue
    assert yn["p_exact"] == pytest.approx(expected, rel=1e-6)  # the Poisson result, kept beside
    # judged against its 12-month level (expected ratio 0.41) and in the month's family of 435: not 显著
    assert yn["expected_ratio"] == pytest.approx(64 / 12 / 13) and yn["family_size"] == 435
    assert yn["verdict"] == "下降但不显著"
    assert "435" in stdout and "significant here: 0" in stdout


def test_movements_command_all_indicators_and_baselines(tmp_path, capsys, monkeypatch):
    import qyb.paths

    monkeypatch.setattr(qyb.paths, "DATA_PROCESSED", tmp_path)  # where the default file names go
    folder = tmp_path / "2023-03"
    code, stdout, err = run_cli(capsys, "movements", "--month", "2023-03", "--indicator", "all")
    assert code == 0, err
    every = pd.read_csv(folder / "movements_all_all.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert str(folder / "movements_all_all.csv") in stdout
    assert len(every) == 5 * 3 * 29 and set(every["baseline"]) == {"mom", "yoy", "3m"}
    q = stats.false_discovery_control(every["p_value"].to_numpy())  # one family: the whole table
    assert every["q_value"].to_numpy() == pytest.approx(q, rel=1e-6)
    assert (every["family_size"] == 435).all() and every["family"].nunique() == 1
    code, _, err = run_cli(capsys, "movements", "--month", "2023-03", "--indicator", "all", "--baseline", "mom")
    assert code == 0, err
    mom = pd.read_csv(folder / "movements_all_mom.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert len(mom) == 5 * 29 and set(mom["baseline"]) == {"mom"}
    code, _, err = run_cli(capsys, "movements", "--month", "2023-03", "--baseline", "3m")
    assert code == 0, err
    m3 = pd.read_csv(folder / "movements_fraud_alerts_3m.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    assert len(m3) == 29 and set(m3["indicator"]) == {"fraud_alerts"} and set(m3["baseline"]) == {"3m"}
    # the command writes what the edition computes
    ours = qyb.load("2023-03").movements("fraud_alerts", "3m")
    pd.testing.assert_series_equal(m3["q_value"], ours["q_value"], check_exact=False, rtol=1e-9, check_dtype=False)
    assert (m3["verdict"] == ours["verdict"]).all()


def test_movements_indicator_by_chinese_name_and_close_names(tmp_path, capsys):
    by_code, by_name = tmp_path / "code.csv", tmp_path / "name.csv"
    assert run_cli(capsys, "movements", "--month", "2023-03", "--indicator", "fraud_alerts", "--out", by_code)[0] == 0
    assert run_cli(capsys, "movements", "--month", "2023-03", "--indicator", "电诈警情", "--out", by_name)[0] == 0
    assert by_code.read_bytes() == by_name.read_bytes()
    code, _, err = run_cli(capsys, "movements", "--month", "2023-03", "--indicator", "电诈", "--out", tmp_path / "x.csv")
    assert code == 2 and "电诈警情" in err and "Traceback" not in err  # the closest measure is named
    assert not (tmp_path / "x.csv").exists()


def test_movements_of_a_count_the_data_folder_adds(tmp_path, capsys):
    """A count measure a town adds in its data folder's catalogue.yaml, marked for movements, is one
    --indicator choice like the shipped ones (by code or Chinese name)."""
    from qyb.data.months import month_range
    from tests.helpers import copy_sample

    months = month_range("2022-03", "2023-03")
    data = copy_sample(tmp_path, months)
    (data / "catalogue.yaml").write_text(
        "measures:\n  - {code: petitions, name: 信访件数, kind: count, unit: 件, department: governance, movements: true}\n",
        encoding="utf-8")
    for k, month in enumerate(months):
        frame = pd.read_csv(data / f"{month}.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
        frame["信访件数（件）"] = [(3 * i + k) % 7 for i in range(len(frame))]
        frame.to_csv(data / f"{month}.csv", index=False, encoding="utf-8-sig")
    out = tmp_path / "petitions.csv"
    code, stdout, err = run_cli(capsys, "movements", "--month", "2023-03", "--indicator", "信访件数", "--data", data,
                                "--out", out)
    assert code == 0, err
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_id": str}).set_index("unit_id")
    assert set(table["indicator"]) == {"petitions"} and set(table["indicator_name"]) == {"信访件数"}
    first = table.iloc[0]  # unit 0: 2022-03 (k = 0) against 2023-03 (k = 12)
    assert (first["count_before"], first["count_now"]) == (0, 12 % 7)


def test_intervals_command_is_reproducible(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for out in (a, b):
        code, _, err = run_cli(capsys, "intervals", "--month", "2023-03", "--draws", "300", "--seed", "5",
                               "--out", out)
        assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    ri = pd.read_csv(a, encoding="utf-8-sig")
    assert list(ri.columns[:7]) == ["unit_id", "rank", "rank_median", "rank_p05", "rank_p95", "p_top3",
                                    "p_same_stars"]
    assert ((ri["rank_p05"] <= ri["rank_median"]) & (ri["rank_median"] <= ri["rank_p95"])).all()
    assert (ri["model"] == "posterior").all() and ri["interval_method"].str.contains("true rank").all()
    boot = tmp_path / "boot.csv"
    code, _, err = run_cli(capsys, "intervals", "--month", "2023-03", "--draws", "300", "--model", "bootstrap",
                           "--out", boot)
    assert code == 0, err
    assert pd.read_csv(boot, encoding="utf-8-sig")["interval_method"].str.contains("Poisson").all()


def test_review_command_writes_the_tables(tmp_path, capsys):
    code, stdout, err = run_cli(capsys, "review", "--month", "2023-03", "--draws", "1000", "--fairness", "v2,v3",
                                "--fairness-size", "quick", "--out", tmp_path)
    assert code == 0, err
    tables = tmp_path / "tables"
    dec = pd.read_csv(tables / "method_decomposition.csv", encoding="utf-8-sig", dtype={"unit_id": str})
    yn = dec.set_index("unit_id").loc["XL01"]
    assert (yn["rank_from"], yn["rank_to"]) == (27, 2)
    assert yn["method_effect"] + yn["data_effect"] == yn["rank_from"] - yn["rank_to"]
    sens = pd.read_csv(tables / "sensitivity.csv", encoding="utf-8-sig")
    assert list(sens.columns) == ["factor", "S1", "S1_lower", "S1_upper", "ST", "ST_lower", "ST_upper",
                                  "interval_method"]
    assert sens["interval_method"].str.contains("Jansen").all()
    assert sens["S1"].between(-0.05, 1.0).all() and sens["ST"].between(-0.05, 1.05).all()  # --draws >= 1,000
    mu = pd.read_csv(tables / "method_uncertainty.csv", encoding="utf-8-sig")
    assert [f"p_star_{k}" for k in range(1, 6)] == list(mu.columns[-6:-1])
    assert mu["interval_method"].str.contains("inverted empirical CDF").all()
    rel = pd.read_csv(tables / "reliability.csv", encoding="utf-8-sig")
    assert set(rel["method"]) == {"v2", "v3"} and rel["truth"].notna().all()
    v3 = rel[(rel["method"] == "v3") & (rel["figure"] == "index_reliability")]
    v2 = rel[(rel["method"] == "v2") & (rel["figure"] == "index_reliability")]
    assert v3["truth"].item() > 0.6 > 0.3 > v2["truth"].item()
    assert mu[[f"p_star_{k}" for k in range(1, 6)]].sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert {"scheme", "category", "weight"} <= set(pd.read_csv(tables / "weights.csv", encoding="utf-8-sig"))


@pytest.mark.parametrize("argv", [
    ["movements", "--month", "2023-03", "--indicator", "murders"],
    ["movements", "--month", "2023-03", "--baseline", "weekly"],
    ["intervals", "--month", "2023-3"],
    ["review", "--month", "2023-03", "--draws", "many"],
    ["intervals", "--month", "2023-03", "--draws", "0"],
    ["intervals", "--month", "2023-03", "--model", "bayes"],
    ["review", "--month", "2023-03", "--fairness-size", "huge"],
    ["review", "--month", "2023-03", "--fairness", "v1,v9"],
    ["movements", "--month", "2022-01"],  # no 2021-01 for the year-on-year baseline
])
def test_analysis_commands_bad_arguments_exit_2(tmp_path, capsys, argv):
    try:
        code, _, err = run_cli(capsys, *argv, "--out", tmp_path / "x.csv")
    except SystemExit as exc:  # argparse
        code, err = exc.code, capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()
