"""The template process of a run's kernels (see :mod:`qyb.report.kernels`): ``python kernel_template.py FD``.

Run by path, not as ``python -m qyb...``: importing the ``qyb`` package first would import pandas before
the template sets up what a kernel's imports see. Standard library only until the preload.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from multiprocessing.connection import Connection

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def _become_kernel(conn: Connection, args: list[str], env: dict, cwd: str) -> None:
    """In a process just forked from the template: become ``python -m ipykernel_launcher *args``."""
    import atexit

    code = 1
    try:
        conn.close()
        os.setsid()  # a session of its own, as jupyter_client starts kernels: signals reach it alone
        for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        os.environ["JPY_PARENT_PID"] = str(os.getppid())  # the template: the kernel ends if it goes
        atexit._clear()  # what the template registered is not the kernel's to run
        if "numpy" in sys.modules:  # a fresh process seeds numpy's global generator from the OS
            sys.modules["numpy"].random.seed()
        import ipykernel_launcher

        sys.argv = [ipykernel_launcher.__file__, *args]
        from ipykernel import kernelapp

        try:
            kernelapp.launch_new_instance()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        atexit._run_exitfuncs()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


class _InKernel:
    """What ``get_ipython()`` returns during the template's imports: something with a ``kernel``, as inside
    a kernel. Libraries that look at import time take the kernel's choices (pandas: ``display.max_columns``
    20 in a kernel, the terminal's width outside one)."""

    kernel = None


def _preload(source: str) -> None:
    """Import what the kernels will import, as a kernel would (an import that fails is left to the kernel,
    which then reports it in its notebook as a fresh kernel would)."""
    import ast
    import builtins
    import warnings

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # as ipykernel sets it before the first cell
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel_launcher  # noqa: F401

    try:
        statements = ast.parse(source).body
    except SyntaxError:
        statements = []
    builtins.get_ipython = _InKernel  # a kernel's shell defines it in builtins
    try:
        for statement in statements:  # one at a time: a failing import does not stop the others
            try:
                with warnings.catch_warnings():  # not on the run's terminal (a kernel's would go to its stderr)
                    warnings.simplefilter("ignore")
                    exec(compile(ast.Module([statement], type_ignores=[]), "<preload>", "exec"), {})
            except Exception:
                pass
    finally:
        del builtins.get_ipython  # the kernel's shell puts its own


def _kill_all(kernels: dict) -> None:
    for pid in list(kernels):
        if kernels[pid] is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                kernels[pid] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            except ChildProcessError:
                kernels[pid] = -signal.SIGKILL


def serve(fd: int) -> None:
    """The template's loop on the connection ``fd``: ``("preload", source)`` first, then ``("spawn", args,
    env, cwd)`` -> ``("spawned", pid)`` / ``("failed", why)``, ``("poll", pid)`` -> ``("status", code or
    None)``, ``("stop",)`` (or the run's end closing) -> every kernel still running killed, and exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle; the run closes us
    conn = Connection(fd)
    kernels: dict[int, int | None] = {}  # pid -> exit code (None while running)
    try:
        kind, source = conn.recv()
        _preload(source if kind == "preload" else "")
        while True:
            request = conn.recv()
            if request[0] == "spawn":
                if threading.active_count() > 1:  # forking a threaded process is unsafe: let the run start it
                    conn.send(("failed", "the template runs threads"))
                    continue
                pid = os.fork()
                if pid == 0:
                    _become_kernel(conn, *request[1:])
                kernels[pid] = None
                conn.send(("spawned", pid))
            elif request[0] == "poll":
                pid = request[1]
                if kernels.get(pid, 0) is None:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        kernels[pid] = os.waitstatus_to_exitcode(status)
                conn.send(("status", kernels.get(pid, -signal.SIGKILL)))
            elif request[0] == "stop":
                _kill_all(kernels)
                conn.send(("stopped",))
                return
    except (EOFError, OSError):
        pass
    finally:
        _kill_all(kernels)


if __name__ == "__main__":  # python kernel_template.py FD (started by qyb.report.kernels.KernelForker)
    serve(int(sys.argv[1]))
