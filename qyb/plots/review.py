"""Charts of the method review (notebook 03): thin layer over :mod:`qyb.plots.charts`.

``rank_uncertainty``, ``sobol_bar``, ``weights_compare`` and ``save_figure``
are those of :mod:`qyb.plots.charts` when it provides them (the house charts, CJK
font); otherwise minimal fallbacks here draw the same data. Two charts are
specific to the review: :func:`decomposition_bar` (method vs data effect of
the units that moved most) and :func:`leave_one_out_bar`.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

try:  # the house charts (qyb.plots.charts registers the bundled CJK font on import)
    from qyb.plots import charts as _plots
except ImportError:  # pragma: no cover - only before qyb.plots.charts exists
    _plots = None

FONT = Path(__file__).resolve().parents[1] / "fonts" / "QybSansSC-Regular.otf"
FACTOR_NAMES = {"weights": "类别权重", "normalisation": "标准化方法", "aggregation": "汇总方式",
                "star_rule": "星级规则"}
SCHEME_NAMES = {"nominal": "名义权重", "effective_r2": "有效权重 (r²)", "effective_eta2": "有效权重 (η²)",
                "equal": "等权", "entropy": "熵权法", "critic": "CRITIC", "std": "标准差法", "pca": "主成分法"}


def _font() -> None:
    if _plots is not None and hasattr(_plots, "use_cjk_font"):
        _plots.use_cjk_font()
        return
    from matplotlib import font_manager

    if FONT.is_file():
        font_manager.fontManager.addfont(str(FONT))
        name = font_manager.FontProperties(fname=str(FONT)).get_name()
        matplotlib.rcParams["font.sans-serif"] = [name, *matplotlib.rcParams["font.sans-serif"]]
        matplotlib.rcParams["font.family"] = ["sans-serif"]
        matplotlib.rcParams["axes.unicode_minus"] = False


_font()


def _house(name: str):
    return getattr(_plots, name, None) if _plots is not None else None


def save_figure(fig, path) -> Path:
    """Save a figure (the house ``qyb.plots.save_figure`` when present: reproducible bytes)."""
    house = _house("save_figure")
    if house is not None:
        return house(fig, path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    return path


def rank_uncertainty(df: pd.DataFrame, **kw):
    """Median and 5–95 % rank per unit against the nominal rank (``unit_name, rank_nominal, rank_median,
    rank_p05, rank_p95``)."""
    house = _house("rank_uncertainty")
    if house is not None:
        return house(df, **kw)
    d = df.sort_values("rank_nominal")
    y = np.arange(len(d))
    fig, ax = plt.subplots(figsize=(7, 0.24 * len(d) + 1.4))
    ax.hlines(y, d["rank_p05"], d["rank_p95"], lw=3, alpha=0.45, label="5–95% 区间")
    ax.scatter(d["rank_median"], y, s=18, label="中位数")
    ax.scatter(d["rank_nominal"], y, marker="D", s=22, facecolor="white", edgecolor="black", label="名义排名")
    ax.set_yticks(y, d["unit_name"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("排名 (1 = 最好)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def sobol_bar(df: pd.DataFrame, **kw):
    """S1 and ST per factor with bootstrap intervals."""
    house = _house("sobol_bar")
    if house is not None:
        return house(df, kw.pop("factor_names", FACTOR_NAMES), **kw)
    x = np.arange(len(df))
    fig, ax = plt.subplots(figsize=(1.1 * len(df) + 3, 3.8))
    for k, col in enumerate(("S1", "ST")):
        v = df[col].to_numpy(float)
        err = np.vstack([v - df[f"{col}_lower"], df[f"{col}_upper"] - v]).clip(0)
        ax.bar(x + (k - 0.5) * 0.38, v, 0.38, yerr=err, capsize=3, label=col)
    ax.set_xticks(x, [FACTOR_NAMES.get(f, f) for f in df["factor"]])
    ax.legend()
    fig.tight_layout()
    return fig


def weights_compare(df: pd.DataFrame, category_names=None, **kw):
    """Grouped bars of each category's weight under each scheme (long ``scheme, category, weight``)."""
    house = _house("weights_compare")
    if house is not None:
        kw.setdefault("scheme_names", SCHEME_NAMES)
        return house(df, category_names, **kw)
    table = df.pivot_table(index="category", columns="scheme", values="weight", aggfunc="first", sort=False)
    fig, ax = plt.subplots(figsize=(10, 4.2))
    table.rename(index=category_names or {}).plot.bar(ax=ax, width=0.8)
    ax.set_ylabel("权重")
    fig.tight_layout()
    return fig


def decomposition_bar(df: pd.DataFrame, n: int = 10, highlight: str | None = None):
    """Stacked bars of ``method_effect`` and ``data_effect`` (places gained, + = rose) for the ``n`` units
    with the largest total change (``highlight``: a unit_id always shown)."""
    d = df.assign(_abs=(df["method_effect"] + df["data_effect"]).abs())
    d = d.sort_values(["_abs", "unit_id"], ascending=[False, True], kind="stable")
    top = d.head(n)
    if highlight is not None and highlight not in set(top["unit_id"]):
        top = pd.concat([top, d[d["unit_id"] == highlight]])
    top = top.iloc[::-1]
    y = np.arange(len(top))
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(top) + 1.6))
    me, de = top["method_effect"].to_numpy(float), top["data_effect"].to_numpy(float)
    ax.barh(y, me, color="#8c6bb1", label="方法效应 (method effect)")
    # stack the data effect after the method effect when both point the same way, else from 0
    left = np.where(np.sign(me) == np.sign(de), me, 0.0)
    ax.barh(y, de, left=left, color="#41ab5d", label="数据效应 (data effect)")
    labels = [f"{u} ({int(a)}→{int(b)})" for u, a, b in zip(top["unit_name"], top["rank_from"], top["rank_to"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("名次变化 (places gained; + = 上升)")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def leave_one_out_bar(summary: pd.DataFrame):
    """Mean absolute rank shift when each category is left out (``category_name, mean_abs_rank_shift``)."""
    d = summary.sort_values("mean_abs_rank_shift")
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(d) + 1.2))
    ax.barh(d["category_name"], d["mean_abs_rank_shift"], color="#4292c6")
    ax.set_xlabel("平均名次变动 (mean absolute rank shift)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig
