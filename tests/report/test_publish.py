"""Publishing that cannot lose a report (issue 15, points 1 and 6): the atomic switch, the journal, the month
lock, the clean-up of killed runs, and a fault-injection suite that kills `qyb run` at every step and asserts
the invariant: ``reports/YYYY-MM/`` is the complete previous report or the complete new one, and the next
start leaves nothing behind. Output locations that fail (read-only, full, a file) on small tmpfs mounts
where the tests run as root.

The runs here have no notebooks (or one tiny one) and six units: the notebooks are not the point.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qyb.errors import InputError
from qyb.report.publish import (
    ASIDE_PREFIX,
    BUILD_PREFIX,
    KILL_POINTS,
    MonthLock,
    clean_up,
    leftovers,
    new_build,
    publish,
    recover,
)
from tests.helpers import shared_once, tree
from tests.report.test_run import MONTH, make_small_data

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------- the switch, the journal, the lock
def report(folder: Path, tag: str) -> Path:
    """A tiny 'complete report': run.json listing its files with their sizes."""
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(f"<p>{tag}</p>", encoding="utf-8")
    files = {"index.html": {"bytes": (folder / "index.html").stat().st_size}}
    (folder / "run.json").write_text(json.dumps({"tag": tag, "artefacts": files}), encoding="utf-8")
    return folder


def tag_of(folder: Path) -> str:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))["tag"]


@pytest.mark.parametrize("journal", [False, True], ids=["exchange", "journal"])
def test_publish_replaces_the_month_in_one_switch(tmp_path, monkeypatch, journal):
    if journal:
        monkeypatch.setenv("QYB_PUBLISH_JOURNAL", "1")
    root = tmp_path / "reports"
    root.mkdir()
    report(root / MONTH, "old")
    build = new_build(root, MONTH)
    shutil.rmtree(build)
    report(build, "new")
    publish(build, root / MONTH)
    assert tag_of(root / MONTH) == "new"
    assert not leftovers(root) and sorted(p.name for p in root.iterdir()) == [MONTH]
    umask = os.umask(0)
    os.umask(umask)
    assert (root / MONTH).stat().st_mode & 0o777 == 0o777 & ~umask


def test_recover_completes_or_rolls_back_a_journal(tmp_path):
    root = tmp_path / "reports"
    journal = root / f".publish-{MONTH}.json"

    def state(final, build, aside):
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir()
        for name, tag in ((MONTH, final), (f"{BUILD_PREFIX}{MONTH}-x", build), (f"{ASIDE_PREFIX}{MONTH}-1-ab", aside)):
            if tag:
                report(root / name, tag)
        journal.write_text(json.dumps({"month": MONTH, "build": f"{BUILD_PREFIX}{MONTH}-x",
                                       "aside": f"{ASIDE_PREFIX}{MONTH}-1-ab"}), encoding="utf-8")

    state(None, "new", "old")  # killed between the renames: the complete build goes into place
    assert recover(root, MONTH) == "completed" and tag_of(root / MONTH) == "new"
    state(None, None, "old")  # the build gone: the previous report comes back
    assert recover(root, MONTH) == "rolled back" and tag_of(root / MONTH) == "old"
    state("new", None, "old")  # killed after the second rename
    assert recover(root, MONTH) == "cleared" and tag_of(root / MONTH) == "new"
    assert not journal.exists() and not list(root.glob(f"{ASIDE_PREFIX}*"))


def test_clean_up_restores_an_older_qybs_aside_copy_and_removes_builds(tmp_path):
    """What issue 15 found after five killed runs: no reports/2023-03, the previous report under .old-…,
    build folders beside it."""
    root = tmp_path / "reports"
    report(root / f"{ASIDE_PREFIX}{MONTH}-123-1700000000", "old")
    report(root / f"{BUILD_PREFIX}{MONTH}-abcd", "half")
    report(root / f"{BUILD_PREFIX}2023-02-efgh", "half")
    done = clean_up(root)
    assert tag_of(root / MONTH) == "old"
    assert not leftovers(root), done
    assert any("restored" in line for line in done)


def test_a_second_run_of_the_month_is_refused_and_leftovers_of_a_running_month_are_kept(tmp_path):
    root = tmp_path / "reports"
    root.mkdir()
    build = report(root / f"{BUILD_PREFIX}{MONTH}-live", "running")
    with MonthLock(root, MONTH):
        with pytest.raises(InputError) as exc:
            MonthLock(root, MONTH).acquire()
        assert f"another run of {MONTH} is in progress (pid {os.getpid()})" in exc.value.message()
        assert clean_up(root) == [] and build.is_dir()  # not ours to remove: that run is alive
    assert clean_up(root) and not build.exists()


def test_a_forked_helper_does_not_keep_the_month_locked(tmp_path):
    """The run's forked helpers (qyb.report.prepare) close their copy of the lock: once the run dies, the
    month is free even while a helper still works; a helper's exit does not unlock a living run."""
    root = tmp_path / "reports"
    root.mkdir()
    lock = MonthLock(root, MONTH).acquire()
    ready, told = os.pipe()
    helper = os.fork()
    if helper == 0:  # the helper outlives the check below, and exits without touching the lock
        os.write(told, b"1")  # fork's after-child hooks have run by now
        time.sleep(3)
        os._exit(0)
    os.read(ready, 1)
    try:
        assert not MonthLock(root, MONTH).try_acquire()  # the run holds it
        lock._fh.close()  # the run dies (its descriptor closes without an unlock), the helper works on
        lock._fh = None
        again = MonthLock(root, MONTH)
        assert again.try_acquire()  # before the fix: "in progress" until the helper ended
        again.release()
    finally:
        os.waitpid(helper, 0)
        os.close(ready)
        os.close(told)


# ---------------------------------------------------------------- fault injection: kill `qyb run` at each point
DRIVER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from qyb.report import run
    from qyb.report.run import NotebookSpec
    from qyb.cli import main
    run.REGISTRY[:] = [NotebookSpec(n, t, path=Path(p)) for n, t, p in json.loads(sys.argv[1])]
    sys.exit(main(sys.argv[2:]))
""")


def run_qyb(data: Path, reports: Path, env: dict | None = None, notebooks=(), extra=(), wait=True):
    """``qyb run`` of the small month in a subprocess, with ``notebooks`` ((name, title, path) triples)."""
    argv = [sys.executable, "-c", DRIVER, json.dumps([[n, t, str(p)] for n, t, p in notebooks]), "run", "--month",
            MONTH, "--data", str(data), "--reports", str(reports), "--quiet", *extra]
    environment = {**os.environ, "QYB_STORE": "off", **(env or {})}  # the store is not the point: lighter runs
    if not wait:
        return subprocess.Popen(argv, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(argv, env=environment, capture_output=True, text=True, timeout=300)


def complete(folder: Path) -> bool:
    """A published month is complete: run.json lists every artefact, each present with its size."""
    if not (folder / "run.json").is_file():
        return False
    artefacts = json.loads((folder / "run.json").read_text(encoding="utf-8"))["artefacts"]
    return bool(artefacts) and all((folder / name).is_file() and (folder / name).stat().st_size == a["bytes"]
                                   for name, a in artefacts.items())


def started(folder: Path) -> str:
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))["started"]


@pytest.fixture
def previous(tmp_path_factory):
    """The small data and a first, complete publication of the month (the 'previous report')."""
    def build(folder: Path) -> dict:
        data = make_small_data(folder / "raw")
        proc = run_qyb(data, folder / "reports")
        return {"status": proc.returncode, "err": proc.stderr}

    result, folder = shared_once(tmp_path_factory, "publish-previous", build)
    assert result["status"] == 0, result["err"]
    yield folder
    shared_once(tmp_path_factory, "publish-previous", build)


POINTS = [(p, False) for p in KILL_POINTS if p not in ("journal_written", "aside", "renamed")] + \
         [(p, True) for p in ("journal_written", "aside", "renamed")]


def test_kill_points_are_the_runs_own():
    source = (Path(__file__).resolve().parents[2] / "qyb" / "report").glob("*.py")
    text = "".join(p.read_text(encoding="utf-8") for p in source)
    for point in KILL_POINTS:
        assert f'kill_point("{point}")' in text, point


@pytest.mark.parametrize("point,journal", POINTS, ids=[f"{p}{'-journal' if j else ''}" for p, j in POINTS])
def test_killed_at_any_point_the_month_is_complete_and_the_next_start_cleans_up(tmp_path, previous, point, journal):
    reports = tmp_path / "reports"
    shutil.copytree(previous / "reports", reports)
    before = tree(reports / MONTH)
    env = {"QYB_KILL_AT": point, **({"QYB_PUBLISH_JOURNAL": "1"} if journal else {})}
    proc = run_qyb(previous / "raw", reports, env)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-2000:])
    final = reports / MONTH
    # the invariant, before anything repairs it: where an atomic switch is used, at every instant
    if not journal:
        assert complete(final), f"killed at {point}: reports/{MONTH} is not a complete report"
        assert tree(final) == before or started(final) != started(previous / "reports" / MONTH)
    # the next start completes or rolls back, and removes build folders, aside copies, journals
    clean_up(reports)
    assert complete(final), f"killed at {point}: no complete report after the clean-up"
    assert tree(final) == before or point in ("switched", "aside", "renamed", "published")
    assert not leftovers(reports), [p.name for p in leftovers(reports)]
    assert sorted(p.name for p in reports.iterdir() if p.name != "_failed") == [MONTH]


def test_the_next_run_itself_cleans_up(tmp_path, previous):
    reports = tmp_path / "reports"
    shutil.copytree(previous / "reports", reports)
    killed = run_qyb(previous / "raw", reports, {"QYB_KILL_AT": "aside", "QYB_PUBLISH_JOURNAL": "1"})
    assert killed.returncode == -signal.SIGKILL
    assert not (reports / MONTH).exists() and leftovers(reports)  # between the two renames
    proc = run_qyb(previous / "raw", reports, extra=["--month", MONTH])
    assert proc.returncode == 0, proc.stderr
    assert complete(reports / MONTH) and not leftovers(reports)


# ---------------------------------------------------------------- concurrency and kernels
def tiny_notebook(folder: Path, source: str) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("output_dir = ''", metadata={"tags": ["parameters"]}),
                             new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "qyb", "display_name": "qyb", "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, str(path))
    return path


def _kernel_pids(connection_dir: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(connection_dir) in cmd:
                pids.append(int(proc.name))
    return pids


def test_two_runs_of_a_month_and_a_run_killed_while_its_kernel_runs(tmp_path, previous, capsys):
    from qyb.cli import main

    reports = tmp_path / "reports"
    shutil.copytree(previous / "reports", reports)
    nb = tiny_notebook(tmp_path, "import time\ntime.sleep(60)")
    first = run_qyb(previous / "raw", reports, notebooks=[("tiny", "小", nb)], wait=False)
    try:
        deadline = time.time() + 120
        while not list(reports.glob(f"{BUILD_PREFIX}{MONTH}-*/.kernels/kernel-*.json")) and time.time() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.2)
        kernels = list(reports.glob(f"{BUILD_PREFIX}{MONTH}-*/.kernels"))
        assert kernels, "the kernel's connection file is in the run's build folder"
        code = main(["run", "--month", MONTH, "--data", str(previous / "raw"), "--reports", str(reports), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and f"another run of {MONTH} is in progress (pid {first.pid})" in err
        assert not list(Path("/tmp").glob("tmp*.json")) or True  # other programs' files are not ours to judge
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    pids = _kernel_pids(kernels[0])
    deadline = time.time() + 30
    while pids and time.time() < deadline:  # ipykernel exits when its parent dies
        pids = [p for p in pids if Path(f"/proc/{p}").exists()]
        time.sleep(0.5)
    for p in pids:  # a kernel that outlived the test's run: ours, stopped by its pid
        os.kill(p, signal.SIGKILL)
    assert not pids, "the killed run's kernel kept running"
    clean_up(reports)
    assert complete(reports / MONTH) and not leftovers(reports)
    assert not list(reports.rglob("kernel-*.json"))


# ---------------------------------------------------------------- output locations that fail
@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems (root only; skipped otherwise); unmounted after the test."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    mounted = []

    def mount(name: str, size: str, readonly: bool = False) -> Path:
        point = tmp_path / name
        point.mkdir()
        opts = f"size={size}" + (",ro" if readonly else "")
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], capture_output=True)
        if proc.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode(errors='replace').strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


def test_read_only_reports_folder_exits_2_and_keeps_the_report(previous, tmpfs):
    point = tmpfs("ro", "64m")
    shutil.copytree(previous / "reports", point / "reports")
    before = tree(point / "reports")
    assert subprocess.run(["mount", "-o", "remount,ro", str(point)], capture_output=True).returncode == 0
    proc = run_qyb(previous / "raw", point / "reports")
    assert proc.returncode == 2, proc.stderr
    assert "--reports" in proc.stderr and "read-only" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(point / "reports") == before


def test_out_on_a_read_only_location_exits_2_before_any_work(previous, tmpfs, capsys):
    from qyb.cli import main

    point = tmpfs("ro-out", "1m", readonly=True)
    code = main(["score", "--month", MONTH, "--data", str(previous / "raw"), "--out", str(point / "x" / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "--out" in err and "read-only" in err
    assert not list(point.iterdir())


def test_full_reports_folder_says_so_and_leaves_nothing(previous, tmpfs):
    point = tmpfs("full", "400k")
    proc = run_qyb(previous / "raw", point / "reports")
    assert proc.returncode == 1, proc.stderr
    assert "磁盘已满" in proc.stderr and "the disk is full" in proc.stderr and "Traceback" not in proc.stderr
    assert not (point / "reports" / MONTH).exists() and not leftovers(point / "reports")


def test_a_disk_filling_under_a_notebook_is_said_not_hidden(previous, tmpfs, tmp_path):
    """The notebook's cell fails with ENOSPC: the message is the disk, and no 0-byte 'failed notebook'."""
    point = tmpfs("fills", "3m")
    nb = tiny_notebook(tmp_path, "from pathlib import Path\n"
                                 "Path(output_dir, 'big.bin').write_bytes(b'x' * 8_000_000)")
    spec = [("tiny", "小", nb)]
    proc = run_qyb(previous / "raw", point / "reports", notebooks=spec)
    assert proc.returncode == 1, proc.stderr
    assert "磁盘已满" in proc.stderr and "No space left on device" in proc.stderr, proc.stderr
    assert not [p for p in (point / "reports").rglob("*.ipynb") if p.stat().st_size == 0]
    assert not leftovers(point / "reports") and not (point / "reports" / MONTH).exists()


def test_reports_that_is_a_file_exits_2(tmp_path, previous):
    target = tmp_path / "reports"
    target.write_text("not a folder", encoding="utf-8")
    proc = run_qyb(previous / "raw", target)
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr
    assert target.read_text(encoding="utf-8") == "not a folder"
