"""Test helpers: a private copy of the sample data, and running the CLI in-process."""
from __future__ import annotations

import shutil
from pathlib import Path

from qyb.cli import main
from qyb.paths import DATA_RAW


def copy_sample(tmp_path: Path, months: list[str] | None = None) -> Path:
    """Copy units.csv and (some of) the month files of the shipped sample into tmp_path/raw."""
    dest = tmp_path / "raw"
    dest.mkdir()
    for path in DATA_RAW.iterdir():
        if path.suffix == ".csv" and (months is None or path.stem in months or path.name == "units.csv"):
            shutil.copy(path, dest / path.name)
    return dest


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err
