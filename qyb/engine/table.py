"""The panel layer of the engine: score months of validated raw data under a method, rank within
each town, and build the scorecard (:class:`ScoreTable`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from qyb.data.months import add_months, month_number, month_range
from qyb.data.panel import Panel
from qyb.engine.deductions import deduction_counts
from qyb.engine.score import Scores, score_values
from qyb.engine.steps import merge_step_records
from qyb.engine.transforms import indicator_values
from qyb.errors import InputError, Problem
from qyb.method import Method

__all__ = ["PanelInputs", "ScoreTable", "score_panel"]

#: units scored at once (a block of whole towns): bounds the engine's working arrays, about 2 KB a unit
#: per scored month, whatever the size of the panel; a panel this small or smaller is one block
BLOCK_UNITS = 65_536


class PanelInputs:
    """Measures of a panel for a set of target months, read at a lag, as (months, units) arrays.

    ``units``: the unit positions to read (an index array or a slice; default every unit), so a
    block of towns reads only its own columns. Each (measure, lag) is read once, as the rows of
    the target months only, and kept read-only.
    """

    def __init__(self, panel: Panel, targets: list[str], lookback: int, units: np.ndarray | slice | None = None):
        first = add_months(targets[0], -lookback)
        self.months = month_range(first, targets[-1])
        self.rows = np.array([month_number(m) - month_number(first) for m in targets])
        self.panel = panel
        self.units = units
        self._cubes: dict[tuple[str, int], np.ndarray] = {}

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        key = (code, lag)
        if key not in self._cubes:
            cube = self.panel.cube(code, [self.months[r - lag] for r in self.rows], self.units)
            cube.flags.writeable = False  # shared by every indicator that reads it
            self._cubes[key] = cube
        return self._cubes[key]

    def attribute(self, code: str) -> np.ndarray:
        if code not in self.panel.units.columns:
            raise InputError(Problem(str(Path(self.panel.data_dir) / "units.csv"),
                                     f"the method divides by '{code}', which is not a column of units.csv",
                                     f"Use one of: {', '.join(map(str, self.panel.units.columns))}."))
        column = self.panel.units[code] if self.units is None else self.panel.units[code].iloc[self.units]
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)

    def missing_months(self, lag: int) -> list[str]:
        have = set(self.panel.months)
        return [self.months[r - lag] for r in self.rows if self.months[r - lag] not in have]


@dataclass(repr=False)
class ScoreTable:
    """Scores of several months of a panel under one method, with the scorecard."""

    method: Method
    months: list[str]
    units: pd.DataFrame
    scores: Scores  # arrays with axes (months, units, ...)
    groups: np.ndarray  # (units,) group label per unit
    group_key: str = "town"
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        span = f"{self.months[1]}..{self.months[-1]}" if len(self.months) > 2 else self.months[-1]
        return f"ScoreTable({self.method.name}, {span}, {len(self.units)} units, ranks within {self.group_key})"

    def scorecard(self, month: str | None = None) -> pd.DataFrame:
        """The scorecard contract: one row per unit and month (see README)."""
        months = self.months[1:] if month is None else [month]
        frames = [self._month_frame(m) for m in months]
        return pd.concat(frames, ignore_index=True)

    def _month_frame(self, month: str) -> pd.DataFrame:
        t = self.months.index(month)
        s = self.scores
        m = self.method
        frame = pd.DataFrame({
            "month": month,
            "group": self.groups,
            "unit_id": self.units.index.to_numpy(),
            "unit_name": self.units["unit_name"].to_numpy(),
            "index": s.index[t],
            "stars": pd.array(s.stars[t], dtype="Int64"),  # empty where a unit has no index (screened out,
            "rank": pd.array(s.rank[t], dtype="Int64"),    # or a spec without stars)
        })
        prev = s.rank[t - 1] if t > 0 else np.full(len(frame), np.nan)
        frame["rank_prev"] = pd.array(np.where(np.isnan(prev), np.nan, prev), dtype="Int64")
        frame["rank_change"] = frame["rank_prev"] - frame["rank"]
        for g in m.categories:
            frame[f"cat_{g.code}"] = s.nodes[g.code][t]
        for j, ind in enumerate(m.indicators):
            frame[f"ind_{ind.code}"] = s.indicator_scores[t, :, j]
        frame["imputed"] = _imputed_labels(s.imputed[t], [ind.code for ind in m.indicators])
        frame["method"] = m.name
        frame["method_hash"] = m.hash[:12]
        return frame

    def indicator_long(self, month: str) -> pd.DataFrame:
        """Tidy (unit, indicator) rows: value, score, imputed flag, category; for 体检表 and review."""
        t = self.months.index(month)
        rows = []
        for j, ind in enumerate(self.method.indicators):
            rows.append(pd.DataFrame({
                "month": month, "unit_id": self.units.index.to_numpy(), "indicator": ind.code,
                "indicator_name": ind.name, "category": self.category_of(ind.parent),
                "value": self.scores.values[t, :, j], "score": self.scores.indicator_scores[t, :, j],
                "imputed": self.scores.imputed[t, :, j],
            }))
        return pd.concat(rows, ignore_index=True)

    def category_of(self, code: str) -> str:
        parents = {g.code: g.parent for g in self.method.groups}
        while parents.get(code, self.method.root.code) != self.method.root.code:
            code = parents[code]
        return code


def _imputed_labels(imputed: np.ndarray, codes: list[str]) -> np.ndarray:
    """Per unit, the codes of its imputed indicators joined by ';' ('' when none): one string per
    distinct pattern, not per unit."""
    if not imputed.any():
        return np.full(len(imputed), "", dtype=object)
    patterns, inverse = np.unique(np.packbits(imputed, axis=1), axis=0, return_inverse=True)
    rows = np.unpackbits(patterns, axis=1, count=imputed.shape[1]).astype(bool)
    labels = np.array([";".join(c for c, hit in zip(codes, row) if hit) for row in rows], dtype=object)
    return labels[inverse.reshape(-1)]


def _layout(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of units per group: (G, Umax) positions into the unit axis, -1 for padding."""
    inverse, labels = pd.factorize(groups, sort=True)  # = np.unique(groups, return_inverse=True), by hashing
    counts = np.bincount(inverse)
    pos = np.full((len(labels), counts.max()), -1)
    order = np.argsort(inverse, kind="stable")
    slot = np.arange(len(groups)) - np.repeat(np.cumsum(counts) - counts, counts)
    pos[inverse[order], slot] = order
    return pos, inverse


def town_blocks(pos: np.ndarray, block_units: int) -> list[slice]:
    """Consecutive runs of whole towns (rows of the :func:`_layout`) of at most ``block_units`` units
    each (at least one town per block): the blocks :func:`score_panel` scores one at a time."""
    towns_per_block = max(1, int(block_units) // max(pos.shape[1], 1))
    return [slice(g, min(g + towns_per_block, len(pos))) for g in range(0, len(pos), towns_per_block)] or [slice(0, 0)]


def _positions_in_block(cpos: np.ndarray) -> np.ndarray:
    """For a block's layout (towns, Umax): each slot's position among the block's units, -1 for padding."""
    local = np.full(cpos.shape, -1)
    local[cpos >= 0] = np.arange(int((cpos >= 0).sum()))
    return local


def _as_slice(members: np.ndarray) -> np.ndarray | slice:
    """``members`` as a slice when they are consecutive positions (units of a town block listed together)."""
    if len(members) and members[-1] - members[0] == len(members) - 1 and (np.diff(members) == 1).all():
        return slice(int(members[0]), int(members[-1]) + 1)
    return members


def _unblock(parts: list, pos: np.ndarray, inverse: np.ndarray, n_units: int) -> Scores:
    """Scores of the town blocks back on the unit axis, in register order: (T, units, ...) arrays.

    One block (the usual case) is indexed straight back; several are written into arrays allocated
    once, and their step records merged into what scoring every town at once records.
    """
    slot = np.empty(n_units, dtype=int)
    block_rows, block_cols = np.nonzero(pos >= 0)
    slot[pos[block_rows, block_cols]] = block_cols
    if len(parts) == 1:
        return parts[0][2].take((slice(None), inverse, slot))
    out = None
    for towns, members, scored in parts:
        part = scored.take((slice(None), inverse[members] - towns.start, slot[members]))
        if out is None:
            out = part.map(lambda a: np.empty((a.shape[0], n_units, *a.shape[2:]), dtype=a.dtype))
        out.assign((slice(None), _as_slice(members)), part)
    out.steps = merge_step_records([p[2].steps for p in parts], [p[0].start for p in parts])
    return out


def score_panel(panel: Panel, method: Method, months: list[str], group_key: str = "town",
                block_units: int = BLOCK_UNITS) -> ScoreTable:
    """Score ``months`` (and the month before the first, for rank_prev) under ``method``.

    Ranks and stars are computed within each value of ``group_key`` (the town);
    with one town this is the usual league table. Raises InputError when the
    method's policy is ``fail`` and an indicator cannot be computed.

    Every step works within a town (normalisation, imputation, treatment, ranks and stars
    across the town's units), so towns are scored in blocks of whole towns of about
    ``block_units`` units at a time: the working arrays stay bounded however many units
    the panel holds, and the result is the same to the last bit as scoring all towns at
    once (each block is laid out exactly as in the whole panel).

    References
    ----------
    OECD/JRC (2008). *Handbook on Constructing Composite Indicators: Methodology and User Guide*.
        Paris: OECD.
    Becker W, Caperna G, Del Sorbo M, Norlén H, Papadimitriou E, Saisana M (2022). COINr: an R
        package for developing composite indicators. *Journal of Open Source Software* 7(78):4567.
    """
    targets = month_range(add_months(months[0], -1), months[-1])
    groups = (panel.units[group_key].astype(str).to_numpy() if group_key in panel.units.columns
              else np.full(len(panel.units), "all"))
    impute_key = method.impute.get("group") if method.impute is not None else None
    if impute_key is not None and impute_key not in panel.units.columns:
        raise InputError(Problem(str(panel.data_dir), f"impute.group '{impute_key}' is not a column of the unit register",
                                 f"Use one of: {', '.join(map(str, panel.units.columns))}."))
    pos, inverse = _layout(groups)
    chunks = town_blocks(pos, block_units)
    whole = len(chunks) == 1
    ids = panel.units.index.to_numpy(dtype=object)
    labels = panel.units[impute_key].astype(object).to_numpy() if impute_key is not None else None
    parts = []
    blank_deduction: InputError | None = None
    for n, towns in enumerate(chunks):
        cpos = pos[towns]  # (towns of the block, Umax) unit positions, -1 = padding
        members = cpos[cpos >= 0]  # the block's units, town by town
        # the block's arrays hold its units in `members` order (all units in register order when one block)
        local = cpos if whole else _positions_in_block(cpos)
        take = slice(None) if whole else members
        inputs = PanelInputs(panel, targets, method.history_needed(), None if whole else _as_slice(members))
        values = indicator_values(method, inputs)  # (T, units of the block, I)
        if method.missing == "fail" and np.isnan(values[1:]).any():
            every = inputs if whole else PanelInputs(panel, targets, method.history_needed())
            # the first problem in register order, as scoring the panel whole reports it
            _fail_on_missing(method, values[1:] if whole else indicator_values(method, every)[1:], every,
                             targets[1:], panel)
        if n == 0:  # 扣分 counts of every unit, checked once, before anything is scored
            every = inputs if whole else PanelInputs(panel, targets, method.history_needed())
            try:
                _fail_on_blank_deductions(method, {d["measure"]: every.measure(d["measure"])
                                                   for d in method.deductions}, targets, panel)
            except InputError as exc:
                if whole:
                    raise
                blank_deduction = exc  # raised once no block has a missing value (reported first when whole)
        if blank_deduction is not None:
            continue
        pad = np.concatenate([values, np.full(values[:, :1].shape, np.nan)], axis=1)
        blocks = pad[:, local]  # (T, towns, Umax, I); index -1 reads the padding column
        present = np.broadcast_to(local >= 0, blocks.shape[:-1])
        block_deductions = {code: np.concatenate([counts, np.zeros(counts[:, :1].shape)], axis=1)[:, local]
                            for code, counts in deduction_counts(method, inputs).items()}
        attributes = None if labels is None else {impute_key: np.append(labels[take], None)[local]}  # padding None
        unit_ids = np.append(ids[take], None)[local]
        scored = score_values(method, blocks, block_deductions, present, attributes=attributes, unit_ids=unit_ids)
        parts.append((towns, members, scored))
    if blank_deduction is not None:
        raise blank_deduction
    unblocked = _unblock(parts, pos, inverse, len(groups))
    if method.missing == "fail":
        _fail_on_unscorable(method, unblocked, targets, panel)
    lost = np.isnan(unblocked.index[1:]) & unblocked.present[1:]  # screened-out units are not errors
    if lost.any():
        bad = np.argwhere(lost)[0]
        raise InputError(Problem(str(panel.data_dir), f"no index for unit {panel.units.index[bad[1]]} "
                                 f"in {targets[1:][bad[0]]}: all its indicators are missing",
                                 "Add the missing data or choose a method with missing: impute_mean."))
    table = ScoreTable(method, targets, panel.units, unblocked, groups, group_key)
    if np.isnan(unblocked.index[0]).any():
        table.scores.rank[0] = np.nan  # no complete previous month: rank_prev stays empty
    return table


def _fail_on_blank_deductions(method: Method, deductions: dict[str, np.ndarray], months: list[str],
                              panel: Panel) -> None:
    """扣分 counts (deaths, major cases) are never guessed: a blank one is an error under every policy."""
    for code, counts in deductions.items():
        bad = np.argwhere(np.isnan(counts[1:]))
        if len(bad):
            t, u = bad[0]
            month = months[1:][t]
            have = month in set(panel.months)
            where = panel.files.get(month, f"{month}.csv")
            raise InputError(Problem(str(where), f"{code} for unit {panel.units.index[u]} is "
                                     f"{'blank' if have else 'missing (no data file)'}: a deduction (扣分) "
                                     "measure is never imputed", "Enter the figure (0 if there were none).",
                                     column=code))


def _fail_on_unscorable(method: Method, scores: Scores, months: list[str], panel: Panel) -> None:
    """Under policy 'fail', a present unit whose indicator score is NaN is an error, with the reason."""
    bad = np.argwhere(np.isnan(scores.indicator_scores[1:]) & scores.present[1:, :, None])
    if len(bad) == 0:
        return
    t, u, j = bad[0]
    ind = method.indicators[j]
    value = scores.values[1:][t, u, j]
    if np.isinf(value):
        why = "its value is infinite"
    elif np.isnan(value):
        why = "its value is missing and could not be imputed (no unit has a value that month)"
    else:
        why = (f"all units have the same value, and normalise {ind.normalise['method']} gives no score "
               "for that (set 'constant', e.g. 100)")
    raise InputError(Problem(str(panel.data_dir), f"{ind.name} ({ind.code}) has no score for unit "
                             f"{panel.units.index[u]} in {months[1:][t]}: {why}",
                             "Fix the method spec, or use missing: skip to drop the indicator for that month."))


def _fail_on_missing(method: Method, values: np.ndarray, inputs: PanelInputs, months: list[str],
                     panel: Panel) -> None:
    """Under policy 'fail', name the first indicator that cannot be computed and why."""
    bad = np.argwhere(np.isnan(values))
    if len(bad) == 0:
        return
    t, u, j = bad[0]
    ind = method.indicators[j]
    month = months[t]
    reason = f"{ind.name} ({ind.code}) cannot be computed for {panel.units.index[u]} in {month}"
    have = set(panel.months)
    absent = [add_months(month, -k) for k in ind.lags if add_months(month, -k) not in have]
    outside = [m for m in (add_months(month, -k) for k in ind.lags) if m in have and not panel.in_force(m)[u]]
    catalogue = panel.catalogue
    uncollected = [(code, add_months(month, -k)) for code in ind.measures.values() for k in ind.lags
                   if catalogue is not None and code in catalogue.codes
                   and not catalogue[code].collected_in(add_months(month, -k))]
    if absent:
        reason += f": no data file for {', '.join(absent)}"
        hint = f"Add {absent[0]}.csv to the data folder, or score under a method with missing: impute_mean."
    elif outside:
        reason += (f": the unit was not in force in {', '.join(outside)} (the register's valid_from/valid_to), "
                   "so the baseline it needs does not exist")
        hint = ("Record the unit's predecessor in unit_renames.csv if it was renamed, or score under a method with "
                "missing: impute_mean or skip for the months before it has a baseline.")
    elif uncollected:
        code, when = uncollected[0]
        m = catalogue[code]
        span = " ".join(f"{w} {v}" for w, v in (("from", m.first), ("until", m.last)) if v)
        reason += f": its measure {m.label} is collected {span} (the measure catalogue), not in {when}"
        hint = "Score a month in which the measure is collected, or leave the indicator out of this method."
    else:
        reason += ": a raw figure it needs is blank"
        hint = "Fill the blank cells, or use a method with missing: impute_mean."
    raise InputError(Problem(str(panel.data_dir), reason, hint))
