"""The README stands on its own: its Python example runs as written, and it sends no reader outside the repository."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs_as_written(capsys):
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## In Python.*?```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "Edition 2023-03 · v2 (" in out and "29 units · 示例数据" in out
    assert "第 2 名 / 29，↑25（上期第27名）" in out  # 永宁社区 2 from 27


def test_readme_starts_with_the_two_commands_and_stays_in_the_repository():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```\n(.*?)```", text, re.S).group(1)
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "report"], ["make", "test"]]
    assert "../shared" not in text.replace("`../shared/oracles/`", "")  # only the test oracles, which skip when absent
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        if not link.startswith("http"):
            assert (README.parent / link).exists(), link
