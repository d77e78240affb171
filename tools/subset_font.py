#!/usr/bin/env python3
"""Build the CJK font bundled in ``qyb/fonts/`` from Noto Sans CJK SC.

The figures of qyb must show Chinese unit and indicator names on machines that
have no CJK system fonts and no network. We therefore ship a subset of
Noto Sans CJK SC Regular (SIL Open Font License 1.1) covering

* printable ASCII and Latin-1,
* every character of GB2312 (6,763 hanzi plus its symbols, full-width forms,
  kana, Greek, Cyrillic, box drawing …), enumerated by decoding every GB2312
  code point with Python's codec,
* by default (``--hanzi uro``) the whole CJK Unified Ideographs block
  U+4E00–U+9FFF (20,992 code points, a superset of GBK's hanzi), because
  Guangdong place and person names use characters outside GB2312 (滘 埗 氹 塱
  冚 …); ``--hanzi gb2312`` gives a file of about 1.7 MB instead of 5.1 MB,
* the punctuation, arrows, stars, maths and full-width forms a report uses
  (★☆↑↓→—–·、，。：；（）《》“”％‰±×≤≥ …),
* any character of the text files given with ``--extra-text`` (for example
  ``data/raw/units.csv`` and ``methods/*.yaml``), so rare characters in new
  names can be added by re-running this script.

The subset is renamed "Qyb Sans SC" (a modified version under the OFL; the
name also keeps it apart from any Noto font installed on the system), hinting
is dropped (matplotlib's Agg backend autohints by default), and the vertical
metrics tables and the layout features for other locales, vertical text and
width variants are removed (matplotlib lays out horizontal text only).

The output is reproducible: the source ``head.modified`` timestamp is kept, so
the same source and options give a byte-identical file.

Usage (Debian: ``apt-get install fonts-noto-cjk`` provides the source)::

    python tools/subset_font.py                       # default source and output
    python tools/subset_font.py --source NotoSansCJK-Regular.ttc \\
        --extra-text data/raw/units.csv --extra-text methods/*.yaml
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian/Ubuntu fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch, Fedora
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
SOURCE_FAMILY = "Noto Sans CJK SC"
FAMILY = "Qyb Sans SC"
PS_NAME = "QybSansSC-Regular"
DEFAULT_OUT = ROOT / "qyb" / "fonts" / f"{PS_NAME}.otf"

#: Unicode ranges added on top of GB2312 (inclusive bounds).
EXTRA_RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement: ± × ÷ · ° µ ² ³ …
    (0x2010, 0x205E),  # general punctuation: – — ‘ ’ “ ” … ‰ ′ ″ ※ ‼
    (0x2070, 0x209F),  # super/subscripts
    (0x20AC, 0x20AC),  # €
    (0x2100, 0x214F),  # letterlike: ℃ № ™ ℉
    (0x2150, 0x218F),  # number forms: ⅓ Ⅰ–Ⅻ ⅰ–ⅻ
    (0x2190, 0x21FF),  # arrows: ← ↑ → ↓ ↗ ↘ ⇧ ⇩
    (0x2200, 0x22FF),  # maths operators: ≤ ≥ ≠ ≈ ∞ √ ∑ ∈ …
    (0x2460, 0x24FF),  # enclosed numbers ① ⑴ ⒈
    (0x2500, 0x257F),  # box drawing
    (0x2580, 0x259F),  # block elements ▁ ▂ … █
    (0x25A0, 0x25FF),  # geometric shapes ■ □ ▲ △ ▼ ▽ ◆ ◇ ○ ●
    (0x2600, 0x26FF),  # misc symbols ★ ☆ ☀ ☑ ☒ ⚠
    (0x2700, 0x27BF),  # dingbats ✓ ✔ ✗ ✘ ❶
    (0x3000, 0x303F),  # CJK symbols and punctuation 、。〈〉《》「」【】〔〕
    (0x3200, 0x32FF),  # enclosed CJK ㈠ ㊣
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width forms: ０–９ ％ （ ） ， ： ； ￥
)


def gb2312_characters() -> list[str]:
    """Every character of GB2312, by decoding each code point (rows 0xA1–0xF7)."""
    chars = []
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


URO = (0x4E00, 0x9FFF)  # CJK Unified Ideographs (basic block)


def wanted_codepoints(extra_texts: list[Path], hanzi: str = "uro") -> set[int]:
    cps = {ord(c) for c in gb2312_characters()}
    if hanzi == "uro":
        cps.update(range(URO[0], URO[1] + 1))
    for lo, hi in EXTRA_RANGES:
        cps.update(range(lo, hi + 1))
    for path in extra_texts:
        cps.update(ord(c) for c in path.read_text(encoding="utf-8-sig") if c.isprintable())
    return cps


def open_source(path: Path, family: str = SOURCE_FAMILY) -> TTFont:
    """Open the face named ``family`` from a TTC collection, or a single OTF/TTF."""
    if path.suffix.lower() in {".ttc", ".otc"}:
        names = [f["name"].getDebugName(1) for f in TTCollection(str(path), lazy=True).fonts]
        if family not in names:
            raise SystemExit(f"{path}: no face {family!r} in collection (faces: {names})")
        return TTFont(str(path), fontNumber=names.index(family), recalcTimestamp=False)
    return TTFont(str(path), recalcTimestamp=False)


def rename(font: TTFont, version: str, hanzi: str = "uro") -> None:
    """Give the subset its own names; keep copyright, trademark and licence records."""
    name = font["name"]
    name.names = [r for r in name.names if r.nameID not in {1, 3, 4, 6, 10, 16, 17, 18, 21, 22}]
    records = {
        1: FAMILY,
        3: f"{version};QYB;{PS_NAME};subset",
        4: f"{FAMILY} Regular",
        6: PS_NAME,
        10: (
            f"Subset of {SOURCE_FAMILY} Regular ({version}) for the qyb package: "
            "ASCII, Latin-1, GB2312, "
            + ("CJK Unified Ideographs U+4E00-U+9FFF, " if hanzi == "uro" else "")
            + "report symbols. Built by tools/subset_font.py."
        ),
    }
    for name_id, text in records.items():
        name.setName(text, name_id, 3, 1, 0x409)
        name.setName(text, name_id, 1, 0, 0)
    cff = font["CFF "].cff
    cff.fontNames = [PS_NAME]
    top = cff.topDictIndex[0]
    if hasattr(top, "FullName"):
        top.FullName = f"{FAMILY} Regular"
    if hasattr(top, "FamilyName"):
        top.FamilyName = FAMILY


def build(source: Path, out: Path, extra_texts: list[Path], hanzi: str = "uro") -> TTFont:
    font = open_source(source)
    version = font["name"].getDebugName(5).split(";")[0]  # "Version 2.004"
    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]
    # Horizontal Simplified-Chinese text only: no 'locl' (JP/KR/TC glyph
    # variants), no vertical or width alternates; these roughly halve the glyphs.
    options.layout_features = ["calt", "ccmp", "kern", "liga", "mark", "mkmk"]
    sub = subset.Subsetter(options)
    sub.populate(unicodes=wanted_codepoints(extra_texts, hanzi))
    sub.subset(font)
    rename(font, version, hanzi)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    font.save(str(tmp))
    tmp.replace(out)
    return TTFont(str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="NotoSansCJK-Regular.ttc or NotoSansCJKsc-Regular.otf")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--extra-text", type=Path, action="append", default=[],
                        help="UTF-8 text file whose characters must be covered (repeatable)")
    parser.add_argument("--hanzi", choices=("uro", "gb2312"), default="uro",
                        help="uro: all of U+4E00-U+9FFF (default); gb2312: only GB2312's 6,763 hanzi")
    args = parser.parse_args(argv)
    source = args.source or next((Path(p) for p in DEFAULT_SOURCES if Path(p).exists()), None)
    if source is None or not source.exists():
        print("source font not found: install fonts-noto-cjk or pass --source", file=sys.stderr)
        return 2
    font = build(source, args.out, args.extra_text, args.hanzi)
    cmap = font.getBestCmap()
    missing = [c for c in gb2312_characters() if ord(c) not in cmap]
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{args.out}: {args.out.stat().st_size:,} bytes, {len(font.getGlyphOrder()):,} glyphs, "
          f"{len(cmap):,} code points, sha256 {digest}")
    if missing:
        print(f"warning: {len(missing)} GB2312 characters not in source: {''.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
