"""Files in and out: reading a CSV/XLSX table as text cells with spreadsheet row numbers, converting
cells to numbers with a problem per bad cell, and writing outputs atomically (with file hashes).

Raw CSV may be UTF-8, UTF-8 with BOM or GB18030 (what Chinese Excel and WPS
export); XLSX is read from its first sheet. Row numbers in problems are the
spreadsheet's (header = row 1).
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io as _io
import os
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.errors import InputError, Problem, ProblemLog

__all__ = ["display_path", "read_table", "rename_headers", "numbers", "sha256_file", "write_bytes_atomic",
           "csv_bytes", "write_csv_atomic"]


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def read_table(path: Path, log: ProblemLog) -> pd.DataFrame | None:
    """Read a CSV (UTF-8, UTF-8 BOM, GB18030) or XLSX file as a frame of strings.

    Returns None (after logging the problem) when the file cannot be read.
    """
    name = display_path(path)
    if not path.is_file():
        log.add(name, "file not found", "Check the path, or put the file in the data folder.")
        return None
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, name, log)
    raw = path.read_bytes()
    if not raw.strip():
        log.add(name, "the file is empty", "Export the sheet again with its header row and one row per unit.")
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence it is given in practice
        log.add(name, "text encoding not recognised", "Save the CSV as UTF-8 or GB18030 (Excel: CSV UTF-8).")
        return None
    rows = list(csv.reader(_io.StringIO(text)))
    return _table_from_rows(list(enumerate(rows, start=1)), name, log)


def _read_xlsx(path: Path, name: str, log: ProblemLog) -> pd.DataFrame | None:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        log.add(name, f"cannot open as XLSX ({type(exc).__name__})", "Save the workbook again as .xlsx.")
        return None
    sheet = book.worksheets[0]
    merged = [str(r) for r in sheet.merged_cells.ranges if r.min_row <= 2]
    if merged:
        log.add(name, f"merged cells in the header ({', '.join(merged)}): a two-row header is not accepted",
                "Unmerge the header so that row 1 holds one column name per column and data start in row 2.",
                row=1)
        return None
    rows = [(n, ["" if v is None else _cell_text(v) for v in row])
            for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    return _table_from_rows(rows, name, log)


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _table_from_rows(rows: list[tuple[int, list[str]]], name: str, log: ProblemLog) -> pd.DataFrame | None:
    """Header = the first non-blank row; fully blank rows and blank unnamed columns (what Excel and
    WPS leave behind) are dropped; the index holds the spreadsheet row number of each data row."""
    # NFKC: full-width digits and brackets (１２, （）) as Chinese input methods type them -> ASCII
    rows = [(n, [unicodedata.normalize("NFKC", c).strip() for c in r]) for n, r in rows]
    rows = [(n, r) for n, r in rows if any(r)]
    if not rows:
        log.add(name, "the file is empty", "Export the sheet again with its header row and one row per unit.")
        return None
    (header_row, header), data = rows[0], rows[1:]
    width = len(header)
    for n, r in data:
        if len(r) > width and any(r[width:]):
            log.add(name, f"the row has {len(r)} cells but the header has {width}",
                    "Remove the extra cells, or give the column a header.", row=n)
    cells = np.array([(r + [""] * width)[:width] for _, r in data], dtype=object).reshape(len(data), width)
    keep = [j for j, h in enumerate(header) if h or (len(data) and any(cells[:, j]))]
    for j in keep:
        if not header[j]:
            log.add(name, f"column {j + 1} has data but no header", "Give the column its name in row 1.",
                    row=header_row)
    frame = pd.DataFrame(cells[:, keep], columns=[header[j] for j in keep], dtype=object)
    if frame.empty:
        log.add(name, "the file has a header but no data rows", "Add one row per unit.")
        return None
    frame.index = pd.Index([n for n, _ in data])  # spreadsheet row numbers
    return frame


def rename_headers(frame: pd.DataFrame, aliases: dict[str, str], name: str, log: ProblemLog) -> pd.DataFrame:
    codes, seen = [], {}
    for header in frame.columns:
        code = aliases.get(header)
        if code is None:
            log.add(name, f"unknown column '{header}'",
                    "Use a measure code or its Chinese name (see README, raw data contract), or delete the column.",
                    row=1, column=header)
            code = f"__unknown__{header}"
        elif code in seen:
            log.add(name, f"columns '{seen[code]}' and '{header}' both mean {code}", "Keep one of them.",
                    row=1, column=header)
        seen.setdefault(code, header)
        codes.append(code)
    frame = frame.copy()
    frame.columns = codes
    return frame.loc[:, ~pd.Index(codes).duplicated()]


def numbers(frame: pd.DataFrame, columns, name: str, log: ProblemLog, *, integer: bool,
             positive: bool = False, allow_blank: bool = False, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Convert text columns to numbers, logging each bad cell with its row and column."""
    columns = list(columns)
    text = frame[columns].to_numpy(dtype=str)
    cells = pd.Series(text.ravel(), dtype=object)
    thousands = cells.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?")  # 1,234 -- but "2,9" is not a number
    flat = pd.to_numeric(cells.where(~thousands, cells.str.replace(",", "", regex=False)), errors="coerce")
    v = flat.to_numpy(dtype=float).reshape(text.shape)
    values = pd.DataFrame(v, index=frame.index, columns=columns)
    blank = text == ""
    nan = np.isnan(v)
    ok = ~nan
    with np.errstate(invalid="ignore"):
        fractional = ok & (np.mod(v, 1) != 0) if integer else np.zeros_like(ok)
        bad_sign = ok & ((v <= 0) if positive else (v < 0))
    rules = [(~blank & nan, "'{}' is not a number", "Enter a number (digits only)."),
             (fractional, "'{}' is not a whole number", "Counts are whole numbers."),
             (bad_sign, "'{}' must be greater than 0" if positive else "'{}' is negative",
              "Correct the figure in the file.")]
    if not allow_blank:
        rules.insert(1, (blank, "the cell is empty", "Enter the figure (0 if there were none)."))
    for mask, rule, hint in rules:
        for i, j in np.argwhere(mask):
            col = columns[j]
            log.add(name, rule.format(text[i, j]), hint, int(frame.index[i]), (labels or {}).get(col, col))
    return values


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
        raise InputError(Problem(str(path), "the output path is a folder", "Give a file name, e.g. out.csv."))
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


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV as UTF-8 with BOM (so Excel opens Chinese correctly), LF line ends, 10 significant digits."""
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8-sig")


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    write_bytes_atomic(csv_bytes(frame), path)
