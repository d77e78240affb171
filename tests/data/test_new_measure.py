"""A town adds an indicator by editing YAML only: the measure in a catalogue, its column in the month file, an
indicator on it in a method spec, and it is scored and shown in the 榜单 -- no line of qyb changed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from qyb.data.months import month_range
from qyb.paths import METHODS_DIR
from tests.helpers import copy_sample, run_cli

NEW_MEASURES = """\
measures:
  - {code: drug_users, name: 吸毒人员, aliases: [社区吸毒人员数], kind: total, unit: 人, department: police,
     from: 2024-01}
  - {code: drug_users_controlled, name: 吸毒人员已管控, aliases: [已管控吸毒人员], kind: handled, total: drug_users,
     unit: 人, department: police, from: 2024-01}
"""


@pytest.fixture
def data(tmp_path):
    """The sample's months that v2 reads for 2024-01, and a 2024-01.csv (2023-12's figures) with two new columns:
    吸毒人员 and 吸毒人员已管控 (every unit controls all but XL03, which controls 1 of 4)."""
    data = copy_sample(tmp_path, ["2022-12", "2023-01", *month_range("2023-09", "2023-12")])
    frame = pd.read_csv(data / "2023-12.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame["月份"] = "2024-01"
    users = np.arange(len(frame)) % 5 + 2
    frame["吸毒人员（人）"] = users
    frame["吸毒人员已管控（人）"] = np.where(frame["单位编码"] == "XL03", 1, users)
    frame.loc[frame["单位编码"] == "XL03", "吸毒人员（人）"] = 4
    frame.to_csv(data / "2024-01.csv", index=False, encoding="utf-8-sig")
    return data


def spec_with_drug_control(tmp_path, measures) -> str:
    spec = yaml.safe_load((METHODS_DIR / "v2.yaml").read_text(encoding="utf-8"))
    spec["name"] = "v3"
    spec["effective_from"] = "2024-01"
    spec["measures"] = measures
    spec["groups"].append({"code": "drugs", "name": "禁毒", "weight": 8})
    spec["indicators"].append({"code": "drug_control", "name": "吸毒人员管控率", "parent": "drugs",
                               "measures": {"handled": "drug_users_controlled", "total": "drug_users"},
                               "transform": "attainment", "normalise": {"method": "goalposts", "worst": 0.5,
                                                                        "best": 1.0}})
    path = tmp_path / "v3.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def check_scored_and_listed(capsys, data, method, tmp_path):
    import qyb

    code, report, err = run_cli(capsys, "validate", data, "--month", "2024-01", "--method", method)
    assert code == 0, err
    ed = qyb.load("2024-01", method, data)
    assert ed.panel.value("2024-01", "XL03", "drug_users") == 4.0
    assert np.isnan(ed.panel.value("2023-12", "XL03", "drug_users") or np.nan)  # not collected before 2024-01
    card = ed.scorecard.set_index("unit_id")
    assert card.loc["XL03", "cat_drugs"] == 0.0  # 1 of 4 controlled: 25 % is below the 50 % goalpost
    assert (card.drop(index="XL03")["cat_drugs"] == 100.0).all()
    ranking = ed.ranking()
    assert "禁毒" in ranking.columns
    profile = ed.profile("XL03")  # its 体检表 names the new measure in Chinese
    assert "吸毒人员已管控 1 / 吸毒人员 4" in set(profile.weakest["原始数据"])
    assert ranking.set_index("单位编码").loc["XL03", "禁毒"] == 0.0
    out = tmp_path / "card.csv"
    assert run_cli(capsys, "score", "--month", "2024-01", "--method", method, "--data", data, "--out", out)[0] == 0
    assert "cat_drugs" in out.read_text(encoding="utf-8-sig").splitlines()[0]
    # the template of the month carries the new columns, with their unit, for the department that reports them
    tpl = tmp_path / "police.xlsx"
    assert run_cli(capsys, "template", "--month", "2024-01", "--department", "派出所", "--data", data,
                   "--method", method, "--out", tpl)[0] == 0
    import openpyxl

    header = [c.value for c in openpyxl.load_workbook(tpl).worksheets[0][3]]
    assert "吸毒人员（人）" in header and "吸毒人员已管控（人）" in header
    return ed


def test_new_measure_in_the_data_folder_catalogue(tmp_path, capsys, data):
    (data / "catalogue.yaml").write_text(NEW_MEASURES, encoding="utf-8")
    method = spec_with_drug_control(tmp_path, ["drug_users", "drug_users_controlled"])
    check_scored_and_listed(capsys, data, method, tmp_path)


def test_new_measure_declared_in_the_method_spec(tmp_path, capsys, data):
    method = spec_with_drug_control(tmp_path, yaml.safe_load(NEW_MEASURES)["measures"])
    ed = check_scored_and_listed(capsys, data, method, tmp_path)
    assert ed.panel.catalogue["drug_users"].unit == "人"
    # declared by v3 only, the columns are unknown to the method before it: the data folder's catalogue is
    # the place for measures every method should read
    code, _, err = run_cli(capsys, "score", "--month", "2024-01", "--method", "v2", "--data", data,
                           "--out", tmp_path / "v2.csv")
    assert code == 2 and "unknown column '吸毒人员(人)'" in err and "catalogue.yaml" in err
    (data / "catalogue.yaml").write_text(NEW_MEASURES, encoding="utf-8")
    assert run_cli(capsys, "score", "--month", "2024-01", "--method", "v2", "--data", data,
                   "--out", tmp_path / "v2.csv")[0] == 0


def test_a_handled_figure_above_its_new_total_is_caught(tmp_path, capsys, data):
    frame = pd.read_csv(data / "2024-01.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.loc[0, "吸毒人员已管控（人）"] = "9"
    frame.to_csv(data / "2024-01.csv", index=False, encoding="utf-8-sig")
    (data / "catalogue.yaml").write_text(NEW_MEASURES, encoding="utf-8")
    code, _, err = run_cli(capsys, "validate", data, "--month", "2024-01")
    assert code == 2
    assert "吸毒人员已管控 (drug_users_controlled) = 9 exceeds 吸毒人员 (drug_users) = 2" in err


def test_the_new_columns_are_required_from_their_first_month(tmp_path, capsys, data):
    (data / "catalogue.yaml").write_text(NEW_MEASURES, encoding="utf-8")
    frame = pd.read_csv(data / "2024-01.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.drop(columns=["吸毒人员（人）"]).to_csv(data / "2024-01.csv", index=False, encoding="utf-8-sig")
    code, _, err = run_cli(capsys, "validate", data)
    assert code == 2
    assert "2024-01.csv" in err and "missing required column drug_users (吸毒人员)" in err
    assert "2023-12.csv" not in err  # collected from 2024-01 on: earlier files need not carry it
