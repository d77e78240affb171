"""The processed store: validated panels and the tables computed from them, as Parquet, keyed by what
made them.

Raw files stay the source of truth. The store only saves work: reading and validating the raw
files, scoring a month, drawing rank intervals. Each entry is keyed by the sha256 of everything
that could change its content, so a changed input is a new key and the old entry is never used::

    data/processed/store/
        <panel key>/                    one validated panel (the months a month's analyses read)
            manifest.json               what it was made from, and the sha256 and size of each file
            units.parquet               the unit register, as validated
            panel.parquet               one row per (month, unit), one column per measure, blank = null
            <table key>.parquet         a table computed from this panel (a scorecard, rank intervals)
            <table key>.json            its sidecar: what it is, and the sha256 and size of the Parquet file

* **Panel key**: sha256 over the store format, the code that reads and scores (:func:`code_fingerprint`:
  the sources of ``qyb.data``, ``qyb.method``, ``qyb.engine``, ``qyb.edition``, the method specs, and the
  numpy/pandas/pyarrow versions), the reading options, and every input file the panel is read from
  (:func:`key_files`: the unit register, the month files of the window, and anything else in the
  data folder that is not another month's file -- a measure catalogue, a department's folder), the
  scored month (whose units in force the panel holds) and the method's own ``measures:``.
* **Table key**: sha256 over the panel key, the table's name and parameters (month, method hash,
  draws, seed...) and the fingerprint of the code that computes it.
* **Trust nothing**: an entry is read only when its manifest parses and each file has the size and
  sha256 recorded at write time; anything else (a partial write, a flipped byte, a missing sidecar)
  is a miss, and the caller rebuilds it from the raw files and writes it again. Files are written
  to a temporary name and renamed into place, so a reader never sees half a file.
* Deleting ``data/processed/`` changes no result: everything in it is rebuilt on demand.

The store's location is ``data/processed/store`` of the project (:data:`qyb.paths.DATA_PROCESSED`),
or the folder named by the environment variable ``QYB_STORE`` (``off`` switches the store off).
A store that cannot be written (read-only disk, full disk) is skipped: results are computed as if
there were none.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import Catalogue
from qyb.data.files import display_path, sha256_file
from qyb.data.intake import IntakeReport, Note
from qyb.data.monthfile import month_files
from qyb.data.panel import Panel

__all__ = ["STORE_FORMAT", "STORE_ENV", "ProcessedStore", "StoreMiss", "default_store", "resolve_store",
           "code_fingerprint", "key_files", "panel_key", "table_key", "StoredPanel", "register_runs"]

#: bump when the layout of an entry changes: every older entry becomes a miss
STORE_FORMAT = 1
#: environment variable naming the store folder (``off``, ``0`` or ``none``: no store)
STORE_ENV = "QYB_STORE"
#: the code whose changes change a panel or a scorecard (paths relative to the qyb package)
SCORING_CODE = ("data", "method", "engine", "edition.py", "vocab.py", "errors.py", "methods")
#: versions of the libraries whose arithmetic or Parquet files the store depends on
_LIBRARIES = ("numpy", "pandas", "pyarrow")
_PACKAGE = Path(__file__).resolve().parents[1]
_OFF = {"off", "0", "none", "false", "no"}
MANIFEST = "manifest.json"
#: touched each time an entry is read: what ``qyb store --prune`` goes by
USED = ".used"
#: the store's log of hits and writes (one JSON line each), rotated beyond LOG_LIMIT bytes
LOG, LOG_LIMIT = "events.log", 1_000_000


class StoreMiss(Exception):
    """An entry is absent, partial or corrupt: rebuild it from the raw files."""


# ---------------------------------------------------------------- keys
def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@lru_cache(maxsize=32)
def _fingerprint(parts: tuple[str, ...], package: Path) -> str:
    digest = hashlib.sha256()
    for part in parts:
        root = package / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if "__pycache__" in path.parts or path.name.startswith(".") or not path.exists():
                continue
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent\0".encode())
    return digest.hexdigest()


def code_fingerprint(parts: tuple[str, ...] = SCORING_CODE) -> str:
    """sha256 of the source files (and data files, such as the method specs and a measure catalogue)
    under ``parts`` of the qyb package, plus the numpy, pandas and pyarrow versions.

    Computed once per process: the code does not change under a running analysis.
    """
    return _fingerprint(tuple(parts), _PACKAGE)


def key_files(data_dir: Path, months: list[str]) -> list[Path]:
    """The files a panel of ``months`` read from ``data_dir`` depends on: everything in the folder
    (recursively, hidden files aside: the register, its renames, a measure catalogue, the months'
    files or department folders) except the files and folders of other months."""
    data_dir = Path(data_dir)
    others = {p.resolve() for m, p in month_files(data_dir).items() if m not in set(months)}
    found = []
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        resolved = path.resolve()
        if resolved in others or any(parent in others for parent in resolved.parents):
            continue
        found.append(path)
    return found


def panel_key(data_dir: Path, month: str, months: list[str], allow_blank: bool,
              measures=None) -> tuple[str, dict[str, str]]:
    """The key of the panel of ``months`` read from ``data_dir`` for ``month`` (its units in force), with a
    method's ``measures`` added to the catalogue; and the sha256 of each input file."""
    data_dir = Path(data_dir)
    inputs = {p.relative_to(data_dir).as_posix(): sha256_file(p) for p in key_files(data_dir, months)}
    key = _digest({"format": STORE_FORMAT, "code": code_fingerprint(), "month": month, "months": sorted(months),
                   "allow_blank": bool(allow_blank), "measures": list(measures or []), "inputs": inputs,
                   "folders": _key_folders(data_dir, months)})
    return key, inputs


def _key_folders(data_dir: Path, months: list[str]) -> list[str]:
    """The month folders of ``months`` in ``data_dir``, empty ones included: a folder beside a month's file
    ("two files for 2023-03") is an error the stored panel must not hide."""
    wanted = set(months)
    return sorted(p.name + "/" for p in data_dir.iterdir() if p.is_dir() and p.name in wanted)


def table_key(panel_key: str, name: str, params: dict, code: tuple[str, ...] = SCORING_CODE) -> str:
    """The key of a table ``name`` computed from the panel ``panel_key`` with ``params``."""
    return _digest({"format": STORE_FORMAT, "panel": panel_key, "name": name, "params": params,
                    "code": code_fingerprint(code)})


# ---------------------------------------------------------------- Parquet in and out
def _publishable(tmp: str | Path, folder: bool = False) -> None:
    """mkstemp / mkdtemp make 0600 / 0700; a store is shared like any other output folder."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, (0o777 if folder else 0o666) & ~umask)


def _write_file(path: Path, write: Callable[[str], None]) -> dict:
    """``write(tmp)`` a file beside ``path``, then rename it into place; returns its size and sha256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        record = {"bytes": os.path.getsize(tmp), "sha256": sha256_file(Path(tmp))}
        _publishable(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return record


def _write_parquet(table, path: Path) -> dict:
    """Write an Arrow table to ``path`` atomically; returns its size and sha256."""
    import pyarrow.parquet as pq

    return _write_file(path, lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20))


def _write_json(obj, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=1)  # key order kept: it is part of what is stored
    _publishable(tmp)
    os.replace(tmp, path)


def _verified(path: Path, record: dict) -> Path:
    """``path`` if it has the recorded size and sha256, else StoreMiss."""
    try:
        if path.stat().st_size != record["bytes"] or sha256_file(path) != record["sha256"]:
            raise StoreMiss(f"{path.name}: size or sha256 differs from the record")
    except (OSError, KeyError, TypeError) as exc:
        raise StoreMiss(f"{path.name}: {exc}") from exc
    return path


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreMiss(f"{path.name}: {exc}") from exc


def _dtypes(frame: pd.DataFrame) -> dict:
    """The dtypes of a frame's columns and index, as text (Parquet keeps values, not all pandas dtypes)."""
    return {"columns": {str(c): str(t) for c, t in frame.dtypes.items()}, "index": str(frame.index.dtype)}


def _read_frame(path: Path, dtypes: dict | None = None) -> pd.DataFrame:
    """Read a Parquet file as pandas, with the dtypes recorded at write time (object vs str, say)."""
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
        for column, dtype in (dtypes or {}).get("columns", {}).items():
            if str(frame[column].dtype) != dtype:
                frame[column] = frame[column].astype(dtype)
        index = (dtypes or {}).get("index")
        if index is not None and str(frame.index.dtype) != index:
            frame.index = frame.index.astype(index)
        return frame
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise StoreMiss(f"{path.name}: {type(exc).__name__}: {exc}") from exc


#: units per row group of a stored panel: a block of towns reads its own row groups only
ROW_GROUP_UNITS = 65_536


def _panel_schema(measures) -> object:
    import pyarrow as pa

    return pa.schema([("month", pa.string()), ("unit_id", pa.string())] + [(c, pa.float64()) for c in measures])


def _panel_row_groups(panel: Panel, row_units: int = ROW_GROUP_UNITS):
    """The panel as Arrow tables of one month and at most ``row_units`` units each, month by month, in
    register order: month, unit_id, then one float column per measure (a blank cell is null)."""
    import pyarrow as pa

    ids = pa.array(panel.units.index.astype(str), pa.string())
    schema = _panel_schema(panel.measures)
    for t, month in enumerate(panel.months):
        for start in range(0, len(panel.units), row_units):
            stop = min(start + row_units, len(panel.units))
            columns = [pa.array(np.full(stop - start, month, dtype=object), pa.string()), ids[start:stop]]
            for k in range(len(panel.measures)):
                values = panel.by_measure[k, t, start:stop]
                columns.append(pa.array(values, pa.float64(), mask=np.isnan(values)))
            yield pa.Table.from_arrays(columns, schema=schema)


def _write_panel_parquet(panel: Panel, path: Path, row_units: int = ROW_GROUP_UNITS) -> dict:
    """Write the panel's Parquet file month by month (memory: one row group at a time); size and sha256."""
    import pyarrow.parquet as pq

    def write(tmp: str) -> None:
        with pq.ParquetWriter(tmp, _panel_schema(panel.measures), compression="zstd") as writer:
            for table in _panel_row_groups(panel, row_units):
                writer.write_table(table, row_group_size=len(table))

    return _write_file(path, write)


def register_runs(towns: pd.Series, block_units: int) -> list[slice] | None:
    """Blocks of whole towns in register order, of at most ``block_units`` units (at least one town):
    slices of the unit axis. None when a town's units are not listed together (no such blocks)."""
    labels = towns.astype(str).to_numpy()
    if not len(labels):
        return [slice(0, 0)]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    if len(set(labels[starts])) != len(starts):
        return None
    bounds = np.r_[starts, len(labels)]
    blocks, first = [], 0
    for i in range(1, len(bounds)):
        if bounds[i] - bounds[first] > block_units and i - 1 > first:
            blocks.append(slice(int(bounds[first]), int(bounds[i - 1])))
            first = i - 1
    blocks.append(slice(int(bounds[first]), int(bounds[-1])))
    return blocks


# ---------------------------------------------------------------- what a panel carries besides its numbers
def _plain(value):
    """A dataclass record as JSON values; tuples marked as such, so :func:`_unplain` gives them back."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [_plain(v) for v in value]}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _unplain(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_unplain(v) for v in value["__tuple__"])
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unplain(v) for v in value]
    return value


def _catalogue_record(catalogue: Catalogue | None) -> dict | None:
    return None if catalogue is None else _plain(catalogue)


def _catalogue_from(record: dict | None) -> Catalogue | None:
    """The catalogue of :func:`_catalogue_record` (its measures and departments as their classes)."""
    if record is None:
        return None
    from qyb.data.catalogue import Department, Measure

    fields = _unplain(record)
    fields["measures"] = tuple(Measure(**m) for m in fields["measures"])
    fields["departments"] = tuple(Department(**d) for d in fields.get("departments", ()))
    return Catalogue(**fields)


def _absolute(name: str) -> str:
    """A file as messages name it (relative to the current folder) -> absolute, so that another process
    in another folder names it as it would have itself (:func:`qyb.data.files.display_path`)."""
    return os.path.abspath(name)


def _intake_record(report: IntakeReport) -> dict:
    """The intake report as JSON: the files of notes and of ``read`` (named as messages name them,
    relative to the current folder) made absolute; ``sources`` (relative to the data folder) as they are."""
    return {"notes": [{**n.to_dict(), "file": _absolute(n.file)} for n in report.notes],
            "sources": report.sources,
            "read": {m: [_absolute(f) for f in v] for m, v in report.read.items()}}


def _intake_from(record: dict) -> IntakeReport:
    """The intake report of :func:`_intake_record`, its files named as this process would name them."""
    def shown(name: str) -> str:
        return display_path(Path(name))

    return IntakeReport([Note(**{**n, "file": shown(n["file"])}) for n in record.get("notes", [])],
                        {m: dict(v) for m, v in record.get("sources", {}).items()},
                        {m: [shown(f) for f in v] for m, v in record.get("read", {}).items()})


def _ordered(report: IntakeReport) -> str:
    """The intake report as text, dict orders included (which file gave which measure, in order)."""
    return json.dumps([[n.to_dict() for n in report.notes], report.sources, report.read], ensure_ascii=False)


def _differs(panel: Panel, stored: StoredPanel) -> str | None:
    """What a stored panel's register, catalogue, intake report, renames or file map would read back
    differently from ``panel`` (None: nothing; the numbers are float64 in, float64 out)."""
    def frames_differ(a, b) -> bool:
        if a is None or b is None:
            return a is not b
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
            return False
        except AssertionError:
            return True

    checks = {"unit register": frames_differ(panel.units, stored.units),
              "renames": frames_differ(panel.renames, stored.renames),
              "catalogue": panel.catalogue != stored.catalogue,
              "intake report": _ordered(panel.intake) != _ordered(stored.intake),
              "month files": {m: Path(p) for m, p in panel.files.items()}
              != {m: stored.data_dir / rel for m, rel in stored.manifest["month_files"].items()}}
    return ", ".join(k for k, bad in checks.items() if bad) or None


class StoredPanel:
    """A verified panel entry of the store: its manifest and unit register; reads the whole panel, or
    blocks of whole towns one at a time (only their Parquet row groups)."""

    def __init__(self, key: str, entry: Path, manifest: dict, units: pd.DataFrame, renames: pd.DataFrame | None,
                 data_dir: Path):
        self.key, self.entry, self.manifest = key, entry, manifest
        self.units, self.renames, self.data_dir = units, renames, data_dir
        self.catalogue = _catalogue_from(manifest.get("catalogue"))
        self.intake = _intake_from(manifest.get("intake", {}))

    def panel(self, units: slice = slice(None)) -> Panel:
        """The panel's units ``units`` (every month) from the verified Parquet file."""
        import pyarrow.parquet as pq

        months, measures = self.manifest["months"], tuple(self.manifest["measures"])
        n_units, row_units = self.manifest["units"], self.manifest["row_group_units"]
        start, stop, _ = units.indices(n_units)
        per_month = -(-n_units // row_units) if n_units else 0
        first, last = start // row_units, max(stop - 1, start) // row_units
        try:
            parquet = pq.ParquetFile(self.entry / "panel.parquet")
            by_measure = np.empty((len(measures), len(months), stop - start))
            for t in range(len(months)):
                if stop == start:
                    continue
                table = parquet.read_row_groups([t * per_month + g for g in range(first, last + 1)],
                                                columns=list(measures))
                offset = start - first * row_units
                for k, code in enumerate(measures):
                    by_measure[k, t] = table.column(code).to_numpy()[offset:offset + stop - start]
        except Exception as exc:  # the file had its recorded sha256; be safe all the same
            raise StoreMiss(f"panel.parquet: {type(exc).__name__}: {exc}") from exc
        files = {m: self.data_dir / rel for m, rel in self.manifest["month_files"].items()}
        whole = start == 0 and stop == n_units
        panel = Panel(self.data_dir, self.units if whole else self.units.iloc[start:stop], months,
                      by_measure.transpose(1, 2, 0), measures, files, self.catalogue, self.intake, self.renames)
        if whole:
            panel.store_key, panel.store_inputs = self.key, self.manifest["inputs"]
        return panel

    def blocks(self, block_units: int) -> Iterator[Panel] | None:
        """The panel as blocks of whole towns of about ``block_units`` units, in register order, read one
        at a time: memory bounded by the block, not the panel. None when the register does not list
        each town's units together."""
        towns = self.units["town"] if "town" in self.units.columns else pd.Series("all", index=self.units.index)
        runs = register_runs(towns, block_units)
        return None if runs is None else (self.panel(run) for run in runs)


# ---------------------------------------------------------------- the store
class ProcessedStore:
    """Validated panels and the tables computed from them under ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.hits: list[str] = []  # what was read (names), for the run record and the tests
        self.writes: list[str] = []  # what was (re)built and written

    def __repr__(self) -> str:
        return f"ProcessedStore({self.root})"

    # ------------------------------------------------------------ panels
    def entry(self, key: str) -> Path:
        return self.root / key[:32]

    def load_panel(self, data_dir: Path, month: str, months: list[str], allow_blank: bool, measures,
                   read: Callable[[], Panel]) -> Panel:
        """The panel of ``months`` from ``data_dir`` for ``month``: from the store when a verified entry
        matches the inputs, else ``read()`` (which reads and validates the raw files) -- not written yet:
        call :meth:`save_panel` once the panel has proved usable (nothing is written for bad input)."""
        key, inputs = panel_key(data_dir, month, months, allow_blank, measures)
        try:
            panel = self.open_panel(key, data_dir).panel()
            self._note("hit", "panel", key)
            return panel
        except StoreMiss:
            panel = read()
            panel.store_key = key
            panel.store_inputs = inputs
            return panel

    def open_panel(self, key: str, data_dir: Path) -> StoredPanel:
        """The verified entry of the panel ``key`` (StoreMiss when absent, partial or corrupt)."""
        entry = self.entry(key)
        manifest = _read_json(entry / MANIFEST)
        if manifest.get("key") != key or manifest.get("format") != STORE_FORMAT:
            raise StoreMiss("manifest of another key or format")
        files = manifest.get("files", {})
        for name in ("units.parquet", "panel.parquet", "renames.parquet"):
            if name in files or name != "renames.parquet":
                _verified(entry / name, files.get(name, {}))
        units = _read_frame(entry / "units.parquet", manifest.get("units_dtypes"))
        renames = (_read_frame(entry / "renames.parquet", manifest.get("renames_dtypes"))
                   if "renames.parquet" in files else None)
        _touch(entry / USED)
        return StoredPanel(key, entry, manifest, units, renames, Path(data_dir))

    def panel_blocks(self, key: str, data_dir: Path, block_units: int) -> Iterator[Panel] | None:
        """The stored panel as blocks of whole towns (see :meth:`StoredPanel.blocks`)."""
        return self.open_panel(key, data_dir).blocks(block_units)

    def has_panel(self, key: str) -> bool:
        try:
            self.open_panel(key, Path("."))
            return True
        except StoreMiss:
            return False

    def save_panel(self, panel: Panel) -> None:
        """Write ``panel`` under its key (set by :meth:`load_panel`) unless a verified entry is there."""
        key = panel.store_key
        if key is None:
            return
        if self.has_panel(key):
            return
        self._guard(lambda: self._write_panel(panel, key))

    def _write_panel(self, panel: Panel, key: str) -> None:
        import pyarrow as pa

        self.root.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".build-{key[:12]}-", dir=self.root))
        _publishable(build, folder=True)
        try:
            files = {"units.parquet": _write_parquet(pa.Table.from_pandas(panel.units, preserve_index=True),
                                                     build / "units.parquet"),
                     "panel.parquet": _write_panel_parquet(panel, build / "panel.parquet")}
            if panel.renames is not None:
                files["renames.parquet"] = _write_parquet(pa.Table.from_pandas(panel.renames, preserve_index=True),
                                                          build / "renames.parquet")
            data_dir = Path(panel.data_dir)
            manifest = {"format": STORE_FORMAT, "key": key, "kind": "panel", "data_dir": str(data_dir),
                        "months": list(panel.months), "measures": list(panel.measures),
                        "units": len(panel.units), "units_dtypes": _dtypes(panel.units),
                        "renames_dtypes": None if panel.renames is None else _dtypes(panel.renames),
                        "catalogue": _catalogue_record(panel.catalogue), "intake": _intake_record(panel.intake),
                        "row_group_units": ROW_GROUP_UNITS, "inputs": panel.store_inputs,
                        "month_files": {m: _relative(p, data_dir) for m, p in panel.files.items()},
                        "code": code_fingerprint(), "files": files,
                        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            _write_json(manifest, build / MANIFEST)
            units = _read_frame(build / "units.parquet", manifest["units_dtypes"])
            renames = (None if panel.renames is None else
                       _read_frame(build / "renames.parquet", manifest["renames_dtypes"]))
            differs = _differs(panel, StoredPanel(key, build, manifest, units, renames, data_dir))
            if differs:  # something this store cannot write faithfully: keep no entry rather than a wrong one
                warnings.warn(f"processed store: panel not stored ({differs}); it is read from the raw files",
                              RuntimeWarning, stacklevel=3)
                return
            self._keep_tables(self.entry(key), build)
            _touch(build / USED)
            _replace_dir(build, self.entry(key))
            self._note("write", "panel", key)
        finally:
            if build.exists():
                shutil.rmtree(build, ignore_errors=True)

    @staticmethod
    def _keep_tables(old: Path, build: Path) -> None:
        """Tables of a panel entry being rebuilt (same key: same inputs) move to the new entry; each is
        verified against its sidecar when read, so a damaged one is still a miss."""
        for sidecar in old.glob("*.json") if old.is_dir() else []:
            table = sidecar.with_suffix(".parquet")
            if sidecar.name != MANIFEST and table.is_file():
                for path in (table, sidecar):
                    shutil.copy2(path, build / path.name)

    # ------------------------------------------------------------ tables computed from a panel
    def frame(self, panel_key: str, name: str, params: dict, build: Callable[[], pd.DataFrame],
              code: tuple[str, ...] = SCORING_CODE) -> pd.DataFrame:
        """The table ``name`` with ``params`` of the panel ``panel_key``: read when a verified copy is
        stored, else ``build()`` and written (the written copy is what the next reader gets)."""
        key = table_key(panel_key, name, params, code)
        try:
            return self.read_frame(panel_key, key)
        except StoreMiss:
            pass
        with self._building(panel_key, key):  # another process building the same table: wait, then read it
            try:
                return self.read_frame(panel_key, key)
            except StoreMiss:
                frame = build()
                self._guard(lambda: self.write_frame(panel_key, key, name, params, frame))
                return frame

    def frames(self, panel_key: str, name: str, params: dict, build: Callable[[], dict[str, pd.DataFrame]],
               code: tuple[str, ...] = SCORING_CODE) -> dict[str, pd.DataFrame]:
        """Several tables made together (``build()`` returns part name -> frame), stored as one entry:
        each part is a table of its own (``<name>.<part>``) and a bundle table lists the parts, written
        last, so the entry is read whole or rebuilt whole (a missing or damaged part is a miss)."""
        key = table_key(panel_key, name, params, code)

        def part_key(part: str) -> str:
            return _digest({"bundle": key, "part": part})

        def read() -> dict[str, pd.DataFrame]:
            parts = self.read_frame(panel_key, key)["part"].tolist()
            return {part: self.read_frame(panel_key, part_key(part)) for part in parts}

        try:
            return read()
        except StoreMiss:
            pass
        with self._building(panel_key, key):
            try:
                return read()
            except StoreMiss:
                built = build()

                def write() -> None:
                    for part, frame in built.items():
                        self.write_frame(panel_key, part_key(part), f"{name}.{part}", params, frame)
                    self.write_frame(panel_key, key, name, params, pd.DataFrame({"part": list(built)}, dtype=object))

                self._guard(write)
                return built

    @contextlib.contextmanager
    def _building(self, panel_key: str, key: str):
        """An exclusive lock on building table ``key`` (a file lock: across processes, e.g. the notebooks
        of a run); no lock when the panel has no entry (nothing will be stored either)."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock (at worst two processes build the same table)
            fcntl = None
        entry = self.entry(panel_key)
        try:
            handle = open(entry / f".{key[:32]}.lock", "a") if fcntl and (entry / MANIFEST).is_file() else None
        except OSError:
            handle = None
        if handle is None:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_frame(self, panel_key: str, key: str) -> pd.DataFrame:
        entry = self.entry(panel_key)
        record = _read_json(entry / f"{key[:32]}.json")
        if record.get("key") != key:
            raise StoreMiss("sidecar of another key")
        frame = _read_frame(_verified(entry / f"{key[:32]}.parquet", record), record.get("dtypes"))
        self._note("hit", record.get("name", "?"), key)
        return frame

    def write_frame(self, panel_key: str, key: str, name: str, params: dict, frame: pd.DataFrame) -> None:
        import pyarrow as pa

        entry = self.entry(panel_key)
        if not (entry / MANIFEST).is_file():
            return  # tables live beside their panel: no panel entry (not saved), no table
        record = _write_parquet(pa.Table.from_pandas(frame, preserve_index=False), entry / f"{key[:32]}.parquet")
        _write_json({**record, "key": key, "name": name, "params": params, "dtypes": _dtypes(frame)},
                    entry / f"{key[:32]}.json")
        self._note("write", name, key)

    # ------------------------------------------------------------ what was read and written
    def _note(self, event: str, name: str, key: str) -> None:
        """Record a hit or a write here (:attr:`hits`, :attr:`writes`) and in the store's log, one JSON
        line per event with the process id: what the processes of a run read and built."""
        (self.hits if event == "hit" else self.writes).append(name)
        line = json.dumps({"time": round(time.time(), 3), "pid": os.getpid(), "event": event, "name": name,
                           "key": key[:12]}) + "\n"
        try:
            path = self.root / LOG
            if path.is_file() and path.stat().st_size > LOG_LIMIT:
                os.replace(path, path.with_suffix(".old"))
            with open(path, "a", encoding="utf-8") as fh:  # O_APPEND: lines of processes do not interleave
                fh.write(line)
        except OSError:
            pass

    def log(self) -> list[dict]:
        """The events of the store's log, oldest first."""
        try:
            text = (self.root / LOG).read_text(encoding="utf-8")
        except OSError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    # ------------------------------------------------------------ housekeeping
    def entries(self) -> list[dict]:
        """One dict per panel entry: key, data folder, months, units, size in bytes, tables, written."""
        out = []
        for entry in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            try:
                manifest = _read_json(entry / MANIFEST)
            except StoreMiss:
                manifest = {}
            tables = [json.loads(p.read_text(encoding="utf-8")).get("name", "?") for p in sorted(entry.glob("*.json"))
                      if p.name != MANIFEST]
            used = entry / USED if (entry / USED).is_file() else entry / MANIFEST
            out.append({"entry": entry.name, "data_dir": manifest.get("data_dir", "?"),
                        "months": manifest.get("months", []), "units": manifest.get("units"),
                        "bytes": sum(p.stat().st_size for p in entry.iterdir() if p.is_file()),
                        "tables": tables, "written": manifest.get("written", "?"),
                        "used": used.stat().st_mtime if used.exists() else 0.0})
        return out

    def prune(self, days: float) -> int:
        """Delete the entries not read for ``days`` days (a panel of inputs since changed is never read
        again); returns how many. Safe at any time: an entry is only ever a saving."""
        cutoff = time.time() - days * 86400
        old = [e for e in self.entries() if e["used"] < cutoff]
        for e in old:
            shutil.rmtree(self.root / e["entry"], ignore_errors=True)
        return len(old)

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        entries = self.entries()
        for e in entries:
            shutil.rmtree(self.root / e["entry"], ignore_errors=True)
        for log in (self.root / LOG, (self.root / LOG).with_suffix(".old")):
            log.unlink(missing_ok=True)
        return len(entries)

    def _guard(self, write: Callable[[], None]) -> None:
        """Run a write; a store that cannot be written is skipped with a warning (results are unaffected)."""
        try:
            write()
        except OSError as exc:
            warnings.warn(f"processed store {self.root} not written ({exc}); results are computed without it",
                          RuntimeWarning, stacklevel=3)


def _touch(path: Path) -> None:
    try:
        path.touch()
    except OSError:  # a read-only store is still read
        pass


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def _replace_dir(build: Path, final: Path) -> None:
    """Rename ``build`` to ``final``; a stale ``final`` (a miss) is renamed aside first and deleted."""
    if final.exists():
        aside = final.parent / f".old-{final.name}-{os.getpid()}-{time.time_ns()}"
        try:
            os.rename(final, aside)
        except FileNotFoundError:
            pass  # another process replaced it meanwhile
        shutil.rmtree(aside, ignore_errors=True)
    try:
        os.rename(build, final)
    except OSError:
        if not final.exists():  # lost a race to another writer of the same key: theirs is as good as ours
            raise


# ---------------------------------------------------------------- which store
def default_store() -> ProcessedStore | None:
    """The store named by ``QYB_STORE``, else ``data/processed/store`` of the project; None when off."""
    from qyb.paths import DATA_PROCESSED

    named = os.environ.get(STORE_ENV)
    if named is not None and named.strip().lower() in _OFF | {""}:
        return None
    return ProcessedStore(Path(named) if named else DATA_PROCESSED / "store")


def resolve_store(store) -> ProcessedStore | None:
    """``store`` as given to :func:`qyb.load`: None -> the default store, False -> none, a path or a
    :class:`ProcessedStore` -> that store."""
    if store is None or store is True:
        return default_store()
    if store is False:
        return None
    return store if isinstance(store, ProcessedStore) else ProcessedStore(Path(store))
