"""The package tree shows the flow of a month, and no stage reaches into a later one.

Stages, in order: foundation (errors, paths, vocab, parallel) -> data -> method -> engine -> sample ->
movements | review -> edition -> plots -> report -> the command line and the reference code.
``qyb.stats`` is generic: it imports nothing else of qyb, and any stage may use it. The edition's
convenience methods import later stages inside the method bodies (it is the façade over them);
everywhere else, function-level imports obey the same order as module-level ones.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

import qyb
from qyb.paths import NOTEBOOKS

PACKAGE = Path(qyb.__file__).resolve().parent

STAGES = {
    "qyb.errors": 0, "qyb.paths": 0, "qyb.vocab": 0, "qyb.parallel": 0,
    "qyb.data": 1, "qyb.method": 2, "qyb.engine": 3, "qyb.sample": 4,
    "qyb.movements": 5, "qyb.review": 5, "qyb.edition": 6, "qyb.plots": 7, "qyb.report": 8,
    "qyb.cli": 9, "qyb.reference": 9, "qyb.examples": 9, "qyb.weights": 9, "qyb": 9,
}
GENERIC = "qyb.stats"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _stage(module: str) -> tuple[str, int]:
    """The stage key and rank of a module (its longest registered prefix)."""
    best = max((k for k in STAGES if module == k or module.startswith(k + ".")), key=len)
    return best, STAGES[best]


def _imports(tree: ast.AST, top_level_only: bool):
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "qyb":
                for alias in node.names:
                    yield node.lineno, f"qyb.{alias.name}"
            elif node.module.startswith("qyb."):
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("qyb"):
                    yield node.lineno, alias.name


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "fonts" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_no_module_imports_a_later_stage(path):
    name = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    facade = name == "qyb.edition"
    bad = []
    for lineno, target in _imports(tree, top_level_only=facade):
        if name.startswith(GENERIC):
            if not target.startswith(GENERIC):
                bad.append(f"line {lineno}: generic statistics import {target}")
            continue
        if target.startswith(GENERIC) or target == "qyb.stats":
            continue
        (own_key, own), (their_key, theirs) = _stage(name), _stage(target)
        if theirs > own or (theirs == own and own == 5 and own_key != their_key):
            bad.append(f"line {lineno}: {name} (stage {own_key}) imports {target} (stage {their_key})")
    assert not bad, "\n".join(bad)


NO_FILES = ("qyb/engine", "qyb/stats", "qyb/movements", "qyb/review", "qyb/method/spec.py",
            "qyb/method/checks.py")
FILE_CALLS = {"open", "write_text", "write_bytes", "read_text", "read_bytes", "mkdir", "to_csv", "read_csv",
              "to_excel", "read_excel", "savefig", "write_csv_atomic", "write_bytes_atomic", "load_panel"}
FILE_MODULES = {"os", "shutil", "tempfile", "openpyxl", "csv", "io"}


@pytest.mark.parametrize("path", [p for p in MODULES if any(str(p.relative_to(PACKAGE.parent)).startswith(s)
                                                             for s in NO_FILES)],
                         ids=lambda p: _module_name(p))
def test_engine_statistics_and_analyses_do_no_file_io(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in FILE_CALLS:
                calls.append(f"line {node.lineno}: {name}()")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            calls += [f"line {node.lineno}: import {m}" for m in mods if m.split(".")[0] in FILE_MODULES]
    assert not calls, "\n".join(calls)


def test_ls_qyb_shows_the_stages():
    entries = {p.name for p in PACKAGE.iterdir() if not p.name.startswith(("_", "."))}
    for package in ("data", "method", "engine", "stats", "movements", "review", "report", "plots", "reference",
                    "sample"):
        assert (PACKAGE / package / "__init__.py").is_file(), package
    assert "edition.py" in entries
    flat = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert flat == ["cli.py", "edition.py", "errors.py", "parallel.py", "paths.py", "vocab.py", "weights.py"], flat


# ---------------------------------------------------------------- notebooks are thin
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
FORBIDDEN_IN_CELLS = ("mkdir", "plt.close", "savefig", "save_figure", '"XL01"', "'XL01'", '"2023-02"',
                      "import matplotlib.pyplot")


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=[p.name for p in NOTEBOOK_FILES])
def test_notebook_cells_only_call_and_show(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]
    text = "\n".join(c.source for c in code)
    for token in FORBIDDEN_IN_CELLS:
        assert token not in text, f"{path.name}: {token!r} in a cell (belongs in qyb, or is a hard-coded literal)"
    assert "qyb.load(" in text, "every notebook starts from qyb.load"
    for cell in code:
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert not defs, f"{path.name}: a function or class defined in a cell belongs in qyb"


# ---------------------------------------------------------------- docstrings name their sources
def _public_functions():
    import inspect

    import qyb.engine
    import qyb.stats

    for mod in (qyb.stats, qyb.engine):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                yield f"{mod.__name__}.{name}", obj


@pytest.mark.parametrize("name,func", list(_public_functions()), ids=lambda x: x if isinstance(x, str) else "")
def test_public_statistics_and_engine_functions_cite_their_sources(name, func):
    doc = func.__doc__ or ""
    assert "References\n" in doc and "----------" in doc, f"{name}: numpydoc References section missing"
