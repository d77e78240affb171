"""The parametric bootstrap of one month's counts (qyb's first rank intervals, kept for comparison).

One draw = the scored month's figures redrawn around the *observed* ones, the history (the
baselines of 压降率) held at the observed figures:

* **counts** (every measure a rate / 压降率 / count indicator or a 扣分 rule reads in the scored
  month): ``X* ~ Poisson(x)``; where the measure is overdispersed, ``X* ~ NegBin(mean x, size k)``,
  drawn as the gamma-Poisson mixture ``lambda ~ Gamma(k, x/k)``, ``X* ~ Poisson(lambda)``. An
  observed 0 is drawn from a gamma posterior whose prior is one month at the town's rate for a
  unit of that size (:func:`draw_counts`), so rare events stay rare.
* **the dispersion rule** (:func:`dispersion_table`), per measure, from each unit's last ``window``
  (12) months before the scored month, pooled across units: the Pearson statistic
  ``X2 = sum_u (n_u - 1) v_u / m_u`` against chi-square on ``sum_u (n_u - 1)`` degrees of freedom
  (Cochran 1954); if ``P(chi2 >= X2) < alpha`` and ``1/k = sum_u (v_u - m_u) / sum_u m_u^2 > 0``
  (Anscombe 1949), negative binomial with that ``k``, else Poisson.
* **attainment pairs**: the total fixed, ``handled* ~ Binomial(total, p)``,
  ``p ~ Beta(h + 1/2, t - h + 1/2)``.

This centres every draw on what was observed, so it treats the observed month as the truth: it
cannot see that an extreme observed rank is partly luck, and its intervals miss the extreme units
(Goldstein & Spiegelhalter 1996; Hall & Miller 2009). :mod:`qyb.sample.posterior` is the
calibrated replacement; :mod:`qyb.review.reliability` measures both.

Every function takes arrays with any leading axes (several simulated panels at once).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from qyb.data.months import add_months, month_range
from qyb.method import Method

__all__ = ["RESAMPLING_METHOD", "DISPERSION_WINDOW", "resampled_measures", "dispersion_fit", "dispersion_table",
           "zero_prior_means", "draw_counts", "draw_handled", "BootstrapDraws", "bootstrap_draws", "BootstrapInputs",
           "bootstrap_chunks", "bootstrap_settings"]

RESAMPLING_METHOD = ("parametric bootstrap of counts (Poisson / negative binomial; zero counts from a gamma "
                     "posterior with a one-month town-rate prior; attainment beta-binomial)")
DISPERSION_WINDOW = 12


def resampled_measures(method: Method) -> tuple[list[str], list[tuple[str, str]]]:
    """The month's figures the method reads: (count measures, attainment (handled, total) pairs).

    Counts: the ``value`` measure of every rate / reduction / count / value indicator and the
    measure of every deduction rule. Pairs: (handled, total) of every attainment indicator.
    """
    counts: list[str] = []
    pairs: list[tuple[str, str]] = []
    for ind in method.indicators:
        if ind.transform["type"] == "attainment":
            pair = (ind.measures["handled"], ind.measures["total"])
            if pair not in pairs:
                pairs.append(pair)
        elif ind.measures["value"] not in counts:
            counts.append(ind.measures["value"])
    for rule in method.deductions:
        if rule["measure"] not in counts:
            counts.append(rule["measure"])
    return counts, pairs


def dispersion_fit(history: np.ndarray, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """The dispersion rule on ``history`` (..., months, units) of one measure (NaN = no figure).

    Returns arrays over the leading axes: ``pearson_x2``, ``df``, ``pvalue``, ``inv_size`` (1/k),
    ``units_used`` and ``size`` (k when the measure is flagged, inf for Poisson).
    """
    x = np.asarray(history, dtype=float)
    n = np.sum(~np.isnan(x), axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nansum(x, axis=-2) / n
        v = np.nansum((x - m[..., None, :]) ** 2, axis=-2) / (n - 1)
        use = (n >= 2) & (m > 0)
        x2 = np.nansum(np.where(use[..., None, :], (x - m[..., None, :]) ** 2 / m[..., None, :], 0.0), axis=(-2, -1))
        dof = np.sum(np.where(use, n - 1, 0), axis=-1)
        inv_k = np.sum(np.where(use, v - m, 0.0), axis=-1) / np.sum(np.where(use, m ** 2, 0.0), axis=-1)
    p = np.where(dof > 0, _st.chi2.sf(x2, np.maximum(dof, 1)), np.nan)
    x2 = np.where(dof > 0, x2, np.nan)
    inv_k = np.where(dof > 0, inv_k, np.nan)
    nb = (p < alpha) & (inv_k > 0)
    size = np.where(nb, 1.0 / np.where(nb, inv_k, 1.0), np.inf)
    return {"pearson_x2": x2, "df": dof, "pvalue": p, "inv_size": inv_k, "units_used": use.sum(axis=-1),
            "size": size}


def dispersion_table(history: dict[str, np.ndarray], alpha: float = 0.05) -> pd.DataFrame:
    """Per measure: is the month-to-month variation of each unit's counts more than Poisson?

    ``history``: measure -> (months, units) array of counts (NaN = no figure), the window
    before the scored month. Pooled over units with mean m_u > 0:
    ``X2 = sum_u sum_t (x_ut - m_u)^2 / m_u`` on ``df = sum_u (n_u - 1)`` (Poisson index of
    dispersion; Cochran 1954, Biometrics 10:417), ``pvalue = P(chi2_df >= X2)``;
    ``inv_size = 1/k = sum_u (v_u - m_u) / sum_u m_u^2`` (NB2 moments, Anscombe 1949);
    ``distribution`` is "negative binomial" when pvalue < alpha and inv_size > 0, else
    "poisson"; ``size`` = k (inf for Poisson).
    """
    rows = []
    for code, cube in history.items():
        fit = dispersion_fit(cube, alpha)
        dof = int(fit["df"])
        rows.append({"measure": code, "units_used": int(fit["units_used"]), "months": int(np.shape(cube)[0]),
                     "pearson_x2": float(fit["pearson_x2"]), "df": dof,
                     "dispersion_index": float(fit["pearson_x2"]) / dof if dof else np.nan,
                     "pvalue": float(fit["pvalue"]), "inv_size": float(fit["inv_size"]), "size": float(fit["size"]),
                     "distribution": "poisson" if np.isinf(fit["size"]) else "negative binomial"})
    return pd.DataFrame(rows, columns=["measure", "units_used", "months", "pearson_x2", "df", "dispersion_index",
                                       "pvalue", "inv_size", "size", "distribution"])


def zero_prior_means(history: np.ndarray, population: np.ndarray) -> np.ndarray | None:
    """Prior mean count per unit for an observed zero: the town's rate over the history window
    (..., months, units) times the unit's population, ``sum(history) / (T * sum(pop)) * pop_u``.

    None without history (then :func:`draw_counts` falls back to Jeffreys' Gamma(1/2, 1)).
    """
    h = np.asarray(history, dtype=float)
    if h.size == 0 or np.all(np.isnan(h)):
        return None
    months = np.sum(~np.isnan(h), axis=-2)
    pop = np.asarray(population, dtype=float)
    rate = np.nansum(h, axis=(-2, -1)) / np.sum(months * pop, axis=-1)
    return rate[..., None] * pop


def draw_counts(observed: np.ndarray, n_draws: int, rng: np.random.Generator,
                size=np.inf, gamma_rng: np.random.Generator | None = None,
                zero_prior: np.ndarray | None = None) -> np.ndarray:
    """(..., n_draws, units) counts: Poisson(observed), or NegBin(mean observed, size) when size is finite.

    ``observed`` (..., units); ``size`` a number or (...) per leading index. NegBin by the
    gamma-Poisson mixture: lambda ~ Gamma(shape=size, scale=observed/size), X ~ Poisson(lambda),
    so E X = observed and Var X = observed + observed^2/size.

    An observed **zero** is not a certain zero. Its rate is drawn from a gamma posterior
    whose prior is worth one month of data at the town's rate for a unit of that size,
    ``m_u`` (:func:`zero_prior_means`): prior Gamma(m_u, 1), one month with 0 events,
    posterior ``lambda ~ Gamma(m_u, 2)`` (mean m_u / 2), then ``X ~ Poisson(lambda)``.
    Where the town had no event in the whole window (m_u = 0) the zero stays 0; without
    history the prior is Jeffreys' (Gamma(1/2, 1), mean 1/2). NaN (no figure) stays NaN.
    ``gamma_rng`` (default ``rng``) draws the gamma step for every cell, so that draws made in
    chunks equal draws made at once.
    """
    x = np.asarray(observed, dtype=float)
    mean = np.where(np.isnan(x), 0.0, x)
    shape = (*x.shape[:-1], n_draws, x.shape[-1])
    zero = mean == 0
    if zero_prior is None:
        z_shape, z_scale = np.full(x.shape, 0.5), np.full(x.shape, 1.0)
    else:
        m = np.asarray(zero_prior, dtype=float)
        z_shape, z_scale = np.where(m > 0, m, 1.0), np.where(m > 0, 0.5, 0.0)
    size = np.asarray(size, dtype=float)[..., None]  # (..., 1)
    finite = np.isfinite(size)
    k = np.where(finite, size, 1.0)
    ins = (..., None, slice(None))
    gamma = (gamma_rng or rng).gamma(np.broadcast_to(np.where(zero, z_shape, k)[ins], shape),
                                     np.broadcast_to(np.where(zero, z_scale, mean / k)[ins], shape))
    lam = np.where(zero[ins], gamma, np.where(finite[ins], gamma, mean[ins]))
    out = rng.poisson(lam).astype(float)
    return np.where(np.isnan(x)[ins], np.nan, out)


def draw_handled(handled: np.ndarray, total: np.ndarray, n_draws: int,
                 rng: np.random.Generator, beta_rng: np.random.Generator | None = None) -> np.ndarray:
    """(..., n_draws, units) handled ~ Binomial(total, p), p ~ Beta(h + 1/2, t - h + 1/2).

    The beta step (Jeffreys posterior of the attainment rate) keeps 100 % (h = t) from being
    drawn as certain: 1 of 1 rectified is far less sure than 158 of 158. Total 0 draws 0;
    NaN stays NaN. ``beta_rng`` (default ``rng``) draws the beta step (chunk-independent draws).
    """
    h = np.asarray(handled, dtype=float)
    t = np.asarray(total, dtype=float)
    bad = np.isnan(h) | np.isnan(t)
    tt = np.where(bad, 0, t).astype(np.int64)
    hh = np.clip(np.where(bad, 0.0, h), 0, tt)
    shape = (*h.shape[:-1], n_draws, h.shape[-1])
    ins = (..., None, slice(None))
    p = (beta_rng or rng).beta(np.broadcast_to((hh + 0.5)[ins], shape), np.broadcast_to((tt - hh + 0.5)[ins], shape))
    out = rng.binomial(np.broadcast_to(tt[ins], shape), p).astype(float)
    return np.where(bad[ins], np.nan, out)


@dataclass
class BootstrapDraws:
    """How the bootstrap draws one month: per count measure its size (k) and zero prior, per leading index."""

    counts: list[str]
    pairs: list[tuple[str, str]]
    sizes: dict[str, np.ndarray]
    priors: dict[str, np.ndarray | None]
    dispersion: pd.DataFrame | None
    seed: int | None

    def streams(self) -> tuple[dict, dict]:
        """The random streams, spawned from the seed in a fixed order (as qyb always drew them)."""
        n = 2 * len(self.counts) + 2 * len(self.pairs)
        s = [np.random.default_rng(q) for q in np.random.SeedSequence(self.seed).spawn(n)]
        count_rng = {c: (s[2 * i], s[2 * i + 1]) for i, c in enumerate(self.counts)}
        pair_rng = {h: (s[2 * len(self.counts) + 2 * i], s[2 * len(self.counts) + 2 * i + 1])
                    for i, (h, _) in enumerate(self.pairs)}
        return count_rng, pair_rng


def bootstrap_draws(method: Method, history: dict[str, np.ndarray], population: np.ndarray,
                    seed: int | None, distribution: str = "auto", alpha: float = 0.05) -> BootstrapDraws:
    """The bootstrap's settings from the ``window`` months before the scored month.

    ``history``: measure -> (..., months, units) figures before the month (may have 0 months).
    ``distribution``: "auto" (the dispersion rule), "poisson" or "negbin" (NB wherever 1/k > 0).
    """
    if distribution not in ("auto", "poisson", "negbin"):
        raise ValueError("distribution must be 'auto', 'poisson' or 'negbin'")
    counts, pairs = resampled_measures(method)
    sizes, priors = {}, {}
    single = all(np.ndim(history[c]) == 2 for c in counts)
    for c in counts:
        h = history[c]
        fit = dispersion_fit(h, alpha) if np.shape(h)[-2] else {"size": np.inf, "inv_size": np.nan}
        if distribution == "poisson":
            sizes[c] = np.full(np.shape(fit["size"]), np.inf)
        elif distribution == "negbin":
            inv = np.asarray(fit["inv_size"])
            sizes[c] = np.where(inv > 0, 1.0 / np.where(inv > 0, inv, 1.0), np.inf)
        else:
            sizes[c] = np.asarray(fit["size"])
        priors[c] = zero_prior_means(h, population) if np.shape(h)[-2] else None
    table = None
    if single:
        table = dispersion_table({c: history[c] for c in counts}, alpha) if all(np.shape(history[c])[0]
                                                                               for c in counts) else \
            dispersion_table({c: np.full((0, len(population)), np.nan) for c in counts}, alpha)
    return BootstrapDraws(counts, pairs, sizes, priors, table, seed)


class BootstrapInputs:
    """Engine inputs for bootstrap draws of one month from observed figures ``data`` (..., months, units,
    measures): ``measure(code, 0)`` is the drawn (..., draws, units) figure for a resampled measure;
    anything else (other measures, every lag) is the observed figure, broadcast over the draws."""

    def __init__(self, data: np.ndarray, months: list[str], measures, units: pd.DataFrame, month: str,
                 draws: dict[str, np.ndarray], month_pos: dict | None = None, measure_pos: dict | None = None,
                 attributes: dict[str, np.ndarray] | None = None):
        self.data = data
        self.month_pos = month_pos or {m: t for t, m in enumerate(months)}
        self.measure_pos = measure_pos or {c: k for k, c in enumerate(measures)}
        self.units = units
        self.month = month
        self.draws = draws
        self.attributes = {} if attributes is None else attributes  # a cache, shared with take_draws' parts

    def observed(self, code: str, lag: int = 0) -> np.ndarray:
        return self.data[..., self.month_pos[add_months(self.month, -lag)], :, self.measure_pos[code]]

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        if lag == 0 and code in self.draws:
            return self.draws[code]
        return self.observed(code, lag)[..., None, :]

    def take_draws(self, part: slice) -> BootstrapInputs:
        """The same inputs for the draws ``part`` only."""
        return BootstrapInputs(self.data, [], {}, self.units, self.month, {c: v[..., part, :] for c, v in self.draws.items()},
                               self.month_pos, self.measure_pos, self.attributes)

    def attribute(self, code: str) -> np.ndarray:
        if code not in self.attributes:
            self.attributes[code] = pd.to_numeric(self.units[code], errors="coerce").to_numpy(dtype=float)
        return self.attributes[code]


def bootstrap_settings(data: np.ndarray, months: list[str], measures, units: pd.DataFrame, month: str,
                       method: Method, seed: int | None, distribution: str = "auto", window: int = DISPERSION_WINDOW,
                       alpha: float = 0.05) -> BootstrapDraws:
    """The bootstrap's settings (:func:`bootstrap_draws`) from the ``window`` months before ``month`` in ``data``."""
    pos = {c: k for k, c in enumerate(measures)}
    hist = [m for m in month_range(add_months(month, -window), add_months(month, -1)) if m in set(months)]
    rows = [months.index(m) for m in hist]
    counts, _ = resampled_measures(method)
    history = {c: data[..., pos[c]][..., rows, :] for c in counts}
    population = pd.to_numeric(units["population"], errors="coerce").to_numpy(dtype=float)
    return bootstrap_draws(method, history, population, seed, distribution, alpha)


def bootstrap_chunks(data: np.ndarray, months: list[str], measures, units: pd.DataFrame, month: str,
                     settings: BootstrapDraws, n_draws: int, chunk: int, run=None):
    """Bootstrap draws of ``month`` from observed ``data`` (..., months, units, measures), ``chunk`` at a time.

    ``months`` must hold the month and the method's lags; ``settings`` from :func:`bootstrap_settings`.
    Yields :class:`BootstrapInputs` whose drawn measures have shape (..., d, units). ``run`` (a map
    over tasks, e.g. :func:`qyb.parallel.run_tasks`) may draw the measures at the same time.
    """
    pos = {c: k for k, c in enumerate(measures)}
    count_rng, pair_rng = settings.streams()
    t = months.index(month)
    run = run or (lambda tasks: [task() for task in tasks])
    done = 0
    while done < n_draws:
        d = min(chunk, n_draws - done)
        tasks = [lambda c=c, d=d: draw_counts(data[..., t, :, pos[c]], d, count_rng[c][0], settings.sizes[c],
                                              count_rng[c][1], settings.priors[c]) for c in settings.counts]
        tasks += [lambda h=h, total=total, d=d: draw_handled(data[..., t, :, pos[h]], data[..., t, :, pos[total]],
                                                             d, *pair_rng[h]) for h, total in settings.pairs]
        drawn = run(tasks)  # every measure has its own streams: any order, any thread, the same numbers
        draws = dict(zip([*settings.counts, *(h for h, _ in settings.pairs)], drawn))
        yield BootstrapInputs(data, months, measures, units, month, draws)
        done += d
