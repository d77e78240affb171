"""Builders of month files as offices produce them, from a clean sample CSV: title rows, 序号, 合计, 备注,
units in headers, wrapped headers, several sheets, hidden sheets, formulas, department files."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from qyb.data.catalogue import MEASURES

BY_NAME = {m.name: m for m in MEASURES}


def clean_frame(data: Path, month: str = "2023-03") -> pd.DataFrame:
    return pd.read_csv(data / f"{month}.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)


def with_units(header: str) -> str:
    """刑事治安警情 -> 刑事治安警情（宗）; other headers unchanged."""
    m = BY_NAME.get(header)
    return f"{m.name}（{m.unit}）" if m else header


def office_rows(frame: pd.DataFrame, *, month: str = "2023-03", title: str | None = "default", group_row=False,
                row_numbers=True, units=True, wrapped=False, notes_column=True, total=True, note_rows=True,
                total_label="合计") -> tuple[list[list], dict]:
    """Rows of an office's sheet and where things are: {'header': row, 'first': row, 'total': row, 'width': n}."""
    year, mon = month.split("-")
    headers = list(frame.columns)
    shown = [with_units(h) if units else h for h in headers]
    if wrapped:  # Alt+Enter inside long headers
        shown = [h[:4] + "\n" + h[4:] if len(h) > 6 else h for h in shown]
    if row_numbers:
        shown = ["序号", *shown]
    if notes_column:
        shown = [*shown, "备注"]
    width = len(shown)
    rows: list[list] = []
    if title is not None:
        rows.append([f"小榄镇平安“晴雨表”{int(year)}年{int(mon)}月各村(社区)数据汇总表" if title == "default" else title]
                    + [None] * (width - 1))
    if group_row:
        rows.append(["基本信息"] * (3 + row_numbers) + ["治安"] * (width - 3 - row_numbers))
    rows.append(shown)
    where = {"header": len(rows), "first": len(rows) + 1, "width": width}
    for i, rec in enumerate(frame.itertuples(index=False)):
        values = [int(v) if str(v).isdigit() and h not in ("单位编码", "月份") else v for h, v in zip(headers, rec)]
        row = ([i + 1] if row_numbers else []) + values + (["已核实" if i == 2 else None] if notes_column else [])
        rows.append(row)
    if total:
        sums = [None if h in ("月份", "单位编码", "村(社区)名称") else int(pd.to_numeric(frame[h]).sum())
                for h in headers]
        label_at = 0 if row_numbers else headers.index("单位编码")
        row = ([None] if row_numbers else []) + sums + ([None] if notes_column else [])
        row[label_at] = total_label
        rows.append(row)
        where["total"] = len(rows)
    if note_rows:
        rows.append(["注：1. 本表数据截至当月最后一日；2. 已处置数含移交处置。"] + [None] * (width - 1))
        rows.append(["填表人：张三      审核人：李四      联系电话：0760-12345678"] + [None] * (width - 1))
    return rows, where


def write_xlsx(path: Path, sheets: list[dict]) -> Path:
    """Write a workbook: each sheet {'name', 'rows', 'merge': ['A1:W1'], 'hidden': bool}."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec["name"])
        for row in spec["rows"]:
            sheet.append(row)
        for rng in spec.get("merge", []):
            sheet.merge_cells(rng)
        if spec.get("hidden"):
            sheet.sheet_state = "hidden"
    book.save(path)
    return path


def set_cached_values(path: Path, values: dict[str, object], sheet_index: int = 1) -> None:
    """Give formula cells a saved value, as Excel does on saving (openpyxl writes formulas without one)."""
    src = zipfile.ZipFile(path)
    out = io.BytesIO()
    member = f"xl/worksheets/sheet{sheet_index}.xml"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                text = body.decode("utf-8")
                for ref, value in values.items():
                    text, n = re.subn(rf'(<c r="{ref}"[^>]*>)<f>(.*?)</f>(<v\s*/>|<v></v>)?',
                                      rf"\g<1><f>\g<2></f><v>{value}</v>", text)
                    assert n == 1, ref
                body = text.encode("utf-8")
            dst.writestr(info, body)
    src.close()
    Path(path).write_bytes(out.getvalue())


def realistic_workbook(data: Path, month: str = "2023-03", *, sheet: str = "2023年3月") -> Path:
    """What an office really sends: a merged title, 序号, units in headers, wrapped headers, a 备注 column,
    a 合计 row with SUM formulas (saved values), note rows under the table, on a sheet named like the
    month beside an instructions sheet and a hidden sheet of last month's figures."""
    from openpyxl.utils import get_column_letter

    frame = clean_frame(data, month)
    rows, where = office_rows(frame, month=month, wrapped=True)
    total = where["total"]
    formulas = {}
    for j, value in enumerate(rows[total - 1]):
        if isinstance(value, int):
            col = get_column_letter(j + 1)
            rows[total - 1][j] = f"=SUM({col}{where['first']}:{col}{total - 1})"
            formulas[f"{col}{total}"] = value
    width = where["width"]
    stale, _ = office_rows(frame.assign(**{"刑事治安警情": "99"}), month=month, total=False, note_rows=False)
    path = data / f"{month}.xlsx"
    write_xlsx(path, [
        {"name": "旧数据", "rows": stale, "hidden": True},
        {"name": sheet, "rows": rows, "merge": [f"A1:{get_column_letter(width)}1"]},
        {"name": "说明", "rows": [["本表由镇综治办汇总，数据来源：各职能部门。"]]},
    ])
    set_cached_values(path, formulas, sheet_index=2)
    (data / f"{month}.csv").unlink()
    return path
