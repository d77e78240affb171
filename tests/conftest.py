"""Shared fixtures: paths to the project and to the outside references; the processed store of a session."""
from __future__ import annotations

import os
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


@pytest.fixture(scope="session", autouse=True)
def processed_store(tmp_path_factory) -> Path:
    """The processed store (qyb.data.store) of this test session: a temporary folder, never the
    project's data/processed; notebooks run by papermill inherit it through the environment."""
    from qyb.data.store import STORE_ENV

    root = tmp_path_factory.getbasetemp() / "processed-store"
    before = os.environ.get(STORE_ENV)
    os.environ[STORE_ENV] = str(root)
    yield root
    if before is None:
        os.environ.pop(STORE_ENV, None)
    else:
        os.environ[STORE_ENV] = before
