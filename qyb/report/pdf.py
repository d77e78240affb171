"""Printable PDFs without a browser: ``榜单.pdf`` (one A4 landscape page) and the 体检表 (one A4 page
per unit, and all of them in one file).

Pages are laid out in millimetres (origin bottom-left) on :class:`Sheet` and written by
:mod:`qyb.report.pdfdoc` in the bundled CJK font (``qyb/fonts/QybSansSC-Regular.otf``), embedded as
a subset with a ToUnicode map (the text can be searched and copied). Nothing is measured from a
browser: rows have fixed heights, so 29 units always fit one page.

Each unit's 体检表 page is laid out once; its own file and the combined file are written from the
same pages and share one font subset (made once per run). Same inputs -> same bytes (no creation
date, no producer string, the document id is a digest of the content).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qyb.paths import inside
from qyb.plots.base import FALL, HIGHLIGHT, RISE, STAR_COLOURS, STAR_TEXT_COLOURS
from qyb.report.alerts import alert_span
from qyb.report.month import TOWN
from qyb.report.pdfdoc import PT, Page, pdf_bytes
from qyb.report.xlsx import STAR_FILLS
from qyb.vocab import INDEX_DECIMALS, MINUS, SAME, UP, fmt_index, fmt_points, fmt_score, stars_text

__all__ = ["A4", "Sheet", "ranking_pdf_bytes", "checkup_page", "checkup_pdf_bytes", "checkup_pdfs",
           "write_checkups"]

A4 = (210.0, 297.0)  # mm, portrait
INK, GREY, LIGHT = "#222222", "#666666", "#d9d9d9"
STAMP_RED = "#b71c1c"


class Sheet(Page):
    """One printed page in millimetres (origin bottom-left), with the table helpers of these documents."""

    def __init__(self, width_mm: float, height_mm: float):
        super().__init__(width_mm, height_mm)

    def text(self, x, y, s, size=9, ha="left", va="baseline", color=INK, weight="normal", bold=False):
        return super().text(x, y, s, size=size, ha=ha, va=va, color=color, bold=bold or weight == "bold")

    def hline(self, x0, x1, y, color=LIGHT, lw=0.5):
        self.line(x0, y, x1, y, color=color, lw=lw)

    def vline(self, x, y0, y1, color=INK, lw=0.5):
        self.line(x, y0, x, y1, color=color, lw=lw)

    def diamond(self, x, y, half: float, color: str) -> None:
        """A diamond marker centred on (x, y), ``half`` mm from the centre to each corner."""
        self.polygon([(x, y - half), (x + half, y), (x, y + half), (x - half, y)], fc=color)

    def column(self, x: float, y_first: float, cells, colours, step: float, ha: str = "center",
               size: float | None = None, **kw) -> None:
        """Cells of one table column: baselines from ``y_first`` (mm) down, ``step`` mm apart; ``colours``
        one colour or one per cell; empty cells draw nothing."""
        cells = [str(c) for c in cells]
        colours = [colours] * len(cells) if isinstance(colours, str) else list(colours)
        size = size or min(9.0, step / PT * 0.5)
        for i, (cell, colour) in enumerate(zip(cells, colours)):
            if cell:
                self.text(x, y_first - i * step, cell, size=size, ha=ha, color=colour, **kw)

    def stamp(self, text: str) -> None:
        """The 示例数据 stamp in the top-right margin, above every title."""
        if not text:
            return
        size, pad = 8, 1.1
        width = self.text_width(text, size)
        right, top = self.width - 8, self.height - 6
        em = size * PT
        self.round_rect(right - width - pad, top - em - pad, width + 2 * pad, em + 2 * pad, r=1.0,
                        fc="#fff3e0", ec=STAMP_RED, lw=0.6)
        self.text(right, top, text, size=size, ha="right", va="top", color=STAMP_RED)


def _movement_colour(text: str) -> str:
    return RISE if text.startswith(UP) else FALL if text.startswith("↓") else GREY


# ---------------------------------------------------------------- 榜单.pdf
def ranking_pdf_bytes(rep) -> bytes:
    """``榜单.pdf``: the whole 榜单 on one A4 landscape page.

    Title with the month, the method in force, one row per unit (rank, name, index, stars,
    movement against last month's published rank, the nine category scores, 扣分) tinted by star
    tier, a note on how to read it, and the 落款 (issuing office and month). ``rep``: a
    :class:`qyb.report.month.MonthReport`.
    """
    table = rep.ranking
    cats = [g.name for g in rep.method.categories]
    page = Sheet(A4[1], A4[0])
    W, H = page.width, page.height
    page.stamp(rep.stamp)
    page.text(W / 2, H - 17, rep.title, size=17, ha="center", weight="bold")
    page.text(W / 2, H - 24, f"{rep.method_line}　　共 {rep.n_units} 个村（社区）", size=9, ha="center", color=GREY)
    cols = [("排名", 11, "center"), ("村（社区）", 27, "left"), ("平安形势指数", 22, "center"),
            ("星级", 22, "center"), ("升降", 13, "center")]
    cols += [(c, 17, "center") for c in cats] + [("扣分", 13, "center")]
    total = sum(w for _, w, _ in cols)
    x0 = (W - total) / 2
    top, bottom = H - 30, 22
    n = max(len(table), 1)
    row_h = min(6.5, (top - bottom - 9) / n)
    size = min(9.0, row_h / PT * 0.5)
    lefts = np.cumsum([0] + [w for _, w, _ in cols])[:-1] + x0
    page.rect(x0, top - 9, total, 9, fc="#e7e6e6")
    for (name, w, _), left in zip(cols, lefts):
        page.text(left + w / 2, top - 4.5, name, size=8, ha="center", va="center", weight="bold")
    values = {
        "排名": table["排名"].astype(str), "村（社区）": table["村(社区)"],
        "平安形势指数": table["平安形势指数"].map(fmt_index), "星级": table["星级"], "升降": table["升降"],
        "扣分": table["扣分"].map(lambda p: fmt_points(p) if p else "") if "扣分" in table else pd.Series([""] * n),
    }
    for c in cats:
        values[c] = table[c].map(fmt_score)
    stars = table["星数"].astype(int).to_numpy()
    for i in range(len(table)):
        page.rect(x0, top - 9 - (i + 1) * row_h, total, row_h, fc="#" + STAR_FILLS.get(int(stars[i]), "ffffff"))
    first = top - 9 - row_h / 2 - size * 0.35 * PT  # baseline of row 1: centred on the row
    for (name, w, align), left in zip(cols, lefts):
        cells = [str(v) for v in values[name]]
        if name == "升降":
            colours = [_movement_colour(c) for c in cells]
        elif name == "星级":
            colours = [STAR_TEXT_COLOURS[int(k)] for k in stars]
        else:
            colours = FALL if name == "扣分" else INK
        x = left + 1.5 if align == "left" else left + w / 2
        page.column(x, first, cells, colours, row_h, ha=align)
    table_bottom = top - 9 - n * row_h
    page.hline(x0, x0 + total, table_bottom, color=GREY, lw=0.6)
    page.text(x0, table_bottom - 6, "说明：平安形势指数满分 100，保留两位小数；类别得分 0–100，保留一位小数；"
              f"升降按上期公布排名计算（{UP} 上升，↓ 下降，{SAME} 持平，新 无上期排名）；"
              "扣分为按评分办法扣除的分数，事由见各单位体检表。",
              size=7.5, color=GREY)
    page.text(W - x0, 9, rep.signature, size=10, ha="right")
    return page.pdf(rep.title)


# ---------------------------------------------------------------- 体检表
def _kpi(page: Sheet, x: float, y: float, label: str, value: str, colour: str = INK, w: float = 42) -> None:
    page.rect(x, y, w - 3, 17, fc="#f5f5f5")
    page.text(x + 3, y + 12, label, size=8, color=GREY)
    page.text(x + 3, y + 4, value, size=13, color=colour)


#: centres (mm) of the figure columns beside the category bars; the last header ends inside the right margin
FIGURE_COLUMNS = (("本单位", 134), ("全镇中位数", 151), ("全镇最高", 168))
DIFF_X = 185


def _section(page: Sheet, y: float, title: str) -> float:
    page.text(15, y, title, size=11, weight="bold")
    page.hline(15, page.width - 15, y - 2, color=INK, lw=0.6)
    return y - 8


def checkup_page(rep, profile) -> Sheet:
    """The 体检表 of one unit on one A4 portrait page (see :func:`checkup_pdf_bytes`)."""
    p = profile
    page = Sheet(*A4)
    W, H = page.width, page.height
    page.stamp(rep.stamp)
    page.text(15, H - 20, f"{p.unit_name} 平安“晴雨表”体检表", size=17, weight="bold")
    page.text(15, H - 27, f"{rep.month_text}　{rep.method_line}", size=8.5, color=GREY)
    # headline figures
    y = H - 50
    move = p.history["升降"].iat[-1] if "升降" in p.history and len(p.history) else ""
    prev = f"（上期第 {p.rank_prev} 名）" if p.rank_prev is not None else ""
    _kpi(page, 15, y, "平安形势指数", fmt_score(p.index, INDEX_DECIMALS))
    _kpi(page, 57, y, "星级", stars_text(p.stars), STAR_TEXT_COLOURS[p.stars])
    _kpi(page, 99, y, "排名", f"第 {p.rank} 名 / {p.n_units}")
    _kpi(page, 141, y, "升降", f"{move or '—'}{prev}", _movement_colour(move or ""), w=57)
    y -= 8
    if p.alerts:
        alert = "；".join(f"{a['level']}：{a['rule']}，{alert_span(a['first_month'], a['last_month'], a['streak'])}"
                         for a in p.alerts)
        page.text(15, y, alert, size=9, color=FALL)
        y -= 6
    # categories: bars against the town median and best, with the figures
    y = _section(page, y - 2, "一、各类别得分（与全镇中位数、最高分比较）")
    cat = p.categories
    bar_x, bar_w = 45, 80
    page.text(bar_x, y, "0", size=6.5, color=GREY, ha="center")
    page.text(bar_x + bar_w, y, "100", size=6.5, color=GREY, ha="center")
    for label, x in (*FIGURE_COLUMNS, ("与中位数差", DIFF_X)):
        page.text(x, y, label, size=7.5, color=GREY, ha="center")
    y -= 2.5
    row_h = 6.2
    weak = (cat["与中位数差"] < 0).to_numpy()
    for i, r in enumerate(cat.itertuples(index=False)):
        yy = y - (i + 1) * row_h
        page.rect(bar_x, yy + 1.2, bar_w, row_h - 2.4, fc="#f0f0f0")
        page.rect(bar_x, yy + 1.2, bar_w * max(min(r.本单位, 100), 0) / 100, row_h - 2.4,
                  fc=STAR_COLOURS[p.stars], alpha=0.85)
    mids = y - (np.arange(len(cat)) + 0.5) * row_h
    medians = bar_x + bar_w * cat["全镇中位数"].to_numpy(dtype=float) / 100
    best = bar_x + bar_w * cat["全镇最高"].to_numpy(dtype=float) / 100
    for x_median, x_best, mid in zip(medians, best, mids):
        page.vline(x_median, mid - row_h / 2 + 0.6, mid + row_h / 2 - 0.6, color=INK, lw=1.2)
        page.diamond(x_best, mid, 0.95, HIGHLIGHT)
    first = y - row_h / 2 - 1.1
    page.column(15, first, cat["类别"], [FALL if w else INK for w in weak], row_h, ha="left")
    for col, x in FIGURE_COLUMNS:
        page.column(x, first, [fmt_score(v) for v in cat[col]], INK, row_h)
    diffs = [fmt_score(d) for d in cat["与中位数差"]]
    diffs = [d.replace("-", MINUS) if w else (f"+{d}" if float(d) > 0 else d) for d, w in zip(diffs, weak)]
    page.column(DIFF_X, first, diffs, [FALL if w else INK for w in weak], row_h)
    y -= len(cat) * row_h + 5
    page.text(15, y, "竖线为全镇中位数，菱形为全镇最高分；红色类别低于全镇中位数，为本单位短板。", size=7, color=GREY)
    # 短板
    y = _section(page, y - 8, "二、短板：得分最低的三项指标")
    for label, x in (("指标", 15), ("类别", 62), ("得分", 86), ("全镇中位", 102), ("指标值", 120), ("原始数据", 142)):
        page.text(x, y, label, size=7.5, color=GREY)
    y -= 6
    for r in p.weakest.itertuples(index=False):
        page.text(15, y, r.指标, size=8.5)
        page.text(62, y, r.类别, size=8.5)
        page.text(86, y, fmt_score(r.得分), size=8.5, color=FALL)
        page.text(102, y, fmt_score(r.全镇中位得分), size=8.5)
        page.text(120, y, str(r.指标值), size=8.5)
        page.text(142, y, _fit(str(r.原始数据), 40), size=7.5)
        y -= 6
    # 扣分
    y = _section(page, y - 3, "三、本月扣分")
    lines = p.deduction_lines or ["本月无扣分。"]
    for line in lines:
        page.text(18, y, line, size=9, color=FALL if p.deduction_lines else INK)
        y -= 5.5
    # history as published
    y = _section(page, y - 3, "四、近 12 个月情况（按当月公布结果）")
    _history_table(page, p.history, y)
    page.hline(15, W - 15, 20, color=LIGHT)
    page.text(15, 14, f"注：往月数字为当月公布结果（办法调整后不改写）；“现行办法重算”一行为按本期评分办法（{rep.method.name}）"
              "重算的指数，仅供对照。", size=7, color=GREY)
    page.text(W - 15, 14, rep.signature, size=9, ha="right")
    return page


def _fit(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` display cells (CJK = 2) with an ellipsis."""
    out, used = "", 0
    for ch in text:
        used += 2 if ord(ch) > 0x2E7F else 1
        if used > width:
            return out + "…"
        out += ch
    return out


def _history_table(page: Sheet, history: pd.DataFrame, y: float) -> None:
    """The unit's months as published: one column per month, rows 指数 / 星级 / 排名 / 办法 / 重算."""
    h = history
    n = len(h)
    if not n:
        page.text(18, y, "无公布记录。", size=9)
        return
    label_w = 30
    col_w = min(14.0, (page.width - 30 - label_w) / n)
    x0 = 15 + label_w
    rescored = [c for c in h.columns if c.startswith("按现行办法") and c.endswith("指数")]
    rows = [("月份", [f"{m[2:4]}.{m[5:]}" for m in h["月份"]], GREY),
            ("平安形势指数", [fmt_index(v) for v in h["平安形势指数"]], INK),
            ("星级", list(h["星级"]), INK),
            ("排名", [str(v) if pd.notna(v) else "" for v in h["排名"]], INK),
            ("评分办法", list(h["评分办法"]) if "评分办法" in h else [""] * n, GREY)]
    if rescored:
        rows.append(("现行办法重算", [fmt_index(v) for v in h[rescored[0]]], GREY))
    step = 5.6
    for k in range(len(rows)):
        yy = y - k * step
        if k % 2 == 1:
            page.rect(15, yy - 2, label_w + n * col_w, step, fc="#f7f7f7")
    page.column(15, y, [label for label, _, _ in rows], GREY, step, ha="left")
    colours = [colour for _, _, colour in rows]
    star_row = [label for label, _, _ in rows].index("星级")
    for j in range(n):
        cells = ["" if k == star_row else row[1][j] for k, row in enumerate(rows)]
        page.column(x0 + (j + 0.5) * col_w, y, cells, colours, step)
        page.text(x0 + (j + 0.5) * col_w, y - star_row * step, rows[star_row][1][j], size=6.2, ha="center")
    if "来源" in h and (h["来源"] == "按当时办法重算").any():
        months = h.loc[h["来源"] == "按当时办法重算", "月份"]
        page.text(15, y - len(rows) * 5.6 - 1,
                  f"其中 {months.iat[0]} 至 {months.iat[-1]} 无发布记录，按当月施行的评分办法重算。", size=7, color=GREY)


def checkup_pdf_bytes(rep, profile) -> bytes:
    """One unit's 体检表 as a one-page A4 PDF: headline figures (index, stars, rank, movement), the
    预警 that name it, the nine categories against the town median and best, the three weakest
    indicators with their raw figures, every deduction with its reason, and the last 12 months as
    published (with the current method's re-scoring beside them, labelled)."""
    return checkup_page(rep, profile).pdf(_checkup_title(rep, profile.unit_name))


def _checkup_title(rep, who: str) -> str:
    """The document title a PDF viewer shows: ``新市社区平安“晴雨表”体检表（2023年11月）``."""
    return f"{who}平安“晴雨表”体检表（{rep.month_text}）"


def checkup_pdfs(rep) -> tuple[dict[str, bytes], bytes]:
    """Every unit's 体检表 in rank order: unit name -> its one-page PDF, and the combined PDF.

    Each page is laid out once; all files embed the same font subset (the glyphs of every page),
    made once."""
    pages = {p.unit_name: checkup_page(rep, p) for p in rep.profiles}
    glyphs = set().union(*(page.glyph_text for page in pages.values()))
    singles = {name: pdf_bytes([page], _checkup_title(rep, name), glyphs=glyphs) for name, page in pages.items()}
    combined = pdf_bytes(list(pages.values()), _checkup_title(rep, TOWN), glyphs=glyphs)
    return singles, combined


def write_checkups(rep, folder: Path) -> dict[str, Path]:
    """Write ``体检表/<单位>.pdf`` for every unit and ``体检表/体检表（全部）.pdf``; returns name -> path
    (the combined file under ``全部``)."""
    from qyb.data.files import write_bytes_atomic

    folder.mkdir(parents=True, exist_ok=True)
    singles, combined = checkup_pdfs(rep)
    paths = {}
    for name, data in singles.items():
        path = inside(folder, f"{_safe_name(name)}.pdf")
        write_bytes_atomic(data, path)
        paths[name] = path
    paths["全部"] = folder / "体检表（全部）.pdf"
    write_bytes_atomic(combined, paths["全部"])
    return paths


def _safe_name(name: str) -> str:
    """A unit name as a file name: path separators and control characters replaced."""
    bad = '/\\\0:*?"<>|'
    cleaned = "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in str(name)).strip(". ")
    return cleaned or "单位"
