"""The sample at scale: its 29 units copied into many towns, for benchmarks and for tests of many towns.

Guangdong has about 26,000 村/社区 and China about 600,000; :func:`replicate` turns the shipped
sample into ``towns`` towns of 29 units each (town ``T00001`` holds ``T00001XL01`` 永宁社区 ...),
built straight into the panel's measure-major layout (no per-unit loop, no intermediate copy).
With ``jitter`` each town's counts are scaled by factors drawn per (town, unit, measure), so the
towns differ; handled figures are kept at or below their totals, so the copy is valid input.
:func:`write_raw` writes such a panel as raw files (``units.csv`` and ``YYYY-MM.csv``), as an office
would send them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.catalogue import load_catalogue
from qyb.data.files import csv_bytes, write_bytes_atomic
from qyb.data.panel import SYNTHETIC_MARKER, Panel
from qyb.data.register import UNITS_FILE

__all__ = ["replicate", "write_raw", "town_code"]


def town_code(k: int) -> str:
    """The code of the k-th replicated town (0-based): ``T00001``, ``T00002``..."""
    return f"T{k + 1:05d}"


def replicate(panel: Panel, towns: int, jitter: float = 0.0, seed: int = 0) -> Panel:
    """``panel``'s units copied into ``towns`` towns (unit ids and names prefixed with the town code).

    ``jitter``: each copy's figures are multiplied by ``1 + jitter * u`` with ``u`` uniform on
    [-1, 1] per (town, unit, measure), rounded, and handled figures clipped to their totals
    (0 keeps every town identical to the sample). The units are listed town by town.
    """
    towns = int(towns)
    n = len(panel.units)
    codes = np.array([town_code(k) for k in range(towns)], dtype=object)
    town_of_unit = np.repeat(codes, n)
    units = pd.DataFrame({c: np.tile(panel.units[c].to_numpy(), towns) for c in panel.units.columns})
    units["unit_name"] = town_of_unit + units["unit_name"].astype(str).to_numpy(dtype=object)
    units["town"] = town_of_unit
    units.index = pd.Index(town_of_unit + np.tile(panel.units.index.to_numpy(dtype=object), towns), name="unit_id")
    units = units[list(panel.units.columns)].astype(panel.units.dtypes.to_dict())
    by_measure = np.tile(panel.by_measure, (1, 1, towns))  # (measures, months, towns x units), contiguous
    if jitter:
        catalogue = panel.catalogue or load_catalogue(None)
        rng = np.random.default_rng(seed)
        factor = 1 + jitter * rng.uniform(-1, 1, size=(len(panel.measures), 1, towns * n))
        np.round(by_measure * factor, out=by_measure)
        for k, code in enumerate(panel.measures):
            total = catalogue[code].total if code in catalogue else None
            if total in panel.measure_pos:
                np.fmin(by_measure[k], by_measure[panel.measure_pos[total]], out=by_measure[k])
    return Panel(panel.data_dir, units, panel.months, by_measure.transpose(1, 2, 0), panel.measures,
                 dict(panel.files), panel.catalogue)


def write_raw(panel: Panel, out: Path, synthetic: bool = True) -> list[Path]:
    """Write ``panel`` as raw files in ``out``: ``units.csv`` and one ``YYYY-MM.csv`` per month, with
    the Chinese headers of the office's sheets (and ``SYNTHETIC.md`` when ``synthetic``)."""
    out = Path(out)
    written = [out / UNITS_FILE]
    write_bytes_atomic(csv_bytes(panel.units.reset_index()), written[0])
    ids, names = panel.units.index.to_numpy(), panel.units["unit_name"].to_numpy()
    catalogue = panel.catalogue or load_catalogue(None)
    for month in panel.months:
        frame = pd.DataFrame({"月份": month, "单位编码": ids, "村(社区)名称": names})
        for code in panel.measures:
            values = panel.cube(code, [month])[0]
            frame[catalogue[code].name] = pd.array(np.where(np.isnan(values), np.nan, values), dtype="Int64")
        path = out / f"{month}.csv"
        write_bytes_atomic(csv_bytes(frame), path)
        written.append(path)
    if synthetic:
        marker = out / SYNTHETIC_MARKER
        write_bytes_atomic("# 示例数据 (synthetic): the shipped sample replicated into towns\n".encode(), marker)
        written.append(marker)
    return written
