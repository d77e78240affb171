"""What a report notebook needs beyond ``qyb.load``: one object that shows and saves.

A notebook cell stays one line per thing shown::

    page = Page(ed, output_dir)        # figures/ and tables/ under output_dir
    page.header()                      # 示例数据 banner (once) and the month / method line
    page.table(ed.ranking(), "ranking")  # shown without row numbers, written as tables/ranking.csv
    page.figure(plots.ranking_bar(ed.scorecard), "ranking_bar")  # saved as figures/ranking_bar.png and shown

Rank intervals are drawn once per run: :meth:`Page.rank_intervals` reads the run's
``tables/rank_intervals.csv`` when it holds this month, method, draws and seed, and
otherwise draws them and writes that file.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from qyb.data.files import write_csv_atomic
from qyb.vocab import SYNTHETIC_BANNER

__all__ = ["Page"]


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
        from IPython.display import Markdown

        self._display(Markdown(text))

    def header(self, extra: str = "") -> None:
        """The 示例数据 banner (when the data are synthetic) and the month / method line."""
        ed = self.edition
        if ed.synthetic:
            self.markdown(f"> **{SYNTHETIC_BANNER}**")
        line = f"月份：**{ed.month}**；评分办法：**{ed.method.title}**（{ed.method.name}）"
        self.markdown(line + (f"；{extra}" if extra else ""))

    def table(self, frame: pd.DataFrame, name: str | None = None, *, show: bool = True, style=None,
              precision: int | None = None) -> pd.DataFrame:
        """Write ``frame`` as ``tables/<name>.csv`` (when named) and show it without row numbers.

        ``style``: a callable taking the frame's Styler (e.g. number formats); ``precision``:
        decimals shown for floats.
        """
        if name:
            write_csv_atomic(frame, self.tables / f"{name}.csv")
        if show:
            styler = frame.style.hide(axis="index")
            if precision is not None:
                styler = styler.format(precision=precision, na_rep="")
            if style is not None:
                styler = style(styler)
            self._display(styler)
        return frame

    def figure(self, fig, name: str, *, show: bool = True) -> Path:
        """Save ``fig`` as ``figures/<name>.png`` (fixed DPI, byte-stable), close it, and show the file."""
        from IPython.display import Image

        from qyb.plots import save_figure

        path = save_figure(fig, self.figures / f"{name}.png")
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

    # ------------------------------------------------------------ shared results of a run
    def rank_intervals(self, draws: int = 2000, seed: int | None = None) -> pd.DataFrame:
        """The month's rank intervals: the run's ``tables/rank_intervals.csv`` when it matches, else drawn
        (and written there)."""
        from qyb.vocab import RANK_INTERVAL_SEED  # not the resampling code: reading the run's file needs no scipy

        ed = self.edition
        seed = RANK_INTERVAL_SEED if seed is None else int(seed)
        path = self.tables / "rank_intervals.csv"
        if path.is_file():
            cached = pd.read_csv(path, encoding="utf-8-sig", dtype={"unit_id": str, "month": str, "method": str})
            if len(cached):
                key = (cached["month"].iat[0], cached["method"].iat[0], int(cached["n_draws"].iat[0]),
                       None if pd.isna(cached["seed"].iat[0]) else int(cached["seed"].iat[0]))
                if key == (ed.month, ed.method.name, int(draws), seed):
                    return cached
        intervals = ed.rank_intervals(draws, seed)
        write_csv_atomic(intervals, path)
        return intervals
