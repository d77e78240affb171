"""The house style of qyb's charts: the bundled CJK font, star colours, pyplot-free figures,
reproducible saving, the 示例数据 stamp, and showing figures in notebooks.

Every chart function of :mod:`qyb.plots` takes pandas objects and returns a
:class:`matplotlib.figure.Figure` built without pyplot (no global figure state,
safe under the Agg backend and in loops over 29 units); nothing is written to
disk except by :func:`save_figure`.

Importing this module registers the bundled font (``qyb/fonts/QybSansSC-Regular.otf``,
a subset of Noto Sans CJK SC under the SIL Open Font License) via
:func:`use_cjk_font`, so unit and indicator names render on machines without
CJK system fonts.
"""
from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from qyb.paths import FONTS_DIR
from qyb.vocab import SYNTHETIC_STAMP, label, movement_text, stars_text

__all__ = ["FONT_PATH", "FONT_FAMILY", "STAR_COLOURS", "STAR_TEXT_COLOURS", "NEUTRAL", "HIGHLIGHT", "RISE", "FALL", "DPI",
           "DISPLAY_DPI", "use_cjk_font", "save_figure", "stars_text", "zh_label", "mark_sample"]

FONT_PATH = FONTS_DIR / "QybSansSC-Regular.otf"
FONT_FAMILY = "Qyb Sans SC"
#: resolution of :func:`save_figure`
DPI = 150

#: fixed star palette, 5★ dark green … 1★ red (ColorBrewer RdYlGn, colour-blind-checked order)
STAR_COLOURS: dict[int, str] = {
    5: "#1a7837",
    4: "#78c679",
    3: "#fdd835",
    2: "#fd8d3c",
    1: "#d7301f",
}
#: the same tiers as text colours on light backgrounds (tables, PDFs): darker where the fill is pale
STAR_TEXT_COLOURS: dict[int, str] = {5: "#1a7837", 4: "#2e7d32", 3: "#9a7b00", 2: "#c45a00", 1: "#c62828"}
NEUTRAL = "#9e9e9e"
HIGHLIGHT = "#1f5fbf"
RISE, FALL = STAR_COLOURS[5], STAR_COLOURS[1]


# --------------------------------------------------------------------------- font

def use_cjk_font() -> str:
    """Register the bundled CJK font with matplotlib and put it first; return its family name.

    Sets ``font.family = sans-serif`` with the bundled face at the head of
    ``font.sans-serif`` (the previous entries stay behind it as fallbacks) and
    ``axes.unicode_minus = False`` (the hyphen-minus is in every font).  Idempotent.
    """
    if not FONT_PATH.is_file():
        raise FileNotFoundError(f"bundled font missing: {FONT_PATH} (see qyb/fonts/README.md)")
    fm = font_manager.fontManager
    if not any(Path(f.fname) == FONT_PATH for f in fm.ttflist):
        fm.addfont(str(FONT_PATH))
        # Only the Regular face ships: let bold requests resolve to it quietly instead of
        # logging "Failed to find font weight bold" (matplotlib draws no faux bold anyway).
        regular = next(f for f in fm.ttflist if Path(f.fname) == FONT_PATH)
        fm.ttflist.append(dataclasses.replace(regular, weight=700))
        if hasattr(fm, "_findfont_cached"):  # private cache of findfont results
            fm._findfont_cached.cache_clear()
    rc = matplotlib.rcParams
    rest = [f for f in rc["font.sans-serif"] if f != FONT_FAMILY]
    rc["font.sans-serif"] = [FONT_FAMILY, *rest]
    rc["font.family"] = ["sans-serif"]
    rc["axes.unicode_minus"] = False
    return FONT_FAMILY


def save_figure(fig: Figure, path: str | Path, dpi: int = DPI, caption: str | None = None) -> Path:
    """Write ``fig`` to ``path`` reproducibly (same figure, same bytes).

    PNG by default (fixed ``dpi``); ``.svg`` and ``.pdf`` also work.  Metadata that
    would vary between runs (software version, creation date, SVG ids) is left out.
    ``caption`` (default: the figure's title) is stored as the file's ``Title``, which the
    report's chart gallery shows under the thumbnail.
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    if caption is None and fig._suptitle is not None:
        caption = fig._suptitle.get_text()
    title = {"Title": caption} if caption else {}
    metadata = {"png": {"Software": None, **title},
                "pdf": {"Creator": None, "Producer": None, "CreationDate": None, **title},
                "svg": {"Creator": None, "Date": None}}.get(fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.hashsalt": "qyb"}):
        fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
    return path

# --------------------------------------------------------------------------- helpers

def zh_label(code: str, names: Mapping[str, str] | None = None, sep: str = "\n") -> str:
    """Chinese name first, code alongside: ``'社会治安\\npublic_order'``; the code alone if unnamed
    (names from ``names``, then :data:`qyb.vocab.LABELS`)."""
    name = label(code, dict(names) if names else None)
    return f"{name}{sep}{code}" if name and name != code else str(code)


def _figure(width: float, height: float, layout: str | None = "constrained", **kw) -> Figure:
    """A pyplot-free figure; ``layout=None`` for grids of many axes placed by ``subplots_adjust``
    (constrained layout costs about a second for 30 small axes)."""
    use_cjk_font()  # cheap; survives a user's rcParams reset
    return Figure(figsize=(width, height), layout=layout, **kw)


#: height of the strip reserved at the top of a figure for the 示例数据 stamp (inches)
STAMP_STRIP = 0.28
STAMP_FONTSIZE = 8


def mark_sample(fig: Figure, text: str = SYNTHETIC_STAMP) -> Figure:
    """Stamp a visible 示例数据 banner in the top-right corner of a figure fed by the synthetic sample.

    Only the stamp: :func:`_finish` (every chart of :mod:`qyb.plots`) also reserves a strip above the
    title for it, so the stamp never covers a title, a legend or an axis.
    """
    fig.text(0.995, 1 - 0.04 / fig.get_figheight(), text, ha="right", va="top", fontsize=STAMP_FONTSIZE,
             color="#b71c1c", gid="qyb-sample-stamp",
             bbox={"boxstyle": "round,pad=0.25", "fc": "#fff3e0", "ec": "#b71c1c", "lw": 0.6})
    return fig


def _finish(fig: Figure, title: str | None, sample: bool) -> Figure:
    """Title, optional 示例数据 stamp, then fix the layout.

    With ``sample`` a strip of :data:`STAMP_STRIP` inches is kept free at the top for the stamp
    and the title and the axes are laid out below it (constrained layout works in the rectangle
    under the strip; a figure placed by ``subplots_adjust`` lowers its top), so the stamp never
    sits over a title. Constrained layout is run once and then frozen: repeated draws of some
    layouts (colorbars, rotated tick labels) otherwise drift by a pixel between saves, and a
    frozen figure shows in a notebook exactly as :func:`save_figure` writes it.  To re-flow after
    adding artists: ``fig.set_layout_engine("constrained")``.
    """
    strip = STAMP_STRIP / fig.get_figheight() if sample else 0.0
    engine = fig.get_layout_engine()
    if title:
        fig.suptitle(title, fontsize=12, y=1 - strip - 0.02 / fig.get_figheight(), va="top")
    if sample:
        mark_sample(fig)
        if engine is not None and hasattr(engine, "set") and "rect" in engine.get():
            engine.set(rect=(0, 0, 1, 1 - strip))
        elif engine is None:
            fig.subplots_adjust(top=fig.subplotpars.top - strip)
    if engine is not None:
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
    return fig


def _num(s) -> np.ndarray:
    """Float array from a column that may be nullable Int64 (pd.NA -> NaN)."""
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _require(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")


def _by_rank(scorecard: pd.DataFrame) -> pd.DataFrame:
    _require(scorecard, ["unit_name", "index", "stars", "rank"], "scorecard")
    return scorecard.assign(_i=_num(scorecard["index"])).sort_values(
        ["rank", "_i", "unit_name"], ascending=[True, False, True], kind="stable")


def _category_codes(scorecard: pd.DataFrame, category_names: Mapping[str, str] | None) -> list[str]:
    have = [c[4:] for c in scorecard.columns if c.startswith("cat_")]
    if category_names:
        ordered = [c for c in category_names if c in have]
        return ordered + [c for c in have if c not in ordered]
    return have


def _star_legend(ax, stars: Iterable[int] = (5, 4, 3, 2, 1), **kw) -> None:
    handles = [Patch(color=STAR_COLOURS[s], label=f"{stars_text(s)} {s}星") for s in stars]
    ax.legend(handles=handles, title="星级 (stars)", fontsize=8, title_fontsize=8, **kw)


def _movement(change) -> str:
    """A rank change as the tables print it (:func:`qyb.vocab.movement_text`): ``+3 -> '↑3'``,
    ``0 -> '—'``, NaN -> '新' (no previous rank)."""
    if change is None or pd.isna(change):
        return movement_text(1, None)
    return movement_text(1, 1 + int(change))


def _text_colour(rgba) -> str:
    r, g, b = to_rgb(rgba)
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"

# --------------------------------------------------------------------------- notebooks

#: resolution of figures shown in a notebook (and in the HTML reports made from it)
DISPLAY_DPI = 110


def _figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DISPLAY_DPI, metadata={"Software": None})
    return buf.getvalue()


def _register_notebook_display() -> None:
    """Let IPython show a returned Figure as PNG (our figures bypass pyplot, so the inline
    backend never sees them); a no-op outside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, _figure_png)


use_cjk_font()
_register_notebook_display()
