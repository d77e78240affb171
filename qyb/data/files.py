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
import errno
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from qyb.data.text import cell_name, clean_cell
from qyb.errors import InputError, OutputError, Problem, ProblemLog

__all__ = ["Grid", "ReadLimits", "display_path", "read_grids", "xlsx_uncached_formulas", "sha256_file",
           "write_bytes_atomic", "csv_bytes", "write_csv_atomic", "write_csv_pieces_atomic", "zip_with_fixed_times",
           "check_output_path", "output_error", "OUTPUT_ERRNOS", "FORMULA_TRIGGERS", "formula_like",
           "neutralise_text", "restore_text", "neutralise_frame", "restore_frame", "read_csv_table", "neutralise_workbook"]

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


# ---------------------------------------------------------------- output locations
#: errno values that say "the output location cannot take this" (not a bug): full, over quota, read-only,
#: no permission, not a folder, a name too long
OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                           errno.EEXIST, errno.ENAMETOOLONG, errno.EISDIR})


def check_output_path(path: Path | str, what: str = "--out", folder: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written: not a folder (a file expected) or not a file
    (a folder expected, ``folder=True``), its nearest existing parent a folder and writable (so the
    missing ones can be made). Raises InputError naming ``what`` (the argument); returns ``path``.

    ``os.access`` tells a read-only file system (``EROFS``) even for root.
    """
    path = Path(path)

    def bad(rule: str, zh: str, hint: str, code: str) -> InputError:
        return InputError(Problem(what, rule, hint, zh=zh, code=code))

    if path.exists():
        if folder and not path.is_dir():
            raise bad(f"{path} is a file, not a folder", f"{path} 是文件而不是文件夹", "Give a folder.", "out_not_a_folder")
        if not folder and path.is_dir():
            raise bad(f"{path}: the output path is a folder", f"{path}：输出路径是文件夹",
                      "Give a file name, e.g. out.csv.", "out_is_a_folder")
    anchor = path if folder and path.is_dir() else path.parent
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    if not anchor.is_dir():
        raise bad(f"{anchor} is a file, so {path} cannot be made under it",
                  f"{anchor} 是文件，无法在其下创建 {path}", "Choose a location inside a folder.", "out_under_a_file")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise bad(f"cannot write in {anchor} (a read-only location or no permission)",
                  f"无法写入 {anchor}（只读或无权限）", "Choose a writable location, or ask for write permission.",
                  "out_not_writable")
    if not folder and path.is_file() and not os.access(path, os.W_OK):
        raise bad(f"{path} exists and is read-only", f"{path} 已存在且为只读", "Choose another file name.",
                  "out_not_writable")
    return path


def output_error(exc: OSError, path: Path | str, action: str = "write") -> OutputError:
    """An :class:`~qyb.errors.OutputError` (exit status 1) saying which output failed and why, from the
    ``OSError`` the file system raised (disk full, read-only, no permission ...)."""
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
              errno.EROFS: "the location is read-only", errno.EACCES: "no permission",
              errno.EPERM: "no permission"}.get(exc.errno, exc.strerror or str(exc))
    zh = {errno.ENOSPC: "磁盘已满", errno.EDQUOT: "磁盘配额已用完", errno.EROFS: "位置只读",
          errno.EACCES: "无权限", errno.EPERM: "无权限"}.get(exc.errno, "文件系统错误")
    return OutputError(f"无法写入 {path}（{zh}）(cannot {action} {path}: {reason}; [Errno {exc.errno}] "
                       f"{exc.strerror}). 请腾出空间或换一个可写的位置后重试 / Free space or choose a writable location "
                       "and run again; nothing was left half-written.")


def write_bytes_atomic(data: bytes, path: Path) -> None:
    """Write to a temporary file in the same folder, then rename into place. A file-system failure (disk
    full, read-only ...) is an :class:`~qyb.errors.OutputError` and leaves nothing behind."""
    path = Path(path)
    if path.is_dir():
        raise InputError(Problem(str(path), "the output path is a folder", "Give a file name, e.g. out.csv.",
                                 zh="输出路径是文件夹", hint_zh="请给出文件名，如 out.csv。", code="out_is_a_folder"))
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; published files are readable like any other
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
            raise output_error(exc, path) from exc
        raise


# ---------------------------------------------------------------- formula injection (CSV, XLSX)
#: the first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")


def formula_like(text) -> bool:
    """True for a text a spreadsheet would take for a formula: it begins with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return and is not a plain number (``-3``, ``+2.5``, ``-12%`` stay numbers)."""
    return isinstance(text, str) and text[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.match(text)


def neutralise_text(text):
    """A CSV field made inert as OWASP recommends: a formula-like text gets a leading apostrophe (the
    spreadsheet shows it as text, ``'=1+1`` reads ``=1+1``); a text that already begins with an apostrophe
    before a trigger gets a second one, so :func:`restore_text` gives back exactly the original."""
    if formula_like(text) or (isinstance(text, str) and text[:1] == "'" and
                              (formula_like(text[1:]) or text[1:2] == "'")):
        return "'" + text
    return text


def restore_text(text):
    """The inverse of :func:`neutralise_text` (what qyb reads back from its own CSV files)."""
    if isinstance(text, str) and text[:1] == "'" and (formula_like(text[1:]) or text[1:2] == "'"):
        return text[1:]
    return text


def neutralise_frame(frame):
    """``frame`` with every formula-like text field and header neutralised (:func:`neutralise_text`; a
    carriage return inside a text becomes a line feed); numbers stay numbers. The frame itself when nothing
    needs it."""
    import pandas as pd

    columns = [c for c in frame.columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                                 or pd.api.types.is_bool_dtype(frame[c]))]
    changed = {}
    for c in columns:
        values = frame[c]
        mask = values.map(lambda v: isinstance(v, str) and (v[:1] in FORMULA_TRIGGERS + ("'",) or "\r" in v))
        if mask.any():
            changed[c] = values.where(~mask, values[mask].map(_inert_field))
    headers = {c: neutralise_text(c) for c in frame.columns if isinstance(c, str) and neutralise_text(c) != c}
    if not changed and not headers:
        return frame
    out = frame.assign(**{str(c): v for c, v in changed.items()}) if all(isinstance(c, str) for c in changed) \
        else _replace_columns(frame, changed)
    return out.rename(columns=headers) if headers else out


def _inert_field(text: str) -> str:
    """:func:`neutralise_text`, then carriage returns written as line feeds: the CSV writer (lines end in
    LF) quotes a field holding LF, but not one holding a bare CR, which spreadsheets take for a new row."""
    return neutralise_text(text).replace("\r\n", "\n").replace("\r", "\n")


def _replace_columns(frame, changed: dict):
    out = frame.copy()
    for c, v in changed.items():
        out[c] = v
    return out


def restore_frame(frame):
    """A frame read back from a qyb CSV with its neutralised texts restored (:func:`restore_text`)."""
    out = frame
    for c in frame.columns:
        if frame[c].dtype == object or str(frame[c].dtype) in ("str", "string"):
            mask = frame[c].map(lambda v: isinstance(v, str) and v[:1] == "'")
            if mask.any():
                out = out.copy() if out is frame else out
                out[c] = frame[c].where(~mask, frame[c][mask].map(restore_text))
    headers = {c: restore_text(c) for c in frame.columns if restore_text(c) != c}
    return out.rename(columns=headers) if headers else out


def read_csv_table(path: Path | str, **kwargs):
    """A CSV table qyb wrote (:func:`write_csv_atomic`), read back as written: UTF-8 with BOM, neutralised
    texts restored."""
    import pandas as pd

    return restore_frame(pd.read_csv(path, encoding="utf-8-sig", **kwargs))


def neutralise_workbook(book) -> int:
    """Make every text cell of an openpyxl ``book`` that a spreadsheet would take for a formula (``=cmd|…``,
    ``=HYPERLINK(…)``, ``@SUM(…)``, ``+…``, ``-…``) a plain string with the cell's quote prefix (what typing
    ``'`` before it in Excel or WPS does): never a formula, shown exactly as the text, still text when
    edited. qyb writes no formulas of its own, so every formula cell (openpyxl makes one of any text that
    begins with ``=``) is data. Numbers stay numbers. Returns the number of cells changed."""
    changed = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS:
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed


def csv_bytes(frame) -> bytes:
    """CSV as UTF-8 with BOM (so Excel opens Chinese correctly), LF line ends, 10 significant digits; text
    fields a spreadsheet would take for formulas neutralised (:func:`neutralise_frame`)."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8-sig")


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
            text = neutralise_frame(frame).to_csv(index=False, header=n == 0, lineterminator="\n",
                                                  float_format="%.10g")
            fh.write(text.encode("utf-8-sig" if n == 0 else "utf-8"))
            rows += len(frame)
        if fh is None:
            raise ValueError("write_csv_pieces_atomic: no piece to write")
        fh.close()
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        if fh is not None:
            try:
                fh.close()
            except OSError:  # the disk is full: closing flushes
                pass
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        for folder in made:  # deepest first: the folders this call created, now empty
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(exc, OSError) and exc.errno in OUTPUT_ERRNOS:
            raise output_error(exc, path) from exc
        raise
    return rows
