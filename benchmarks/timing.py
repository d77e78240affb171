"""What every benchmark here shares: the best wall time of repeated runs."""
from __future__ import annotations

import time


def best(func, repeat: int, warm_up: bool = True) -> float:
    """The shortest wall time of ``repeat`` calls of ``func`` (after one untimed call when ``warm_up``):
    on a shared machine the minimum is the figure least disturbed by other work."""
    if warm_up:
        func()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)
