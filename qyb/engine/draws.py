"""Scoring many versions of a month at once: drawn or expected raw figures in, scores out.

The uncertainty analyses (rank intervals, the reliability analysis, the method Monte Carlo)
score thousands of plausible months. :class:`ArrayInputs` serves the transforms from an
array of raw figures ``(..., months, units, measures)`` (leading axes: draws), and
:class:`CellInputs` from one array per measure holding only the months the method reads of it;
:func:`score_grouped` scores indicator values ``(..., units, indicators)`` with ranks,
normalisation and stars within each town, in one engine call (towns are laid out as blocks of
the unit axis, :class:`TownLayout`, as :func:`qyb.engine.score_panel` does), never a loop over
draws, towns or units. :func:`score_blocks` scores blocks of draws (:func:`draw_blocks`, sized for
the CPU cache) on the threads of :mod:`qyb.parallel`; :class:`RankTally` tallies them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from qyb.data.months import add_months, month_number
from qyb.engine.deductions import deduction_counts
from qyb.engine.score import Scores, score_values
from qyb.engine.table import _layout
from qyb.engine.transforms import indicator_values
from qyb.method import Method
from qyb.parallel import run_tasks

__all__ = ["ArrayInputs", "CellInputs", "RankTally", "TownLayout", "town_layout", "score_grouped", "score_inputs",
           "score_blocks", "draw_blocks", "unit_groups", "HISTOGRAM_CELLS", "SCORE_CELLS"]

#: rank histograms are kept when units x town size is at most this many counts, else the drawn ranks (int32)
HISTOGRAM_CELLS = 50_000_000


class ArrayInputs:
    """Engine inputs read from ``array[..., month, unit, measure]``.

    ``measure(code, lag)`` is the figure of ``month - lag`` (shape ``(..., units)``); with a list
    of target months, ``(..., len(month), units)`` (several months scored at once).
    ``attribute(code)`` a numeric column of the unit register. ``noise_free`` marks expected
    figures (a truth): estimators of chance such as empirical-Bayes shrinkage are then the
    identity (:mod:`qyb.engine.robust`).
    """

    def __init__(self, array: np.ndarray, months: list[str], measures, units: pd.DataFrame, month: str | list[str],
                 noise_free: bool = False):
        self.array = array
        self.month_pos = {m: t for t, m in enumerate(months)}
        self.measure_pos = {c: k for k, c in enumerate(measures)}
        self.units = units
        self.month = month
        self.noise_free = noise_free
        self._lag_rows: dict[int, int | slice | list[int]] = {}  # lag -> the rows it reads (computed once)
        self._attributes: dict[str, np.ndarray] = {}

    def _row(self, month: str, lag: int) -> int:
        wanted = add_months(month, -lag)
        if wanted not in self.month_pos:
            raise KeyError(f"no figures for {wanted} (needed by a lag of {lag} from {month})")
        return self.month_pos[wanted]

    def _rows(self, lag: int) -> int | slice | list[int]:
        """The month rows read at ``lag``: one row, or for a list of months a slice when they are
        consecutive rows (a view of the array, no copy) and else their positions."""
        if lag not in self._lag_rows:
            if isinstance(self.month, str):
                rows = self._row(self.month, lag)
            else:
                rows = [self._row(m, lag) for m in self.month]
                if rows and rows == list(range(rows[0], rows[0] + len(rows))):
                    rows = slice(rows[0], rows[0] + len(rows))
            self._lag_rows[lag] = rows
        return self._lag_rows[lag]

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        k = self.measure_pos[code]
        rows = self._rows(lag)
        if isinstance(rows, list):
            return self.array[..., k][..., rows, :]
        return self.array[..., rows, :, k]

    def attribute(self, code: str) -> np.ndarray:
        if code not in self._attributes:
            self._attributes[code] = pd.to_numeric(self.units[code], errors="coerce").to_numpy(dtype=float)
        return self._attributes[code]


class CellInputs:
    """Engine inputs read from one array per measure: ``cells[code]`` has shape (..., months, units) for
    the months ``months[code]`` of that measure only (the cells a method reads, no dense panel).

    ``measure(code, lag)`` is the figure of ``month - lag``, shape (..., units); ``noise_free`` as
    for :class:`ArrayInputs`.
    """

    def __init__(self, cells: dict[str, np.ndarray], months: dict[str, list[str]], units: pd.DataFrame, month: str,
                 noise_free: bool = False, attributes: dict[str, np.ndarray] | None = None):
        self.cells = cells
        now = month_number(month)
        self.rows = {code: {now - month_number(m): t for t, m in enumerate(ms)} for code, ms in months.items()}
        self.units = units
        self.month = month
        self.noise_free = noise_free
        self.attributes = {} if attributes is None else attributes  # a cache, may be shared by many chunks

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        rows = self.rows.get(code, {})
        if lag not in rows:
            raise KeyError(f"no figures of {code} for {add_months(self.month, -lag)} (needed by a lag of {lag} "
                           f"from {self.month})")
        return self.cells[code][..., rows[lag], :]

    def take_draws(self, part: slice) -> CellInputs:
        """The same inputs for the draws ``part`` only (the axis before months; a measure without that
        axis, such as a figure fixed for every draw, is shared)."""
        out = CellInputs.__new__(CellInputs)
        out.__dict__.update(self.__dict__)
        out.cells = {c: v if v.ndim < 3 or v.shape[-3] == 1 else v[..., part, :, :] for c, v in self.cells.items()}
        return out

    def attribute(self, code: str) -> np.ndarray:
        if code not in self.attributes:
            self.attributes[code] = pd.to_numeric(self.units[code], errors="coerce").to_numpy(dtype=float)
        return self.attributes[code]


def unit_groups(units: pd.DataFrame, group_key: str = "town") -> np.ndarray:
    """The ranking group (town) of every unit; one group when the register has no such column."""
    if group_key in units.columns:
        return units[group_key].astype(str).to_numpy()
    return np.full(len(units), "all")


class TownLayout:
    """Units laid out as ``(towns, largest town)`` blocks, computed once for many scoring calls.

    ``pos[g, s]`` is the unit at slot ``s`` of town ``g`` (-1: padding), ``inverse[u]`` and
    ``slot[u]`` where unit ``u`` sits. When the register lists the units town by town in towns of
    one size (a replicated panel, or one town), blocking is a reshape of the unit axis: no copy.
    """

    def __init__(self, groups: np.ndarray):
        groups = np.asarray(groups)
        self.n_units = len(groups)
        self.pos, self.inverse = _layout(groups) if self.n_units else (np.zeros((0, 0), dtype=int), groups)
        self.single = self.pos.shape[0] <= 1
        self.reshape = bool(self.n_units) and self.pos.size == self.n_units and bool(
            np.array_equal(self.pos.ravel(), np.arange(self.n_units)))
        self.slot = np.empty(self.n_units, dtype=int)
        rows, cols = np.nonzero(self.pos >= 0)
        self.slot[self.pos[rows, cols]] = cols

    @property
    def town_size(self) -> int:
        """Units in the largest town."""
        return int(self.pos.shape[1]) if self.pos.size else 0


def town_layout(groups) -> TownLayout:
    """``groups`` as a :class:`TownLayout` (returned as is when it already is one)."""
    return groups if isinstance(groups, TownLayout) else TownLayout(groups)


def score_grouped(method: Method, values: np.ndarray, deductions: dict | None = None,
                  groups: np.ndarray | TownLayout | None = None, lean: bool = False) -> Scores:
    """:func:`qyb.engine.score_values` with normalisation, ranks and stars within each group (town).

    ``values`` (..., units, indicators); ``deductions`` measure -> (..., units); ``groups`` (units,)
    labels or their :class:`TownLayout` (None: one group). Units are laid out as (groups, largest
    group) padded blocks and scored in one call; the result is returned on the original unit axis.
    ``lean``: without the indicator scores (:func:`qyb.engine.score_values`).

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    """
    values = np.asarray(values, dtype=float)
    shape = values.shape[:-1]
    deductions = {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in (deductions or {}).items()}
    layout = None if groups is None else town_layout(groups)
    if layout is None or layout.single:
        return score_values(method, values, deductions or None, lean=lean)
    lead = shape[:-1]
    G, S = layout.pos.shape
    if layout.reshape:  # units already town by town, towns of one size: blocks are a view
        blocks = values.reshape(*lead, G, S, values.shape[-1])
        block_ded = {k: v.reshape(*lead, G, S) for k, v in deductions.items()}
        scored = score_values(method, blocks, block_ded or None, lean=lean)
        return scored.map(lambda a: a.reshape(*lead, layout.n_units, *a.shape[len(lead) + 2:]))
    pos = layout.pos
    pad = np.concatenate([values, np.full((*lead, 1, values.shape[-1]), np.nan)], axis=-2)
    blocks = pad[..., pos, :]  # (..., G, Umax, I)
    present = np.broadcast_to(pos >= 0, blocks.shape[:-1])
    block_ded = {k: np.concatenate([v, np.zeros((*lead, 1))], axis=-1)[..., pos] for k, v in deductions.items()}
    scored = score_values(method, blocks, block_ded or None, present, lean=lean)
    return scored.take((*(slice(None) for _ in lead), layout.inverse, layout.slot))


def score_inputs(method: Method, inputs, groups: np.ndarray | TownLayout | None = None, lean: bool = False,
                 known: dict[str, np.ndarray] | None = None) -> Scores:
    """Indicator values of ``inputs`` (:func:`qyb.engine.indicator_values`) scored by :func:`score_grouped`.
    ``known``: indicator code -> values already computed (e.g. an indicator whose figures are the same in
    every scenario of an experiment), broadcast over the leading axes.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    """
    values = indicator_values(method, inputs, by_indicator=True, known=known)
    deductions = deduction_counts(method, inputs)
    return score_grouped(method, values, deductions, groups, lean)


#: drawn indices turned into float64 at once for their quantiles (a block of units)
QUANTILE_CELLS = 8_000_000
#: units x draws scored per engine call: the working arrays of one call stay in the CPU cache
SCORE_CELLS = 32_768


def draw_blocks(n_draws: int, n_units: int, block: int | None = None) -> list[slice]:
    """Draws ``0 .. n_draws`` in consecutive blocks of ``block`` draws (default: :data:`SCORE_CELLS` / units)."""
    block = max(1, int(block) if block else SCORE_CELLS // max(n_units, 1))
    return [slice(a, min(a + block, n_draws)) for a in range(0, n_draws, block)]


def score_blocks(method: Method, inputs: list, groups=None, fields: tuple[str, ...] = ("index", "rank", "stars")
                 ) -> list[tuple[np.ndarray, ...]]:
    """Score each engine input of ``inputs`` (:func:`score_inputs`) on the threads
    (:func:`qyb.parallel.run_tasks`); per input, the arrays ``fields`` of its scores, in order.
    Draws are scored independently, so the figures are those of scoring the inputs one by one."""
    layout = None if groups is None else town_layout(groups)

    lean = "indicator_scores" not in fields

    def one(part):
        scored = score_inputs(method, part, layout, lean)
        return tuple(getattr(scored, f) for f in fields)

    return run_tasks([lambda part=part: one(part) for part in inputs])


class RankTally:
    """Per-unit tallies of drawn ranks, stars and indices, added chunk by chunk (bounded memory).

    Ranks go into a ``(units, town size + 1)`` histogram when that is at most
    :data:`HISTOGRAM_CELLS` counts, else the drawn ranks are kept as int32; indices are kept as
    float32 for their quantiles (in one array allocated at the start when ``n_draws`` is given).
    """

    def __init__(self, n_units: int, town_size: int, published_stars: np.ndarray, top: int = 3,
                 n_draws: int | None = None):
        self.n_units, self.town_size, self.top = n_units, town_size, top
        self.published = np.asarray(published_stars, dtype=float)
        self.hist = (np.zeros((n_units, town_size + 1), dtype=np.int64)
                     if n_units * (town_size + 1) <= HISTOGRAM_CELLS else None)
        self.ranks: list[np.ndarray] = []
        self.index: list[np.ndarray] = []
        self.stored = np.empty((int(n_draws), n_units), dtype=np.float32) if n_draws else None
        self.filled = 0
        self.same = np.zeros(n_units, dtype=np.int64)
        self.n = np.zeros(n_units, dtype=np.int64)

    def add(self, rank: np.ndarray, index: np.ndarray, stars_for_same: np.ndarray) -> None:
        ok = ~np.isnan(rank)
        r = np.where(ok, rank, 0).astype(np.int64)
        if self.hist is not None:
            cells = (np.arange(self.n_units)[None, :] * (self.town_size + 1) + r)[ok]
            self.hist += np.bincount(cells, minlength=self.hist.size).reshape(self.hist.shape)
        else:
            self.ranks.append(np.where(ok, r, -1).astype(np.int32))
        if self.stored is not None and self.filled + len(index) <= len(self.stored):
            self.stored[self.filled:self.filled + len(index)] = index
            self.filled += len(index)
        else:
            self.index.append(index.astype(np.float32))
        self.same += np.sum(stars_for_same == self.published[None, :], axis=0)
        self.n += ok.sum(axis=0)

    def rank_quantiles(self, levels) -> np.ndarray:
        """(len(levels), units) quantiles by the inverted empirical CDF (numpy ``inverted_cdf``)."""
        levels = np.asarray(levels, dtype=float)
        if self.hist is not None:
            cum = np.cumsum(self.hist, axis=1)
            need = np.ceil(levels[:, None] * self.n[None, :] - 1e-9)  # F(r) >= q  <=>  cum >= q n
            need = np.maximum(need, 1)
            out = np.stack([np.argmax(cum >= k[:, None], axis=1) for k in need]).astype(float)
            return np.where(self.n[None, :] > 0, out, np.nan)
        ranks = np.concatenate(self.ranks).astype(float)
        ranks[ranks < 0] = np.nan
        return np.nanquantile(ranks, levels, axis=0, method="inverted_cdf")

    def p_at_most(self, k: int) -> np.ndarray:
        if self.hist is not None:
            hits = self.hist[:, 1:k + 1].sum(axis=1)
        else:
            ranks = np.concatenate(self.ranks)
            hits = ((ranks >= 1) & (ranks <= k)).sum(axis=0)
        return hits / np.maximum(self.n, 1)

    def index_quantiles(self, levels) -> np.ndarray:
        """(len(levels), units) quantiles of the drawn indices (numpy's default, linear), a block of units at a
        time (each unit's quantile is its own: the same figures as all at once, in bounded memory)."""
        parts = ([self.stored[:self.filled]] if self.stored is not None else []) + self.index
        drawn = parts[0] if len(parts) == 1 else np.concatenate(parts)
        out = np.empty((*np.shape(levels), self.n_units))
        step = max(1, QUANTILE_CELLS // max(len(drawn), 1))
        for a in range(0, self.n_units, step):
            out[..., a:a + step] = np.quantile(drawn[:, a:a + step].astype(float), levels, axis=0)
        return out
