#!/usr/bin/env python3
"""Benchmark of the monthly run (not a timed test): wall time beside its floor, measured in the same run.

Both are timed from the start of a fresh process to its end, as a user meets them:

* **floor**: the fixed cost of the notebooks: one notebook per entry of the run's registry, each
  holding only the imports of that report notebook, executed one after another by papermill in
  one process (``python -c``), with the run's kernel.
* **run (new month)**: ``qyb run --month M`` on the shipped sample into a temporary reports folder
  (default: the sample's latest month, the one ``make report`` publishes),
  with an empty processed store (a month seen for the first time: validate, score, draw the rank
  intervals and the fairness section of 03 (in helper processes started as soon as the month is
  validated, :mod:`qyb.report.prepare`), notebooks, documents, HTML, publish).
* **run (again)**: the same command once more, the store now holding the month's panel, scorecard,
  rank intervals, movements and fairness section (a re-run: a correction to the report).

* **floor, the run's kernels** (for review, no target): the same imports-only notebooks with kernels
  started and ended as the run starts and ends them (forked from one template process that has imported
  the notebooks' imports, :mod:`qyb.report.kernels`; ended as soon as the last cell has run). The run's
  ratio to it is what the notebooks' work and the documents add; the ratio to the floor above is what a
  user waits against papermill's plain start.

Best of ``--repeat`` of each, interleaved, after one warm-up of the floor (disk cache, bytecode).
Target (issue 13): run / floor <= 1.2 on the 2-core machine, for both. Printed beside them: where
the best run's time went (the run's own steps from ``run.json``, each notebook's slowest cells from
the executed notebooks). Timings on a busy machine mean little (the load average is printed): the
run uses both cores where the floor uses one.

    .venv/bin/python benchmarks/run_benchmark.py [--month 2023-12] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qyb.data.store import STORE_ENV
from qyb.report.run import KERNEL_NAME, REGISTRY, NotebookSpec, ensure_kernel, notebook_imports

TARGET = 1.2
QYB = Path(sys.executable).with_name("qyb")
FLOOR = """
import sys
from pathlib import Path
from qyb.report.run import KERNEL_NAME, run_papermill
out = Path(sys.argv[1])
for source in sys.argv[2:]:
    run_papermill(Path(source), out / Path(source).name, {}, KERNEL_NAME, working_dir=out)
"""
FLOOR_RUN_KERNELS = """
import sys
from pathlib import Path
from qyb.report.kernels import KernelForker
from qyb.report.run import KERNEL_NAME, REGISTRY, kernel_imports, run_papermill
out = Path(sys.argv[1])
with KernelForker(kernel_imports(REGISTRY)) as forker:
    for source in sys.argv[2:]:
        run_papermill(Path(source), out / Path(source).name, {}, KERNEL_NAME, working_dir=out,
                      connection_dir=out / "kernels", shutdown="immediate", forker=forker)
"""


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


def timed(argv: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def time_floor(specs: list[NotebookSpec], work: Path, script: str = FLOOR) -> float:
    """The imports-only notebooks, one after another, by papermill in one fresh process (``script``: how)."""
    out = Path(tempfile.mkdtemp(prefix="floor-", dir=work))
    return timed([sys.executable, "-c", script, str(out), *[str(s.source()) for s in specs]])


def time_run(month: str, work: Path, store: Path, fresh: bool) -> tuple[float, dict]:
    """``qyb run`` in a fresh process; ``fresh``: with an empty processed store. Returns the seconds and
    where they went (:func:`breakdown`)."""
    if fresh and store.exists():
        shutil.rmtree(store)
    seconds = timed([str(QYB), "run", "--month", month, "--reports", str(work / "reports"), "--quiet"],
                    {STORE_ENV: str(store)})
    return seconds, breakdown(work / "reports" / month)


def breakdown(folder: Path, cells: int = 2) -> dict:
    """The run's own steps (``run.json``) and, per notebook, its wall time and its ``cells`` slowest cells."""
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    out = {"steps": record.get("steps_seconds", {}), "notebooks": {}}
    for path in sorted((folder / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        timed_cells = sorted(((c.metadata.get("papermill", {}).get("duration") or 0.0, c.source.splitlines()[0][:48])
                              for c in nb.cells if c.cell_type == "code" and c.source), reverse=True)
        out["notebooks"][path.stem] = (nb.metadata.get("papermill", {}).get("duration") or 0.0, timed_cells[:cells])
    return out


def show(label: str, where: dict) -> None:
    steps = where["steps"]
    main = ", ".join(f"{k} {v:.1f}" for k, v in steps.items() if v >= 0.3 and not k.startswith(("notebook ", "html ")))
    print(f"    {label}: {main}")
    for name, (total, slowest) in where["notebooks"].items():
        print(f"      {name:<18} {total:5.1f} s; slowest cells: " + "; ".join(f"{d:.1f} s {src}" for d, src in slowest))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default=None, help="YYYY-MM (default: the sample's latest month)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions of each (best reported)")
    args = parser.parse_args(argv)
    if args.month is None:
        from qyb.data.monthfile import month_files
        from qyb.paths import DATA_RAW

        args.month = max(month_files(DATA_RAW))
    ensure_kernel()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = work / "store"  # the run's own store, never the project's
        specs = floor_specs(work)
        time_floor(specs, work)  # warm-up: disk cache, bytecode, font cache
        floors, run_floors, fresh, again = [], [], [], []
        for _ in range(args.repeat):
            floors.append(time_floor(specs, work))
            run_floors.append(time_floor(specs, work, FLOOR_RUN_KERNELS))
            fresh.append(time_run(args.month, work, store, fresh=True))
            again.append(time_run(args.month, work, store, fresh=False))
    floor, run_floor = min(floors), min(run_floors)
    (run, run_where), (rerun, rerun_where) = min(fresh, key=lambda r: r[0]), min(again, key=lambda r: r[0])
    print(f"monthly run {args.month}: {len(REGISTRY)} notebooks ({', '.join(s.name for s in REGISTRY)}); "
          f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; best of {args.repeat}")
    print(f"  floor (imports only, one after another): {floor:6.2f} s   (each: {', '.join(f'{f:.2f}' for f in floors)})")
    print(f"  floor, the run's kernels (for review):   {run_floor:6.2f} s   "
          f"(each: {', '.join(f'{f:.2f}' for f in run_floors)})")
    print(f"  run, new month (empty store):            {run:6.2f} s   (each: {', '.join(f'{r:.2f}' for r, _ in fresh)})"
          f"   ratio {run / floor:5.2f}  ({run / run_floor:.2f} to the run's kernels)")
    print(f"  run again (store holds the month):       {rerun:6.2f} s   (each: {', '.join(f'{r:.2f}' for r, _ in again)})"
          f"   ratio {rerun / floor:5.2f}  ({rerun / run_floor:.2f} to the run's kernels)")
    print("  where the best runs' time went (seconds; the run's steps overlap: helpers, notebooks and documents "
          "run at once):")
    show("new month", run_where)
    show("again", rerun_where)
    met = {"new month": run / floor <= TARGET, "again": rerun / floor <= TARGET}
    print(f"  target run / floor <= {TARGET:.2f}: " + ", ".join(f"{k} {'MET' if v else 'MISSED'}" for k, v in met.items()))
    return 0 if all(met.values()) else 1

if __name__ == "__main__":
    raise SystemExit(main())
