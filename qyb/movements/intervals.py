"""Rank uncertainty: resample each unit's raw counts and re-score the month, draws x units at once.

A league table of 29 small units turns Poisson noise into rank movements
(Goldstein & Spiegelhalter 1996, "League tables and their limitations", JRSS A
159:385). This module gives every published rank an interval by a parametric
bootstrap of the month's raw figures pushed through the *full* scoring method of
the month (transforms, normalisation, weights, deductions, index, ranks, stars).

Resampling rules (one draw = one plausible month):

* **counts** (every measure a rate / 压降率 / count indicator or a 扣分 rule reads
  in the scored month): ``X* ~ Poisson(x)`` with mean the observed count ``x``;
  where the measure is overdispersed, ``X* ~ NegBin(mean x, size k)``, drawn as
  the gamma-Poisson mixture ``lambda ~ Gamma(k, x/k)``, ``X* ~ Poisson(lambda)``
  (variance ``x + x^2/k``). An observed 0 is not a certain zero: its rate is drawn
  from a gamma posterior whose prior is one month at the town's rate for a unit of
  that size (:func:`draw_counts`), so rare events (deaths) stay rare.
* **the dispersion rule** (:func:`dispersion_table`), per measure, from each
  unit's own last ``window`` (12) months before the scored month, pooled across
  units: with unit means ``m_u`` and variances ``v_u`` (ddof 1) of ``n_u``
  months, the Pearson statistic ``X2 = sum_u (n_u - 1) v_u / m_u`` is compared
  with chi-square on ``sum_u (n_u - 1)`` degrees of freedom (the Poisson index of
  dispersion test, Fisher 1950 / Cochran 1954, units with ``m_u > 0``); if
  ``P(chi2 >= X2) < alpha`` (0.05) and the moment estimate
  ``1/k = sum_u (v_u - m_u) / sum_u m_u^2`` is positive (Anscombe 1949; the
  NB2 variance ``m + m^2/k``), the measure is drawn negative binomial with that
  ``k``, else Poisson. Using each unit's own mean keeps stable differences
  between units from counting as overdispersion; a trend within the 12 months
  does count (conservative: wider intervals).
* **attainment pairs** (化解率, 巡查完成率, ...): the total (what was due, planned,
  received) is fixed; ``handled* ~ Binomial(total, p)`` with ``p ~ Beta(h + 1/2, t - h + 1/2)``
  (so 100 % of a small total is not drawn as certain).
* **history**: measures at lags (the baselines of 压降率) are the observed
  figures, the same in every draw (the question is "how much does this month's
  noise move the ranks", given the past the method compares with).
* unit attributes (population) are fixed.

The draws go through :func:`qyb.transforms.indicator_values` and
:func:`qyb.score.score_values` as one (draws, units, indicators) array; ranks
and stars are taken within each town (group) as :func:`qyb.score.score_panel`
does, with one call per town, never per unit or per draw.

Per unit: nominal ``rank``, ``rank_median``, ``rank_p05``, ``rank_p95``
(quantiles of the drawn ranks by the inverted empirical CDF: the smallest rank r
with ``F(r) >= q``, so they are whole ranks), ``p_top3 = P(rank* <= 3)`` and
``p_same_stars = P(stars* = nominal stars)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from qyb.data.months import add_months, month_range
from qyb.data.panel import Panel
from qyb.engine import PanelInputs, Scores, score_values
from qyb.engine.transforms import indicator_values
from qyb.method import Method
from qyb.vocab import RANK_INTERVAL_SEED

__all__ = [
    "RESAMPLING_METHOD",
    "DEFAULT_SEED",
    "DISPERSION_WINDOW",
    "RANK_INTERVAL_COLUMNS",
    "resampled_measures",
    "dispersion_table",
    "draw_counts",
    "draw_handled",
    "DrawInputs",
    "RankDraws",
    "rank_draws",
    "rank_intervals",
    "rank_jumps",
    "rank_summary_text",
    "summarise_draws",
]

RESAMPLING_METHOD = ("parametric bootstrap of counts (Poisson / negative binomial; zero counts from a gamma "
                     "posterior with a one-month town-rate prior; attainment beta-binomial)")
DEFAULT_SEED = RANK_INTERVAL_SEED
DISPERSION_WINDOW = 12
RANK_INTERVAL_COLUMNS = ("unit_id", "rank", "rank_median", "rank_p05", "rank_p95", "p_top3", "p_same_stars")


# ---------------------------------------------------------------- which measures are drawn how
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
        x = np.asarray(cube, dtype=float)
        n = np.sum(~np.isnan(x), axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.nansum(x, axis=0) / n
            v = np.nansum((x - m) ** 2, axis=0) / (n - 1)
        use = (n >= 2) & (m > 0)
        if use.any():
            x2 = float(np.nansum((x[:, use] - m[use]) ** 2 / m[use]))
            dof = int(np.sum(n[use] - 1))
            p = float(_st.chi2.sf(x2, dof))
            inv_k = float(np.sum(v[use] - m[use]) / np.sum(m[use] ** 2))
        else:
            x2, dof, p, inv_k = np.nan, 0, np.nan, np.nan
        nb = bool(p < alpha and inv_k > 0)
        rows.append({"measure": code, "units_used": int(use.sum()), "months": int(x.shape[0]),
                     "pearson_x2": x2, "df": dof, "dispersion_index": x2 / dof if dof else np.nan,
                     "pvalue": p, "inv_size": inv_k, "size": 1.0 / inv_k if nb else np.inf,
                     "distribution": "negative binomial" if nb else "poisson"})
    return pd.DataFrame(rows, columns=["measure", "units_used", "months", "pearson_x2", "df",
                                       "dispersion_index", "pvalue", "inv_size", "size", "distribution"])


def zero_prior_means(history: np.ndarray, population: np.ndarray) -> np.ndarray | None:
    """Prior mean count per unit for an observed zero: the town's rate over the history window
    (months x units) times the unit's population, ``sum(history) / (T * sum(pop)) * pop_u``.

    None without history (then :func:`draw_counts` falls back to Jeffreys' Gamma(1/2, 1)).
    """
    h = np.asarray(history, dtype=float)
    if h.size == 0 or np.all(np.isnan(h)):
        return None
    months = np.sum(~np.isnan(h), axis=0)
    pop = np.asarray(population, dtype=float)
    rate = np.nansum(h) / np.sum(months * pop)
    return rate * pop


def draw_counts(observed: np.ndarray, n_draws: int, rng: np.random.Generator,
                size: float = np.inf, gamma_rng: np.random.Generator | None = None,
                zero_prior: np.ndarray | None = None) -> np.ndarray:
    """(n_draws, units) counts: Poisson(observed), or NegBin(mean observed, size) when size is finite.

    NegBin by the gamma-Poisson mixture: lambda ~ Gamma(shape=size, scale=observed/size),
    X ~ Poisson(lambda), so E X = observed and Var X = observed + observed^2/size.

    An observed **zero** is not a certain zero. Its rate is drawn from a gamma posterior
    whose prior is worth one month of data at the town's rate for a unit of that size,
    ``m_u`` (:func:`zero_prior_means`): prior Gamma(m_u, 1), one month with 0 events,
    posterior ``lambda ~ Gamma(m_u, 2)`` (mean m_u / 2), then ``X ~ Poisson(lambda)``.
    A rare event (deaths: m_u ~ 0.03) stays rare; a common one (fraud alerts: m_u ~ 4)
    is drawn around 2. Where the town had no event in the whole window (m_u = 0) the
    zero stays 0; without history the prior is Jeffreys' (Gamma(1/2, 1), mean 1/2).
    NaN (no figure) stays NaN in every draw. ``gamma_rng`` (default ``rng``) draws the
    gamma step for every cell, so that draws made in chunks equal draws made at once.
    """
    x = np.asarray(observed, dtype=float)
    mean = np.where(np.isnan(x), 0.0, x)
    shape = (n_draws, x.shape[-1])
    zero = mean == 0
    if zero_prior is None:
        z_shape, z_scale = np.full(x.shape, 0.5), np.full(x.shape, 1.0)
    else:
        m = np.asarray(zero_prior, dtype=float)
        z_shape, z_scale = np.where(m > 0, m, 1.0), np.where(m > 0, 0.5, 0.0)
    k = size if np.isfinite(size) else 1.0
    gamma = (gamma_rng or rng).gamma(np.broadcast_to(np.where(zero, z_shape, k), shape),
                                     np.broadcast_to(np.where(zero, z_scale, mean / k), shape))
    lam = np.where(zero, gamma, gamma if np.isfinite(size) else mean)
    out = rng.poisson(lam).astype(float)
    return np.where(np.isnan(x), np.nan, out)


def draw_handled(handled: np.ndarray, total: np.ndarray, n_draws: int,
                 rng: np.random.Generator, beta_rng: np.random.Generator | None = None) -> np.ndarray:
    """(n_draws, units) handled ~ Binomial(total, p), p ~ Beta(h + 1/2, t - h + 1/2).

    The beta step (Jeffreys posterior of the attainment rate) keeps 100 % (h = t) from being
    drawn as certain: 1 of 1 rectified is far less sure than 158 of 158. Total 0 draws 0;
    NaN stays NaN. ``beta_rng`` (default ``rng``) draws the beta step (chunk-independent draws).
    """
    h = np.asarray(handled, dtype=float)
    t = np.asarray(total, dtype=float)
    bad = np.isnan(h) | np.isnan(t)
    tt = np.where(bad, 0, t).astype(np.int64)
    hh = np.clip(np.where(bad, 0.0, h), 0, tt)
    shape = (n_draws, len(tt))
    p = (beta_rng or rng).beta(np.broadcast_to(hh + 0.5, shape), np.broadcast_to(tt - hh + 0.5, shape))
    out = rng.binomial(np.broadcast_to(tt, shape), p).astype(float)
    return np.where(bad, np.nan, out)


# ---------------------------------------------------------------- inputs for the engine
class DrawInputs:
    """Engine inputs for one month: ``measure(code, 0)`` is a (draws, units) array for a
    resampled measure (the observed (units,) figure otherwise); lags are the observed history
    (units,), broadcast against the draws by the transforms."""

    def __init__(self, observed: PanelInputs, draws: dict[str, np.ndarray]):
        self.observed = observed
        self.draws = draws

    def measure(self, code: str, lag: int = 0) -> np.ndarray:
        if lag == 0 and code in self.draws:
            return self.draws[code]
        return self.observed.measure(code, lag)[0]

    def attribute(self, code: str) -> np.ndarray:
        return self.observed.attribute(code)


@dataclass
class RankDraws:
    """Nominal scores and the drawn ranks / stars / index, arrays (draws, units)."""

    method: Method
    month: str
    units: pd.DataFrame
    nominal_rank: np.ndarray
    nominal_stars: np.ndarray
    nominal_index: np.ndarray
    rank: np.ndarray
    stars: np.ndarray
    index: np.ndarray
    dispersion: pd.DataFrame
    seed: int | None

    @property
    def n_draws(self) -> int:
        return self.rank.shape[0]


def _score_by_group(method: Method, values: np.ndarray, deductions: dict, groups: np.ndarray):
    """score_values per town (ranks and normalisation within a town); returns index, rank, stars."""
    shape = values.shape[:-1]
    index, rank, stars = (np.full(shape, np.nan) for _ in range(3))
    for g in np.unique(groups):  # one call per town, not per unit
        cols = np.flatnonzero(groups == g)
        ded = {k: np.broadcast_to(v, shape)[..., cols] for k, v in deductions.items()}
        s: Scores = score_values(method, values[..., cols, :], ded)
        index[..., cols], rank[..., cols], stars[..., cols] = s.index, s.rank, s.stars
    return index, rank, stars


def rank_draws(panel: Panel, month: str, method: Method, n_draws: int = 2000,
               seed: int | None = DEFAULT_SEED, distribution: str = "auto",
               window: int = DISPERSION_WINDOW, alpha: float = 0.05, group_key: str = "town",
               chunk: int = 5000) -> RankDraws:
    """Draw ``n_draws`` plausible versions of ``month`` and score each under ``method``.

    ``distribution``: "auto" (negative binomial for measures the dispersion rule flags,
    Poisson otherwise), "poisson" or "negbin" (NB for every count measure whose moment
    estimate of 1/k is positive). ``panel`` must hold the month, the method's history and
    ideally ``window`` months before the month (fewer months: the rule uses what there is).
    Draws are processed ``chunk`` at a time (memory). Every measure (and the gamma step of a
    negative binomial) has its own generator spawned from ``np.random.SeedSequence(seed)``,
    so the result depends only on ``seed`` and ``n_draws``, not on ``chunk``.
    Returns a :class:`RankDraws`.
    """
    if distribution not in ("auto", "poisson", "negbin"):
        raise ValueError("distribution must be 'auto', 'poisson' or 'negbin'")
    lookback = max(method.history_needed(), window)
    observed = PanelInputs(panel, [month], lookback)
    counts, pairs = resampled_measures(method)
    hist_months = [m for m in month_range(add_months(month, -window), add_months(month, -1)) if m in panel.months]
    disp = dispersion_table({c: panel.cube(c, hist_months) for c in counts}, alpha=alpha) if hist_months else \
        dispersion_table({c: np.full((0, len(panel.units)), np.nan) for c in counts}, alpha=alpha)
    if distribution == "poisson":
        sizes = {c: np.inf for c in counts}
    elif distribution == "negbin":
        sizes = {r.measure: (1.0 / r.inv_size if r.inv_size > 0 else np.inf) for r in disp.itertuples()}
    else:
        sizes = dict(zip(disp["measure"], disp["size"]))
    groups = (panel.units[group_key].astype(str).to_numpy() if group_key in panel.units.columns
              else np.full(len(panel.units), "all"))
    deduction_codes = [d["measure"] for d in method.deductions]

    nominal_values = indicator_values(method, DrawInputs(observed, {}))
    nominal_ded = {c: observed.measure(c)[0] for c in deduction_codes}
    n_index, n_rank, n_stars = _score_by_group(method, nominal_values, nominal_ded, groups)

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2 * len(counts) + 2 * len(pairs))]
    count_rng = {c: (streams[2 * i], streams[2 * i + 1]) for i, c in enumerate(counts)}
    pair_rng = {h: (streams[2 * len(counts) + 2 * i], streams[2 * len(counts) + 2 * i + 1])
                for i, (h, _) in enumerate(pairs)}
    population = panel.units["population"].to_numpy(dtype=float)
    priors = {c: zero_prior_means(panel.cube(c, hist_months), population) if hist_months else None
              for c in counts}
    parts = []
    done = 0
    while done < n_draws:
        d = min(chunk, n_draws - done)
        draws = {c: draw_counts(observed.measure(c)[0], d, count_rng[c][0], sizes[c], count_rng[c][1], priors[c])
                 for c in counts}
        for handled, total in pairs:
            draws[handled] = draw_handled(observed.measure(handled)[0], observed.measure(total)[0], d,
                                          *pair_rng[handled])
        inputs = DrawInputs(observed, draws)
        values = indicator_values(method, inputs)  # (d, U, I)
        ded = {c: inputs.measure(c) for c in deduction_codes}
        parts.append(_score_by_group(method, values, ded, groups))
        done += d
    index, rank, stars = (np.concatenate([p[k] for p in parts], axis=0) for k in range(3))
    return RankDraws(method, month, panel.units, n_rank, n_stars, n_index, rank, stars, index, disp, seed)


def summarise_draws(rd: RankDraws, top: int = 3, level: float = 0.90) -> pd.DataFrame:
    """Tidy per-unit summary of :class:`RankDraws` (see :func:`rank_intervals`)."""
    q = np.quantile(rd.rank, [(1 - level) / 2, 0.5, 1 - (1 - level) / 2], axis=0, method="inverted_cdf")
    sizes = dict(zip(rd.dispersion["measure"], rd.dispersion["distribution"]))
    out = pd.DataFrame({
        "month": rd.month,
        "unit_id": rd.units.index.to_numpy(),
        "unit_name": rd.units["unit_name"].to_numpy(),
        "index": rd.nominal_index,
        "stars": rd.nominal_stars.astype(int),
        "rank": rd.nominal_rank.astype(int),
        "rank_median": q[1],
        "rank_p05": q[0],
        "rank_p95": q[2],
        "p_top3": np.mean(rd.rank <= top, axis=0),
        "p_same_stars": np.mean(rd.stars == rd.nominal_stars[None, :], axis=0),
        "index_p05": np.quantile(rd.index, (1 - level) / 2, axis=0),
        "index_p95": np.quantile(rd.index, 1 - (1 - level) / 2, axis=0),
        "level": level,
        "n_draws": rd.n_draws,
        "seed": rd.seed if rd.seed is not None else pd.NA,
        "method": rd.method.name,
        "interval_method": RESAMPLING_METHOD + "; negative binomial for: "
        + (", ".join(k for k, v in sizes.items() if v != "poisson") or "none"),
    })
    front = list(RANK_INTERVAL_COLUMNS)
    return out[front + [c for c in out.columns if c not in front]]


def rank_intervals(panel: Panel, month: str, method: Method, n_draws: int = 2000,
                   seed: int | None = DEFAULT_SEED, distribution: str = "auto", level: float = 0.90,
                   **kwargs) -> pd.DataFrame:
    """Rank intervals for every unit of ``month`` under ``method``, by resampling counts.

    Columns: unit_id, rank (nominal), rank_median, rank_p05, rank_p95 (the ``level`` interval,
    default 5-95%, inverted empirical CDF), p_top3 (P(rank* <= 3)), p_same_stars
    (P(stars* = nominal stars)), then month, unit_name, index, stars, index_p05, index_p95,
    level, n_draws, seed, method (the scoring method's name), interval_method. Rules: see the module
    docstring. Reproducible: the same ``seed`` gives the same numbers.
    """
    return summarise_draws(rank_draws(panel, month, method, n_draws, seed, distribution, **kwargs), level=level)


def rank_jumps(now: pd.DataFrame, before: pd.DataFrame | None, min_move: int = 10) -> pd.DataFrame:
    """Units whose published rank moved by at least ``min_move`` places, with both intervals.

    ``jump_survives`` is True when the two 5-95% rank intervals do not overlap
    (rank_p95 now < rank_p05 before for a rise; the reverse for a fall): the move is larger
    than the count noise of either month can explain. Overlapping intervals do not prove the
    move is noise; they say the data cannot tell it from noise. Columns: unit_id, unit_name,
    rank_before, rank_p05_before, rank_p95_before, method_before, rank, rank_p05, rank_p95,
    method, move (positive = up), jump_survives.
    """
    cols = ["unit_id", "unit_name", "rank_before", "rank_p05_before", "rank_p95_before", "method_before",
            "rank", "rank_p05", "rank_p95", "method", "move", "jump_survives"]
    if before is None:
        return pd.DataFrame(columns=cols)
    b = before.set_index("unit_id")[["rank", "rank_p05", "rank_p95", "method"]].add_suffix("_before")
    j = now.join(b, on="unit_id")
    j["move"] = j["rank_before"] - j["rank"]
    up = (j["move"] > 0) & (j["rank_p95"] < j["rank_p05_before"])
    down = (j["move"] < 0) & (j["rank_p05"] > j["rank_p95_before"])
    j["jump_survives"] = up | down
    j = j[j["move"].abs() >= min_move].sort_values("move", key=np.abs, ascending=False)
    return j[cols].reset_index(drop=True)


def rank_summary_text(ri: pd.DataFrame, jumps: pd.DataFrame | None = None, min_move: int = 10) -> str:
    """A Chinese paragraph (markdown) on the rank intervals and the big moves."""
    width = ri["rank_p95"] - ri["rank_p05"]
    n = len(ri)
    sure_top = ri[ri["p_top3"] >= 0.9]["unit_name"].tolist()
    text = (f"按 {int(ri['n_draws'].iat[0]):,} 次重抽样（随机种子 {ri['seed'].iat[0]}，评分办法 {ri['method'].iat[0]}），"
            f"{n} 个村(社区) 排名 90% 区间（第 5–95 百分位）的宽度中位数为 {width.median():.0f} 位，"
            f"最窄 {width.min():.0f} 位、最宽 {width.max():.0f} 位；"
            f"保持现有星级的概率中位数为 {ri['p_same_stars'].median():.0%}。")
    text += (f" 前三名归属确定（P(前三) ≥ 90%）的单位：{'、'.join(sure_top)}。" if sure_top
             else " 没有一个单位进入前三名的概率达到 90%。")
    if jumps is not None and len(jumps):
        real = jumps[jumps["jump_survives"]]
        noise = jumps[~jumps["jump_survives"]]
        items = [f"{r.unit_name}：上期第 {int(r.rank_before)} 名（区间 {int(r.rank_p05_before)}–{int(r.rank_p95_before)}，"
                 f"{r.method_before}）→ 本期第 {int(r.rank)} 名（区间 {int(r.rank_p05)}–{int(r.rank_p95)}，{r.method}）"
                 for r in real.itertuples()]
        if items:
            text += (" 排名大幅变动且两期区间不重叠（变动超出计数噪声所能解释的范围）的单位：" + "；".join(items) + "。")
        if len(noise):
            text += (f" 另有 {len(noise)} 个单位排名变动 ≥ {min_move} 位，但两期区间重叠，"
                     f"无法与计数噪声区分：{'、'.join(noise['unit_name'])}。")
        if (jumps["method_before"] != jumps["method"]).any():
            text += " 注意：两期采用不同评分办法，排名变动中有一部分来自办法本身的调整，而非村(社区)情况的变化。"
    return text


#: Chinese headers the 榜单 gains from the rank intervals (code -> header)
