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

Then the fairness section of ``03_method_review`` for a new month (issue 13: most of a new month's
extra cost): the pieces of ``fairness_review`` (:func:`qyb.review.fairness.fairness_tasks`: methods
v1, v2, v3 with the ``standard`` sizes, the six frontier candidates, the focus unit's story), each
run in this process on one thread, its CPU seconds (best of ``--repeat``), beside the floor measured
in the same runs: the CPU spent inside numpy's random generators drawing the very numbers the pieces
draw (fixed by the seeds: the same figures must come out, so no implementation draws fewer).

    .venv/bin/python benchmarks/fair_stars_bench.py [--draws 10000] [--repeat 3] [--fairness-month 2023-12]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import qyb
from qyb.engine import score_values
from qyb.movements.intervals import rank_intervals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intervals_scale_bench import model_floor  # this folder is on sys.path when a benchmark runs
from scoring_bench import best_of


class _TimedGenerator:
    """A numpy Generator whose drawing methods add their CPU seconds to ``spent[0]``."""

    def __init__(self, generator: np.random.Generator, spent: list):
        self._generator, self._spent = generator, spent

    def __getattr__(self, name):
        attr = getattr(self._generator, name)
        if not callable(attr):
            return attr

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return attr(*args, **kwargs)
            finally:
                self._spent[0] += time.process_time() - start
        return timed


@contextmanager
def timed_generators(spent: list):
    """Every random stream the simulations open (:func:`qyb.sample.model.stream`, the bootstrap's spawned
    streams) timed into ``spent[0]`` while the block runs: the floor of the random numbers, measured inside
    the very runs it is the floor of."""
    import qyb.review.reliability as reliability
    import qyb.sample.model as model
    import qyb.sample.posterior as posterior
    from qyb.sample.bootstrap import BootstrapDraws

    original, original_streams = model.stream, BootstrapDraws.streams

    def stream(*args):
        return _TimedGenerator(original(*args), spent)

    def streams(self):
        counts, pairs = original_streams(self)
        wrap = lambda rngs: {k: tuple(_TimedGenerator(g, spent) for g in v) for k, v in rngs.items()}  # noqa: E731
        return wrap(counts), wrap(pairs)

    modules = (model, posterior, reliability)
    try:
        for module in modules:
            module.stream = stream
        BootstrapDraws.streams = streams
        yield
    finally:
        for module in modules:
            module.stream = original
        BootstrapDraws.streams = original_streams


def fairness_section(month: str, repeat: int) -> None:
    """CPU of each piece of the fairness section of ``month`` (best of ``repeat``) beside its random numbers."""
    from qyb.review.fairness import Settings, fairness_tasks
    from qyb.sample.truth import truth_for

    ed = qyb.load(month)
    tasks = fairness_tasks(ed.panel, month, "v1,v2,v3", truth_for(ed.panel), Settings.preset("standard"),
                           ed.focus_unit())
    best: dict = {}
    threads = os.environ.get("QYB_THREADS")
    os.environ["QYB_THREADS"] = "1"  # the CPU of the piece itself (the monthly run spreads the pieces over the cores)
    try:
        for _ in range(repeat):
            for key, task in tasks.items():
                spent = [0.0]
                with timed_generators(spent):
                    start = time.process_time()
                    task()
                    cpu = time.process_time() - start
                if key not in best or cpu < best[key][0]:
                    best[key] = (cpu, spent[0])
    finally:
        if threads is None:
            del os.environ["QYB_THREADS"]
        else:
            os.environ["QYB_THREADS"] = threads
    print(f"fairness section of 03_method_review: {month}, v1,v2,v3, standard sizes, one thread, CPU s, "
          f"best of {repeat}")
    for key, (cpu, floor) in best.items():
        print(f"  {'/'.join(map(str, key)):14s} {cpu:7.2f} s   random numbers {floor:6.2f} s   ratio {cpu / floor:5.1f}")
    cpu, floor = sum(v[0] for v in best.values()), sum(v[1] for v in best.values())
    print(f"  {'total':14s} {cpu:7.2f} s   random numbers {floor:6.2f} s   ratio {cpu / floor:5.1f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month", default="2023-03")
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fairness-month", default="2023-12", help="month of the fairness section timed (none: skip)")
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
    if args.fairness_month != "none":
        fairness_section(args.fairness_month, args.repeat)


if __name__ == "__main__":
    main()
