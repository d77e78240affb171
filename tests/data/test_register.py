"""A register that changes over time: renamed units keep their history, merged units end, new units begin,
and a month is scored over the units in force."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from qyb.data.months import month_range
from qyb.paths import METHODS_DIR
from tests.data.test_bad_inputs import edit_month, edit_units
from tests.helpers import copy_sample, run_cli

MONTHS = ["2022-02", "2022-03", *month_range("2022-11", "2023-03")]


@pytest.fixture
def data(tmp_path):
    return copy_sample(tmp_path, MONTHS)


def score(capsys, data, out, *extra):
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", out, *extra)
    assert code == 0, err
    return pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_id": str})


def test_a_renamed_unit_keeps_its_history(tmp_path, capsys, data):
    clean = tmp_path / "clean.csv"
    score(capsys, data, clean)
    (data / "unit_renames.csv").write_text("old_id,old_name,unit_id,month\nYN01,永宁村,XL01,2023-01\n", encoding="utf-8")
    for month in ("2022-02", "2022-03", "2022-11"):  # before the rename the files use the old id and name
        edit_month(data, month, lambda f: f.replace({"单位编码": {"XL01": "YN01"}, "村(社区)名称": {"永宁社区": "永宁村"}}))
    edit_month(data, "2022-12", lambda f: f.drop(columns=["单位编码"]).replace({"村(社区)名称": {"永宁社区": "永宁村"}}))
    renamed = tmp_path / "renamed.csv"
    score(capsys, data, renamed)
    assert renamed.read_bytes() == clean.read_bytes()
    code, report, err = run_cli(capsys, "validate", data)
    assert code == 0, err
    assert "第2行按原编码 YN01 读作 XL01 永宁社区" in report and "第2行按原名称 永宁村 读作 XL01 永宁社区" in report
    assert "更名表：1 条更名" in report


def test_merged_units_end_and_the_new_unit_is_scored_from_its_first_month(tmp_path, capsys, data):
    """太平村 (DS13) and 胜龙村 (DS14) merge into 太平胜龙社区 (DS15) in 2023-01."""
    edit_units(data, lambda f: pd.concat([
        f.assign(valid_from="", valid_to=np.where(f["unit_id"].isin(["DS13", "DS14"]), "2022-12", "")),
        pd.DataFrame([{**f.iloc[-1].to_dict(), "unit_id": "DS15", "unit_name": "太平胜龙社区", "unit_type": "社区",
                       "population": "13000", "valid_from": "2023-01", "valid_to": ""}])]))

    def merge(frame):
        pair = frame[frame["单位编码"].isin(["DS13", "DS14"])]
        row = pair.iloc[0].copy()
        for col in frame.columns[3:]:
            row[col] = str(pd.to_numeric(pair[col]).sum())
        row["单位编码"], row["村(社区)名称"] = "DS15", "太平胜龙社区"
        return pd.concat([frame[~frame["单位编码"].isin(["DS13", "DS14"])], row.to_frame().T])

    for month in month_range("2023-01", "2023-03"):
        edit_month(data, month, merge)
    # under v2 (missing: fail) the new unit has no year-on-year baseline: validate and score both say so
    code, _, err = run_cli(capsys, "validate", data, "--month", "2023-03")
    assert code == 2
    assert "is missing in 2022-03 for 1 unit(s) in force in 2023-03 (DS15)" in err and "not in force in 2022-03" in err
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", tmp_path / "x.csv")
    assert code == 2 and "DS15" in err
    # under a method that imputes, the month is scored over the 28 units in force
    spec = yaml.safe_load((METHODS_DIR / "v2.yaml").read_text(encoding="utf-8"))
    spec.update(name="v2i", missing="impute_mean")
    method = tmp_path / "v2i.yaml"
    method.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    card = score(capsys, data, tmp_path / "merged.csv", "--method", method)
    assert len(card) == 28 and "DS15" in set(card["unit_id"]) and not {"DS13", "DS14"} & set(card["unit_id"])
    assert card.set_index("unit_id").loc["DS15", "imputed"] == "crime_reduction;fraud_reduction;traffic_reduction"
    import qyb

    ed = qyb.load("2023-03", method, data)
    assert list(ed.units.index[-2:]) == ["DS12", "DS15"]
    assert np.isnan(ed.panel.value("2022-12", "DS15", "fires") or np.nan)
    # an earlier month is scored over the units in force then
    old = qyb.load("2022-12", "v1", data)
    assert len(old.scorecard) == 29 and "DS15" not in set(old.scorecard["unit_id"])


def test_panel_units_in_force(data):
    from qyb.data.panel import load_panel

    edit_units(data, lambda f: f.assign(valid_to=[""] * 27 + ["2022-12", "2022-12"]))
    for month in month_range("2023-01", "2023-03"):
        edit_month(data, month, lambda f: f[~f["单位编码"].isin(["DS13", "DS14"])])
    panel = load_panel(data)
    assert len(panel.units) == 29
    assert panel.in_force("2023-03").sum() == 27 and panel.in_force("2022-12").all()
    march = panel.for_month("2023-03")
    assert len(march.units) == 27 and march.array.shape[1] == 27
    assert panel.for_month("2022-12") is panel
    assert np.isnan(panel.cube("fires", ["2023-03"])[0, -2:]).all()

