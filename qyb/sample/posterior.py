"""The truth of a real panel, estimated: empirical-Bayes posteriors of every unit's true rates.

On real data the expected figures are unknown. :func:`fit_posterior` fits, per measure, a
model across units over a window of months (by default the 12 months up to the scored month,
extended to every month the method reads, so the baselines of every 压降率 are included) and
returns a :class:`Posterior` that draws plausible truths (:meth:`Posterior.draw_truths`, a
:class:`~qyb.sample.model.MonthModel` with one truth per draw) and their means.

**Counts** (gamma-Poisson with month noise; Clayton & Kaldor 1987, Marshall 1991). Unit ``u``
in month ``t`` has ``x_ut ~ Poisson(theta_u e_ut G_ut)``, month noise ``G ~ Gamma(k, 1/k)``,
exposure ``e_ut = n_u r_t`` (population times the town's rate of that month,
``r_t = sum_u x_ut / sum_u n_u``, so trend and season are the town's; a constant town rate when
some month's town total is below :data:`MIN_MONTH_TOTAL`), and the unit's relative risk
``theta_u ~ Gamma(alpha, alpha / m)`` across units, constant within the window.

* month noise: ``1/k = sum (x - mu)^2 - mu) / sum mu^2`` with ``mu_ut = R_u e_ut``,
  ``R_u = S_u / E_u``, ``S_u = sum_t x_ut``, ``E_u = sum_t e_ut`` (the NB2 moment estimator of
  Anscombe 1949, residuals corrected by ``T / (T - 1)`` for the fitted unit mean); Poisson when
  not positive;
* the sum's overdispersion given theta: ``phi_u = 1 + sum_t e_ut^2 / (k E_u)`` (at theta = 1);
* prior by moments (Marshall 1991 with the overdispersion): ``m = sum S / sum E``,
  ``s^2 = sum_u E_u (R_u - m)^2 / sum E_u``, ``A = s^2 - m phi_bar / E_bar``; ``alpha = m^2 / A``
  (complete pooling, ``alpha = inf``, when ``A <= 0``);
* posterior (quasi-likelihood: the counts' information divided by ``phi_u``):
  ``theta_u ~ Gamma(alpha + S_u / phi_u, alpha / m + E_u / phi_u)``; the true figure of month
  ``t`` is ``theta_u e_ut``.

**Attainment** (beta-binomial with month noise). ``h_ut ~ Binomial(n_ut, p_u + e_ut)``,
``e ~ N(0, sigma^2)``, ``p_u ~ Beta(a, b)`` across units. ``sigma^2 = sum ((h - n P_u)^2 -
n P_u (1 - P_u)) / sum n^2`` (``P_u = H_u / N_u``); ``phi_u = 1 + sigma^2 sum_t n_ut^2 /
(pbar (1 - pbar) N_u)``; prior by moments with weights ``N_u``; posterior
``p_u ~ Beta(a + H_u / phi_u, b + (N_u - H_u) / phi_u)``. A total that never changes for any
unit (what is due, what is planned) is ``fixed``.

Every function takes arrays with any leading axes (several simulated panels at once, for the
calibration checks), and nothing loops over units, months or draws.

References: Clayton D, Kaldor J (1987), Biometrics 43:671; Marshall RJ (1991), Applied
Statistics 40:283; Anscombe FJ (1949), Biometrics 5:165; Kleinman JC (1973), JASA 68:46
(beta-binomial moments).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qyb.data.catalogue import MEASURE_BY_CODE
from qyb.data.months import add_months, month_range
from qyb.data.panel import Panel
from qyb.method import Method
from qyb.sample.model import MonthModel, cells_read, measures_read, stream

__all__ = ["MIN_MONTH_TOTAL", "POSTERIOR_WINDOW", "Posterior", "fit_posterior", "fit_arrays", "fit_counts",
           "fit_pairs", "posterior_months", "posterior_cells", "posterior_chunks", "posterior_tally", "CellDraws",
           "PosteriorChunk"]

#: months of data the posterior is fitted on (ending at the scored month), at least
POSTERIOR_WINDOW = 12
#: a month whose town total of a count is below this uses the window's constant town rate
MIN_MONTH_TOTAL = 30.0
_POOLED = 1e12  # alpha (or a + b) standing for complete pooling: no evidence of differences between units


@dataclass
class CountFit:
    """Posterior of one count measure. Arrays have leading axes ``(...)`` then ``(months, units)``
    or ``(units,)``."""

    exposure: np.ndarray  # (..., T, U) e_ut
    shape: np.ndarray  # (..., U) posterior gamma shape
    rate: np.ndarray  # (..., U) posterior gamma rate
    size: np.ndarray  # (...) month-noise gamma shape k (inf: Poisson)
    alpha: np.ndarray  # (...) prior shape (inf: pooled)
    prior_mean: np.ndarray  # (...) m

    @property
    def mean(self) -> np.ndarray:
        """(..., U) posterior mean of theta."""
        return self.shape / self.rate


@dataclass
class PairFit:
    """Posterior of one attainment rate: ``p_u ~ Beta(a, b)``; leading axes ``(...)``."""

    a: np.ndarray  # (..., U)
    b: np.ndarray  # (..., U)
    rate_sd: np.ndarray  # (...) month noise of the rate
    prior_a: np.ndarray  # (...)
    prior_b: np.ndarray  # (...)

    @property
    def mean(self) -> np.ndarray:
        return self.a / (self.a + self.b)


def fit_counts(x: np.ndarray, population: np.ndarray) -> CountFit:
    """Fit the gamma-Poisson model of one count measure: ``x`` (..., months, units), NaN = no figure.

    See the module docstring for the formulas.
    """
    x = np.asarray(x, dtype=float)
    seen = ~np.isnan(x)
    xs = np.where(seen, x, 0.0)
    n = np.broadcast_to(np.asarray(population, dtype=float), x.shape)
    n_seen = np.where(seen, n, 0.0)
    T = seen.sum(axis=-2)  # (..., U) months observed per unit
    month_total = xs.sum(axis=-1, keepdims=True)  # (..., T, 1)
    month_pop = n_seen.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_month = month_total / month_pop
        r_const = xs.sum(axis=(-2, -1), keepdims=True) / n_seen.sum(axis=(-2, -1), keepdims=True)
    low = (np.where(month_pop > 0, month_total, np.inf).min(axis=-2, keepdims=True) < MIN_MONTH_TOTAL)
    r = np.where(low, r_const, r_month)
    r = np.nan_to_num(r, nan=0.0)
    e = n * r  # (..., T, U) exposure for every month (also months without a figure)
    e_seen = np.where(seen, e, 0.0)
    S = xs.sum(axis=-2)
    E = e_seen.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.where(E > 0, S / E, 1.0)
        mu = R[..., None, :] * e_seen
        resid = np.where(seen, (xs - mu) ** 2 - mu, 0.0) * np.where(T > 1, T / np.maximum(T - 1, 1), 0.0)[..., None, :]
        inv_k = resid.sum(axis=(-2, -1)) / (np.where(seen & (T[..., None, :] > 1), mu, 0.0) ** 2).sum(axis=(-2, -1))
    inv_k = np.where(np.isfinite(inv_k) & (inv_k > 0), inv_k, 0.0)
    size = np.where(inv_k > 0, 1.0 / np.where(inv_k > 0, inv_k, 1.0), np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = 1.0 + inv_k[..., None] * (e_seen ** 2).sum(axis=-2) / np.where(E > 0, E, 1.0)
        m = S.sum(axis=-1) / E.sum(axis=-1)
        m = np.where(np.isfinite(m) & (m > 0), m, 1.0)
        s2 = (E * (R - m[..., None]) ** 2).sum(axis=-1) / E.sum(axis=-1)
        U = np.maximum((E > 0).sum(axis=-1), 1)
        e_bar = E.sum(axis=-1) / U
        phi_bar = (phi * (E > 0)).sum(axis=-1) / U
        A = s2 - m * phi_bar / e_bar
    pooled = ~(np.isfinite(A) & (A > 0))
    alpha = np.where(pooled, _POOLED, m ** 2 / np.where(pooled, 1.0, A))
    shape = alpha[..., None] + S / phi
    rate = (alpha / m)[..., None] + E / phi
    return CountFit(e, shape, rate, size, np.where(pooled, np.inf, alpha), m)


def fit_pairs(h: np.ndarray, n: np.ndarray) -> PairFit:
    """Fit the beta-binomial model of one attainment pair: handled ``h`` and total ``n`` (..., months, units)."""
    h = np.asarray(h, dtype=float)
    n = np.asarray(n, dtype=float)
    seen = ~(np.isnan(h) | np.isnan(n))
    hs, ns = np.where(seen, h, 0.0), np.where(seen, n, 0.0)
    H, N = hs.sum(axis=-2), ns.sum(axis=-2)
    T = seen.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = np.where(N > 0, H / np.where(N > 0, N, 1.0), np.nan)
        m = H.sum(axis=-1) / N.sum(axis=-1)
    m = np.clip(np.nan_to_num(m, nan=0.5), 1e-6, 1 - 1e-6)
    Pf = np.where(np.isnan(P), m[..., None], P)
    corr = np.where(T > 1, T / np.maximum(T - 1, 1), 0.0)[..., None, :]
    resid = (np.where(seen, (hs - ns * Pf[..., None, :]) ** 2 - ns * Pf[..., None, :] * (1 - Pf[..., None, :]), 0.0)
             * corr)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_e = resid.sum(axis=(-2, -1)) / (np.where(corr > 0, ns, 0.0) ** 2).sum(axis=(-2, -1))
    var_e = np.where(np.isfinite(var_e) & (var_e > 0), var_e, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = 1.0 + var_e[..., None] * (ns ** 2).sum(axis=-2) / (m * (1 - m))[..., None] / np.where(N > 0, N, 1.0)
        s2 = (N * (Pf - m[..., None]) ** 2).sum(axis=-1) / N.sum(axis=-1)
        noise = m * (1 - m) * (phi * (N > 0)).sum(axis=-1) / N.sum(axis=-1)
        A = s2 - noise
    pooled = ~(np.isfinite(A) & (A > 0))
    ab = np.where(pooled, _POOLED, m * (1 - m) / np.where(pooled, 1.0, A) - 1.0)
    ab = np.where(ab > 0, ab, _POOLED)
    a0, b0 = m * ab, (1 - m) * ab
    a = a0[..., None] + H / phi
    b = b0[..., None] + (N - H) / phi
    return PairFit(a, b, np.sqrt(var_e), a0, b0)


def posterior_months(method: Method, month: str, window: int = POSTERIOR_WINDOW) -> list[str]:
    """The months the posterior is fitted on: ``window`` months ending at ``month``, extended back to
    every month the method reads for it."""
    back = max(window - 1, method.history_needed())
    return month_range(add_months(month, -back), month)


@dataclass(eq=False)
class Posterior:
    """Fitted posteriors of the true figures of ``months`` (see the module docstring).

    ``fixed``: measure -> (..., T, U) figures taken as known (what is due or planned).
    Leading axes ``(...)`` are several independent fits (simulated panels); a real panel has none.
    """

    units: pd.DataFrame
    months: list[str]
    measures: tuple[str, ...]
    counts: dict[str, CountFit]
    pairs: dict[str, PairFit]  # handled measure -> fit
    fixed: dict[str, np.ndarray]
    window: list[str]
    notes: dict = field(default_factory=dict)

    @property
    def lead(self) -> tuple[int, ...]:
        any_fit = next(iter(self.counts.values()), None)
        if any_fit is not None:
            return any_fit.shape.shape[:-1]
        fit = next(iter(self.pairs.values()))
        return fit.a.shape[:-1]

    def _kinds(self):
        kind, size, rate_sd = [], [], []
        lead = self.lead
        for code in self.measures:
            if code in self.counts:
                kind.append("count")
                size.append(np.broadcast_to(self.counts[code].size, lead))
                rate_sd.append(np.zeros(lead))
            elif code in self.pairs:
                kind.append("handled")
                size.append(np.full(lead, np.inf))
                rate_sd.append(np.broadcast_to(self.pairs[code].rate_sd, lead))
            else:
                kind.append("fixed")
                size.append(np.full(lead, np.inf))
                rate_sd.append(np.zeros(lead))
        return tuple(kind), np.stack(size, axis=-1), np.stack(rate_sd, axis=-1)

    def cell_values(self, theta: dict, p: dict, cells: dict[str, list[str]], run=None) -> dict[str, np.ndarray]:
        """Expected figures of the cells ``cells`` (measure -> months) for unit draws ``theta`` / ``p``
        (..., n, U): measure -> (..., n, len(months), U). A count is ``theta e_ut``, a fixed figure is
        as observed, a handled figure ``total x p``; a handled measure's total must be among ``cells``
        at (at least) the same months. ``run`` (a map over tasks) may compute the measures at once."""
        run = run or (lambda tasks: [task() for task in tasks])

        def rows(code):
            return [self.months.index(m) for m in cells[code]]

        def count(code):
            return theta[code][..., :, None, :] * self.counts[code].exposure[..., None, rows(code), :]

        def handled(code):
            total = MEASURE_BY_CODE[code].total
            within = [cells[total].index(m) for m in cells[code]]
            return out[total][..., within, :] * p[code][..., :, None, :]

        out: dict[str, np.ndarray] = {c: self.fixed[c][..., None, rows(c), :] for c in cells if c in self.fixed}
        first = [c for c in cells if c in self.counts]
        out.update(zip(first, run([lambda c=c: count(c) for c in first])))
        then = [c for c in cells if c in self.pairs]
        out.update(zip(then, run([lambda c=c: handled(c) for c in then])))
        return {c: out[c] for c in cells}

    def _expected(self, theta: dict, p: dict, months: list[str]) -> np.ndarray:
        """(..., n, months, units, measures) expected figures for unit draws ``theta`` / ``p`` (..., n, U)."""
        parts = self.cell_values(theta, p, {c: list(months) for c in self.measures})
        out = [parts[c] for c in self.measures]
        shape = np.broadcast_shapes(*(o.shape for o in out))
        stacked = np.empty((len(out), *shape))  # measure-major, so every measure is contiguous
        for k, o in enumerate(out):
            stacked[k] = o
        return np.moveaxis(stacked, 0, -1)

    def mean_model(self, months: list[str] | None = None) -> MonthModel:
        """The posterior means as one truth (leading axes kept)."""
        months = months or self.months
        theta = {c: f.mean[..., None, :] for c, f in self.counts.items()}
        p = {c: f.mean[..., None, :] for c, f in self.pairs.items()}
        expected = self._expected(theta, p, months)[..., 0, :, :, :]
        kind, size, rate_sd = self._kinds()
        return MonthModel(self.units, months, self.measures, expected, kind, size, rate_sd, "posterior mean")

    def streams(self, seed: int | None) -> dict[str, np.random.Generator]:
        """One random stream per measure (:func:`qyb.sample.model.stream`), for :meth:`draw_truths`."""
        return {code: stream(seed, "posterior", code) for code in (*self.counts, *self.pairs)}

    def draw_rates(self, n_draws: int, seed: int | None, streams: dict[str, np.random.Generator] | None = None,
                   run=None) -> tuple[dict, dict]:
        """``n_draws`` true relative risks ``theta`` (counts) and attainment rates ``p`` (pairs) per unit from
        the posterior: measure -> (..., n_draws, U). Every measure has its own stream (``streams``, from
        :meth:`streams`, carry on between chunks), so ``run`` (a map over tasks, e.g.
        :func:`qyb.parallel.run_tasks`) may draw them at the same time, with the same numbers."""
        lead = self.lead
        streams = streams if streams is not None else self.streams(seed)
        run = run or (lambda tasks: [task() for task in tasks])

        def theta(code):
            fit = self.counts[code]
            shape = (*lead, n_draws, fit.shape.shape[-1])
            theta = streams[code].standard_gamma(np.broadcast_to(fit.shape[..., None, :], shape))
            theta /= fit.rate[..., None, :]
            return theta

        def rate(code):
            fit = self.pairs[code]
            shape = (*lead, n_draws, fit.a.shape[-1])
            return streams[code].beta(np.broadcast_to(fit.a[..., None, :], shape),
                                      np.broadcast_to(fit.b[..., None, :], shape))

        tasks = [lambda c=c: theta(c) for c in self.counts] + [lambda c=c: rate(c) for c in self.pairs]
        drawn = run(tasks)
        return dict(zip(self.counts, drawn[:len(self.counts)])), dict(zip(self.pairs, drawn[len(self.counts):]))

    def draw_truths(self, n_draws: int, seed: int | None, months: list[str] | None = None,
                    streams: dict[str, np.random.Generator] | None = None) -> MonthModel:
        """``n_draws`` truths from the posterior: a :class:`MonthModel` whose ``expected`` has shape
        ``(..., n_draws, months, units, measures)``.

        Every measure has its own stream; pass ``streams`` (from :meth:`streams`) to draw in chunks:
        the streams carry on, so truths drawn in chunks equal the same truths drawn at once (for one
        panel; several panels are drawn in one go).
        """
        months = months or self.months
        lead = self.lead
        theta, p = self.draw_rates(n_draws, seed, streams)
        expected = self._expected(theta, p, months)
        kind, size, rate_sd = self._kinds()
        size = np.broadcast_to(size[..., None, :], (*lead, n_draws, size.shape[-1]))
        rate_sd = np.broadcast_to(rate_sd[..., None, :], (*lead, n_draws, rate_sd.shape[-1]))
        return MonthModel(self.units, months, self.measures, expected, kind, size, rate_sd,
                          f"posterior draws (seed {seed})")


def _is_fixed(total: np.ndarray) -> np.ndarray:
    """A total whose figure never changes, month to month, for any unit (what is due or planned)."""
    x = np.asarray(total, dtype=float)
    return bool(np.all(np.nanmax(x, axis=-2) == np.nanmin(x, axis=-2)))


def fit_arrays(array: np.ndarray, months: list[str], measures, units: pd.DataFrame, method: Method,
               window: list[str] | None = None) -> Posterior:
    """Fit the posterior from raw figures ``array`` (..., months, units, measures) for what ``method`` reads.

    ``window``: the months fitted on (default all of ``months``).
    """
    window = window or list(months)
    rows = [months.index(m) for m in window]
    pos = {c: k for k, c in enumerate(measures)}
    read = measures_read(method)
    population = pd.to_numeric(units["population"], errors="coerce").to_numpy(dtype=float)
    counts, pairs, fixed = {}, {}, {}
    for code in read:
        cube = array[..., pos[code]][..., rows, :]
        total = MEASURE_BY_CODE[code].total if code in MEASURE_BY_CODE else None
        if total:
            pairs[code] = fit_pairs(cube, array[..., pos[total]][..., rows, :])
        elif any(MEASURE_BY_CODE.get(h) and MEASURE_BY_CODE[h].total == code for h in read) and _is_fixed(cube):
            fixed[code] = cube
        else:
            counts[code] = fit_counts(cube, population)
    return Posterior(units, window, tuple(read), counts, pairs, fixed, window)


def fit_posterior(panel: Panel, month: str, method: Method, window: int = POSTERIOR_WINDOW) -> Posterior:
    """Fit the empirical-Bayes posterior of every measure ``method`` reads, on the panel's months
    :func:`posterior_months` (those the panel holds)."""
    months = [m for m in posterior_months(method, month, window) if m in panel.month_pos]
    missing = [m for m in method.months_read(month) if m not in panel.month_pos]
    if missing:
        raise ValueError(f"the panel holds no data for {missing[0]}, which the method reads")
    read = measures_read(method)
    array = np.stack([panel.cube(c, months) for c in read], axis=-1)
    post = fit_arrays(array, months, read, panel.units, method)
    post.notes["months"] = f"{months[0]}..{months[-1]} ({len(months)} months)"
    return post


@dataclass
class PosteriorChunk:
    """One chunk of posterior draws scored under a method: arrays ``(..., d, units)``.

    ``true_*``: the method applied to drawn truths (the posterior of the true index, rank and
    stars); ``fresh_stars``: the stars of a fresh month drawn from each truth (the posterior
    predictive, for 保持星级概率). ``start`` is the index of the chunk's first draw.
    """

    start: int
    true_index: np.ndarray
    true_rank: np.ndarray
    true_stars: np.ndarray
    fresh_stars: np.ndarray | None


@dataclass
class CellDraws:
    """One chunk of posterior draws as cells (measure -> (..., d, months of the measure, units)): the
    expected figures of the drawn truths and, when asked for, a fresh month drawn from each."""

    start: int
    n: int  # draws in the chunk
    months: dict[str, list[str]]
    truth: dict[str, np.ndarray]
    fresh: dict[str, np.ndarray] | None


def posterior_cells(post: Posterior, method: Method, month: str, n_draws: int, seed: int | None,
                    chunk: int = 1000, fresh: bool = True):
    """Draw ``n_draws`` posterior truths of ``month`` (and a fresh month from each), ``chunk`` at a time.

    Yields :class:`CellDraws` with the cells the method reads (each measure at the month and the
    baselines of every 压降率, :func:`~qyb.sample.model.cells_read`) and no other: the unit rates
    with :meth:`Posterior.draw_rates`, their expected figures with :meth:`Posterior.cell_values`,
    the fresh month with :meth:`~qyb.sample.model.MonthSampler.draw_cells` (the fitted month noise).
    The measures are drawn on the threads (:mod:`qyb.parallel`); every measure has its own
    streams, so the numbers depend only on the seed and ``n_draws`` (for a single panel; several
    simulated panels are drawn in one chunk).
    """
    from qyb.parallel import run_tasks

    months = [m for m in post.months if m in set(method.months_read(month))]
    lead = post.lead
    if lead:
        chunk = n_draws
    sampler = post.mean_model(months).sampler(seed, cells_read(method, month))
    cells = {code: sampler.months_of(code) for code in sampler.codes}
    _, size, rate_sd = post._kinds()
    streams = post.streams(seed)
    done = 0
    while done < n_draws:
        d = min(chunk, n_draws - done)
        theta, p = post.draw_rates(d, seed, streams, run=run_tasks)
        truth = post.cell_values(theta, p, cells, run=run_tasks)
        data = None
        if fresh:
            shape = {c: (*lead, d, *v.shape[-2:]) for c, v in truth.items()}
            means = {c: np.broadcast_to(v, shape[c]).reshape(-1, *shape[c][-2:]) for c, v in truth.items()}
            per_draw = [np.broadcast_to(a[..., None, :], (*lead, d, a.shape[-1])).reshape(-1, a.shape[-1])
                        for a in (size, rate_sd)]
            drawn = sampler.draw_cells(means, *per_draw, run=run_tasks)
            data = {c: v.reshape(shape[c]) for c, v in drawn.items()}
        yield CellDraws(done, d, cells, truth, data)
        done += d


def posterior_chunks(post: Posterior, method: Method, month: str, n_draws: int, seed: int | None,
                     chunk: int = 1000, fresh: bool = True, groups=None, block: int | None = None):
    """Score ``n_draws`` posterior truths of ``month`` under ``method``, ``chunk`` draws at a time.

    Yields :class:`PosteriorChunk`. The draws are :func:`posterior_cells`'; the truths are scored as
    noise-free figures and the fresh months as published, in blocks of ``block`` draws (default
    :func:`~qyb.engine.draws.draw_blocks`: arrays that stay in the CPU cache) on the threads
    (:func:`~qyb.engine.draws.score_blocks`). The same seed gives the same figures whatever
    ``chunk``, ``block`` and the threads are. ``groups``: the towns, as labels or a
    :class:`~qyb.engine.draws.TownLayout`.
    """
    from qyb.engine.draws import CellInputs, draw_blocks, score_blocks, town_layout, unit_groups

    layout = town_layout(unit_groups(post.units) if groups is None else groups)
    per_block = len(post.units) * max(int(np.prod(post.lead)), 1)
    attributes: dict = {}  # unit attributes (population), read once
    for part in posterior_cells(post, method, month, n_draws, seed, chunk, fresh):
        inputs = [CellInputs(part.truth, part.months, post.units, month, noise_free=True, attributes=attributes)]
        if fresh:
            inputs.append(CellInputs(part.fresh, part.months, post.units, month, attributes=attributes))
        blocks = draw_blocks(part.n, per_block, block)
        scored = score_blocks(method, [i.take_draws(b) for i in inputs for b in blocks], layout)
        true = [np.concatenate([s[k] for s in scored[:len(blocks)]], axis=-2) for k in range(3)]
        fresh_stars = np.concatenate([s[2] for s in scored[len(blocks):]], axis=-2) if fresh else None
        yield PosteriorChunk(part.start, *true, fresh_stars)


def posterior_tally(post: Posterior, method: Method, month: str, n_draws: int, seed: int | None,
                    published_stars: np.ndarray, groups=None, chunk: int = 1000):
    """Tally ``n_draws`` posterior draws of ``month`` (:func:`posterior_chunks`) per unit: the true ranks
    and indices, and how often a fresh month gives ``published_stars`` (a :class:`qyb.engine.draws.RankTally`).
    ``groups``: the towns, as labels or a :class:`~qyb.engine.draws.TownLayout`."""
    from qyb.engine.draws import RankTally, town_layout, unit_groups

    layout = town_layout(unit_groups(post.units) if groups is None else groups)
    tally = RankTally(len(post.units), layout.town_size, published_stars, n_draws=n_draws)
    for part in posterior_chunks(post, method, month, n_draws, seed, chunk, groups=layout):
        tally.add(part.true_rank, part.true_index, part.fresh_stars)
    return tally
