"""What a report notebook needs beyond ``qyb.load``: one object that shows and saves.

A notebook cell stays one line per thing shown::

    page = Page(ed, output_dir)        # figures/ and tables/ under output_dir
    page.header()                      # 示例数据 banner (once) and the month / method line
    page.table(ed.ranking(), "ranking")  # written as tables/ranking.csv; shown with Chinese headers,
                                         # without row numbers or internal codes
    page.figure(plots.ranking_bar(ed.scorecard), "ranking_bar")  # saved as figures/ranking_bar.png and shown
    page.glossary("p 值", "q 值")        # 名词解释 of the statistical terms the page uses
    rep = page.report()                # the month's publication (published history, 预警, 体检表)

Rules for the pages (the run converts every notebook to HTML; issue 12): a page shows only what
its cells display through the page (a cell's echoed return value is not published); tables show
Chinese headers (:func:`display_frame`: :data:`qyb.vocab.LABELS` plus ``headers=``), never row
numbers or the internal codes of :data:`qyb.vocab.CODE_COLUMNS`; the browser tab's title comes
from the notebook's entry in :data:`qyb.report.run.REGISTRY`.

Rank intervals are drawn once per run: :meth:`Page.rank_intervals` reads the run's
``tables/rank_intervals.csv`` when it holds this month, method, draws and seed, and
otherwise draws them and writes that file.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.files import read_csv_table, write_csv_atomic
from qyb.paths import inside
from qyb.report.htmlsafe import escape_frame, markdown_html
from qyb.vocab import CODE_COLUMNS, GLOSSARY, SYNTHETIC_BANNER, label, month_zh

__all__ = ["Page", "display_frame", "display_formats", "english_headers"]


def display_frame(frame: pd.DataFrame, headers: dict[str, str] | None = None, codes: bool = False) -> pd.DataFrame:
    """``frame`` as a page shows it: Chinese headers (``headers`` first, then :data:`qyb.vocab.LABELS`;
    a header already in Chinese stays) and, unless ``codes``, without the internal-code columns
    (:data:`qyb.vocab.CODE_COLUMNS`). The index is dropped (pages never show row numbers)."""
    out = frame.reset_index(drop=True)
    if not codes:
        out = out[[c for c in out.columns if str(c) not in CODE_COLUMNS]]
    out = out.apply(lambda column: column.map(YES_NO) if _is_yes_no(column) else column)
    return out.rename(columns={c: label(str(c), headers) for c in out.columns})


YES_NO = {True: "是", False: "否"}


def _is_yes_no(column: pd.Series) -> bool:
    """A column of True/False (blanks allowed): pages say 是/否, never Python's True/False."""
    values = column.dropna()
    return len(values) > 0 and values.map(lambda v: isinstance(v, (bool, np.bool_))).all()


def display_formats(frame: pd.DataFrame, score_columns=()) -> dict:
    """The one display-rounding rule (:mod:`qyb.vocab`) by Chinese header: an index (``…指数``) to
    :data:`~qyb.vocab.INDEX_DECIMALS` places, scores (``…得分``, ``扣分`` and category names) to one, shares
    (``…概率``, ``占比``) as %; ``score_columns`` (e.g. the method's category names) to one decimal too.
    Other columns keep the page's own format (``precision=``, ``style=``)."""
    from qyb.vocab import fmt_index, fmt_pct, fmt_score

    out = {}
    for col in frame.columns:
        if not pd.api.types.is_float_dtype(frame[col]):
            continue
        name = str(col)
        if name.endswith("指数") and "下限" not in name and "上限" not in name:
            out[col] = fmt_index
        elif name.endswith(("概率", "占比")):
            out[col] = fmt_pct
        elif name.endswith(("得分", "分")) or name in set(score_columns):
            out[col] = fmt_score
    return out


def english_headers(columns) -> list[str]:
    """The headers among ``columns`` that have no Chinese character (what a leader-facing table must
    not show)."""
    return [str(c) for c in columns if not any("\u4e00" <= ch <= "\u9fff" for ch in str(c))]


class Page:
    """The output folder of one notebook run and the display helpers that write into it."""

    def __init__(self, edition, output_dir: str | Path):
        self.edition = edition
        self.output_dir = Path(output_dir)
        self.figures = self.output_dir / "figures"
        self.tables = self.output_dir / "tables"

    # ------------------------------------------------------------ display
    @staticmethod
    def _display(obj) -> None:
        from IPython.display import display

        display(obj)

    def markdown(self, text: str) -> None:
        """Show Markdown ``text``: rendered here with any raw HTML escaped (unit names, method titles and
        file names come from data: :func:`qyb.report.htmlsafe.markdown_html`), the Markdown kept beside it."""
        from IPython.display import display

        display({"text/html": markdown_html(text), "text/markdown": text}, raw=True)

    def header(self, extra: str = "") -> None:
        """The 示例数据 banner (when the data are synthetic; once per page) and the month / method line."""
        ed = self.edition
        if ed.synthetic:
            self.markdown(f"> **{SYNTHETIC_BANNER}**")
        line = f"月份：**{month_zh(ed.month)}**；评分办法：**{ed.method.title}**（{ed.method.name}）"
        self.markdown(line + (f"；{extra}" if extra else ""))

    def table(self, frame: pd.DataFrame, name: str | None = None, *, show: bool = True, style=None,
              precision: int | None = None, headers: dict[str, str] | None = None,
              codes: bool = False) -> pd.DataFrame:
        """Write ``frame`` as ``tables/<name>.csv`` (when named, as it is: codes and all) and show it
        the way pages show tables (:func:`display_frame`): Chinese headers, no row numbers, no
        internal codes (``codes=True`` keeps them).

        ``style``: a callable taking the shown frame's Styler (e.g. number formats, by the Chinese
        header); ``precision``: decimals shown for floats; ``headers``: code -> Chinese header for
        columns :data:`qyb.vocab.LABELS` does not name. Returns ``frame`` unchanged.
        """
        if name:
            write_csv_atomic(frame, inside(self.tables, f"{name}.csv"))
        if show:
            shown = escape_frame(display_frame(frame, headers, codes))  # the Styler escapes nothing itself
            styler = shown.style.hide(axis="index")
            formats = display_formats(shown, self.edition.categories.values())
            if formats:
                styler = styler.format(formats, na_rep="")
            if precision is not None:
                styler = styler.format(precision=precision, na_rep="")
            if style is not None:
                styler = style(styler)
            self._display(styler)
        return frame

    def figure(self, fig, name: str, *, show: bool = True, caption: str | None = None) -> Path:
        """Save ``fig`` as ``figures/<name>.png`` (fixed DPI, byte-stable), close it, and show the file.

        ``caption`` (default: the figure's title) is stored in the PNG and captions its thumbnail
        in the report's chart gallery (Chinese; the English in parentheses is dropped there).
        """
        from IPython.display import Image

        from qyb.plots import save_figure

        path = save_figure(fig, inside(self.figures, f"{name}.png"), caption=caption)
        if show:
            self._display(Image(filename=str(path)))
        return path

    def optional(self, what: str, func, *args, **kwargs):
        """``func(*args, **kwargs)``, or None after showing why ``what`` cannot be shown this month.

        A month that scores always publishes: an analysis the data cannot support (too few months
        for a baseline or a time series) says so in the page instead of failing the run. Only
        :class:`qyb.errors.InputError` (what the data cannot support) is turned into a note.
        """
        from qyb.errors import InputError

        try:
            return func(*args, **kwargs)
        except InputError as exc:
            self.markdown(f"> 本月无法给出{what}：{exc.problems[0].rule}。")
            return None

    def glossary(self, *terms: str) -> None:
        """A 名词解释 block for ``terms`` (keys of :data:`qyb.vocab.GLOSSARY`, in the order given)."""
        unknown = [t for t in terms if t not in GLOSSARY]
        if unknown:
            raise KeyError(f"no glossary entry for {unknown}; known terms: {', '.join(GLOSSARY)}")
        lines = [f"- **{t}**：{GLOSSARY[t]}" for t in terms]
        self.markdown("**名词解释**\n\n" + "\n".join(lines))

    # ------------------------------------------------------------ shared results of a run
    def rank_intervals(self, draws: int = 2000, seed: int | None = None) -> pd.DataFrame:
        """The month's rank intervals: the run's ``tables/rank_intervals.csv`` when it matches, else drawn
        (and written there)."""
        return self._run_intervals(self.edition, "rank_intervals.csv", draws, seed, write=True)

    def previous_rank_intervals(self, draws: int = 2000, seed: int | None = None) -> pd.DataFrame | None:
        """Last month's rank intervals (under the method in force then): the run's
        ``tables/rank_intervals_previous.csv`` when it matches, else drawn (not written). None when
        there is no previous month."""
        previous = self.edition.previous()
        if previous is None:
            return None
        return self._run_intervals(previous, "rank_intervals_previous.csv", draws, seed, write=False)

    def _run_intervals(self, ed, name: str, draws: int, seed: int | None, write: bool) -> pd.DataFrame:
        """``tables/<name>`` when it holds ``ed``'s month and method with these draws and seed, else
        ``ed.rank_intervals`` (the processed store's copy, or drawn)."""
        from qyb.vocab import RANK_INTERVAL_SEED  # not the resampling code: reading the run's file needs no scipy

        seed = RANK_INTERVAL_SEED if seed is None else int(seed)
        path = self.tables / name
        if path.is_file():
            cached = read_csv_table(path, dtype={"unit_id": str, "month": str, "method": str})
            if len(cached):
                key = (cached["month"].iat[0], cached["method"].iat[0], int(cached["n_draws"].iat[0]),
                       None if pd.isna(cached["seed"].iat[0]) else int(cached["seed"].iat[0]))
                if key == (ed.month, ed.method.name, int(draws), seed):
                    return cached
        intervals = ed.rank_intervals(draws, seed)
        if write:
            write_csv_atomic(intervals, path)
        return intervals

    @property
    def reports_root(self) -> Path:
        """Where the published months are: the folder holding this page's output folder (in a run,
        ``reports/`` holding ``.build-…``; for an analyst, ``reports/`` holding ``_scratch``)."""
        return self.output_dir.resolve().parent

    def report(self):
        """The month's :class:`~qyb.report.month.MonthReport`: the published history from the records
        under :attr:`reports_root`, the 预警 list, the deductions, the movers with this month's and
        last month's rank intervals (the run's files when present). Built once per page."""
        if getattr(self, "_report", None) is None:
            from qyb.report.month import month_report

            self._report = month_report(self.edition, self.reports_root, intervals=self.rank_intervals(),
                                        previous_intervals=self.previous_rank_intervals())
        return self._report
