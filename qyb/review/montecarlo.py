"""Monte Carlo uncertainty analysis over the *modelling choices* of a method (方法不确定性).

Is a unit's rank a property of its safety, or of our weights? Following the
JRC/OECD practice (OECD/JRC *Handbook on Constructing Composite Indicators*,
2008, §§ 4.1–4.2 and Step 7; Saisana, Saltelli & Tarantola 2005, *JRSS A*
168:307; COINr ``get_sensitivity``), the uncertain choices of a method are
sampled together and the ranking is recomputed for every draw:

* **weights** of the categories (类别权重): ``uniform`` — each category weight
  independently ``w_c · (1 + s·(2u − 1))``, i.e. uniform on ``±s`` (default
  25 %) around its nominal value; or ``dirichlet`` — ``w ~ Dirichlet(κ·w̄)``
  with ``w̄`` the nominal shares and concentration ``κ`` (mean ``w̄``,
  ``Var w_c = w̄_c(1 − w̄_c)/(κ + 1)``), drawn by the inverse gamma CDF of the
  uniforms ``g_c = F⁻¹_Γ(κw̄_c)(u_c)``, ``w = g / Σg``;
* **normalisation** (标准化): ``spec`` (as the spec says: goalposts where it
  has them, min-max elsewhere), ``minmax`` (min-max 0–100 for every
  indicator), ``percentile`` (percentile ranks 0–100 for every indicator);
* **aggregation** (汇总): ``arithmetic`` or ``geometric`` (at every level of the
  tree; ``spec`` = as the spec says);
* **star rule** (星级规则): ``spec``, ``thresholds`` or ``shares``; the one the
  spec does not use is filled in with :data:`DEFAULT_SHARES` or with
  :data:`DEFAULT_THRESHOLDS` converted onto the method's index scale.

Every draw is a row of a ``(draws, factors)`` matrix of uniforms on
``[0, 1)``; a discrete choice with ``m`` options takes option
``floor(u·m)``. The same mapping serves plain Monte Carlo (i.i.d. uniforms)
and the Saltelli design of the Sobol' analysis (:func:`sobol_rank_shift`).

Vectorisation: the category scores (after the spec's category deductions)
are computed by the engine (:func:`qyb.score.score_values`) once for each
(normalisation, aggregation) option — at most a handful of ``(units,
categories)`` tables — and every draw then only re-aggregates them into the
index with its own weights, as one ``einsum`` over a ``(draws, units,
categories)`` array: ``total_du = Σ_c w_dc x_duc / Σ_c w_dc`` (arithmetic)
or ``exp(Σ_c w_dc ln max(x_duc, floor) / Σ_c w_dc)`` (geometric), the
formulas of :mod:`qyb.engine.aggregate`. Index deductions, the index scale, ranks
(:func:`qyb.score.rank_desc`) and stars (:func:`qyb.score.assign_stars`)
are the engine's own functions applied to the ``(draws, units)`` array. No
Python loop over draws or units. With no factor varied every draw equals
the engine's nominal scoring (tested: identical ranks and stars).

Category weights are perturbed; indicator weights within a category keep
their nominal values (the categories are what the published weights and the
reviewers' questions are about).
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from qyb.engine import score_panel, score_values
from qyb.engine.deductions import apply_deductions, deduction_counts
from qyb.engine.normalise import scale_index
from qyb.engine.ranks import RANK_DECIMALS, assign_stars, rank_desc
from qyb.method import Method
from qyb.review.sobol import SobolResult, saltelli_design, sobol_indices

__all__ = [
    "DEFAULT_SHARES",
    "DEFAULT_THRESHOLDS",
    "Choices",
    "MonteCarloResult",
    "UncertaintyModel",
    "method_uncertainty",
    "sobol_rank_shift",
    "star_rule",
]

#: Stars by rank shares when a spec uses thresholds (the revised 第二期 rule: 10/20/40/20/10 %).
DEFAULT_SHARES = {5: 0.1, 4: 0.2, 3: 0.4, 2: 0.2, 1: 0.1}
#: Star thresholds on a 0–100 aggregated total (the 第一期 rule), converted onto the method's index scale.
DEFAULT_THRESHOLDS = {5: 80.0, 4: 70.0, 3: 60.0, 2: 50.0}
NORMALISATIONS = ("spec", "minmax", "percentile")
AGGREGATIONS = ("spec", "arithmetic", "geometric")
STAR_RULES = ("spec", "thresholds", "shares")
MINMAX = {"method": "minmax", "low": 0.0, "high": 100.0, "constant": 100.0}
PERCENTILE = {"method": "percentile", "constant": 100.0}


@dataclass(frozen=True)
class Choices:
    """What the Monte Carlo varies. ``Choices.none()`` varies nothing (every draw = nominal).

    ``weights``: ``"uniform"`` (±``spread`` around nominal), ``"dirichlet"``
    (concentration ``concentration``) or ``"none"``; ``normalisations``,
    ``aggregations``, ``star_rules``: the options drawn with equal probability
    (one option = fixed).
    """

    weights: str = "uniform"
    spread: float = 0.25
    concentration: float = 100.0
    normalisations: tuple[str, ...] = ("spec", "minmax", "percentile")
    aggregations: tuple[str, ...] = ("arithmetic", "geometric")
    star_rules: tuple[str, ...] = ("thresholds", "shares")

    @classmethod
    def none(cls) -> Choices:
        return cls(weights="none", spread=0.0, normalisations=("spec",), aggregations=("spec",),
                   star_rules=("spec",))

    def __post_init__(self):
        if self.weights not in ("uniform", "dirichlet", "none"):
            raise ValueError(f"weights must be 'uniform', 'dirichlet' or 'none', got {self.weights!r}")
        if not 0.0 <= self.spread < 1.0:
            raise ValueError(f"spread must be in [0, 1), got {self.spread}")
        if self.concentration <= 0:
            raise ValueError(f"concentration must be > 0, got {self.concentration}")
        for name, options, allowed in (("normalisations", self.normalisations, NORMALISATIONS),
                                       ("aggregations", self.aggregations, AGGREGATIONS),
                                       ("star_rules", self.star_rules, STAR_RULES)):
            if not options:
                raise ValueError(f"{name}: give at least one option")
            bad = [o for o in options if o not in allowed]
            if bad:
                raise ValueError(f"{name}: unknown option(s) {bad}; choose from {allowed}")

    @property
    def weights_vary(self) -> bool:
        return self.weights == "dirichlet" or (self.weights == "uniform" and self.spread > 0)


def star_rule(method: Method, option: str) -> dict:
    """The star rule dict for ``option`` ('spec', 'thresholds', 'shares') under ``method``.

    'thresholds' on a spec that uses shares: :data:`DEFAULT_THRESHOLDS` mapped
    through the method's index scale (affine 60–100: ``t ↦ 60 + 0.4·t``);
    'shares' on a spec that uses thresholds: :data:`DEFAULT_SHARES`.
    """
    rule = method.stars
    if option == "spec" or option == rule["rule"]:
        return dict(rule)
    if option == "shares":
        return {"rule": "shares", "shares": dict(DEFAULT_SHARES)}
    if option == "thresholds":
        scale = method.scale
        if scale["method"] == "affine":
            conv = {k: scale["low"] + (scale["high"] - scale["low"]) * t / 100.0 for k, t in DEFAULT_THRESHOLDS.items()}
        else:
            conv = dict(DEFAULT_THRESHOLDS)
        return {"rule": "thresholds", "thresholds": conv}
    raise ValueError(f"unknown star rule option {option!r}")


def derive_choice(method: Method, normalisation: str, aggregation: str) -> Method:
    """The method with every indicator's normalisation and/or every level's aggregation replaced."""
    if normalisation == "spec" and aggregation == "spec":
        return method
    spec = copy.deepcopy(method.spec)
    changes = {}
    if normalisation != "spec":
        new = MINMAX if normalisation == "minmax" else PERCENTILE
        indicators = spec["indicators"]
        for ind in indicators:
            ind["normalise"] = dict(new)
        changes["indicators"] = indicators
    if aggregation != "spec":
        groups = spec["groups"]
        for g in groups:
            g["aggregation"] = aggregation
        index = spec["index"]
        index["aggregation"] = aggregation
        defaults = spec.get("defaults", {})
        defaults["aggregation"] = aggregation
        changes.update(groups=groups, index=index, defaults=defaults)
    return method.derive(f"{method.name}+{normalisation}+{aggregation}", **changes)


@dataclass
class MonteCarloResult:
    """Ranks and stars of every draw, with the nominal ones; summaries as tidy frames.

    ``ranks``/``stars``: ``(draws, units)``; ``samples``: the ``(draws, factors)``
    uniforms; ``choice``: per-draw option index for each discrete factor.
    """

    unit_ids: np.ndarray
    unit_names: np.ndarray
    rank_nominal: np.ndarray
    stars_nominal: np.ndarray
    ranks: np.ndarray
    stars: np.ndarray
    samples: np.ndarray
    factors: list[str]
    choice: dict[str, np.ndarray] = field(default_factory=dict)
    seed: int | None = None

    @property
    def n_draws(self) -> int:
        return self.ranks.shape[0]

    @property
    def rank_shift(self) -> np.ndarray:
        """``|rank_du − rank_nominal_u|`` per draw and unit."""
        return np.abs(self.ranks - self.rank_nominal[None, :])

    @property
    def mean_abs_rank_shift(self) -> np.ndarray:
        """Per draw: ``R̄_s = (1/U) Σ_u |rank_du − rank_nominal_u|`` (Saisana et al. 2005, eq. 9)."""
        return self.rank_shift.mean(axis=1)

    def summary(self) -> pd.DataFrame:
        """One row per unit: ``unit_id, unit_name, rank_nominal, rank_median, rank_p05, rank_p95,
        p_star_1 … p_star_5, stars_nominal``.

        Rank quantiles are order statistics of the draws (``numpy.quantile(method="inverted_cdf")``,
        Hyndman & Fan type 1), so they are ranks that occurred.
        """
        q = np.quantile(self.ranks, [0.5, 0.05, 0.95], axis=0, method="inverted_cdf")
        out = pd.DataFrame({
            "unit_id": self.unit_ids,
            "unit_name": self.unit_names,
            "rank_nominal": self.rank_nominal.astype(int),
            "rank_median": q[0].astype(int),
            "rank_p05": q[1].astype(int),
            "rank_p95": q[2].astype(int),
        })
        for k in range(1, 6):
            out[f"p_star_{k}"] = (self.stars == k).mean(axis=0)
        out["stars_nominal"] = self.stars_nominal.astype(int)
        return out

    def town(self) -> pd.DataFrame:
        """Town-level summary (one row): mean absolute rank shift (mean, 5 % and 95 % over draws),
        share of draws where the nominal first keeps rank 1, share of (draw, unit) star changes."""
        shift = self.mean_abs_rank_shift
        first = self.rank_nominal == self.rank_nominal.min()
        return pd.DataFrame([{
            "n_draws": self.n_draws,
            "n_units": len(self.unit_ids),
            "mean_abs_rank_shift": float(shift.mean()),
            "mean_abs_rank_shift_p05": float(np.quantile(shift, 0.05)),
            "mean_abs_rank_shift_p95": float(np.quantile(shift, 0.95)),
            "max_abs_rank_shift": float(self.rank_shift.max()) if self.n_draws else 0.0,
            "p_top_unchanged": float((self.ranks[:, first] == 1).all(axis=1).mean()),
            "p_star_change": float((self.stars != self.stars_nominal[None, :]).mean()),
            "seed": self.seed,
        }])


class UncertaintyModel:
    """The ranking as a vectorised function of the uncertain choices, for one month and method.

    Build it from arrays (``values`` (units, indicators) as the engine's
    ``Scores.values``, ``deductions`` measure -> (units,) counts) or with
    :meth:`from_table`. ``evaluate(samples)`` maps a ``(draws, factors)``
    array of uniforms to ``(ranks, stars)`` of shape ``(draws, units)``.
    """

    def __init__(self, method: Method, values: np.ndarray, deductions: dict[str, np.ndarray] | None = None,
                 choices: Choices | None = None, unit_ids=None, unit_names=None,
                 attributes: dict[str, np.ndarray] | None = None):
        self.method = method
        self.choices = choices or Choices()
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(method.indicators):
            raise ValueError(f"values must be (units, {len(method.indicators)} indicators), got {values.shape}")
        self.values = values
        self.deductions = {k: np.asarray(v, dtype=float) for k, v in (deductions or {}).items()}
        n_units = values.shape[0]
        self.unit_ids = np.asarray(unit_ids if unit_ids is not None else np.arange(n_units).astype(str))
        self.unit_names = np.asarray(unit_names if unit_names is not None else self.unit_ids)
        self.categories = [g.code for g in method.categories]
        w = np.array([g.weight for g in method.categories], dtype=float)
        self.nominal_weights = w
        self._engine_kw = {"attributes": attributes, "unit_ids": self.unit_ids}
        nominal = score_values(method, values, self.deductions or None, **self._engine_kw)
        self.nominal = nominal
        self.rank_nominal = nominal.rank
        self.stars_nominal = nominal.stars
        c = self.choices
        # category scores for every (normalisation, aggregation) option: (K*A, U, C)
        combos = [(n, a) for n in c.normalisations for a in c.aggregations]
        tables, geometric = [], []
        for n, a in combos:
            m = derive_choice(method, n, a)
            s = nominal if m is method else score_values(m, values, self.deductions or None, **self._engine_kw)
            tables.append(s.category_scores())
            geometric.append(m.root.aggregation)
        # the spec's own choices as one extra combination (last), for ranks_for_weights
        tables.append(nominal.category_scores())
        geometric.append(method.root.aggregation)
        cat = np.stack(tables)  # (K*A + 1, U, C)
        self._floor = np.array([g.get("floor", 1.0) for g in geometric])
        self._geometric = np.array([g["method"] == "geometric" for g in geometric])
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.log(np.maximum(cat, self._floor[:, None, None]))
        trans = np.where(self._geometric[:, None, None], logs, cat)
        self._present = (~np.isnan(cat)).astype(float)
        self._trans = np.where(np.isnan(trans), 0.0, trans)
        self._complete = bool(self._present.all())
        self._n_agg = len(c.aggregations)
        # index deductions (the spec's 扣分 targeted at the index), (U,)
        # index deductions (the spec's 扣分 targeted at the index), applied by the engine's one routine
        self._index_counts = {r["measure"]: self.deductions.get(r["measure"], np.zeros(n_units))
                              for r in method.deductions if r["target"] == method.root.code}
        self.star_rules = [star_rule(method, o) for o in c.star_rules] + [dict(method.stars)]
        # thresholds linked to every option's own index scale (no degenerate stars; see _linked_thresholds)
        spec_combo = len(tables) - 1
        self._same_as_spec = np.array([self._geometric[k] == self._geometric[spec_combo]
                                       and np.array_equal(cat[k], cat[spec_combo], equal_nan=True)
                                       for k in range(len(tables))])
        nominal_index = self._index(np.broadcast_to(w, (len(tables), w.size)), np.arange(len(tables)))
        self._thresholds = {k: self._linked_thresholds(rule, nominal_index, spec_combo)
                            for k, rule in enumerate(self.star_rules) if rule["rule"] == "thresholds"}
        # factor layout: columns of the uniform sample matrix
        self.factors: list[str] = []
        self.groups: dict[str, list[int]] = {}
        if c.weights_vary:
            self.groups["weights"] = list(range(len(self.categories)))
            self.factors += [f"w_{code}" for code in self.categories]
        for name, options in (("normalisation", c.normalisations), ("aggregation", c.aggregations),
                              ("star_rule", c.star_rules)):
            if len(options) > 1:
                self.groups[name] = [len(self.factors)]
                self.factors.append(name)

    # ---------------------------------------------------------------- construction from data
    @classmethod
    def from_table(cls, table, panel, month: str, choices: Choices | None = None) -> UncertaintyModel:
        """Model from a scored table (``qyb.scorecard.score_table``) and its panel.

        The indicator values are recomputed from the panel before the spec's data
        steps (:func:`qyb.transforms.indicator_values`), so the engine applies
        imputation/screening/treatment once, as in the published scoring. All units
        of the panel are ranked together (one town, as the barometer).
        """
        from qyb.engine import PanelInputs
        from qyb.engine.transforms import indicator_values

        method = table.method
        inputs = PanelInputs(panel, [month], method.history_needed())
        values = indicator_values(method, inputs)[0]
        deductions = {k: v[0] for k, v in deduction_counts(method, inputs).items()}
        attributes = None
        impute = getattr(method, "impute", None)
        if impute and "group" in impute and impute["group"] in panel.units.columns:
            attributes = {impute["group"]: panel.units[impute["group"]].astype(object).to_numpy()}
        return cls(method, values, deductions, choices, table.units.index.to_numpy(),
                   table.units["unit_name"].to_numpy(), attributes)

    # ---------------------------------------------------------------- the model
    @property
    def n_factors(self) -> int:
        return len(self.factors)

    def weights_of(self, samples: np.ndarray) -> np.ndarray:
        """(draws, C) category weights for the uniforms of the weight columns."""
        n = samples.shape[0]
        w0 = self.nominal_weights
        c = self.choices
        if not c.weights_vary:
            return np.broadcast_to(w0, (n, w0.size))
        u = samples[:, self.groups["weights"]]
        if c.weights == "uniform":
            return w0 * (1.0 + c.spread * (2.0 * u - 1.0))
        a = c.concentration * w0 / w0.sum()
        g = stats.gamma.ppf(np.clip(u, 1e-12, 1 - 1e-12), a)
        return g / g.sum(axis=1, keepdims=True)

    def _option(self, samples: np.ndarray, name: str, m: int) -> np.ndarray:
        if name not in self.groups:
            return np.zeros(samples.shape[0], dtype=int)
        return np.minimum((samples[:, self.groups[name][0]] * m).astype(int), m - 1)

    def evaluate(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """``(ranks, stars, choice)`` for a ``(draws, factors)`` array of uniforms in [0, 1)."""
        samples = np.asarray(samples, dtype=float)
        if samples.ndim != 2 or samples.shape[1] != self.n_factors:
            raise ValueError(f"samples must be (draws, {self.n_factors}), got {samples.shape}")
        c = self.choices
        w = self.weights_of(samples)  # (D, C)
        norm = self._option(samples, "normalisation", len(c.normalisations))
        agg = self._option(samples, "aggregation", len(c.aggregations))
        star = self._option(samples, "star_rule", len(c.star_rules))
        combo = norm * self._n_agg + agg
        ranks, stars = self._rank(w, combo, star)
        return ranks, stars, {"normalisation": norm, "aggregation": agg, "star_rule": star}

    def _linked_thresholds(self, rule: dict, nominal_index: np.ndarray, spec_combo: int) -> np.ndarray:
        """(combos, 4) star thresholds (5, 4, 3, 2 stars) on every option's own index scale.

        A threshold is a point on the spec's index scale; another normalisation (percentile ranks,
        min-max) or aggregation puts the index on another scale, where the same number means
        something else (percentile scores average about 50, so thresholds of 80/70/60/50 would give
        most units one star). Each threshold is therefore carried over by equipercentile linking
        (Kolen & Brennan 2014, ch. 2) on the nominal scoring of the month: if ``m`` units reach
        threshold ``t`` under the spec's own choices, the option's threshold is the ``m``-th
        highest nominal index under that option (+inf when ``m = 0``, -inf when every unit reaches
        it). Options that score exactly as the spec keep the spec's thresholds.
        """
        t = np.array([rule["thresholds"][k] for k in (5, 4, 3, 2)], dtype=float)
        spec = np.round(nominal_index[spec_combo], RANK_DECIMALS)
        ok = ~np.isnan(spec)
        reached = (spec[ok][None, :] >= t[:, None]).sum(axis=1)  # (4,) units at or above each threshold
        out = np.empty((nominal_index.shape[0], 4))
        for k in range(nominal_index.shape[0]):  # a handful of option combinations
            if self._same_as_spec[k]:
                out[k] = t
                continue
            ordered = np.sort(nominal_index[k][~np.isnan(nominal_index[k])])[::-1]
            out[k] = np.where(reached == 0, np.inf, np.where(reached >= ordered.size, -np.inf,
                                                             ordered[np.clip(reached - 1, 0, ordered.size - 1)]))
        return out

    def _index(self, w: np.ndarray, combo: np.ndarray) -> np.ndarray:
        """(D, U) index for per-draw category weights ``w`` (D, C) and option combinations ``combo`` (D,)."""
        x = self._trans[combo]  # (D, U, C)
        num = np.einsum("duc,dc->du", x, w)
        if self._complete:
            den = w.sum(axis=1)[:, None]
        else:
            den = np.einsum("duc,dc->du", self._present[combo], w)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = num / np.where(den > 0, den, np.nan)
        total = np.where(self._geometric[combo][:, None], np.exp(mean), mean)
        total = apply_deductions(total, self.method.deductions, self.method.root.code, self._index_counts)
        return scale_index(total, self.method.scale)

    def _rank(self, w: np.ndarray, combo: np.ndarray, star: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index, ranks and stars for per-draw category weights ``w`` (D, C), option combos and star rules."""
        index = self._index(w, combo)
        ranks = rank_desc(index)
        stars = np.zeros_like(ranks)
        for k, rule in enumerate(self.star_rules):
            pick = star == k
            if not pick.any():
                continue
            if rule["rule"] != "thresholds":
                stars[pick] = assign_stars(index[pick], ranks[pick], rule)
                continue
            for c in np.unique(combo[pick]):  # thresholds on each option's own scale
                sub = pick & (combo == c)
                linked = dict(zip((5, 4, 3, 2), self._thresholds[k][c]))
                stars[sub] = assign_stars(index[sub], ranks[sub], {"rule": "thresholds", "thresholds": linked})
        return ranks, stars

    def ranks_for_weights(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ranks, stars)`` (K, U) for K rows of category weights (a weight of 0 drops a category),
        with the spec's own normalisation, aggregation and star rule."""
        w = np.atleast_2d(np.asarray(weights, dtype=float))
        if w.shape[1] != len(self.categories):
            raise ValueError(f"weights must have {len(self.categories)} columns, got {w.shape}")
        spec_combo = np.full(w.shape[0], self._trans.shape[0] - 1)
        spec_star = np.full(w.shape[0], len(self.star_rules) - 1)
        return self._rank(w, spec_combo, spec_star)

    def run(self, n_draws: int = 10_000, seed: int | None = 0) -> MonteCarloResult:
        """Plain Monte Carlo: ``n_draws`` i.i.d. uniform rows (``numpy.random.default_rng(seed)``)."""
        rng = np.random.default_rng(seed)
        samples = rng.random((int(n_draws), self.n_factors))
        ranks, stars, choice = self.evaluate(samples)
        return MonteCarloResult(self.unit_ids, self.unit_names, self.rank_nominal, self.stars_nominal,
                                ranks, stars, samples, list(self.factors), choice, seed)

    def mean_abs_rank_shift(self, samples: np.ndarray) -> np.ndarray:
        ranks, _, _ = self.evaluate(samples)
        return np.abs(ranks - self.rank_nominal[None, :]).mean(axis=1)


def method_uncertainty(panel, month: str, method: Method, n_draws: int = 10_000, seed: int | None = 0,
                       choices: Choices | None = None) -> MonteCarloResult:
    """Monte Carlo over the modelling choices for ``month`` of a validated panel: see the module docstring.

    >>> ed = qyb.load("2023-03")                                                  # doctest: +SKIP
    >>> r = method_uncertainty(ed.panel, ed.month, ed.method, n_draws=1000, seed=1)  # doctest: +SKIP
    >>> r.summary()          # rank_nominal, rank_median, rank_p05, rank_p95, p_star_1..5
    >>> r.town()             # mean absolute rank shift
    """
    table = score_panel(panel, method, [month])
    return UncertaintyModel.from_table(table, panel, month, choices).run(n_draws, seed)


def sobol_rank_shift(model: UncertaintyModel, n: int = 1024, seed: int | None = 0, *, n_boot: int = 1000,
                     level: float = 0.95, grouped: bool = True) -> SobolResult:
    """First-order and total Sobol' indices of the mean absolute rank shift ``R̄_s`` w.r.t. each choice.

    Output: ``R̄_s = (1/U) Σ_u |rank_u − rank_nominal_u|`` (Saisana, Saltelli & Tarantola
    2005, eq. 9). Factors: ``weights`` (all category weights together, a group
    factor — Jacques et al. 2006: the indices of a group are obtained by swapping
    all its columns at once in ``AB``; with ``grouped=False`` one factor per
    category ``w_<code>``), ``normalisation``, ``aggregation``, ``star_rule``
    (the star rule does not move ranks, so its indices are 0: a check).
    Design: :func:`qyb.sensitivity.saltelli_design` (scrambled Sobol', ``n``
    rows, a power of two), estimators and percentile bootstrap intervals of
    :func:`qyb.sensitivity.sobol_indices` (Saltelli 2010 S1, Jansen ST).
    The model is evaluated once on all ``n·(g+2)`` rows. Seeded.
    """
    if model.n_factors == 0:
        raise ValueError("nothing varies: give Choices with at least one uncertain choice")
    groups = model.groups if grouped else {f: [j] for j, f in enumerate(model.factors)}
    names = list(groups)
    ss = np.random.SeedSequence(seed)
    design_seed, boot_seed = ss.spawn(2)
    A, B, _ = saltelli_design(n, model.n_factors, np.random.default_rng(design_seed))
    AB = np.broadcast_to(A, (len(names), *A.shape)).copy()
    for g, name in enumerate(names):
        cols = groups[name]
        AB[g][:, cols] = B[:, cols]
    X = np.concatenate([A, B, AB.reshape(-1, model.n_factors)], axis=0)
    y = model.mean_abs_rank_shift(X)
    f_A, f_B, f_AB = y[:n], y[n:2 * n], y[2 * n:].reshape(len(names), n)
    out = sobol_indices(f_A, f_B, f_AB, n_boot=n_boot, level=level, seed=np.random.default_rng(boot_seed),
                        factor_names=names)
    return dataclasses.replace(out, output="mean_abs_rank_shift", runs=int(X.shape[0]), seed=seed)
