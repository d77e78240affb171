"""Scoring many versions of a month at once: drawn or expected raw figures in, scores out.

The uncertainty analyses (rank intervals, the reliability analysis, the method Monte Carlo)
score thousands of plausible months. :class:`ArrayInputs` serves the transforms from an
array of raw figures ``(..., months, units, measures)`` (leading axes: draws); and
:func:`score_grouped` scores indicator values ``(..., units, indicators)`` with ranks,
normalisation and stars within each town, in one engine call (towns are laid out as padded
blocks, as :func:`qyb.engine.score_panel` does), never a loop over draws, towns or units.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from qyb.data.months import add_months
from qyb.engine.deductions import deduction_counts
from qyb.engine.score import Scores, score_values
from qyb.engine.table import _layout
from qyb.engine.transforms import indicator_values
from qyb.method import Method

__all__ = ["ArrayInputs", "RankTally", "score_grouped", "score_inputs", "unit_groups", "HISTOGRAM_CELLS"]

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

    def _row(self, month: str, lag: int) -> int:
        wanted = add_months(month, -lag)
        if wanted not in self.month_pos:
            raise KeyError(f"no figures for {wanted} (needed by a lag of {lag} from {month})")
        return self.month_pos[wanted]

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        k = self.measure_pos[code]
        if isinstance(self.month, str):
            return self.array[..., self._row(self.month, lag), :, k]
        rows = [self._row(m, lag) for m in self.month]
        return self.array[..., k][..., rows, :]

    def attribute(self, code: str) -> np.ndarray:
        return pd.to_numeric(self.units[code], errors="coerce").to_numpy(dtype=float)


def unit_groups(units: pd.DataFrame, group_key: str = "town") -> np.ndarray:
    """The ranking group (town) of every unit; one group when the register has no such column."""
    if group_key in units.columns:
        return units[group_key].astype(str).to_numpy()
    return np.full(len(units), "all")


def score_grouped(method: Method, values: np.ndarray, deductions: dict | None = None,
                  groups: np.ndarray | None = None) -> Scores:
    """:func:`qyb.engine.score_values` with normalisation, ranks and stars within each group (town).

    ``values`` (..., units, indicators); ``deductions`` measure -> (..., units); ``groups`` (units,)
    labels (None: one group). Units are laid out as (groups, largest group) padded blocks and
    scored in one call; the result is returned on the original unit axis.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    """
    values = np.asarray(values, dtype=float)
    shape = values.shape[:-1]
    deductions = {k: np.broadcast_to(np.asarray(v, dtype=float), shape) for k, v in (deductions or {}).items()}
    if groups is None or len(np.unique(groups)) == 1:
        return score_values(method, values, deductions or None)
    pos, inverse = _layout(np.asarray(groups))
    pad = np.concatenate([values, np.full((*shape[:-1], 1, values.shape[-1]), np.nan)], axis=-2)
    blocks = pad[..., pos, :]  # (..., G, Umax, I)
    present = np.broadcast_to(pos >= 0, blocks.shape[:-1])
    block_ded = {k: np.concatenate([v, np.zeros((*shape[:-1], 1))], axis=-1)[..., pos] for k, v in deductions.items()}
    scored = score_values(method, blocks, block_ded or None, present)
    slot = np.empty(len(groups), dtype=int)
    rows, cols = np.nonzero(pos >= 0)
    slot[pos[rows, cols]] = cols
    lead = tuple(slice(None) for _ in shape[:-1])
    return scored.take((*lead, inverse, slot))


def score_inputs(method: Method, inputs, groups: np.ndarray | None = None) -> Scores:
    """Indicator values of ``inputs`` (:func:`qyb.engine.indicator_values`) scored by :func:`score_grouped`.

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    """
    values = indicator_values(method, inputs)
    deductions = deduction_counts(method, inputs)
    return score_grouped(method, values, deductions, groups)


class RankTally:
    """Per-unit tallies of drawn ranks, stars and indices, added chunk by chunk (bounded memory).

    Ranks go into a ``(units, town size + 1)`` histogram when that is at most
    :data:`HISTOGRAM_CELLS` counts, else the drawn ranks are kept as int32; indices are kept as
    float32 for their quantiles.
    """

    def __init__(self, n_units: int, town_size: int, published_stars: np.ndarray, top: int = 3):
        self.n_units, self.town_size, self.top = n_units, town_size, top
        self.published = np.asarray(published_stars, dtype=float)
        self.hist = (np.zeros((n_units, town_size + 1), dtype=np.int64)
                     if n_units * (town_size + 1) <= HISTOGRAM_CELLS else None)
        self.ranks: list[np.ndarray] = []
        self.index: list[np.ndarray] = []
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
        return np.quantile(np.concatenate(self.index).astype(float), levels, axis=0)
