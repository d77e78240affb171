"""Threads for the Monte Carlo paths: the same numbers, on every core.

numpy releases the GIL inside its array loops and its random generators, so independent
pieces of one chunk of draws run at the same time in threads of one process: the random
numbers of different measures (every measure has its own stream, :func:`qyb.sample.model.stream`,
so the numbers do not depend on which thread draws them or when) and the scoring of different
blocks of draws (draws are scored independently). Results come back in the order the tasks
were given, so every figure is the same to the last bit as with one thread.

``QYB_THREADS`` sets the number of threads (default: the CPUs this process may use, at most
:data:`MAX_THREADS`); 1 runs everything in the calling thread.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MAX_THREADS", "threads", "run_tasks"]

#: default ceiling on the threads (the pieces of a chunk are a few dozen at most)
MAX_THREADS = 8

_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None  # (process id, threads): a forked child builds its own pool
_lock = threading.Lock()
_inside = threading.local()


def threads() -> int:
    """Threads to use: ``QYB_THREADS`` if set (at least 1), else the CPUs available, at most :data:`MAX_THREADS`."""
    env = os.environ.get("QYB_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"QYB_THREADS must be a whole number of threads, got {env!r}") from None
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_THREADS))


def _executor(n: int) -> ThreadPoolExecutor:
    global _pool, _pool_key
    key = (os.getpid(), n)
    with _lock:
        if _pool is None or _pool_key != key:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="qyb")
            _pool_key = key
        return _pool


def _marked(task: Callable):
    _inside.active = True
    try:
        return task()
    finally:
        _inside.active = False


def run_tasks(tasks: Sequence[Callable[[], object]]) -> list:
    """Run ``tasks`` (callables without arguments) on the threads; their results in the given order.

    Runs them one after another in the calling thread when there is one thread or one task, or
    when called from inside a task (no nested waiting on the same threads). An exception in a
    task is raised here. Put the longest tasks first: free threads take the next task in order.
    """
    n = threads()
    if n <= 1 or len(tasks) <= 1 or getattr(_inside, "active", False):
        return [task() for task in tasks]
    pool = _executor(n)
    futures = [pool.submit(_marked, task) for task in tasks]
    return [f.result() for f in futures]
