"""What leaves the office, opened as a reader would: PDFs (pages, text, figures), the DOCX, the XLSX
formatting, the WeChat PNG and the leader summary's HTML."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from docx import Document
from PIL import Image
from pypdf import PdfReader

import qyb
from qyb.report import pdf
from qyb.report.bulletin import bulletin_docx_bytes
from qyb.report.documents import _pdf_pages
from qyb.report.month import month_report
from qyb.report.notebook import english_headers
from qyb.report.summary import summary_html
from qyb.report.wechat import wechat_png_bytes
from qyb.report.xlsx import history_xlsx_bytes, ranking_xlsx_bytes
from qyb.vocab import fmt_index


@pytest.fixture(scope="module")
def rep():
    """November 2023: two deaths deducted (新市社区 −30 on 生产安全, 太平村 −20 on 交通安全)."""
    return month_report(qyb.load("2023-11"), draw_intervals=True)


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_ranking_pdf_is_one_a4_landscape_page_with_every_unit(rep):
    data = pdf.ranking_pdf_bytes(rep)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1 and _pdf_pages_bytes(data) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape, points
    text = text_of(data)[0]
    for name, index in zip(rep.ranking["村(社区)"], rep.ranking["平安形势指数"]):
        assert name in text and fmt_index(index) in text
    assert "2023年11月" in text and "v2" in text and rep.issuer in text and "示例数据" in text
    assert "★★★★★" in text and "↑" in text
    fonts = {str(f) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts  # the bundled font travels with the file
    assert data == pdf.ranking_pdf_bytes(rep)  # reproducible


def _pdf_pages_bytes(data: bytes) -> int:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.pdf"
        path.write_bytes(data)
        return _pdf_pages(path)


def test_checkup_pdfs_one_page_per_unit_with_deductions_and_history(rep, tmp_path):
    paths = pdf.write_checkups(rep, tmp_path / "体检表")
    singles = {k: v for k, v in paths.items() if k != "全部"}
    assert len(singles) == 29
    xinshi = text_of(singles["新市社区"].read_bytes())
    assert len(xinshi) == 1
    page = xinshi[0]
    assert "新市社区" in page and "体检表" in page and "2023年11月" in page
    assert "生产安全事故死亡 1 人，生产安全 −30" in page  # every deduction with its reason
    p = next(p for p in rep.profiles if p.unit_name == "新市社区")
    assert fmt_index(p.index) in page and f"第 {p.rank} 名" in page
    assert "23.02" in page and "v1" in page  # 2023-02 as published under v1
    assert "现行办法重算" in page
    taiping = text_of(singles["太平村"].read_bytes())[0]
    assert "交通事故死亡 1 人，交通安全 −20" in taiping
    combined = PdfReader(str(paths["全部"]))
    assert len(combined.pages) == 29
    assert "新市社区" in combined.pages[[q.unit_name for q in rep.profiles].index("新市社区")].extract_text()
    assert all(len(PdfReader(str(v)).pages) == 1 for v in singles.values())


def test_wechat_png_is_portrait_1080_wide(rep):
    data = wechat_png_bytes(rep)
    with Image.open(io.BytesIO(data)) as img:
        assert img.size[0] == 1080 and img.size[1] > 1.5 * img.size[0]
        top = img.convert("RGB").getpixel((540, 5))
    assert top[0] > 150 and top[1] < 60  # the red 示例数据 band across the top
    assert data == wechat_png_bytes(rep)


def test_bulletin_docx_sections_and_figures(rep):
    data = bulletin_docx_bytes(rep)
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.startswith("关于2023年11月全镇平安“晴雨表”测评情况的通报")
    for heading in ("一、本月概况", "二、星级分布", "三、红黑榜", "四、进步与退步", "五、短板单位", "六、预警名单",
                    "七、工作要求"):
        assert heading in text
    counts = rep.star_counts.set_index("星数")["单位数"]
    assert f"五星（★★★★★）{counts[5]} 个" in text and f"一星（★）{counts[1]} 个" in text
    for name in rep.alerts["unit_name"]:
        assert name in text
    assert "太平村（交通事故死亡 1 人，交通安全 −20）" in text
    assert re.search(r"(超出随机波动范围|尚不能排除随机波动)", text)
    assert text.rstrip().endswith("2023年12月　　日") or "2023年12月　　日" in text  # 落款: day left blank
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    table = doc.tables[0]
    assert len(table.rows) == 30 and table.rows[0].cells[1].text == "村（社区）"
    assert data == bulletin_docx_bytes(rep)


def test_ranking_xlsx_is_office_ready(rep):
    book = openpyxl.load_workbook(io.BytesIO(ranking_xlsx_bytes(
        rep.ranking, month=rep.month, heading=f"{rep.title}　{rep.method_line}", footer=rep.signature,
        category_names=[g.name for g in rep.method.categories])))
    sheet = book["榜单"]
    assert "2023年11月" in sheet["A1"].value and "v2" in sheet["A1"].value
    headers = [c.value for c in sheet[2]]
    assert headers[:9] == ["排名", "村(社区)", "单位编码", "平安形势指数", "星级", "星数", "上期排名", "升降", "扣分"]
    col = {h: i + 1 for i, h in enumerate(headers)}
    assert sheet.cell(3, col["平安形势指数"]).number_format == "0.00"
    assert sheet.cell(3, col["社会治安"]).number_format == "0.0"
    assert sheet.cell(3, col["保持星级概率"]).number_format == "0%"
    assert sheet.auto_filter.ref == f"A2:{openpyxl.utils.get_column_letter(len(headers))}31"
    assert sheet.freeze_panes == "C3"
    setup = sheet.page_setup
    assert setup.orientation == "landscape" and int(setup.paperSize) == 9
    assert setup.fitToWidth == 1 and setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$2"
    deducted = {sheet.cell(r, col["村(社区)"]).value: sheet.cell(r, col["扣分"]).value for r in range(3, 32)}
    assert deducted["新市社区"] == 30 and deducted["太平村"] == 20
    assert sheet.cell(3, col["扣分事由"]).value is None or isinstance(sheet.cell(3, col["扣分事由"]).value, str)


def test_history_xlsx_long_table_and_calendar(rep):
    data = history_xlsx_bytes(rep.history, rep.month, "历史记录", category_names=rep.edition.categories)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["历史记录"]
    headers = [c.value for c in sheet[2]]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 29 * 10  # 2023-02 .. 2023-11
    col = {h: i for i, h in enumerate(headers)}
    feb = next(r for r in rows if r[col["月份"]] == "2023-02" and r[col["村(社区)"]] == "永宁社区")
    assert feb[col["平安形势指数"]] == 55.91 and feb[col["排名"]] == 27 and feb[col["评分办法"]] == "v1"
    assert feb[col["按现行办法（v2）重算指数"]] == 84.17
    assert sheet.auto_filter.ref.startswith("A2:") and sheet.page_setup.orientation == "landscape"
    cal = book["晴雨日历"]
    assert [c.value for c in cal[2]][:2] == ["村(社区)", "2023-02"]


def test_summary_html_is_chinese_and_escaped(rep):
    html = summary_html(rep, [{"title": "榜单（完整）", "html": "01_ranking.html"}],
                        [{"href": "榜单.pdf", "label": "榜单（PDF）", "note": ""}], [])
    assert re.search(r"<title>[^<]*[\u4e00-\u9fff][^<]*</title>", html)
    headers = re.findall(r"<th>(.*?)</th>", html)
    assert headers and not english_headers(headers)
    assert "row_heading" not in html and html.count("class=\"banner\"") == 1 and "示例数据" in html
    for section in ("榜单一览", "红榜", "黑榜", "升降最大的单位", "是否超出随机波动", "预警名单", "名词解释"):
        assert section in html
    assert "宝丰社区" in html  # on the 预警 list
    # a unit name is data: escaped wherever it appears
    evil = rep.card.assign(unit_name=rep.card["unit_name"].where(rep.card["unit_id"] != "XL13", "<script>x</script>"))
    import dataclasses

    bad = dataclasses.replace(rep, card=evil)
    assert "<script>x" not in summary_html(bad, [], [], [])


def test_leader_documents_are_chinese_only(rep, tmp_path):
    """Leaders and 村 cadres read these: no English words (codes such as v2 aside), the 预警 level said once."""
    checkup = text_of(pdf.write_checkups(rep, tmp_path / "体检表")["宝丰社区"].read_bytes())[0]
    doc = Document(io.BytesIO(bulletin_docx_bytes(rep)))
    texts = {"榜单.pdf": text_of(pdf.ranking_pdf_bytes(rep))[0], "体检表": checkup,
             "通报.docx": "\n".join(p.text for p in doc.paragraphs)}
    for name, text in texts.items():
        assert re.findall(r"[A-Za-z]{3,}", text) == [], name
    assert "约谈：连续 5 个月" in checkup and "：约谈" not in checkup and "预警：约谈" not in checkup
