"""The validated panel: every month's raw measures held once as a dense (months x units x measures) array.

:func:`load_panel` reads the unit register and the month files in one pass,
validates them (every problem at once) and stacks them. Every consumer --
the engine, movements, rank draws, the review, histories -- reads slices of
:attr:`Panel.array` through :meth:`Panel.cube` and the index maps; nothing
re-pivots a long table.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import CATALOGUE_FILE, MEASURE_CODES, Catalogue, load_catalogue
from qyb.data.files import display_path
from qyb.data.intake import IntakeReport
from qyb.data.monthfile import month_files, month_source_files, read_month
from qyb.data.register import RENAMES_FILE, UNITS_FILE, in_force, read_renames, read_units
from qyb.errors import InputError, Problem, ProblemLog

__all__ = ["SYNTHETIC_MARKER", "Panel", "load_panel", "require_month", "input_files"]

#: a data folder holding this file is synthetic: every page it feeds carries the 示例数据 banner
SYNTHETIC_MARKER = "SYNTHETIC.md"


@dataclass(eq=False)
class Panel:
    """Validated raw data: the unit register and a dense ``(months, units, measures)`` array.

    ``array[t, u, k]`` is measure ``measures[k]`` of unit ``units.index[u]`` in
    ``months[t]`` (NaN: a blank cell, a unit not in force, a measure not
    collected that month). ``months`` are the months that have a file,
    sorted; ``files`` maps each to its path (a file, or a folder of
    department files). ``catalogue`` is the measure catalogue the files were
    read under, ``intake`` the validation report (what was recognised or
    ignored in each file, and which file each measure came from), ``renames``
    the register's renames table.

    The numbers are stored measure by measure (``by_measure[k]`` is one contiguous
    ``(months, units)`` block) and :attr:`array` is a view of them in (months, units,
    measures) order: :meth:`cube`, what every analysis reads, copies whole rows instead of
    gathering one cell in ``len(measures)`` (at 600,000 units that is the difference between
    milliseconds and seconds per measure).
    """

    data_dir: Path
    units: pd.DataFrame
    months: list[str]
    array: np.ndarray
    measures: tuple[str, ...] = MEASURE_CODES
    files: dict[str, Path] = field(default_factory=dict)
    catalogue: Catalogue | None = None
    intake: IntakeReport = field(default_factory=IntakeReport)
    renames: pd.DataFrame | None = None
    #: the processed store's key of these exact inputs (None: not read through the store, or changed since)
    store_key: str | None = field(default=None, repr=False, compare=False)
    #: sha256 of each input file the key covers (relative path -> digest)
    store_inputs: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.months = list(self.months)
        self.measures = tuple(self.measures)
        array = np.asarray(self.array, dtype=float)
        expected = (len(self.months), len(self.units), len(self.measures))
        if array.shape != expected:
            raise ValueError(f"Panel: array shape {array.shape} != (months, units, measures) {expected}")
        self.by_measure = np.ascontiguousarray(array.transpose(2, 0, 1))  # no copy when already measure-major
        self.array = self.by_measure.transpose(1, 2, 0)
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
    def cube(self, measure: str, months: list[str], units: np.ndarray | slice | None = None) -> np.ndarray:
        """One measure as a ``(len(months), units)`` array (a copy); NaN rows for months without a file.

        ``units``: positions on the unit axis to read (an index array or a slice; default every unit).
        A measure the panel does not hold is an InputError naming the closest ones it does.
        """
        k = self.measure_pos.get(measure)
        if k is None:
            raise self._unknown_measure(measure)
        block = self.by_measure[k]
        if isinstance(units, slice):
            block = block[:, units]
        rows = np.array([self.month_pos.get(m, -1) for m in months], dtype=np.intp)
        have = rows >= 0
        if units is None or isinstance(units, slice):
            read = block[rows[have]]  # whole contiguous rows
        else:
            read = block[np.ix_(rows[have], np.asarray(units, dtype=np.intp))]
        if have.all():
            return read
        out = np.full((len(rows), read.shape[1]), np.nan)
        out[have] = read
        return out

    def value(self, month: str, unit_id: str, measure: str) -> float | None:
        """One raw figure, or None when the month has no file or the cell is blank."""
        t, u = self.month_pos.get(month), self.unit_pos.get(unit_id)
        if t is None or u is None or measure not in self.measure_pos:
            return None
        v = self.array[t, u, self.measure_pos[measure]]
        return None if np.isnan(v) else float(v)

    def _unknown_measure(self, measure: str) -> InputError:
        from qyb.data.catalogue import suggest

        close = suggest(measure, self.measures)
        return InputError(Problem(display_path(Path(self.data_dir)), f"the data hold no measure '{measure}'"
                                  + (f" (did you mean {', '.join(close)}?)" if close else ""),
                                  f"Declare it in {CATALOGUE_FILE} of the data folder or in the method's `measures:` "
                                  "list, and give it a column in the month files.",
                                  zh=f"数据中没有指标“{measure}”", hint_zh="请在数据文件夹的 catalogue.yaml 或方法的 measures: "
                                  "中声明该指标，并在月度文件中加上该列。", code="unknown_measure"))

    def in_force(self, month: str) -> np.ndarray:
        """Which units are in force in ``month`` (the register's valid_from / valid_to)."""
        return in_force(self.units, month)

    def for_month(self, month: str) -> Panel:
        """The panel over the units in force in ``month`` (itself when the register does not change)."""
        keep = self.in_force(month)
        if keep.all():
            return self
        return self._replace(units=self.units[keep], array=self.array[:, keep])

    def _replace(self, **changes) -> Panel:
        fields = {"data_dir": self.data_dir, "units": self.units, "months": self.months, "array": self.array,
                  "measures": self.measures, "files": dict(self.files), "catalogue": self.catalogue,
                  "intake": self.intake, "renames": self.renames}
        fields.update(changes)
        return Panel(**fields)

    def has_months(self, months) -> bool:
        return all(m in self.month_pos for m in months)

    def window(self, months: list[str]) -> Panel:
        """The panel restricted to those of ``months`` that it holds (same units and measures)."""
        keep = [m for m in sorted(months) if m in self.month_pos]
        rows = [self.month_pos[m] for m in keep]
        return self._replace(months=keep, array=self.array[rows], files={m: self.files[m] for m in keep
                                                                          if m in self.files},
                             intake=self.intake.window(keep))

    def with_value(self, month: str, unit_id: str, measure: str, value: float) -> Panel:
        """A copy with one raw figure changed (a what-if: "had it recorded 2")."""
        array = self.array.copy()
        if measure not in self.measure_pos:
            raise self._unknown_measure(measure)
        array[self.month_pos[month], self.unit_pos[unit_id], self.measure_pos[measure]] = value
        return self._replace(array=array)

    @cached_property
    def values(self) -> pd.DataFrame:
        """The long view: one row per (month, unit_id), one column per measure (built on first use).

        Read-only: a copy of :attr:`array` in long order, so setting a cell raises rather than change
        nothing; use :meth:`with_value` to change a figure.
        """
        index = pd.MultiIndex.from_product([self.months, self.units.index], names=["month", "unit_id"])
        flat = self.array.reshape(len(self.months) * len(self.units), len(self.measures))  # a copy (measure-major)
        flat.flags.writeable = False  # an edit here would not reach the array every analysis reads
        return pd.DataFrame(flat, index=index, columns=list(self.measures), copy=False)

    @property
    def synthetic(self) -> bool:
        return (Path(self.data_dir) / SYNTHETIC_MARKER).exists()

    def input_files(self) -> list[Path]:
        """Every file the panel was read from: the register (and its renames table and catalogue, when
        present) and each month's file or department files."""
        return input_files(self.data_dir, [self.files[m] for m in sorted(self.files)])

    def sources(self, month: str) -> dict[str, str]:
        """``{measure: file}`` of ``month``: which file (relative to the data folder) gave each measure."""
        return dict(self.intake.sources.get(month, {}))

    def sources_table(self, month: str) -> pd.DataFrame:
        """数据来源 of ``month``: one row per measure read -- code, Chinese name, unit, reporting department and
        the file it came from (relative to the data folder)."""
        cat = self.catalogue or load_catalogue(None)
        rows = [{"指标代码": code, "指标名称": cat[code].name if code in cat else code,
                 "计量单位": cat[code].unit if code in cat else "",
                 "报送部门": cat.department_name(cat[code].department) if code in cat else "", "来源文件": file}
                for code, file in self.sources(month).items()]
        return pd.DataFrame(rows, columns=["指标代码", "指标名称", "计量单位", "报送部门", "来源文件"])

    def intake_record(self, month: str) -> list[str]:
        """The notes on the files of ``month``, each naming its file relative to the data folder (run.json)."""
        import os

        base = os.path.abspath(self.data_dir)
        return [str(replace(n, file=Path(os.path.relpath(os.path.abspath(n.file), base)).as_posix()))
                for n in self.intake.notes_of(month)]

    def intake_markdown(self, month: str) -> str:
        """What was recognised or ignored in the files of ``month``, as a Chinese list for the report."""
        notes = self.intake.notes_of(month)
        if not notes:
            return "本月数据文件格式规范，读取时无需识别或略过任何内容。"
        return "\n".join(f"- {Path(n.file).name}" + (f"（工作表“{n.sheet}”）" if n.sheet else "") + f"：{n.zh}"
                         for n in notes)

    def __repr__(self) -> str:
        span = f"{self.months[0]}..{self.months[-1]}" if self.months else "no months"
        return (f"Panel({len(self.units)} units x {len(self.months)} months ({span}) x {len(self.measures)} "
                f"measures, {display_path(Path(self.data_dir))})")


def input_files(data_dir: Path, month_paths) -> list[Path]:
    """The register files of ``data_dir`` that exist (units.csv, unit_renames.csv, catalogue.yaml) and the
    data files of the months at ``month_paths`` (a folder month gives each of its CSV/XLSX files)."""
    data_dir = Path(data_dir)
    out = [data_dir / UNITS_FILE] + [data_dir / f for f in (RENAMES_FILE, CATALOGUE_FILE) if (data_dir / f).is_file()]
    for path in month_paths:
        out += month_source_files(path)[0]
    return out


def load_panel(data_dir: Path, months: list[str] | None = None, allow_blank: bool = False, *,
               catalogue: Catalogue | None = None, measures=None, log: ProblemLog | None = None) -> Panel:
    """Read units.csv and the month files (all, or those of ``months`` that exist), validated, in one pass.

    ``catalogue`` is the measure catalogue to read under (default: the shipped one extended by the data
    folder's ``catalogue.yaml`` and by ``measures``, a method spec's ``measures:`` list). Raises
    InputError listing every problem found (into ``log`` when given, raising nothing).
    """
    data_dir = Path(data_dir)
    own_log = log is None
    log = ProblemLog() if log is None else log
    if not data_dir.is_dir():
        log.add(display_path(data_dir), "data folder not found", "Pass --data with the folder that holds units.csv.",
                zh="找不到数据文件夹", hint_zh="请用 --data 指定存放 units.csv 的文件夹。", code="data_folder_not_found")
        log.raise_if_any()
    if catalogue is None:
        catalogue = load_catalogue(data_dir, measures)
    report = IntakeReport()
    units = read_units(data_dir, log, report, catalogue)
    renames = read_renames(data_dir, units, log, report) if units is not None else None
    files = month_files(data_dir, log)
    wanted = sorted(files) if months is None else [m for m in sorted(set(months)) if m in files]
    frames = {}
    if units is not None:
        for month in wanted:
            frame = read_month(files[month], month, units, log, allow_blank=allow_blank, catalogue=catalogue,
                               report=report, renames=renames)
            if frame is not None:
                frames[month] = frame
    if own_log:
        log.raise_if_any()
    if units is None:
        units = pd.DataFrame(columns=["unit_name", "town", "population"]).rename_axis("unit_id")
    read = sorted(frames)
    codes = catalogue.codes
    by_measure = np.empty((len(codes), len(read), len(units)))  # the Panel's own layout: no copy
    for t, month in enumerate(read):
        by_measure[:, t, :] = frames[month].to_numpy(dtype=float).T
    return Panel(data_dir, units, read, by_measure.transpose(1, 2, 0), codes, {m: files[m] for m in read}, catalogue,
                 report, renames)


def require_month(panel_dir: Path, month: str) -> None:
    """Raise InputError if the data folder or the file for ``month`` is missing."""
    if not Path(panel_dir).is_dir():
        raise InputError(Problem(display_path(Path(panel_dir)), "data folder not found",
                                 "Pass --data with the folder that holds units.csv and the month files."))
    if month not in month_files(panel_dir):
        raise InputError(Problem(display_path(Path(panel_dir) / f"{month}.csv"), f"no data file for {month}",
                                 f"Add {month}.csv or {month}.xlsx to the data folder, or choose another month."))
