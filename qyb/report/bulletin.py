"""The 通报: the month's bulletin as a Word document (``通报.docx``) the office edits before sending.

In the register of a Chinese government bulletin (title, 主送, 一、二、三 sections, 落款 with the
day left blank for the office), laid out after GB/T 9704 (A4, 仿宋 三号 body at a fixed 28-pt line
pitch, 黑体 / 楷体 headings), with every figure filled in from the run: 本月概况, 星级分布, 红黑榜,
进步与退步 (whether each move is beyond chance), 短板单位, 预警名单 and 工作要求. Plain
paragraphs and one table: everything stays editable in Word or WPS. Same inputs -> same bytes.
"""
from __future__ import annotations

import datetime as _dt
import io

import pandas as pd

from qyb.data.files import zip_with_fixed_times
from qyb.data.months import add_months
from qyb.vocab import STAR, SYNTHETIC_BANNER, fmt_index, fmt_points, fmt_score, month_zh

__all__ = ["bulletin_docx_bytes", "bulletin_sections"]

BODY_FONT, HEADING_FONT, SUBHEADING_FONT, TITLE_FONT = "仿宋", "黑体", "楷体", "宋体"
BODY_PT, TITLE_PT, LINE_PT = 16, 22, 28
TIER_NAMES = {5: "五星", 4: "四星", 3: "三星", 2: "二星", 1: "一星"}
NUMERALS = "一二三四五六七八九十"


def _names(frame: pd.DataFrame, col: str = "村(社区)") -> str:
    return "、".join(map(str, frame[col])) if len(frame) else ""


def _move_phrase(r) -> str:
    verb = "升至" if r.move > 0 else "降至"
    chance = {True: "变动超出随机波动范围", False: "变动尚不能排除随机波动"}.get(
        None if pd.isna(r.beyond_chance) else bool(r.beyond_chance), "无法判断是否超出随机波动")
    way = "上升" if r.move > 0 else "下降"
    return f"{r.unit_name}由第 {r.rank_prev} 名{verb}第 {r.rank} 名（{way} {abs(r.move)} 位，{chance}）"


def _span(first: str, last: str) -> str:
    return month_zh(first) if first == last else f"{month_zh(first)}至{month_zh(last)}"


def bulletin_sections(rep) -> list[tuple[str, list[str]]]:
    """The bulletin's sections as (heading, paragraphs): the text of the document, testable as such."""
    card, table = rep.card, rep.ranking
    index = card["index"].astype(float)
    best, worst = table.iloc[0], table.iloc[-1]
    prev = card["rank_prev_published"]
    moved = (pd.to_numeric(prev, errors="coerce") - card["rank"].astype(float)).dropna()
    overview = (f"本月全镇 {rep.n_units} 个村（社区）平安形势指数平均 {fmt_index(index.mean())} 分，"
                f"中位数 {fmt_index(index.median())} 分；最高为{best['村(社区)']}（{fmt_index(best['平安形势指数'])} 分），"
                f"最低为{worst['村(社区)']}（{fmt_index(worst['平安形势指数'])} 分）。")
    if len(moved):
        overview += (f"与上月公布排名相比，{int((moved > 0).sum())} 个单位排名上升，{int((moved < 0).sum())} 个单位下降，"
                     f"{int((moved == 0).sum())} 个单位持平。")
    items = rep.deductions
    if len(items):
        names = card.set_index("unit_id")["unit_name"]
        lines = "；".join(f"{names.get(u, u)}（{t}）" for u, t in zip(items["unit_id"], items["text"]))
        overview += f"本月共有 {items['unit_id'].nunique()} 个单位按评分办法被扣分：{lines}。"
    else:
        overview += "本月无单位被扣分。"
    sections = [("本月概况", [overview])]

    stars = []
    for r in rep.star_counts.itertuples(index=False):
        units = f"：{r.单位}" if r.单位数 else ""
        stars.append(f"{TIER_NAMES[r.星数]}（{STAR * r.星数}）{r.单位数} 个{units}。")
    sections.append(("星级分布", stars))

    honour, black = rep.honour_roll(), rep.black_list()
    lists = [f"（一）红榜。{_names(honour)}被评为五星单位，予以通报表扬。" if len(honour)
             else "（一）红榜。本月无五星单位。",
             f"（二）黑榜。{_names(black)}为一星单位，列入黑榜，予以通报批评。" if len(black)
             else "（二）黑榜。本月无一星单位。"]
    sections.append(("红黑榜", lists))

    movers = rep.movers
    risers, fallers = movers[movers["move"] > 0], movers[movers["move"] < 0]
    moves = [("（一）进步较大：" + "；".join(_move_phrase(r) for r in risers.itertuples()) + "。") if len(risers)
             else "（一）本月无排名上升的单位。",
             ("（二）退步较大：" + "；".join(_move_phrase(r) for r in fallers.itertuples()) + "。") if len(fallers)
             else "（二）本月无排名下降的单位。",
             "“超出随机波动”指两期排名区间（按各项计数的随机性重新抽样、完整重算排名所得的第 5 至第 95 百分位）"
             "互不重叠；区间重叠的变动，可能主要是数字偏小带来的偶然波动，请结合连续几个月的情况判断。"]
    sections.append(("进步与退步", moves))

    weak = rep.weak_units
    shortfalls = [f"{r.类别}：{r.得分最低}得分最低（{fmt_score(r.得分)} 分，全镇中位数 {fmt_score(r.全镇中位数)} 分）。"
                  for r in weak.itertuples(index=False)] or ["本月各类别均无明显短板单位。"]
    sections.append(("短板单位", shortfalls))

    alerts = rep.alerts
    if len(alerts):
        warn = [f"{k}. {r.unit_name}（{r.level}）：{r.rule}，{_span(r.first_month, r.last_month)}"
                + (f"连续 {r.streak} 个月" if r.streak > 1 else "") + f"，本月{r.stars_now}。"
                for k, r in enumerate(alerts.itertuples(index=False), start=1)]
    else:
        warn = ["本月无单位触发预警。"]
    rules = "；".join(f"{rule.text}的列为“{rule.level}”" for rule in rep.office.rules)
    warn.append(f"预警规则：{rules}（按各月公布结果计算）。")
    sections.append(("预警名单", warn))

    sections.append(("工作要求", [
        "（一）各村（社区）要对照本单位体检表，逐项查摆短板弱项，分析原因，明确整改措施和完成时限。",
        "（二）列入预警名单的单位，应于下月 10 日前向镇综治办书面报告整改情况；列为“约谈”的单位，"
        "由镇综治办约谈其主要负责人。",
        "（三）被扣分的单位要深刻吸取教训，举一反三，坚决防范同类事件再次发生。",
    ]))
    return sections


def _set_font(run, name: str, size: float, bold: bool = False, colour: str | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), name)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)


def _paragraph(doc, text: str, font: str = BODY_FONT, size: float = BODY_PT, *, indent: bool = True,
               align=None, bold: bool = False, colour: str | None = None):
    from docx.shared import Pt

    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing = Pt(LINE_PT)
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    _set_font(p.add_run(text), font, size, bold, colour)
    return p


def bulletin_docx_bytes(rep) -> bytes:
    """``通报.docx``: title, 主送, the sections of :func:`bulletin_sections`, a 榜单 table as 附件, and the
    落款 (issuer, and the month after the edition with the day left for the office to fill in)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _paragraph(doc, f"关于{rep.month_text}全镇平安“晴雨表”测评情况的通报", TITLE_FONT, TITLE_PT, indent=False,
               align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    if rep.synthetic:
        _paragraph(doc, SYNTHETIC_BANNER, BODY_FONT, 12, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER,
                   colour="B71C1C")
    _paragraph(doc, "", indent=False)
    _paragraph(doc, "各村（社区）：", indent=False)
    _paragraph(doc, f"根据《{rep.method.title}》，镇综治办对全镇 {rep.n_units} 个村（社区）{rep.month_text}的平安建设"
                    "情况进行了量化测评，现将有关情况通报如下：")
    for k, (heading, paragraphs) in enumerate(bulletin_sections(rep)):
        _paragraph(doc, f"{NUMERALS[k]}、{heading}", HEADING_FONT, BODY_PT)
        for text in paragraphs:
            _paragraph(doc, text)
    _paragraph(doc, "附件：小榄镇平安“晴雨表”榜单", indent=True)
    _paragraph(doc, "", indent=False)
    _paragraph(doc, rep.issuer, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    issued = month_zh(add_months(rep.month, 1))
    _paragraph(doc, f"{issued}　　日", indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    # 附件: the 榜单 as a table
    doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    _paragraph(doc, "附件", HEADING_FONT, BODY_PT, indent=False)
    _paragraph(doc, rep.title, TITLE_FONT, 18, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    cols = ["排名", "村(社区)", "平安形势指数", "星级", "升降", "扣分"]
    grid = doc.add_table(rows=1, cols=len(cols))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, name in zip(grid.rows[0].cells, cols):
        cell.text = ""
        _set_font(cell.paragraphs[0].add_run(name.replace("(", "（").replace(")", "）")), HEADING_FONT, 11)
    table = rep.ranking
    points = table["扣分"] if "扣分" in table else pd.Series(0.0, index=table.index)
    rows = zip(table["排名"].astype(str), table["村(社区)"], table["平安形势指数"].map(fmt_index), table["星级"],
               table["升降"], points.map(lambda p: fmt_points(p) if p else ""))
    for values in rows:
        cells = grid.add_row().cells
        for cell, value in zip(cells, values):
            cell.text = ""
            _set_font(cell.paragraphs[0].add_run(str(value)), BODY_FONT, 11)
            cell.paragraphs[0].paragraph_format.space_after = Pt(0)
    stamp = _dt.datetime.strptime(f"{rep.month}-01", "%Y-%m-%d")
    props = doc.core_properties
    props.author, props.title, props.last_modified_by = rep.issuer, f"{rep.month_text}平安“晴雨表”测评情况通报", rep.issuer
    props.created = props.modified = props.last_printed = stamp
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return zip_with_fixed_times(buf.getvalue(), stamp)
