"""Where the table is on a sheet: the header row under a title, what each column is, the 合计 row.

Offices' workbooks put a title above the table (merged across or not), group
labels above the headers, a 序号 column, a 备注 column, a 合计 row and notes
under the table. :func:`find_table` finds the header row (the first row that
names a unit column and a measure, else the row naming most known columns,
else the first non-blank row), and :class:`Table` keeps the cells below it by
the codes their headers mean. Everything passed over is a note of the intake
report, every header it cannot place a problem with the closest known names.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qyb.data.catalogue import NOTE_HEADERS, ROW_NUMBER_HEADERS, TOTAL_ROW_LABELS, suggest
from qyb.data.files import Grid
from qyb.data.intake import IntakeReport
from qyb.data.months import months_in_text
from qyb.data.text import cell_name, column_letter, header_key, shorten
from qyb.errors import ProblemLog

__all__ = ["Table", "find_table", "header_row_index", "ROW_NUMBER", "NOTES"]

ROW_NUMBER, NOTES = "__row_number__", "__notes__"
_HEADER_SCAN = 30  # rows searched for the header
_ROW_NUMBER_KEYS = {header_key(h)[0] for h in ROW_NUMBER_HEADERS}
_NOTE_KEYS = {header_key(h)[0] for h in NOTE_HEADERS}
_TOTAL_KEYS = {header_key(h)[0] for h in TOTAL_ROW_LABELS}
_SUBTOTAL_KEYS = {"小计", "其中", "分计", "subtotal"}


@dataclass
class Table:
    """The cells under the header, by code: ``frame`` (text; index = spreadsheet row numbers; columns =
    codes), ``position[code]`` its 0-based sheet column, ``headers[code]`` the header as shown,
    ``units[code]`` a unit of measure the header carried, ``total_rows`` / ``subtotal_rows`` rows found
    by their label (not in ``frame``), ``notes_column`` the text of a 备注 column by row."""

    grid: Grid
    header_row: int
    frame: pd.DataFrame
    position: dict[str, int]
    headers: dict[str, str]
    units: dict[str, str] = field(default_factory=dict)
    total_rows: pd.DataFrame | None = None
    subtotal_rows: list[int] = field(default_factory=list)
    notes_column: dict[int, str] = field(default_factory=dict)
    title_months: list[tuple[int, str]] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.grid.file

    @property
    def sheet(self) -> str | None:
        return self.grid.sheet

    def where(self, row: int | None, code: str | None) -> dict:
        """Location keywords (sheet, cell) of the cell of ``code`` in spreadsheet row ``row``."""
        if row is None or code not in self.position:
            return {"sheet": self.sheet}
        return {"sheet": self.sheet, "cell": cell_name(self.position[code], row)}

    def row_cells(self, row: int) -> list[str]:
        """Every cell of spreadsheet row ``row`` as read (ignored columns included)."""
        return next((cells for n, cells in self.grid.rows if n == row), [])

    def column_name(self, code: str) -> str:
        """The column as a message names it: letter and header (``C 刑事治安警情（宗）``)."""
        return f"{column_letter(self.position[code])} {self.headers[code]}" if code in self.position else code


def header_row_index(grid: Grid, table: dict[str, str], id_codes: set[str], unit_words) -> int:
    """Index into ``grid.rows`` of the header: the first row naming a unit column and another known
    column; else the row naming the most known columns (at least two); else the first row."""
    best, best_n = 0, 1
    for i, (_, cells) in enumerate(grid.rows[:_HEADER_SCAN]):
        codes = {table.get(header_key(c, unit_words)[0]) for c in cells if c} - {None}
        if codes & id_codes and len(codes) >= 2:
            return i
        if len(codes) > best_n:
            best, best_n = i, len(codes)
    return best


def find_table(grid: Grid, labels: dict[str, str], log: ProblemLog, report: IntakeReport, *,
               id_codes: set[str], unit_words=(), keep_unknown: bool = False, what: str = "measure") -> Table | None:
    """Find the header and classify every column; log a problem for each header it cannot place.

    ``labels`` maps every accepted header (code, Chinese name, alias) to its code; headers are matched
    after :func:`qyb.data.text.header_key` (spaces, line breaks, case, a unit in brackets). With
    ``keep_unknown`` an unknown header is kept under its own name (the register's extra unit
    attributes), otherwise it is a problem naming the closest known headers. Returns None when the
    sheet has a header but no rows below it.
    """
    name = grid.file
    table = {header_key(label)[0]: code for label, code in labels.items()}
    h = header_row_index(grid, table, id_codes, unit_words)
    header_row, header = grid.rows[h]
    title_months = []
    for number, cells in grid.rows[:h]:
        text = " ".join(c for c in cells if c)
        merged = grid.merged_at(number)
        report.note(name, "title_row", f"表头上方的第{number}行作为标题或分组行略过：“{shorten(text)}”"
                    + (f"（合并单元格 {', '.join(merged)}）" if merged else ""),
                    f"row {number} above the header read as a title or group labels, not data"
                    + (f" (merged {', '.join(merged)})" if merged else ""), sheet=grid.sheet, row=number)
        title_months += [(number, m) for m in months_in_text(text)]
    if h:
        report.note(name, "header_row", f"表头在第{header_row}行", f"header found in row {header_row}",
                    sheet=grid.sheet, row=header_row)
    data = grid.rows[h + 1:]
    width = len(header)
    if data and _second_header_row(grid, header_row, data[0][1], table, id_codes, header, unit_words):
        n, cells2 = data[0]
        log.add(name, f"row {n} is a second header row under merged header cells "
                f"({', '.join(c for c in cells2 if c)}): a two-row header is not accepted",
                "Write one header per column in one row (e.g. 反诈预警 and 反诈预警已处置), then unmerge the cells.",
                row=n, sheet=grid.sheet,
                zh=f"第{n}行是合并表头下的第二行表头（{'、'.join(c for c in cells2 if c)}），不接受两行表头",
                hint_zh="请在同一行为每一列写一个表头（如“反诈预警”“反诈预警已处置”），并取消合并。", code="two_row_header")
        data = data[1:]
    for n, r in data:
        if len(r) > width and any(r[width:]):
            extra = next(j for j in range(width, len(r)) if r[j])
            log.add(name, f"the row has {len(r)} cells but the header has {width}",
                    "Remove the extra cells, or give the column a header.", row=n, sheet=grid.sheet,
                    cell=cell_name(extra, n), zh=f"该行有 {len(r)} 个单元格，但表头只有 {width} 列",
                    hint_zh="请删除多出的单元格，或为该列填写表头。", code="row_wider_than_header")
    cells = np.array([(r + [""] * width)[:width] for _, r in data], dtype=object).reshape(len(data), width)
    rows = [n for n, _ in data]
    position, headers, units = {}, {}, {}
    recognised: list[tuple[str, str, str, str | None, bool]] = []
    notes_column: dict[int, str] = {}
    for j, text in enumerate(header):
        has_data = len(data) > 0 and any(cells[:, j])
        where = {"sheet": grid.sheet, "cell": cell_name(j, header_row)}
        if not text:
            if has_data:
                merged = grid.merged_at(header_row, j)
                log.add(name, f"column {column_letter(j)} has data but no header", "Give the column its name in the "
                        f"header row{' (unmerge ' + ', '.join(merged) + ')' if merged else ''}.", row=header_row,
                        zh=f"第 {column_letter(j)} 列有数据但没有表头", hint_zh="请在表头行填写该列名称。",
                        code="column_without_header", **where)
            continue
        key, unit = header_key(text, unit_words)
        if key in _ROW_NUMBER_KEYS:
            report.note(name, "row_number_column", f"第 {column_letter(j)} 列“{text}”是序号，不作数据",
                        f"column {column_letter(j)} '{text}' is a row number column, ignored", **where)
            continue
        if key in _NOTE_KEYS and not keep_unknown:
            filled = {rows[i]: str(cells[i, j]) for i in np.flatnonzero(cells[:, j] != "")}
            notes_column.update(filled)
            said = "；".join(f"第{r}行“{shorten(t, 20)}”" for r, t in list(filled.items())[:5])
            report.note(name, "notes_column", f"第 {column_letter(j)} 列“{text}”是备注，不作数据"
                        + (f"：{said}" if said else ""),
                        f"column {column_letter(j)} '{text}' holds notes, ignored ({len(filled)} filled)", **where)
            continue
        code = table.get(key)
        if code is None:
            if keep_unknown:
                code = text
            else:
                close = suggest(text, list(labels))
                new = what == "measure"
                hint_zh = (f"是否为“{'”或“'.join(close)}”？" if close else "") + "请使用目录中的指标名称或代码" + (
                    "，新指标请在数据文件夹的 catalogue.yaml 中声明" if new else "") + "，或删除该列。"
                log.add(name, f"unknown column '{text}'",
                        (f"Did you mean {' or '.join(repr(c) for c in close)}? " if close else "")
                        + f"Use a {what} code or its Chinese name (see README, raw data contract)"
                        + (", declare a new measure in the data folder's catalogue.yaml" if new else "")
                        + ", or delete the column.", row=header_row, column=text, zh=f"未知的列“{text}”",
                        hint_zh=hint_zh, code="unknown_column", **where)
                continue
        if code in position:
            log.add(name, f"columns '{headers[code]}' and '{text}' both mean {code}", "Keep one of them.",
                    row=header_row, column=text, zh=f"“{headers[code]}”和“{text}”两列是同一指标 {code}",
                    hint_zh="请保留其中一列。", code="duplicate_column", **where)
            continue
        if unit:
            units[code] = unit
        if text not in labels:  # recognised after normalising (a unit, spaces, a line break): say how it was read
            recognised.append((where["cell"], text, code, unit, "\n" in text or "\r" in text))
        position[code] = j
        headers[code] = text
    if recognised:
        with_unit = sum(1 for r in recognised if r[3])
        wrapped = sum(1 for r in recognised if r[4])
        shown = "、".join(f"{c}“{shorten(t, 16)}”→{code}" for c, t, code, _, _ in recognised[:4])
        report.note(name, "header_variant", f"{len(recognised)} 个表头按规范名称识别（其中 {with_unit} 个带计量单位，"
                    f"{wrapped} 个换行的表头）：{shown}" + ("等" if len(recognised) > 4 else ""),
                    f"{len(recognised)} headers matched after normalising ({with_unit} with a unit of measure, "
                    f"{wrapped} wrapped), e.g. " + ", ".join(f"{c} '{shorten(t, 16)}' -> {code}"
                                                             for c, t, code, _, _ in recognised[:2]),
                    sheet=grid.sheet, row=header_row)
    codes = list(position)
    frame = pd.DataFrame(cells[:, [position[c] for c in codes]], columns=codes, index=pd.Index(rows), dtype=object)
    total_rows, subtotal = _label_rows(frame, cells, rows, position)
    if len(total_rows):
        frame = frame.drop(index=total_rows.index)
    frame = frame.drop(index=subtotal)
    if frame.empty and not len(total_rows):
        log.add(name, "the file has a header but no data rows", "Add one row per unit.", row=header_row,
                sheet=grid.sheet, zh="只有表头，没有数据行", hint_zh="请每个村(社区)填一行。", code="no_data_rows")
        return None
    return Table(grid, header_row, frame, position, headers, units, total_rows, subtotal, notes_column, title_months)


def _second_header_row(grid: Grid, header_row: int, cells: list[str], table: dict[str, str], id_codes: set[str],
                       header: list[str], unit_words) -> bool:
    """The row under the header continues it: the header has cells merged across columns, and the row has
    only text (no figure, no unit) under them."""
    spans = [m for m in grid.merged if m[0] <= header_row <= m[2] and m[3] > m[1]]
    if not spans:
        return False
    ids = [j for j, h in enumerate(header) if table.get(header_key(h, unit_words)[0]) in id_codes]
    if any(j < len(cells) and cells[j] for j in ids):
        return False
    filled = [c for c in cells if c]
    return bool(filled) and not any(c.replace(".", "", 1).replace(",", "").lstrip("-").isdigit() for c in filled)


def _label_rows(frame: pd.DataFrame, cells: np.ndarray, rows: list[int], position: dict[str, int]):
    """Rows labelled 合计/总计 (totals) and 小计 (subtotals), by the text of their leftmost cells."""
    if not len(rows):
        return frame.iloc[:0], []
    first = [j for j in range(min(cells.shape[1], 3))] + [position[c] for c in ("unit_id", "unit_name")
                                                          if c in position]
    label = np.array(["".join(str(cells[i, j]) for j in sorted(set(first)) if not str(cells[i, j]).replace(
        ".", "").isdigit()) for i in range(len(rows))], dtype=object)
    keys = np.array([header_key(t)[0].strip(":：") for t in label], dtype=object)
    total = np.array([k in _TOTAL_KEYS for k in keys], dtype=bool)
    sub = [rows[i] for i in np.flatnonzero([k in _SUBTOTAL_KEYS or k.startswith(("小计", "其中")) for k in keys])]
    return frame.loc[[rows[i] for i in np.flatnonzero(total)]], sub
