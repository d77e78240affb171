"""The bad-input catalogue: each case exits 2 with a message naming file/row/column/rule, writes nothing."""
from __future__ import annotations

import pandas as pd
import pytest

from qyb.data.months import month_range
from tests.helpers import copy_sample, run_cli

MONTHS = month_range("2022-01", "2023-03")


@pytest.fixture
def data(tmp_path):
    return copy_sample(tmp_path, MONTHS)


def edit_month(data, month, func):
    path = data / f"{month}.csv"
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame = func(frame)
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def set_cell(row, column, value):
    def func(frame):
        frame.loc[row, column] = value
        return frame
    return func


def edit_units(data, func):
    path = data / "units.csv"
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    func(frame).to_csv(path, index=False, encoding="utf-8-sig")


def write_method(tmp_path, change):
    import yaml

    from qyb.paths import PROJECT_ROOT

    spec = yaml.safe_load((PROJECT_ROOT / "methods" / "v2.yaml").read_text(encoding="utf-8"))
    change(spec)
    path = tmp_path / "bad_method.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


# (case id, how to break the data, extra CLI args, fragments the message must contain)
CASES = [
    ("missing_file", lambda d, t: (d / "2022-03.csv").unlink(), [], ["no data file for 2022-03"]),
    ("month_without_file", lambda d, t: None, ["--month", "2024-05"], ["2024-05", "no data file"]),
    ("unknown_unit", lambda d, t: edit_month(d, "2023-03", set_cell(4, "单位编码", "XL99")), [],
     ["2023-03.csv", "第6行", "unknown unit 'XL99'", "单位编码" if False else "unit_id"]),
    ("duplicate_unit_row", lambda d, t: edit_month(d, "2023-03", lambda f: pd.concat([f, f.iloc[[2]]])), [],
     ["2023-03.csv", "第31行", "duplicate row for unit"]),
    ("missing_unit", lambda d, t: edit_month(d, "2023-03", lambda f: f.drop(index=7)), [],
     ["2023-03.csv", "missing row for unit XL08"]),
    ("negative_count", lambda d, t: edit_month(d, "2023-03", set_cell(0, "电诈警情", "-3")), [],
     ["2023-03.csv", "第2行", "fraud_alerts (电诈警情)", "is negative"]),
    ("non_numeric_cell", lambda d, t: edit_month(d, "2023-02", set_cell(3, "刑事治安警情", "十二")), [],
     ["2023-02.csv", "第5行", "crime_alerts", "'十二' is not a number"]),
    ("non_integer_count", lambda d, t: edit_month(d, "2023-03", set_cell(3, "火灾", "1.5")), [],
     ["2023-03.csv", "第5行", "fires", "not a whole number"]),
    ("blank_cell", lambda d, t: edit_month(d, "2023-03", set_cell(3, "火灾", "")), [],
     ["2023-03.csv", "第5行", "fires", "empty"]),
    ("missing_required_column", lambda d, t: edit_month(d, "2023-03", lambda f: f.drop(columns=["交通事故"])), [],
     ["2023-03.csv", "missing required column traffic_accidents (交通事故)"]),
    ("unknown_column", lambda d, t: edit_month(d, "2023-03", lambda f: f.assign(备注x="")), [],
     ["2023-03.csv", "unknown column '备注x'"]),
    ("handled_exceeds_total", lambda d, t: edit_month(d, "2023-03", set_cell(1, "矛盾纠纷已化解", "999")), [],
     ["2023-03.csv", "第3行", "disputes_resolved", "exceeds", "disputes_received"]),
    ("month_disagrees_with_name", lambda d, t: edit_month(d, "2023-03", set_cell(0, "月份", "2023-04")), [],
     ["2023-03.csv", "第2行", "month '2023-04' disagrees with the file name (2023-03)"]),
    ("unit_without_population", lambda d, t: edit_units(d, set_cell(5, "population", "")), [],
     ["units.csv", "第7行", "has no population"]),
    ("zero_population", lambda d, t: edit_units(d, set_cell(5, "population", "0")), [],
     ["units.csv", "第7行", "must be greater than 0"]),
    ("duplicate_unit_in_register", lambda d, t: edit_units(d, lambda f: pd.concat([f, f.iloc[[0]]])), [],
     ["units.csv", "duplicate unit_id 'XL01'"]),
    ("empty_file", lambda d, t: (d / "2023-03.csv").write_bytes(b""), [], ["2023-03.csv", "the file is empty"]),
    ("header_only_file", lambda d, t: (d / "2023-03.csv").write_text("月份,单位编码\n", encoding="utf-8"), [],
     ["2023-03.csv", "no data rows"]),
    ("two_files_same_month", lambda d, t: (d / "2023-03.xlsx").write_bytes(b"x"), [],
     ["two files for 2023-03"]),
    ("bad_month_argument", lambda d, t: None, ["--month", "2023-13"], ["'2023-13' is not a month", "YYYY-MM"]),
    ("unknown_method", lambda d, t: None, ["--method", "v9"], ["method 'v9' not found", "v1, v2"]),
    ("method_unknown_measure", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][0]["measures"].update(value="murders"))],
     ["bad_method.yaml", "indicators[0].measures.value", "unknown measure 'murders'"]),
    ("method_non_positive_weight", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["groups"][2].update(weight=0))],
     ["bad_method.yaml", "groups[2].weight", "not a positive number"]),
    ("method_negative_indicator_weight", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][1].update(weight=-1))],
     ["indicators[1].weight", "not a positive number"]),
    ("method_unknown_parent", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][1].update(parent="nowhere"))],
     ["indicators[1].parent", "'nowhere' is not a group code"]),
    ("method_typo_top_key", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s.update(deduction=s.pop("deductions")))],
     ["bad_method.yaml", "key 'deduction': unknown key (a typo?)"]),
    ("method_typo_indicator_key", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][0].update(wieght=2))],
     ["indicators[0].wieght", "unknown key"]),
    ("method_typo_transform_parameter", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][1]["transform"].update(basline="mom"))],
     ["indicators[1].transform.basline", "unknown key"]),
    ("method_typo_normalise_parameter", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][4]["normalise"].update(scal=50))],
     ["indicators[4].normalise.scal", "unknown parameters"]),
    ("method_zero_floor", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][1]["transform"].update(floor=0))],
     ["indicators[1].transform.floor", "not a number > 0"]),
    ("method_zero_per", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][0]["transform"].update(per=0))],
     ["indicators[0].transform.per", "not a number > 0"]),
    ("method_unknown_denominator", lambda d, t: None,
     ["--method", lambda t: write_method(t, lambda s: s["indicators"][0]["transform"].update(denominator="populaton"))],
     ["populaton", "units.csv"]),
    ("blank_deduction_measure", lambda d, t: edit_month(d, "2023-03", set_cell(2, "交通事故死亡人数", "")),
     ["--method", lambda t: write_method(t, lambda s: s.update(missing="impute_mean"))],
     ["2023-03.csv", "traffic_deaths", "never imputed"]),
    ("id_and_name_disagree", lambda d, t: edit_month(d, "2023-03", set_cell(0, "村(社区)名称", "新市社区")), [],
     ["2023-03.csv", "第2行", "unit_id XL01 is 永宁社区", "'新市社区'"]),
    ("comma_not_thousands", lambda d, t: edit_units(d, set_cell(0, "population", "2,9")), [],
     ["units.csv", "第2行", "'2,9' is not a number"]),
    ("blank_town", lambda d, t: edit_units(d, set_cell(1, "town", "")), [], ["units.csv", "第3行", "has no town"]),
    ("bad_unit_type", lambda d, t: edit_units(d, set_cell(1, "unit_type", "居委会")), [],
     ["units.csv", "第3行", "unit type '居委会'"]),
    ("duplicate_unit_name", lambda d, t: edit_units(d, set_cell(1, "unit_name", "永宁社区")), [],
     ["units.csv", "第3行", "duplicate unit_name '永宁社区'"]),
    ("ragged_csv_row", lambda d, t: (d / "2023-03.csv").write_text(
        (d / "2023-03.csv").read_text(encoding="utf-8-sig").replace("\n2023-03,XL02,", "\n2023-03,XL02,9,", 1),
        encoding="utf-8"), [], ["2023-03.csv", "第3行", "cells but the header has"]),
    ("out_is_a_folder", lambda d, t: None, ["--out", lambda t: t], ["the output path is a folder"]),
    ("data_folder_missing", lambda d, t: None, ["--data", "/nonexistent/qyb"], ["/nonexistent/qyb", "data folder not found"]),
]


def check_bad_input(tmp_path, capsys, data, breaker, extra, fragments, writes_out=True) -> str:
    """Break the data, run `qyb score` (with ``extra`` arguments): exit 2, every fragment in the message,
    no traceback, nothing written. Returns stderr."""
    breaker(data, tmp_path)
    out = tmp_path / "out" / "scorecard.csv"
    args = {"--month": "2023-03", "--data": str(data), "--out": str(out)}
    for i in range(0, len(extra), 2):
        value = extra[i + 1]
        args[extra[i]] = value(tmp_path) if callable(value) else value
    argv = ["score"] + [x for kv in args.items() for x in kv]
    code, stdout, stderr = run_cli(capsys, *argv)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in stderr, f"{fragment!r} not in {stderr!r}"
    if writes_out:
        assert not out.exists() and not out.parent.exists()
    return stderr


@pytest.mark.parametrize("case,breaker,extra,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_clear_message_and_writes_nothing(tmp_path, capsys, data, case, breaker,
                                                                 extra, fragments):
    check_bad_input(tmp_path, capsys, data, breaker, extra, fragments, writes_out=case != "out_is_a_folder")


def test_validate_reports_every_problem_not_just_the_first(tmp_path, capsys, data):
    edit_month(data, "2023-03", set_cell(0, "电诈警情", "-3"))
    edit_month(data, "2023-03", set_cell(2, "火灾", "abc"))
    edit_month(data, "2023-01", set_cell(1, "矛盾纠纷已化解", "999"))
    code, _, stderr = run_cli(capsys, "validate", data)
    assert code == 2
    assert "3 problems found" in stderr
    assert "2023-03.csv" in stderr and "2023-01.csv" in stderr


def test_validate_clean_folder_and_single_file(capsys, data):
    code, stdout, _ = run_cli(capsys, "validate", data)
    assert code == 0 and "29 units" in stdout and "15 month file(s)" in stdout
    code, stdout, _ = run_cli(capsys, "validate", data / "2023-03.csv")
    assert code == 0 and "1 month file(s) 2023-03..2023-03" in stdout


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        run_cli(capsys, "score")
    assert exc.value.code == 2
    assert "--month" in capsys.readouterr().err


def test_console_script_exit_status(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "qyb.cli", "score", "--month", "2023-13"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "2023-13" in proc.stderr


def test_what_excel_and_wps_leave_behind_is_accepted(tmp_path, capsys, data):
    """Trailing blank rows and columns, thousands separators, full-width digits and brackets, dates in the
    month column, an extra remarks column in the register: all read as the clean file."""
    base = tmp_path / "base.csv"
    assert run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", base)[0] == 0
    path = data / "2023-03.csv"
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header = lines[0].replace("村(社区)名称", "村（社区）名称")
    body = [ln.replace("2023-03,", "2023/3/1,", 1) for ln in lines[1:]]
    body[0] = body[0].replace(",635,635,", ",６３５,635,")  # full-width digits
    path.write_text("\n".join([header + ","] + [b + "," for b in body] + [",,,", ""]), encoding="utf-8")
    edit_units(data, lambda f: f.assign(备注="", population=f["population"].map(lambda v: f"{int(v):,}")))
    out = tmp_path / "messy.csv"
    code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--out", out)
    assert code == 0, err
    assert out.read_bytes() == base.read_bytes()
