#!/usr/bin/env python3
"""Benchmark: bootstrap rank intervals for the sample town, 10,000 draws (issue 4: "seconds, not minutes").

(The calibrated posterior intervals, the default since issue 9, are timed by ``fair_stars_bench.py``.)

Prints, in the same run and on the same machine, the wall time of
``qyb.uncertainty.rank_draws`` (resample + score every draw under the month's method)
beside two floors it cannot beat:

* numpy drawing the same random numbers alone (Poisson 10,000 x 29 x count measures and
  Binomial 10,000 x 29 x attainment pairs);
* scoring the month once, nominally (``qyb.score.score_panel``), the engine's fixed cost;

and the ratios. Loading and validating the raw files is timed separately (it is paid
once per run, not per draw).

    .venv/bin/python benchmarks/rank_uncertainty_bench.py [--month 2023-03] [--draws 10000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import qyb
from qyb.engine import score_panel
from qyb.movements.intervals import rank_draws, resampled_measures, summarise_draws


def best_of(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2023-03")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t = time.perf_counter()
    ed = qyb.load(args.month)
    panel, method = ed.panel, ed.method
    t_load = time.perf_counter() - t
    units = len(panel.units)
    counts, pairs = resampled_measures(method)
    obs = {c: panel.cube(c, [args.month])[0] for c in counts}
    tot = {h: panel.cube(tt, [args.month])[0] for h, tt in pairs}
    hnd = {h: panel.cube(h, [args.month])[0] for h, _ in pairs}

    def numpy_floor():
        rng = np.random.default_rng(0)
        for c in counts:
            rng.poisson(np.broadcast_to(obs[c], (args.draws, units)))
        for h in hnd:
            rng.binomial(np.broadcast_to(tot[h].astype(np.int64), (args.draws, units)),
                         np.broadcast_to(np.clip(hnd[h] / np.maximum(tot[h], 1), 0, 1), (args.draws, units)))

    def nominal():
        score_panel(panel, method, [args.month])

    def full():
        summarise_draws(rank_draws(panel, args.month, method, n_draws=args.draws, seed=1, model="bootstrap"))

    f_min, f_med = best_of(numpy_floor, args.repeat)
    n_min, n_med = best_of(nominal, args.repeat)
    r_min, r_med = best_of(full, args.repeat)
    print(f"rank uncertainty benchmark: {args.month}, method {method.name}, {units} units, "
          f"{len(counts)} count measures + {len(pairs)} attainment pairs, {args.draws:,} draws, "
          f"best/median of {args.repeat}")
    print(f"  load + validate raw files (once)          {t_load:8.3f} s")
    print(f"  floor A: numpy random draws only          {f_min:8.3f} s   (median {f_med:.3f})")
    print(f"  floor B: nominal scoring of the month     {n_min:8.3f} s   (median {n_med:.3f})")
    print(f"  rank_draws + summary ({args.draws:,} draws)       {r_min:8.3f} s   (median {r_med:.3f})")
    print(f"  ratio to floor A (random numbers)         {r_min / f_min:8.1f} x")
    print(f"  ratio to floor B (one nominal scoring)    {r_min / n_min:8.1f} x  "
          f"(= {r_min / n_min / args.draws * 1e3:.2f} nominal scorings per 1,000 draws)")
    print(f"  per draw                                  {r_min / args.draws * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
