"""Finding and loading method specs: by name or path, the one in force in a month."""
from __future__ import annotations

import functools
from pathlib import Path

from qyb.data.months import month_number
from qyb.data.yamlfile import read_yaml
from qyb.errors import InputError, Problem
from qyb.method.spec import Method
from qyb.paths import METHODS_DIR


def load_method(name_or_path: str | Path, methods_dir: Path | None = None) -> Method:
    """Load a spec by name (``v2`` -> methods/v2.yaml) or by path to a YAML file."""
    methods_dir = Path(methods_dir or METHODS_DIR)
    path = Path(name_or_path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        path = methods_dir / f"{name_or_path}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in methods_dir.glob("*.yaml"))) or "none"
        raise InputError(Problem(str(path), f"method '{name_or_path}' not found",
                                 f"Use one of: {available}, or a path to a YAML spec."))
    stat = path.stat()
    spec = _parse_yaml(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    return Method(spec, str(path), path)


@functools.lru_cache(maxsize=64)
def _parse_yaml(path: str, mtime_ns: int, size: int):
    """Parsed YAML of a spec file (UTF-8 or GB18030, no anchors or aliases, at most
    :data:`~qyb.data.yamlfile.MAX_YAML_BYTES`: :func:`qyb.data.yamlfile.read_yaml`), cached per (path,
    modification time, size); Method deep-copies it."""
    return read_yaml(path, code="bad_method")


def available_methods(methods_dir: Path | None = None) -> list[Method]:
    """Every spec in the methods folder, by effective month; two in force from the same month is an error."""
    methods_dir = Path(methods_dir or METHODS_DIR)
    methods = sorted((load_method(p) for p in sorted(methods_dir.glob("*.yaml"))),
                     key=lambda m: (month_number(m.effective_from), m.name))
    for a, b in zip(methods, methods[1:]):
        if a.effective_from == b.effective_from or a.name == b.name:
            clash = "effective_from" if a.effective_from == b.effective_from else "name"
            raise InputError(Problem(str(b.path), f"methods {a.name} ({a.path.name}) and {b.name} ({b.path.name}) "
                                     f"share {clash} {getattr(a, clash)}",
                                     "Each method needs its own name and effective month; move or edit one."))
    return methods


def method_for_month(month: str, methods_dir: Path | None = None) -> Method:
    """The method in force in ``month``: the latest whose effective_from is not after it.

    A spec marked ``candidate: true`` (a proposal under review, such as ``v3``) is never in force
    by its month; name it to score under it.
    """
    methods = [m for m in available_methods(methods_dir) if not m.candidate]
    in_force = [m for m in methods if month_number(m.effective_from) <= month_number(month)]
    if not in_force:
        first = methods[0] if methods else None
        hint = (f"The earliest method ({first.name}) is in force from {first.effective_from}; "
                f"pass --method {first.name} to score an earlier month under it.") if first else "Add a spec."
        raise InputError(Problem("--month", f"no method in force in {month}", hint))
    return in_force[-1]



def resolve_method(month: str, method: str | Path | Method | None) -> Method:
    """``method`` itself when it is a :class:`Method`, the spec it names, or the one in force in ``month``."""
    if isinstance(method, Method):
        return method
    return load_method(method) if method else method_for_month(month)
