"""What a process the run forks must not keep: the run's own descriptors, dropped in every forked child.

The run forks helpers (:mod:`qyb.report.prepare`) that inherit every open file. Some of those belong
to the run alone: the month's lock file (an ``flock`` lives as long as any copy of the open file, so a
killed run's helper would keep the month "in progress", and a helper's exit could unlock a living run)
and the run's end of the kernel template's connection (the template ends when the run's end closes).
Each registers how its copy is dropped (:func:`run_only`) and unregisters when the run releases it
(:func:`released`); after a ``fork`` the child drops them all, closing only its own descriptors.
"""
from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["run_only", "released"]

_RUN_ONLY: dict[int, Callable[[], None]] = {}  # id of the owner -> how a child drops its copy


def run_only(owner: object, drop: Callable[[], None]) -> None:
    """``owner`` holds a descriptor that forked children must not keep; ``drop`` closes a child's copy."""
    _RUN_ONLY[id(owner)] = drop


def released(owner: object) -> None:
    """``owner`` no longer holds it (the run closed it itself)."""
    _RUN_ONLY.pop(id(owner), None)


def _drop_in_child() -> None:
    for drop in list(_RUN_ONLY.values()):
        try:
            drop()
        except OSError:
            pass
    _RUN_ONLY.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_in_child)
