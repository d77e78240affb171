"""One month under one method: :func:`qyb.load` and the :class:`Edition` an analyst, the notebooks and
the command line start from.

An edition (期) is what the town publishes each month: the scores of every
村/社区 under the method in force. :func:`load` reads and validates the raw
files once (the month and the history the analyses look back to) and scores
the month; everything else is computed on demand from the same panel and
kept, so nothing is read or scored twice::

    import qyb
    ed = qyb.load("2023-03")                 # the method in force, the shipped sample data
    ed.scorecard                             # one row per unit: index, stars, rank, categories
    ed.ranking()                             # the 榜单 as published (Chinese headers)
    ed.profile("永宁")                        # 体检表 of 永宁社区 (id, name or a unique short name)
    ed.rescore(weights={"public_order": 30})  # the same data under a changed method (COINr's adjust)

Unit arguments accept a unit id (``XL01``), a name (``永宁社区``) or a unique
short name (``永宁``); an unknown or ambiguous one is an :class:`UnitLookupError`
listing the candidates.

The convenience methods that run a later stage (movements, rank intervals,
the method review, the 榜单 and 体检表 tables) import it when called: the
edition is the façade over those packages, which themselves take a panel and
a method and never import the edition.
"""
from __future__ import annotations

import difflib
import html
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from qyb.data.intake import IntakeReport
from qyb.data.monthfile import month_files
from qyb.data.months import add_months, month_number, month_range, parse_month
from qyb.data.panel import Panel, load_panel, require_month
from qyb.data.store import SCORING_CODE, ProcessedStore, StoreMiss, panel_key, resolve_store, table_key
from qyb.engine import ScoreTable, score_panel
from qyb.engine.table import BLOCK_UNITS
from qyb.errors import InputError, Problem
from qyb.method import Method, load_method, method_for_month, resolve_method
from qyb.paths import DATA_RAW
from qyb.vocab import RANK_INTERVAL_SEED

__all__ = ["load", "read_panel", "scorecard_blocks", "ScorecardStream", "panel_months", "Edition", "UnitLookupError",
           "HISTORY_MONTHS", "PANEL_MONTHS", "latest_month"]

#: months of index history a 体检表 shows
HISTORY_MONTHS = 12
#: months before the edition's month that :func:`load` reads: the movements' 36 months of history
#: (year-on-year baselines, the regression-to-the-mean window, the interrupted time series) plus
#: the longest look-back of a method and the index history
PANEL_MONTHS = 48
#: unit-name endings dropped to form a short name (永宁社区 -> 永宁)
_NAME_SUFFIXES = ("社区居委会", "村委会", "社区", "居委会", "村")


class UnitLookupError(InputError, KeyError):
    """A unit argument matched no unit, or more than one. The message lists the candidates."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return self.message()


def latest_month(data: str | Path | None = None) -> str:
    """The latest month that has a file in the data folder (InputError when there is none)."""
    data_dir = Path(data) if data else DATA_RAW
    months = sorted(month_files(data_dir)) if data_dir.is_dir() else []
    if not months:
        raise InputError(Problem(str(data_dir), "no month files in the data folder",
                                 "Add YYYY-MM.csv files, or pass --data with the right folder."))
    return months[-1]


def load(month: str | None = None, method: str | Path | Method | None = None,
         data: str | Path | None = None, store: ProcessedStore | str | Path | bool | None = None) -> Edition:
    """Read, validate and score one month: the entry point of qyb.

    Parameters
    ----------
    month : "YYYY-MM"; None for the latest month of the data folder.
    method : a method name (``v2``), a path to a YAML spec, a :class:`~qyb.method.Method`,
        or None for the method in force in ``month`` (the latest whose ``effective_from`` is
        not after it).
    data : the raw data folder (``units.csv`` and ``YYYY-MM.csv``/``.xlsx`` files); None for
        the shipped sample data.
    store : the processed store (:mod:`qyb.data.store`): None for the default one
        (``data/processed/store``, or ``$QYB_STORE``), False for none, or a folder.

    Reads ``month`` and up to :data:`PANEL_MONTHS` months before it (never after: a report
    does not look ahead), validates every file it reads (all problems at once) and scores
    the month. Raises :class:`qyb.errors.InputError` for bad input. When the store holds
    this panel and scorecard for the same input files, method and code (sha256 keys), they
    are read from it instead; otherwise they are written to it once the month has scored
    (nothing is written for bad input). The results are the same either way.
    """
    data_dir = Path(data) if data else DATA_RAW
    month = parse_month(month) if month else latest_month(data_dir)
    m = resolve_method(month, method)
    st = resolve_store(store)
    panel = read_panel(month, data_dir, allow_blank=m.missing != "fail", measures=m.measure_entries,
                       store=st if st is not None else False, save=False)  # None there means the default store
    edition = Edition(panel, month, m, store=st)
    if st is not None:
        st.save_panel(panel)
        edition.scorecard  # noqa: B018 - computed and stored now, so every later reader finds it
    return edition


def read_panel(month: str, data: str | Path | None = None, allow_blank: bool = False, measures=None,
               store: ProcessedStore | str | Path | bool | None = False, save: bool = True) -> Panel:
    """The validated panel :func:`load` reads for ``month``: the month and up to :data:`PANEL_MONTHS`
    months before it that have files (analyses that need no method, such as movements, start here),
    over the units in force in ``month``. ``measures`` is a method spec's ``measures:`` list (measures
    it adds to the data folder's catalogue).

    ``store``: as for :func:`load` (default: none); the panel is read from it when it holds these
    inputs, else read from the raw files and (``save``) written to it.
    """
    data_dir = Path(data) if data else DATA_RAW
    month = parse_month(month)
    months = panel_months(month, data_dir)

    def read() -> Panel:
        return load_panel(data_dir, months, allow_blank=allow_blank, measures=measures).for_month(month)

    st = resolve_store(store)
    if st is None:
        return read()
    panel = st.load_panel(data_dir, month, months, allow_blank, measures, read)
    if save:
        st.save_panel(panel)
    return panel


def panel_months(month: str, data_dir: Path) -> list[str]:
    """The months :func:`read_panel` reads for ``month``: those with a file among ``month`` and the
    :data:`PANEL_MONTHS` before it (InputError when ``month`` itself has no file)."""
    require_month(data_dir, month)
    first = add_months(month, -PANEL_MONTHS)
    return [mo for mo in month_files(data_dir) if month_number(first) <= month_number(mo) <= month_number(month)]


@dataclass
class ScorecardStream:
    """A month's scorecard as consecutive pieces of whole towns (iterate it), with the intake report of
    the panel they come from (what the readers recognised or ignored in the files)."""

    month: str
    method: Method
    intake: IntakeReport
    pieces: Iterator[pd.DataFrame]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter(self.pieces)


def scorecard_blocks(month: str | None = None, method: str | Path | Method | None = None,
                     data: str | Path | None = None, store: ProcessedStore | str | Path | bool | None = None,
                     block_units: int | None = None) -> ScorecardStream:
    """The month's scorecard (the ``qyb score`` contract) as consecutive pieces of whole towns, in register
    order: concatenated, they are the scorecard of :func:`load`.

    Every figure of a unit depends on its own town only (normalisation, ranks and stars are within
    a town), so a panel held in the processed store is read and scored one block of towns of about
    ``block_units`` units at a time (default :data:`qyb.engine.table.BLOCK_UNITS`): memory is bounded
    by the block, not by the number of units. The first time (no stored panel) the raw files are
    read and validated as :func:`load` does, here, before anything is returned (bad input raises),
    and the scorecard comes in one piece; so it does when the store is off, when it already holds
    the whole scorecard, or when the register does not list each town's units together.
    """
    data_dir = Path(data) if data else DATA_RAW
    month = parse_month(month) if month else latest_month(data_dir)
    m = resolve_method(month, method)
    st = resolve_store(store)
    if st is not None:
        key, _ = panel_key(data_dir, month, panel_months(month, data_dir), m.missing != "fail", m.measure_entries)
        try:
            stored = st.open_panel(key, data_dir)
        except StoreMiss:
            stored = None
        if stored is not None:
            try:
                card = st.read_frame(key, table_key(key, "scorecard", {"month": month, "method": m.hash}))
                return ScorecardStream(month, m, stored.intake, iter([card]))
            except StoreMiss:
                pass
            blocks = stored.blocks(block_units or BLOCK_UNITS)
            if blocks is not None:
                return ScorecardStream(month, m, stored.intake, (Edition(p, month, m).scorecard for p in blocks))
    edition = load(month, m, data_dir, st if st is not None else False)
    return ScorecardStream(month, m, edition.panel.intake, iter([edition.scorecard]))


class Edition:
    """One month of a validated panel scored under one method (see the module docstring).

    Built by :func:`load`, or from a panel already in memory: ``Edition(panel, month, method)``.
    Scoring the month happens here, so a bad input fails at construction -- unless ``store``
    (a :class:`~qyb.data.store.ProcessedStore`) already holds this month's scorecard for the
    panel's exact inputs, method and code: then it is read, and the month is scored only when
    something needs more than the scorecard (:attr:`table`).
    """

    def __init__(self, panel: Panel, month: str, method: Method | str | None = None,
                 store: ProcessedStore | None = None):
        self.panel = panel
        self.month = parse_month(month)
        self.method = resolve_method(self.month, method)
        self.store = store
        if self.month not in panel.months:
            raise InputError(Problem(str(panel.data_dir), f"the panel holds no data for {self.month}",
                                     f"Add {self.month}.csv, or choose another month."))
        self._table: ScoreTable | None = None
        self._card: pd.DataFrame | None = self._stored_scorecard()
        if self._card is None:
            self._table = score_panel(panel, self.method, [self.month])
        self._intervals: dict[tuple, pd.DataFrame] = {}
        self._movements: pd.DataFrame | None = None

    @property
    def table(self) -> ScoreTable:
        """The month scored under the method (every engine array: values, scores, steps)."""
        if self._table is None:
            self._table = score_panel(self.panel, self.method, [self.month])
        return self._table

    # ------------------------------------------------------------ the processed store
    def _store_params(self, **params) -> dict:
        return {"month": self.month, "method": self.method.hash, **params}

    def _stored_scorecard(self) -> pd.DataFrame | None:
        if self.store is None or self.panel.store_key is None:
            return None
        key = table_key(self.panel.store_key, "scorecard", self._store_params())
        try:
            return self.store.read_frame(self.panel.store_key, key)
        except StoreMiss:
            return None

    def _stored(self, name: str, params: dict, build, code: tuple[str, ...] = SCORING_CODE) -> pd.DataFrame | None:
        """``build()``, or its copy in the processed store (written there on first use). ``build=None``:
        the stored copy only (None when there is none)."""
        if self.store is None or self.panel.store_key is None:
            return None if build is None else build()
        if build is None:
            key = table_key(self.panel.store_key, name, self._store_params(**params), code)
            try:
                return self.store.read_frame(self.panel.store_key, key)
            except StoreMiss:
                return None
        return self.store.frame(self.panel.store_key, name, self._store_params(**params), build, code)

    # ------------------------------------------------------------ what it is
    @property
    def data_dir(self) -> Path:
        return Path(self.panel.data_dir)

    @property
    def units(self) -> pd.DataFrame:
        """The unit register (indexed by unit_id)."""
        return self.panel.units

    @property
    def synthetic(self) -> bool:
        """True when the data folder is the synthetic sample (every page says 示例数据)."""
        return self.panel.synthetic

    @property
    def categories(self) -> dict[str, str]:
        """Category code -> Chinese name, in the method's order."""
        return {g.code: g.name for g in self.method.categories}

    def __repr__(self) -> str:
        tag = " · 示例数据" if self.synthetic else ""
        return (f"Edition {self.month} · {self.method.name} ({self.method.hash[:8]}) · "
                f"{len(self.units)} units{tag}")

    def _repr_html_(self) -> str:
        esc = html.escape
        card = self.scorecard.sort_values(["rank", "unit_id"], kind="stable").head(5)
        rows = "".join(f"<tr><td>{int(r['rank'])}</td><td>{esc(str(r['unit_name']))}</td>"
                       f"<td>{r['index']:.2f}</td><td>{'★' * int(r['stars']) if pd.notna(r['stars']) else ''}</td>"
                       f"</tr>" for _, r in card.iterrows())
        banner = "<p><b>示例数据</b>：合成数据，数字均为虚构。</p>" if self.synthetic else ""
        return (f"<div><p><b>{esc(self.month)}</b> · {esc(self.method.title)} [{esc(self.method.name)}, "
                f"{esc(self.method.hash[:8])}] · {len(self.units)} 个村(社区)</p>{banner}"
                "<table><tr><th>排名</th><th>村(社区)</th><th>平安形势指数</th><th>星级</th></tr>"
                f"{rows}</table></div>")

    @property
    def mechanism_start(self) -> str:
        """When the barometer started: the earliest ``effective_from`` of the methods (the default
        intervention month of the interrupted time series)."""
        from qyb.method import available_methods

        try:
            starts = [m.effective_from for m in available_methods()]
        except InputError:
            starts = []
        return min([*starts, self.method.effective_from], key=month_number)

    # ------------------------------------------------------------ units
    def unit(self, key: str) -> str:
        """The unit_id for ``key``: an id, a name or a unique short name (永宁 -> 永宁社区).

        Raises :class:`UnitLookupError` listing the candidates when ``key`` matches no unit
        or several.
        """
        key = str(key).strip()
        ids = self.units.index.astype(str)
        names = self.units["unit_name"].astype(str)
        exact = ids[(ids == key) | (ids.str.upper() == key.upper()) | (names.to_numpy() == key)]
        if len(exact) == 1:
            return str(exact[0])
        short = names.map(_short_name)
        hits = ids[(short.to_numpy() == _short_name(key)) | names.str.startswith(key).to_numpy()] if key else ids[:0]
        if len(hits) == 1:
            return str(hits[0])
        label = {u: f"{u} {n}" for u, n in zip(ids, names)}
        if len(hits) > 1:
            raise UnitLookupError(Problem("unit", f"'{key}' matches several units: "
                                          + "、".join(label[h] for h in hits), "Give the full name or the unit id."))
        close = difflib.get_close_matches(key, list(names) + list(ids), n=5, cutoff=0.3)
        by_any = {**dict(zip(names, ids)), **dict(zip(ids, ids))}
        hint = ("Did you mean: " + "、".join(dict.fromkeys(label[by_any[c]] for c in close)) + "?") if close else \
            f"Use a unit id or name from units.csv, e.g. {label[ids[0]]}."
        raise UnitLookupError(Problem("unit", f"unknown unit '{key}'", hint))

    # ------------------------------------------------------------ scores
    @cached_property
    def scorecard(self) -> pd.DataFrame:
        """The month's scorecard: one row per unit (the ``qyb score`` contract) plus
        ``rank_prev_published`` / ``method_prev_published``: last month's rank under the method
        in force then (what a reader of last month's list saw)."""
        if self._card is not None:
            return self._card

        def build() -> pd.DataFrame:
            card = self.table.scorecard(self.month)
            return _add_published_previous(card, self.panel, self.month, self.method)

        return self._stored("scorecard", {}, build)

    @cached_property
    def history_table(self) -> ScoreTable:
        """Scores of up to :data:`HISTORY_MONTHS` months ending at the month, under this method
        (the months the data allow; just the month when a gap in the files stops the history)."""
        first = _history_start(self.month, self.panel.months[0], self.method.history_needed(), HISTORY_MONTHS)
        if first == self.month:
            return self.table
        try:
            return score_panel(self.panel, self.method, month_range(first, self.month))
        except InputError:  # a gap in the history: show the month alone
            return self.table

    @property
    def history(self) -> pd.DataFrame:
        """Scorecards of the history months (same method), one row per unit and month."""
        return self.history_table.scorecard()

    def unit_history(self, unit: str, n: int = HISTORY_MONTHS) -> pd.DataFrame:
        """One unit's index, stars and rank over the last ``n`` months (this method)."""
        uid = self.unit(unit)
        h = self.history
        return h[h["unit_id"] == uid].sort_values("month").tail(n).reset_index(drop=True)

    @property
    def indicators(self) -> pd.DataFrame:
        """Tidy (unit, indicator) rows of the month: value, score, imputed flag, category."""
        return self.table.indicator_long(self.month)

    def raw(self, measure: str, months: list[str] | None = None) -> pd.DataFrame:
        """Raw figures of one measure: months x unit_id (default: every month of the panel)."""
        months = self.panel.months if months is None else months
        return pd.DataFrame(self.panel.cube(measure, months), index=pd.Index(months, name="month"),
                            columns=self.units.index)

    # ------------------------------------------------------------ adjust and regenerate
    def rescore(self, method: str | Path | Method | None = None, *, weights: dict[str, float] | None = None,
                drop=None, name: str | None = None, **changes) -> Edition:
        """The same month and panel under a changed method (nothing is re-read).

        ``method``: another method (name, path or :class:`Method`; default this one);
        ``weights``: new weights of named groups/indicators; ``drop``: codes to remove;
        ``changes``: top-level spec keys to replace (e.g. ``stars={...}``). Each change is
        recorded in the derived spec (``derived_from``), as COINr's adjust-and-regenerate.
        """
        m = self.method if method is None else (method if isinstance(method, Method) else load_method(method))
        if changes:
            m = m.derive(name, **changes)
        if weights:
            m = m.with_weights(weights, name=name)
        if drop:
            m = m.without(drop, name=name)
        return Edition(self.panel, self.month, m)

    def compare(self, other: Edition):
        """Rank shifts and star changes from this edition to ``other`` (a :class:`~qyb.review.MethodComparison`)."""
        from qyb.review.comparison import compare_scorecards

        return compare_scorecards(self.scorecard, other.scorecard, self.method.name, other.method.name)

    # ------------------------------------------------------------ the report's tables (qyb.report)
    def ranking(self, intervals: pd.DataFrame | bool | None = None) -> pd.DataFrame:
        """The 榜单 as published: Chinese headers, ★, movement against last month's published rank.

        ``intervals=True`` adds 排名区间 and 保持星级概率 from :meth:`rank_intervals`.
        """
        from qyb.report.ranking import ranking_table

        if intervals is True:
            intervals = self.rank_intervals()
        return ranking_table(self.scorecard, self.method, intervals=intervals if intervals is not False else None)

    def profile(self, unit: str):
        """The 体检表 of one unit (a :class:`~qyb.report.profile.UnitProfile`)."""
        return self.profiles(unit)[0]

    def profiles(self, unit: str | None = None) -> list:
        """体检表 of every unit in rank order (or of ``unit`` only)."""
        from qyb.report.profile import unit_profiles

        return unit_profiles(self, self.unit(unit) if unit else None)

    # ------------------------------------------------------------ is a movement real (qyb.movements)
    def movements(self, indicator: str = "all", baseline: str | None = None) -> pd.DataFrame:
        """Movement verdicts of count indicators: one row per unit (x indicator x baseline).

        ``indicator``: a count measure or ``"all"``; ``baseline``: ``mom``, ``yoy``, ``3m`` or
        None for all three.
        """
        from qyb.movements.tables import select_movements

        indicators = None if indicator == "all" else [indicator]
        baselines = None if baseline is None else [baseline]
        return select_movements(self.movement_family(), self.panel, indicators, baselines)

    def movements_table(self, indicator: str = "fraud_alerts", baseline: str = "yoy") -> pd.DataFrame:
        """One row per unit: the movement of ``indicator`` against ``baseline``
        (:func:`qyb.movements.movements_table`; a baseline without data is an InputError)."""
        from qyb.movements.tables import movements_table

        return movements_table(self.panel, self.month, indicator, baseline, family=self.movement_family())

    def movement_family(self) -> pd.DataFrame:
        """Every movement verdict of the month, the family its q values are computed over
        (:func:`qyb.movements.tables.movement_family`): computed once, kept in the processed store."""
        if self._movements is None:
            def computed() -> pd.DataFrame:
                from qyb.movements.tables import movement_family

                return movement_family(self.panel, self.month)

            self._movements = self._stored("movements", {}, computed, SCORING_CODE + ("movements", "stats"))
        return self._movements

    def rank_intervals(self, draws: int = 2000, seed: int | None = None, model: str = "posterior", *,
                       draw: bool = True) -> pd.DataFrame | None:
        """Rank intervals and 保持星级概率 of every unit, from draws through the full method:
        ``model="posterior"`` (calibrated: the true rank under the empirical-Bayes posterior of the true
        rates) or ``"bootstrap"`` (the month's counts resampled; see :mod:`qyb.movements.intervals`).

        ``draw=False``: only intervals already drawn (kept by this edition or in the processed store),
        else None (the monthly run waits for a notebook to draw them rather than draw them twice).
        """
        seed = RANK_INTERVAL_SEED if seed is None else seed
        key = (int(draws), seed, model)

        def drawn() -> pd.DataFrame:  # the resampling code (and scipy) is imported only to draw
            from qyb.movements.intervals import rank_intervals

            return rank_intervals(self.panel, self.month, self.method, n_draws=int(draws), seed=seed, model=model)

        if key not in self._intervals:
            params = {"draws": int(draws), "seed": seed} | ({} if model == "posterior" else {"model": model})
            found = self._stored("rank_intervals", params, drawn if draw else None,
                                 SCORING_CODE + ("movements", "stats", "sample"))
            if found is None:
                return None
            self._intervals[key] = found
        return self._intervals[key]

    def previous(self) -> Edition | None:
        """Last month's edition as published (the method in force then), or None when there is none."""
        prev = add_months(self.month, -1)
        if prev not in self.panel.months:
            return None
        try:
            return Edition(self.panel, prev, method_for_month(prev), store=self.store)
        except InputError:
            return None

    def focus_unit(self) -> str:
        """The unit that moved most since last month's published rank (ties: the better rank now)."""
        card = self.scorecard
        prev = pd.to_numeric(card["rank_prev_published"], errors="coerce")
        change = (prev - card["rank"].astype(float)).abs()
        if change.notna().any():
            order = card.assign(change=change).sort_values(["change", "rank"], ascending=[False, True],
                                                           na_position="last")
        else:
            order = card.sort_values("rank")
        return str(order["unit_id"].iat[0])

    def review(self, methods="v1,v2", schemes="equal,entropy,critic,pca", draws: int = 10_000, seed: int = 0,
               fairness="v1,v2,v3", fairness_size="standard", unit: str | None = None):
        """The method review of this month (a :class:`~qyb.review.MethodReview`); ``fairness``: the methods
        compared on reliability and fair stars (``""`` to skip), ``unit``: whose story it tells (id or name)."""
        from qyb.review.summary import run_review

        return run_review(self.panel, self.month, self.method, methods, schemes, n_draws=draws, seed=seed,
                          fairness=fairness, fairness_size=fairness_size, unit=self.unit(unit) if unit else None,
                          compute_fairness=self._stored_fairness)

    def fairness(self, methods="v1,v2,v3", size="standard", seed: int = 0, unit: str | None = None, run=None):
        """The review's fairness section alone (a :class:`~qyb.review.fairness.FairnessReview`, None when no
        method can be scored this month): ``methods`` compared on reliability and fair stars with the
        simulation ``size`` (``quick`` / ``standard`` / ``full``) and ``seed``, ``unit``'s story (id or
        name). The same figures :meth:`review` shows, from the same processed-store entry. ``run``: what
        runs its independent pieces (:func:`qyb.review.fairness.fairness_tasks`; default one after another)."""
        from qyb.review.summary import fairness_section

        return fairness_section(self.panel, self.month, methods, size, seed, self.unit(unit) if unit else None,
                                compute=self._stored_fairness, run=run)

    def _stored_fairness(self, panel: Panel, month: str, methods: list[Method], settings, unit: str | None,
                         run=None):
        """The fairness section of the review (:func:`qyb.review.summary.fairness_of`), kept in the processed
        store: it is a function of the panel, the methods, the simulation settings (seed included) and the
        unit whose story it tells, so a second look at the month (a re-run, another notebook) draws nothing."""
        import dataclasses

        from qyb.review.fairness import FairnessReview
        from qyb.review.summary import fairness_of

        def build() -> FairnessReview:
            return fairness_of(panel, month, methods, settings, unit, run=run)

        if panel is not self.panel or self.store is None or self.panel.store_key is None:
            return build()
        params = self._store_params(fairness=[m.hash for m in methods], settings=dataclasses.asdict(settings),
                                    unit=unit)
        frames = self.store.frames(self.panel.store_key, "fairness", params, lambda: build().to_frames(),
                                   SCORING_CODE + ("review", "sample"))
        return FairnessReview.from_frames(frames, month, methods, settings)


# ---------------------------------------------------------------- helpers
def _short_name(name: str) -> str:
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _history_start(month: str, first_data_month: str, history_needed: int, n: int = HISTORY_MONTHS) -> str:
    """First month of the ``n``-month history that the data allow under a method looking back
    ``history_needed`` months."""
    earliest = add_months(first_data_month, history_needed)
    start = add_months(month, -(n - 1))
    return start if month_number(start) >= month_number(earliest) else min(earliest, month)


def _add_published_previous(card: pd.DataFrame, panel: Panel, month: str, method: Method) -> pd.DataFrame:
    """Add ``rank_prev_published`` / ``method_prev_published``: last month's rank under the method then in force.

    Equals ``rank_prev`` when the method did not change; empty when there is no previous month, no
    method was in force, or last month cannot be scored as it was published.
    """
    prev = add_months(month, -1)
    card = card.copy()
    try:
        prev_method = method_for_month(prev)
    except InputError:
        prev_method = None
    empty = pd.array([pd.NA] * len(card), dtype="Int64")
    if prev_method is None or prev not in panel.months:
        card["rank_prev_published"] = empty
        card["method_prev_published"] = ""
        return card
    card["method_prev_published"] = prev_method.name
    if prev_method.hash == method.hash:
        card["rank_prev_published"] = card["rank_prev"]
        return card
    try:
        prev_card = score_panel(panel, prev_method, [prev]).scorecard(prev).set_index("unit_id")
    except InputError:
        card["rank_prev_published"] = empty
        return card
    card["rank_prev_published"] = pd.array(card["unit_id"].map(prev_card["rank"]), dtype="Int64")
    return card

