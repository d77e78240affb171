"""``run.json``: the record of a monthly run (inputs' hashes, method and hash, parameters, versions,
step timings), so any published month can be traced and regenerated."""
from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata
from pathlib import Path

from qyb.data.files import sha256_file
from qyb.data.monthfile import month_files
from qyb.data.panel import Panel, input_files
from qyb.method import Method

__all__ = ["VERSIONED_PACKAGES", "package_versions", "input_hashes", "run_record"]

VERSIONED_PACKAGES = ("qyb", "papermill", "pandas", "numpy", "scipy", "matplotlib",
                      "nbconvert", "nbclient", "openpyxl")


def package_versions(names=VERSIONED_PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def input_hashes(panel: Panel, method: Method) -> dict:
    """sha256 of every input file of the data folder (unit register, month files or the department files of a
    month folder) and of the method spec."""
    data_dir = Path(panel.data_dir)
    months = month_files(data_dir)
    paths = input_files(data_dir, [months[m] for m in sorted(months)])
    files = {p.relative_to(data_dir).as_posix(): sha256_file(p) for p in paths}
    spec = {"path": str(method.path) if method.path else None,
            "sha256": sha256_file(method.path) if method.path else None,
            "spec_hash": method.hash}
    return {"data_dir": str(panel.data_dir), "files": files, "method_spec": spec}


def run_record(month: str, method: Method, panel: Panel, parameters: dict, started: _dt.datetime,
               steps: dict[str, float], notebooks: list[str]) -> dict:
    """The run record published as run.json."""
    return {
        "month": month,
        "method": method.name,
        "method_title": method.title,
        "method_hash": method.hash,
        "parameters": parameters,
        "inputs": input_hashes(panel, method),
        "measure_sources": panel.intake.measures_by_file(month),  # which file gave each measure of the month
        "intake_notes": panel.intake_record(month),  # what was recognised or ignored in them
        "synthetic": panel.synthetic,
        "notebooks": notebooks,
        "versions": package_versions(),
        "started": started.isoformat(timespec="seconds"),
        "steps_seconds": {k: round(v, 3) for k, v in steps.items()},
    }
