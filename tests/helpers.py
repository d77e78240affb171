"""Test helpers: a private copy of the sample data, and running the CLI in-process."""
from __future__ import annotations

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


def shared_once(tmp_path_factory, name: str, build) -> tuple[dict, Path]:
    """Build an expensive fixture once per test session, whatever the scheduling.

    Under pytest-xdist every worker gets its own basetemp; their parent is shared. The first
    worker to take the lock runs ``build(folder)`` (which writes into ``folder`` and returns a
    JSON-able dict), the others wait for the lock and reuse the result. Without xdist this is an
    ordinary once-per-session cache. A build that raised leaves no marker, so the next caller
    rebuilds and sees the same error.
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
        marker = folder / ".built.json"
        if not marker.is_file():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            marker.write_text(json.dumps(build(folder)), encoding="utf-8")
        return json.loads(marker.read_text(encoding="utf-8")), folder
