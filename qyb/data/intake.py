"""The validation report of an intake: what was recognised or ignored in each file, and which file each
measure of each month came from. Nothing is guessed silently: every quirk a reader accepts (a title row,
a 序号 column, a 合计 row, a unit in a header, a hidden sheet passed over...) is a :class:`Note` here.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from qyb.errors import location

__all__ = ["Note", "IntakeReport", "NOTE_LABELS"]

#: a short Chinese label per kind of note, for one-line summaries
NOTE_LABELS = {"sheet": "所读工作表", "other_sheet": "未读的工作表", "hidden_sheet": "隐藏工作表（未读）",
               "title_row": "标题行", "header_row": "表头行", "row_number_column": "序号列",
               "notes_column": "备注列", "header_variant": "表头变体（计量单位、空格、换行）",
               "total_row": "合计行（已核对）", "note_row": "说明行", "formulas": "公式（按保存值）",
               "invisible_characters": "不可见字符", "excel_date": "Excel 日期序号", "blank_is_zero": "空白按 0",
               "renamed_unit": "更名单位", "merged_files": "部门文件合并", "ignored_file": "非数据文件",
               "register_validity": "单位启用/停用月份", "register_renames": "单位更名表"}


@dataclass(frozen=True)
class Note:
    """One thing a reader recognised or ignored: ``what`` names the quirk (``title_row``, ``total_row``...)."""

    file: str
    what: str
    zh: str
    en: str
    sheet: str | None = None
    row: int | None = None
    cell: str | None = None

    def __str__(self) -> str:
        return f"{location(self.file, self.sheet, self.cell, None if self.cell else self.row)}: {self.zh} ({self.en})"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class IntakeReport:
    """Notes per file and the provenance of every measure: ``sources[month][measure] = file``."""

    notes: list[Note] = field(default_factory=list)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    read: dict[str, list[str]] = field(default_factory=dict)  # month -> the files (and folder) read, as named in notes

    def note(self, file: str, what: str, zh: str, en: str, **where) -> None:
        self.notes.append(Note(file, what, zh, en, **where))

    def notes_of(self, month: str) -> list[Note]:
        """The notes on the files of ``month``."""
        return self.for_files(self.read.get(month, []))

    def for_files(self, files) -> list[Note]:
        files = set(files)
        return [n for n in self.notes if n.file in files]

    def files_of(self, month: str) -> list[str]:
        """The files a month's measures came from, in order of first use."""
        return list(dict.fromkeys(self.sources.get(month, {}).values()))

    def measures_by_file(self, month: str) -> dict[str, list[str]]:
        """``{file: [measures]}`` for a month: the record ``run.json`` keeps."""
        out: dict[str, list[str]] = defaultdict(list)
        for measure, file in self.sources.get(month, {}).items():
            out[file].append(measure)
        return dict(out)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for n in self.notes:
            out[n.what] += 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def summary(self, files=None) -> list[str]:
        """One line per file: how many notes of each kind (the detail is in :meth:`lines`)."""
        notes = self.notes if files is None else self.for_files(files)
        out = []
        for file in dict.fromkeys(n.file for n in notes):
            kinds: dict[str, int] = defaultdict(int)
            for n in notes:
                if n.file == file:
                    kinds[n.what] += 1
            out.append(f"{file}: " + "；".join(f"{NOTE_LABELS.get(k, k)} {v}" if v > 1 else NOTE_LABELS.get(k, k)
                                              for k, v in kinds.items()))
        return out

    def lines(self, files=None) -> list[str]:
        """The report as text lines, grouped by file."""
        notes = self.notes if files is None else self.for_files(files)
        out = []
        for file in dict.fromkeys(n.file for n in notes):
            out.append(f"{file}:")
            out += [f"  - {str(n)[len(file) + 2:]}" for n in notes if n.file == file]
        return out

    def window(self, months) -> IntakeReport:
        """The report restricted to the files of ``months``."""
        months = set(months)
        sources = {m: dict(v) for m, v in self.sources.items() if m in months}
        read = {m: list(v) for m, v in self.read.items() if m in months}
        files = {f for v in read.values() for f in v}
        return IntakeReport([n for n in self.notes if n.file in files or n.what.startswith("register")], sources,
                            read)
