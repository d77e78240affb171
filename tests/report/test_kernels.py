"""Kernels forked from the run's template process (qyb.report.kernels): the same notebooks, the same outputs.

A forked kernel must be indistinguishable from a fresh one to a notebook: working directory, environment,
pandas' display options, matplotlib's backend, its own random state; interrupts, shutdowns and a killed run
must behave as with fresh kernels; and the run's notebooks must give the same outputs either way.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from qyb.report.kernels import KernelForker, kernel_mode, kernels_used
from qyb.report.run import KERNEL_NAME, REGISTRY, ensure_kernel, kernel_imports, kernel_manager_in, run_papermill
from tests.report.test_run import MONTH, make_small_data, run_cli, smoke  # noqa: F401 -- smoke: the shared run

pytestmark = pytest.mark.slow

PROBE = textwrap.dedent("""\
    import json, os, sys
    preloaded = "pandas" in sys.modules
    import numpy as np, pandas as pd, matplotlib
    print(json.dumps({"preloaded": preloaded, "cwd": os.getcwd(), "mark": os.environ.get("QYB_TEST_MARK"),
                      "ppid": os.getppid(), "parent_env": os.environ.get("JPY_PARENT_PID"),
                      "max_columns": pd.get_option("display.max_columns"), "width": pd.get_option("display.width"),
                      "backend": matplotlib.get_backend(), "random": float(np.random.random()),
                      "argv0": os.path.basename(sys.argv[0]), "pid": os.getpid()}))
""")


def probe_notebook(folder: Path) -> Path:
    nb = new_notebook(cells=[new_code_cell(PROBE)])
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(nb, str(path))
    return path


def probe(folder: Path, forker) -> dict:
    out = run_papermill(probe_notebook(folder), folder / "probe.out.ipynb", {}, working_dir=folder,
                        connection_dir=folder / "kernels", shutdown="immediate", forker=forker)
    return json.loads(out["cells"][0]["outputs"][0]["text"])


@pytest.fixture
def forker():
    ensure_kernel()
    f = KernelForker(kernel_imports(REGISTRY))
    yield f
    f.close()


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_a_forked_kernel_sees_what_a_fresh_one_sees(tmp_path, forker, monkeypatch):
    monkeypatch.setenv("QYB_TEST_MARK", "set after the template started")  # the kernel's env is the manager's
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fresh = probe(tmp_path / "a", None)
    forked = probe(tmp_path / "b", forker)
    again = probe(tmp_path / "b", forker)
    assert not fresh["preloaded"] and forked["preloaded"], "the forked kernel starts with the imports done"
    assert forked["ppid"] == forker.process.pid and forked["parent_env"] == str(forker.process.pid)
    assert fresh["cwd"] == str(tmp_path / "a") and forked["cwd"] == str(tmp_path / "b")
    assert forked["mark"] == fresh["mark"] == "set after the template started"
    for key in ("max_columns", "width", "backend", "argv0"):
        assert forked[key] == fresh[key], key
    assert forked["max_columns"] == 20  # pandas' choice inside a kernel (0 in a terminal)
    assert forked["random"] != again["random"], "each kernel seeds numpy's global generator afresh"
    assert wait_gone(forked["pid"]) and wait_gone(again["pid"]), "immediate shutdown ends the kernel"


def test_interrupt_and_graceful_shutdown(tmp_path, forker):
    async def scenario():
        manager = kernel_manager_in(tmp_path / "kernels", forker)(kernel_name=KERNEL_NAME)
        await manager.start_kernel(cwd=str(tmp_path))
        pid = manager.provisioner.pid
        client = manager.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=60)
            msg_id = client.execute("import time; time.sleep(60)")
            await asyncio.sleep(1.0)
            await manager.interrupt_kernel()
            reply = await client.get_shell_msg(timeout=30)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = await client.get_shell_msg(timeout=30)
            interrupted = reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
            await manager.shutdown_kernel(now=False)
        finally:
            client.stop_channels()
        return pid, interrupted

    pid, interrupted = asyncio.run(scenario())
    assert interrupted, "SIGINT reaches the forked kernel as KeyboardInterrupt"
    assert forker.status(pid) == 0, "a graceful shutdown ends the kernel with status 0"


def test_only_the_ipykernel_command_is_forked(forker, tmp_path):
    assert forker.spawn([sys.executable, "-m", "some_other_kernel", "-f", "x.json"], dict(os.environ),
                        str(tmp_path)) is None
    assert kernels_used(forker) == "forked" and kernels_used(None) == "fresh"


def test_a_killed_run_takes_its_template_and_kernels_with_it(tmp_path):
    """The run SIGKILLed with a kernel running: the template sees the connection close, kills the kernel and
    exits; nothing is left behind."""
    script = textwrap.dedent(f"""\
        import os, signal, sys
        from qyb.report.kernels import KernelForker
        f = KernelForker("import json")
        k = f.spawn([sys.executable, "-m", "ipykernel_launcher", "-f", {str(tmp_path / 'k.json')!r}],
                    dict(os.environ), {str(tmp_path)!r})
        print(f.process.pid, k.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL
    template, kernel = map(int, done.stdout.split())
    assert wait_gone(kernel), "the kernel ended with the run"
    assert wait_gone(template), "the template ended with the run"


def test_kernels_setting_is_checked(monkeypatch):
    monkeypatch.setenv("QYB_KERNELS", "fresh")
    assert kernel_mode() == "fresh" and kernel_mode("forked") == "forked"
    monkeypatch.setenv("QYB_KERNELS", "warp")
    from qyb.errors import InputError

    with pytest.raises(InputError, match="QYB_KERNELS"):
        kernel_mode()


def test_bad_kernels_setting_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    data = make_small_data(tmp_path / "raw")
    monkeypatch.setenv("QYB_KERNELS", "warp")
    status, out, err = run_cli("run", "--month", "2023-03", "--data", str(data), "--reports",
                               str(tmp_path / "reports"), "--quiet")
    assert status == 2 and "QYB_KERNELS" in err and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def normalised(path: Path, reports: Path) -> list[str]:
    """A notebook's outputs without what differs between any two runs (Styler ids, object addresses, the
    build folder's path under ``reports``, execution counts)."""
    out = []
    for cell in nbformat.read(str(path), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for o in cell.outputs:
            text = json.dumps({k: v for k, v in o.items() if k != "execution_count"}, sort_keys=True)
            text = re.sub(r"T_[0-9a-f]{5}", "T_", text)
            text = re.sub(r" at 0x[0-9a-f]+", " at 0x", text)
            text = text.replace(json.dumps(str(reports))[1:-1], "REPORTS")
            out.append(re.sub(r"\.build-[0-9-]+-[A-Za-z0-9_]+", ".build", text))
    return out


def test_the_run_gives_the_same_notebooks_with_fresh_kernels(smoke, tmp_path):  # noqa: F811
    """The smoke run (forked kernels, the default) against the same run with fresh kernels: every output of
    every notebook is the same (figures byte for byte)."""
    assert json.loads((smoke.folder / "run.json").read_text(encoding="utf-8"))["parameters"]["kernels"] == "forked"
    status, _, err = run_cli("run", "--month", MONTH, "--data", str(smoke.data), "--reports",
                             str(tmp_path / "reports"), "--quiet", "--kernels", "fresh")
    assert status == 0, err
    fresh = tmp_path / "reports" / MONTH
    assert json.loads((fresh / "run.json").read_text(encoding="utf-8"))["parameters"]["kernels"] == "fresh"
    for spec in REGISTRY:
        name = f"notebooks/{spec.name}.ipynb"
        a, b = normalised(smoke.folder / name, smoke.reports), normalised(fresh / name, fresh.parent)
        assert len(a) == len(b) and len(a) > 3, name
        differing = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        assert not differing, f"{name}: outputs {differing} differ between forked and fresh kernels"
    for png in sorted((smoke.folder / "figures").glob("*.png")):
        assert png.read_bytes() == (fresh / "figures" / png.name).read_bytes(), png.name
