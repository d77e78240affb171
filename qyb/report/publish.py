"""Publishing a month so that no report is ever lost, whatever is killed when.

The invariant: at every instant ``reports/YYYY-MM/`` is either the complete previous report or the
complete new one. How:

* **a build folder per run** (``reports/.build-YYYY-MM-xxxx``, made by :func:`new_build`): everything is
  written there; the published folder is not touched until the build is complete.
* **one atomic switch** (:func:`publish`): ``renameat2(RENAME_EXCHANGE)`` swaps the build folder and the
  published one in a single system call (Linux ≥ 3.15; ext4, xfs, btrfs, tmpfs …): the published name
  never points at anything but a complete report. The build's name then holds the previous report,
  which is deleted. A first publication is a plain ``rename``.
* where the file system cannot exchange, **a journal** (``reports/.publish-YYYY-MM.json``, written
  before the first rename) makes the two renames (published → aside, build → published) one step:
  the next start (:func:`recover`) completes it (the build, complete by then, goes into place) or, if
  the build is gone, rolls it back (the aside copy returns).
* **a lock per month and reports folder** (:class:`MonthLock`, ``reports/.lock-YYYY-MM`` while a run
  holds it, an ``flock`` the kernel releases when the process dies, however it dies): a second run of
  the same month exits 2 with "another run of 2023-03 is in progress (pid …)".
* **every start cleans up** what killed runs left (:func:`clean_up`): journals completed or rolled
  back, build folders, aside copies and the kernel connection files inside them, for every month whose
  lock it can take (a month another run holds is left alone).

Published folders get ordinary permissions (``0777 & ~umask``; ``mkdtemp`` makes ``0700``).

Test hooks: ``QYB_KILL_AT=<point>`` kills the process (``SIGKILL``) at that point of the run
(:data:`KILL_POINTS`); ``QYB_PUBLISH_JOURNAL=1`` uses the journal even where the exchange works.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

from qyb.errors import InputError, Problem
from qyb.report.forked import released, run_only

__all__ = ["MonthLock", "KILL_POINTS", "kill_point", "new_build", "publish", "recover", "clean_up", "leftovers",
           "BUILD_PREFIX", "ASIDE_PREFIX", "LOCK_PREFIX", "JOURNAL_PREFIX"]

BUILD_PREFIX = ".build-"
ASIDE_PREFIX = ".old-"
LOCK_PREFIX = ".lock-"
JOURNAL_PREFIX = ".publish-"
KILL_ENV = "QYB_KILL_AT"
JOURNAL_ENV = "QYB_PUBLISH_JOURNAL"
_MONTH = r"\d{4}-\d{2}"

#: where ``QYB_KILL_AT`` may kill a run, in the order a run passes them
KILL_POINTS = (
    "locked",            # the month's lock taken, nothing written
    "build_created",     # an empty build folder exists
    "documents",         # notebooks running, the month's tables and 体检表 written in the build
    "notebooks_done",    # every notebook and document in the build
    "index_written",     # index.html written, run.json not yet
    "before_switch",     # the build complete (run.json written), nothing switched
    "switched",          # exchange: the new report published, the previous one under the build's name
    "journal_written",   # journal: the journal on disk, nothing renamed
    "aside",             # journal: the previous report renamed aside, the new one not yet in place
    "renamed",           # journal: the new report in place, journal and aside copy not yet removed
    "published",         # everything done but the run's last words
)


def kill_point(name: str) -> None:
    """Test hook: SIGKILL this process when ``QYB_KILL_AT`` names ``name`` (see :data:`KILL_POINTS`)."""
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------- the lock
class MonthLock:
    """An exclusive lock on one month of one reports folder (``reports/.lock-YYYY-MM`` holding the pid).

    ``flock`` locks belong to the open file: the kernel drops them when the holder exits or is killed, so
    a stale lock file never blocks a later run. A second holder gets an :class:`~qyb.errors.InputError`
    (exit status 2) naming the month and the pid of the run in progress.
    """

    def __init__(self, reports_root: Path, month: str):
        self.path = Path(reports_root) / f"{LOCK_PREFIX}{month}"
        self.month = month
        self._fh = None

    def acquire(self, wait: bool = False) -> MonthLock:
        import fcntl

        while True:
            fh = open(self.path, "a+", encoding="ascii")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                fh.seek(0)
                pid = fh.read().strip() or "?"
                fh.close()
                raise InputError(Problem(
                    str(self.path.parent / self.month), f"another run of {self.month} is in progress (pid {pid})",
                    "Wait for it to finish (its report replaces this month's when complete), or stop it first.",
                    zh=f"{self.month} 的另一次运行正在进行（进程 {pid}）", hint_zh="请等待其完成后再运行。",
                    code="run_in_progress")) from None
            try:  # the holder before us removes the file as it lets go: then lock the file now at the path
                same = os.stat(self.path).st_ino == os.fstat(fh.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            fh.close()
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        run_only(self, self._drop_copy)
        return self

    def try_acquire(self) -> bool:
        """Take the lock if no one holds it; False otherwise."""
        try:
            self.acquire()
            return True
        except InputError:
            return False

    def _drop_copy(self) -> None:
        """In a forked child: close this process's copy of the lock file (no LOCK_UN: the lock stays with
        the run; :mod:`qyb.report.forked`)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def release(self) -> None:
        """Remove the lock file and let go (a run leaves nothing behind; one waiting on the removed file
        sees it gone and locks the path afresh)."""
        if self._fh is not None:
            import fcntl

            self.path.unlink(missing_ok=True)
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
            released(self)

    def __enter__(self) -> MonthLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------- building and switching
def _ordinary_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def new_build(reports_root: Path, month: str) -> Path:
    """An empty build folder ``reports/.build-YYYY-MM-xxxx`` with ordinary permissions."""
    build = Path(tempfile.mkdtemp(prefix=f"{BUILD_PREFIX}{month}-", dir=reports_root))
    os.chmod(build, _ordinary_mode())
    return build


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (``renameat2(RENAME_EXCHANGE)``). False when the system or the file system
    cannot (the caller then uses the journal); other failures raise."""
    if os.environ.get(JOURNAL_ENV):
        return False
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _journal(root: Path, month: str) -> Path:
    return root / f"{JOURNAL_PREFIX}{month}.json"


def publish(build: Path, final: Path) -> None:
    """Make the complete ``build`` the published ``final`` in one atomic switch (see the module doc); the
    previous report, if any, is deleted afterwards. The caller holds the month's :class:`MonthLock`."""
    build, final = Path(build), Path(final)
    root = final.parent
    os.chmod(build, _ordinary_mode())
    if not final.exists():
        os.rename(build, final)
        _fsync_dir(root)
        return
    if _exchange(build, final):
        _fsync_dir(root)
        kill_point("switched")
        shutil.rmtree(build, ignore_errors=True)  # the previous report, now under the build's name
        return
    aside = root / f"{ASIDE_PREFIX}{final.name}-{os.getpid()}-{os.urandom(4).hex()}"
    journal = _journal(root, final.name)
    tmp = journal.with_suffix(".tmp")
    tmp.write_text(json.dumps({"month": final.name, "build": build.name, "aside": aside.name}), encoding="utf-8")
    os.replace(tmp, journal)
    _fsync_dir(root)
    kill_point("journal_written")
    os.rename(final, aside)
    kill_point("aside")
    try:
        os.rename(build, final)
    except BaseException:
        os.rename(aside, final)
        journal.unlink(missing_ok=True)
        raise
    _fsync_dir(root)
    kill_point("renamed")
    journal.unlink(missing_ok=True)
    shutil.rmtree(aside, ignore_errors=True)


def recover(root: Path, month: str) -> str | None:
    """Complete or roll back a journalled switch of ``month`` that a killed run left (the caller holds the
    month's lock). Returns what was done (``"completed"``, ``"rolled back"``, ``"cleared"``) or None."""
    journal = _journal(root, month)
    if not journal.is_file():
        return None
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
        build, aside = root / Path(entry["build"]).name, root / Path(entry["aside"]).name
    except (ValueError, KeyError, TypeError):
        entry, build, aside = None, None, None
    final = root / month
    done = "cleared"
    if entry is not None and not final.exists():
        if build.is_dir() and (build / "run.json").is_file():
            os.rename(build, final)  # the build was complete when the journal was written
            done = "completed"
        elif aside.is_dir():
            os.rename(aside, final)
            done = "rolled back"
    _fsync_dir(root)
    journal.unlink(missing_ok=True)
    if aside is not None and aside.exists():
        shutil.rmtree(aside, ignore_errors=True)
    return done


def leftovers(root: Path, month: str | None = None) -> list[Path]:
    """What killed runs may have left in ``root`` (for ``month``, or every month): build folders, aside
    copies, journals, lock files."""
    if not Path(root).is_dir():
        return []
    m = re.escape(month) if month else _MONTH
    pattern = re.compile(rf"^(?:{re.escape(BUILD_PREFIX)}|{re.escape(ASIDE_PREFIX)})({m})-|"
                         rf"^{re.escape(JOURNAL_PREFIX)}({m})\.json$|^{re.escape(LOCK_PREFIX)}({m})$")
    return sorted(p for p in Path(root).iterdir() if pattern.match(p.name))


def clean_up(root: Path, own: str | None = None) -> list[str]:
    """Clean up after killed runs: for every month with leftovers whose lock can be taken (``own``: the
    month whose lock the caller already holds), complete or roll back its journal, then delete its build
    folders and aside copies (with any kernel connection files in them). Returns what was done, one line
    each."""
    root = Path(root)
    done = []
    months = sorted({re.search(_MONTH, p.name).group(0) for p in leftovers(root)})
    for month in months:
        lock = None if month == own else MonthLock(root, month)
        if lock is not None and not lock.try_acquire():
            continue  # a run of that month is in progress: its build folder is alive
        try:
            outcome = recover(root, month)
            if outcome:
                done.append(f"{month}: interrupted publication {outcome}")
            asides = sorted((p for p in leftovers(root, month) if p.name.startswith(ASIDE_PREFIX) and p.is_dir()),
                            key=lambda p: p.stat().st_mtime)
            if asides and not (root / month).exists():  # killed between the renames of an older qyb
                os.rename(asides[-1], root / month)
                done.append(f"{month}: previous report restored from {asides[-1].name}")
            for path in leftovers(root, month):
                if path.name.startswith(LOCK_PREFIX):
                    continue  # a killed run's lock file: removed as the lock taken here is let go
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                done.append(f"{month}: removed {path.name}")
        finally:
            if lock is not None:
                lock.release()
    return done
