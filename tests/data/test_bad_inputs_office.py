"""The bad-input catalogue, continued: office quirks that are rejected, hostile values, the changing register,
the measure catalogue, department folders, `qyb validate` and `qyb template`. Each case exits 2 with a message
naming the file (sheet, cell, row) and the rule, without a traceback, and writes nothing."""
from __future__ import annotations

import pytest

from tests.data.quirks import clean_frame, office_rows, set_cached_values, write_xlsx
from tests.data.test_bad_inputs import check_bad_input, edit_month, edit_units, set_cell, write_method
from tests.helpers import copy_sample, run_cli

MONTHS = ["2022-03", "2022-12", "2023-01", "2023-02", "2023-03"]  # what v2 reads to score 2023-03


@pytest.fixture
def data(tmp_path):
    return copy_sample(tmp_path, MONTHS)


# ---------------------------------------------------------------- builders
def office_csv(change):
    """2023-03 as an office CSV (title, 序号, 合计, 备注, note rows), then ``change(rows, where)``."""
    def breaker(d, t):
        rows, where = office_rows(clean_frame(d))
        change(rows, where)
        text = "\n".join(",".join("" if v is None else str(v) for v in r) for r in rows)
        (d / "2023-03.csv").write_text(text + "\n", encoding="utf-8-sig")
    return breaker


def bump_total(rows, where):
    rows[where["total"] - 1][4] += 1  # column E: 刑事治安警情 (A 序号, B 月份, C 单位编码, D 名称)


def add_row(label, figures=True):
    def change(rows, where):
        row = [None] * where["width"]
        row[0 if label else 2] = label or None
        if figures:
            row[4:10] = [1, 2, 3, 3, 1, 0]
        rows.insert(where["total"] - 1, row)
    return change


def xlsx_sheets(*specs):
    """Replace 2023-03.csv by a workbook; each spec (name, hidden, title) holds the month's table."""
    def breaker(d, t):
        frame = clean_frame(d)
        sheets = []
        for name, hidden, title in specs:
            rows, _ = office_rows(frame, title=title, total=False, note_rows=False)
            sheets.append({"name": name, "rows": rows, "hidden": hidden})
        write_xlsx(d / "2023-03.xlsx", sheets)
        (d / "2023-03.csv").unlink()
    return breaker


def formulas_without_values(d, t):
    """Every handled figure written as a formula (=its total) by a program, never opened in Excel."""
    frame = clean_frame(d)
    rows, where = office_rows(frame, title=None, total=False, note_rows=False, notes_column=False, row_numbers=False)
    header = rows[0]
    for r in range(1, len(rows)):
        for col in ("反诈预警已处置（条）", "出租屋已检查（间）"):
            j = header.index(col)
            rows[r][j] = f"={chr(65 + j - 1)}{r + 1}"
    write_xlsx(d / "2023-03.xlsx", [{"name": "2023-03", "rows": rows}])
    (d / "2023-03.csv").unlink()


def two_row_header(d, t):
    """反诈预警 merged over two columns whose own headers (总数, 已处置) are in the row below."""
    frame = clean_frame(d)
    rows, _ = office_rows(frame, title=None, total=False, note_rows=False, notes_column=False, units=False)
    header = rows[0]
    j = header.index("反诈预警")
    header[j], header[j + 1] = "反诈预警", None
    sub = [None] * len(header)
    sub[j], sub[j + 1] = "总数", "已处置"
    write_xlsx(d / "2023-03.xlsx", [{"name": "2023-03", "rows": [header, sub, *rows[1:]],
                                     "merge": [f"{chr(65 + j)}1:{chr(66 + j)}1"]}])
    (d / "2023-03.csv").unlink()


def departments(split, mutate=None):
    """2023-03 as a folder of department CSV files: ``split`` maps file name -> measure names."""
    def breaker(d, t):
        frame = clean_frame(d)
        folder = d / "2023-03"
        folder.mkdir()
        for file, cols in split.items():
            part = frame[["单位编码", *cols]].copy()
            if mutate:
                part = mutate(file, part)
            part.to_csv(folder / file, index=False, encoding="utf-8-sig")
        (d / "2023-03.csv").unlink()
    return breaker


POLICE = ["刑事治安警情", "电诈警情", "反诈预警", "反诈预警已处置", "重大案事件"]
REST = ["交通事故", "交通事故死亡人数", "出租屋应检查", "出租屋已检查", "生产安全事故", "生产安全事故死亡人数", "火灾",
        "安全隐患发现", "安全隐患已整改", "矛盾纠纷受理", "矛盾纠纷已化解", "乱点挂牌", "乱点已整治", "网格巡查计划",
        "网格巡查完成"]


def write_catalogue(text):
    def breaker(d, t):
        (d / "catalogue.yaml").write_text(text, encoding="utf-8")
    return breaker


def spec_with(change):
    return lambda t: write_method(t, change)


def add_drug_indicator(s):
    s["measures"] = [{"code": "drug_cases", "name": "涉毒案件", "kind": "count", "unit": "宗"}]
    s["indicators"].append({"code": "drug", "name": "涉毒案件数", "parent": "public_order",
                            "measures": {"value": "drug_cases"}, "transform": "count", "direction": -1})


def long_cell(n):
    def breaker(d, t):
        edit_month(d, "2023-03", set_cell(3, "村(社区)名称", "长" * n))
    return breaker


def many_rows(d, t):
    path = d / "2023-03.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join(lines + lines[1:] * 40) + "\n", encoding="utf-8")


def many_columns(d, t):
    frame = clean_frame(d)
    for k in range(500):
        frame[f"x{k}"] = "1"
    frame.to_csv(d / "2023-03.csv", index=False, encoding="utf-8-sig")


def renames(text):
    def breaker(d, t):
        (d / "unit_renames.csv").write_text(text, encoding="utf-8")
    return breaker


def both(*breakers):
    def breaker(d, t):
        for b in breakers:
            b(d, t)
    return breaker


# (case id, how to break the data, extra `qyb score` arguments, fragments the message must contain)
CASES = [
    # ------------------------------------------------ office quirks rejected
    ("total_row_mismatch", office_csv(bump_total), [],
     ["2023-03.csv", "单元格 E32", "第32行", "合计行为", "the total row says", "but the units' figures sum to"]),
    ("subtotal_row", office_csv(add_row("小计")), [], ["第32行", "a subtotal row (小计)", "表内有小计行"]),
    ("figures_without_unit", office_csv(add_row("")), [], ["第32行", "the row has figures but no unit"]),
    ("header_unit_disagrees", lambda d, t: edit_month(d, "2023-03", lambda f: f.rename(columns={"交通事故": "交通事故（人）"})),
     [], ["单元格 H1", "the header gives the unit 人, but 交通事故 (traffic_accidents) is counted in 宗"]),
    ("unknown_header_did_you_mean", lambda d, t: edit_month(d, "2023-03", lambda f: f.rename(columns={"电诈警情": "电炸警情"})),
     [], ["unknown column '电炸警情'", "Did you mean '电诈警情'", "是否为“电诈警情”"]),
    ("unit_short_name_did_you_mean",
     lambda d, t: edit_month(d, "2023-03", lambda f: f.drop(columns=["单位编码"]).assign(
         **{"村(社区)名称": ["永宁", *f["村(社区)名称"][1:]]})),
     [], ["单元格 B2", "unknown unit '永宁'", "Did you mean 永宁社区", "是否为 永宁社区（XL01）"]),
    ("title_month_disagrees", xlsx_sheets(("Sheet1", False, "小榄镇2023年2月平安晴雨表")), [],
     ["2023-03.xlsx", "工作表“Sheet1”", "第1行", "the title says 2023-02 but the file is for 2023-03"]),
    ("several_sheets_none_named", xlsx_sheets(("Sheet1", False, None), ("Sheet2", False, None)), [],
     ["2 sheets hold data (Sheet1, Sheet2) and none is named like 2023-03"]),
    ("two_sheets_named_like_the_month", xlsx_sheets(("2023-03", False, None), ("2023年3月", False, None)), [],
     ["several sheets are named like 2023-03: 2023-03, 2023年3月"]),
    ("formulas_not_recalculated", formulas_without_values, [],
     ["2023-03.xlsx", "工作表“2023-03”", "the workbook was not recalculated: 58 formula cells have no saved value",
      "Open it in Excel or WPS, save it", "工作簿未重新计算"]),
    ("xlsx_two_row_header", two_row_header, [],
     ["2023-03.xlsx", "第2行", "row 2 is a second header row under merged header cells (总数, 已处置): a two-row "
      "header is not accepted", "column H has data but no header", "unmerge G1:H1"]),
    ("two_files_folder_and_csv", lambda d, t: (d / "2023-03").mkdir(), [], ["two files for 2023-03"]),
    ("empty_month_folder", lambda d, t: ((d / "2023-03").mkdir(), (d / "2023-03.csv").unlink()), [],
     ["the folder 2023-03/ holds no CSV or XLSX file"]),
    ("measure_in_two_department_files", departments({"派出所.csv": POLICE, "综治办.csv": REST + ["电诈警情"]}), [],
     ["电诈警情", "is given by two files: 2023-03/派出所.csv and 2023-03/综治办.csv"]),
    ("department_folder_lacks_a_measure", departments({"派出所.csv": POLICE, "综治办.csv": REST[1:]}), [],
     ["missing required column traffic_accidents (交通事故): no file of 2023-03/ gives it"]),
    ("pair_split_across_files_exceeds",
     departments({"a.csv": POLICE[:3] + POLICE[4:], "b.csv": ["反诈预警已处置"] + REST},
                 lambda f, p: p.assign(反诈预警已处置="999") if f == "b.csv" else p), [],
     ["反诈预警已处置 (fraud_warnings_handled) = 999 in 2023-03/b.csv exceeds 反诈预警 (fraud_warnings)"]),
    ("department_file_misses_a_unit", departments({"派出所.csv": POLICE, "综治办.csv": REST},
                                                   lambda f, p: p.iloc[1:] if f == "综治办.csv" else p), [],
     ["综治办.csv", "missing row for unit XL01 (永宁社区)"]),
    # ------------------------------------------------ hostile values (issue 15)
    ("count_1e12", lambda d, t: edit_month(d, "2023-03", set_cell(2, "刑事治安警情", "1e12")), [],
     ["单元格 D4", "'1e12' is more than 1 per resident (population 33,000): implausible"]),
    ("count_1e19", lambda d, t: edit_month(d, "2023-03", set_cell(2, "电诈警情", "1e19")), [],
     ["'1e19' is larger than any count qyb accepts"]),
    ("count_inf", lambda d, t: edit_month(d, "2023-03", set_cell(2, "火灾", "inf")), [],
     ["'inf' is not a finite number"]),
    ("count_beyond_residents", lambda d, t: edit_month(d, "2023-03", set_cell(0, "网格巡查计划", "29001")), [],
     ["29001", "more than 1 per resident (population 29,000)"]),
    ("population_inf", lambda d, t: edit_units(d, set_cell(0, "population", "inf")), [],
     ["units.csv", "第2行", "'inf' is not a finite number"]),
    ("population_1e400", lambda d, t: edit_units(d, set_cell(0, "population", "1e400")), [],
     ["units.csv", "第2行", "'1e400' is not a finite number"]),
    ("population_1e-300", lambda d, t: edit_units(d, set_cell(0, "population", "1e-300")), [],
     ["units.csv", "第2行", "population '1e-300' is not a whole number"]),
    ("population_0.3", lambda d, t: edit_units(d, set_cell(1, "population", "0.3")), [],
     ["units.csv", "第3行", "population '0.3' is not a whole number"]),
    ("population_below_configured_minimum",
     both(lambda d, t: edit_units(d, set_cell(1, "population", "50")),
          write_catalogue("register: {population_min: 100}\n")), [],
     ["units.csv", "第3行", "population '50' must be at least 100"]),
    ("cell_of_200000_characters", long_cell(200_000), [],
     ["2023-03.csv", "第5行", "a cell is longer than 131,072 characters"]),
    ("cell_of_5000_characters", long_cell(5000), [],
     ["2023-03.csv", "单元格 C5", "the cell holds 5,000 characters (at most 2,000)"]),
    ("far_more_rows_than_units", many_rows, [], ["2023-03.csv", "more than 316 rows"]),
    ("far_more_columns", many_columns, [], ["2023-03.csv", "columns: more than 400"]),
    ("excel_serial_of_another_month", lambda d, t: edit_month(d, "2023-03", set_cell(0, "月份", "44958")), [],
     ["month '44958' disagrees with the file name (2023-03)"]),
    ("full_width_month_not_a_month", lambda d, t: None, ["--month", "２０２３－１３"], ["'２０２３－１３' is not a month"]),
    # ------------------------------------------------ the register over time
    ("unit_not_in_force", lambda d, t: edit_units(d, lambda f: f.assign(valid_to=[""] * 28 + ["2022-12"])), [],
     ["2023-03.csv", "unit DS14 (胜龙村) is not in force in 2023-03 (until 2022-12)", "2023-01.csv"]),
    ("valid_to_before_valid_from",
     lambda d, t: edit_units(d, lambda f: f.assign(valid_from=["2023-01"] + [""] * 28, valid_to=["2022-06"] + [""] * 28)),
     [], ["units.csv", "第2行", "valid_to 2022-06 is before valid_from 2023-01"]),
    ("valid_from_not_a_month", lambda d, t: edit_units(d, lambda f: f.assign(valid_from=["2023年13月"] + [""] * 28)),
     [], ["units.csv", "'2023年13月' is not a month"]),
    ("rename_old_id_is_a_unit", renames("old_id,old_name,unit_id,month\nXL02,,XL01,2023-01\n"), [],
     ["unit_renames.csv", "old id 'XL02' is also a unit of units.csv"]),
    ("rename_to_unknown_unit", renames("old_id,old_name,unit_id,month\nYN,永宁村,XL99,2023-01\n"), [],
     ["unit_renames.csv", "unit_id 'XL99' is not in units.csv"]),
    # ------------------------------------------------ the measure catalogue
    ("catalogue_bad_kind", write_catalogue("measures:\n  - {code: fires, kind: event}\n"), [],
     ["catalogue.yaml", "key 'measures[0].kind': 'event' is not one of count, total, handled, amount"]),
    ("catalogue_handled_without_total", write_catalogue("measures:\n  - {code: x_done, name: 某已办, kind: handled}\n"),
     [], ["key 'measures[20] (x_done).total': 'None' is not a count or total measure"]),
    ("catalogue_typo_key", write_catalogue("measures:\n  - {code: fires, alias: [火警]}\n"), [],
     ["key 'measures[0].alias': unknown key (a typo?) did you mean 'aliases'?"]),
    ("catalogue_bad_yaml", write_catalogue("measures:\n  - {code: fires\n"), [], ["catalogue.yaml", "not valid YAML (line"]),
    ("catalogue_alias_clash", write_catalogue("measures:\n  - {code: arson, name: 火灾}\n"), [],
     ["header '火灾' also means fires"]),
    ("catalogue_non_ascii_code", write_catalogue("measures:\n  - {code: 吸毒人员, name: 吸毒人员}\n"), [],
     ["'吸毒人员' is not an ASCII code"]),
    ("method_declares_measure_the_data_lack", lambda d, t: None, ["--method", spec_with(add_drug_indicator)],
     ["2023-03.csv", "missing required column drug_cases (涉毒案件)"]),
    ("method_measures_bad_entry", lambda d, t: None,
     ["--method", spec_with(lambda s: s.update(measures=[{"code": "drugs", "kind": "events"}]))],
     ["bad_method.yaml", "key 'measures[0].kind': 'events' is not one of"]),
    ("method_cap_on_attainment", lambda d, t: None,
     ["--method", spec_with(lambda s: s["indicators"][4].update(transform={"type": "attainment", "cap": 1}))],
     ["indicators[4].transform.cap", "unknown key"]),
    ("method_cap_not_finite", lambda d, t: None,
     ["--method", spec_with(lambda s: s["indicators"][0]["transform"].update(cap=float("inf")))],
     ["indicators[0].transform.cap", "inf is not a finite number"]),
    ("method_log_of_a_non_positive_cap", lambda d, t: None,
     ["--method", spec_with(lambda s: s["indicators"][9].update(transform={"type": "log", "cap": 0}))],
     ["indicators[9].transform.cap", "ln(cap + offset) is not defined"]),
    ("method_unknown_measure_did_you_mean", lambda d, t: None,
     ["--method", spec_with(lambda s: s["indicators"][0]["measures"].update(value="crime_alert"))],
     ["unknown measure 'crime_alert' (did you mean crime_alerts"]),
]


@pytest.mark.parametrize("case,breaker,extra,fragments", CASES, ids=[c[0] for c in CASES])
def test_office_and_hostile_inputs_exit_2_and_write_nothing(tmp_path, capsys, data, case, breaker, extra, fragments):
    check_bad_input(tmp_path, capsys, data, breaker, extra, fragments)


def test_only_hidden_sheets_say_so(tmp_path, capsys, data):
    xlsx_sheets(("Sheet1", False, None), ("2023-03", True, None), ("旧表", True, None))(data, tmp_path)
    import openpyxl

    book = openpyxl.load_workbook(data / "2023-03.xlsx")
    book["Sheet1"].delete_rows(1, 100)  # the visible sheet is empty, the figures are on hidden ones
    book.save(data / "2023-03.xlsx")
    err = check_bad_input(tmp_path, capsys, data, lambda d, t: None, [], [])
    assert "the only data are on hidden sheets (2023-03, 旧表)" in err and "数据只在隐藏的工作表中" in err


def test_formulas_give_one_problem_not_one_per_cell(tmp_path, capsys, data):
    err = check_bad_input(tmp_path, capsys, data, formulas_without_values, [], ["not recalculated"])
    assert "problems found" not in err and err.count("not recalculated") == 1
    # saved by Excel (values cached), the same workbook is read: formulas give their saved values
    import openpyxl

    sheet = openpyxl.load_workbook(data / "2023-03.xlsx")["2023-03"]
    cached = {c.coordinate: sheet[c.value[1:]].value for row in sheet.iter_rows() for c in row
              if isinstance(c.value, str) and c.value.startswith("=")}
    set_cached_values(data / "2023-03.xlsx", cached)
    code, out, err = run_cli(capsys, "validate", data, "--month", "2023-03")
    assert code == 0, err
    assert "58 个公式单元格按保存的计算结果读取" in out


def test_every_problem_in_one_pass_with_a_count_per_rule(tmp_path, capsys, data):
    def break_many(d, t):
        edit_month(d, "2023-03", lambda f: f.rename(columns={"电诈警情": "电炸警情"}))
        edit_month(d, "2023-03", set_cell(1, "火灾", "x"))
        edit_month(d, "2023-03", set_cell(2, "火灾", "y"))
        edit_month(d, "2023-03", set_cell(3, "单位编码", "XL98"))
        edit_month(d, "2022-12", set_cell(1, "矛盾纠纷已化解", "999"))
    err = check_bad_input(tmp_path, capsys, data, break_many, [], [])
    assert "发现 7 个问题 (7 problems found)" in err
    counts = err.splitlines()[-1]
    assert counts.startswith("按规则汇总 (problems by rule): not_a_number ×2; ")
    for rule in ("not_a_number ×2", "unknown_column ×1", "unknown_unit ×1", "handled_exceeds_total ×1",
                 "missing_column ×1", "missing_unit_row ×1"):
        assert rule in counts


# ---------------------------------------------------------------- qyb validate: what scoring needs
def test_validate_catches_a_missing_baseline_month(capsys, data):
    (data / "2022-03.csv").unlink()
    for argv in (["--month", "2023-03"], [], ["--month", "2023-03", "--method", "v2"]):
        code, out, err = run_cli(capsys, "validate", data, *argv)
        assert code == 2, (argv, err)
        assert "no data file for 2022-03, a baseline of 2023-03 under v2" in err
        assert "缺少 2022-03 的数据文件（2023-03 的基期，方法 v2）" in err
        assert "2023-03 (v2): 读取 (reads) 2022-03, 2022-12, 2023-01, 2023-02, 2023-03 — 缺 2022-03" in out
    # and scoring fails the same way: the folder that validates is the folder that scores
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", data / "x.csv")
    assert code == 2 and "2022-03" in err


def test_validate_catches_a_baseline_incomplete_for_a_unit_in_force(capsys, data):
    edit_units(data, lambda f: f.assign(valid_from=[""] * 28 + ["2023-01"]))
    for month in ("2022-03", "2022-12"):  # DS14 starts in 2023-01: no rows before
        edit_month(data, month, lambda f: f[f["单位编码"] != "DS14"])
    code, out, err = run_cli(capsys, "validate", data, "--month", "2023-03")
    assert code == 2, err
    assert "crime_alerts is missing in 2022-03 for 1 unit(s) in force in 2023-03 (DS14), a baseline of 2023-03 " \
           "under v2: the units are not in force in 2022-03" in err
    assert "fraud_alerts is missing in 2022-12" not in err  # the 3-month baseline reads traffic accidents only
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", data / "x.csv")
    assert code == 2 and "DS14" in err
    assert "the unit was not in force in 2022-03" in err and "blank" not in err  # not "a figure is blank"


def test_validate_a_missing_month_argument(capsys, data):
    code, _, err = run_cli(capsys, "validate", data, "--month", "2024-05")
    assert code == 2 and "no data file for 2024-05" in err


# ---------------------------------------------------------------- qyb template
@pytest.mark.parametrize("argv,fragments", [
    (["--department", "公安局"], ["unknown department '公安局'", "派出所 (police)"]),
    (["--department", "消防队"], ["是否为“消防"]),
])
def test_template_bad_arguments(tmp_path, capsys, data, argv, fragments):
    out = tmp_path / "t.xlsx"
    code, _, err = run_cli(capsys, "template", "--month", "2024-01", "--data", data, "--out", out, *argv)
    assert code == 2, err
    for f in fragments:
        assert f in err
    assert not out.exists()


def test_template_bad_month(tmp_path, capsys, data):
    code, _, err = run_cli(capsys, "template", "--month", "2024-1", "--data", data, "--out", tmp_path / "t.xlsx")
    assert code == 2 and "'2024-1' is not a month" in err
