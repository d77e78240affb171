"""The 榜单 as a WeChat-ready image: a portrait PNG 1080 px wide, legible on a phone.

A phone shows a 1080-px image about 390 CSS px wide (a scale of ~0.36), so text is drawn at least
15 pt at 150 dpi (31 px, ~11 px on the phone) and rows are 50 px apart. Synthetic data carry a
red 示例数据 band across the top. Same inputs -> same bytes.
"""
from __future__ import annotations

import io

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from qyb.plots.base import FALL, RISE, STAR_TEXT_COLOURS, use_cjk_font
from qyb.report.month import TOWN
from qyb.report.xlsx import STAR_FILLS
from qyb.vocab import SYNTHETIC_STAMP, UP, fmt_index

__all__ = ["WIDTH_PX", "DPI", "wechat_png_bytes"]

WIDTH_PX = 1080
DPI = 150
ROW_IN = 0.34  # 51 px per unit
FONT_PT = 15


def wechat_png_bytes(rep) -> bytes:
    """The month's 榜单 as a portrait PNG, 1080 px wide: title and month, the method, one row per unit
    (rank, name, index, stars, movement), and the 落款; the 示例数据 band when the data are synthetic."""
    use_cjk_font()
    table = rep.ranking
    n = len(table)
    width_in = WIDTH_PX / DPI
    band = 0.42 if rep.synthetic else 0.0
    header, footer = 1.55 + band, 0.75
    height_in = header + (n + 1) * ROW_IN + footer
    fig = Figure(figsize=(width_in, height_in))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_in)
    ax.set_ylim(height_in, 0)  # inches from the top
    ax.set_axis_off()
    fig.patch.set_facecolor("white")
    if rep.synthetic:
        ax.add_patch(Rectangle((0, 0), width_in, band, facecolor="#b71c1c"))
        ax.text(width_in / 2, band / 2, SYNTHETIC_STAMP + "：数字均为虚构",
                ha="center", va="center", fontsize=FONT_PT, color="white")
    ax.text(width_in / 2, band + 0.45, f"{TOWN}平安“晴雨表”榜单", ha="center", va="center",
            fontsize=24, fontweight="bold", color="#222222")
    ax.text(width_in / 2, band + 1.05, f"{rep.month_text}　{rep.method.title}", ha="center", va="center",
            fontsize=13, color="#555555")
    cols = [("排名", 0.45, "center"), ("村（社区）", 0.9, "left"), ("指数", 3.45, "center"),
            ("星级", 4.75, "center"), ("升降", 6.45, "center")]
    top = header
    ax.add_patch(Rectangle((0.15, top), width_in - 0.3, ROW_IN, facecolor="#e7e6e6"))
    for name, x, ha in cols:
        ax.text(x, top + ROW_IN / 2, name, ha=ha, va="center", fontsize=13, color="#444444")
    stars = table["星数"].astype(int).to_numpy()
    for i in range(n):
        y = top + (i + 1) * ROW_IN
        s = int(stars[i])
        ax.add_patch(Rectangle((0.15, y), width_in - 0.3, ROW_IN, facecolor="#" + STAR_FILLS.get(s, "ffffff"),
                               edgecolor="white", linewidth=1))
        move = str(table["升降"].iat[i])
        cells = [(str(table["排名"].iat[i]), "#222222"), (str(table["村(社区)"].iat[i]), "#222222"),
                 (fmt_index(table["平安形势指数"].iat[i]), "#222222"), (str(table["星级"].iat[i]), STAR_TEXT_COLOURS[s]),
                 (move, RISE if move.startswith(UP) else FALL if move.startswith("↓") else "#666666")]
        for (text, colour), (_, x, ha) in zip(cells, cols):
            ax.text(x, y + ROW_IN / 2, text, ha=ha, va="center", fontsize=FONT_PT, color=colour)
    ax.text(width_in - 0.3, height_in - 0.35, rep.signature, ha="right", va="center", fontsize=13, color="#333333")
    ax.text(0.3, height_in - 0.35, "升降按上期公布排名计算", ha="left", va="center", fontsize=11, color="#777777")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
