"""Shared fixtures: paths to the project and to the outside references."""
from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_ORACLES = PROJECT_ROOT.parent / "shared" / "oracles"


def _oracle_dir(name: str) -> Path:
    path = SHARED_ORACLES / name
    if not path.is_dir():
        pytest.skip(f"outside reference {path} not present (../shared is absent)")
    return path


@pytest.fixture
def phe_oracles() -> Path:
    """../shared/oracles/phe: PHEindicatormethods and FunnelPlotR known answers."""
    return _oracle_dir("phe")


@pytest.fixture
def asem_oracles() -> Path:
    """../shared/oracles/asem: COINr's published ASEM example."""
    return _oracle_dir("asem")
