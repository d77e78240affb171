"""Fair stars: how much of a star is performance and how much is chance (信度分析).

Everything here simulates months from a *truth* -- the expected figure of every measure, unit
and month (:class:`qyb.sample.model.MonthModel`) -- and scores them under a method:

* on the synthetic sample the truth is known (:func:`qyb.sample.sample_truth`);
* on real data it is estimated: truths are drawn from the empirical-Bayes posterior of every
  unit's rates (:mod:`qyb.sample.posterior`) and the same figures are computed with each drawn
  truth in turn (the ``model`` column of :func:`qyb.review.fairness.fairness_review`); on the sample
  the two agree.

The true index, rank and stars of a method are the method applied to the expected figures
(:func:`qyb.sample.true_scores`). Figures (one row each in ``tables/reliability.csv``):

* **reliability** of the index and of each category score: ``1 - noise variance / between-unit
  variance``, the share of the differences between units in one month that is not chance
  (classical test theory: true-score variance over observed variance; Lord & Novick 1968;
  :func:`reliability_coefficient`);
* **P(star = truth)**: how often the published star is the true star;
* **P(keep star)**: how often a fresh month gives the same star (``sum_k p_uk^2``, unbiased);
  beside it the mean **predicted** 保持星级概率 of the rank intervals (:func:`interval_checks`);
* **rank-interval coverage**: how often the 90 % interval holds the true rank, overall, at the
  extremes (true rank <= 3 or >= n - 2) and in the middle (:func:`interval_checks`);
* **size bias**: how often a unit lands in the top or bottom three, small units (the smallest
  quarter by population) against the others, and the Spearman correlation of a unit's typical
  rank movement ``mean |rank - median rank|`` with its population;
* **responsiveness**: a unit whose true incident rates fall 30 % and stay down -- in how many
  months is its star up by one, and how often within 3 months (:func:`responsiveness`).

Nothing loops over units or draws: simulated months are ``(draws, months, units, measures)``
arrays scored by the engine in chunks.

References: Lord FM, Novick MR (1968), *Statistical Theories of Mental Test Scores*; Goldstein H,
Spiegelhalter DJ (1996), JRSS A 159:385; Hall P, Miller H (2009), Annals of Statistics 37:3929;
Marshall RJ (1991), Applied Statistics 40:283.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from qyb.data.months import add_months, month_range
from qyb.engine.draws import ArrayInputs, CellInputs, score_inputs, unit_groups
from qyb.engine.transforms import indicator_value
from qyb.method import Method
from qyb.sample.bootstrap import bootstrap_chunks, bootstrap_settings
from qyb.sample.model import MonthModel, cells_read, measures_read, stream
from qyb.sample.posterior import fit_arrays, posterior_chunks, posterior_months

__all__ = ["reliability_coefficient", "MonthDraws", "simulate_month", "month_figures", "interval_checks",
           "responsiveness", "Responsiveness", "extreme_mask", "SMALL_SHARE", "EXTREME"]

#: the smallest quarter of units by population are "small" for the size-bias figures
SMALL_SHARE = 0.25
#: a rank within this many places of the top or the bottom is "extreme"
EXTREME = 3


def reliability_coefficient(x: np.ndarray, draws_axis: int = -2, units_axis: int = -1) -> np.ndarray:
    """Share of the differences between units in one month that is not chance.

    ``x`` holds a score of every unit (``units_axis``) in every month drawn from one truth
    (``draws_axis``). With ``U`` units,

    ``noise = U / (U - 1) * mean_u Var_d(x_ud - xbar_d)``,  ``total = mean_d Var_u(x_ud)``,
    ``reliability = 1 - noise / total``

    (sample variances, ddof = 1; ``xbar_d`` the mean over units of month ``d``). For
    ``x_ud = T_u + c_d + e_ud`` with independent noise ``e`` of variance ``s^2`` the expected
    noise is ``s^2`` and the expected total ``S_T^2 + s^2`` (``S_T^2`` the variance of the true
    scores across units), so the coefficient estimates ``S_T^2 / (S_T^2 + s^2)``: true-score
    variance over observed variance (classical test theory, Lord & Novick 1968; the intraclass
    correlation of a one-way design). A shift ``c_d`` that moves every unit alike in a month
    (a town-wide good or bad month) changes no difference between units and is not counted.
    NaN-aware; NaN where the units do not differ.
    """
    x = np.moveaxis(np.asarray(x, dtype=float), (draws_axis, units_axis), (-2, -1))
    U = np.sum(~np.isnan(x), axis=-1, keepdims=True).max(axis=-2, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centred = x - np.nanmean(x, axis=-1, keepdims=True)
        noise = np.nanmean(np.nanvar(centred, axis=-2, ddof=1, keepdims=True), axis=-1, keepdims=True) * U / (U - 1)
        total = np.nanmean(np.nanvar(x, axis=-1, ddof=1, keepdims=True), axis=-2, keepdims=True)
        out = np.where(total > 0, 1.0 - noise / np.where(total > 0, total, 1.0), np.nan)
    return out[..., 0, 0]


@dataclass
class MonthDraws:
    """Scores of simulated months beside the truth they were drawn from.

    ``true_*``: ``(R, units)`` (``(R, units, categories)``) for ``R`` truths; ``index``, ``rank``,
    ``stars``: ``(R, draws, units)``, ``categories`` ``(R, draws, units, categories)``.
    """

    method: Method
    month: str
    units: pd.DataFrame
    true_index: np.ndarray
    true_rank: np.ndarray
    true_stars: np.ndarray
    true_categories: np.ndarray
    index: np.ndarray
    rank: np.ndarray
    stars: np.ndarray
    categories: np.ndarray
    seed: int | None

    @property
    def n_draws(self) -> int:
        return self.index.shape[1]


def _months_read(method: Method, month: str) -> list[str]:
    return sorted(method.months_read(month))


def simulate_month(method: Method, model: MonthModel, month: str, n_draws: int = 1000, seed: int | None = 0,
                   chunk: int = 500) -> MonthDraws:
    """Score ``n_draws`` months drawn from each truth of ``model`` under ``method`` (and the truths).

    With one truth (the sample) ``R = 1``; with ``R`` truths (posterior draws) each gets ``n_draws``
    months. The months the method reads for ``month`` (the month and its baselines) are drawn
    with the model's noise (:class:`~qyb.sample.model.MonthSampler`), ``chunk`` at a time.
    """
    months = _months_read(method, month)
    sub = model.select(months)
    groups = unit_groups(model.units)
    R = sub.n_truths
    true = score_inputs(method, ArrayInputs(sub.expected, months, sub.measures, sub.units, month, noise_free=True),
                        groups)
    lead = sub.expected.shape[:-3]
    truths = np.repeat(np.arange(R), n_draws) if lead else None
    sampler = sub.sampler(seed, cells_read(method, month))
    cell_months = {code: sampler.months_of(code) for code in sampler.codes}
    attributes: dict = {}  # unit attributes, read once for every chunk
    total = R * n_draws
    parts = []
    done = 0
    while done < total:
        d = min(chunk, total - done)
        cells = sampler.draw_chunk(d, None if truths is None else truths[done:done + d])
        s = score_inputs(method, CellInputs(cells, cell_months, sub.units, month, attributes=attributes), groups)
        parts.append((s.index, s.rank, s.stars, s.category_scores()))
        done += d
    U, C = len(model.units), len(method.categories)
    index, rank, stars = (np.concatenate([p[k] for p in parts]).reshape(R, n_draws, U) for k in range(3))
    cats = np.concatenate([p[3] for p in parts]).reshape(R, n_draws, U, C)
    shape = (R, U)
    return MonthDraws(method, month, model.units, true.index.reshape(shape), true.rank.reshape(shape),
                      true.stars.reshape(shape), true.category_scores().reshape(R, U, C), index, rank, stars, cats,
                      seed)


def extreme_mask(rank: np.ndarray, n_ranked: np.ndarray | int, k: int = EXTREME) -> np.ndarray:
    """Rank within ``k`` places of the top or of the bottom (``rank <= k`` or ``rank > n - k``)."""
    return (rank <= k) | (rank > np.asarray(n_ranked) - k)


def _town_sizes(units: pd.DataFrame) -> np.ndarray:
    groups = unit_groups(units)
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return counts[inverse]


def _small_units(units: pd.DataFrame, share: float = SMALL_SHARE) -> np.ndarray:
    pop = pd.to_numeric(units["population"], errors="coerce").to_numpy(dtype=float)
    n_small = int(np.ceil(share * len(pop)))
    order = np.argsort(pop, kind="stable")
    small = np.zeros(len(pop), dtype=bool)
    small[order[:n_small]] = True
    return small


def month_figures(sim: MonthDraws) -> dict[str, float]:
    """The truth-based figures of one simulated month (averaged over the truths).

    Keys: ``index_reliability``, ``reliability_<category>``, ``p_star_truth``, ``p_keep_star``,
    ``extreme_small``, ``extreme_other``, ``size_ratio``, ``size_corr`` (see the module docstring).
    """
    out: dict[str, float] = {}
    out["index_reliability"] = float(np.nanmean(reliability_coefficient(sim.index)))
    cat_rel = reliability_coefficient(sim.categories, draws_axis=1, units_axis=2)  # (R, C)
    for g, r in zip(sim.method.categories, np.atleast_2d(cat_rel).mean(axis=0)):
        out[f"reliability_{g.code}"] = float(r)
    out["p_star_truth"] = float(np.mean(sim.stars == sim.true_stars[:, None, :]))
    D = sim.n_draws
    p = np.stack([(sim.stars == k).mean(axis=1) for k in range(1, 6)])  # (5, R, U)
    keep = (D * (p ** 2).sum(axis=0) - 1.0) / (D - 1.0) if D > 1 else (p ** 2).sum(axis=0)
    out["p_keep_star"] = float(keep.mean())
    n_ranked = _town_sizes(sim.units)
    ext = extreme_mask(sim.rank, n_ranked).mean(axis=1)  # (R, U)
    small = _small_units(sim.units)
    out["extreme_small"] = float(ext[:, small].mean())
    out["extreme_other"] = float(ext[:, ~small].mean())
    out["size_ratio"] = out["extreme_small"] / out["extreme_other"] if out["extreme_other"] > 0 else np.nan
    med = np.quantile(sim.rank, 0.5, axis=1, method="inverted_cdf")
    movement = np.abs(sim.rank - med[:, None, :]).mean(axis=1).mean(axis=0)
    pop = pd.to_numeric(sim.units["population"], errors="coerce").to_numpy(dtype=float)
    out["size_corr"] = float(stats.spearmanr(movement, pop).statistic) if np.ptp(movement) > 0 else np.nan
    return out


# ---------------------------------------------------------------- intervals checked against the truth
def interval_checks(method: Method, truth: MonthModel, month: str, n_panels: int = 100, n_draws: int = 400,
                    seed: int | None = 0, model: str = "posterior", level: float = 0.90, window: int = 12,
                    panels_per_chunk: int = 10) -> dict[str, float]:
    """Coverage and calibration of the rank intervals, by simulating ``n_panels`` panels from ``truth``.

    Each simulated panel holds the months the interval model needs (``window`` months for the
    posterior fit or the dispersion rule, and every month the method reads); its month is scored
    as published; the rank intervals and 保持星级概率 are computed from it by ``model``
    ("posterior" or "bootstrap", as :func:`qyb.movements.rank_intervals` does, ``n_draws`` draws);
    a fresh set of months is drawn from the truth to see which units keep their star.

    Returns ``coverage_overall``, ``coverage_extreme`` (true rank <= 3 or >= n - 2),
    ``coverage_middle``, ``interval_width`` (mean p95 - p05), ``p_keep_predicted`` (mean
    保持星级概率), ``p_keep_observed`` (share of units whose fresh-month star equals the published one).
    """
    groups = unit_groups(truth.units)
    read = measures_read(method)
    if model == "posterior":
        months = posterior_months(method, month, window)
    else:
        months = month_range(add_months(month, -max(window, method.history_needed())), month)
    months = [m for m in months if m in truth.month_pos]  # the window the truth holds (the method's months: all)
    sub = truth.select(months)
    true = score_inputs(method, ArrayInputs(sub.expected, months, sub.measures, sub.units, month, noise_free=True),
                        groups)
    true_rank = true.rank
    panels = sub.sampler(seed, read).draw(n_panels)  # (R, T, U, K)
    fresh = sub.sampler(None if seed is None else seed + 1, cells_read(method, month)).draw(n_panels)
    published = score_inputs(method, ArrayInputs(panels, months, sub.measures, sub.units, month), groups)
    fresh_stars = score_inputs(method, ArrayInputs(fresh, months, sub.measures, sub.units, month), groups).stars
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    lows, highs, p_same = [], [], []
    for start in range(0, n_panels, panels_per_chunk):  # groups of panels (memory), each vectorised
        part = slice(start, min(start + panels_per_chunk, n_panels))
        data = panels[part]
        stars_pub = published.stars[part]
        if model == "posterior":
            post = fit_arrays(data, months, sub.measures, sub.units, method)
            (chunk,) = list(posterior_chunks(post, method, month, n_draws, seed, groups=groups))
            ranks, same = chunk.true_rank, chunk.fresh_stars == stars_pub[:, None, :]
        else:
            settings = bootstrap_settings(data, months, sub.measures, sub.units, month, method, seed)
            (inputs,) = list(bootstrap_chunks(data, months, sub.measures, sub.units, month, settings, n_draws,
                                              n_draws))
            s = score_inputs(method, inputs, groups)
            ranks, same = s.rank, s.stars == stars_pub[:, None, :]
        q = np.quantile(ranks, [lo_q, hi_q], axis=1, method="inverted_cdf")
        lows.append(q[0])
        highs.append(q[1])
        p_same.append(same.mean(axis=1))
    low, high, p_same = np.concatenate(lows), np.concatenate(highs), np.concatenate(p_same)
    covered = (low <= true_rank) & (true_rank <= high)
    extreme = np.broadcast_to(extreme_mask(true_rank, _town_sizes(truth.units)), covered.shape)
    def share(mask) -> float:  # NaN, not a warning, when a town is all extremes (six units or fewer)
        return float(covered[mask].mean()) if mask.any() else float("nan")

    return {"coverage_overall": float(covered.mean()), "coverage_extreme": share(extreme),
            "coverage_middle": share(~extreme), "interval_width": float((high - low).mean()),
            "p_keep_predicted": float(p_same.mean()),
            "p_keep_observed": float((fresh_stars == published.stars).mean())}


# ---------------------------------------------------------------- responsiveness to a real change
@dataclass
class Responsiveness:
    """How fast a method's star follows a sustained fall in a unit's true incident rates.

    ``curve``: one row per month after the fall starts (``h`` = 1 is the first month down):
    ``p_rise`` (share of simulations in which the unit's star is at least one above its true star
    before the fall, mean over the eligible units), ``p_rise_control`` (the same without any
    fall: chance rises) and ``p_true_rise`` (share of eligible units whose *true* star is up).
    ``units``: per unit, the true star before, whether eligible (star <= 4 and the method's own
    truth lifts it within the horizon) and its months until the star is up in half the simulations.
    """

    method: str
    factor: float
    curve: pd.DataFrame
    units: pd.DataFrame

    @property
    def months_to_rise(self) -> float:
        """The first month in which the star is up in at least half the simulations (NaN: never)."""
        hit = self.curve.loc[self.curve["p_rise"] >= 0.5, "h"]
        return float(hit.iloc[0]) if len(hit) else np.nan

    def p_rise_within(self, months: int = 3) -> float:
        """Share of simulations in which the star is up in month ``months`` of the fall."""
        row = self.curve.loc[self.curve["h"] == months]
        return float(row["p_rise"].iloc[0]) if len(row) else np.nan

    def control_within(self, months: int = 3) -> float:
        row = self.curve.loc[self.curve["h"] == months]
        return float(row["p_rise_control"].iloc[0]) if len(row) else np.nan


def responsiveness(method: Method, truth: MonthModel, month: str, factor: float = 0.7, horizon: int = 12,
                   n_draws: int = 200, seed: int | None = 0, chunk: int = 400) -> Responsiveness:
    """A sustained fall of ``1 - factor`` in one unit's expected incident counts (alerts, accidents, fires,
    deaths, major cases: :meth:`~qyb.sample.model.MonthModel.incidents`), from the month after ``month``,
    in a steady town (every month expected as ``month`` is: no trend, no season).

    Every unit in turn is the one that falls (``n_draws`` simulations each); a unit counts when its
    true star before the fall is at most 4 and the method's own truth lifts it by a star within
    ``horizon`` months. Scored month by month for ``horizon`` months; all units, draws and months
    at once per chunk.
    """
    lookback = method.history_needed()
    months = month_range(add_months(month, -lookback), add_months(month, horizon))
    targets = months[lookback + 1:]  # the months of the fall
    steady = truth.take(0) if truth.expected.ndim > 3 else truth
    steady = steady.stationary(month, months)
    groups = unit_groups(steady.units)
    U = len(steady.units)
    counts = [steady.measure_pos[c] for c in steady.incidents()]
    # scenario s: unit s falls (S = U scenarios, (S, months, units, measures)); a town-level analysis
    scen = np.broadcast_to(steady.expected, (U, *steady.expected.shape)).copy()
    unit_axis = np.arange(U)
    for k in counts:
        scen[unit_axis, lookback + 1:, unit_axis, k] *= factor
    before = score_inputs(method, ArrayInputs(steady.expected, months, steady.measures, steady.units, month,
                                              noise_free=True), groups).stars  # (U,)
    true_after = score_inputs(method, ArrayInputs(scen, months, steady.measures, steady.units, targets,
                                                  noise_free=True), groups).stars  # (S, H, U)
    own = true_after[unit_axis, :, unit_axis]  # (S, H): the falling unit's true star
    eligible = (before <= 4) & (own >= before[:, None] + 1).any(axis=1)
    chosen = np.flatnonzero(eligible)
    # common random numbers: the town's months are drawn once from the steady truth (the control); the
    # falling unit's counts after the fall are thinned, X' ~ Binomial(X, factor), which is exactly a month
    # drawn with its expected count x factor (Poisson and gamma-Poisson are closed under thinning)
    control_data = steady.sampler(seed, cells_read(method, targets)).draw(n_draws)  # (D, T, U, K)
    read = set(measures_read(method))
    thin = [k for k in counts if steady.measures[k] in read]
    # an indicator that reads no thinned measure has the control's values in every scenario: computed once
    thinned_codes = {steady.measures[k] for k in thin}
    control_inputs = ArrayInputs(control_data, months, steady.measures, steady.units, targets)
    known = {ind.code: indicator_value(method, ind, control_inputs) for ind in method.indicators
             if not thinned_codes & set(ind.measures.values())}
    control = score_inputs(method, control_inputs, groups, known=known).stars  # (D, H, U)
    control_rise = (control[:, :, chosen] >= before[chosen] + 1).mean(axis=0)  # (H, S)
    # the scenarios copy only the measures still read (thinned ones, the others of their indicators, 扣分),
    # measure-major as the sampler lays them out, so each measure's months are contiguous
    kept = sorted({steady.measure_pos[c] for ind in method.indicators if ind.code not in known
                   for c in ind.measures.values()} | {steady.measure_pos[d["measure"]] for d in method.deductions}
                  | set(thin))
    kept_codes = [steady.measures[k] for k in kept]
    by_measure = np.moveaxis(control_data, -1, 0)[kept]  # (K', D, T, U)
    rng = stream(seed, "responsiveness", "thinning")
    per_chunk = max(1, chunk // max(n_draws, 1))
    rise = np.zeros((len(chosen), n_draws, len(targets)), dtype=bool)
    for start in range(0, len(chosen), per_chunk):  # groups of falling units (memory), each vectorised
        units_ = chosen[start:start + per_chunk]
        copied = np.empty((len(kept), len(units_), *by_measure.shape[1:]))
        copied[...] = by_measure[:, None]
        data = np.moveaxis(copied, 0, -1)  # (s, D, T, U, K') view
        own_counts = control_data[:, lookback + 1:, :, :][:, :, units_, :][..., thin]  # (D, H, s, C)
        drawn = ~np.isnan(own_counts)  # (cells the method never reads stay undrawn)
        thinned = np.where(drawn, rng.binomial(np.where(drawn, own_counts, 0).astype(np.int64), factor), np.nan)
        part = np.arange(len(units_))
        block = data[:, :, lookback + 1:]  # view (s, D, H, U, K')
        for j, k in enumerate(thin):
            block[part, :, :, units_, kept.index(k)] = np.moveaxis(thinned[..., j], -1, 0)
        stars = score_inputs(method, ArrayInputs(data, months, kept_codes, steady.units, targets), groups,
                             known=known).stars  # (s, D, H, U)
        own_obs = stars[part, :, :, units_]  # (s, D, H)
        rise[start:start + len(units_)] = own_obs >= before[units_][:, None, None] + 1
    p_rise = rise.mean(axis=1)  # (S, H)
    curve = pd.DataFrame({"h": np.arange(1, len(targets) + 1), "month": targets,
                          "p_rise": p_rise.mean(axis=0) if len(chosen) else np.nan,
                          "p_rise_control": control_rise.mean(axis=1) if len(chosen) else np.nan,
                          "p_true_rise": (own[chosen] >= before[chosen, None] + 1).mean(axis=0)
                          if len(chosen) else np.nan})
    first = np.full(U, np.nan)
    if len(chosen):
        up = p_rise >= 0.5
        first[chosen] = np.where(up.any(axis=1), up.argmax(axis=1) + 1, np.nan)
    units = pd.DataFrame({"unit_id": steady.units.index.to_numpy(), "unit_name": steady.units["unit_name"].to_numpy(),
                          "true_stars_before": before, "eligible": eligible, "months_to_rise": first})
    return Responsiveness(method.name, factor, curve, units)
