"""``qyb validate PATH``: check a raw data folder (or one month file) and report every problem."""
from __future__ import annotations

from pathlib import Path

from qyb.data.monthfile import MONTH_FILE, month_files, read_month
from qyb.data.register import UNITS_FILE, read_units
from qyb.errors import InputError, Problem, ProblemLog


def validate_path(path: Path) -> str:
    """Validate; return a summary on success, raise InputError listing every problem otherwise."""
    path = Path(path)
    log = ProblemLog()
    if path.is_file():
        folder, only = path.parent, path
    elif path.is_dir():
        folder, only = path, None
    else:
        raise InputError(Problem(str(path), "not found", "Give a data folder or a month file."))
    units = read_units(folder, log)
    if only is not None and only.name != UNITS_FILE:
        m = MONTH_FILE.match(only.name)
        if m is None:
            log.add(str(only), "the file name is not a month", "Name month files YYYY-MM.csv or YYYY-MM.xlsx.")
            files = {}
        else:
            files = {f"{m.group(1)}-{m.group(2)}": only}
    else:
        files = month_files(folder, log) if only is None else {}
    if units is not None:
        for month, file in files.items():
            read_month(file, month, units, log)
    log.raise_if_any()
    months = sorted(files)
    span = f"{len(months)} month file(s) {months[0]}..{months[-1]}" if months else "no month files"
    return f"OK: {UNITS_FILE} ({len(units)} units), {span}: no problems found"
