"""What a monthly run publishes besides the notebooks: data loading for the notebooks,
the 榜单 as XLSX and CSV, ``index.html`` and the run record ``run.json``.

* :func:`load_month_data` is the one loading step both report notebooks call
  (scorecard with the published previous rank, indicator table, 12-month index
  history, raw figures).
* :func:`ranking_xlsx_bytes` / :func:`ranking_csv_bytes` turn the 榜单 table
  (:func:`qyb.ranking.ranking_table`) into bytes; the run writes them.
  Same table -> same bytes (fixed workbook timestamps, fixed float text).
* :func:`index_html` and :func:`run_record` describe one published month.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from qyb.report import ranking
from qyb.errors import InputError
from qyb.data.panel import Panel
from qyb.data.monthfile import month_files
from qyb.data.files import sha256_file
from qyb.method import Method
from qyb.paths import DATA_RAW
from qyb.edition import add_published_previous, score_table

#: Fill colours (RGB hex) of the 榜单 rows by star tier, light tints so text stays readable.
STAR_FILLS = {5: "C6EFCE", 4: "DDEBF7", 3: "FFF2CC", 2: "FCE4D6", 1: "F4B6B6"}
SYNTHETIC_BANNER = ("示例数据 (synthetic sample data)：本报告所用数据为合成示例数据，"
                    "单位名称真实，所有数字均为虚构，不代表任何真实情况。")
VERSIONED_PACKAGES = ("qyb", "papermill", "pandas", "numpy", "scipy", "matplotlib",
                      "nbconvert", "nbclient", "openpyxl")


# ---------------------------------------------------------------- loading for the notebooks
@dataclass
class MonthData:
    """Everything the report notebooks show for one month, scored under one method."""

    month: str
    method: Method
    card: pd.DataFrame  # scorecard of the month, with rank_prev_published
    history: pd.DataFrame  # scorecards of up to 12 months ending at ``month`` (same method)
    long: pd.DataFrame  # tidy unit x indicator rows of the month
    panel: Panel

    @property
    def synthetic(self) -> bool:
        return self.panel.synthetic

    @property
    def category_labels(self) -> dict[str, str]:
        """Category code (without ``cat_``) -> Chinese name, in the method's order (for qyb.plots.charts)."""
        return {g.code: g.name for g in self.method.categories}


def load_month_data(month: str, method: str | None = None, data_dir: str | Path | None = None,
                    history: int = 12) -> MonthData:
    """Score ``month`` (and the months before it that the data allow, up to ``history``) once.

    ``history=0`` scores the month alone (the 榜单 needs no history; faster).

    Raises :class:`qyb.errors.InputError` for bad input, exactly as ``qyb score`` does.
    """
    from qyb.data.months import parse_month
    from qyb.edition import resolve_method

    month = parse_month(month)
    data_dir = Path(data_dir) if data_dir else DATA_RAW
    m = resolve_method(month, method or None)
    available = sorted(month_files(data_dir))
    first = (ranking.history_start(month, available[0], m.history_needed(), history)
             if available and history > 1 else month)
    try:
        table, panel = score_table(month, m, data_dir, first=first)
    except InputError:
        if first == month:
            raise
        table, panel = score_table(month, m, data_dir)  # a gap in the history: show this month only
    card = add_published_previous(table.scorecard(month), panel, month, m)
    hist = table.scorecard()
    return MonthData(month, m, card, hist, table.indicator_long(month), panel)


# ---------------------------------------------------------------- the 榜单 as files
def ranking_csv_bytes(table: pd.DataFrame) -> bytes:
    """The 榜单 as CSV: UTF-8 with BOM (Excel opens Chinese correctly), LF line ends, rounded values."""
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _text_width(value) -> float:
    """Display width of a cell: CJK and full-width characters count double."""
    text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return sum(2 if ord(ch) > 0x2E7F or ch in "★↑↓—" else 1 for ch in text)


def ranking_xlsx_bytes(table: pd.DataFrame, title: str = "榜单", notes: list[str] | None = None,
                       month: str | None = None) -> bytes:
    """The 榜单 as an XLSX workbook.

    Sheet 榜单: Chinese headers in row 1 (bold, frozen), one row per unit, ★ as
    characters, each row filled by its star tier (:data:`STAR_FILLS`), column
    widths fitted to the longest entry. Sheet 说明 holds ``notes`` (method,
    synthetic-data banner). Workbook timestamps are fixed (first day of
    ``month``) so the same table gives the same file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = title
    headers = list(table.columns)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=False)
    star_col = headers.index(ranking.RANKING_HEADERS["stars"]) if ranking.RANKING_HEADERS["stars"] in headers else None
    for values in table.itertuples(index=False):
        row = [None if (not isinstance(v, str) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
               for v in values]
        sheet.append(row)
        if star_col is not None and row[star_col] in STAR_FILLS:
            fill = PatternFill("solid", start_color=STAR_FILLS[row[star_col]], end_color=STAR_FILLS[row[star_col]])
            for cell in sheet[sheet.max_row]:
                cell.fill = fill
    for j, header in enumerate(headers, start=1):
        width = max([_text_width(header)] + [_text_width(v) for v in table.iloc[:, j - 1]])
        sheet.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 6), 60)
    sheet.freeze_panes = "A2"
    if notes:
        info = book.create_sheet("说明")
        for line in notes:
            info.append([line])
        info.column_dimensions["A"].width = 120
    stamp = _dt.datetime.strptime(f"{month}-01", "%Y-%m-%d") if month else _dt.datetime(2000, 1, 1)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "qyb"
    buf = io.BytesIO()
    book.save(buf)
    return _fix_zip_times(buf.getvalue(), stamp)


def _fix_zip_times(data: bytes, stamp: _dt.datetime) -> bytes:
    """Rewrite the zip members with a fixed timestamp and order (openpyxl stamps the clock time)."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl writes the save time as 'modified'
                import re

                iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + iso.encode() + rb"\2", body)
            dst.writestr(fixed, body)
    return out.getvalue()


# ---------------------------------------------------------------- index.html
def _esc(text) -> str:
    return html.escape(str(text))


def index_html(month: str, method: Method, reports: list[dict], files: dict[str, str], figures: list[str],
               table: pd.DataFrame, synthetic: bool, notes: list[str]) -> str:
    """The landing page of ``reports/YYYY-MM/``: banner, method, links to everything, the top of the 榜单.

    ``reports``: [{"title", "html", "notebook"}] relative links; ``files``: label -> relative link.
    """
    parts = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>小榄镇平安“晴雨表” {month}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60em;margin:2em auto;"
        "padding:0 1em;color:#222}.banner{background:#fff3cd;border:1px solid #e0c060;padding:.6em 1em;"
        "margin:1em 0;font-weight:bold}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.2em .6em}th{background:#f0f0f0}figure{display:inline-block;margin:.5em}"
        "img{max-width:28em;border:1px solid #ddd}</style></head><body>",
        f"<h1>小榄镇平安“晴雨表” {month} 月度报告 <small>(Safety Barometer, monthly report)</small></h1>",
    ]
    if synthetic:
        parts.append(f'<div class="banner">{_esc(SYNTHETIC_BANNER)}</div>')
    parts.append(f"<p>评分办法 (method): <b>{_esc(method.title)}</b> [{_esc(method.name)}], "
                 f"hash {_esc(method.hash[:12])}</p>")
    parts += [f"<p>{_esc(n)}</p>" for n in notes]
    parts.append("<h2>报告 (reports)</h2><ul>")
    for r in reports:
        parts.append(f'<li><a href="{_esc(r["html"])}">{_esc(r["title"])}</a> '
                     f'(<a href="{_esc(r["notebook"])}">notebook</a>)</li>')
    parts.append("</ul><h2>数据文件 (data files)</h2><ul>")
    for label, link in files.items():
        parts.append(f'<li><a href="{_esc(link)}">{_esc(label)}</a></li>')
    parts.append("</ul>")
    top = table.head(10)
    parts.append("<h2>榜单前十 (top 10)</h2><table><tr>" + "".join(f"<th>{_esc(c)}</th>" for c in top.columns[:8])
                 + "</tr>")
    for row in top.itertuples(index=False):
        parts.append("<tr>" + "".join(f"<td>{_esc('' if pd.isna(v) else v)}</td>" for v in row[:8]) + "</tr>")
    parts.append("</table>")
    if figures:
        parts.append("<h2>图表 (figures)</h2>")
        for fig in figures:
            parts.append(f'<figure><a href="{_esc(fig)}"><img src="{_esc(fig)}" alt="{_esc(fig)}"></a>'
                         f"<figcaption>{_esc(Path(fig).name)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- run.json
def package_versions(names=VERSIONED_PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = platform.python_version()
    return out


def input_hashes(panel: Panel, method: Method) -> dict:
    """sha256 of every input file of the data folder (unit register, month files) and of the method spec."""
    from qyb.data.register import UNITS_FILE

    data_dir = Path(panel.data_dir)
    paths = [data_dir / UNITS_FILE] + [month_files(data_dir)[m] for m in sorted(month_files(data_dir))]
    files = {p.name: sha256_file(p) for p in paths}
    spec = {"path": str(method.path) if method.path else None,
            "sha256": sha256_file(method.path) if method.path else None,
            "spec_hash": method.hash}
    return {"data_dir": str(panel.data_dir), "files": files, "method_spec": spec}


def run_record(month: str, method: Method, panel: Panel, parameters: dict, started: _dt.datetime,
               steps: dict[str, float], notebooks: list[str]) -> dict:
    """The run record published as run.json."""
    return {
        "month": month,
        "method": method.name,
        "method_title": method.title,
        "method_hash": method.hash,
        "parameters": parameters,
        "inputs": input_hashes(panel, method),
        "synthetic": panel.synthetic,
        "notebooks": notebooks,
        "versions": package_versions(),
        "started": started.isoformat(timespec="seconds"),
        "steps_seconds": {k: round(v, 3) for k, v in steps.items()},
    }
