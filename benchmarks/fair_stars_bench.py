#!/usr/bin/env python3
"""Benchmark of the calibrated rank intervals (issue 9) and of rank intervals at scale (issues 13, 15).

Each figure beside floors measured in the same run (best of ``--repeat``):

1. **10,000 posterior draws through the full method for the 29 units** (the month's method, default
   2023-03 under v2): ``rank_intervals(model="posterior")`` -- fit the empirical-Bayes posterior, draw
   10,000 truths (every month the method reads), score each truth, draw a fresh month from each and
   score it, tally. Target: <= 3 s. Floors: (a) numpy drawing the same random numbers alone (truth
   gammas/betas and the fresh months' gamma, Poisson, normal and binomial variates), (b) the engine
   scoring 20,000 copies of the month in one ``score_values`` call, (c) the bootstrap model (qyb's
   first intervals) with the same draws.
2. **2,000 draws for 29,000 units** (the sample replicated into 1,000 towns of 29), in a child process
   whose peak memory (RSS) is reported; the same for **20,000 units under an 8 GB address-space limit**
   (``qyb intervals`` on 20,000 units died of MemoryError before draws were chunked). Targets (issue
   13): <= 60 s and < 2 GB at 29,000 units. Floor: the same child process scoring the month once.

    .venv/bin/python benchmarks/fair_stars_bench.py [--draws 10000] [--repeat 3] [--big-draws 2000] [--skip-big]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import qyb
from qyb.data.panel import Panel
from qyb.engine import score_values
from qyb.movements.intervals import rank_intervals
from qyb.sample.model import cells_read

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scoring_bench import best_of  # this folder is on sys.path when a benchmark runs


def replicated(panel: Panel, towns: int) -> Panel:
    """The panel's units repeated in ``towns`` towns (ids suffixed), figures identical."""
    units = pd.concat([panel.units.assign(town=f"T{t:05d}").rename(index=lambda u, t=t: f"{u}-{t}")
                       for t in range(towns)])
    units.index.name = "unit_id"
    return Panel(panel.data_dir, units, panel.months, np.tile(panel.array, (1, towns, 1)), panel.measures)


def numpy_floor(ed, n: int) -> None:
    """The random numbers of ``n`` posterior draws alone: a gamma (or beta) per unit and measure for the
    truth, and the fresh month's variates for every (measure, month) cell the method reads."""
    rng = np.random.default_rng(0)
    U = len(ed.units)
    cells = cells_read(ed.method, ed.month)
    for code, months in cells.items():
        rng.standard_gamma(np.full((n, U), 20.0))  # the truth
        shape = (n, len(months), U)
        if code.endswith(("handled", "inspected", "rectified", "resolved", "done")):
            rng.standard_normal(shape)
            rng.binomial(np.full(shape, 40), 0.9)
        else:
            rng.standard_gamma(25.0, shape)
            rng.poisson(np.full(shape, 8.0))


def big_case(towns: int, draws: int, limit_gb: float | None) -> dict:
    """Run in a child process: rank intervals of the replicated sample; time and peak RSS."""
    code = f"""
import json, resource, time
{'resource.setrlimit(resource.RLIMIT_AS, (int(' + str(limit_gb) + ' * 2**30),) * 2)' if limit_gb else ''}
import sys
sys.path.insert(0, "benchmarks")
import qyb
from fair_stars_bench import replicated
from qyb.engine import score_panel
from qyb.movements.intervals import rank_intervals
ed = qyb.load("2023-03")
big = replicated(ed.panel, {towns})
t = time.perf_counter(); score_panel(big, ed.method, ["2023-03"]); floor = time.perf_counter() - t
t = time.perf_counter(); ri = rank_intervals(big, "2023-03", ed.method, n_draws={draws}, seed=1)
secs = time.perf_counter() - t
print(json.dumps({{"units": len(big.units), "draws": {draws}, "seconds": secs, "floor": floor,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "rows": len(ri)}}))
"""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    if out.returncode:
        return {"units": towns * 29, "draws": draws, "error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2023-03")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big-draws", type=int, default=2000)
    ap.add_argument("--skip-big", action="store_true", help="only the 29-unit figures")
    args = ap.parse_args(argv)

    ed = qyb.load(args.month)
    n = args.draws
    rank_intervals(ed.panel, ed.month, ed.method, n_draws=200, seed=1)  # warm-up
    post = best_of(lambda: rank_intervals(ed.panel, ed.month, ed.method, n_draws=n, seed=1), args.repeat)
    boot = best_of(lambda: rank_intervals(ed.panel, ed.month, ed.method, n_draws=n, seed=1, model="bootstrap"),
                   args.repeat)
    rng_floor = best_of(lambda: numpy_floor(ed, n), args.repeat)
    values = ed.table.scores.values[-1]
    copies = np.broadcast_to(values, (2 * n, *values.shape)).copy()
    engine_floor = best_of(lambda: score_values(ed.method, copies), args.repeat)
    print(f"fair stars benchmark: {ed.month} under {ed.method.name}, {len(ed.units)} units, {n:,} draws, "
          f"best of {args.repeat}")
    print(f"  posterior rank intervals ({n:,} draws)      {post:8.3f} s   target <= 3 s: "
          f"{'met' if post <= 3 else 'NOT met'}")
    print(f"  floor a: numpy random numbers alone        {rng_floor:8.3f} s   ratio {post / rng_floor:5.1f}")
    print(f"  floor b: score_values on {2 * n:,} copies     {engine_floor:8.3f} s   ratio {post / engine_floor:5.1f}")
    print(f"  bootstrap rank intervals (same draws)      {boot:8.3f} s   ratio {post / boot:5.1f}")
    if args.skip_big:
        return
    for towns, limit in ((1000, None), (690, 8.0)):
        r = big_case(towns, args.big_draws, limit)
        if "error" in r:
            print(f"  {r['units']:,} units x {r['draws']:,} draws: FAILED ({r['error']})")
            continue
        lim = f" (address space limited to {limit:g} GB)" if limit else ""
        print(f"  {r['units']:,} units x {r['draws']:,} draws{lim}: {r['seconds']:7.1f} s, peak RSS "
              f"{r['peak_gb']:.2f} GB; floor (scoring the month once) {r['floor']:.2f} s")
    print(f"  (this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB)")


if __name__ == "__main__":
    main()
