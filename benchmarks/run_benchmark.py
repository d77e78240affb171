#!/usr/bin/env python3
"""Benchmark of the monthly run (not a timed test): wall time beside its floor, measured in the same run.

* **floor**: the fixed cost of the notebooks: one notebook per entry of the run's registry, each
  holding only the imports of that report notebook, executed one after another by papermill in
  this one process, with the run's kernel.
* **run (new month)**: :func:`qyb.report.run.run_month` on the shipped sample into a temporary
  reports folder, with an empty processed store (a month seen for the first time: validate, score,
  draw the rank intervals, notebooks, HTML, XLSX, publish).
* **run (again)**: the same month once more, the store now holding its panel, scorecard and rank
  intervals (a re-run: a correction to the report, a second method).

Best of ``--repeat`` of each, after one warm-up of the floor (disk cache, bytecode). Target:
run / floor <= 1.2 on the 2-core machine.

    .venv/bin/python benchmarks/run_benchmark.py [--month 2023-03] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qyb.data.store import STORE_ENV
from qyb.report.run import (
    KERNEL_NAME,
    REGISTRY,
    NotebookSpec,
    ensure_kernel,
    notebook_imports,
    run_month,
    run_papermill,
)

TARGET = 1.2


def floor_specs(folder: Path) -> list[NotebookSpec]:
    """One imports-only notebook per registry entry."""
    specs = []
    for spec in REGISTRY:
        nb = new_notebook(cells=[new_code_cell(notebook_imports(spec.source()))])
        nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
        path = folder / f"{spec.name}_imports.ipynb"
        nbformat.write(nb, str(path))
        specs.append(NotebookSpec(spec.name, spec.title, params=(), path=path))
    return specs


def time_floor(specs: list[NotebookSpec], work: Path) -> float:
    """The imports-only notebooks, one after another, by papermill in this process."""
    out = Path(tempfile.mkdtemp(prefix="floor-", dir=work))
    t0 = time.perf_counter()
    for spec in specs:
        run_papermill(spec.source(), out / f"{spec.name}.ipynb", {}, KERNEL_NAME, working_dir=out)
    return time.perf_counter() - t0


def time_run(month: str, work: Path, store: Path, fresh: bool) -> float:
    if fresh and store.exists():
        shutil.rmtree(store)
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
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions of each (best reported)")
    args = parser.parse_args(argv)
    ensure_kernel()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = work / "store"
        before = os.environ.get(STORE_ENV)
        os.environ[STORE_ENV] = str(store)  # the run's store, shared with its kernels; never the project's
        try:
            specs = floor_specs(work)
            time_floor(specs, work)  # warm-up: disk cache, bytecode, font cache
            floors, fresh, again = [], [], []
            for _ in range(args.repeat):
                floors.append(time_floor(specs, work))
                fresh.append(time_run(args.month, work, store, fresh=True))
                again.append(time_run(args.month, work, store, fresh=False))
        finally:
            if before is None:
                os.environ.pop(STORE_ENV, None)
            else:
                os.environ[STORE_ENV] = before
    floor, run, rerun = min(floors), min(fresh), min(again)
    print(f"monthly run {args.month}: {len(REGISTRY)} notebooks ({', '.join(s.name for s in REGISTRY)}); "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; best of {args.repeat}")
    print(f"  floor (imports only, one after another): {floor:6.2f} s   (each: {', '.join(f'{f:.2f}' for f in floors)})")
    print(f"  run, new month (empty store):            {run:6.2f} s   (each: {', '.join(f'{r:.2f}' for r in fresh)})"
          f"   ratio {run / floor:5.2f}")
    print(f"  run again (store holds the month):       {rerun:6.2f} s   (each: {', '.join(f'{r:.2f}' for r in again)})"
          f"   ratio {rerun / floor:5.2f}")
    met = run / floor <= TARGET
    print(f"  target run / floor <= {TARGET:.2f}: {'MET' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
