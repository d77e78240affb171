"""The unit register ``units.csv``: one row per 村/社区 with its id, name, type, town and population."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from qyb.data.catalogue import UNIT_COLUMNS, unit_header_aliases
from qyb.data.files import display_path, numbers, read_table, rename_headers
from qyb.errors import ProblemLog

__all__ = ["UNITS_FILE", "UNIT_TYPES", "read_units"]

UNITS_FILE = "units.csv"
UNIT_TYPES = ("村", "社区")


def read_units(data_dir: Path, log: ProblemLog) -> pd.DataFrame | None:
    """Read and validate units.csv; returns a frame indexed by unit_id in file order."""
    path = Path(data_dir) / UNITS_FILE
    name = display_path(path)
    frame = read_table(path, log)
    if frame is None:
        return None
    aliases = unit_header_aliases()
    aliases.update({h: h for h in frame.columns if h not in aliases})  # other columns: extra unit attributes
    frame = rename_headers(frame, aliases, name, log)
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
    nums = numbers(filled, numeric, name, log, integer=False, allow_blank=True)
    pop = nums["population"]
    for row in pop.index[pop.notna() & (pop <= 0)]:
        log.add(name, f"population '{frame.at[row, 'population']}' must be greater than 0",
                "Enter the unit's 常住人口.", row, "population")
    units = frame.drop(columns=numeric).join(nums)
    units = units[units["unit_id"] != ""].drop_duplicates("unit_id").set_index("unit_id")
    return units



def _all_numbers(column: pd.Series) -> bool:
    filled = column[column != ""]
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().all()
