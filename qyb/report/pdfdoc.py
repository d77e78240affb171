"""A small PDF writer for printed pages of text, rules and boxes in the bundled CJK font.

What leaves the office as PDF (``榜单.pdf``, the 体检表) is text in table cells, coloured boxes and
rules on pages laid out in millimetres. Drawing them through a plotting library costs a text layout
and a font-embedding pass per cell and per file (≈ 0.2 s of CPU per 体检表 page); writing the page
description directly costs microseconds per cell. This module writes it, by the PDF reference:

- coordinates are millimetres from the bottom-left corner (the page content starts with a
  ``cm`` operator scaling points to mm); font sizes and line widths are given in points;
- text is set in the bundled font (:data:`qyb.plots.base.FONT_PATH`, Noto Sans CJK SC, CID-keyed
  CFF outlines) embedded as a ``Type0`` font with ``Identity-H`` encoding over a ``CIDFontType0``
  whose program (``FontFile3``/``CIDFontType0C``) is a subset holding only the glyphs used,
  made once per set of pages with fontTools; a ``ToUnicode`` map keeps the text searchable
  and copyable; glyph advances (``W``) come from the font's ``hmtx``;
- several pages in one file share one font object (the combined 体检表 carries the font once);
- same pages -> same bytes: no dates, no producer, the document id is a digest of the content.

References
----------
Adobe, *PDF Reference*, 6th ed. (PDF 1.7), 2006: §5.6 composite fonts (Type0, CIDFontType0,
Identity-H), §5.8 embedded font programs (FontFile3/CIDFontType0C), §5.9 ToUnicode CMaps,
§4.4 path construction and painting, §5.3 text objects. Adobe Technical Note #5176, *The Compact
Font Format Specification* (CID-keyed fonts: the charset maps glyphs to CIDs).
"""
from __future__ import annotations

import functools
import hashlib
import io
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Page", "pdf_bytes", "embedded_font", "PT"]

PT = 25.4 / 72  # one point in millimetres
_BEZIER = 0.5523  # control-point distance of a quarter circle drawn with one cubic curve


def _num(v: float) -> str:
    """A PDF number: at most 3 decimals, no trailing zeros, never ``-0``."""
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@functools.lru_cache(maxsize=256)
def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def _colour(colour: str, op: str) -> str:
    return " ".join(_num(c) for c in _rgb(colour)) + f" {op}"


class EmbeddedFont:
    """The bundled font as a PDF needs it: glyph of a character, its CID and advance, and subsets.

    ``cmap``: code point -> glyph name (``cid01234``; a CID-keyed CFF names its glyphs by CID);
    ``advance``: glyph name -> advance width in font units (``units_per_em`` to the em).
    """

    # the ideographic em box of Noto Sans CJK: from 0.12 em below the baseline to 0.88 em above
    EM_TOP, EM_BOTTOM = 0.88, -0.12

    def __init__(self, path: Path):
        from fontTools.ttLib import TTFont

        self.path = Path(path)
        font = TTFont(str(self.path), lazy=True)
        self.cmap: dict[int, str] = font.getBestCmap()
        self.advance: dict[str, int] = {name: adv for name, (adv, _) in font["hmtx"].metrics.items()}
        self.units_per_em = font["head"].unitsPerEm
        head = font["head"]
        self.bbox = (head.xMin, head.yMin, head.xMax, head.yMax)
        self.cap_height = getattr(font["OS/2"], "sCapHeight", 700)
        self.ps_name = font["name"].getDebugName(6) or self.path.stem
        self.is_cid_keyed = "CFF " in font and "ROS" in font["CFF "].cff.topDictIndex[0].rawDict
        font.close()
        if not self.is_cid_keyed:
            raise ValueError(f"{self.path}: a CID-keyed CFF font is needed for CIDFontType0 embedding")

    @staticmethod
    def cid(glyph: str) -> int:
        return 0 if glyph == ".notdef" else int(glyph[3:])

    def glyphs(self, text: str) -> list[str]:
        """Glyph names of ``text``; a character the font lacks becomes .notdef (a box) with a warning,
        as matplotlib warns "Glyph ... missing from font"."""
        out = []
        for ch in text:
            name = self.cmap.get(ord(ch))
            if name is None:
                warnings.warn(f"Glyph {ord(ch)} ({ch!r}, U+{ord(ch):04X}) missing from font {self.path.name}",
                              UserWarning, stacklevel=3)
                name = ".notdef"
            out.append(name)
        return out

    def width(self, glyphs: list[str], size_mm: float) -> float:
        """Advance width of the glyphs at ``size_mm`` (no kerning: the font's CJK text has none)."""
        return sum(self.advance[g] for g in glyphs) * size_mm / self.units_per_em

    @functools.lru_cache(maxsize=8)  # noqa: B019 (one font object per process, kept for its life)
    def subset_cff(self, glyphs: frozenset[str]) -> bytes:
        """The CFF font program (CID-keyed, original CIDs) holding ``glyphs`` and .notdef."""
        from fontTools import subset
        from fontTools.ttLib import TTFont

        options = subset.Options()
        options.notdef_outline = True
        options.layout_features = []
        options.hinting = False
        options.drop_tables += ["GSUB", "GPOS", "name", "post", "OS/2", "cmap"]
        font = TTFont(str(self.path), lazy=True)  # only the kept glyphs' outlines are decoded (same bytes, 3x faster)
        subsetter = subset.Subsetter(options)
        subsetter.populate(glyphs=sorted(glyphs | {".notdef"}))
        subsetter.subset(font)
        buf = io.BytesIO()
        font["CFF "].cff.compile(buf, font)
        font.close()
        return buf.getvalue()


@functools.lru_cache(maxsize=2)
def embedded_font(path: Path | None = None) -> EmbeddedFont:
    """The bundled font (:data:`qyb.plots.base.FONT_PATH`), read once per process."""
    if path is None:
        from qyb.plots.base import FONT_PATH

        path = FONT_PATH
    return EmbeddedFont(Path(path))


@dataclass
class Page:
    """One page: drawing operations in millimetres from the bottom-left corner."""

    width: float
    height: float
    font: EmbeddedFont = field(default_factory=embedded_font, repr=False)
    glyph_text: dict[str, str] = field(default_factory=dict, repr=False)  # glyph -> the text it shows
    alphas: set[float] = field(default_factory=set, repr=False)
    _ops: list[str] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------ text
    def text_width(self, s: str, size: float = 9) -> float:
        """Width in mm of ``s`` at ``size`` points."""
        return self.font.width(self.font.glyphs(str(s)), size * PT)

    def text(self, x: float, y: float, s: str, size: float = 9, ha: str = "left", va: str = "baseline",
             color: str = "#000000", bold: bool = False) -> float:
        """Draw ``s`` at (x, y) mm, ``size`` points; ``ha`` left/center/right, ``va`` baseline/center/top
        (centre and top of the ideographic em box). Bold is the regular face stroked as well as filled
        (the bundled font has one weight). Returns the text's width in mm."""
        s = str(s)
        if not s:
            return 0.0
        glyphs = self.font.glyphs(s)
        for g, ch in zip(glyphs, s):
            self.glyph_text.setdefault(g, ch)
        size_mm = size * PT
        width = self.font.width(glyphs, size_mm)
        x0 = x - width if ha == "right" else x - width / 2 if ha == "center" else x
        em_top, em_bottom = EmbeddedFont.EM_TOP, EmbeddedFont.EM_BOTTOM
        y0 = {"baseline": y, "center": y - (em_top + em_bottom) / 2 * size_mm, "top": y - em_top * size_mm,
              "bottom": y - em_bottom * size_mm}[va]
        codes = "".join(f"{EmbeddedFont.cid(g):04X}" for g in glyphs)
        show = f"BT /F1 {_num(size_mm)} Tf {_num(x0)} {_num(y0)} Td <{codes}> Tj ET"
        if bold:
            self._ops.append(f"q {_colour(color, 'rg')} {_colour(color, 'RG')} 2 Tr {_num(size_mm * 0.03)} w {show} Q")
        else:
            self._ops.append(f"{_colour(color, 'rg')} {show}")
        return width

    # ------------------------------------------------------------ shapes
    def _paint(self, path: str, fc: str | None, ec: str | None, lw: float, alpha: float | None) -> None:
        fill = fc not in (None, "none")
        stroke = ec not in (None, "none")
        if not (fill or stroke):
            return
        ops = ["q"]
        if alpha is not None and alpha < 1:
            self.alphas.add(round(alpha, 3))
            ops.append(f"/{_alpha_name(alpha)} gs")
        if fill:
            ops.append(_colour(fc, "rg"))
        if stroke:
            ops.append(f"{_colour(ec, 'RG')} {_num(lw * PT)} w")
        ops.append(path)
        ops.append("B" if fill and stroke else "f" if fill else "S")
        ops.append("Q")
        self._ops.append(" ".join(ops))

    def rect(self, x: float, y: float, w: float, h: float, fc: str | None = None, ec: str | None = None,
             lw: float = 0.5, alpha: float | None = None) -> None:
        """A rectangle from (x, y) mm, ``w`` × ``h`` mm; ``fc`` fill, ``ec`` edge (``lw`` points)."""
        self._paint(f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re", fc, ec, lw, alpha)

    def round_rect(self, x: float, y: float, w: float, h: float, r: float, fc: str | None = None,
                   ec: str | None = None, lw: float = 0.5) -> None:
        """A rectangle with corners rounded to radius ``r`` mm."""
        r = min(r, w / 2, h / 2)
        k = r * (1 - _BEZIER)
        x1, y1 = x + w, y + h
        path = (f"{_num(x + r)} {_num(y)} m {_num(x1 - r)} {_num(y)} l "
                f"{_num(x1 - k)} {_num(y)} {_num(x1)} {_num(y + k)} {_num(x1)} {_num(y + r)} c "
                f"{_num(x1)} {_num(y1 - r)} l {_num(x1)} {_num(y1 - k)} {_num(x1 - k)} {_num(y1)} {_num(x1 - r)} {_num(y1)} c "
                f"{_num(x + r)} {_num(y1)} l {_num(x + k)} {_num(y1)} {_num(x)} {_num(y1 - k)} {_num(x)} {_num(y1 - r)} c "
                f"{_num(x)} {_num(y + r)} l {_num(x)} {_num(y + k)} {_num(x + k)} {_num(y)} {_num(x + r)} {_num(y)} c h")
        self._paint(path, fc, ec, lw, None)

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str = "#000000", lw: float = 0.5) -> None:
        """A straight rule from (x0, y0) to (x1, y1) mm, ``lw`` points wide, square ends cut at the points."""
        self._paint(f"{_num(x0)} {_num(y0)} m {_num(x1)} {_num(y1)} l", None, color, lw, None)

    def polygon(self, points: list[tuple[float, float]], fc: str, ec: str | None = None, lw: float = 0.5) -> None:
        """A closed polygon through ``points`` (mm)."""
        (x, y), *rest = points
        path = f"{_num(x)} {_num(y)} m " + " ".join(f"{_num(a)} {_num(b)} l" for a, b in rest) + " h"
        self._paint(path, fc, ec, lw, None)

    # ------------------------------------------------------------ output
    def content(self) -> bytes:
        """The page's content stream (uncompressed): points scaled to millimetres, then the operations."""
        scale = _num(1 / PT)
        return (f"q {scale} 0 0 {scale} 0 0 cm\n" + "\n".join(self._ops) + "\nQ\n").encode("ascii")

    def pdf(self, title: str = "") -> bytes:
        """This page alone as a PDF file."""
        return pdf_bytes([self], title=title)


def _alpha_name(alpha: float) -> str:
    return f"A{round(alpha * 1000):03d}"


def _stream(obj: str, data: bytes, compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data, 6)
        obj = f"{obj} /Filter /FlateDecode"
    return f"<< {obj} /Length {len(data)} >>\nstream\n".encode("ascii") + data + b"\nendstream"


def _utf16_hex(text: str) -> str:
    return "FEFF" + text.encode("utf-16-be").hex().upper()


def _to_unicode(glyph_text: dict[str, str]) -> bytes:
    """The ToUnicode CMap: each CID shown -> the character it was drawn for."""
    pairs = sorted((EmbeddedFont.cid(g), ch) for g, ch in glyph_text.items() if g != ".notdef")
    blocks = []
    for i in range(0, len(pairs), 100):  # at most 100 entries per bfchar block
        chunk = pairs[i:i + 100]
        lines = "\n".join(f"<{cid:04X}> <{_utf16_hex(ch)[4:]}>" for cid, ch in chunk)
        blocks.append(f"{len(chunk)} beginbfchar\n{lines}\nendbfchar")
    body = "\n".join(blocks)
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")


def pdf_bytes(pages: list[Page], title: str = "", glyphs: set[str] | None = None) -> bytes:
    """``pages`` as one PDF file, sharing one embedded font subset.

    ``glyphs``: the glyphs the embedded subset holds (default: those the pages use). Files written
    from one set of pages (each 体检表 alone and all of them together) pass the union, so the font
    program is subset once (:meth:`EmbeddedFont.subset_cff` caches it) instead of once per file.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    font = pages[0].font
    glyph_text: dict[str, str] = {}
    for page in pages:
        for g, ch in page.glyph_text.items():
            glyph_text.setdefault(g, ch)
    embedded = frozenset(glyphs if glyphs is not None else glyph_text) | frozenset(glyph_text)
    cff = font.subset_cff(frozenset(embedded))
    tag = "".join(chr(65 + b % 26) for b in hashlib.md5("\n".join(sorted(embedded)).encode()).digest()[:6])
    base_font = f"/{tag}+{font.ps_name}"
    upm = font.units_per_em
    widths = " ".join(f"{EmbeddedFont.cid(g)} [{round(font.advance[g] * 1000 / upm)}]"
                      for g in sorted(embedded, key=EmbeddedFont.cid))
    bbox = " ".join(str(round(v * 1000 / upm)) for v in font.bbox)
    alphas = sorted(set().union(*(p.alphas for p in pages)))
    ext = " ".join(f"/{_alpha_name(a)} << /ca {_num(a)} /CA {_num(a)} >>" for a in alphas)
    resources = "<< /Font << /F1 3 0 R >>" + (f" /ExtGState << {ext} >>" if ext else "") + " >>"

    n_fixed = 7  # 1 catalog, 2 pages, 3 Type0 font, 4 CIDFont, 5 ToUnicode, 6 descriptor, 7 font program
    page_ids = [n_fixed + 1 + 2 * i for i in range(len(pages))]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {len(pages)} >>".encode("ascii"),
        f"<< /Type /Font /Subtype /Type0 /BaseFont {base_font} /Encoding /Identity-H "
        f"/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>".encode("ascii"),
        f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont {base_font} "
        f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor 6 0 R /DW 1000 /W [{widths}] >>".encode("ascii"),
        _stream("", _to_unicode(glyph_text)),
        f"<< /Type /FontDescriptor /FontName {base_font} /Flags 4 /FontBBox [{bbox}] /ItalicAngle 0 "
        f"/Ascent {round(EmbeddedFont.EM_TOP * 1000)} /Descent {round(EmbeddedFont.EM_BOTTOM * 1000)} "
        f"/CapHeight {round(font.cap_height * 1000 / upm)} /StemV 80 /FontFile3 7 0 R >>".encode("ascii"),
        _stream("/Subtype /CIDFontType0C", cff),
    ]
    contents = []
    for page, pid in zip(pages, page_ids):
        content = page.content()
        contents.append(content)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_num(page.width / PT)} {_num(page.height / PT)}] "
                       f"/Resources {resources} /Contents {pid + 1} 0 R >>".encode("ascii"))
        objects.append(_stream("", content))
    info_id = len(objects) + 1
    objects.append(f"<< /Title <{_utf16_hex(title)}> >>".encode("ascii") if title else b"<< >>")

    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii"))
    out.write("".join(f"{o:010d} 00000 n \n" for o in offsets).encode("ascii"))
    digest = hashlib.md5(cff + b"".join(contents) + title.encode("utf-8")).hexdigest().upper()
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R "
              f"/ID [<{digest}> <{digest}>] >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii"))
    return out.getvalue()
