"""Run every benchmark script in this folder (``make bench``); each prints its figures beside its floors.

A script that misses its target returns a non-zero status: the others still run, and ``make bench``
fails at the end, naming them.
"""
from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    missed = []
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs): "
          "timings are only meaningful on a quiet machine", flush=True)
    for script in sorted(HERE.glob("*bench*.py")):
        print(f"== {script.name}", flush=True)
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (0, None):
                missed.append(script.name)
    if missed:
        print(f"targets missed (or failed): {', '.join(missed)}")
    raise SystemExit(1 if missed else 0)
