"""Quirks of offices' files that are accepted: each scores exactly as the clean file does, and the validation
report says what was recognised or ignored (nothing is guessed silently)."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from tests.data.quirks import clean_frame, office_rows, realistic_workbook, write_xlsx
from tests.helpers import copy_sample, run_cli

MONTHS = ["2022-03", "2022-12", "2023-01", "2023-02", "2023-03"]  # what v2 reads to score 2023-03


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The sample's 15 months and the scorecard of 2023-03 from the clean CSV."""
    root = tmp_path_factory.mktemp("clean")
    data = copy_sample(root, MONTHS)
    from qyb.cli import main

    assert main(["score", "--month", "2023-03", "--data", str(data), "--out", str(root / "clean.csv")]) == 0
    return data, (root / "clean.csv").read_bytes()


@pytest.fixture
def data(tmp_path, clean):
    dest = tmp_path / "raw"
    shutil.copytree(clean[0], dest)
    return dest


def scores_as_clean(capsys, data, clean, tmp_path, *extra) -> str:
    """Score 2023-03 from the quirky folder; assert the scorecard's bytes are the clean file's; return the
    validation report of `qyb validate --month 2023-03`."""
    out = tmp_path / "quirky.csv"
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", out, *extra)
    assert code == 0, err
    assert out.read_bytes() == clean[1]
    code, report, err = run_cli(capsys, "validate", data, "--month", "2023-03")
    assert code == 0, err
    return report


def replace_month(data, sheets) -> None:
    (data / "2023-03.csv").unlink()
    write_xlsx(data / "2023-03.xlsx", sheets)


def test_realistic_office_workbook_scores_with_a_report_of_what_was_recognised(capsys, tmp_path, data, clean):
    realistic_workbook(data)
    report = scores_as_clean(capsys, data, clean, tmp_path)
    for said in ("读取工作表“2023年3月”（名称与月份一致）", "隐藏的工作表“旧数据”有内容，未读取", "工作表“说明”未读取",
                 "第1行作为标题", "合并单元格 A1:Y1", "表头在第2行", "第 A 列“序号”是序号", "第 Y 列“备注”是备注",
                 "第5行“已核实”", "21 个表头按规范名称识别（其中 20 个带计量单位，", "个换行的表头）",
                 "第32行是合计行：20 列与各单位之和核对后略过", "20 个公式单元格按保存的计算结果读取",
                 "第33行无数据，作为说明行略过：“注:1. 本表数据截至当月最后一日", "第34行无数据"):
        assert said in report, said
    assert "OK: units.csv (29 units)" in report


def test_score_says_in_one_line_what_it_recognised(capsys, tmp_path, data, clean):
    realistic_workbook(data)
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", tmp_path / "x.csv")
    assert code == 0
    line = next(x for x in err.splitlines() if "2023-03.xlsx:" in x)
    for said in ("所读工作表", "隐藏工作表（未读）", "标题行", "序号列", "备注列", "说明行 2", "合计行（已核对）"):
        assert said in line, said


@pytest.mark.parametrize("quirk", ["title_merged", "title_unmerged", "title_and_group_row", "no_row_numbers",
                                   "total_label_总计", "units_no_title", "wrapped_only"])
def test_xlsx_layouts_are_read_as_the_clean_file(capsys, tmp_path, data, clean, quirk):
    frame = clean_frame(data)
    options = {"title_merged": {}, "title_unmerged": {}, "title_and_group_row": {"group_row": True},
               "no_row_numbers": {"row_numbers": False}, "total_label_总计": {"total_label": "总 计"},
               "units_no_title": {"title": None, "total": False, "note_rows": False, "notes_column": False},
               "wrapped_only": {"title": None, "units": False, "wrapped": True, "total": False}}[quirk]
    rows, where = office_rows(frame, **options)
    merge = [f"A1:{get_column_letter(where['width'])}1"] if quirk in ("title_merged", "title_and_group_row") else []
    replace_month(data, [{"name": "Sheet1", "rows": rows, "merge": merge}])
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert "读取工作表“Sheet1”" in report
    if "total" in where:
        assert f"第{where['total']}行是合计行" in report


def test_csv_with_title_row_total_row_and_notes_is_read_as_the_clean_file(capsys, tmp_path, data, clean):
    rows, where = office_rows(clean_frame(data))
    text = "\n".join(",".join("" if v is None else str(v).replace("\n", " ") for v in r) for r in rows)
    (data / "2023-03.csv").write_text(text + "\n", encoding="gb18030")
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert f"第{where['total']}行是合计行" in report and "第1行作为标题" in report


def test_only_sheet_with_a_table_is_read_and_others_are_listed(capsys, tmp_path, data, clean):
    rows, _ = office_rows(clean_frame(data), title=None, total=False, note_rows=False)
    replace_month(data, [{"name": "封面", "rows": [["2023年3月 平安晴雨表"], ["镇综治办"]]},
                         {"name": "数据", "rows": rows}, {"name": "空白", "rows": []}])
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert "读取工作表“数据”（唯一含数据表的工作表）" in report and "工作表“封面”未读取" in report


def test_hidden_first_sheet_with_stale_figures_is_never_read_silently(capsys, tmp_path, data, clean):
    frame = clean_frame(data)
    stale, _ = office_rows(frame.assign(电诈警情="40"), title=None, total=False, note_rows=False)
    rows, _ = office_rows(frame, title=None, total=False, note_rows=False)
    replace_month(data, [{"name": "Sheet1", "rows": stale, "hidden": True}, {"name": "Sheet2", "rows": rows}])
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert "隐藏的工作表“Sheet1”有内容，未读取（请确认不是本月数据）" in report


def test_invisible_characters_and_full_width_text_are_cleaned(capsys, tmp_path, data, clean):
    path = data / "2023-03.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[0] = lines[0].replace("电诈警情", "电诈警情\u200b").replace("火灾", "\ufeff火灾\u2060")
    lines[0] = lines[0].replace("刑事治安警情", "刑事治安警情（宗）").replace("交通事故,", "交通事故［宗］,")
    lines[3] = lines[3].replace("绩东一社区", "绩东一社区\u200b\u200d")
    lines[4] = lines[4].replace(",12,", ",１２,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert "个单元格中的不可见字符（零宽空格等）已删除" in report


def test_excel_date_serials_in_the_month_column_are_dates(capsys, tmp_path, data, clean):
    frame = clean_frame(data)
    rows, _ = office_rows(frame.assign(月份="44986"), title=None, total=False, note_rows=False, notes_column=False,
                          row_numbers=False)
    for r in rows[1:]:
        r[0] = 44986  # a number formatted as General: Excel's serial of 2023-03-01
    replace_month(data, [{"name": "2023-03", "rows": rows}])
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert "Excel 日期序号（如 44986）按日期读取" in report


def test_blank_means_zero_where_the_catalogue_says_so(capsys, tmp_path, data, clean):
    frame = clean_frame(data)
    zero = frame.index[frame["生产安全事故死亡人数"] == "0"]
    assert len(zero) > 20
    frame.loc[zero, "生产安全事故死亡人数"] = ""
    frame.to_csv(data / "2023-03.csv", index=False, encoding="utf-8-sig")
    (data / "catalogue.yaml").write_text("measures:\n  - {code: work_deaths, blank_is_zero: true}\n", encoding="utf-8")
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert f"{len(zero)} 个空白单元格按 0 读取（work_deaths" in report


def test_full_width_and_spaced_month_argument_finds_the_file(capsys, tmp_path, data, clean):
    out = tmp_path / "fw.csv"
    code, _, err = run_cli(capsys, "score", "--month", "２０２３－０３", "--data", data, "--out", out)
    assert code == 0, err
    assert out.read_bytes() == clean[1]
    code, _, err = run_cli(capsys, "score", "--month", " 2023 - 03 ", "--data", data, "--out", out)
    assert code == 0 and out.read_bytes() == clean[1]


def test_department_files_merge_by_unit_and_run_json_says_where_each_measure_came_from(capsys, tmp_path, data,
                                                                                         clean):
    from qyb.data.catalogue import shipped_catalogue

    cat = shipped_catalogue()
    frame = clean_frame(data)
    folder = data / "2023-03"
    folder.mkdir()
    for k, d in enumerate(cat.departments):
        cols = [m.name for m in cat.of_department(d)]
        part = frame[["单位编码", "村(社区)名称", *cols]]
        if k % 2:  # half as office workbooks, half as CSV, units in another order
            rows, _ = office_rows(part.iloc[::-1], title=f"{d.name} 2023年3月报表")
            write_xlsx(folder / f"{d.name}.xlsx", [{"name": "Sheet1", "rows": rows}])
        else:
            part.to_csv(folder / f"{d.name}.csv", index=False, encoding="utf-8-sig")
    (folder / "~$派出所.xlsx").write_bytes(b"lock")
    (data / "2023-03.csv").unlink()
    report = scores_as_clean(capsys, data, clean, tmp_path)
    assert "6 个部门文件按单位合并" in report and "~$派出所.xlsx:\n    - 不是 CSV/XLSX 数据文件，未读取" in report
    import qyb

    ed = qyb.load("2023-03", data=data)
    assert ed.panel.sources("2023-03")["fraud_alerts"] == "2023-03/派出所.csv"
    assert ed.panel.sources("2023-03")["traffic_accidents"] == "2023-03/交警.xlsx"
    assert ed.panel.sources("2022-03")["fires"] == "2022-03.csv"
    from qyb.report.record import input_hashes, run_record

    files = input_hashes(ed.panel, ed.method)["files"]
    assert "2023-03/派出所.csv" in files and "2023-03/交警.xlsx" in files and "2023-03/~$派出所.xlsx" not in files
    import datetime as dt

    record = run_record("2023-03", ed.method, ed.panel, {}, dt.datetime(2023, 4, 1), {}, [])
    assert record["measure_sources"]["2023-03/派出所.csv"] == ["crime_alerts", "fraud_alerts", "fraud_warnings",
                                                              "fraud_warnings_handled", "major_cases"]
    assert any("部门文件按单位合并" in n for n in record["intake_notes"])


def test_validate_lists_what_it_checked_for_scoring(capsys, data):
    code, out, err = run_cli(capsys, "validate", data)
    assert code == 0, err
    assert "2023-03 (v2): 读取 (reads) 2022-03, 2022-12, 2023-01, 2023-02, 2023-03 — 齐全 (present)" in out
    assert "2023-02 (v1)" in out and "2022-12 (" not in out  # months before any method are history only


def test_filled_pandas_frame_round_trip_keeps_the_numbers(data):
    """The reader's numbers are the CSV's: thousands separators, spaces and full-width digits included."""
    from qyb.data.panel import load_panel

    before = load_panel(data, ["2023-03"]).array.copy()
    frame = clean_frame(data)
    frame["出租屋应检查"] = frame["出租屋应检查"].map(lambda v: f" {int(v):,} ")
    frame.to_csv(data / "2023-03.csv", index=False, encoding="utf-8-sig")
    after = load_panel(data, ["2023-03"]).array
    pd.testing.assert_frame_equal(pd.DataFrame(after[0]), pd.DataFrame(before[0]))
