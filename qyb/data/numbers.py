"""Cells to numbers, and one problem per bad cell (its sheet, cell, row and column, the rule, what to do).

:func:`parse` reads a block of text cells as floats (``1,234`` with thousands
separators is 1234, ``2,9`` is not a number); :class:`CellRule` is one rule a
cell may break, with its English and Chinese wording; :func:`log_cells` logs
every cell a mask marks. Blocks are whole arrays: no loop over units.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qyb.errors import ProblemLog

__all__ = ["parse", "CellRule", "log_cells", "whole", "NOT_A_NUMBER", "EMPTY", "NOT_WHOLE", "NEGATIVE",
           "NOT_FINITE"]


def parse(frame: pd.DataFrame, columns) -> tuple[np.ndarray, np.ndarray]:
    """``(values, text)`` of ``frame[columns]``: floats (NaN where blank or not a number) and the cells' text."""
    columns = list(columns)
    text = frame[columns].to_numpy(dtype=object).astype(str) if len(frame) else np.empty((0, len(columns)), str)
    flat = text.ravel()
    if set("".join(flat)) <= _PLAIN:  # digits, signs, points and exponents only: numpy parses them at once
        try:
            return np.where(flat == "", "nan", flat).astype(float).reshape(text.shape), text
        except ValueError:
            pass  # '1-2', '1e', '..': the careful path below says which cells are not numbers
    cells = pd.Series(flat, dtype=object)
    thousands = cells.str.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
    flat = pd.to_numeric(cells.where(~thousands, cells.str.replace(",", "", regex=False)), errors="coerce")
    return flat.to_numpy(dtype=float).reshape(text.shape), text


_PLAIN = set("0123456789.+-eE")


def whole(values: np.ndarray) -> np.ndarray:
    """True where a finite value is a whole number."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (np.mod(values, 1) == 0)


@dataclass(frozen=True)
class CellRule:
    """A rule a cell breaks: ``rule``/``zh`` may use ``{text}`` (the cell) and ``{value}``; ``code`` names it."""

    code: str
    rule: str
    zh: str
    hint: str
    hint_zh: str


NOT_A_NUMBER = CellRule("not_a_number", "'{text}' is not a number", "“{text}”不是数字", "Enter a number (digits only).",
                        "请只填数字。")
EMPTY = CellRule("empty_cell", "the cell is empty", "单元格为空", "Enter the figure (0 if there were none).",
                 "请填写数字（没有发生填 0）。")
NOT_WHOLE = CellRule("not_whole", "'{text}' is not a whole number", "“{text}”不是整数", "Counts are whole numbers.",
                     "计数必须是整数。")
NEGATIVE = CellRule("negative", "'{text}' is negative", "“{text}”是负数", "Correct the figure in the file.",
                    "请更正该数字。")
NOT_FINITE = CellRule("not_finite", "'{text}' is not a finite number", "“{text}”不是有限的数", "Enter the figure.",
                      "请填写实际数字。")


def log_cells(log: ProblemLog, file: str, mask: np.ndarray, rule: CellRule, text: np.ndarray, rows, columns,
              where: Callable[[int, str], dict], label: Callable[[str], str], values: np.ndarray | None = None,
              **fmt) -> int:
    """Log one problem per True cell of ``mask`` (rows x columns); returns how many."""
    hits = np.argwhere(mask)
    for i, j in hits:
        row, col = int(rows[i]), columns[j]
        value = None if values is None else values[i, j]
        shown = f"{value:g}" if isinstance(value, float) and np.isfinite(value) else value
        words = {"text": text[i, j], "value": shown, **{k: (v[i, j] if isinstance(v, np.ndarray) else v)
                                                       for k, v in fmt.items()}}
        log.add(file, rule.rule.format(**words), rule.hint.format(**words), row, label(col),
                zh=rule.zh.format(**words), hint_zh=rule.hint_zh.format(**words), code=rule.code, **where(row, col))
    return len(hits)
