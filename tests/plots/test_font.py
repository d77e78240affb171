"""The bundled CJK font: present, OFL-licensed, covers every name a report shows, used by matplotlib."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
import yaml
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.figure import Figure

from qyb import plots
from tests.helpers import strict_warnings

ROOT = Path(__file__).resolve().parents[2]
FONT_DIR = ROOT / "qyb" / "fonts"

UNIT_NAMES = (
    "永宁社区 新市社区 绩东一社区 绩东二社区 绩西社区 东区社区 西区社区 北区社区 竹源社区 沙口社区 "
    "九洲基社区 盛丰社区 宝丰社区 埒西一社区 联丰社区 高沙社区 裕民社区 同乐社区 东升社区 兆龙社区 "
    "利生社区 同茂社区 东城社区 新胜村 益隆村 坦背村 白鲤村 太平村 胜龙村"
).split()
CATEGORY_NAMES = "社会治安 反电诈 交通安全 出租屋管理 生产安全 消防安全 矛盾化解 乱点整治 网格巡查".split()
REPORT_WORDS = (
    "平安形势指数 星级 排名 示例数据 显著下降 下降但不显著 基本持平 上升但不显著 显著上升 "
    "体检表 短板 榜单 小榄镇 平安晴雨表 ★☆↑↓→—–·、，。：；（）《》“”％‰±×≤≥ ０１２３４５６７８９"
).split()


def _yaml_names(node) -> list[str]:
    """Every ``name`` / ``title`` string anywhere in a loaded YAML document."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("name", "title") and isinstance(value, str):
                out.append(value)
            else:
                out.extend(_yaml_names(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_yaml_names(item))
    return out


def data_strings() -> list[str]:
    """Unit names in data/raw/units.csv and names/titles in methods/*.yaml, where those exist."""
    found: list[str] = []
    units = ROOT / "data" / "raw" / "units.csv"
    if units.exists():
        import pandas as pd

        found += pd.read_csv(units, encoding="utf-8-sig", dtype=str)["unit_name"].dropna().tolist()
    for spec in sorted((ROOT / "methods").glob("*.yaml")):
        found += _yaml_names(yaml.safe_load(spec.read_text(encoding="utf-8")))
    return found


ALL_STRINGS = [*UNIT_NAMES, *CATEGORY_NAMES, *REPORT_WORDS]


def gb2312_characters() -> list[str]:
    chars = []
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


@pytest.fixture(scope="module")
def cmap() -> dict[int, str]:
    with TTFont(plots.FONT_PATH, lazy=True) as font:  # closed at once: no ResourceWarning later
        return dict(font.getBestCmap())


def test_font_file_is_bundled_and_small():
    assert plots.FONT_PATH.parent == FONT_DIR
    assert plots.FONT_PATH.is_file()
    assert plots.FONT_PATH.suffix == ".otf"  # single face, not a TTC collection
    assert plots.FONT_PATH.stat().st_size < 6_000_000
    assert (FONT_DIR / "README.md").is_file()


def test_font_is_ofl_licensed():
    text = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in text and "Version 1.1" in text
    assert "Adobe" in text  # copyright notice of the original kept, as OFL condition 2 asks
    with TTFont(plots.FONT_PATH, lazy=True) as font:
        name = font["name"]
        assert "Open Font License" in name.getDebugName(13)
        assert name.getDebugName(1) == plots.FONT_FAMILY  # renamed Modified Version


def test_cmap_covers_report_strings(cmap):
    missing = {ch for s in ALL_STRINGS for ch in s if ord(ch) not in cmap}
    assert not missing, f"characters missing from the bundled font: {''.join(sorted(missing))}"


def test_cmap_covers_data_and_method_names(cmap):
    strings = data_strings()
    missing = {ch for s in strings for ch in s if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, (
        f"characters missing from the bundled font: {''.join(sorted(missing))}; "
        "regenerate it with tools/subset_font.py --extra-text <file> (see qyb/fonts/README.md)"
    )


def test_cmap_covers_gb2312_and_ascii(cmap):
    missing = [c for c in gb2312_characters() if ord(c) not in cmap]
    assert len(gb2312_characters()) == 7445 and not missing
    assert all(cp in cmap for cp in range(0x20, 0x7F))


def test_use_cjk_font_is_idempotent():
    for _ in range(3):
        assert plots.use_cjk_font() == plots.FONT_FAMILY
    rc = matplotlib.rcParams
    assert rc["font.sans-serif"][0] == plots.FONT_FAMILY
    assert rc["font.sans-serif"].count(plots.FONT_FAMILY) == 1
    assert rc["font.family"] == ["sans-serif"]
    assert rc["axes.unicode_minus"] is False
    entries = [f for f in font_manager.fontManager.ttflist if Path(f.fname) == plots.FONT_PATH]
    assert len(entries) == 2  # regular, plus the bold alias pointing at the same file


def _render(strings) -> Figure:
    fig = Figure(figsize=(8, 0.25 * len(strings) + 1))
    ax = fig.add_subplot()
    for i, s in enumerate(strings):
        ax.text(0.01, i, s, fontsize=8)
    ax.set_ylim(-1, len(strings))
    ax.set_title("平安形势指数 ★★★★★ 榜单 −5 ↑3")
    ax.set_xlabel("排名 (rank)")
    fig.savefig(io.BytesIO(), format="png")
    return fig


def test_rendering_has_no_missing_glyphs():
    plots.use_cjk_font()
    strings = ALL_STRINGS + data_strings()
    with strict_warnings():
        fig = _render(strings)
    text = fig.axes[0].texts[UNIT_NAMES.index("埒西一社区")]
    used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
    assert Path(used) == plots.FONT_PATH
    assert Path(font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))) == plots.FONT_PATH
    bold = font_manager.FontProperties(family=[plots.FONT_FAMILY], weight="bold")
    assert Path(font_manager.findfont(bold)) == plots.FONT_PATH


def test_missing_glyph_warning_is_caught():
    """Control: a character outside the subset (CJK Ext. B) does raise matplotlib's warning."""
    plots.use_cjk_font()
    with pytest.warns(UserWarning, match="missing from font"):
        _render(["\U00020000"])
