"""Reading the YAML files people write (method specs, measure catalogues, office settings), hardened.

A YAML file is input like any other: it may be saved by a Chinese editor in GB18030, be mistyped,
or be hostile. :func:`read_yaml` reads it so that every such file ends in one clear
:class:`~qyb.errors.InputError` (exit status 2), fast:

* **text**: UTF-8 (with or without BOM), else GB18030 (what Chinese Windows editors save); anything
  else is "not UTF-8 or GB18030 text";
* **size**: at most :data:`MAX_YAML_BYTES` bytes (a method spec of the shipped kind is about 10 kB; a
  spec of 50,000 indicators is not a spec), checked before anything is parsed;
* **anchors and aliases** (``&name`` / ``*name``) are refused: they are the means of the "billion
  laughs" (a few lines that expand to billions of nodes), and a spec needs none. The parser's event
  stream is read first and stops at the first anchor or alias, so such a file fails in milliseconds;
* **tags**: only YAML's plain types (safe loader; ``!!python/object`` is refused by it);
* **syntax errors** name the line and column (``not valid YAML (line 3, column 1): …``).

Every number in the file is then checked by its reader (:func:`non_finite` helps: YAML's ``.inf`` and
``.nan`` are floats, so an ``isinstance`` test alone lets them through).
"""
from __future__ import annotations

import math
from pathlib import Path

from qyb.errors import InputError, Problem

__all__ = ["MAX_YAML_BYTES", "read_yaml", "parse_yaml", "decode_text", "non_finite"]

#: the largest YAML file qyb reads (bytes)
MAX_YAML_BYTES = 1_000_000


def decode_text(data: bytes) -> str | None:
    """``data`` as text: UTF-8 (a BOM dropped), else GB18030; None when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _problem(source: str, rule: str, zh: str, hint: str, hint_zh: str, code: str) -> InputError:
    return InputError(Problem(source, rule, hint, zh=zh, hint_zh=hint_zh, code=code))


def _mark(exc) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None) or getattr(exc, "start_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def parse_yaml(text: str, source: str, code: str = "bad_yaml"):
    """Parse YAML ``text`` safely (plain types only, no anchors or aliases); errors name ``source``,
    the line and the column."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):  # the event stream: no node is built yet
            anchor = getattr(event, "anchor", None)
            if isinstance(event, yaml.AliasEvent) or anchor is not None:
                where = _mark_of(event)
                raise _problem(source, f"YAML anchors and aliases (&{anchor} / *{anchor}) are not accepted ({where})",
                               f"不接受 YAML 锚点和别名（&{anchor} / *{anchor}，{where}）",
                               "Write every value out in full (anchors and aliases can expand a short file to "
                               "billions of entries).",
                               "请把每个值完整写出。", code)
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        where = _mark(exc)
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem = f"{problem} (only plain YAML values are accepted: text, numbers, lists, mappings)"
        at = f" ({where})" if where else ""
        raise _problem(source, f"not valid YAML{at}: {problem}", f"YAML 语法错误{at}",
                       "Fix the YAML at that line (indentation, a missing ':' or closing bracket, quotes).",
                       "请修改该行的 YAML 语法（缩进、冒号、括号、引号）。", code) from None


def _mark_of(event) -> str:
    mark = getattr(event, "start_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "?"


def read_yaml(path: Path | str, code: str = "bad_yaml", max_bytes: int = MAX_YAML_BYTES):
    """Read and parse the YAML file ``path`` as the module doc says; an empty file is None."""
    path = Path(path)
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _problem(source, f"the file is {size:,} bytes: larger than any YAML file qyb reads "
                           f"(at most {max_bytes:,})", f"文件过大（{size:,} 字节，上限 {max_bytes:,}）",
                           "Check that this is the right file; a method spec is a few kB.",
                           "请确认文件是否正确；评分办法文件通常只有几 KB。", code)
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _problem(source, f"cannot be read ({exc.strerror or exc})", "无法读取该文件",
                       "Check the path and the file's permissions.", "请检查路径和文件权限。", code) from None
    if len(data) > max_bytes:  # grew while we looked
        raise _problem(source, f"larger than any YAML file qyb reads (at most {max_bytes:,} bytes)",
                       "文件过大", "Check that this is the right file.", "请确认文件是否正确。", code)
    text = decode_text(data)
    if text is None:
        raise _problem(source, "not UTF-8 or GB18030 text", "不是 UTF-8 或 GB18030 编码的文本",
                       "Save the file as UTF-8 (or GB18030) text.", "请将文件另存为 UTF-8 编码的文本。", code)
    return parse_yaml(text, source, code)


def non_finite(value) -> bool:
    """True for a number that is not finite (``.inf``, ``.nan``) or an integer beyond 2**53 (which no
    float holds exactly); False for anything else, numbers or not."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int):
        return abs(value) > 2 ** 53
    return False
