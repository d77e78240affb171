"""A month's raw figures: one file ``YYYY-MM.csv`` / ``.xlsx``, or a folder ``YYYY-MM/`` of department files
merged by unit; read as offices produce them and validated against the register and the measure catalogue.

Reading one file (:func:`read_month_file`): pick the sheet (named like the
month, else the only one holding a table; hidden sheets are never read), refuse
a workbook saved without its formulas' values, find the header under a title,
place every column (measure, unit id or name, 序号, 备注; a unit of measure in a
header must be the measure's), resolve every row to a unit of the register in
force that month (old names and ids through the renames table), pass over note
rows, check a 合计 row against the column sums and drop it, and convert the
figures under the catalogue's rules and limits. Every problem is logged with its
file, sheet, cell and rule; everything recognised or ignored is a note of the
:class:`~qyb.data.intake.IntakeReport`.

A folder month (:func:`read_month`) reads each file for the measures it has and
merges them by unit: a measure given by two files is an error naming both, a
measure no file gives is missing, and the report records which file each
measure came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import MONTH_FILE_ID_COLUMNS, Catalogue, Measure, shipped_catalogue, suggest
from qyb.data.files import Grid, ReadLimits, display_path, read_grids, xlsx_uncached_formulas
from qyb.data.intake import IntakeReport
from qyb.data.layout import Table, find_table, header_row_index
from qyb.data.months import names_month, stated_month
from qyb.data.numbers import EMPTY, NEGATIVE, NOT_A_NUMBER, NOT_FINITE, NOT_WHOLE, CellRule, log_cells, parse, whole
from qyb.data.register import UNITS_FILE, in_force
from qyb.data.text import header_key, shorten
from qyb.errors import ProblemLog

__all__ = ["MONTH_FILE", "MONTH_FOLDER", "normalise_month_text", "month_files", "month_source_files", "read_month",
           "read_month_file", "FileValues"]

MONTH_FILE = re.compile(r"^(\d{4})-(\d{2})\.(csv|xlsx)$", re.IGNORECASE)
MONTH_FOLDER = re.compile(r"^(\d{4})-(\d{2})$")
_LOOKS_LIKE_MONTH_FILE = re.compile(r"^\d{4}-\d{1,2}\.(csv|xlsx)$", re.IGNORECASE)
_DATA_SUFFIXES = (".csv", ".xlsx")
_ID_CODES = {"unit_id", "unit_name"}


def normalise_month_text(text: str) -> str:
    """'2023-3', '2023/03', '2023-03-01', '2023年3月', 44986 (an Excel date) -> '2023-03'; else unchanged."""
    return stated_month(text) or text


# ---------------------------------------------------------------- finding the months
def month_files(data_dir: Path, log: ProblemLog | None = None) -> dict[str, Path]:
    """Map 'YYYY-MM' -> its file, or its folder of department files, for every month in ``data_dir``."""
    files: dict[str, Path] = {}
    for path in sorted(Path(data_dir).iterdir()) if Path(data_dir).is_dir() else []:
        m = (MONTH_FOLDER if path.is_dir() else MONTH_FILE).match(path.name)
        if m is None or not 1 <= int(m.group(2)) <= 12:
            if log is not None and not path.is_dir() and _LOOKS_LIKE_MONTH_FILE.match(path.name):
                log.add(display_path(path), "the file name is not a valid month",
                        "Name month files YYYY-MM.csv or YYYY-MM.xlsx, e.g. 2023-03.csv.",
                        zh="文件名不是有效月份", hint_zh="月度文件请命名为 YYYY-MM.csv 或 YYYY-MM.xlsx，如 2023-03.csv。",
                        code="bad_file_name")
            continue
        month = f"{m.group(1)}-{m.group(2)}"
        if month in files:
            if log is not None:
                shown = [f"{p.name}{'/' if p.is_dir() else ''}" for p in (files[month], path)]
                log.add(display_path(path), f"two files for {month} ({shown[0]} and {shown[1]})",
                        "Keep one file (or one folder of department files) per month.",
                        zh=f"{month} 有两份数据（{shown[0]} 和 {shown[1]}）", hint_zh="每月只保留一个文件（或一个部门文件夹）。",
                        code="two_files_for_month")
            continue
        files[month] = path
    return files


def month_source_files(path: Path) -> tuple[list[Path], list[Path]]:
    """``(data files, other files)`` of a month: the file itself, or the CSV/XLSX files of its folder
    (Excel's ``~$`` lock files and hidden files are not data)."""
    path = Path(path)
    if not path.is_dir():
        return [path], []
    data, other = [], []
    for p in sorted(path.iterdir()):
        ok = p.is_file() and p.suffix.lower() in _DATA_SUFFIXES and not p.name.startswith(("~$", "."))
        (data if ok else other).append(p)
    return data, other


# ---------------------------------------------------------------- one file
@dataclass
class FileValues:
    """The figures one file gives: ``values`` indexed by unit_id, one column per measure it carries."""

    file: str  # relative to the data folder, as run.json records it
    values: pd.DataFrame
    text: pd.DataFrame  # the cells' text, for messages
    table: Table


def _limits(catalogue: Catalogue, n_units: int) -> ReadLimits:
    lim = catalogue.limits
    return ReadLimits(max_rows=int(lim["rows_per_unit"]) * max(n_units, 1) + int(lim["spare_rows"]),
                      max_columns=int(lim["max_columns"]), max_cell_chars=int(lim["max_cell_chars"]))


def _labels(catalogue: Catalogue) -> dict[str, str]:
    labels = {label: col.code for col in MONTH_FILE_ID_COLUMNS for label in (col.code, col.name, *col.aliases)}
    for m in catalogue:
        labels.update({label: m.code for label in (m.code, m.name, *m.aliases)})
    return labels


def _is_table(grid: Grid, table: dict[str, str], unit_words) -> bool:
    if grid.empty:
        return False
    i = header_row_index(grid, table, _ID_CODES, unit_words)
    codes = {table.get(header_key(c, unit_words)[0]) for c in grid.rows[i][1] if c} - {None}
    return bool(codes & _ID_CODES) and len(codes) >= 2


def _choose_sheet(grids: list[Grid], month: str, labels: dict[str, str], unit_words, log: ProblemLog,
                  report: IntakeReport) -> Grid | None:
    """The sheet named like the month, else the only visible sheet holding a table (or any data); hidden
    sheets are never read. Every sheet passed over is a note."""
    if len(grids) == 1 and grids[0].sheet is None:
        return grids[0]
    name = grids[0].file
    table = {header_key(label)[0]: code for label, code in labels.items()}
    visible = [g for g in grids if not g.hidden and not g.empty]
    hidden = [g for g in grids if g.hidden and not g.empty]
    named = [g for g in visible if names_month(g.sheet, month)]
    tables = [g for g in visible if _is_table(g, table, unit_words)]
    if len(named) > 1:
        sheets = "、".join(g.sheet for g in named)
        log.add(name, f"several sheets are named like {month}: {', '.join(g.sheet for g in named)}",
                "Keep one sheet for the month, or rename the others.", zh=f"有多个工作表名称是 {month}：{sheets}",
                hint_zh="每月只保留一个工作表，或重命名其余工作表。", code="ambiguous_sheet")
        return None
    if named:
        chosen, why, why_en = named[0], "名称与月份一致", "named like the month"
    elif len(tables) == 1:
        chosen, why, why_en = tables[0], "唯一含数据表的工作表", "the only sheet holding a table of units"
    elif len(visible) == 1:
        chosen, why, why_en = visible[0], "唯一有内容的工作表", "the only sheet with data"
    elif not visible:
        sheets = "、".join(g.sheet for g in hidden)
        log.add(name, f"the only data are on hidden sheets ({', '.join(g.sheet for g in hidden)})",
                "Unhide the sheet that holds this month's figures (or copy them to a visible sheet named "
                f"{month}).", zh=f"数据只在隐藏的工作表中（{sheets}）",
                hint_zh=f"请取消隐藏本月数据所在的工作表，或将数据复制到名为 {month} 的工作表。", code="hidden_sheet_only")
        return None
    else:
        pool = tables or visible
        sheets = "、".join(g.sheet for g in pool)
        log.add(name, f"{len(pool)} sheets hold data ({', '.join(g.sheet for g in pool)}) and none is named like "
                f"{month}", f"Name the sheet of this month '{month}' (or 2024年1月), or delete the other sheets.",
                zh=f"有 {len(pool)} 个工作表含数据（{sheets}），没有一个以 {month} 命名",
                hint_zh=f"请把本月数据所在的工作表命名为 {month}，或删除其他工作表。", code="ambiguous_sheet")
        return None
    report.note(name, "sheet", f"读取工作表“{chosen.sheet}”（{why}）", f"read sheet '{chosen.sheet}' ({why_en})",
                sheet=chosen.sheet)
    for g in grids:
        if g is not chosen and not g.empty:
            if g.hidden:
                report.note(name, "hidden_sheet", f"隐藏的工作表“{g.sheet}”有内容，未读取（请确认不是本月数据）",
                            f"hidden sheet '{g.sheet}' holds data and was not read (check it is not this month's)",
                            sheet=g.sheet)
            else:
                report.note(name, "other_sheet", f"工作表“{g.sheet}”未读取", f"sheet '{g.sheet}' not read", sheet=g.sheet)
    return chosen


def read_month_file(path: Path, month: str, units: pd.DataFrame, log: ProblemLog, *,
                    catalogue: Catalogue | None = None, report: IntakeReport | None = None,
                    renames: pd.DataFrame | None = None, allow_blank: bool = False,
                    source: str | None = None) -> FileValues | None:
    """Read and validate one month file for the measures it carries (see the module docstring)."""
    catalogue = catalogue or shipped_catalogue()
    report = report if report is not None else IntakeReport()
    name = display_path(path)
    current = units[in_force(units, month)]
    grids = read_grids(path, log, _limits(catalogue, len(current)))
    if grids is None:
        return None
    labels = _labels(catalogue)
    grid = _choose_sheet(grids, month, labels, catalogue.unit_words, log, report)
    if grid is None:
        return None
    if grid.sheet is not None:
        count, missing = xlsx_uncached_formulas(grid)
        if missing:
            log.add(name, f"the workbook was not recalculated: {len(missing)} formula cells have no saved value "
                    f"(e.g. {', '.join(missing[:3])})", "Open it in Excel or WPS, save it, and read it again.",
                    sheet=grid.sheet, cell=missing[0], zh=f"工作簿未重新计算：{len(missing)} 个公式单元格没有保存的值",
                    hint_zh="请用 Excel 或 WPS 打开并保存后再读取。", code="not_recalculated")
            return None
        if count:
            report.note(name, "formulas", f"{count} 个公式单元格按保存的计算结果读取",
                        f"{count} formula cells read from their saved values", sheet=grid.sheet)
    if grid.invisible:
        cells = ", ".join(grid.invisible[:5]) + ("…" if len(grid.invisible) > 5 else "")
        report.note(name, "invisible_characters", f"{len(grid.invisible)} 个单元格中的不可见字符（零宽空格等）已删除：{cells}",
                    f"invisible characters (zero-width spaces...) removed from {len(grid.invisible)} cells: {cells}",
                    sheet=grid.sheet)
    table = find_table(grid, labels, log, report, id_codes=_ID_CODES, unit_words=catalogue.unit_words)
    if table is None:
        return None
    for number, stated in table.title_months:
        if stated != month:
            log.add(name, f"the title says {stated} but the file is for {month}",
                    f"Check that this is the {month} file (rename it, or correct the title).", row=number,
                    sheet=grid.sheet, zh=f"标题写的是 {stated}，但文件是 {month} 的",
                    hint_zh=f"请确认这是 {month} 的文件（更正文件名或标题）。", code="title_month")
    frame = table.frame
    for code, unit in table.units.items():
        m = catalogue[code] if code in catalogue else None
        if m is not None and not catalogue.units_agree(unit, m.unit):
            log.add(name, f"the header gives the unit {unit}, but {m.name} ({code}) is counted in {m.unit}",
                    f"Check the column: is it really {m.name}? Write its figures in {m.unit}.",
                    row=table.header_row, column=table.headers[code], zh=f"表头单位为“{unit}”，但{m.name}的计量单位是“{m.unit}”",
                    hint_zh=f"请核对该列是否为{m.name}，并以“{m.unit}”填报。", code="header_unit", **table.where(table.header_row,
                                                                                                  code))
    if not _ID_CODES & set(frame.columns):
        log.add(name, "missing required column unit_id (单位编码) or unit_name (村(社区)名称)",
                "Add a column that identifies the unit of each row.", row=table.header_row, column="unit_id",
                sheet=grid.sheet, zh="缺少单位编码或村(社区)名称列", hint_zh="请加上识别每行所属单位的列。",
                code="missing_unit_column")
        return None
    measures = [m for m in catalogue if m.code in frame.columns]
    codes = [m.code for m in measures]
    values, text = parse(frame, codes)
    figures = (text != "").any(axis=1) if codes else np.zeros(len(frame), dtype=bool)
    ids, keep = _resolve_units(table, units, current, month, renames, figures, name, log, report)
    if "month" in frame.columns:
        _check_month_column(table, month, keep, name, log, report)
    rows = frame.index.to_numpy()[keep]
    values, text, ids = values[keep], text[keep], ids[keep]
    population = units["population"].reindex(ids).to_numpy(dtype=float)
    values = _check_figures(table, measures, values, text, rows, population, month, catalogue, allow_blank, name,
                            log, report)
    _check_total_rows(table, measures, values, name, log, report)
    _check_pairs(measures, values, rows, catalogue, name, log, table.where)
    _check_unit_coverage(ids, current, table, name, log)
    out = pd.DataFrame(values, index=pd.Index(ids, name="unit_id"), columns=codes)
    text_frame = pd.DataFrame(text, index=out.index, columns=codes)
    keep_first = ~out.index.duplicated() & (out.index != "")
    return FileValues(source or Path(path).name, out[keep_first], text_frame[keep_first], table)


def _resolve_units(table: Table, units: pd.DataFrame, current: pd.DataFrame, month: str, renames, figures,
                   name: str, log: ProblemLog, report: IntakeReport) -> tuple[np.ndarray, np.ndarray]:
    """Each row's unit_id ('' when none), and which rows are data rows (note rows are passed over)."""
    frame = table.frame
    n = len(frame)
    by_id = frame["unit_id"].to_numpy(dtype=object) if "unit_id" in frame.columns else np.full(n, "", dtype=object)
    by_name = frame["unit_name"].to_numpy(dtype=object) if "unit_name" in frame.columns else np.full(n, "", object)
    renames = renames if renames is not None else pd.DataFrame(columns=["old_id", "old_name", "unit_id", "month"])
    all_ids = set(units.index)
    old_ids = dict(zip(renames["old_id"], renames["unit_id"]))
    old_ids.pop("", None)
    names_now = dict(zip(current["unit_name"], current.index))
    names_ever = dict(zip(units["unit_name"], units.index))
    old_names = dict(zip(renames["old_name"], renames["unit_id"]))
    old_names.pop("", None)
    ids = np.full(n, "", dtype=object)
    how = np.full(n, "", dtype=object)
    for i in range(n):  # a row of a month file: tens of them, resolved by dictionary look-ups
        uid, nm = by_id[i], by_name[i]
        if uid:
            if uid in all_ids:
                ids[i] = uid
            elif uid in old_ids:
                ids[i], how[i] = old_ids[uid], f"原编码 {uid} / old id {uid}"
        elif nm:
            if nm in names_now:
                ids[i] = names_now[nm]
            elif nm in old_names:
                ids[i], how[i] = old_names[nm], f"原名称 {nm} / old name {nm}"
            elif nm in names_ever:
                ids[i] = names_ever[nm]
    rows = frame.index.to_numpy()
    has_unit_text = (by_id != "") | (by_name != "")
    note_rows = ~figures & (ids == "")
    for i in np.flatnonzero(note_rows):
        text = " ".join(c for c in table.row_cells(int(rows[i])) if c)
        report.note(name, "note_row", f"第{rows[i]}行无数据，作为说明行略过：“{shorten(text)}”",
                    f"row {rows[i]} has no figures: read as a note and ignored", sheet=table.sheet, row=int(rows[i]))
    column = "unit_id" if "unit_id" in frame.columns else "unit_name"
    for i in np.flatnonzero(figures & ~has_unit_text):
        log.add(name, "the row has figures but no unit", "Fill in the unit's id or name, or delete the row.",
                int(rows[i]), column, zh="该行有数字但没有单位", hint_zh="请填写单位编码或名称，或删除该行。",
                code="row_without_unit", **table.where(int(rows[i]), column))
    choices = list(current["unit_name"]) + list(current.index)
    for i in np.flatnonzero(figures & has_unit_text & (ids == "")):
        col = "unit_id" if by_id[i] else "unit_name"
        shown = by_id[i] or by_name[i]
        close = suggest(shown, choices)
        label = {**dict(zip(current["unit_name"], current.index)), **{u: u for u in current.index}}
        hint_close = "、".join(f"{c}（{label[c]}）" if label.get(c, c) != c else c for c in close)
        log.add(name, f"unknown unit '{shorten(shown)}'",
                (f"Did you mean {', '.join(close)}? " if close else "")
                + f"Use a unit listed in {UNITS_FILE}, or add the unit to the register.", int(rows[i]), col,
                zh=f"未知单位“{shorten(shown)}”" + (f"，是否为 {hint_close}？" if close else ""),
                hint_zh=f"请使用 {UNITS_FILE} 中的单位，或把该单位加入登记表。", code="unknown_unit",
                **table.where(int(rows[i]), col))
    live = in_force(units, month)
    live_ids = set(units.index[live])
    for i in np.flatnonzero((ids != "") & figures):
        uid = ids[i]
        if uid not in live_ids:
            start, end = (units.at[uid, c] if c in units.columns else "" for c in ("valid_from", "valid_to"))
            span = (f"from {start}" if start else "") + (f" until {end}" if end else "")
            zh_span = (f"自 {start} 起" if start else "") + (f"至 {end} 止" if end else "")
            log.add(name, f"unit {uid} ({units.at[uid, 'unit_name']}) is not in force in {month} ({span.strip()})",
                    f"Remove the row, or correct valid_from/valid_to in {UNITS_FILE}.", int(rows[i]), column,
                    zh=f"单位 {uid}（{units.at[uid, 'unit_name']}）{month} 不在册（{zh_span}）",
                    hint_zh=f"请删除该行，或更正 {UNITS_FILE} 的启用/停用月份。", code="unit_not_in_force",
                    **table.where(int(rows[i]), column))
        if how[i]:
            report.note(name, "renamed_unit", f"第{rows[i]}行按{how[i].split(' / ')[0]} 读作 {uid} {units.at[uid, 'unit_name']}",
                        f"row {rows[i]}: {how[i].split(' / ')[1]} read as {uid} {units.at[uid, 'unit_name']}",
                        sheet=table.sheet, row=int(rows[i]))
    both = (by_id != "") & (by_name != "") & (ids != "")
    name_of = dict(zip(units.index, units["unit_name"]))
    for i in np.flatnonzero(both & (by_name != np.array([name_of.get(u, "") for u in ids], dtype=object))):
        uid, nm = ids[i], by_name[i]
        expected = name_of[uid]
        if old_names.get(nm) != uid:
            log.add(name, f"unit_id {uid} is {expected} in {UNITS_FILE}, but the row says '{shorten(nm)}'",
                    "Check which unit the row belongs to and fix the id or name.", int(rows[i]), "unit_name",
                    zh=f"单位编码 {uid} 在 {UNITS_FILE} 中是{expected}，但该行写的是“{shorten(nm)}”",
                    hint_zh="请核对该行属于哪个单位，更正编码或名称。", code="id_name_disagree",
                    **table.where(int(rows[i]), "unit_name"))
    dup = pd.Series(ids).duplicated(keep="first").to_numpy() & (ids != "") & figures
    for i in np.flatnonzero(dup):
        shown = by_id[i] or by_name[i]
        log.add(name, f"duplicate row for unit '{shown}'", "Keep one row per unit.", int(rows[i]), column,
                zh=f"单位“{shown}”有重复行", hint_zh="每个单位只保留一行。", code="duplicate_unit_row",
                **table.where(int(rows[i]), column))
    keep = ~note_rows & (ids != "")
    return ids, keep


def _check_unit_coverage(ids, current: pd.DataFrame, table: Table, name: str, log: ProblemLog) -> None:
    column = "unit_id" if "unit_id" in table.frame.columns else "unit_name"
    present = set(ids)
    for uid in current.index[~current.index.isin(list(present))]:
        nm = current.at[uid, "unit_name"]
        log.add(name, f"missing row for unit {uid} ({nm})", "Add a row for every unit in the register.",
                column=column, sheet=table.sheet, zh=f"缺少单位 {uid}（{nm}）的行", hint_zh="登记表中每个单位都要有一行。",
                code="missing_unit_row")


def _check_month_column(table: Table, month: str, keep, name: str, log: ProblemLog, report: IntakeReport) -> None:
    cells = table.frame["month"].to_numpy(dtype=object)
    serial = []
    for i in np.flatnonzero(keep):
        text = cells[i]
        if not text:
            continue
        row = int(table.frame.index[i])
        stated = stated_month(text)
        if stated is not None and text.isdigit() and len(text) == 5:
            serial.append(f"{text}")
        if stated != month:
            log.add(name, f"month '{text}' disagrees with the file name ({month})",
                    "Fix the month column or rename the file.", row, "month", zh=f"月份“{text}”与文件名（{month}）不一致",
                    hint_zh="请更正月份列或文件名。", code="month_disagrees", **table.where(row, "month"))
    if serial:
        report.note(name, "excel_date", f"月份列的 Excel 日期序号（如 {serial[0]}）按日期读取",
                    f"Excel date serials in the month column (e.g. {serial[0]}) read as dates", sheet=table.sheet)


def _check_figures(table: Table, measures: list[Measure], values: np.ndarray, text: np.ndarray, rows,
                   population: np.ndarray, month: str, catalogue: Catalogue, allow_blank: bool, name: str,
                   log: ProblemLog, report: IntakeReport) -> np.ndarray:
    """Every figure: a number, finite, >= 0, whole for counts, within the count limit and the plausible rate
    per resident; blanks are 0 for blank_is_zero measures, missing (NaN) under ``allow_blank``, else errors."""
    codes = [m.code for m in measures]
    if not codes:
        return values

    def where(row, code):
        return table.where(row, code)

    def label(code):
        return f"{code} ({catalogue[code].name})"

    blank = text == ""
    zero_ok = np.array([m.blank_is_zero for m in measures], dtype=bool)
    log_cells(log, name, ~blank & np.isnan(values), NOT_A_NUMBER, text, rows, codes, where, label)
    if not allow_blank:
        log_cells(log, name, blank & ~zero_ok, EMPTY, text, rows, codes, where, label)
    log_cells(log, name, np.isinf(values), NOT_FINITE, text, rows, codes, where, label)
    whole_kind = np.array([m.whole for m in measures], dtype=bool)
    finite = np.isfinite(values)
    log_cells(log, name, finite & whole_kind & ~whole(values), NOT_WHOLE, text, rows, codes, where, label)
    log_cells(log, name, finite & (values < 0), NEGATIVE, text, rows, codes, where, label)
    max_count = float(catalogue.limits["max_count"])
    too_large = CellRule("too_large", "'{text}' is larger than any count qyb accepts ({limit:,.0f})",
                         "“{text}”超过可接受的最大计数（{limit:,.0f}）", "Correct the figure in the file.", "请更正该数字。")
    big = finite & whole_kind & (values > max_count)
    log_cells(log, name, big, too_large, text, rows, codes, where, label, limit=max_count)
    default = float(catalogue.limits["max_per_capita"])
    per_capita = np.array([m.max_per_capita if m.max_per_capita is not None else (default if m.whole else np.inf)
                           for m in measures], dtype=float)
    with np.errstate(invalid="ignore"):
        cap = per_capita[None, :] * population[:, None]
        implausible = finite & ~big & (values > cap) & (values >= 0)
    rule = CellRule("implausible", "'{text}' is more than {rate:g} per resident (population {pop:,.0f}): implausible",
                    "“{text}”超过每名常住人口 {rate:g}（常住人口 {pop:,.0f}），不合常理",
                    "Check the figure (and the unit's population in units.csv).", "请核对该数字（及 units.csv 中的常住人口）。")
    log_cells(log, name, implausible, rule, text, rows, codes, where, label,
              rate=np.broadcast_to(per_capita[None, :], values.shape), pop=np.broadcast_to(population[:, None],
                                                                                           values.shape))
    zeros = blank & zero_ok
    if zeros.any():
        which = [codes[j] for j in np.flatnonzero(zeros.any(axis=0))]
        report.note(name, "blank_is_zero", f"{int(zeros.sum())} 个空白单元格按 0 读取（{'、'.join(which)}：目录规定空白即 0）",
                    f"{int(zeros.sum())} blank cells read as 0 ({', '.join(which)}: blank_is_zero in the catalogue)",
                    sheet=table.sheet)
    values = np.where(zeros, 0.0, values)
    return np.where(np.isfinite(values), values, np.nan)


def _check_total_rows(table: Table, measures: list[Measure], values: np.ndarray, name: str, log: ProblemLog,
                      report: IntakeReport) -> None:
    """A 合计/总计 row must equal the column sums of the unit rows (where it is filled); it is then dropped."""
    if table.total_rows is None or not len(table.total_rows):
        return
    codes = [m.code for m in measures]
    totals, text = parse(table.total_rows, codes)
    sums = values.sum(axis=0) if len(values) else np.zeros(len(codes))
    for i, row in enumerate(table.total_rows.index):
        checked = 0
        for j, code in enumerate(codes):
            if text[i, j] == "":
                continue
            if not np.isfinite(totals[i, j]) or not np.isfinite(sums[j]):
                continue
            checked += 1
            if abs(totals[i, j] - sums[j]) > 1e-6 * max(1.0, abs(sums[j])):
                log.add(name, f"the total row says {text[i, j]} but the units' figures sum to {sums[j]:g}",
                        "Correct the unit figures or the total (or delete the total row).", int(row),
                        f"{code} ({measures[j].name})", zh=f"合计行为 {text[i, j]}，但各单位合计为 {sums[j]:g}",
                        hint_zh="请更正各单位数字或合计（也可删除合计行）。", code="total_mismatch",
                        **table.where(int(row), code))
        report.note(name, "total_row", f"第{row}行是合计行：{checked} 列与各单位之和核对后略过",
                    f"row {row} is a total row: {checked} columns checked against the units' sums, then dropped",
                    sheet=table.sheet, row=int(row))
    for row in table.subtotal_rows:
        log.add(name, "a subtotal row (小计) inside the table", "Delete subtotal rows: keep one row per unit and at most "
                "one 合计 row.", int(row), sheet=table.sheet, zh="表内有小计行",
                hint_zh="请删除小计行：每个单位一行，最多一行合计。", code="subtotal_row")


def _check_pairs(measures: list[Measure], values: np.ndarray, rows, catalogue: Catalogue, name: str,
                 log: ProblemLog, where) -> None:
    """handled <= total for every pair both of whose columns are present in one file."""
    codes = [m.code for m in measures]
    for j, m in enumerate(measures):
        if m.kind != "handled" or m.total not in codes:
            continue
        k = codes.index(m.total)
        with np.errstate(invalid="ignore"):
            over = values[:, j] > values[:, k]
        total = catalogue[m.total]
        for i in np.flatnonzero(over):
            row = int(rows[i])
            log.add(name, f"{m.name} ({m.code}) = {values[i, j]:g} exceeds {total.name} ({total.code}) = "
                    f"{values[i, k]:g}", "Handled cannot exceed the total: correct one of the two cells.", row,
                    m.label, zh=f"{m.name} {values[i, j]:g} 超过{total.name} {values[i, k]:g}",
                    hint_zh="已处置数不能超过总数：请更正其中一个单元格。", code="handled_exceeds_total", **where(row, m.code))


# ---------------------------------------------------------------- one month (a file or a folder)
def read_month(path: Path, month: str, units: pd.DataFrame, log: ProblemLog, allow_blank: bool = False, *,
               catalogue: Catalogue | None = None, report: IntakeReport | None = None,
               renames: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Read and validate one month (a file, or a folder of department files merged by unit).

    Returns a frame indexed by unit_id (register order) with one column per catalogue measure (NaN for
    a unit not in force, or a measure not collected that month); None when the month has problems.
    """
    catalogue = catalogue or shipped_catalogue()
    report = report if report is not None else IntakeReport()
    path = Path(path)
    files, other = month_source_files(path)
    mark = len(log)
    prefix = f"{path.name}/" if path.is_dir() else ""
    report.read[month] = list(dict.fromkeys(display_path(p) for p in (path, *files, *other)))
    for p in other:
        report.note(display_path(p), "ignored_file", "不是 CSV/XLSX 数据文件，未读取", "not a CSV/XLSX data file, not read")
    if path.is_dir() and not files:
        log.add(display_path(path), f"the folder {path.name}/ holds no CSV or XLSX file",
                "Put the departments' files of the month in the folder.", zh=f"文件夹 {path.name}/ 中没有 CSV 或 XLSX 文件",
                hint_zh="请把本月各部门的文件放进该文件夹。", code="empty_month_folder")
        return None
    parts = [read_month_file(p, month, units, log, catalogue=catalogue, report=report, renames=renames,
                             allow_blank=allow_blank, source=prefix + p.name) for p in files]
    given: dict[str, str] = {}
    for part in parts:
        if part is None:
            continue
        for code in part.values.columns:
            if code in given:
                log.add(display_path(path / part.file[len(prefix):]) if prefix else part.file,
                        f"{catalogue[code].label} is given by two files: {given[code]} and {part.file}",
                        "Each measure comes from one department's file: delete the column from one of them.",
                        column=code, sheet=part.table.sheet, zh=f"{catalogue[code].name}（{code}）同时出现在 {given[code]} 和 "
                        f"{part.file} 中", hint_zh="每项指标只能由一个部门的文件报送：请从其中一个文件删去该列。",
                        code="measure_in_two_files")
            else:
                given[code] = part.file
    wanted = catalogue.in_force(month)
    for m in wanted:
        if m.code not in given and all(p is not None for p in parts):
            where = display_path(path)
            if path.is_dir():
                rule = f"missing required column {m.code} ({m.name}): no file of {path.name}/ gives it"
                zh = f"缺少必填列 {m.code}（{m.name}）：{path.name}/ 中没有文件报送该指标"
            else:
                rule, zh = f"missing required column {m.code} ({m.name})", f"缺少必填列 {m.code}（{m.name}）"
            sheet = parts[0].table.sheet if len(parts) == 1 and parts[0] is not None else None
            log.add(where, rule, "Add the column (0 where nothing happened).", row=None if path.is_dir() else
                    parts[0].table.header_row, column=m.code, sheet=sheet, zh=zh, hint_zh="请加上该列（没有发生填 0）。",
                    code="missing_column")
    if len(log) > mark or any(p is None for p in parts):
        return None
    current = in_force(units, month)
    codes = list(catalogue.codes)
    block = np.full((len(units), len(codes)), np.nan)
    for part in parts:
        cols = [c for c in part.values.columns if given.get(c) == part.file]
        rows = units.index.get_indexer(part.values.index)
        block[np.ix_(rows, [codes.index(c) for c in cols])] = part.values[cols].to_numpy(dtype=float)
    block[~current] = np.nan
    merged = pd.DataFrame(block, index=units.index, columns=codes)
    for m in catalogue:  # a pair split across two department files is checked once merged
        if m.kind == "handled" and m.code in given and m.total in given and given[m.code] != given[m.total]:
            total = catalogue[m.total]
            with np.errstate(invalid="ignore"):
                over = merged[m.code] > merged[m.total]
            for uid in merged.index[over]:
                log.add(display_path(path), f"{m.name} ({m.code}) = {merged.at[uid, m.code]:g} in {given[m.code]} "
                        f"exceeds {total.name} ({total.code}) = {merged.at[uid, m.total]:g} in {given[m.total]} for "
                        f"unit {uid}", "Handled cannot exceed the total: correct one of the two files.",
                        column=m.label, zh=f"单位 {uid} 的{m.name} {merged.at[uid, m.code]:g}（{given[m.code]}）超过"
                        f"{total.name} {merged.at[uid, m.total]:g}（{given[m.total]}）",
                        hint_zh="已处置数不能超过总数：请更正其中一个文件。", code="handled_exceeds_total")
    if len(log) > mark:
        return None
    report.sources.setdefault(month, {}).update({c: given[c] for c in catalogue.codes if c in given})
    if len(parts) > 1:
        report.note(display_path(path), "merged_files", f"{len(parts)} 个部门文件按单位合并："
                    + "；".join(f"{p.file}（{len(p.values.columns)} 项）" for p in parts),
                    f"{len(parts)} department files merged by unit")
    return merged
