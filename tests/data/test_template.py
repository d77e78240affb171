"""``qyb template``: the fill-in workbook reads back as the CSV does, byte for byte through scoring."""
from __future__ import annotations

import shutil

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qyb.data.catalogue import MEASURES, shipped_catalogue
from qyb.data.months import month_range
from tests.data.quirks import clean_frame
from tests.helpers import copy_sample, run_cli

BY_HEADER = {m.header: m for m in MEASURES}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample's months 2022-12..2023-12 plus a 2024-01.csv holding 2023-12's figures."""
    root = tmp_path_factory.mktemp("tpl")
    data = copy_sample(root, ["2022-12", "2023-01", *month_range("2023-09", "2023-12")])
    text = (data / "2023-12.csv").read_text(encoding="utf-8-sig").replace("\n2023-12,", "\n2024-01,")
    (data / "2024-01.csv").write_text(text, encoding="utf-8-sig")
    return data


def fill(template, figures, out):
    """Type the figures of a month (a frame as the sample CSV) into a template, as an office would."""
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[3]]
    rows = {sheet.cell(r, 2).value: r for r in range(4, sheet.max_row + 1)}
    for rec in figures.to_dict("records"):
        for j, h in enumerate(header, start=1):
            if h in BY_HEADER and BY_HEADER[h].name in rec:
                sheet.cell(rows[rec["单位编码"]], j, int(rec[BY_HEADER[h].name]))
    book.save(out)


@pytest.mark.parametrize("month", ["2024-01", "2023-12"])
def test_filled_template_validates_and_scores_byte_identically_to_the_csv(tmp_path, capsys, sample, month):
    template = tmp_path / "t.xlsx"
    code, out, err = run_cli(capsys, "template", "--month", month, "--data", sample, "--out", template)
    assert code == 0, err
    data = tmp_path / "raw"
    shutil.copytree(sample, data)
    fill(template, clean_frame(sample, month), data / f"{month}.xlsx")
    (data / f"{month}.csv").unlink()
    code, report, err = run_cli(capsys, "validate", data, "--month", month)
    assert code == 0, err
    assert f"读取工作表“{month}”（名称与月份一致）" in report and "工作表“填报说明”未读取" in report
    for folder, name in ((sample, "csv"), (data, "xlsx")):
        assert run_cli(capsys, "score", "--month", month, "--data", folder, "--out", tmp_path / f"{name}.csv")[0] == 0
    assert (tmp_path / "xlsx.csv").read_bytes() == (tmp_path / "csv.csv").read_bytes()


def test_department_templates_filled_and_merged_score_as_the_csv(tmp_path, capsys, sample):
    code, _, err = run_cli(capsys, "template", "--month", "2024-01", "--department", "all", "--data", sample,
                           "--out", tmp_path / "tpl")
    assert code == 0, err
    made = sorted(p.name for p in (tmp_path / "tpl").iterdir())
    assert made == sorted(f"2024-01_{d.name}.xlsx" for d in shipped_catalogue().departments)
    data = tmp_path / "raw"
    shutil.copytree(sample, data)
    (data / "2024-01.csv").unlink()
    (data / "2024-01").mkdir()
    for p in (tmp_path / "tpl").iterdir():
        fill(p, clean_frame(sample, "2024-01"), data / "2024-01" / p.name)
    for folder, name in ((sample, "csv"), (data, "folder")):
        assert run_cli(capsys, "score", "--month", "2024-01", "--data", folder, "--out", tmp_path / f"{name}.csv")[0] == 0
    assert (tmp_path / "folder.csv").read_bytes() == (tmp_path / "csv.csv").read_bytes()


def test_template_is_what_the_office_sends(tmp_path, capsys, sample):
    out = tmp_path / "police.xlsx"
    assert run_cli(capsys, "template", "--month", "2024-01", "--department", "派出所", "--data", sample,
                   "--out", out)[0] == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["2024-01", "填报说明"]
    sheet = book["2024-01"]
    assert sheet["A1"].value == "小榄镇平安“晴雨表”2024年1月数据填报表（派出所）" and "A1:I1" in sheet.merged_cells
    header = [c.value for c in sheet[3]]
    assert header == ["序号", "单位编码", "村(社区)名称", "刑事治安警情（宗）", "电诈警情（宗）", "反诈预警（条）",
                      "反诈预警已处置（条）", "重大案事件（宗）", "备注", None][: len(header)]
    assert sheet.max_row == 3 + 29 and sheet["B4"].value == "XL01" and sheet["C4"].value == "永宁社区"
    assert sheet.protection.sheet
    assert sheet["B4"].protection.locked and not sheet["D4"].protection.locked and not sheet["I4"].protection.locked
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    assert rules["D4:D32"].type == "whole" and rules["D4:D32"].operator == "greaterThanOrEqual"
    assert rules["D4:D32"].formula1 == "0"
    handled = rules["G4:G32"]  # 反诈预警已处置 <= 反诈预警 in the same row
    assert (handled.type, handled.operator, handled.formula1, handled.formula2) == ("whole", "between", "0", "F4")
    assert "不超过“反诈预警”" in handled.error and handled.showErrorMessage
    notes = [r[0] for r in book["填报说明"].iter_rows(values_only=True)]
    assert notes[0] == "填报说明" and any("每个村(社区)一行" in str(n) for n in notes)
    assert book.properties.subject == "qyb template 2024-01 police"


def test_same_inputs_same_template_bytes(tmp_path, capsys, sample):
    for name in ("a.xlsx", "b.xlsx"):
        assert run_cli(capsys, "template", "--month", "2024-01", "--data", sample, "--out", tmp_path / name)[0] == 0
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_template_lists_only_units_in_force_and_measures_collected(tmp_path, capsys, sample):
    data = tmp_path / "raw"
    shutil.copytree(sample, data)
    units = (data / "units.csv").read_text(encoding="utf-8-sig").splitlines()
    units[0] += ",valid_to"
    units = [units[0]] + [u + ("," if i < 28 else ",2023-12") for i, u in enumerate(units[1:])]
    (data / "units.csv").write_text("\n".join(units) + "\n", encoding="utf-8")
    (data / "catalogue.yaml").write_text("measures:\n  - {code: petitions, name: 信访件数, unit: 件, from: 2024-01, "
                                         "department: governance}\n", encoding="utf-8")
    out = tmp_path / "t.xlsx"
    assert run_cli(capsys, "template", "--month", "2024-01", "--data", data, "--out", out)[0] == 0
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.max_row == 3 + 28 and "信访件数（件）" in [c.value for c in sheet[3]]
    assert run_cli(capsys, "template", "--month", "2023-12", "--data", data, "--out", out)[0] == 0
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert sheet.max_row == 3 + 29 and "信访件数（件）" not in [c.value for c in sheet[3]]


@st.composite
def valid_figures(draw):
    """Figures for every unit: counts within the plausible rate, each handled figure at most its total."""
    n = 29
    out = {}
    for m in MEASURES:
        if m.kind == "handled":
            continue
        out[m.code] = np.array(draw(st.lists(st.integers(0, 400), min_size=n, max_size=n)))
    for m in MEASURES:
        if m.kind == "handled":
            share = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
            out[m.code] = np.floor(out[m.total] * share).astype(int)
    return out


@pytest.fixture(scope="module")
def blank_template(tmp_path_factory, sample):
    out = tmp_path_factory.mktemp("blank") / "t.xlsx"
    from qyb.cli import main

    assert main(["template", "--month", "2024-01", "--data", str(sample), "--out", str(out)]) == 0
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(figures=valid_figures())
def test_a_filled_template_always_validates_when_its_figures_are_valid(tmp_path_factory, capsys, sample,
                                                                       blank_template, figures):
    data = tmp_path_factory.mktemp("prop") / "raw"
    shutil.copytree(sample, data)
    frame = clean_frame(sample, "2024-01")
    for m in MEASURES:
        frame[m.name] = figures[m.code]
    fill(blank_template, frame, data / "2024-01.xlsx")
    (data / "2024-01.csv").unlink()
    code, _, err = run_cli(capsys, "validate", data / "2024-01.xlsx")
    assert code == 0, err
    from qyb.data.panel import load_panel

    panel = load_panel(data, ["2024-01"])
    for m in MEASURES:
        np.testing.assert_array_equal(panel.cube(m.code, ["2024-01"])[0], figures[m.code])
