#!/usr/bin/env python3
"""Rank intervals at scale: 2,000 draws for 29,000 units, beside the numpy floor measured in the same run.

The sample replicated into 1,000 towns of 29 units (every month up to the scored one, so the
dispersion rule has its 12 months), method v2, ``Edition.rank_intervals`` path
(:func:`qyb.movements.intervals.rank_intervals`): draw the month (``--model posterior``, the default
since issue 9: a truth from the empirical-Bayes posterior and a fresh month from it, both scored; or
``--model bootstrap``: the month's counts resampled), score every draw through the full method, ranks
and stars within each town, summarise. It runs in its own process under an
address-space limit (``--limit-gb``, default 8) so that a run that does not bound its memory fails
with MemoryError instead of starving the shared machine.

* **floor**: the random numbers alone (a Poisson draw of every count measure the method reads, and
  a binomial draw of every attainment pair, for draws x units) plus one rank of each draw within
  each town (argsort), in chunks of 100 draws: what any resampling of this size must do.

Target (2-core machine): <= 60 s with peak memory < 2 GB.

    .venv/bin/python benchmarks/intervals_scale_bench.py [--units 29000] [--draws 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

MONTH = "2023-03"
TARGET_S, TARGET_GB = 60.0, 2.0


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def case(units: int, draws: int, limit_gb: float, model: str = "posterior") -> dict:
    import numpy as np

    from qyb.edition import read_panel
    from qyb.method import load_method
    from qyb.movements.intervals import rank_intervals, resampled_measures
    from qyb.sample.replicate import replicate

    limit = int(limit_gb * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    method = load_method("v2")
    panel = replicate(read_panel(MONTH, store=False), max(units // 29, 1))
    n = len(panel.units)
    counts, pairs = resampled_measures(method)

    def floor():
        rng = np.random.default_rng(0)
        for start in range(0, draws, 100):
            d = min(100, draws - start)
            for c in counts:
                rng.poisson(np.broadcast_to(panel.cube(c, [MONTH])[0], (d, n)))
            for handled, total in pairs:
                t = panel.cube(total, [MONTH])[0]
                p = np.clip(panel.cube(handled, [MONTH])[0] / np.maximum(t, 1), 0, 1)
                rng.binomial(np.broadcast_to(t.astype(np.int64), (d, n)), np.broadcast_to(p, (d, n)))
            np.argsort(rng.random((d, n // 29, 29)), axis=-1)

    t0 = time.perf_counter()
    floor()
    floor_s = time.perf_counter() - t0
    base_gb = peak_gb()
    result = {"units": n, "draws": draws, "floor": floor_s, "limit_gb": limit_gb, "model": model}
    t0 = time.perf_counter()
    try:
        frame = rank_intervals(panel, MONTH, method, n_draws=draws, model=model)
        result.update(seconds=time.perf_counter() - t0, rows=len(frame), error=None)
    except MemoryError:
        result.update(seconds=time.perf_counter() - t0, rows=0, error=f"MemoryError under a {limit_gb:g} GB limit")
    result.update(peak_gb=peak_gb(), base_gb=base_gb)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=29_000)
    ap.add_argument("--draws", type=int, default=2000)
    ap.add_argument("--limit-gb", type=float, default=8.0)
    ap.add_argument("--model", choices=["posterior", "bootstrap"], default="posterior",
                    help="posterior: the calibrated intervals ed.rank_intervals gives (default); bootstrap: the "
                         "month's counts resampled (issue 9)")
    ap.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(case(args.units, args.draws, args.limit_gb, args.model)))
        return 0
    out = subprocess.run([sys.executable, __file__, "--case", "--units", str(args.units), "--draws", str(args.draws),
                          "--limit-gb", str(args.limit_gb), "--model", args.model], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"rank-interval benchmark failed:\n{out.stderr[-3000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    judged = (args.units, args.draws) == (29_000, 2000)  # the target's case
    met = r["error"] is None and (not judged or (r["seconds"] <= TARGET_S and r["peak_gb"] < TARGET_GB))
    print(f"rank intervals ({r['model']}): {r['units']:,} units, {r['draws']:,} draws, method v2; load average "
          f"{os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    state = r["error"] or f"{r['seconds']:.1f} s, peak {r['peak_gb']:.2f} GB"
    print(f"  rank_intervals: {state}   floor (random numbers + a rank per draw): {r['floor']:.2f} s"
          + (f"   ratio {r['seconds'] / r['floor']:.1f}" if r["error"] is None else "")
          + (f"   target <= {TARGET_S:g} s, < {TARGET_GB:g} GB: {'MET' if met else 'MISSED'}" if judged else ""))
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
