"""Input problems: where (file, row, column), which rule, and what to do.

Row numbers are spreadsheet rows as Excel/WPS show them: the header is row 1,
the first data row is row 2.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    rule: str
    hint: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"第{self.row}行 (row {self.row})")
        if self.column is not None:
            where.append(f"列 {self.column}")
        return f"{', '.join(where)}: {self.rule}. {self.hint}"


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
        lines = [f"输入错误 (bad input): {len(self.problems)} problems found"]
        lines += [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
        return "\n".join(lines)


class OutputError(QybError):
    """An output location failed (read-only, full, not a folder). The command line exits with status 1."""


class ProblemLog:
    """Collects problems so a validator can report all of them, not just the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file, rule, hint, row=None, column=None) -> None:
        self.problems.append(Problem(str(file), rule, hint, row, column))

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)
