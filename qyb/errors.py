"""Input problems: where (file, sheet, cell, row, column), which rule, and what to do.

Row numbers are spreadsheet rows as Excel/WPS show them (the header of a plain
file is row 1, the first data row row 2); ``cell`` names a cell the way the
spreadsheet does (``C7``). A problem carries its rule in English (``rule``,
``hint``) and, where the reader writes one, in Chinese (``zh``, ``hint_zh``):
messages put the Chinese first. ``code`` names the rule for the summary count
of :meth:`InputError.message` (problems without one are counted by ``rule``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


def location(file: str, sheet: str | None = None, cell: str | None = None, row: int | None = None,
             column: str | None = None) -> str:
    """Where something is, as messages say it: file, sheet, cell (``C7``), row, column."""
    where = [file]
    if sheet is not None:
        where.append(f"工作表“{sheet}” (sheet)")
    if cell is not None:
        where.append(f"单元格 {cell}")
    if row is not None:
        where.append(f"第{row}行 (row {row})")
    if column is not None:
        where.append(f"列 {column}")
    return ", ".join(where)


@dataclass(frozen=True)
class Problem:
    file: str
    rule: str
    hint: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None
    cell: str | None = None
    zh: str | None = None
    hint_zh: str | None = None
    code: str | None = None

    def where(self) -> str:
        return location(self.file, self.sheet, self.cell, self.row, self.column)

    def __str__(self) -> str:
        rule = f"{self.zh} ({self.rule})" if self.zh else self.rule
        hint = f"{self.hint_zh} / {self.hint}" if self.hint_zh else self.hint
        return f"{self.where()}: {rule}. {hint}"

    @property
    def kind(self) -> str:
        """The rule's name for counting: ``code`` when given, else the rule text."""
        return self.code or self.rule


class QybError(Exception):
    """Base of the errors qyb raises on purpose; catch this to catch them all (and nothing else)."""


class InputError(QybError):
    """Bad input: one or more problems found. The command line exits with status 2."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.message())

    def message(self) -> str:
        if len(self.problems) == 1:
            return f"输入错误 (bad input): {self.problems[0]}"
        lines = [f"输入错误 (bad input): 发现 {len(self.problems)} 个问题 ({len(self.problems)} problems found)"]
        lines += [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
        lines.append("按规则汇总 (problems by rule): " + "; ".join(f"{k} ×{n}" for k, n in self.counts().items()))
        return "\n".join(lines)

    def counts(self) -> dict[str, int]:
        """How many problems break each rule, most frequent first."""
        return dict(Counter(p.kind for p in self.problems).most_common())


class OutputError(QybError):
    """An output location failed (read-only, full, not a folder). The command line exits with status 1."""


class ProblemLog:
    """Collects problems so a validator can report all of them, not just the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file, rule, hint, row=None, column=None, **where) -> None:
        """Record one problem; ``where`` may add ``sheet``, ``cell``, ``zh``, ``hint_zh`` and ``code``."""
        self.problems.append(Problem(str(file), rule, hint, row, column, **where))

    def extend(self, problems) -> None:
        self.problems.extend(problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)
