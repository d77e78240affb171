"""Writing what leaves the office, from one :class:`~qyb.report.month.MonthReport`, into a folder.

:func:`write_month_tables` (the record of the month, the published history, the 预警 list),
:func:`write_unit_documents` (``history.xlsx``, the 体检表) and :func:`write_ranking_documents` (the
榜单 files, its PDF and WeChat image, the 通报: these need the rank intervals); the run calls them
while the notebooks run. Every writer is a pure ``bytes`` function elsewhere in :mod:`qyb.report`; this module only
names the files and writes them atomically.
"""
from __future__ import annotations

from pathlib import Path

from qyb.data.files import write_bytes_atomic, write_csv_atomic
from qyb.report.published import write_record

__all__ = ["FILES", "write_month_tables", "write_unit_documents", "write_ranking_documents", "write_documents",
           "artefact_list"]

#: file name -> (label on the summary page, note): the downloads of a published month, in order
FILES = {
    "榜单.pdf": ("榜单（PDF，A4 横向一页，可直接打印）", ""),
    "榜单（微信）.png": ("榜单图片（微信发布用，竖版 1080 像素宽）", ""),
    "通报.docx": ("通报（Word，可修改后印发）", ""),
    "体检表/体检表（全部）.pdf": ("体检表（全部村（社区），PDF，每单位一页）", "各单位单独文件见“体检表”文件夹"),
    "ranking.xlsx": ("榜单（Excel）", ""),
    "history.xlsx": ("历史公布结果（Excel，可做数据透视）", ""),
    "tables/alerts.csv": ("预警名单（CSV）", ""),
    "ranking.csv": ("榜单（CSV，UTF-8）", ""),
    "published.csv": ("本期发布记录（CSV）", "往后各期据此显示本期公布结果"),
    "run.json": ("运行记录", "输入文件、评分办法及其校验码"),
}


def write_month_tables(rep, build: Path) -> None:
    """The month's tables: ``tables/published_history.csv``, ``tables/alerts.csv`` and this month's
    record ``published.csv``."""
    write_csv_atomic(rep.history, build / "tables" / "published_history.csv")
    write_csv_atomic(rep.alerts, build / "tables" / "alerts.csv")
    write_record(rep.record, build)


def _step(progress, name: str, func) -> None:
    """Run ``func``, reporting its duration to ``progress`` (a :class:`qyb.report.run.Progress`) if given."""
    import time

    t0 = time.perf_counter()
    func()
    if progress is not None:
        progress.done(name, time.perf_counter() - t0)


def _notes(rep) -> list[str]:
    """The 说明 sheet of the workbooks: synthetic-data banner, method change, method and its hash."""
    from qyb.report.ranking import method_change_note
    from qyb.vocab import SYNTHETIC_BANNER

    return ([SYNTHETIC_BANNER] if rep.synthetic else []) + [method_change_note(rep.card), rep.method_line,
                                                            f"评分办法校验码：{rep.method.hash}"]


def write_unit_documents(rep, build: Path, progress=None) -> None:
    """What needs no rank intervals: ``history.xlsx`` and the 体检表 PDFs (each unit and all together)."""
    from qyb.report import pdf
    from qyb.report.xlsx import history_xlsx_bytes

    cats = {g.code: g.name for g in rep.method.categories}
    heading = (f"小榄镇平安“晴雨表”历史记录（截至{rep.month_text}）　各月按当月公布结果"
               + ("　【示例数据】" if rep.synthetic else ""))
    _step(progress, "history.xlsx", lambda: write_bytes_atomic(
        history_xlsx_bytes(rep.history, rep.month, heading, notes=_notes(rep), category_names=cats,
                           footer=rep.issuer), build / "history.xlsx"))
    _step(progress, "体检表 pdf", lambda: pdf.write_checkups(rep, build / "体检表"))


def write_ranking_documents(rep, build: Path, progress=None) -> None:
    """What shows whether a move is beyond chance (``rep`` with its rank intervals): the 榜单 as CSV,
    XLSX, PDF and WeChat PNG, and ``通报.docx``."""
    from qyb.report import pdf
    from qyb.report.bulletin import bulletin_docx_bytes
    from qyb.report.wechat import wechat_png_bytes
    from qyb.report.xlsx import ranking_csv_bytes, ranking_xlsx_bytes

    heading = f"{rep.title}　{rep.method_line}" + ("　【示例数据】" if rep.synthetic else "")
    names = [g.name for g in rep.method.categories]

    def spreadsheets():
        write_bytes_atomic(ranking_csv_bytes(rep.ranking), build / "ranking.csv")
        write_bytes_atomic(ranking_xlsx_bytes(rep.ranking, notes=_notes(rep), month=rep.month, heading=heading,
                                              footer=rep.signature, category_names=names), build / "ranking.xlsx")

    _step(progress, "ranking xlsx + csv", spreadsheets)
    _step(progress, "榜单.pdf", lambda: write_bytes_atomic(pdf.ranking_pdf_bytes(rep), build / "榜单.pdf"))
    _step(progress, "wechat png", lambda: write_bytes_atomic(wechat_png_bytes(rep), build / "榜单（微信）.png"))
    _step(progress, "通报.docx", lambda: write_bytes_atomic(bulletin_docx_bytes(rep), build / "通报.docx"))


def write_documents(rep, build: Path, progress=None) -> None:
    """Every document: :func:`write_unit_documents` and :func:`write_ranking_documents`."""
    write_unit_documents(rep, build, progress)
    write_ranking_documents(rep, build, progress)


def artefact_list(build: Path) -> dict[str, dict]:
    """Every published file (relative path -> bytes, and pages for PDFs), for run.json."""
    out = {}
    for path in sorted(p for p in build.rglob("*") if p.is_file()):
        rel = path.relative_to(build).as_posix()
        if rel.startswith("notebooks/") or rel == "run.json":
            continue
        entry = {"bytes": path.stat().st_size}
        if path.suffix == ".pdf":
            entry["pages"] = _pdf_pages(path)
        out[rel] = entry
    return out


def _pdf_pages(path: Path) -> int:
    """Pages of a PDF we wrote (counted from its page tree, without a PDF library)."""
    import re

    data = path.read_bytes()
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
    return max(counts) if counts else len(re.findall(rb"/Type\s*/Page\b", data))
