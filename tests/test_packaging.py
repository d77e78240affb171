"""A built wheel carries the method specs, the notebooks, the sample and the font, and works on its own.

The wheel is built from the checkout (no network: no build isolation, no dependencies fetched), unpacked
into a folder that has no pyproject.toml beside the package, as an installed copy has none, and the
command line is run from there with ``PYTHONPATH`` pointing at it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qyb.paths import DATA_RAW, PACKAGE_DIR

pytestmark = pytest.mark.slow
PROJECT = PACKAGE_DIR.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    src = build / "src"
    # build from a copy so the checkout gets no build/ or egg-info folders
    shutil.copytree(PROJECT, src, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "reports", "processed", "*.egg-info", "build",
                                                  "__pycache__", ".pytest_cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(src)], check=True, capture_output=True)
    return next(out.glob("qyb-*.whl"))


def test_wheel_holds_specs_notebooks_sample_and_font(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("qyb/methods/v1.yaml", "qyb/methods/v2.yaml", "qyb/notebooks/01_ranking.ipynb",
                     "qyb/sample/raw/units.csv", "qyb/sample/raw/2023-03.csv", "qyb/sample/raw/SYNTHETIC.md",
                     "qyb/fonts/QybSansSC-Regular.otf"):
        assert required in names, required


def test_installed_copy_scores_a_data_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(DATA_RAW, work / "raw")
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import sys, qyb.cli; sys.exit(qyb.cli.main(sys.argv[1:]))"
    for argv in (["score", "--month", "2023-03", "--data", "raw"], ["score", "--month", "2023-03"]):
        done = subprocess.run([sys.executable, "-c", code, *argv], cwd=work, env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
    card = (work / "data" / "processed" / "2023-03" / "scorecard_v2.csv").read_text(encoding="utf-8-sig")
    assert "XL01,永宁社区" in card
    probe = subprocess.run([sys.executable, "-c", "import qyb, qyb.paths as p; print(qyb.__file__, p.IN_CHECKOUT)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert str(site) in probe.stdout and probe.stdout.strip().endswith("False")
