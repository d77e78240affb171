"""``index.html``: the landing page of a published month."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from qyb.method import Method
from qyb.vocab import SYNTHETIC_BANNER

__all__ = ["index_html"]


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
