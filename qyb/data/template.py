"""``qyb template``: the fill-in workbook the 综治办 sends to the departments each month.

One sheet named after the month (so the reader picks it) holds a title with
the month, a line saying who fills it, a header row (序号, 单位编码,
村(社区)名称, then one column per measure with its Chinese name and unit, then
备注), and one row per unit in force that month -- ids and names prefilled and
locked (the sheet is protected; only the figures and 备注 can be typed).
Each figure column carries Excel data validation: whole numbers >= 0 (any
number >= 0 for amounts), and a handled figure at most its total in the same
row. A second sheet 填报说明 explains, in Chinese, what to fill and lists the
measures. A template is made for the whole town or for one department (its
measures only); a filled template reads back as the CSV would, and the same
inputs give the same bytes.
"""
from __future__ import annotations

import datetime as _dt
import io
from pathlib import Path

import pandas as pd

from qyb.data.catalogue import Catalogue, Department, Measure
from qyb.data.files import neutralise_workbook, write_bytes_atomic, zip_with_fixed_times
from qyb.data.register import in_force
from qyb.data.text import column_letter

__all__ = ["template_bytes", "template_title", "template_file_name", "KIND_RULES"]

#: what a department is told about each kind of measure
KIND_RULES = {"count": "不小于 0 的整数（没有发生填 0）", "total": "不小于 0 的整数",
              "handled": "不小于 0 的整数，且不超过“{total}”", "amount": "不小于 0 的数（可有小数）"}
_FIXED_COLUMNS = ("序号", "单位编码", "村(社区)名称")
_HEADER_ROW = 3


def template_title(month: str, units: pd.DataFrame, department: Department | None) -> str:
    towns = sorted(set(units["town"].astype(str))) if "town" in units.columns else []
    town = towns[0] if len(towns) == 1 else ""
    year, mon = month.split("-")
    who = f"（{department.name}）" if department else ""
    return f"{town}平安“晴雨表”{int(year)}年{int(mon)}月数据填报表{who}"


def template_file_name(month: str, department: Department | None) -> str:
    return f"{month}_{department.name}.xlsx" if department else f"{month}.xlsx"


def _measures(catalogue: Catalogue, month: str, department: Department | None) -> list[Measure]:
    return [m for m in catalogue.of_department(department) if m.collected_in(month)]


def template_bytes(month: str, units: pd.DataFrame, catalogue: Catalogue, department: Department | None = None,
                   synthetic: bool = False) -> bytes:
    """The template workbook of ``month`` for the units in force (``units`` is the register)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    current = units[in_force(units, month)]
    measures = _measures(catalogue, month, department)
    book = Workbook()
    sheet = book.active
    sheet.title = month
    headers = [*_FIXED_COLUMNS, *(m.header for m in measures), "备注"]
    width = len(headers)
    title = template_title(month, units, department)
    sheet.cell(1, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    who = f"报送部门：{department.name}。" if department else "报送：各有关部门。"
    sheet.cell(2, 1, who + "灰色单元格已锁定，请只在白色单元格填写数字；填报说明见“填报说明”工作表。"
               + ("（示例数据）" if synthetic else ""))
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    grey = PatternFill("solid", start_color="EDEDED", end_color="EDEDED")
    for j, text in enumerate(headers, start=1):
        cell = sheet.cell(_HEADER_ROW, j, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = grey
        cell.border = border
    first = _HEADER_ROW + 1
    last = first + len(current) - 1
    for i, (uid, row) in enumerate(current.iterrows()):
        r = first + i
        for j, value in enumerate((i + 1, str(uid), str(row["unit_name"])), start=1):
            cell = sheet.cell(r, j, value)
            cell.fill = grey
            cell.border = border
        for j in range(len(_FIXED_COLUMNS) + 1, width + 1):
            cell = sheet.cell(r, j)
            cell.protection = Protection(locked=False)
            cell.border = border
    col_of = {m.code: len(_FIXED_COLUMNS) + k for k, m in enumerate(measures)}  # 0-based column index
    for m in measures:
        letter = column_letter(col_of[m.code])
        if m.kind == "amount":
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
            rule = "请填写不小于 0 的数。"
        elif m.kind == "handled" and m.total in col_of:
            total_cell = f"{column_letter(col_of[m.total])}{first}"
            dv = DataValidation(type="whole", operator="between", formula1="0", formula2=total_cell)
            rule = f"请填写不小于 0 的整数，且不超过“{catalogue[m.total].name}”。"
        else:
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
            rule = "请填写不小于 0 的整数（没有发生填 0）。"
        dv.error, dv.errorTitle = rule, "数字有误"
        dv.prompt, dv.promptTitle = f"{m.name}（{m.unit}）：{rule}" if m.unit else rule, m.name
        dv.showErrorMessage = dv.showInputMessage = True
        dv.add(f"{letter}{first}:{letter}{last}")
        sheet.add_data_validation(dv)
    for j, text in enumerate(headers):
        sheet.column_dimensions[column_letter(j)].width = 6 if j == 0 else max(10, min(2 * len(text) + 2, 24))
    sheet.row_dimensions[_HEADER_ROW].height = 36
    sheet.freeze_panes = sheet.cell(first, len(_FIXED_COLUMNS) + 1)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # columns may still be widened
    _instructions(book, month, title, measures, catalogue, department, len(current))
    stamp = _dt.datetime.strptime(f"{month}-01", "%Y-%m-%d")
    book.properties.title = title
    book.properties.subject = f"qyb template {month} {department.code if department else 'town'}"
    book.properties.creator = "qyb"
    book.properties.created = book.properties.modified = stamp
    neutralise_workbook(book)  # a unit name such as =cmd|… stays text, never a formula
    buf = io.BytesIO()
    book.save(buf)
    return zip_with_fixed_times(buf.getvalue(), stamp)


def _instructions(book, month: str, title: str, measures: list[Measure], catalogue: Catalogue,
                  department: Department | None, n_units: int) -> None:
    from openpyxl.styles import Alignment, Font

    info = book.create_sheet("填报说明")
    year, mon = month.split("-")
    lines = [
        "填报说明",
        f"1. 本表为 {int(year)} 年 {int(mon)} 月数据（工作表“{month}”），共 {n_units} 个村(社区)，每个村(社区)一行。",
        "2. 序号、单位编码和村(社区)名称已预先填好并锁定，请勿修改，也不要增删行、列或更改表头。",
        "3. 各项指标在白色单元格填写：计数填不小于 0 的整数，没有发生的填 0，不要留空；不要填写文字或单位。",
        "4. “已处置”“已检查”“已整改”“已化解”“已整治”“完成”等数字不得超过对应的总数。",
        "5. 需要说明的情况写在“备注”列，系统不读取该列的内容，但会在校验报告中列出。",
        "6. 填好后直接保存（.xlsx 格式，文件名不变），交回镇综治办。收到后系统将逐格校验，有问题会指明单元格。",
        "",
        "指标一览",
    ]
    for line in lines:
        info.append([line])
    info["A1"].font = Font(bold=True, size=14)
    info.append(["指标代码", "指标名称", "计量单位", "报送部门", "填报规则"])
    for cell in info[info.max_row]:
        cell.font = Font(bold=True)
    for m in measures:
        rule = KIND_RULES[m.kind].format(total=catalogue[m.total].name if m.total else "")
        info.append([m.code, m.name, m.unit, catalogue.department_name(m.department), rule])
    for letter, w in zip("ABCDE", (26, 22, 10, 14, 40)):
        info.column_dimensions[letter].width = w
    for row in info.iter_rows(min_row=2, max_row=len(lines)):
        row[0].alignment = Alignment(wrap_text=False)


def write_template(month: str, units: pd.DataFrame, catalogue: Catalogue, out: Path,
                   department: Department | None = None, synthetic: bool = False) -> Path:
    """Write one template atomically; returns its path."""
    write_bytes_atomic(template_bytes(month, units, catalogue, department, synthetic), out)
    return Path(out)
