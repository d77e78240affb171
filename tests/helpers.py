"""Test helpers: a private copy of the sample data, and running the CLI in-process."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from qyb.cli import main
from qyb.paths import DATA_RAW


def copy_sample(tmp_path: Path, months: list[str] | None = None) -> Path:
    """Copy units.csv and (some of) the month files of the shipped sample into tmp_path/raw."""
    dest = tmp_path / "raw"
    dest.mkdir()
    for path in DATA_RAW.iterdir():
        if path.suffix == ".csv" and (months is None or path.stem in months or path.name == "units.csv"):
            shutil.copy(path, dest / path.name)
    return dest


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def tree(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (what 'unchanged' means); ``skip``:
    relative paths left out."""
    import hashlib

    if not folder.exists():
        return {}
    return {rel: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()
            and (rel := p.relative_to(folder).as_posix()) not in skip}


SHARED_MARKER = ".built.json"


def shared_once(tmp_path_factory, name: str, build) -> tuple[dict, Path]:
    """Build an expensive fixture once per test session, whatever the scheduling; its users only read it.

    Under pytest-xdist every worker gets its own basetemp; their parent is shared. The first
    worker to take the lock runs ``build(folder)`` (which writes into ``folder`` and returns a
    JSON-able dict), the others wait for the lock and reuse the result. Without xdist this is an
    ordinary once-per-session cache. A build that raised leaves no marker, so the next caller
    rebuilds and sees the same error.

    The folder is shared by tests that may run at the same moment on another worker, so a test must
    never write into it (one that re-runs or changes something works on a copy). Every call checks
    that the folder is still byte for byte what ``build`` left, and fails with the fixture's name if
    not; call it again after a test (a yield fixture) to catch the test that changed it.
    """
    import fcntl
    import json
    import os

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = folder / SHARED_MARKER
        if not marker.is_file():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            result = build(folder)
            marker.write_text(json.dumps({"result": result, "files": tree(folder, skip=(SHARED_MARKER,))}),
                              encoding="utf-8")
        saved = json.loads(marker.read_text(encoding="utf-8"))
    now = tree(folder, skip=(SHARED_MARKER,))
    if now != saved["files"]:
        changed = sorted(k for k in saved["files"].keys() | now.keys() if saved["files"].get(k) != now.get(k))
        raise AssertionError(f"the shared fixture {name!r} ({folder}) was changed after it was built "
                             f"({len(changed)} files, e.g. {changed[:3]}): tests only read it; copy it to change it")
    return saved["result"], folder


@contextlib.contextmanager
def strict_warnings():
    """Turn every warning raised by the code under test into an error; not other tests' garbage.

    ``ResourceWarning`` (an unclosed socket or event loop) is emitted by the garbage collector in
    whatever code happens to run when it collects: under xdist, a kernel client's leftovers from a
    notebook test collected in the middle of a chart test. Such a warning says nothing about the code
    under test, and turned into an error inside ``__del__`` it would come back as pytest's
    ``PytestUnraisableExceptionWarning`` and fail an unrelated test. So pending garbage is collected
    before the strict block starts, and within it both stay ordinary warnings (pytest's summary still
    lists them).
    """
    import gc
    import warnings

    import pytest

    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("default", ResourceWarning)
        warnings.simplefilter("default", pytest.PytestUnraisableExceptionWarning)
        yield
