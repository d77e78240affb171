"""The shipped sample: regenerates byte-identically, shows the article's headline, meets the contract."""
from __future__ import annotations

import numpy as np
import pandas as pd

import qyb
from qyb import sample
from qyb.data.panel import load_panel
from qyb.engine import score_panel
from qyb.method import load_method
from qyb.paths import DATA_RAW
from tests.helpers import copy_sample, run_cli

CONTRACT = ["unit_id", "unit_name", "index", "stars", "rank", "rank_prev", "rank_change"]


def test_sample_regenerates_byte_identical(tmp_path):
    written = sample.write(tmp_path)
    shipped = sorted(p.name for p in DATA_RAW.iterdir() if p.is_file())
    assert sorted(p.name for p in written) == shipped
    for path in written:
        assert path.read_bytes() == (DATA_RAW / path.name).read_bytes(), path.name


def test_sample_shape_and_magnitudes():
    panel = load_panel(DATA_RAW)
    assert len(panel.units) == 29 and panel.synthetic
    assert panel.months[0] == "2022-01" and panel.months[-1] >= "2023-12"
    assert 700_000 < panel.units["population"].sum() < 900_000
    yongning = panel.units.loc["XL01"]
    assert (yongning["unit_name"], yongning["population"], yongning["rental_rooms"]) == ("永宁社区", 29000, 2540)
    per_unit_month = panel.values.groupby("month").mean()
    assert 15 < per_unit_month.loc["2022-01":"2022-12", "crime_alerts"].mean() < 35
    assert 2 < per_unit_month.loc["2022-01":"2022-12", "fraud_alerts"].mean() < 8
    # a town-wide decline after the mechanism starts
    before = panel.values.loc["2022-02":"2023-01", "crime_alerts"].sum()
    after = panel.values.loc["2023-02":"2023-12", "crime_alerts"].sum() * 12 / 11
    assert after < 0.95 * before


def test_headline_yongning_27th_in_february_under_v1_and_2nd_in_march_under_v2():
    feb = qyb.load("2023-02").scorecard.set_index("unit_id")
    mar = qyb.load("2023-03").scorecard.set_index("unit_id")
    assert feb["method"].iat[0] == "v1" and mar["method"].iat[0] == "v2"
    assert feb.at["XL01", "rank"] == 27
    assert mar.at["XL01", "rank"] == 2
    assert mar.at["XL01", "rank_prev_published"] == 27 and mar.at["XL01", "method_prev_published"] == "v1"
    assert mar.at["XL01", "stars"] == 5
    fraud = mar["ind_fraud_reduction"]
    assert fraud.idxmax() == "XL01" and (fraud == fraud.max()).sum() == 1


def test_scorecard_contract_via_cli(tmp_path, capsys):
    out = tmp_path / "sc.csv"
    code, stdout, _ = run_cli(capsys, "score", "--month", "2023-03", "--out", out)
    assert code == 0 and str(out) in stdout
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    card = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_id": str})
    assert len(card) == 29
    assert list(card.columns[:2]) == ["month", "group"] and set(CONTRACT) <= set(card.columns)
    cats = [c for c in card.columns if c.startswith("cat_")]
    assert len(cats) == 9
    assert card["index"].between(0, 100).all() and card["stars"].between(1, 5).all()
    assert card["unit_id"].is_unique
    # rank 1 = best; ties share the best rank
    expected = card["index"].round(9).rank(ascending=False, method="min").astype(int)
    assert (card["rank"] == expected).all()
    assert (card["rank_change"] == card["rank_prev"] - card["rank"]).all()
    assert card["method"].eq("v2").all() and card["method_hash"].str.len().eq(12).all()


def test_rank_prev_is_empty_without_a_previous_month(tmp_path, capsys):
    data = copy_sample(tmp_path)
    out = tmp_path / "sc.csv"
    code, _, err = run_cli(capsys, "score", "--month", "2022-01", "--method", "v1", "--data", data, "--out", out)
    assert code == 0, err
    card = pd.read_csv(out, encoding="utf-8-sig")
    assert card["rank_prev"].isna().all() and card["rank_change"].isna().all()


def test_two_runs_write_byte_identical_scorecards(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run_cli(capsys, "score", "--month", "2023-06", "--out", a)
    run_cli(capsys, "score", "--month", "2023-06", "--out", b)
    assert a.read_bytes() == b.read_bytes()


def test_gb18030_and_xlsx_with_chinese_headers_score_identically(tmp_path, capsys):
    data = copy_sample(tmp_path)
    base = tmp_path / "base.csv"
    run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", base)
    frame = pd.read_csv(data / "2023-03.csv", encoding="utf-8-sig", dtype=str)
    (data / "2023-03.csv").write_bytes(frame.to_csv(index=False).encode("gb18030"))
    gb = tmp_path / "gb.csv"
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", gb)
    assert code == 0, err
    (data / "2023-03.csv").unlink()
    numeric = frame.columns[3:]
    frame.astype({c: int for c in numeric}).to_excel(data / "2023-03.xlsx", index=False)
    xl = tmp_path / "xl.csv"
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", xl)
    assert code == 0, err
    assert gb.read_bytes() == base.read_bytes() == xl.read_bytes()


def test_english_headers_and_unit_names_only_are_accepted(tmp_path, capsys):
    from qyb.data.catalogue import MEASURE_BY_CODE

    data = copy_sample(tmp_path)
    base = tmp_path / "base.csv"
    run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", base)
    frame = pd.read_csv(data / "2023-03.csv", encoding="utf-8-sig", dtype=str)
    by_name = {m.name: code for code, m in MEASURE_BY_CODE.items()}
    frame = frame.drop(columns=["单位编码"]).rename(columns=by_name)  # units identified by Chinese name only
    frame.to_csv(data / "2023-03.csv", index=False)
    out = tmp_path / "en.csv"
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", out)
    assert code == 0, err
    assert out.read_bytes() == base.read_bytes()


def test_many_towns_are_ranked_separately():
    panel = load_panel(DATA_RAW, ["2023-01", "2023-02"])
    panel.units = panel.units.assign(town=np.where(panel.units["former_town"] == "小榄", "小榄", "东升"))
    card = score_panel(panel, load_method("v1"), ["2023-02"]).scorecard("2023-02")
    for _town, part in card.groupby("group"):
        assert sorted(part["rank"]) == list(range(1, len(part) + 1)) or part["rank"].min() == 1
        assert part["rank"].max() <= len(part)
    assert set(card["group"]) == {"小榄", "东升"}


def test_missing_policy_impute_mean_flags_the_cell(tmp_path):
    data = copy_sample(tmp_path)
    frame = pd.read_csv(data / "2023-03.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.loc[0, "火灾"] = ""
    frame.to_csv(data / "2023-03.csv", index=False)
    method = load_method("v2").derive("v2-impute", missing="impute_mean")
    card = qyb.load("2023-03", method, data).scorecard.set_index("unit_id")
    assert card.at["XL01", "imputed"] == "fires"
    assert card.drop(index="XL01")["imputed"].eq("").all()


