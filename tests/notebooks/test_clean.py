"""Committed notebooks carry no outputs and unique cell ids, use the project's kernel and declare their parameters."""
from __future__ import annotations

import ast

import nbformat
import pytest

from qyb.paths import NOTEBOOKS
from qyb.report.run import KERNEL_NAME, PARAMETER_NAMES, REGISTRY

ALL = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", ALL, ids=[p.name for p in ALL])
def test_no_outputs(path):
    import json

    ids = [c.get("id") for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: cell ids missing or repeated (two branches merged?)"
    nb = nbformat.read(str(path), as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("spec", REGISTRY, ids=[s.name for s in REGISTRY])
def test_registry_notebooks_declare_their_parameters(spec):
    path = spec.source()
    assert path.is_file()
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assigned = {t.id: n.value for n in ast.parse(tagged[0].source).body if isinstance(n, ast.Assign)
                for t in n.targets}
    assert set(spec.params) <= set(assigned), f"{spec.name}: parameters cell lacks {set(spec.params) - set(assigned)}"
    assert set(spec.params) <= set(PARAMETER_NAMES)
    assert all(isinstance(assigned[p], ast.Constant) and isinstance(assigned[p].value, str) for p in spec.params), \
        "parameters are plain strings"
    assert any(c.cell_type == "markdown" and c.source.startswith("# ") for c in nb.cells), "a Chinese title"
