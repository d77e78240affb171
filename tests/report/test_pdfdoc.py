"""qyb.report.pdfdoc: the PDF writer behind 榜单.pdf and the 体检表, opened with pypdf and fontTools."""
from __future__ import annotations

import io
import re
import zlib

import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.pens.recordingPen import RecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from qyb.plots.base import FONT_PATH
from qyb.report.pdfdoc import PT, Page, embedded_font, pdf_bytes

TEXT = "永宁社区 第 2 名 ★★★★ ↑25 −20"


def page_with(*texts: str, **kw) -> Page:
    page = Page(210, 297)
    for i, text in enumerate(texts):
        page.text(20, 280 - 10 * i, text, size=12, **kw)
    return page


def font_program(data: bytes) -> CFFFontSet:
    reader = PdfReader(io.BytesIO(data))
    font = reader.pages[0]["/Resources"]["/Font"]["/F1"].get_object()
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    stream = descriptor["/FontFile3"].get_object()
    assert stream["/Subtype"] == "/CIDFontType0C"
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(stream.get_data()), None)
    return cff


def test_text_is_searchable_and_the_file_is_a4():
    data = page_with(TEXT, "小榄镇综治办　2023年12月").pdf("标题")
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 portrait in points
    text = reader.pages[0].extract_text()
    assert TEXT in text and "小榄镇综治办　2023年12月" in text
    assert reader.metadata.title == "标题"
    assert data == page_with(TEXT, "小榄镇综治办　2023年12月").pdf("标题")  # same page -> same bytes
    assert data != page_with(TEXT, "小榄镇综治办　2023年11月").pdf("标题")
    assert b"CreationDate" not in data and b"Producer" not in data


def test_embedded_glyphs_are_the_fonts_own_outlines_under_their_cids():
    """The subset is CID-keyed and each CID the text uses draws the same outline as in the bundled font
    (a wrong CID -> glyph mapping would print other characters while the text still extracts)."""
    data = page_with(TEXT).pdf()
    cff = font_program(data)
    top = cff[cff.fontNames[0]]
    assert top.ROS == ("Adobe", "Identity", 0)
    original = TTFont(str(FONT_PATH))
    cmap = original.getBestCmap()
    wanted = {cmap[ord(ch)] for ch in TEXT}
    assert set(top.CharStrings.keys()) == wanted | {".notdef"}  # only the glyphs used
    glyphs = original.getGlyphSet()
    for name in wanted:
        ours, theirs = RecordingPen(), RecordingPen()
        top.CharStrings[name].draw(ours)
        glyphs[name].draw(theirs)
        assert ours.value == theirs.value, name
    # the content shows those CIDs, and the widths (W) are the font's advances
    content = zlib.decompress(re.search(rb"stream\n(.*?)\nendstream", data.split(b"/Type /Page ")[1], re.S).group(1))
    shown = {int(h[i:i + 4], 16) for h in re.findall(rb"<([0-9A-F]+)> Tj", content) for i in range(0, len(h), 4)}
    assert shown == {int(n[3:]) for n in wanted}
    advances = original["hmtx"].metrics
    widths = dict(re.findall(rb"(\d+) \[(\d+)\]", re.search(rb"/W \[(.*?)\] >>", data).group(1)))
    assert {int(k): int(v) for k, v in widths.items()} == {int(n[3:]): advances[n][0] for n in wanted}


def test_width_and_alignment_follow_the_advances():
    font = embedded_font()
    page = Page(100, 100)
    # two ideographs are two ems: 2 x 10 pt = 20 pt = 7.056 mm
    assert page.text_width("永宁", 10) == pytest.approx(20 * PT)
    assert page.text(50, 50, "永宁", size=10, ha="center") == pytest.approx(20 * PT)
    page.text(50, 40, "永宁", size=10, ha="right")
    page.text(50, 30, "永宁", size=10, va="center")
    ops = page.content().decode().splitlines()
    x_centre, x_right = 50 - 10 * PT, 50 - 20 * PT
    assert f"{x_centre:.3f} 50 Td" in ops[1] and f"{x_right:.3f} 40 Td" in ops[2]
    y_centre = 30 - (font.EM_TOP + font.EM_BOTTOM) / 2 * 10 * PT  # the middle of the ideographic em box
    assert f"50 {y_centre:.3f} Td" in ops[3]


def test_pages_share_one_font_program():
    pages = [page_with(f"第 {i} 页") for i in range(1, 6)]
    combined = pdf_bytes(pages, "合订")
    reader = PdfReader(io.BytesIO(combined))
    assert [p.extract_text().strip() for p in reader.pages] == [f"第 {i} 页" for i in range(1, 6)]
    assert combined.count(b"/FontFile3") == 1
    union = set().union(*(p.glyph_text for p in pages))
    single = pdf_bytes([pages[0]], glyphs=union)  # a page alone, with the set's font subset
    assert set(font_program(single)[font_program(single).fontNames[0]].CharStrings.keys()) == union | {".notdef"}


def test_a_character_missing_from_the_font_warns_and_draws_a_box():
    page = Page(100, 100)
    with pytest.warns(UserWarning, match="U\\+20000.*missing from font"):
        page.text(10, 10, "永\U00020000")
    assert ".notdef" in page.glyph_text


def test_shapes_and_transparency():
    page = Page(100, 100)
    page.rect(10, 10, 20, 5, fc="#ff0000", alpha=0.85)
    page.rect(10, 20, 20, 5, ec="black", lw=1)
    page.round_rect(10, 30, 20, 5, r=1, fc="#fff3e0", ec="#b71c1c")
    page.line(0, 0, 100, 100, color="#222222", lw=0.6)
    page.polygon([(5, 0), (10, 5), (5, 10), (0, 5)], fc="#1f5fbf")
    page.rect(0, 0, 1, 1)  # neither fill nor edge: nothing drawn
    ops = page.content().decode().splitlines()[1:-1]
    assert len(ops) == 5
    assert ops[0] == "q /A850 gs 1 0 0 rg 10 10 20 5 re f Q"
    assert ops[1] == f"q 0 0 0 RG {1 * PT:.3f} w 10 20 20 5 re S Q"
    assert ops[2].endswith(" h B Q") and ops[4].endswith(" h f Q")
    data = page.pdf()
    assert b"/ExtGState << /A850 << /ca 0.85 /CA 0.85 >> >>" in data
    PdfReader(io.BytesIO(data), strict=True).pages[0].extract_text()
