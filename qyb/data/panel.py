"""The validated panel: every month's raw measures held once as a dense (months x units x measures) array.

:func:`load_panel` reads the unit register and the month files in one pass,
validates them (every problem at once) and stacks them. Every consumer --
the engine, movements, rank draws, the review, histories -- reads slices of
:attr:`Panel.array` through :meth:`Panel.cube` and the index maps; nothing
re-pivots a long table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import MEASURE_CODES
from qyb.data.files import display_path
from qyb.data.monthfile import month_files, read_month
from qyb.data.register import UNITS_FILE, read_units
from qyb.errors import InputError, Problem, ProblemLog

__all__ = ["SYNTHETIC_MARKER", "Panel", "load_panel", "require_month"]

#: a data folder holding this file is synthetic: every page it feeds carries the 示例数据 banner
SYNTHETIC_MARKER = "SYNTHETIC.md"


@dataclass(eq=False)
class Panel:
    """Validated raw data: the unit register and a dense ``(months, units, measures)`` array.

    ``array[t, u, k]`` is measure ``measures[k]`` of unit ``units.index[u]`` in
    ``months[t]`` (NaN: a blank cell). ``months`` are the months that have a
    file, sorted; ``files`` maps each to its path.
    """

    data_dir: Path
    units: pd.DataFrame
    months: list[str]
    array: np.ndarray
    measures: tuple[str, ...] = MEASURE_CODES
    files: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.months = list(self.months)
        self.measures = tuple(self.measures)
        self.array = np.asarray(self.array, dtype=float)
        expected = (len(self.months), len(self.units), len(self.measures))
        if self.array.shape != expected:
            raise ValueError(f"Panel: array shape {self.array.shape} != (months, units, measures) {expected}")
        self.month_pos = {m: t for t, m in enumerate(self.months)}
        self.measure_pos = {c: k for k, c in enumerate(self.measures)}
        self.unit_pos = {u: j for j, u in enumerate(self.units.index)}

    # ------------------------------------------------------------ construction
    @classmethod
    def from_frame(cls, data_dir, units: pd.DataFrame, values: pd.DataFrame,
                   files: dict[str, Path] | None = None) -> Panel:
        """From a long frame indexed by (month, unit_id) with one column per measure."""
        months = sorted(values.index.get_level_values("month").unique())
        measures = tuple(values.columns)
        full = pd.MultiIndex.from_product([months, units.index], names=["month", "unit_id"])
        arr = values.reindex(full).to_numpy(dtype=float).reshape(len(months), len(units), len(measures))
        return cls(Path(data_dir), units, months, arr, measures, dict(files or {}))

    # ------------------------------------------------------------ reading
    def cube(self, measure: str, months: list[str]) -> np.ndarray:
        """One measure as a ``(len(months), units)`` array; NaN rows for months without a file."""
        k = self.measure_pos[measure]
        rows = np.array([self.month_pos.get(m, -1) for m in months], dtype=int)
        out = self.array[np.maximum(rows, 0), :, k] if len(self.months) else np.full((len(rows), len(self.units)),
                                                                                   np.nan)
        return np.where((rows >= 0)[:, None], out, np.nan)

    def value(self, month: str, unit_id: str, measure: str) -> float | None:
        """One raw figure, or None when the month has no file or the cell is blank."""
        t, u = self.month_pos.get(month), self.unit_pos.get(unit_id)
        if t is None or u is None or measure not in self.measure_pos:
            return None
        v = self.array[t, u, self.measure_pos[measure]]
        return None if np.isnan(v) else float(v)

    def has_months(self, months) -> bool:
        return all(m in self.month_pos for m in months)

    def window(self, months: list[str]) -> Panel:
        """The panel restricted to those of ``months`` that it holds (same units and measures)."""
        keep = [m for m in sorted(months) if m in self.month_pos]
        rows = [self.month_pos[m] for m in keep]
        return Panel(self.data_dir, self.units, keep, self.array[rows], self.measures,
                     {m: self.files[m] for m in keep if m in self.files})

    def with_value(self, month: str, unit_id: str, measure: str, value: float) -> Panel:
        """A copy with one raw figure changed (a what-if: "had it recorded 2")."""
        array = self.array.copy()
        array[self.month_pos[month], self.unit_pos[unit_id], self.measure_pos[measure]] = value
        return Panel(self.data_dir, self.units, self.months, array, self.measures, dict(self.files))

    @cached_property
    def values(self) -> pd.DataFrame:
        """The long view: one row per (month, unit_id), one column per measure (built on first use).

        Read-only: it shows :attr:`array`, so setting a cell raises; use :meth:`with_value` to change a figure.
        """
        index = pd.MultiIndex.from_product([self.months, self.units.index], names=["month", "unit_id"])
        flat = self.array.reshape(len(self.months) * len(self.units), len(self.measures)).view()
        flat.flags.writeable = False  # an edit here would not reach the array every analysis reads
        return pd.DataFrame(flat, index=index, columns=list(self.measures), copy=False)

    @property
    def synthetic(self) -> bool:
        return (Path(self.data_dir) / SYNTHETIC_MARKER).exists()

    def input_files(self) -> list[Path]:
        return [Path(self.data_dir) / UNITS_FILE] + [self.files[m] for m in sorted(self.files)]

    def __repr__(self) -> str:
        span = f"{self.months[0]}..{self.months[-1]}" if self.months else "no months"
        return (f"Panel({len(self.units)} units x {len(self.months)} months ({span}) x {len(self.measures)} "
                f"measures, {display_path(Path(self.data_dir))})")


def load_panel(data_dir: Path, months: list[str] | None = None, allow_blank: bool = False) -> Panel:
    """Read units.csv and the month files (all, or those of ``months`` that exist), validated, in one pass.

    Raises InputError listing every problem found.
    """
    data_dir = Path(data_dir)
    log = ProblemLog()
    if not data_dir.is_dir():
        log.add(display_path(data_dir), "data folder not found", "Pass --data with the folder that holds units.csv.")
        log.raise_if_any()
    units = read_units(data_dir, log)
    files = month_files(data_dir, log)
    wanted = sorted(files) if months is None else [m for m in sorted(set(months)) if m in files]
    frames = {}
    if units is not None:
        for month in wanted:
            frame = read_month(files[month], month, units, log, allow_blank=allow_blank)
            if frame is not None:
                frames[month] = frame
    log.raise_if_any()
    read = sorted(frames)
    arr = (np.stack([frames[m].to_numpy(dtype=float) for m in read]) if read
           else np.zeros((0, len(units), len(MEASURE_CODES))))
    return Panel(data_dir, units, read, arr, MEASURE_CODES, {m: files[m] for m in read})


def require_month(panel_dir: Path, month: str) -> None:
    """Raise InputError if the data folder or the file for ``month`` is missing."""
    if not Path(panel_dir).is_dir():
        raise InputError(Problem(display_path(Path(panel_dir)), "data folder not found",
                                 "Pass --data with the folder that holds units.csv and the month files."))
    if month not in month_files(panel_dir):
        raise InputError(Problem(display_path(Path(panel_dir) / f"{month}.csv"), f"no data file for {month}",
                                 f"Add {month}.csv or {month}.xlsx to the data folder, or choose another month."))
