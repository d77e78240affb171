"""What the notebooks of a run will ask for, started ahead in a helper process.

A run's kernels spend their first seconds starting and importing before any cell computes. The
heaviest tables they read are functions of the validated panel alone: the rank intervals of the
month and of the month before (every page and the 榜单 files read them) and the fairness section of
``03_method_review`` (about half of the run's CPU for a new month). As soon as the month is
validated, :func:`start` forks a helper (a fork shares the run's loaded panel and imports: nothing
is read again). It imports what the tasks need once, then builds each task in a process of its own,
the fairness section's independent pieces spread over the cores (:func:`run_forked`), into the
processed store under the store's lock, exactly as the kernel would (same function, same key, same
bytes); the kernel that asks waits on that lock and reads it. A task built before for the same
panel, month, method and code is not started (:func:`built_before`). Without the store, or where
``fork`` is not available, nothing is started and the kernels compute as before; a task that fails
leaves the work to the kernel (which then reports any error in its notebook).

A notebook names what it will ask for in :attr:`qyb.report.run.NotebookSpec.ahead`; the arguments
come from the notebook's own parameters (its ``parameters`` cell, overridden by what the run
injects), read as the notebook reads them (:data:`PREPARATIONS`).
"""
from __future__ import annotations

import ast
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

__all__ = ["PREPARATIONS", "Helper", "notebook_parameters", "planned", "start", "finish", "run_forked", "built_before"]


def notebook_parameters(notebook: Path) -> dict:
    """The defaults of a notebook's ``parameters`` cell: ``name = literal`` assignments (what papermill
    overrides), read without executing anything (plain JSON: nbformat is not imported before the helpers
    are forked)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    out = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            for node in ast.parse("".join(source) if isinstance(source, list) else source).body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    try:
                        out[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        pass
    return out


def _rank_intervals(edition, params: dict) -> tuple:
    """The rank intervals of the month and of the month before, as :class:`~qyb.report.notebook.Page` asks
    for them: the notebook's ``n_draws`` and ``seed`` when it has them, else the defaults."""
    from qyb.vocab import RANK_INTERVAL_SEED

    seed = params.get("seed")
    return ("rank_intervals", int(params.get("n_draws", 2000)), RANK_INTERVAL_SEED if seed in (None, "") else int(seed))


def _fairness(edition, params: dict) -> tuple:
    """The fairness section as notebook 03 asks for it (``ed.review(..., fairness=, fairness_size=, seed=,
    unit=focus)``, focus the named unit or the unit that moved most)."""
    focus = params.get("focus_unit") or ""
    unit = edition.unit(focus) if focus else edition.focus_unit()
    return ("fairness", str(params.get("fairness", "")), str(params.get("fairness_size", "standard")),
            int(params.get("seed", 0)), unit)


def _build(edition, task: tuple) -> None:
    """Build ``task`` (a key from :data:`PREPARATIONS`) into the processed store."""
    if task[0] == "rank_intervals":
        _, draws, seed = task
        previous = edition.previous()
        edition.rank_intervals(draws, seed)
        if previous is not None:
            previous.rank_intervals(draws, seed)
    elif task[0] == "fairness":
        _, methods, size, seed, unit = task
        if methods:
            edition.fairness(methods, size, seed, unit, run=run_forked)


def _quiet() -> None:
    """A helper process prints nothing on the run's terminal (numerical warnings of small data included),
    and, told to end (SIGTERM, :func:`finish`), ends the processes it forked before it ends itself."""
    import warnings

    warnings.simplefilter("ignore")
    signal.signal(signal.SIGTERM, _end)


def _end(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through run_forked, which ends and reaps its processes


def _run_one(task: Callable[[], object], reply) -> None:
    _quiet()
    try:
        reply.send(("done", task()))
    except BaseException as exc:
        reply.send(("failed", f"{type(exc).__name__}: {exc}"))


def run_forked(tasks: dict, workers: int | None = None) -> dict:
    """Run independent ``tasks`` (``{key: thunk}``) in forked processes, at most ``workers`` at a time
    (default: the number of CPUs), in the order given; their results (pickled back) by key. The
    results are those of running them here: each task is a pure function of its arguments. Raises
    RuntimeError when one fails."""
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    workers = max(1, workers or multiprocessing.cpu_count())
    waiting = list(tasks.items())
    running: dict = {}  # connection -> (key, process)
    results: dict = {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                key, task = waiting.pop(0)
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_run_one, args=(task, send))  # may fork in turn
                process.start()
                send.close()
                running[receive] = (key, process)
            for conn in wait(list(running)):
                key, process = running.pop(conn)
                try:
                    status, value = conn.recv()
                except EOFError:
                    status, value = "failed", f"the process ended with exit code {process.join() or process.exitcode}"
                conn.close()
                process.join()
                if status != "done":
                    raise RuntimeError(f"task {key} failed: {value}")
                results[key] = value
    finally:
        for conn, (_, process) in running.items():
            process.terminate()
            process.join()
            conn.close()
    return {key: results[key] for key in tasks}


#: name in ``NotebookSpec.ahead`` -> function (edition, the notebook's parameters) -> the task to build,
#: the arguments the notebook will use
PREPARATIONS: dict[str, Callable[[object, dict], tuple]] = {"rank_intervals": _rank_intervals, "fairness": _fairness}


def planned(specs, parameters: dict, edition) -> list[tuple]:
    """The distinct tasks the notebooks ``specs`` name in ``ahead``, with the arguments their parameters give
    (the notebook's defaults, overridden by the run's ``parameters`` for those it injects)."""
    tasks = []
    for spec in specs:
        if not spec.ahead:
            continue
        params = notebook_parameters(spec.source()) | {k: parameters.get(k, "") for k in spec.params}
        for name in spec.ahead:
            task = PREPARATIONS[name](edition, params)
            if task not in tasks:
                tasks.append(task)
    return tasks


@dataclass
class Helper:
    """The forked helper building ``tasks``; ``reply`` receives each task's seconds (or error) when it ends."""

    tasks: list[tuple]
    process: multiprocessing.Process
    reply: object
    started: float


#: the code a task's tables are made by (a change is a new key: the task is built again)
TASK_CODE = ("review", "sample", "movements", "stats", "report/prepare.py")
#: the modules a task's work imports: loaded once by the helper, before its tasks part (shared by both)
TASK_IMPORTS = {"rank_intervals": ("qyb.movements.intervals",), "fairness": ("qyb.review.summary",)}


def _done_params(edition, task: tuple) -> dict:
    return {"month": edition.month, "method": edition.method.hash, "task": list(task)}


def _done_key(edition, task: tuple) -> str:
    from qyb.data.store import SCORING_CODE, table_key

    return table_key(edition.panel.store_key, "ahead", _done_params(edition, task), SCORING_CODE + TASK_CODE)


def built_before(edition, task: tuple) -> bool:
    """Whether a helper already built ``task`` for this panel, month, method and code (a re-run: the
    store holds its tables, so no helper is needed; a table since lost is rebuilt by the kernel)."""
    from qyb.data.store import StoreMiss

    try:
        edition.store.read_frame(edition.panel.store_key, _done_key(edition, task))
        return True
    except StoreMiss:
        return False


def _task(edition, task: tuple) -> tuple[str, object]:
    """Build one task and mark it built; ``("done", seconds)`` or ``("failed", why)``."""
    import pandas as pd

    from qyb.data.store import SCORING_CODE

    t0 = time.perf_counter()
    try:
        _build(edition, task)
        edition.store.frame(edition.panel.store_key, "ahead", _done_params(edition, task),
                            lambda: pd.DataFrame({"task": [repr(task)]}), SCORING_CODE + TASK_CODE)
        return ("done", time.perf_counter() - t0)
    except Exception as exc:  # the kernel computes it instead (and shows any error in its notebook)
        return ("failed", f"{type(exc).__name__}: {exc}")


def _own_group(pid: int = 0) -> None:
    """Make ``pid`` (0: this process) the leader of a process group: the helper and every process it forks
    are ended together (:func:`finish`)."""
    try:
        os.setpgid(pid, pid)
    except OSError:  # already done by the other side of the fork, or the process has ended
        pass


def _helper(edition, tasks: list[tuple], reply) -> None:
    import importlib

    _own_group()
    _quiet()
    try:
        for name in dict.fromkeys(m for task in tasks for m in TASK_IMPORTS.get(task[0], ())):
            importlib.import_module(name)
        if len(tasks) == 1:
            statuses = {tasks[0]: _task(edition, tasks[0])}
        else:  # the tasks side by side, each in its own process
            statuses = run_forked({task: partial(_task, edition, task) for task in tasks}, workers=len(tasks))
        reply.send(statuses)
    except SystemExit:  # stopped (finish): nothing to report
        raise
    except BaseException as exc:
        reply.send({task: ("failed", f"{type(exc).__name__}: {exc}") for task in tasks})


def start(specs, parameters: dict, edition) -> list[Helper]:
    """Fork the helper building the tasks of :func:`planned` whose results the processed store will hold
    (nothing without the store or without ``fork``, nor for a task built before: :func:`built_before`).
    Call before any thread is started."""
    if edition.store is None or edition.panel.store_key is None:
        return []
    if "fork" not in multiprocessing.get_all_start_methods():
        return []
    tasks = [task for task in planned(specs, parameters, edition) if not built_before(edition, task)]
    if not tasks:
        return []
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # not a daemon: the helper forks its tasks and their pieces (run_forked); finish() always ends it
    process = context.Process(target=_helper, args=(edition, tasks, send), name="qyb-ahead")
    process.start()
    _own_group(process.pid)  # also from here: no window in which finish() could miss its group
    send.close()
    return [Helper(tasks, process, receive, time.perf_counter())]


def _end_group(process: multiprocessing.Process) -> None:
    """End the helper's process group (the helper and the processes it forked) while the helper runs (its
    pid, the group's id, is ours until it is reaped); a helper that ended has ended its own."""
    if process.exitcode is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except OSError:  # no such group (not made yet, or gone): the helper itself
        if process.is_alive():
            process.terminate()


def finish(helpers: list[Helper], progress=None, wait: bool = False) -> None:
    """End the helpers: after the notebooks each has ended unless a kernel built its tables first (then it
    is stopped: what it was building is stored already; ``wait``: let it finish instead). Reports each
    task's seconds to ``progress``; empties ``helpers``."""
    while helpers:
        h = helpers.pop(0)
        if not wait:
            _end_group(h.process)
        h.process.join()
        try:
            statuses = h.reply.recv() if h.reply.poll() else {}
        except EOFError:  # ended without a word (stopped, or killed)
            statuses = {}
        h.reply.close()
        for task in h.tasks:
            status = statuses.get(task, ("stopped", f"exit code {h.process.exitcode}"))
            if progress is None:
                continue
            if status[0] == "done":
                progress.done(f"ahead: {task[0]}", status[1], "helper process")
            else:  # the kernel made it instead
                progress.done(f"ahead: {task[0]} ({status[0]})", time.perf_counter() - h.started, str(status[1]))
