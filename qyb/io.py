"""Reading and validating raw files; writing outputs atomically; file hashes.

Raw data contract (see README): ``units.csv`` (the unit register) and one file
per month named ``YYYY-MM.csv`` or ``YYYY-MM.xlsx`` with one row per unit and
one column per raw measure. Headers may be English codes or Chinese names.
CSV may be UTF-8, UTF-8 with BOM or GB18030; XLSX is read from its first sheet.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io as _io
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.errors import InputError, Problem, ProblemLog
from qyb.measures import (
    MEASURE_BY_CODE,
    MEASURE_CODES,
    MONTH_FILE_ID_COLUMNS,
    UNIT_COLUMNS,
    header_aliases,
    unit_header_aliases,
)

UNITS_FILE = "units.csv"
SYNTHETIC_MARKER = "SYNTHETIC.md"
MONTH_FILE = re.compile(r"^(\d{4})-(\d{2})\.(csv|xlsx)$", re.IGNORECASE)
_LOOKS_LIKE_MONTH_FILE = re.compile(r"^\d{4}-\d{1,2}\.(csv|xlsx)$", re.IGNORECASE)


# ---------------------------------------------------------------- reading tables
def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def read_table(path: Path, log: ProblemLog) -> pd.DataFrame | None:
    """Read a CSV (UTF-8, UTF-8 BOM, GB18030) or XLSX file as a frame of strings.

    Returns None (after logging the problem) when the file cannot be read.
    """
    name = _display(path)
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


def _rename_headers(frame: pd.DataFrame, aliases: dict[str, str], name: str, log: ProblemLog) -> pd.DataFrame:
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


def _numbers(frame: pd.DataFrame, columns, name: str, log: ProblemLog, *, integer: bool,
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


# ---------------------------------------------------------------- units register
def read_units(data_dir: Path, log: ProblemLog) -> pd.DataFrame | None:
    """Read and validate units.csv; returns a frame indexed by unit_id in file order."""
    path = Path(data_dir) / UNITS_FILE
    name = _display(path)
    frame = read_table(path, log)
    if frame is None:
        return None
    aliases = unit_header_aliases()
    aliases.update({h: h for h in frame.columns if h not in aliases})  # other columns: extra unit attributes
    frame = _rename_headers(frame, aliases, name, log)
    missing = [c for c in UNIT_COLUMNS if c.required and c.code not in frame.columns]
    for col in missing:
        log.add(name, f"missing required column {col.code} ({col.name})", "Add the column to the unit register.",
                row=1, column=col.code)
    if missing:
        return None
    frame = frame[[c for c in frame.columns if not c.startswith("__unknown__")]]
    for row in frame.index[frame["unit_id"] == ""]:
        log.add(name, "unit without an id", "Give every unit a unit_id.", row, "unit_id")
    for row in frame.index[frame["unit_id"].duplicated(keep="first") & (frame["unit_id"] != "")]:
        log.add(name, f"duplicate unit_id '{frame.at[row, 'unit_id']}'", "Each unit appears once in the register.",
                row, "unit_id")
    for row in frame.index[frame["population"] == ""]:
        log.add(name, f"unit '{frame.at[row, 'unit_id']}' has no population",
                "Enter the unit's 常住人口: rates per 10,000 need it.", row, "population")
    for col in ("unit_name", "town"):
        for row in frame.index[frame[col] == ""]:
            log.add(name, f"unit '{frame.at[row, 'unit_id']}' has no {col}",
                    "Fill the cell: ranks are computed within a town, and reports show the name.", row, col)
    for row in frame.index[~frame["unit_type"].isin(UNIT_TYPES)]:
        log.add(name, f"unit type '{frame.at[row, 'unit_type']}' is not one of {'/'.join(UNIT_TYPES)}",
                "Write 村 or 社区.", row, "unit_type")
    named = frame["unit_name"] != ""
    for row in frame.index[frame["unit_name"].duplicated(keep="first") & named]:
        log.add(name, f"duplicate unit_name '{frame.at[row, 'unit_name']}'",
                "Unit names must be unique (month files may identify units by name).", row, "unit_name")
    numeric = [c.code for c in UNIT_COLUMNS if c.kind == "number" and c.code in frame.columns]
    known = {c.code for c in UNIT_COLUMNS}
    numeric += [c for c in frame.columns if c not in known and _all_numbers(frame[c])]
    filled = frame[numeric].copy()
    nums = _numbers(filled, numeric, name, log, integer=False, allow_blank=True)
    pop = nums["population"]
    for row in pop.index[pop.notna() & (pop <= 0)]:
        log.add(name, f"population '{frame.at[row, 'population']}' must be greater than 0",
                "Enter the unit's 常住人口.", row, "population")
    units = frame.drop(columns=numeric).join(nums)
    units = units[units["unit_id"] != ""].drop_duplicates("unit_id").set_index("unit_id")
    return units


UNIT_TYPES = ("村", "社区")


def _all_numbers(column: pd.Series) -> bool:
    filled = column[column != ""]
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().all()


def normalise_month_text(text: str) -> str:
    """'2023-3', '2023/03', '2023-03-01', '2023年3月' -> '2023-03'; anything else unchanged."""
    m = re.match(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})(\s*月)?([-/.]\d{1,2}(\s.*)?)?$", text)
    return f"{m.group(1)}-{int(m.group(2)):02d}" if m else text


# ---------------------------------------------------------------- month files
def month_files(data_dir: Path, log: ProblemLog | None = None) -> dict[str, Path]:
    """Map 'YYYY-MM' -> file for every month file in data_dir (one file per month)."""
    files: dict[str, Path] = {}
    for path in sorted(Path(data_dir).iterdir()) if Path(data_dir).is_dir() else []:
        m = MONTH_FILE.match(path.name)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            if log is not None and _LOOKS_LIKE_MONTH_FILE.match(path.name):
                log.add(_display(path), "the file name is not a valid month",
                        "Name month files YYYY-MM.csv or YYYY-MM.xlsx, e.g. 2023-03.csv.")
            continue
        month = f"{m.group(1)}-{m.group(2)}"
        if month in files:
            if log is not None:
                log.add(_display(path), f"two files for {month} ({files[month].name} and {path.name})",
                        "Keep one file per month.")
            continue
        files[month] = path
    return files


def read_month(path: Path, month: str, units: pd.DataFrame, log: ProblemLog,
               allow_blank: bool = False) -> pd.DataFrame | None:
    """Read and validate one month file; returns a frame indexed by unit_id (register order)."""
    name = _display(path)
    frame = read_table(path, log)
    if frame is None:
        return None
    frame = _rename_headers(frame, header_aliases(), name, log)
    if "unit_id" not in frame.columns and "unit_name" not in frame.columns:
        log.add(name, "missing required column unit_id (单位编码) or unit_name (村(社区)名称)",
                "Add a column that identifies the unit of each row.", row=1, column="unit_id")
        return None
    missing = [c for c in MEASURE_CODES if c not in frame.columns]
    for code in missing:
        log.add(name, f"missing required column {code} ({MEASURE_BY_CODE[code].name})",
                "Add the column (0 where nothing happened).", row=1, column=code)
    if "month" in frame.columns:
        stated = frame["month"].map(normalise_month_text)
        for row in frame.index[(stated != month) & (frame["month"] != "")]:
            log.add(name, f"month '{frame.at[row, 'month']}' disagrees with the file name ({month})",
                    "Fix the month column or rename the file.", row, "month")
    ids = _unit_ids(frame, units, name, log)
    present = [c for c in MEASURE_CODES if c in frame.columns]
    labels = {c: f"{c} ({MEASURE_BY_CODE[c].name})" for c in present}
    values = _numbers(frame, present, name, log, integer=True, allow_blank=allow_blank, labels=labels)
    for code in present:
        total = MEASURE_BY_CODE[code].total
        if total in values.columns:
            over = values[code] > values[total]
            for row in values.index[over]:
                log.add(name, f"{MEASURE_BY_CODE[code].name} ({code}) = {values.at[row, code]:g} exceeds "
                        f"{MEASURE_BY_CODE[total].name} ({total}) = {values.at[row, total]:g}",
                        "Handled cannot exceed the total: correct one of the two cells.", row, labels[code])
    if ids is None:
        return None
    values.index = ids
    values = values[~values.index.duplicated()]
    return values.reindex(index=units.index, columns=list(MEASURE_CODES))


def _unit_ids(frame: pd.DataFrame, units: pd.DataFrame, name: str, log: ProblemLog) -> pd.Index | None:
    if "unit_id" in frame.columns:
        ids = frame["unit_id"]
        known = ids.isin(units.index)
    else:
        by_name = pd.Series(units.index, index=units["unit_name"])
        by_name = by_name[~by_name.index.duplicated()]  # duplicate names are reported by read_units
        ids = frame["unit_name"].map(by_name).fillna(frame["unit_name"])
        known = frame["unit_name"].isin(by_name.index)
    column = "unit_id" if "unit_id" in frame.columns else "unit_name"
    for row in ids.index[~known]:
        log.add(name, f"unknown unit '{frame.at[row, column]}'",
                f"Use a unit listed in {UNITS_FILE}, or add the unit to the register.", row, column)
    dup = ids.duplicated(keep="first") & known
    for row in ids.index[dup]:
        log.add(name, f"duplicate row for unit '{frame.at[row, column]}'", "Keep one row per unit.", row, column)
    if "unit_id" in frame.columns and "unit_name" in frame.columns:
        expected = ids.map(units["unit_name"])
        for row in ids.index[known & (frame["unit_name"] != "") & (frame["unit_name"] != expected)]:
            log.add(name, f"unit_id {ids[row]} is {expected[row]} in {UNITS_FILE}, but the row says "
                    f"'{frame.at[row, 'unit_name']}'", "Check which unit the row belongs to and fix the id or name.",
                    row, "unit_name")
    for uid in units.index[~units.index.isin(ids)]:
        log.add(name, f"missing row for unit {uid} ({units.at[uid, 'unit_name']})",
                "Add a row for every unit in the register.", column=column)
    if (~known).any():
        return None
    return pd.Index(ids.to_numpy(), name="unit_id")


# ---------------------------------------------------------------- the panel
@dataclass
class Panel:
    """Validated raw data: the unit register and a (month, unit_id) x measure table."""

    data_dir: Path
    units: pd.DataFrame
    values: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def months(self) -> list[str]:
        return sorted(self.values.index.get_level_values("month").unique())

    @property
    def synthetic(self) -> bool:
        return (Path(self.data_dir) / SYNTHETIC_MARKER).exists()

    def cube(self, measure: str, months: list[str]) -> np.ndarray:
        """Values of one measure as a months x units array (NaN for a month without a file)."""
        wide = self.values[measure].unstack("unit_id").reindex(index=months, columns=self.units.index)
        return wide.to_numpy(dtype=float)

    def input_files(self) -> list[Path]:
        return [Path(self.data_dir) / UNITS_FILE] + [self.files[m] for m in sorted(self.files)]


def load_panel(data_dir: Path, months: list[str] | None = None, allow_blank: bool = False) -> Panel:
    """Read units.csv and the month files (all, or those of ``months`` that exist), validated.

    Raises InputError listing every problem found.
    """
    data_dir = Path(data_dir)
    log = ProblemLog()
    if not data_dir.is_dir():
        log.add(_display(data_dir), "data folder not found", "Pass --data with the folder that holds units.csv.")
        log.raise_if_any()
    units = read_units(data_dir, log)
    files = month_files(data_dir, log)
    wanted = sorted(files) if months is None else [m for m in months if m in files]
    frames = {}
    if units is not None:
        for month in wanted:
            frame = read_month(files[month], month, units, log, allow_blank=allow_blank)
            if frame is not None:
                frames[month] = frame
    log.raise_if_any()
    values = pd.concat(frames, names=["month", "unit_id"]) if frames else pd.DataFrame(
        columns=list(MEASURE_CODES), index=pd.MultiIndex.from_tuples([], names=["month", "unit_id"]))
    return Panel(data_dir, units, values, {m: files[m] for m in frames})


def require_month(panel_dir: Path, month: str) -> None:
    """Raise InputError if the data folder or the file for ``month`` is missing."""
    if not Path(panel_dir).is_dir():
        raise InputError(Problem(_display(Path(panel_dir)), "data folder not found",
                                 "Pass --data with the folder that holds units.csv and the month files."))
    if month not in month_files(panel_dir):
        raise InputError(Problem(_display(Path(panel_dir) / f"{month}.csv"), f"no data file for {month}",
                                 f"Add {month}.csv or {month}.xlsx to the data folder, or choose another month."))


# ---------------------------------------------------------------- writing
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
