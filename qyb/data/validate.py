"""``qyb validate PATH [--month M] [--method NAME]``: check a raw data folder (or one month) and report every
problem at once, with the validation report of what was recognised or ignored in each file.

Beyond each file's own checks it checks what scoring needs: every month the
method reads to score a month (the month itself, the 同比 and 3-month
baselines, any pooled window: ``method.months_read(month)``) has a file, and
in it every unit in force in the scored month has the measures the method
reads -- so a folder that validates also scores. Without ``--month`` this is
checked for every month of the folder under the method in force in it (from
its ``effective_from`` on).

This module sees a method only through a ``method_for(month)`` callable that
returns an object with ``name``, ``missing``, ``effective_from``,
``measure_entries``, ``months_read(month)`` and ``measures_by_month(month)``
(a :class:`qyb.method.Method`), or raises InputError when no method is in force.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qyb.data.catalogue import load_catalogue
from qyb.data.files import display_path
from qyb.data.intake import IntakeReport
from qyb.data.monthfile import MONTH_FILE, MONTH_FOLDER, month_files, read_month
from qyb.data.months import month_number
from qyb.data.register import UNITS_FILE, in_force, read_renames, read_units
from qyb.errors import InputError, Problem, ProblemLog

__all__ = ["Validation", "validate_path"]


@dataclass
class Validation:
    """What ``qyb validate`` found: the summary line, the intake report and the problems (none when ok)."""

    summary: str
    report: IntakeReport
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # "2023-03 (v2): reads 2022-03, ..." per month checked

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = []
        if self.report.notes:
            lines.append("识别与略过 (recognised and ignored):")
            lines += ["  " + line for line in self.report.lines()]
        if self.checked:
            lines.append("评分所需月份 (months scoring reads):")
            lines += [f"  {c}" for c in self.checked]
        lines.append(self.summary)
        return "\n".join(lines)

    def raise_if_problems(self) -> None:
        if self.problems:
            raise InputError(self.problems)


def _target(path: Path, log: ProblemLog) -> tuple[Path, dict[str, Path] | None]:
    """The data folder and, for one month file or folder, that month only."""
    if path.is_dir() and MONTH_FOLDER.match(path.name) and (path.parent / UNITS_FILE).is_file():
        return path.parent, {path.name: path}
    if path.is_dir():
        return path, None
    if path.name == UNITS_FILE:
        return path.parent, {}
    m = MONTH_FILE.match(path.name)
    if m is None:
        log.add(str(path), "the file name is not a month", "Name month files YYYY-MM.csv or YYYY-MM.xlsx.",
                zh="文件名不是月份", hint_zh="月度文件请命名为 YYYY-MM.csv 或 YYYY-MM.xlsx。", code="bad_file_name")
        return path.parent, {}
    return path.parent, {f"{m.group(1)}-{m.group(2)}": path}


def validate_path(path: Path, month: str | None = None,
                  method_for: Callable[[str], object] | None = None) -> Validation:
    """Validate; return the :class:`Validation` (its ``problems`` list every problem found)."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), "not found", "Give a data folder or a month file.", zh="找不到该路径",
                                 hint_zh="请给出数据文件夹或月度文件。", code="not_found"))
    log = ProblemLog()
    folder, only = _target(path, log)
    all_files = month_files(folder, log)
    files = all_files if only is None else only
    if month is not None and only is None:
        files = {m: p for m, p in all_files.items() if m == month}
        if month not in all_files:
            log.add(display_path(folder / f"{month}.csv"), f"no data file for {month}",
                    f"Add {month}.csv or {month}.xlsx (or a folder {month}/) to the data folder.",
                    zh=f"没有 {month} 的数据文件",
                    hint_zh=f"请在数据文件夹中加入 {month}.csv 或 {month}.xlsx（或文件夹 {month}/）。", code="missing_month")
    given = sorted(files)
    methods = _methods(given if month is None else [month], method_for)
    needs = {m: meth.months_read(m) for m, meth in methods.items() if meth is not None}
    extra = {n for months in needs.values() for n in months if n in all_files} - set(files)
    files = {**files, **{m: all_files[m] for m in extra}}  # baselines of the months checked are read too
    report = IntakeReport()
    base = load_catalogue(folder)
    units = read_units(folder, log, report, base)
    renames = read_renames(folder, units, log, report) if units is not None else None
    read: dict[str, object] = {}
    if units is not None:
        for mo in sorted(files):
            meth = methods.get(mo) or next((methods[t] for t in methods if mo in needs.get(t, [])), None)
            catalogue = _catalogue(folder, meth)
            allow_blank = meth is not None and meth.missing != "fail"
            frame = read_month(files[mo], mo, units, log, allow_blank, catalogue=catalogue, report=report,
                               renames=renames)
            if frame is not None:
                read[mo] = frame
    checked = []
    if units is not None:
        for mo, meth in methods.items():
            if meth is not None:
                checked.append(_check_needs(mo, meth, needs[mo], all_files, read, units, folder, log))
    span = f"{len(given)} month file(s) {given[0]}..{given[-1]}" if given else "no month files"
    n_units = 0 if units is None else len(units)
    summary = (f"OK: {UNITS_FILE} ({n_units} units), {span}: no problems found" if not log else
               f"{UNITS_FILE} ({n_units} units), {span}: {len(log)} problem(s)")
    return Validation(summary, report, list(log.problems), checked)


def _methods(months: list[str], method_for) -> dict[str, object]:
    """The method scoring each month (None where none is in force, or before the method's effective_from)."""
    out: dict[str, object] = {}
    if method_for is None:
        return out
    for mo in months:
        try:
            meth = method_for(mo)
        except InputError:
            meth = None
        if meth is not None and month_number(meth.effective_from) > month_number(mo) and len(months) > 1:
            meth = None  # a whole folder: months before the method's start are history, not scored
        out[mo] = meth
    return out


def _catalogue(folder: Path, meth):
    entries = getattr(meth, "measure_entries", None) or None
    source = str(getattr(meth, "source", "method spec"))
    return load_catalogue(folder, json.loads(json.dumps(entries)) if entries else None, source)


def _check_needs(month: str, meth, months_read: list[str], files: dict, read: dict, units, folder: Path,
                 log: ProblemLog) -> str:
    """Every month ``meth`` reads to score ``month`` is present, and complete for the units in force: each
    measure read in it has a figure for every unit in force in ``month`` (under a ``missing: fail`` method)."""
    name = getattr(meth, "name", "method")
    by_month = meth.measures_by_month(month)
    live = in_force(units, month)
    live_ids = units.index[live]
    gaps = []
    for mo in months_read:
        what = "the month scored" if mo == month else f"a baseline of {month}"
        zh_what = "评分月份" if mo == month else f"{month} 的基期"
        if mo not in files:
            gaps.append(mo)
            log.add(display_path(folder / f"{mo}.csv"), f"no data file for {mo}, {what} under {name}",
                    f"Add {mo}.csv or {mo}.xlsx to the data folder: scoring {month} under {name} reads "
                    f"{', '.join(months_read)}.", zh=f"缺少 {mo} 的数据文件（{zh_what}，方法 {name}）",
                    hint_zh=f"请在数据文件夹中加入 {mo}.csv 或 {mo}.xlsx：按方法 {name} 为 {month} 评分需读取 "
                    f"{'、'.join(months_read)}。", code="missing_baseline_month")
            continue
        frame = read.get(mo)
        if frame is None or meth.missing != "fail":
            continue
        then = in_force(units, mo)[live]
        for c in sorted(by_month.get(mo, ())):
            if c not in frame.columns:
                log.add(display_path(files[mo]), f"the method {name} reads {c}, which the data do not hold",
                        "Declare the measure in catalogue.yaml of the data folder or in the spec's measures: list.",
                        column=c, zh=f"方法 {name} 需要指标 {c}，数据中没有",
                        hint_zh="请在 catalogue.yaml 或方法的 measures: 中声明该指标。", code="unknown_measure")
                continue
            blank = np.isnan(frame.loc[live, c].to_numpy(dtype=float))
            for reason, zh_reason, mask in ((f"the units are not in force in {mo}", f"这些单位 {mo} 不在册", ~then),
                                            (f"{c} is not collected in {mo}", f"{mo} 未采集该指标", then)):
                ids = list(live_ids[blank & mask])
                if not ids:
                    continue
                shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
                log.add(display_path(files[mo]), f"{c} is missing in {mo} for {len(ids)} unit(s) in force in {month} "
                        f"({shown}), {what} under {name}: {reason}",
                        "Score under a method with missing: impute_mean, or add the figures.", column=c,
                        zh=f"{mo} 缺少 {len(ids)} 个单位的 {c}（{zh_what}，方法 {name}）：{zh_reason}",
                        hint_zh="请补齐数据，或改用 missing: impute_mean 的方法。", code="incomplete_baseline")
    state = "缺 " + "、".join(gaps) if gaps else "齐全 (present)"
    return f"{month} ({name}): 读取 (reads) {', '.join(months_read)} — {state}"
