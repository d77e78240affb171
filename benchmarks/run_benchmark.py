#!/usr/bin/env python3
"""Benchmark of the monthly run (not a timed test): wall time beside its floor.

The floor is the fixed cost of papermill: the same number of notebooks as the
run's registry, each holding only the imports of the report notebooks,
executed by papermill with the same kernel, concurrency and working folder
(:func:`qyb.run.execute_all`). The run is :func:`qyb.run.run_month` on the
shipped sample (validate, notebooks, HTML, XLSX, publish) into a temporary
reports folder. Target: run / floor <= 1.5 on a 2-core machine.

Usage::

    .venv/bin/python benchmarks/run_benchmark.py [--month 2023-03] [--repeat 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qyb.report.run import KERNEL_NAME, REGISTRY, NotebookSpec, Progress, ensure_kernel, execute_all, run_month


def import_lines(notebook: Path) -> str:
    """The import statements of a notebook (top-level ``import``/``from`` lines of its code cells)."""
    nb = nbformat.read(str(notebook), as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = cell.source.splitlines()
        i = 0
        while i < len(text):
            line = text[i]
            if line.startswith(("import ", "from ")):
                block = [line]
                while block[-1].rstrip().endswith(("(", ",", "\\")) and i + 1 < len(text):
                    i += 1
                    block.append(text[i])
                lines.append("\n".join(block))
            i += 1
    return "\n".join(dict.fromkeys(lines))


def floor_specs(folder: Path) -> list[NotebookSpec]:
    """One imports-only notebook per registry entry."""
    specs = []
    for spec in REGISTRY:
        nb = new_notebook(cells=[new_code_cell(import_lines(spec.source()))])
        nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
        path = folder / f"{spec.name}_imports.ipynb"
        nbformat.write(nb, str(path))
        specs.append(NotebookSpec(spec.name, spec.title, params=(), path=path))
    return specs


def time_floor(specs: list[NotebookSpec], work: Path) -> float:
    build = Path(tempfile.mkdtemp(prefix="floor-", dir=work))
    t0 = time.perf_counter()
    execute_all(specs, {}, build, Progress(quiet=True), KERNEL_NAME, html=False)
    return time.perf_counter() - t0


def time_run(month: str, work: Path) -> float:
    args = SimpleNamespace(month=month, latest=False, method=None, data=None,
                           reports=str(work / "reports"), quiet=True)
    t0 = time.perf_counter()
    status = run_month(args)
    elapsed = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"the run failed (exit {status})")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2023-03")
    parser.add_argument("--repeat", type=int, default=2, help="timed repetitions of each (median reported)")
    args = parser.parse_args(argv)
    ensure_kernel()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        specs = floor_specs(work)
        time_floor(specs, work)  # warm-up: disk cache, bytecode, font cache
        floors, runs = [], []
        for _ in range(args.repeat):
            runs.append(time_run(args.month, work))
            floors.append(time_floor(specs, work))
        run, floor = statistics.median(runs), statistics.median(floors)
    print(f"machine: {os.cpu_count()} CPU(s); notebooks: {len(REGISTRY)} ({', '.join(s.name for s in REGISTRY)})")
    print(f"monthly run {args.month}: {run:6.2f} s   (each: {', '.join(f'{r:.2f}' for r in runs)})")
    print(f"floor (imports only): {floor:6.2f} s   (each: {', '.join(f'{f:.2f}' for f in floors)})")
    print(f"ratio run / floor:    {run / floor:6.2f}   (target <= 1.50)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
