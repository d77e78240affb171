"""Files in and out: reading a CSV or XLSX sheet as a :class:`Grid` of text cells with the spreadsheet's
row numbers, and writing outputs atomically (with file hashes).

Raw CSV may be UTF-8, UTF-8 with BOM or GB18030 (what Chinese Excel and WPS
export); an XLSX workbook gives one grid per sheet (the month file reader picks
the sheet). Reading streams and stops as soon as a file is plainly not a month
file (far more rows or columns than the register could need, a cell longer
than any figure or name), so a 200 MB file fails in a moment. Every cell is
cleaned as :func:`qyb.data.text.clean_cell` says (full-width characters,
invisible characters); the cells it changed are listed.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from qyb.data.text import cell_name, clean_cell
from qyb.errors import InputError, Problem, ProblemLog

__all__ = ["Grid", "ReadLimits", "display_path", "read_grids", "xlsx_uncached_formulas", "sha256_file",
           "write_bytes_atomic", "csv_bytes", "write_csv_atomic", "write_csv_pieces_atomic", "zip_with_fixed_times"]

_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def display_path(path: Path) -> str:
    """The path as messages show it: relative to the current folder when it is below it, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(Path(path).absolute()) if rel.startswith("..") else rel


@dataclass(frozen=True)
class ReadLimits:
    """When to stop reading: more non-blank rows than ``max_rows``, more columns than ``max_columns``, a
    cell longer than ``max_cell_chars`` (see ``limits`` in the measure catalogue)."""

    max_rows: int = 10_000
    max_columns: int = 400
    max_cell_chars: int = 2000


@dataclass
class Grid:
    """One sheet (or a CSV file) as text cells: ``rows`` are (spreadsheet row number, cells) for the non-blank
    rows; ``hidden`` for a hidden sheet; ``merged`` the merged ranges as (row1, col1, row2, col2), 1-based."""

    file: str
    sheet: str | None
    rows: list[tuple[int, list[str]]]
    hidden: bool = False
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    invisible: list[str] = field(default_factory=list)  # cells whose invisible characters were removed
    path: Path | None = None
    has_formulas: bool = False

    @property
    def empty(self) -> bool:
        return not self.rows

    def where(self, row: int | None = None, column: int | None = None) -> dict:
        """Location keywords for :meth:`qyb.errors.ProblemLog.add`: the sheet and the cell (``C7``)."""
        out: dict = {"sheet": self.sheet}
        if row is not None and column is not None:
            out["cell"] = cell_name(column, row)
        return out

    def merged_at(self, row: int, column: int | None = None) -> list[str]:
        """The merged ranges that cover ``row`` (and the 0-based ``column``), as the spreadsheet names them."""
        return [f"{cell_name(c1 - 1, r1)}:{cell_name(c2 - 1, r2)}" for r1, c1, r2, c2 in self.merged
                if r1 <= row <= r2 and (column is None or c1 - 1 <= column <= c2 - 1)]


def _problem(log: ProblemLog, name: str, rule: str, hint: str, zh: str, hint_zh: str, code: str, **where) -> None:
    log.add(name, rule, hint, zh=zh, hint_zh=hint_zh, code=code, **where)


def read_grids(path: Path, log: ProblemLog, limits: ReadLimits = ReadLimits()) -> list[Grid] | None:
    """Read a CSV (one grid) or an XLSX workbook (one grid per worksheet).

    Returns None (after logging the problem) when the file cannot be read or is plainly not a
    month file; stops reading at the first row beyond ``limits.max_rows``.
    """
    name = display_path(path)
    if not path.is_file():
        _problem(log, name, "file not found", "Check the path, or put the file in the data folder.",
                 "找不到文件", "请检查路径，或把文件放进数据文件夹。", "file_not_found")
        return None
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, name, log, limits)
    grid = _read_csv(path, name, log, limits)
    return None if grid is None else [grid]


def _empty(log: ProblemLog, name: str, **where) -> None:
    _problem(log, name, "the file is empty", "Export the sheet again with its header row and one row per unit.",
             "文件是空的", "请重新导出：一行表头，每个村(社区)一行。", "empty_file", **where)


def _too_many_rows(log: ProblemLog, name: str, limits: ReadLimits, **where) -> None:
    _problem(log, name, f"more than {limits.max_rows:,} rows: this is not a month file of the register's units",
             "A month file has a header and one row per unit; check that the right file was exported.",
             f"超过 {limits.max_rows:,} 行，不是本登记表各村(社区)的月度数据",
             "月度数据应为一行表头、每个村(社区)一行，请检查导出的文件。", "too_many_rows", **where)


def _too_many_columns(log: ProblemLog, name: str, n: int, limits: ReadLimits, **where) -> None:
    _problem(log, name, f"{n:,} columns: more than {limits.max_columns} (this is not a month file)",
             "Keep one column per measure; delete the others.",
             f"共 {n:,} 列，超过 {limits.max_columns} 列，不是月度数据", "每项指标一列，请删除其余各列。", "too_many_columns",
             **where)


def _long_cell(log: ProblemLog, name: str, length: int, limits: ReadLimits, **where) -> None:
    _problem(log, name, f"the cell holds {length:,} characters (at most {limits.max_cell_chars:,})",
             "A cell holds a figure, a name or a short note: check what was pasted into it.",
             f"单元格有 {length:,} 个字符（最多 {limits.max_cell_chars:,} 个）",
             "单元格只填数字、名称或简短备注，请检查粘贴的内容。", "cell_too_long", **where)


def _clean_row(number: int, raw, grid: Grid, log: ProblemLog, limits: ReadLimits) -> list[str]:
    cells = []
    for j, value in enumerate(raw):
        if value.__class__ is not str:
            value = "" if value is None else _cell_text(value)
        if value.isascii():  # most cells: digits and codes
            text = value.strip()
        else:
            text, changed = clean_cell(value)
            if changed:
                grid.invisible.append(cell_name(j, number))
        if len(text) > limits.max_cell_chars:
            _long_cell(log, grid.file, len(text), limits, row=number, **grid.where(number, j))
            text = text[: limits.max_cell_chars]
        cells.append(text)
    return cells


def _read_csv(path: Path, name: str, log: ProblemLog, limits: ReadLimits) -> Grid | None:
    if path.stat().st_size == 0:
        _empty(log, name)
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        grid = Grid(name, None, [], path=path)
        mark = len(log)
        try:
            with open(path, encoding=encoding, newline="") as fh:
                reader = csv.reader(fh)
                number = 0
                try:
                    for raw in reader:
                        number += 1
                        if number > _blank_rows_allowed(limits):
                            _too_many_rows(log, name, limits)
                            return None
                        if len(raw) > limits.max_columns and any(raw[limits.max_columns:]):
                            _too_many_columns(log, name, len(raw), limits, row=number)
                            return None
                        if not any(c.strip() for c in raw):
                            continue
                        grid.rows.append((number, _clean_row(number, raw, grid, log, limits)))
                        if len(grid.rows) > limits.max_rows:
                            _too_many_rows(log, name, limits)
                            return None
                except csv.Error as exc:
                    n = number + 1
                    if "field larger than field limit" in str(exc):
                        _problem(log, name, f"a cell is longer than {csv.field_size_limit():,} characters",
                                 "A cell holds a figure, a name or a short note: check what was pasted into the row.",
                                 f"有单元格超过 {csv.field_size_limit():,} 个字符",
                                 "单元格只填数字、名称或简短备注，请检查该行粘贴的内容。", "cell_too_long", row=n)
                    else:
                        _problem(log, name, f"the CSV cannot be read here ({exc})",
                                 "Open the file in Excel or WPS and save it again as CSV.",
                                 "此处 CSV 格式有误", "请用 Excel 或 WPS 打开后重新另存为 CSV。", "bad_csv", row=n)
                    return None
        except UnicodeDecodeError:
            del log.problems[mark:]  # the cells logged under the wrong encoding are read again
            continue
        if not grid.rows:
            _empty(log, name)
            return None
        return grid
    _problem(log, name, "text encoding not recognised", "Save the CSV as UTF-8 or GB18030 (Excel: CSV UTF-8).",
             "无法识别文字编码", "请另存为 UTF-8 或 GB18030 编码的 CSV（Excel：CSV UTF-8）。", "bad_encoding")
    return None


def _blank_rows_allowed(limits: ReadLimits) -> int:
    """Rows (blank ones included) read before giving up: Excel leaves formatted empty rows behind."""
    return max(100_000, 50 * limits.max_rows)


def _cell_text(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _read_xlsx(path: Path, name: str, log: ProblemLog, limits: ReadLimits) -> list[Grid] | None:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        _problem(log, name, f"cannot open as XLSX ({type(exc).__name__})", "Save the workbook again as .xlsx.",
                 "无法作为 XLSX 打开", "请重新另存为 .xlsx 工作簿。", "bad_xlsx")
        return None
    grids = []
    try:
        for sheet in book.worksheets:
            grid = Grid(name, sheet.title, [], hidden=sheet.sheet_state != "visible", path=path)
            width = sheet.max_column or 0
            if width > limits.max_columns:
                _too_many_columns(log, name, width, limits, sheet=sheet.title)
                return None
            for number, raw in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > _blank_rows_allowed(limits):  # rows formatted but empty, by the hundred thousand
                    _too_many_rows(log, name, limits, sheet=sheet.title)
                    return None
                if not any(v is not None and (not isinstance(v, str) or v.strip()) for v in raw):
                    continue
                grid.rows.append((number, _clean_row(number, raw[: limits.max_columns], grid, log, limits)))
                if len(grid.rows) > limits.max_rows:
                    _too_many_rows(log, name, limits, sheet=sheet.title)
                    return None
            source = sheet._get_source().read()  # the sheet's XML: merged ranges and formulas
            grid.merged = [(int(r1), _col(c1), int(r2), _col(c2)) for c1, r1, c2, r2 in _MERGE.findall(source)]
            grid.has_formulas = b"<f>" in source or b"<f " in source
            grids.append(grid)
    finally:
        book.close()
    if all(g.empty for g in grids):
        _empty(log, name)
        return None
    return grids


def _col(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n


def xlsx_uncached_formulas(grid: Grid) -> tuple[int, list[str]]:
    """``(formula cells, cells among them without a saved value)`` of an XLSX sheet.

    A workbook written by a program (not saved by Excel/WPS) holds formulas without their values;
    qyb reads saved values only, so those cells would look blank.
    """
    import openpyxl

    if not grid.has_formulas or grid.path is None:
        return 0, []
    formulas = openpyxl.load_workbook(grid.path, read_only=True, data_only=False)
    values = openpyxl.load_workbook(grid.path, read_only=True, data_only=True)
    try:
        count, missing = 0, []
        rows = zip(formulas[grid.sheet].iter_rows(values_only=True), values[grid.sheet].iter_rows(values_only=True))
        for number, (f_row, v_row) in enumerate(rows, start=1):
            for j, (f, v) in enumerate(zip(f_row, v_row)):
                if isinstance(f, str) and f.startswith("="):
                    count += 1
                    if v is None:
                        missing.append(cell_name(j, number))
        return count, missing
    finally:
        formulas.close()
        values.close()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_bytes_atomic(data: bytes, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename into place."""
    path = Path(path)
    if path.is_dir():
        raise InputError(Problem(str(path), "the output path is a folder", "Give a file name, e.g. out.csv.",
                                 zh="输出路径是文件夹", hint_zh="请给出文件名，如 out.csv。", code="out_is_a_folder"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; published files are readable like any other
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def csv_bytes(frame) -> bytes:
    """CSV as UTF-8 with BOM (so Excel opens Chinese correctly), LF line ends, 10 significant digits."""
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8-sig")


def write_csv_atomic(frame, path: Path) -> None:
    write_bytes_atomic(csv_bytes(frame), path)


def zip_with_fixed_times(data: bytes, stamp: _dt.datetime) -> bytes:
    """Rewrite an Office file (XLSX, DOCX: a zip) with a fixed timestamp on every member and in
    ``docProps/core.xml``, so the same document gives the same bytes (openpyxl and python-docx stamp
    the clock time)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl writes the save time as 'modified'
                iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\2", body)
            dst.writestr(fixed, body)
    return out.getvalue()


def write_csv_pieces_atomic(frames, path: Path) -> int:
    """Write consecutive pieces of one table as a single CSV, as :func:`csv_bytes` writes the whole
    (same bytes), one piece in memory at a time, to a temporary file renamed into place. Nothing is
    created before the first piece exists (a piece that raises leaves no file, no folder).
    Returns the number of rows written."""
    path = Path(path)
    if path.is_dir():
        raise InputError(Problem(str(path), "the output path is a folder", "Give a file name, e.g. out.csv."))
    rows, fh, tmp, made = 0, None, None, []
    try:
        for n, frame in enumerate(frames):
            if fh is None:
                made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
                fh = os.fdopen(fd, "wb")
            text = frame.to_csv(index=False, header=n == 0, lineterminator="\n", float_format="%.10g")
            fh.write(text.encode("utf-8-sig" if n == 0 else "utf-8"))
            rows += len(frame)
        if fh is None:
            raise ValueError("write_csv_pieces_atomic: no piece to write")
        fh.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if fh is not None:
            fh.close()
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        for folder in made:  # deepest first: the folders this call created, now empty
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    return rows
