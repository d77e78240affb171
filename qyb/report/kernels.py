"""A run's kernels, forked from one process that has already imported what the notebooks import.

Every notebook of a run needs a Jupyter kernel: a fresh Python that imports ipykernel, then, in the
notebook's first cell, qyb, numpy, pandas and matplotlib. That is about 2.5 s of CPU per kernel, paid
four times per run on a 2-core machine. :class:`KernelForker` starts one *template*
(:mod:`qyb.report.kernel_template`, run by path: a fresh interpreter, nothing of the run's own state) that imports
ipykernel and the notebooks' imports (:func:`qyb.report.run.notebook_imports`) once. Each kernel is
then a ``fork`` of the template that becomes an ordinary ipykernel (``IPKernelApp``, exactly what
``python -m ipykernel_launcher`` runs) with the connection file, environment and working directory
jupyter_client gives it, in a session of its own (as jupyter_client starts kernels). Its cells run
as in a fresh kernel: the imports find their modules loaded, the state those modules hold is the
state their import leaves. The template sets ``MPLBACKEND`` to the inline backend before importing,
as ipykernel does before a notebook's first cell.

The run's kernel manager (:func:`qyb.report.run.kernel_manager_in`) asks the template for a kernel in
place of starting ``python -m ipykernel_launcher``; a command that is not that (another kernel), a
template that has failed or a platform without ``fork`` get the ordinary start. jupyter_client then
manages the kernel through :class:`ForkedKernel`, a ``Popen``-like handle: signals go to the kernel's
process group, its exit status comes from the template (its parent, which reaps it).

Lifetimes: the template ends when the run closes it (:meth:`KernelForker.close`) or when the run's end
of the connection closes (the run killed): it then kills the kernels still running and exits. A
kernel's ``JPY_PARENT_PID`` names the template, so ipykernel's parent poller ends a kernel whose
template has gone. ``QYB_KERNELS=fresh`` (or ``qyb run --kernels fresh``) starts every kernel the
ordinary way.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from qyb.report.forked import released, run_only

__all__ = ["KERNELS_ENV", "MODES", "KernelForker", "ForkedKernel", "kernel_mode", "start_forker", "kernels_used",
           "launch_in"]

#: environment variable choosing how a run starts its kernels: ``forked`` (default) or ``fresh``
KERNELS_ENV = "QYB_KERNELS"
MODES = ("forked", "fresh")
#: the kernel command the template can stand in for (the ``qyb`` kernel spec's)
LAUNCHER = ("-m", "ipykernel_launcher")
#: seconds the run waits for the template's answer (the first waits for its imports) before starting fresh
ANSWER_TIMEOUT = 120
#: the template's program, run by path: ``python -m qyb...`` would import qyb (and pandas) before the template
#: could import them as a kernel does
TEMPLATE = Path(__file__).with_name("kernel_template.py")


def kernel_mode(requested: str | None = None) -> str:
    """``requested`` (``forked`` / ``fresh``), else :data:`KERNELS_ENV`, else ``forked``; ``fresh`` where
    ``fork`` does not exist. Another value is bad input (:class:`~qyb.errors.InputError`)."""
    mode = requested or os.environ.get(KERNELS_ENV) or "forked"
    if mode not in MODES:
        from qyb.errors import InputError, Problem

        raise InputError(Problem(KERNELS_ENV if not requested else "--kernels", f"unknown way to start kernels {mode!r}",
                                 f"Use one of: {', '.join(MODES)}.", zh=f"无法识别的内核启动方式 {mode!r}",
                                 hint_zh=f"请使用 {' 或 '.join(MODES)}", code="kernels"))
    return mode if hasattr(os, "fork") else "fresh"


# ---------------------------------------------------------------- the run's side
class ForkedKernel:
    """A kernel forked by the template, as jupyter_client's provisioner uses a ``subprocess.Popen``."""

    stdin = stdout = stderr = None

    def __init__(self, forker: KernelForker, pid: int):
        self.forker = forker
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.forker.status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class KernelForker:
    """The template process of a run (see the module docstring): :meth:`spawn` a kernel, :meth:`close`."""

    def __init__(self, preload: str):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen([sys.executable, str(TEMPLATE), str(theirs.fileno())],
                                        pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self._conn = Connection(ours.detach())
        self._lock = threading.Lock()
        self._failed: str | None = None
        self._conn.send(("preload", preload))
        run_only(self, self._conn.close)  # the template ends when the run's end closes

    def _ask(self, *request):
        with self._lock:
            if self._failed:
                return ("failed", self._failed)
            try:
                self._conn.send(request)
                if not self._conn.poll(ANSWER_TIMEOUT):  # its imports hang: the kernels start fresh (and show why)
                    self._failed = f"the template did not answer within {ANSWER_TIMEOUT} s"
                    self.process.kill()
                    return ("failed", self._failed)
                return self._conn.recv()
            except (OSError, EOFError) as exc:
                self._failed = f"the template process ended ({type(exc).__name__})"
                return ("failed", self._failed)

    def spawn(self, argv: list[str], env: dict, cwd: str) -> ForkedKernel | None:
        """A kernel for the command ``argv`` (with ``env`` and working directory ``cwd``), forked from the
        template; None when the template cannot stand in for that command or has failed."""
        if list(argv[1:3]) != list(LAUNCHER):
            return None
        answer = self._ask("spawn", list(argv[3:]), dict(env), str(cwd))
        return ForkedKernel(self, answer[1]) if answer[0] == "spawned" else None

    def status(self, pid: int) -> int | None:
        """The exit status of kernel ``pid`` (None while it runs; -9 when the template is gone)."""
        answer = self._ask("poll", pid)
        return answer[1] if answer[0] == "status" else -signal.SIGKILL

    @property
    def failed(self) -> str | None:
        """Why the template cannot fork kernels (None while it can)."""
        return self._failed

    def close(self, timeout: float = 5.0) -> None:
        """End the template and every kernel of it still running."""
        released(self)
        self._ask("stop")
        with self._lock:
            self._failed = self._failed or "closed"
            self._conn.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> KernelForker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_forker(preload: str, mode: str | None = None) -> KernelForker | None:
    """The template for a run's kernels, importing ``preload`` (Python import statements); None when the
    run's kernels are to start fresh (``mode``, see :func:`kernel_mode`)."""
    return KernelForker(preload) if kernel_mode(mode) == "forked" else None


def kernels_used(forker: KernelForker | None) -> str:
    """How a run's kernels were started, for its record: ``forked`` (from the template), ``fresh``, or
    ``fresh (...)`` when the template failed (the kernels it could not fork started fresh)."""
    if forker is None:
        return "fresh"
    return "forked" if forker.failed in (None, "closed") else f"fresh ({forker.failed})"


async def launch_in(forker: KernelForker | None, manager, kernel_cmd: list[str], kw: dict) -> bool:
    """Start the kernel of jupyter_client's ``manager`` from ``forker`` (the body of the manager's
    ``_async_launch_kernel``, the hook jupyter_client offers for launching kernels differently).
    False when the forker cannot: the caller starts it the ordinary way."""
    if forker is None or forker.failed:
        return False
    env = kw.get("env") or dict(os.environ)
    cwd = str(kw.get("cwd") or os.getcwd())
    kernel = await asyncio.get_running_loop().run_in_executor(None, forker.spawn, kernel_cmd, env, cwd)
    if kernel is None:
        return False
    provisioner = manager.provisioner  # a LocalProvisioner: it signals, polls and waits on .process
    provisioner.process, provisioner.pid, provisioner.pgid = kernel, kernel.pid, kernel.pid
    provisioner.cwd = cwd
    manager._reconcile_connection_info(provisioner.connection_info)
    return True
