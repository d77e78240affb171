"""Intake speed, each figure beside a floor measured in the same run.

1. Reading and validating the sample's 24 month files (``load_panel``) vs. ``pandas.read_csv`` of the same
   files without any check (the parsing floor).
2. Rejecting a 200 MB month file of 2.5 million rows (``qyb validate``: exit 2, "more than N rows") vs.
   reading the file's bytes once (what "not reading it all" saves).
3. Reading a realistic office workbook (title, 序号, 合计 with formulas, 备注, three sheets) vs. the
   same month as CSV.
"""
from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path

from qyb.data.panel import load_panel
from qyb.paths import DATA_RAW

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.data.quirks builds the office workbook
from scoring_bench import best_of  # this folder is on sys.path when a benchmark runs


def parse_floor(paths):
    """What a reader without validation does: pandas.read_csv of each file."""
    import pandas as pd

    for p in paths:
        pd.read_csv(p, encoding="utf-8-sig")


def big_file(folder: Path, rows: int = 2_500_000) -> Path:
    """A month file of ``rows`` rows and about 200 MB (the sample's rows repeated)."""
    shutil.copy(DATA_RAW / "units.csv", folder / "units.csv")
    lines = (DATA_RAW / "2023-03.csv").read_text(encoding="utf-8-sig").splitlines()
    body = "\n".join(lines[1:]) + "\n"
    path = folder / "2023-03.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(lines[0] + "\n")
        for _ in range(rows // 29 + 1):
            fh.write(body)
    return path


def main() -> None:
    from qyb.cli import main as qyb

    paths = sorted(DATA_RAW.glob("20*.csv"))
    load = best_of(lambda: load_panel(DATA_RAW), 5)
    floor = best_of(lambda: parse_floor(paths), 5)
    print(f"load_panel 24 months:        {load * 1e3:8.1f} ms | floor (pandas.read_csv, no checks):    "
          f"{floor * 1e3:8.1f} ms | ratio {load / floor:5.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = big_file(Path(tmp))
        size = path.stat().st_size
        codes = []

        def reject():
            import contextlib

            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                codes.append(qyb(["validate", tmp, "--month", "2023-03"]))

        fail = best_of(reject, 3)
        read_once = best_of(lambda: path.read_bytes(), 3)
        assert set(codes) == {2}
        print(f"reject {size / 1e6:.0f} MB, 2.5M rows:     {fail * 1e3:8.1f} ms | floor (read the bytes once): "
              f"{read_once * 1e3:8.1f} ms | ratio {fail / read_once:5.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        from tests.data.quirks import realistic_workbook

        for name in ("units.csv", "2023-03.csv"):
            shutil.copy(DATA_RAW / name, Path(tmp) / name)
        csv_time = best_of(lambda: load_panel(tmp), 5)
        realistic_workbook(Path(tmp))
        xlsx_time = best_of(lambda: load_panel(tmp), 5)
        print(f"office workbook 2023-03:     {xlsx_time * 1e3:8.1f} ms | floor (the month as CSV): "
              f"{csv_time * 1e3:8.1f} ms | ratio {xlsx_time / csv_time:5.1f}")


if __name__ == "__main__":
    main()
