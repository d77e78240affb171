"""The 榜单 as files: ``ranking.csv`` (UTF-8 with BOM) and ``ranking.xlsx``.

Same table -> same bytes (fixed workbook timestamps, fixed float text).
"""
from __future__ import annotations

import datetime as _dt
import io

import pandas as pd

from qyb.data.files import zip_with_fixed_times as _fix_zip_times
from qyb.report import ranking

__all__ = ["STAR_FILLS", "ranking_csv_bytes", "ranking_xlsx_bytes"]

#: Fill colours (RGB hex) of the 榜单 rows by star tier, light tints so text stays readable.
STAR_FILLS = {5: "C6EFCE", 4: "DDEBF7", 3: "FFF2CC", 2: "FCE4D6", 1: "F4B6B6"}


def ranking_csv_bytes(table: pd.DataFrame) -> bytes:
    """The 榜单 as CSV: UTF-8 with BOM (Excel opens Chinese correctly), LF line ends, rounded values."""
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _text_width(value) -> float:
    """Display width of a cell: CJK and full-width characters count double."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return sum(2 if ord(ch) > 0x2E7F or ch in "★↑↓—" else 1 for ch in text)


def ranking_xlsx_bytes(table: pd.DataFrame, title: str = "榜单", notes: list[str] | None = None,
                       month: str | None = None) -> bytes:
    """The 榜单 as an XLSX workbook.

    Sheet 榜单: Chinese headers in row 1 (bold, frozen), one row per unit, ★ as
    characters, each row filled by its star tier (:data:`STAR_FILLS`), column
    widths fitted to the longest entry. Sheet 说明 holds ``notes`` (method,
    synthetic-data banner). Workbook timestamps are fixed (first day of
    ``month``) so the same table gives the same file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title
    headers = list(table.columns)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=False)
    star_col = headers.index(ranking.RANKING_HEADERS["stars"]) if ranking.RANKING_HEADERS["stars"] in headers else None
    for values in table.itertuples(index=False):
        row = [None if (not isinstance(v, str) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
               for v in values]
        sheet.append(row)
        if star_col is not None and row[star_col] in STAR_FILLS:
            fill = PatternFill("solid", start_color=STAR_FILLS[row[star_col]], end_color=STAR_FILLS[row[star_col]])
            for cell in sheet[sheet.max_row]:
                cell.fill = fill
    for j, header in enumerate(headers, start=1):
        width = max([_text_width(header)] + [_text_width(v) for v in table.iloc[:, j - 1]])
        sheet.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 6), 60)
    sheet.freeze_panes = "A2"
    if notes:
        info = book.create_sheet("说明")
        for line in notes:
            info.append([line])
        info.column_dimensions["A"].width = 120
    stamp = _dt.datetime.strptime(f"{month}-01", "%Y-%m-%d") if month else _dt.datetime(2000, 1, 1)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "qyb"
    buf = io.BytesIO()
    book.save(buf)
    return _fix_zip_times(buf.getvalue(), stamp)
