"""Rank uncertainty: how sure is each published rank and star? Draws x units at once, bounded memory.

A league table of 29 small units turns Poisson noise into rank movements (Goldstein &
Spiegelhalter 1996, "League tables and their limitations", JRSS A 159:385). Every published
rank gets an interval and every star a 保持星级概率 by pushing draws through the *full*
scoring method of the month (transforms, normalisation, weights, deductions, index, ranks,
stars). Two models of the draws:

* ``model="posterior"`` (the default; calibrated): the empirical-Bayes posterior of every unit's
  true rates (:mod:`qyb.sample.posterior`: gamma-Poisson for counts, beta-binomial for
  attainment, across units, over the 12 months up to the month and every month the method
  reads, so the baselines of every 压降率 are uncertain too). Each draw is a plausible *truth*:

  - the rank interval (``rank_p05``..``rank_p95``), ``rank_median`` and ``p_top3`` describe the
    **true rank**: the method applied to the drawn true figures;
  - ``p_same_stars`` (保持星级概率) is the probability that a **fresh month** (raw figures
    drawn from the drawn truth with the fitted month noise) gives the published star.

  On the sample's own truth the 90 % intervals cover the true rank 0.88-0.93 of the time,
  also for the extreme units, and the mean 保持星级概率 matches the share of units that keep
  their star (:mod:`qyb.review.reliability`, tested by seeded simulation).
* ``model="bootstrap"``: qyb's first intervals, a parametric bootstrap of the month's counts
  around the observed figures with the history held fixed (:mod:`qyb.sample.bootstrap`). It
  treats the observed month as the truth, so its intervals miss the extreme units; kept to
  show the difference.

Per unit: nominal ``rank``, ``rank_median``, ``rank_p05``, ``rank_p95`` (quantiles of the drawn
ranks by the inverted empirical CDF: the smallest rank r with ``F(r) >= q``, so whole ranks),
``p_top3 = P(rank* <= 3)`` and ``p_same_stars``; then the index interval, the settings and
``interval_method``, which says which model made every column.

Memory does not grow with the ranks drawn: draws are made ``chunk`` at a time (:func:`chunk_size`:
about 200 MB of drawn figures; only the cells the method reads are drawn), scored in blocks of
draws small enough for the CPU cache (:func:`qyb.engine.draws.draw_blocks`), every town at once
(towns as blocks of the unit axis, :class:`qyb.engine.draws.TownLayout`), and tallied into per-unit
rank histograms (``units x town size`` counts; towns of any size); the index quantiles keep the
drawn indices as float32 (4 bytes per draw and unit). Measures are drawn, and blocks scored, on
the threads of :mod:`qyb.parallel` (every measure has its own random stream). Ranks come from the
engine's sort-based :func:`qyb.engine.rank_desc`, never a units x units comparison. The same seed
gives the same figures whatever the chunk, the block and the threads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qyb.data.months import add_months, month_range
from qyb.data.panel import Panel
from qyb.engine import PanelInputs
from qyb.engine.draws import RankTally, draw_blocks, score_blocks, score_inputs, town_layout, unit_groups
from qyb.method import Method
from qyb.parallel import run_tasks
from qyb.sample.bootstrap import (
    DISPERSION_WINDOW,
    RESAMPLING_METHOD,
    bootstrap_chunks,
    bootstrap_settings,
    dispersion_table,
    draw_counts,
    draw_handled,
    resampled_measures,
    zero_prior_means,
)
from qyb.sample.model import cells_read, measures_read
from qyb.sample.posterior import POSTERIOR_WINDOW, fit_posterior, posterior_tally
from qyb.vocab import RANK_INTERVAL_SEED

__all__ = [
    "RESAMPLING_METHOD",
    "POSTERIOR_METHOD",
    "MODELS",
    "DEFAULT_SEED",
    "DISPERSION_WINDOW",
    "RANK_INTERVAL_COLUMNS",
    "resampled_measures",
    "dispersion_table",
    "zero_prior_means",
    "draw_counts",
    "draw_handled",
    "DrawInputs",
    "RankTally",
    "RankDraws",
    "rank_draws",
    "rank_intervals",
    "rank_jumps",
    "rank_summary_text",
    "summarise_draws",
    "chunk_size",
]

POSTERIOR_METHOD = ("empirical-Bayes posterior of the true rates (gamma-Poisson / beta-binomial across units, "
                    "{months}; baselines of every 压降率 included): rank_median, rank_p05, rank_p95, p_top3 and "
                    "index_p05/95 describe the true rank and index; p_same_stars = P(a fresh month drawn from the "
                    "posterior gives the published star)")
MODELS = ("posterior", "bootstrap")
DEFAULT_SEED = RANK_INTERVAL_SEED
RANK_INTERVAL_COLUMNS = ("unit_id", "rank", "rank_median", "rank_p05", "rank_p95", "p_top3", "p_same_stars")
#: working memory one chunk of draws may take (bytes); the chunk size follows from it
CHUNK_BYTES = 192 * 2 ** 20


def chunk_size(n_units: int, cells: int, requested: int | None = None) -> int:
    """Draws per chunk: ``requested``, or as many as keep one chunk's arrays within :data:`CHUNK_BYTES`.

    A chunk holds its drawn figures: ``cells`` (measure, month) figures per unit and draw, each
    drawn as a truth and as a fresh month, with the unit rates and the scores kept, about
    ``2 cells + 30`` numbers of 8 bytes per unit and draw. The engine scores a chunk in blocks
    that fit the CPU cache (:func:`qyb.engine.draws.draw_blocks`), whose working arrays do not
    grow with the chunk.
    """
    per_draw = 8 * max(n_units, 1) * (2 * max(cells, 1) + 30)
    fit = max(1, CHUNK_BYTES // per_draw)
    return int(requested) if requested else int(fit)


class DrawInputs:
    """Engine inputs for one month: ``measure(code, 0)`` is a (..., draws, units) array for a
    resampled measure (the observed (units,) figure otherwise); lags are the observed history
    (units,), broadcast against the draws by the transforms (the bootstrap model)."""

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
    """Nominal scores and the tallies of the drawn ranks / stars / indices (see :class:`RankTally`)."""

    method: Method
    month: str
    units: pd.DataFrame
    nominal_rank: np.ndarray
    nominal_stars: np.ndarray
    nominal_index: np.ndarray
    tally: RankTally
    n_draws: int
    model: str
    interval_method: str
    dispersion: pd.DataFrame | None
    seed: int | None


def rank_draws(panel: Panel, month: str, method: Method, n_draws: int = 2000,
               seed: int | None = DEFAULT_SEED, model: str = "posterior", distribution: str = "auto",
               window: int | None = None, alpha: float = 0.05, group_key: str = "town",
               chunk: int | None = None) -> RankDraws:
    """Draw ``n_draws`` plausible versions of ``month``, score each under ``method``, tally per unit.

    ``model``: "posterior" (calibrated; ``window`` months of posterior fit, default 12) or
    "bootstrap" (``distribution`` "auto" / "poisson" / "negbin"; dispersion rule on ``window``
    months before the month, default 12). Draws are processed ``chunk`` at a time (default: what
    :func:`chunk_size` allows); the result depends only on ``seed`` and ``n_draws``.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    layout = town_layout(unit_groups(panel.units, group_key))
    U = len(panel.units)
    chunk = chunk_size(U, sum(len(m) for m in cells_read(method, month).values()), chunk)
    observed = PanelInputs(panel, [month], method.history_needed())
    nominal = score_inputs(method, DrawInputs(observed, {}), layout)
    n_stars = nominal.stars
    dispersion = None
    if model == "posterior":
        post = fit_posterior(panel, month, method, window or POSTERIOR_WINDOW)
        tally = posterior_tally(post, method, month, n_draws, seed, n_stars, layout, chunk)
        label = POSTERIOR_METHOD.format(months=post.notes["months"])
    else:
        tally = RankTally(U, layout.town_size, n_stars, n_draws=n_draws)
        dispersion = _bootstrap(panel, month, method, n_draws, seed, distribution, window or DISPERSION_WINDOW,
                                alpha, layout, chunk, tally)
        label = RESAMPLING_METHOD + "; negative binomial for: " + (
            ", ".join(dispersion.loc[dispersion["distribution"] != "poisson", "measure"]) or "none")
    return RankDraws(method, month, panel.units, nominal.rank, n_stars, nominal.index, tally, int(n_draws), model,
                     label, dispersion, seed)


def _bootstrap(panel, month, method, n_draws, seed, distribution, window, alpha, layout, chunk, tally):
    """The bootstrap model's draws (see :mod:`qyb.sample.bootstrap`), tallied chunk by chunk."""
    months = [m for m in month_range(add_months(month, -max(window, method.history_needed())), month)
              if m in panel.month_pos]
    read = measures_read(method)
    data = np.stack([panel.cube(c, months) for c in read], axis=-1)
    settings = bootstrap_settings(data, months, read, panel.units, month, method, seed, distribution, window, alpha)
    for inputs in bootstrap_chunks(data, months, read, panel.units, month, settings, n_draws, chunk, run_tasks):
        d = next(iter(inputs.draws.values())).shape[-2]
        scored = score_blocks(method, [inputs.take_draws(part) for part in draw_blocks(d, len(panel.units))], layout)
        index, rank, stars = (np.concatenate([s[k] for s in scored], axis=-2) for k in range(3))
        tally.add(rank, index, stars)
    return settings.dispersion


def summarise_draws(rd: RankDraws, top: int = 3, level: float = 0.90) -> pd.DataFrame:
    """Tidy per-unit summary of :class:`RankDraws` (see :func:`rank_intervals`)."""
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    q = rd.tally.rank_quantiles([lo, 0.5, hi])
    iq = rd.tally.index_quantiles([lo, hi])
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
        "p_top3": rd.tally.p_at_most(top),
        "p_same_stars": rd.tally.same / max(rd.n_draws, 1),
        "index_p05": iq[0],
        "index_p95": iq[1],
        "level": level,
        "n_draws": rd.n_draws,
        "seed": rd.seed if rd.seed is not None else pd.NA,
        "method": rd.method.name,
        "model": rd.model,
        "interval_method": rd.interval_method,
    })
    front = list(RANK_INTERVAL_COLUMNS)
    return out[front + [c for c in out.columns if c not in front]]


def rank_intervals(panel: Panel, month: str, method: Method, n_draws: int = 2000,
                   seed: int | None = DEFAULT_SEED, model: str = "posterior", level: float = 0.90,
                   **kwargs) -> pd.DataFrame:
    """Rank intervals and 保持星级概率 for every unit of ``month`` under ``method``.

    Columns: unit_id, rank (nominal), rank_median, rank_p05, rank_p95 (the ``level`` interval,
    default 5-95%, inverted empirical CDF), p_top3 (P(rank* <= 3)), p_same_stars
    (保持星级概率), then month, unit_name, index, stars, index_p05, index_p95, level, n_draws,
    seed, method (the scoring method's name), model and interval_method (which model made each
    column; see the module docstring). Reproducible: the same ``seed`` gives the same numbers.
    """
    return summarise_draws(rank_draws(panel, month, method, n_draws, seed, model, **kwargs), level=level)


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
    posterior = "model" not in ri.columns or ri["model"].iat[0] == "posterior"
    how = ("次模拟（先按各单位近一年的数据估计其真实发案水平，再据此抽样；区间指真实名次）" if posterior
           else "次重抽样（以本月观测值为准）")
    text = (f"按 {int(ri['n_draws'].iat[0]):,} {how}（随机种子 {ri['seed'].iat[0]}，评分办法 {ri['method'].iat[0]}），"
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
