"""Writing machine-readable tables: each DataFrame as ``<folder>/<name>.csv`` (UTF-8 with BOM), atomically."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from qyb.data.files import write_csv_atomic
from qyb.paths import inside

__all__ = ["write_tables"]


def write_tables(tables: dict[str, pd.DataFrame], folder: Path | str) -> dict[str, Path]:
    """Write every frame of ``tables`` as ``folder/<name>.csv``; returns name -> path."""
    paths = {}
    for name, frame in tables.items():
        path = inside(folder, f"{name}.csv")
        write_csv_atomic(frame, path)
        paths[name] = path
    return paths
