#!/usr/bin/env python3
"""Benchmark of the Monte Carlo over method choices (issue 5): wall time beside floors measured in the same run.

Measured (best of ``--repeat``, after one warm-up):

* **mc**: ``UncertaintyModel.run(n_draws)`` on the sample town — weights,
  normalisation, aggregation and star rule all varied (the default
  :class:`qyb.method_uncertainty.Choices`); the model is built once beforehand
  (data loading and the few engine scorings per option are reported apart as
  **build**).
* **floor_engine**: one vectorised nominal scoring of ``n_draws`` copies of the
  month by the engine (:func:`qyb.score.score_values` on a
  ``(n_draws, units, indicators)`` array) — the cost of scoring that many
  town-months once.
* **floor_argsort**: ``numpy.argsort`` of a ``(n_draws, units)`` array — the
  bare minimum of ranking that many draws.
* **sobol**: :func:`qyb.method_uncertainty.sobol_rank_shift` with ``n = 1024``
  (``1024 × (4 + 2) = 6144`` model runs plus 1,000 bootstrap draws).

Target: 10,000 draws in about a second. Usage::

    .venv/bin/python benchmarks/method_uncertainty_bench.py [--month 2023-03] [--draws 10000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import best

import qyb
from qyb.engine import score_values
from qyb.review.montecarlo import UncertaintyModel, sobol_rank_shift


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2023-03")
    ap.add_argument("--method", default=None)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ed = qyb.load(args.month, args.method)
    model = UncertaintyModel.from_table(ed.table, ed.panel, ed.month)
    build = time.perf_counter() - t0
    n, U = args.draws, len(model.unit_ids)

    mc = best(lambda: model.run(n, seed=0), args.repeat)
    copies = np.broadcast_to(model.values, (n, *model.values.shape)).copy()
    deductions = {k: np.broadcast_to(v, (n, U)).copy() for k, v in model.deductions.items()}
    floor_engine = best(lambda: score_values(model.method, copies, deductions or None), args.repeat)
    x = np.random.default_rng(0).random((n, U))
    floor_argsort = best(lambda: np.argsort(x, axis=1), args.repeat)
    sobol = best(lambda: sobol_rank_shift(model, 1024, seed=0), 1)

    print(f"method uncertainty benchmark: {args.month} under {model.method.name}, {U} units, "
          f"{len(model.categories)} categories, factors {list(model.groups)}")
    print(f"  build model (load data, score {len(model.choices.normalisations) * len(model.choices.aggregations)} "
          f"option combinations)   {build:8.3f} s")
    print(f"  mc: {n:,} draws                              {mc:8.3f} s")
    print(f"  floor_engine: score_values on {n:,} copies     {floor_engine:8.3f} s   mc / floor = "
          f"{mc / floor_engine:6.2f}")
    print(f"  floor_argsort: argsort of {n:,} x {U}           {floor_argsort:8.4f} s   mc / floor = "
          f"{mc / floor_argsort:6.1f}")
    print(f"  sobol: n = 1024 (grouped factors)             {sobol:8.3f} s")


if __name__ == "__main__":
    main()
