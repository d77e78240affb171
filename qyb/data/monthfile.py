"""Month files ``YYYY-MM.csv`` / ``YYYY-MM.xlsx``: finding them and reading one, validated against the
register and the measure catalogue (every problem logged, with file, row and column)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from qyb.data.catalogue import MEASURE_BY_CODE, MEASURE_CODES, header_aliases
from qyb.data.files import display_path, numbers, read_table, rename_headers
from qyb.data.register import UNITS_FILE
from qyb.errors import ProblemLog

__all__ = ["MONTH_FILE", "normalise_month_text", "month_files", "read_month"]

MONTH_FILE = re.compile(r"^(\d{4})-(\d{2})\.(csv|xlsx)$", re.IGNORECASE)
_LOOKS_LIKE_MONTH_FILE = re.compile(r"^\d{4}-\d{1,2}\.(csv|xlsx)$", re.IGNORECASE)


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
                log.add(display_path(path), "the file name is not a valid month",
                        "Name month files YYYY-MM.csv or YYYY-MM.xlsx, e.g. 2023-03.csv.")
            continue
        month = f"{m.group(1)}-{m.group(2)}"
        if month in files:
            if log is not None:
                log.add(display_path(path), f"two files for {month} ({files[month].name} and {path.name})",
                        "Keep one file per month.")
            continue
        files[month] = path
    return files


def read_month(path: Path, month: str, units: pd.DataFrame, log: ProblemLog,
               allow_blank: bool = False) -> pd.DataFrame | None:
    """Read and validate one month file; returns a frame indexed by unit_id (register order)."""
    name = display_path(path)
    frame = read_table(path, log)
    if frame is None:
        return None
    frame = rename_headers(frame, header_aliases(), name, log)
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
    values = numbers(frame, present, name, log, integer=True, allow_blank=allow_blank, labels=labels)
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
