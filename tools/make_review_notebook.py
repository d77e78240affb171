#!/usr/bin/env python3
"""Write ``notebooks/03_method_review.ipynb`` (issue 5), committed without outputs.

Thin: parameters -> ``qyb.review.run_review`` -> display. All logic (and the
Chinese readings under each table) lives in ``qyb.review`` /
``qyb.method_uncertainty`` / ``qyb.review_plots``. Re-run after editing::

    .venv/bin/python tools/make_review_notebook.py
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = {"name": "qyb", "display_name": "qyb (Python 3)", "language": "python"}

PARAMETERS = '''\
# 参数 (parameters): plain strings and ints; qyb parses and validates them.
month = "2023-03"                      # YYYY-MM
methods = "v1,v2"                      # method names to compare (first vs last)
schemes = "equal,entropy,critic,pca"   # weighting schemes tried on the category weights
n_draws = 10000                        # Monte Carlo draws over the method choices
seed = 0                               # random seed (reproducible)
method = ""                            # method reviewed; empty: the one in force in month
data_dir = ""                          # raw data folder; empty: the shipped sample data/raw
output_dir = "../reports/_scratch"     # figures/ and tables/ are written here'''

SETUP = '''\
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import Image, Markdown, display

from qyb import review_plots as rp
from qyb.review import readings, run_review, write_review_tables

review = run_review(month, methods, schemes, n_draws=int(n_draws), seed=int(seed),
                    data_dir=data_dir or None, method=method or None)
paths = write_review_tables(review, output_dir)
figures = Path(output_dir) / "figures"
figures.mkdir(parents=True, exist_ok=True)
text = readings(review, focus="XL01")
names = {g.code: g.name for g in review.method.categories}
for note in review.notes:
    display(Markdown(f"> {note}"))
display(Markdown(f"月份 (month): **{review.month}**；被评估的评分办法 (method): **{review.method.title}** "
                 f"[{review.method.name}]；比较 (compared): {' vs '.join(review.methods)}；"
                 f"蒙特卡洛次数 (draws): {review.monte_carlo.n_draws}，随机种子 (seed): {review.monte_carlo.seed}"))'''


def figure(call: str, name: str) -> str:
    return (f"fig = {call}\n"
            f"rp.save_figure(fig, figures / \"{name}.png\")\n"
            f"plt.close(fig)\n"
            f"display(Image(filename=str(figures / \"{name}.png\")))")


def reading(key: str) -> str:
    return f"display(Markdown(text[\"{key}\"]))"


def review_notebook() -> nbformat.NotebookNode:
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    cells = [
        new_markdown_cell("# 方法评估 (03_method_review)\n\n"
                          "权重、标准化、汇总方式和星级规则这些“方法选择”对排名有多大影响？"
                          "本报告按 OECD/JRC《综合指数编制手册》(2008) 的做法：名义权重与有效权重对比、"
                          "方法选择的蒙特卡洛不确定性分析、Sobol 敏感性分析、新旧评分办法对比、"
                          "名次变化的“方法效应/数据效应”分解、逐一去掉类别，以及指标内部一致性。"),
        params,
        new_code_cell(SETUP),
        new_markdown_cell("## 名义权重与有效权重 (nominal vs effective weights)"),
        new_code_cell("eff = review.effective[[\"category\", \"category_name\", \"nominal\", \"r\", \"r2_share\", "
                      "\"eta2_share\"]]\n"
                      "display(eff.style.hide(axis=\"index\").format(precision=3))\n"
                      + figure("rp.weights_compare(review.weights[review.weights.scheme.isin("
                               "[\"nominal\", \"effective_r2\", \"effective_eta2\"])], names, "
                               "title=\"名义权重与有效权重 (nominal vs effective)\")", "weights_effective")
                      + "\n" + reading("weights")),
        new_markdown_cell("## 方法不确定性下的排名 (rank under method uncertainty)"),
        new_code_cell("display(review.town.style.hide(axis=\"index\").format(precision=3))\n"
                      "display(review.uncertainty.style.hide(axis=\"index\").format(precision=3))\n"
                      + figure("rp.rank_uncertainty(review.uncertainty.assign(stars=review.uncertainty.stars_nominal))",
                               "rank_uncertainty")
                      + "\n" + reading("uncertainty")),
        new_markdown_cell("## 敏感性分析 (Sobol indices of the mean rank shift)"),
        new_code_cell("display(review.sensitivity.style.hide(axis=\"index\").format(precision=3))\n"
                      + figure("rp.sobol_bar(review.sensitivity)", "sobol")
                      + "\n" + reading("sensitivity")),
        new_markdown_cell("## 数据驱动的权重方案 (weighting schemes)"),
        new_code_cell("display(review.weights.pivot(index=\"category\", columns=\"scheme\", values=\"weight\")"
                      ".rename(index=names).style.format(precision=3))\n"
                      + figure("rp.weights_compare(review.weights[~review.weights.scheme.str.startswith("
                               "\"effective\")], names)", "weights_schemes")
                      + "\n" + "display(review.scheme_ranks.pivot(index=[\"unit_id\", \"unit_name\"], "
                      "columns=\"scheme\", values=\"rank\"))\n" + reading("schemes")),
        new_markdown_cell("## 新旧评分办法对比 (method comparison)"),
        new_code_cell("display(review.comparison.summary.style.hide(axis=\"index\").format(precision=3))\n"
                      "display(review.comparison.most_affected(8).style.hide(axis=\"index\"))\n"
                      + reading("comparison")),
        new_markdown_cell("## 名次变化分解：方法效应与数据效应 (method vs data effect)"),
        new_code_cell("dec = review.decomposition\n"
                      "display(dec[dec.unit_id == \"XL01\"].style.hide(axis=\"index\"))\n"
                      + figure("rp.decomposition_bar(dec, n=10, highlight=\"XL01\")", "decomposition")
                      + "\n" + reading("decomposition") + "\n"
                      "display(dec.style.hide(axis=\"index\"))"),
        new_markdown_cell("## 逐一去掉类别 (leave one category out)"),
        new_code_cell("loo = review.leave_one_out.attrs[\"summary\"]\n"
                      "display(loo.style.hide(axis=\"index\").format(precision=2))\n"
                      + figure("rp.leave_one_out_bar(loo)", "leave_one_out")
                      + "\n" + reading("leave_one_out")),
        new_markdown_cell("## 内部一致性 (coherence)"),
        new_code_cell("display(review.coherence.alpha.style.hide(axis=\"index\").format(precision=3))\n"
                      "display(review.coherence.pca.style.hide(axis=\"index\").format(precision=3))\n"
                      "display(review.coherence.correlation.style.format(precision=2)"
                      ".background_gradient(cmap=\"RdBu_r\", vmin=-1, vmax=1))\n"
                      + reading("coherence")),
        new_markdown_cell("## 机器可读表格 (tables written)"),
        new_code_cell("display(Markdown(\"\\n\".join(f\"- `{p.name}`\" for p in paths.values())))"),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives the same file
        cell["id"] = f"cell-{i:02d}"
    return nb


def main() -> None:
    nb = review_notebook()
    nbformat.validate(nb)
    path = NOTEBOOKS / "03_method_review.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    print(path)


if __name__ == "__main__":
    main()
