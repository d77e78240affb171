"""The office's spreadsheets: the 榜单 as ``ranking.xlsx`` (and ``ranking.csv``) and the published
history as ``history.xlsx`` (a long table for pivoting in Excel/WPS, and the 晴雨 calendar).

Every table sheet has the month and method in a title row, Chinese headers in the row under it
(bold, repeated on every printed page), number formats (the index to
:data:`~qyb.vocab.INDEX_DECIMALS` places, scores to one, shares as %), an autofilter, frozen
headers and name column, and a print set-up of A4 landscape, one page wide. Same table -> same
bytes (fixed workbook timestamps, fixed zip member times).
"""
from __future__ import annotations

import datetime as _dt
import io

import pandas as pd

from qyb.data.files import neutralise_frame, neutralise_workbook
from qyb.data.files import zip_with_fixed_times as _fix_zip_times
from qyb.report import ranking
from qyb.vocab import INDEX_DECIMALS, LABELS, SCORE_DECIMALS, stars_text

__all__ = ["STAR_FILLS", "ranking_csv_bytes", "ranking_xlsx_bytes", "history_xlsx_bytes", "history_sheet_frame",
           "calendar_frame", "write_table_sheet"]

#: Fill colours (RGB hex) of the 榜单 rows by star tier, light tints so text stays readable.
STAR_FILLS = {5: "C6EFCE", 4: "DDEBF7", 3: "FFF2CC", 2: "FCE4D6", 1: "F4B6B6"}
INDEX_FORMAT = "0." + "0" * INDEX_DECIMALS
SCORE_FORMAT = "0." + "0" * SCORE_DECIMALS
PERCENT_FORMAT = "0%"
POINTS_FORMAT = "0.#;-0.#;0"
TITLE_ROW, HEADER_ROW = 1, 2


def ranking_csv_bytes(table: pd.DataFrame) -> bytes:
    """The 榜单 as CSV: UTF-8 with BOM (Excel opens Chinese correctly), LF line ends, rounded values; texts
    a spreadsheet would take for formulas neutralised (:func:`qyb.data.files.neutralise_frame`)."""
    return neutralise_frame(table).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _text_width(value) -> float:
    """Display width of a cell: CJK and full-width characters count double."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return sum(2 if ord(ch) > 0x2E7F or ch in "★↑↓—" else 1 for ch in text)


def _cell(v):
    if not isinstance(v, str) and pd.isna(v):
        return None
    return v.item() if hasattr(v, "item") else v


def _number_format(header: str, category_names: set[str]) -> str | None:
    """The display format of a column, by its Chinese header."""
    if header in (LABELS["index"], LABELS["index_rescored"]) or header.endswith("指数"):
        return INDEX_FORMAT
    if header in category_names or header.endswith("得分"):
        return SCORE_FORMAT
    if header in (ranking.RANKING_INTERVAL_HEADERS["p_same_stars"], LABELS["p_top3"]) or header.endswith("概率"):
        return PERCENT_FORMAT
    if header == LABELS["deduction"]:
        return POINTS_FORMAT
    return None


def write_table_sheet(sheet, table: pd.DataFrame, title: str, *, star_column: str | None = None,
                      category_names=(), freeze_columns: int = 2, footer: str = "") -> None:
    """Write ``table`` into ``sheet`` the office's way (see the module doc).

    Row 1: ``title`` (merged across, bold); row 2: the headers; data from row 3. ``star_column``:
    a header whose 1-5 values colour each row (:data:`STAR_FILLS`); ``freeze_columns``: how many
    leading columns stay in view when scrolling right; ``footer``: printed bottom-left (the 落款).
    """
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    headers = list(table.columns)
    ncol = max(len(headers), 1)
    last = get_column_letter(ncol)
    sheet.append([title])
    sheet.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    sheet.cell(TITLE_ROW, 1).font = Font(bold=True, size=13)
    sheet.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="left", vertical="center")
    sheet.row_dimensions[TITLE_ROW].height = 24
    sheet.append(headers)
    thin = Side(style="thin", color="BFBFBF")
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", start_color="E7E6E6", end_color="E7E6E6")
        cell.border = Border(bottom=thin)
    star_col = headers.index(star_column) if star_column in headers else None
    # one style object per tier and format, set on every cell (openpyxl finds an object it already
    # holds by identity; equal new objects cost a comparison each)
    fills = {n: PatternFill("solid", start_color=c, end_color=c) for n, c in STAR_FILLS.items()}
    names = set(category_names)
    formats = [_number_format(str(header), names) for header in headers]
    for values in table.itertuples(index=False):
        row = [_cell(v) for v in values]
        sheet.append(row)
        fill = fills.get(row[star_col]) if star_col is not None else None
        for cell, fmt in zip(sheet[sheet.max_row], formats):
            if fill is not None:
                cell.fill = fill
            if fmt:
                cell.number_format = fmt
    end = max(sheet.max_row, HEADER_ROW + 1)
    for j, header in enumerate(headers, start=1):
        letter = get_column_letter(j)
        width = max([_text_width(header) * 0.8] + [_text_width(v) for v in table.iloc[:, j - 1]])
        sheet.column_dimensions[letter].width = min(max(width + 2, 6), 48)
    sheet.freeze_panes = f"{get_column_letter(freeze_columns + 1)}{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{end}"
    # print: A4 landscape, one page wide (as many pages tall as needed), header row on every page
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{TITLE_ROW}:{HEADER_ROW}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    if footer:
        sheet.oddFooter.right.text = footer


def _notes_sheet(book, notes: list[str]) -> None:
    info = book.create_sheet("说明")
    for line in notes:
        info.append([line])
    info.column_dimensions["A"].width = 120


def _workbook_bytes(book, month: str | None) -> bytes:
    stamp = _dt.datetime.strptime(f"{month}-01", "%Y-%m-%d") if month else _dt.datetime(2000, 1, 1)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "qyb"
    neutralise_workbook(book)  # a unit or method name such as =HYPERLINK(…) stays text, never a formula
    buf = io.BytesIO()
    book.save(buf)
    return _fix_zip_times(buf.getvalue(), stamp)


def ranking_xlsx_bytes(table: pd.DataFrame, title: str = "榜单", notes: list[str] | None = None,
                       month: str | None = None, heading: str | None = None, footer: str = "",
                       category_names=()) -> bytes:
    """The 榜单 as an XLSX workbook.

    Sheet ``title`` (榜单): ``heading`` (the month and method) in row 1, Chinese headers in row 2,
    one row per unit filled by its star tier (:data:`STAR_FILLS`), ★ as characters, number formats,
    autofilter, frozen headers and name column, A4 landscape one page wide (see
    :func:`write_table_sheet`). Sheet 说明 holds ``notes`` (method, synthetic-data banner).
    Workbook timestamps are fixed (first day of ``month``) so the same table gives the same file.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    write_table_sheet(sheet, table, heading or f"榜单 {month or ''}".strip(),
                      star_column=ranking.RANKING_HEADERS["stars"], category_names=category_names,
                      freeze_columns=2, footer=footer)
    if notes:
        _notes_sheet(book, notes)
    return _workbook_bytes(book, month)


def history_sheet_frame(history: pd.DataFrame, category_names: dict[str, str] | None = None) -> pd.DataFrame:
    """The published history as the long sheet of ``history.xlsx``: Chinese headers, one row per
    unit and month, published figures first, then (labelled) the same month under the current
    method, then the category scores as published."""
    h = history
    frame = pd.DataFrame({
        LABELS["month"]: h["month"].astype(str), LABELS["unit_name"]: h["unit_name"], LABELS["unit_id"]: h["unit_id"],
        LABELS["index"]: h["index"].astype(float).round(INDEX_DECIMALS),
        LABELS["stars_text"]: h["stars"].map(stars_text), LABELS["stars"]: pd.array(h["stars"], dtype="Int64"),
        LABELS["rank"]: pd.array(h["rank"], dtype="Int64"), LABELS["rank_prev"]: pd.array(h["rank_prev"], dtype="Int64"),
        LABELS["movement"]: h["movement"], LABELS["deduction"]: h["deduction"].astype(float),
        LABELS["deduction_text"]: h["deduction_text"].fillna(""), LABELS["method"]: h["method"],
        LABELS["method_title"]: h["method_title"], LABELS["method_hash"]: h["method_hash"].astype(str).str[:12],
        LABELS["source"]: h["source"],
    })
    method = str(h["rescored_method"].dropna().iat[0]) if h["rescored_method"].notna().any() else ""
    frame[f"按现行办法（{method}）重算指数"] = pd.to_numeric(h["index_rescored"], errors="coerce").round(INDEX_DECIMALS)
    frame[f"按现行办法（{method}）重算星数"] = pd.array(pd.to_numeric(h["stars_rescored"], errors="coerce"), dtype="Int64")
    frame[f"按现行办法（{method}）重算排名"] = pd.array(pd.to_numeric(h["rank_rescored"], errors="coerce"), dtype="Int64")
    for col in [c for c in h.columns if c.startswith("cat_")]:
        name = (category_names or {}).get(col[4:], col[4:])
        frame[f"{name}得分"] = h[col].astype(float).round(SCORE_DECIMALS)
    return frame


def calendar_frame(history: pd.DataFrame) -> pd.DataFrame:
    """Units (rows, by the latest rank) × months: the published stars as ★ text."""
    months = sorted(history["month"].astype(str).unique())
    latest = history[history["month"] == months[-1]].sort_values(["rank", "unit_id"])
    order = list(latest["unit_id"]) + [u for u in dict.fromkeys(history["unit_id"]) if u not in set(latest["unit_id"])]
    names = history.drop_duplicates("unit_id", keep="last").set_index("unit_id")["unit_name"]
    grid = history.pivot_table(index="unit_id", columns="month", values="stars", aggfunc="last").reindex(
        index=order, columns=months)
    out = grid.apply(lambda col: col.map(stars_text))
    out.insert(0, LABELS["unit_name"], names.reindex(order).to_numpy())
    return out.reset_index(drop=True)


def history_xlsx_bytes(history: pd.DataFrame, month: str, heading: str, notes: list[str] | None = None,
                       category_names: dict[str, str] | None = None, footer: str = "") -> bytes:
    """``history.xlsx``: sheet 历史记录 (the long published history, for pivot tables), sheet 晴雨日历
    (units × months, published stars, cells coloured by tier) and sheet 说明."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "历史记录"
    frame = history_sheet_frame(history, category_names)
    write_table_sheet(sheet, frame, heading, star_column=LABELS["stars"],
                      category_names=[f"{n}得分" for n in (category_names or {}).values()],
                      freeze_columns=2, footer=footer)
    cal = book.create_sheet("晴雨日历")
    grid = calendar_frame(history)
    write_table_sheet(cal, grid, heading.replace("历史记录", "晴雨日历"), freeze_columns=1, footer=footer)
    for row in cal.iter_rows(min_row=3, min_col=2):
        for cell in row:
            n = len(cell.value) if isinstance(cell.value, str) else 0
            if n in STAR_FILLS:
                cell.fill = PatternFill("solid", start_color=STAR_FILLS[n], end_color=STAR_FILLS[n])
    if notes:
        _notes_sheet(book, notes)
    return _workbook_bytes(book, month)

