"""Scoring engine speed, each figure beside a floor measured in the same run.

1. Scoring every month of the sample (2023-01..2023-12) in one call vs. reading
   and validating the raw files it needs (the I/O floor).
2. ``score_values`` on 10,000 copies of one month (draws x units x indicators)
   vs. one ``np.argsort`` over the same draws x units array (the ranking floor).
"""
from __future__ import annotations

import numpy as np
from timing import best

from qyb.data.months import month_range
from qyb.data.panel import load_panel
from qyb.engine import score_panel, score_values
from qyb.method import load_method
from qyb.paths import DATA_RAW


def best_of(func, repeat=5):
    return best(func, repeat, warm_up=False)


def main() -> None:
    method = load_method("v2")
    months = month_range("2023-01", "2023-12")
    panel = load_panel(DATA_RAW)
    floor_io = best_of(lambda: load_panel(DATA_RAW), 3)
    score_all = best_of(lambda: score_panel(panel, method, months), 5)
    print(f"score 12 months x 29 units: {score_all * 1e3:8.1f} ms | floor (read+validate raw): "
          f"{floor_io * 1e3:8.1f} ms | ratio {score_all / floor_io:5.2f}")
    table = score_panel(panel, method, ["2023-03"])
    draws = np.broadcast_to(table.scores.values[-1], (10_000, *table.scores.values[-1].shape)).copy()
    draws *= np.random.default_rng(0).uniform(0.9, 1.1, size=draws.shape)
    mc = best_of(lambda: score_values(method, draws), 3)
    floor_sort = best_of(lambda: np.argsort(draws[..., 0], axis=-1), 3)
    print(f"score_values 10,000 draws:  {mc * 1e3:8.1f} ms | floor (argsort draws x units): "
          f"{floor_sort * 1e3:8.1f} ms | ratio {mc / floor_sort:5.1f}")


if __name__ == "__main__":
    main()
