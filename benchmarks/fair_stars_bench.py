#!/usr/bin/env python3
"""Benchmark of the calibrated rank intervals (issue 9): 10,000 posterior draws for the 29 units.

``rank_intervals(model="posterior")`` on the month (default 2023-03 under v2): fit the empirical-Bayes
posterior, draw 10,000 truths (every month and measure the method reads), score each truth, draw a
fresh month from each and score it, tally. Target: <= 3 s. Beside it, measured in the same run (best
of ``--repeat``): (a) the very random numbers the posterior draws, alone (truth gammas and betas, the
fresh months' gamma, Poisson, normal and binomial variates: ``intervals_scale_bench.model_floor``),
(b) the engine scoring 20,000 copies of the month in one ``score_values`` call, (c) the bootstrap
model (qyb's first intervals) with as many draws, beside its own random numbers.

Rank intervals at scale (2,000 draws for 20,000 or 29,000 units under an 8 GB address-space limit)
are measured by ``intervals_scale_bench.py`` (``--model posterior`` or ``bootstrap``).

    .venv/bin/python benchmarks/fair_stars_bench.py [--draws 10000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import qyb
from qyb.engine import score_values
from qyb.movements.intervals import rank_intervals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intervals_scale_bench import model_floor  # this folder is on sys.path when a benchmark runs
from scoring_bench import best_of


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2023-03")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    ed = qyb.load(args.month)
    n = args.draws
    rank_intervals(ed.panel, ed.month, ed.method, n_draws=200, seed=1)  # warm-up
    post = best_of(lambda: rank_intervals(ed.panel, ed.month, ed.method, n_draws=n, seed=1), args.repeat)
    boot = best_of(lambda: rank_intervals(ed.panel, ed.month, ed.method, n_draws=n, seed=1, model="bootstrap"),
                   args.repeat)
    rng_floor = min(model_floor(ed.panel, ed.method, n, "posterior", ed.month) for _ in range(args.repeat))
    boot_floor = min(model_floor(ed.panel, ed.method, n, "bootstrap", ed.month) for _ in range(args.repeat))
    values = ed.table.scores.values[-1]
    copies = np.broadcast_to(values, (2 * n, *values.shape)).copy()
    engine_floor = best_of(lambda: score_values(ed.method, copies), args.repeat)
    print(f"fair stars benchmark: {ed.month} under {ed.method.name}, {len(ed.units)} units, {n:,} draws, "
          f"best of {args.repeat}")
    print(f"  posterior rank intervals ({n:,} draws)      {post:8.3f} s   target <= 3 s: "
          f"{'met' if post <= 3 else 'NOT met'}")
    print(f"  floor a: the posterior's random numbers    {rng_floor:8.3f} s   ratio {post / rng_floor:5.1f}")
    print(f"  floor b: score_values on {2 * n:,} copies     {engine_floor:8.3f} s   ratio {post / engine_floor:5.1f}")
    print(f"  bootstrap rank intervals (same draws)      {boot:8.3f} s   ratio {post / boot:5.1f}; "
          f"its random numbers {boot_floor:.3f} s (ratio {boot / boot_floor:.1f})")


if __name__ == "__main__":
    main()
