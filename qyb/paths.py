"""Default locations: the method specs, notebooks and sample shipped inside the package, and where
outputs go (``data/processed``, ``reports``).

In a checkout (``pyproject.toml`` beside the package) outputs and the default data folder are the
project's own (``data/raw``, ``data/processed``, ``reports``). Installed from a wheel, the default
data is the sample shipped in the package and outputs go under the current folder.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
METHODS_DIR = PACKAGE_DIR / "methods"
NOTEBOOKS = PACKAGE_DIR / "notebooks"
SAMPLE_RAW = PACKAGE_DIR / "sample" / "raw"
FONTS_DIR = PACKAGE_DIR / "fonts"

_CHECKOUT = PACKAGE_DIR.parent
IN_CHECKOUT = (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "data" / "raw").is_dir()
PROJECT_ROOT = _CHECKOUT if IN_CHECKOUT else Path.cwd()
DATA_RAW = PROJECT_ROOT / "data" / "raw" if IN_CHECKOUT else SAMPLE_RAW
DATA_PROCESSED = PROJECT_ROOT / "data" / "processed"
REPORTS = PROJECT_ROOT / "reports"


def inside(folder: Path | str, *parts: str) -> Path:
    """``folder/parts…``, checked to stay inside ``folder`` (a name taken from data, such as a unit id in a
    figure's file name, may not lead out of it: ``../../x``); ValueError otherwise."""
    base = Path(folder).resolve()
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ValueError(f"{'/'.join(parts)!r} leads outside {folder}")
    return Path(folder).joinpath(*parts)
