"""The unit register ``units.csv`` (one row per 村/社区: id, name, type, town, population) and how it changes
over time: ``valid_from`` / ``valid_to`` months (units merged, split or created) and a renames table
``unit_renames.csv`` (a unit known under an old id or name until a month).

A month is scored over the units in force that month (:func:`in_force`). A
renamed unit keeps its id, so its history stays whole; a file of a month before
the rename may still name it by its old name or old id, which the month reader
resolves through the renames table (and lists in the validation report).
Merged or split units end (``valid_to``) and new ones begin (``valid_from``):
their figures before that are missing, and a method's ``missing`` policy says
what then happens to baselines.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import UNIT_COLUMNS, Catalogue, shipped_catalogue
from qyb.data.files import ReadLimits, display_path, read_grids
from qyb.data.intake import IntakeReport
from qyb.data.layout import find_table
from qyb.data.months import stated_month
from qyb.data.numbers import NEGATIVE, NOT_A_NUMBER, NOT_FINITE, log_cells, parse, whole
from qyb.errors import ProblemLog

__all__ = ["UNITS_FILE", "RENAMES_FILE", "UNIT_TYPES", "read_units", "read_renames", "in_force", "RENAME_COLUMNS"]

UNITS_FILE = "units.csv"
RENAMES_FILE = "unit_renames.csv"
UNIT_TYPES = ("村", "社区")
#: columns of unit_renames.csv: code -> accepted headers
RENAME_COLUMNS = {"old_id": ("原编码", "原单位编码"), "old_name": ("原名称", "原村(社区)名称"),
                  "unit_id": ("单位编码", "现编码"), "month": ("更名月份", "启用新名月份")}

#: a unit_id is a code (it names figure files and links): letters (any script), digits, ``_``, ``-``, ``.``
UNIT_ID_RULE = re.compile(r"^[^\W_][\w.-]{0,63}$")


def _labels() -> dict[str, str]:
    return {label: c.code for c in UNIT_COLUMNS for label in (c.code, c.name, *c.aliases)}


def read_units(data_dir: Path, log: ProblemLog, report: IntakeReport | None = None,
               catalogue: Catalogue | None = None) -> pd.DataFrame | None:
    """Read and validate units.csv; returns a frame indexed by unit_id in file order.

    Population must be a finite whole number >= ``register.population_min`` of the catalogue;
    ``valid_from`` / ``valid_to`` (optional) are months.
    """
    catalogue = catalogue or shipped_catalogue()
    report = report if report is not None else IntakeReport()
    path = Path(data_dir) / UNITS_FILE
    name = display_path(path)
    grids = read_grids(path, log, ReadLimits(max_rows=100_000))
    if grids is None:
        return None
    table = find_table(grids[0], _labels(), log, report, id_codes={"unit_id"}, keep_unknown=True,
                       what="unit register")
    if table is None:
        return None
    frame = table.frame
    missing = [c for c in UNIT_COLUMNS if c.required and c.code not in frame.columns]
    for col in missing:
        log.add(name, f"missing required column {col.code} ({col.name})", "Add the column to the unit register.",
                row=table.header_row, column=col.code, zh=f"缺少必填列 {col.code}（{col.name}）",
                hint_zh="请在单位登记表中加上该列。", code="missing_column")
    if missing:
        return None

    def where(row, code):
        return table.where(row, code)

    def add(row, code, rule, hint, zh, hint_zh, rule_code):
        log.add(name, rule, hint, row, code, zh=zh, hint_zh=hint_zh, code=rule_code, **where(row, code))

    for row in frame.index[frame["unit_id"] == ""]:
        add(row, "unit_id", "unit without an id", "Give every unit a unit_id.", "单位没有编码", "请为每个单位填写编码。",
            "unit_without_id")
    for row in frame.index[frame["unit_id"].map(lambda v: v != "" and not UNIT_ID_RULE.match(v))]:
        uid = frame.at[row, "unit_id"]
        add(row, "unit_id", f"unit_id '{uid}' is not a code: letters, digits, '_', '-' and '.' (at most 64, starting "
            "with a letter or digit)", "Use a code such as XL01 (it names files and links; the name goes in "
            "unit_name).", f"单位编码“{uid}”不是编码", "请使用字母、数字组成的编码，如 XL01。", "bad_unit_id")
    for row in frame.index[frame["unit_id"].duplicated(keep="first") & (frame["unit_id"] != "")]:
        uid = frame.at[row, "unit_id"]
        add(row, "unit_id", f"duplicate unit_id '{uid}'", "Each unit appears once in the register.",
            f"单位编码“{uid}”重复", "每个单位在登记表中只出现一次。", "duplicate_unit_id")
    for row in frame.index[frame["population"] == ""]:
        uid = frame.at[row, "unit_id"]
        add(row, "population", f"unit '{uid}' has no population", "Enter the unit's 常住人口: rates per 10,000 need it.",
            f"单位“{uid}”没有常住人口", "请填写常住人口：万人率以它为分母。", "no_population")
    for col, zh in (("unit_name", "名称"), ("town", "镇街")):
        for row in frame.index[frame[col] == ""]:
            uid = frame.at[row, "unit_id"]
            add(row, col, f"unit '{uid}' has no {col}",
                "Fill the cell: ranks are computed within a town, and reports show the name.",
                f"单位“{uid}”没有{zh}", "请填写：排名在镇街内计算，报告显示名称。", f"no_{col}")
    types = catalogue.register.get("unit_types", UNIT_TYPES)
    for row in frame.index[~frame["unit_type"].isin(types)]:
        t = frame.at[row, "unit_type"]
        add(row, "unit_type", f"unit type '{t}' is not one of {'/'.join(types)}", f"Write {' or '.join(types)}.",
            f"单位类型“{t}”不是 {'/'.join(types)}", f"请填写 {'或'.join(types)}。", "bad_unit_type")
    validity = _validity(frame, name, add)
    named = frame["unit_name"] != ""
    for row in frame.index[frame["unit_name"].duplicated(keep=False) & named]:
        same = frame.index[(frame["unit_name"] == frame.at[row, "unit_name"])]
        if row != same[0] and _overlap(validity, same[0], row):
            nm = frame.at[row, "unit_name"]
            add(row, "unit_name", f"duplicate unit_name '{nm}'",
                "Unit names must be unique (month files may identify units by name).",
                f"单位名称“{nm}”重复", "单位名称必须唯一（月度文件可能按名称识别单位）。", "duplicate_unit_name")
    numeric = [c.code for c in UNIT_COLUMNS if c.kind == "number" and c.code in frame.columns]
    known = {c.code for c in UNIT_COLUMNS}
    numeric += [c for c in frame.columns if c not in known and _all_numbers(frame[c])]
    values, text = parse(frame, numeric)
    rows = frame.index.to_numpy()
    label = str
    filled = text != ""
    log_cells(log, name, filled & np.isnan(values), NOT_A_NUMBER, text, rows, numeric, where, label)
    log_cells(log, name, filled & np.isinf(values), NOT_FINITE, text, rows, numeric, where, label)
    log_cells(log, name, np.isfinite(values) & (values < 0), NEGATIVE, text, rows, numeric, where, label)
    _check_population(values[:, numeric.index("population")], text[:, numeric.index("population")], rows, name,
                      int(catalogue.register.get("population_min", 1)), add)
    nums = pd.DataFrame(np.where(np.isfinite(values), values, np.nan), index=frame.index, columns=numeric)
    units = frame.drop(columns=numeric).join(nums)
    for col in ("valid_from", "valid_to"):
        if col in units.columns:
            units[col] = validity[col]
    units = units[units["unit_id"] != ""].drop_duplicates("unit_id").set_index("unit_id")
    if {"valid_from", "valid_to"} & set(units.columns):
        report.note(name, "register_validity", "登记表含启用/停用月份：各月按当月在册单位评分",
                    "the register carries valid_from/valid_to: each month is scored over the units in force")
    return units


def _validity(frame: pd.DataFrame, name: str, add) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index, data={"valid_from": "", "valid_to": ""})
    for col, zh in (("valid_from", "启用月份"), ("valid_to", "停用月份")):
        if col not in frame.columns:
            continue
        for row, text in frame[col].items():
            if text == "":
                continue
            month = stated_month(text)
            if month is None:
                add(row, col, f"'{text}' is not a month", "Write the month as YYYY-MM, e.g. 2021-07.",
                    f"{zh}“{text}”不是月份", "请按 YYYY-MM 填写，如 2021-07。", "not_a_month")
            else:
                out.at[row, col] = month
    bad = (out["valid_from"] != "") & (out["valid_to"] != "") & (out["valid_to"] < out["valid_from"])
    for row in out.index[bad]:
        add(row, "valid_to", f"valid_to {out.at[row, 'valid_to']} is before valid_from {out.at[row, 'valid_from']}",
            "Fix one of the two months.", f"停用月份 {out.at[row, 'valid_to']} 早于启用月份 {out.at[row, 'valid_from']}",
            "请更正其中一个月份。", "bad_validity")
    return out


def _overlap(validity: pd.DataFrame, a, b) -> bool:
    fa, ta = validity.at[a, "valid_from"] or "0000-00", validity.at[a, "valid_to"] or "9999-99"
    fb, tb = validity.at[b, "valid_from"] or "0000-00", validity.at[b, "valid_to"] or "9999-99"
    return fa <= tb and fb <= ta


def _check_population(pop: np.ndarray, text: np.ndarray, rows, name: str, minimum: int, add) -> None:
    """常住人口: a finite whole number >= ``minimum`` (the denominator of every rate)."""
    finite = np.isfinite(pop)
    for i in np.flatnonzero(finite & ~whole(pop)):
        add(int(rows[i]), "population", f"population '{text[i]}' is not a whole number",
            "Enter the unit's 常住人口 as a whole number of residents.", f"常住人口“{text[i]}”不是整数",
            "请填写常住人口的整数人数。", "population_not_whole")
    low = finite & whole(pop) & (pop < minimum)
    rule = "must be greater than 0" if minimum == 1 else f"must be at least {minimum}"
    for i in np.flatnonzero(low):
        add(int(rows[i]), "population", f"population '{text[i]}' {rule}", "Enter the unit's 常住人口.",
            f"常住人口“{text[i]}”应不少于 {minimum}", "请填写常住人口。", "population_too_small")


def _all_numbers(column: pd.Series) -> bool:
    filled = column[column != ""]
    return len(filled) > 0 and pd.to_numeric(filled.str.replace(",", "", regex=False), errors="coerce").notna().all()


def in_force(units: pd.DataFrame, month: str) -> np.ndarray:
    """Which units of the register are in force in ``month`` (``valid_from <= month <= valid_to``)."""
    ok = np.ones(len(units), dtype=bool)
    if "valid_from" in units.columns:
        start = units["valid_from"].fillna("").astype(str).to_numpy()
        ok &= (start == "") | (start <= month)
    if "valid_to" in units.columns:
        end = units["valid_to"].fillna("").astype(str).to_numpy()
        ok &= (end == "") | (month <= end)
    return ok


def read_renames(data_dir: Path, units: pd.DataFrame, log: ProblemLog, report: IntakeReport) -> pd.DataFrame:
    """``unit_renames.csv`` (optional): rows ``old_id, old_name, unit_id, month`` -- until ``month`` (the first
    month under the new name) the unit ``unit_id`` was known as ``old_id`` / ``old_name``."""
    path = Path(data_dir) / RENAMES_FILE
    empty = pd.DataFrame(columns=["old_id", "old_name", "unit_id", "month"])
    if not path.is_file():
        return empty
    name = display_path(path)
    grids = read_grids(path, log, ReadLimits(max_rows=100_000))
    if grids is None:
        return empty
    labels = {label: code for code, names in RENAME_COLUMNS.items() for label in (code, *names)}
    table = find_table(grids[0], labels, log, report, id_codes={"unit_id"}, what="renames table")
    if table is None:
        return empty
    frame = table.frame
    for col in ("unit_id", "month"):
        if col not in frame.columns:
            log.add(name, f"missing required column {col}", "Columns: old_id, old_name, unit_id, month.",
                    row=table.header_row, zh=f"缺少必填列 {col}", hint_zh="列：原编码、原名称、单位编码、更名月份。",
                    code="missing_column")
            return empty
    for col in ("old_id", "old_name"):
        if col not in frame.columns:
            frame[col] = ""

    def add(row, code, rule, hint, zh, hint_zh, rule_code):
        log.add(name, rule, hint, row, code, zh=zh, hint_zh=hint_zh, code=rule_code, **table.where(row, code))

    months = frame["month"].map(lambda t: stated_month(t) or "")
    for row in frame.index[months == ""]:
        add(row, "month", f"'{frame.at[row, 'month']}' is not a month", "Write the first month under the new name.",
            f"“{frame.at[row, 'month']}”不是月份", "请填写启用新名称的第一个月，如 2023-01。", "not_a_month")
    for row in frame.index[~frame["unit_id"].isin(units.index)]:
        add(row, "unit_id", f"unit_id '{frame.at[row, 'unit_id']}' is not in {UNITS_FILE}",
            "Name the unit's current id.", f"单位编码“{frame.at[row, 'unit_id']}”不在 {UNITS_FILE} 中",
            "请填写该单位现在的编码。", "unknown_unit")
    clash = (frame["old_id"] != "") & frame["old_id"].isin(units.index) & (frame["old_id"] != frame["unit_id"])
    for row in frame.index[clash]:
        add(row, "old_id", f"old id '{frame.at[row, 'old_id']}' is also a unit of {UNITS_FILE}",
            "An old id belongs to one unit only: remove it from the register or from the renames table.",
            f"原编码“{frame.at[row, 'old_id']}”同时是登记表中的单位", "原编码只能属于一个单位。", "rename_clash")
    for row in frame.index[(frame["old_id"] == "") & (frame["old_name"] == "")]:
        add(row, "old_name", "neither an old id nor an old name", "Give the old id, the old name or both.",
            "原编码和原名称都为空", "请填写原编码或原名称。", "rename_empty")
    out = frame.assign(month=months)[["old_id", "old_name", "unit_id", "month"]].reset_index(drop=True)
    report.note(name, "register_renames", f"更名表：{len(out)} 条更名，旧名称或旧编码按现单位读取",
                f"renames table: {len(out)} renames; old names and ids are read as the current unit")
    return out

