"""The leader summary: ``index.html``, the front page of a published month, Chinese only.

One printed page (A4): the month and the method in force, the 榜单 at a glance (stars and
movement), 红榜 and 黑榜, the biggest movers with whether each move is beyond chance, the 预警 list,
the month's deductions, links to the analyst pages and the files, and a short glossary. Under it,
after a page break, the charts of the analyst pages with Chinese captions. Every piece of data
text is HTML-escaped (unit names come from a register a user edits).
"""
from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from qyb.report.alerts import alert_span
from qyb.report.htmlsafe import CSP_META
from qyb.report.htmlsafe import escape_text as _e  # the one escaping of data text
from qyb.vocab import GLOSSARY, SYNTHETIC_BANNER, fmt_index

__all__ = ["summary_html", "png_caption", "caption_text", "SUMMARY_GLOSSARY"]

#: the terms the summary explains
SUMMARY_GLOSSARY = ("平安形势指数", "星级", "超出随机波动", "排名区间", "预警", "扣分", "发布记录", "按当时办法重算")

CSS = """
body{font-family:'Qyb Sans SC','Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif;
max-width:62em;margin:1.2em auto;padding:0 1em;color:#222;font-size:14px;line-height:1.45}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.12em;margin:.9em 0 .3em;border-bottom:1px solid #999}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:.4em .8em;margin:.6em 0;font-weight:bold;color:#8a1c1c}
.meta{color:#555}table{border-collapse:collapse;font-size:.92em}td,th{border:1px solid #ccc;padding:.1em .45em}
th{background:#eee;font-weight:bold}.glance{display:flex;gap:.8em;flex-wrap:wrap}.glance table td:nth-child(2){white-space:nowrap}
.up{color:#1a7837}.down{color:#c62828}.s5,.s4{color:#1a7837}.s3{color:#9a7b00}.s2{color:#c45a00}.s1{color:#c62828}
.lists{display:flex;gap:1.5em;flex-wrap:wrap}.box{flex:1;min-width:16em;border:1px solid #ccc;padding:.3em .7em}
.red{background:#f0f8f0}.black{background:#fbeeee}.alert{color:#c62828;font-weight:bold}
.links li{margin:.1em 0}dl{font-size:.9em;margin:.2em 0}dt{font-weight:bold;float:left;clear:left;width:8.5em}
dd{margin:0 0 .15em 8.8em}.sign{text-align:right;margin-top:.8em}
.gallery{page-break-before:always}figure{display:inline-block;margin:.4em;vertical-align:top;width:18em}
figure img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.85em;color:#444}
@page{size:A4;margin:12mm}@media print{body{font-size:11px;margin:0;max-width:none}h2{margin-top:.5em}}
"""


def _move_class(text: str) -> str:
    return "up" if text.startswith("↑") else "down" if text.startswith("↓") else ""


def _table(headers: list[str], rows: list[list[str]], raw_columns: tuple[int, ...] = ()) -> str:
    """A table with Chinese headers and no row numbers; cells escaped except ``raw_columns`` (pre-built HTML)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if j in raw_columns else _e(c)}</td>" for j, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _glance(rep) -> str:
    """The 榜单 in three side-by-side blocks: 排名, 村(社区), 指数, 星级, 升降."""
    t = rep.ranking
    rows = [[str(r), _e(n), fmt_index(i), f'<span class="s{int(k)}">{_e(s)}</span>',
             f'<span class="{_move_class(str(m))}">{_e(m)}</span>']
            for r, n, i, s, k, m in zip(t["排名"], t["村(社区)"], t["平安形势指数"], t["星级"], t["星数"], t["升降"])]
    per = -(-len(rows) // 3) if rows else 1
    blocks = [rows[k:k + per] for k in range(0, len(rows), per)]
    headers = ["排名", "村（社区）", "指数", "星级", "升降"]

    def block(part):
        head = "".join(f"<th>{h}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in part)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    return '<div class="glance">' + "".join(block(b) for b in blocks) + "</div>"


def caption_text(title: str) -> str:
    """A chart title as a Chinese caption: the English in parentheses dropped."""
    return re.sub(r"\s*[(（][^()（）]*[A-Za-z][^()（）]*[)）]", "", title).strip()


def png_caption(path: Path | str) -> str:
    """The ``Title`` text chunk of a PNG written by :func:`qyb.plots.save_figure` ('' when absent)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ""
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt" and body.startswith(b"Title\0"):
            return body[6:].decode("latin-1")
        if kind == b"iTXt" and body.startswith(b"Title\0"):
            rest = body[6:]
            compressed = rest[0]
            parts = rest[2:].split(b"\0", 2)
            text = parts[2] if len(parts) == 3 else b""
            return (zlib.decompress(text) if compressed else text).decode("utf-8")
        if kind == b"IDAT":
            break
        pos += 12 + length
    return ""


def summary_html(rep, pages: list[dict], files: list[dict], figures: list[str], folder: Path | None = None) -> str:
    """The front page of ``reports/YYYY-MM/`` (see the module doc).

    ``pages``: [{"title", "html"}] analyst pages; ``files``: [{"label", "href", "note"}] downloads;
    ``figures``: relative PNG paths (captions from their ``Title`` chunk, read under ``folder``).
    """
    title = f"小榄镇平安“晴雨表” {rep.month_text} 榜单摘要"
    parts = ["<!DOCTYPE html>", f'<html lang="zh-CN"><head><meta charset="utf-8">{CSP_META}',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(title)}</title><style>{CSS}</style></head><body>", f"<h1>{_e(rep.title)}</h1>"]
    if rep.synthetic:
        parts.append(f'<div class="banner">{_e(SYNTHETIC_BANNER)}</div>')
    prev_method = str(rep.card["method_prev_published"].iat[0]) if "method_prev_published" in rep.card else ""
    change = (f"；评分办法由上期的 {_e(prev_method)} 调整为本期的 {_e(rep.method.name)}，升降仍按上期公布排名计算"
              if prev_method and prev_method != rep.method.name else "")
    parts.append(f'<p class="meta">{_e(rep.method_line)}；共 {rep.n_units} 个村（社区）{change}。</p>')
    parts.append("<h2>榜单一览</h2>" + _glance(rep))
    dist = "；".join(f"{_e(r.星级)} {r.单位数} 个" for r in rep.star_counts.itertuples(index=False))
    parts.append(f"<p>星级分布：{dist}。</p>")
    honour, black = rep.honour_roll(), rep.black_list()
    parts.append('<div class="lists">'
                 f'<div class="box red"><b>红榜（五星）</b><br>{_e("、".join(honour["村(社区)"])) or "本月无"}</div>'
                 f'<div class="box black"><b>黑榜（一星）</b><br>{_e("、".join(black["村(社区)"])) or "本月无"}</div>'
                 "</div>")
    movers = rep.movers
    if len(movers):
        rows = [[r.unit_name, str(r.rank_prev), str(r.rank), f'<span class="{_move_class(r.movement)}">{_e(r.movement)}</span>',
                 r.verdict] for r in movers.itertuples(index=False)]
        parts.append("<h2>升降最大的单位</h2>" + _table(["村（社区）", "上期排名", "本期排名", "升降", "是否超出随机波动"],
                                                       rows, raw_columns=(3,)))
    parts.append("<h2>预警名单</h2>")
    if len(rep.alerts):
        rows = [[r.unit_name, f'<span class="alert">{_e(r.level)}</span>', r.rule,
                 alert_span(r.first_month, r.last_month, r.streak), r.stars_now] for r in rep.alerts.itertuples(index=False)]
        parts.append(_table(["村（社区）", "等级", "规则", "触发月份", "本月星级"], rows, raw_columns=(1,)))
    else:
        parts.append("<p>本月无单位触发预警。</p>")
    if len(rep.deductions):
        names = rep.card.set_index("unit_id")["unit_name"]
        lines = "；".join(f"{_e(names.get(u, u))}（{_e(t)}）" for u, t in zip(rep.deductions["unit_id"], rep.deductions["text"]))
        parts.append(f"<p><b>本月扣分：</b>{lines}。</p>")
    parts.append('<h2>详细内容</h2><ul class="links">')
    for p in pages:
        parts.append(f'<li><a href="{_e(p["html"])}">{_e(p["title"])}</a></li>')
    parts.append("</ul><h2>文件下载</h2><ul class=\"links\">")
    for f in files:
        note = f"（{_e(f['note'])}）" if f.get("note") else ""
        parts.append(f'<li><a href="{_e(f["href"])}">{_e(f["label"])}</a>{note}</li>')
    parts.append("</ul><h2>名词解释</h2><dl>")
    for term in SUMMARY_GLOSSARY:
        parts.append(f"<dt>{_e(term)}</dt><dd>{_e(GLOSSARY[term])}</dd>")
    parts.append(f'</dl><p class="sign">{_e(rep.signature)}</p>')
    if figures:
        parts.append('<div class="gallery"><h2>图表一览</h2>')
        for fig in figures:
            caption = caption_text(png_caption(folder / fig)) if folder else ""
            caption = caption or "图表"
            parts.append(f'<figure><a href="{_e(fig)}"><img src="{_e(fig)}" alt="{_e(caption)}" loading="lazy"></a>'
                         f"<figcaption>{_e(caption)}</figcaption></figure>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
