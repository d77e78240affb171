#!/usr/bin/env python3
"""Write the report notebooks ``notebooks/01_ranking.ipynb`` and ``notebooks/04_unit_profiles.ipynb``.

The notebooks are thin (parameters -> load -> ``qyb`` calls -> display); all
logic lives in ``qyb.ranking`` / ``qyb.report`` / ``qyb.plots``. They are
committed without outputs, with the project's kernel (``qyb``). Re-run this
script after editing the cells below::

    .venv/bin/python tools/make_notebooks.py
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = {"name": "qyb", "display_name": "qyb (Python 3)", "language": "python"}

SETUP = '''\
HISTORY = {history}  # months of index history to load

from pathlib import Path

from IPython.display import Image, Markdown, display

from qyb import plots, ranking
from qyb.io import write_csv_atomic
from qyb.report import SYNTHETIC_BANNER, load_month_data

data = load_month_data(month, method or None, data_dir or None, history=HISTORY)
figures = Path(output_dir) / "figures"
tables = Path(output_dir) / "tables"
figures.mkdir(parents=True, exist_ok=True)
tables.mkdir(parents=True, exist_ok=True)
if data.synthetic:
    display(Markdown(f"> **{SYNTHETIC_BANNER}**"))
display(Markdown(f"月份 (month): **{data.month}**；评分办法 (method): **{data.method.title}** "
                 f"[{data.method.name}]；{ranking.method_change_note(data.card)}"))'''


def show_figure(call: str, name: str) -> str:
    """Code that draws a figure with qyb.plots, saves it once into figures/ and shows the saved PNG."""
    return (f"fig = {call}\n"
            f"plots.save_figure(fig, figures / \"{name}.png\")\n"
            f"display(Image(filename=str(figures / \"{name}.png\")))")


PROFILES = '''\
profiles = ranking.unit_profiles(data.card, data.long, data.history, data.method,
                                 data.panel.values, data.panel.units, unit or None)
write_csv_atomic(ranking.profiles_summary(profiles), tables / "unit_profiles.csv")
median, best = ranking.town_reference(data.card)
PROFILE_DPI = 100  # 29 charts: a lighter resolution keeps the monthly run fast
for p in profiles:
    display(Markdown(f"### {p.title}\\n\\n{p.headline}"))
    fig = plots.unit_profile(p.row, median, best, data.category_labels, sample=data.synthetic)
    plots.save_figure(fig, figures / f"profile_{p.unit_id}.png", dpi=PROFILE_DPI)
    display(Image(filename=str(figures / f"profile_{p.unit_id}.png")))
    display(Markdown("**各类别得分 (category scores vs town median and best)**"))
    display(p.categories.style.hide(axis="index").format(precision=1))
    display(Markdown("**短板：得分最低的三项指标 (three weakest indicators, with raw figures)**"))
    display(p.weakest.style.hide(axis="index").format(precision=1))
    display(Markdown("**近12个月平安形势指数 (index, last 12 months)**"))
    display(p.history.set_index("月份").T.style.format(precision=2))
    for note in p.notes:
        display(Markdown(f"*{note}*"))'''


def parameters(extra: str = "") -> nbformat.NotebookNode:
    cell = new_code_cell(
        "# 参数 (parameters): plain strings; qyb parses and validates them.\n"
        "month = \"2023-03\"      # YYYY-MM\n"
        "method = \"\"            # method name (methods/NAME.yaml); empty: the method in force\n"
        "data_dir = \"\"          # raw data folder; empty: the shipped sample data/raw\n"
        "output_dir = \"../reports/_scratch\"  # figures/ and tables/ are written here\n" + extra)
    cell.metadata["tags"] = ["parameters"]
    return cell


def ranking_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# 平安“晴雨表”榜单 (01_ranking)\n\n"
                          "本月各村（社区）平安形势指数、星级、排名及升降；升降按上期公布排名计算。"),
        parameters(),
        new_code_cell(SETUP.replace("{history}", "0")),
        new_markdown_cell("## 榜单 (ranking list)"),
        new_code_cell("table = ranking.ranking_table(data.card, data.method)\n"
                      "write_csv_atomic(data.card, tables / \"scorecard.csv\")\n"
                      "write_csv_atomic(table, tables / \"ranking.csv\")\n"
                      "display(table.style.hide(axis=\"index\").format(precision=2, na_rep=\"\"))"),
        new_markdown_cell("## 升降最多的单位 (biggest risers and fallers)"),
        new_code_cell("risers, fallers = ranking.movers(data.card, n=5)\n"
                      "display(Markdown(\"### 上升最多 (risers)\"))\n"
                      "display(risers.style.hide(axis=\"index\"))\n"
                      "display(Markdown(\"### 下降最多 (fallers)\"))\n"
                      "display(fallers.style.hide(axis=\"index\"))"),
        new_markdown_cell("## 星级分布 (distribution of stars)"),
        new_code_cell("stars = ranking.star_distribution(data.card)\n"
                      "write_csv_atomic(stars, tables / \"star_distribution.csv\")\n"
                      "display(stars.style.hide(axis=\"index\").format({\"占比\": \"{:.1%}\"}))\n"
                      + show_figure("plots.star_distribution(data.card, sample=data.synthetic)", "star_distribution")),
        new_markdown_cell("## 平安形势指数 (index by unit, coloured by stars)"),
        new_code_cell(show_figure("plots.ranking_bar(data.card, sample=data.synthetic)", "ranking_bar")),
        new_markdown_cell("## 排名变化 (rank movement since last month)"),
        new_code_cell(show_figure("plots.rank_bump(data.card, prev_col=\"rank_prev_published\", sample=data.synthetic,\n                      labels=(\"上期公布 (published)\", \"本月 (current)\"))", "rank_bump")),
        new_markdown_cell("## 分类得分热力图 (category scores, units × categories)"),
        new_code_cell(show_figure("plots.category_heatmap(data.card, data.category_labels, sample=data.synthetic)", "category_heatmap")),
    ]
    return _notebook(cells)


def profiles_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# 体检表 (04_unit_profiles)\n\n"
                          "每个村（社区）的“体检表”：指数、星级、排名与升降，各类别得分与全镇中位数、最高分的对比，"
                          "得分最低的三项指标（短板）及其原始数据，近 12 个月的平安形势指数。"),
        parameters("unit = \"\"              # one unit_id or name for a single 体检表; empty: every unit\n"),
        new_code_cell(SETUP.replace("{history}", "12")),
        new_markdown_cell("## 各单位体检表 (check-up sheet per unit)"),
        new_code_cell(PROFILES),
    ]
    return _notebook(cells)


def _notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives the same file
        cell["id"] = f"cell-{i:02d}"
    return nb


def main() -> None:
    for name, nb in (("01_ranking", ranking_notebook()), ("04_unit_profiles", profiles_notebook())):
        path = NOTEBOOKS / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(nb)
        nbformat.write(nb, str(path))
        print(path)


if __name__ == "__main__":
    main()
