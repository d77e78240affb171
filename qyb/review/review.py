"""Method review (方法评估): effective weights, weighting schemes, method comparison,
the method/data decomposition of rank changes, leave-one-category-out and coherence.

The JRC/OECD checks of a composite indicator (OECD/JRC *Handbook on
Constructing Composite Indicators*, 2008, Steps 4–7; Saisana, Saltelli &
Tarantola 2005, *JRSS A* 168:307; COINr) applied to the barometer's method
specs. The Monte Carlo over modelling choices and its Sobol' indices are in
:mod:`qyb.review.montecarlo`; :func:`run_review` gathers everything the
notebook ``03_method_review`` shows and :func:`write_review_tables` writes
the machine-readable tables.

Conventions: rank 1 = best; a **rank change** is ``rank_from − rank_to``
(positive = the unit rose, as ``rank_change`` in the scorecard).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from qyb.report.publish import SYNTHETIC_BANNER
from qyb.review import coherence
from qyb.data.panel import Panel, load_panel, require_month
from qyb.data.files import csv_bytes, write_bytes_atomic
from qyb.method import Method, load_method, method_for_month
from qyb.review.montecarlo import Choices, MonteCarloResult, UncertaintyModel, sobol_rank_shift
from qyb.data.months import add_months, month_range, parse_month
from qyb.engine import score_panel
from qyb.edition import resolve_method, score_table
from qyb.review.weights import SCHEMES, apply_scheme

__all__ = [
    "MethodComparison",
    "MethodReview",
    "TABLE_COLUMNS",
    "category_weights",
    "coherence_tables",
    "compare_methods",
    "decompose_rank_change",
    "effective_weights",
    "leave_one_out",
    "readings",
    "run_review",
    "scheme_method",
    "scheme_ranks",
    "scheme_weights",
    "weights_table",
    "write_review_tables",
]

#: Columns of the machine-readable tables (the contract of issue 5).
TABLE_COLUMNS = {
    "weights": ["scheme", "category", "weight"],
    "method_uncertainty": ["unit_id", "rank_nominal", "rank_median", "rank_p05", "rank_p95",
                           "p_star_1", "p_star_2", "p_star_3", "p_star_4", "p_star_5"],
    "sensitivity": ["factor", "S1", "S1_lower", "S1_upper", "ST", "ST_lower", "ST_upper"],
    "method_decomposition": ["unit_id", "month_from", "method_from", "rank_from", "month_to", "method_to",
                             "rank_to", "method_effect", "data_effect"],
}
MIN_SCHEME_WEIGHT = 1e-6  # a spec weight must be > 0: data-driven zeros are raised to this share


def _method(m: str | Method) -> Method:
    return m if isinstance(m, Method) else load_method(m)


def _months(first: str, last: str | None) -> list[str]:
    first = parse_month(first)
    return month_range(first, parse_month(last) if last else first)


def _table(last: str, method: str | Method | None, data_dir, first: str | None = None, panel=None):
    """``(ScoreTable, Panel)`` of ``first..last`` under ``method``: from ``panel`` when given (no re-reading
    of the raw files), else :func:`qyb.scorecard.score_table`."""
    if panel is None:
        return score_table(last, method, data_dir, first=first)
    m = resolve_method(last, method)
    return score_panel(panel, m, month_range(first or last, last)), panel


def load_review_panel(month: str, methods, data_dir: Path | str | None = None, back: int = 12) -> Panel:
    """One validated panel holding every month the review of ``month`` reads: ``back`` months before it,
    plus the history the longest-looking method needs (read once, scored many times)."""
    from qyb.paths import DATA_RAW

    ms = [_method(m) for m in methods]
    hist = max(m.history_needed() for m in ms) + 1
    data_dir = Path(data_dir) if data_dir else DATA_RAW
    require_month(data_dir, month)
    months = month_range(add_months(month, -(back + hist)), month)
    return load_panel(data_dir, months, allow_blank=any(m.missing != "fail" for m in ms))


def category_weights(method: Method) -> pd.Series:
    """Nominal category weights normalised to sum 1 (``w_c / Σ w``), indexed by category code."""
    w = pd.Series({g.code: g.weight for g in method.categories}, dtype=float)
    return w / w.sum()


# ---------------------------------------------------------------- 1. effective weights
def effective_weights(method: str | Method | None, first: str, last: str | None = None,
                      data_dir: Path | str | None = None, panel: Panel | None = None) -> pd.DataFrame:
    """Nominal vs effective weight of each category over ``first..last`` (units × months pooled).

    Per category ``c`` (see :func:`qyb.coherence.effective_weights`):
    ``r2 = corr(x_c, index)²`` and ``eta2 = Var(E[index | x_c]) / Var(index)``
    (the first-order variance-based index, correlation ratio), each also as a
    share of their sum, beside ``nominal = w_c / Σ w``. Source: Paruolo,
    Saisana & Saltelli 2013 (*JRSS A* 176:609); OECD/JRC Handbook 2008 §6.
    Returns ``category, category_name, nominal, r, r2, r2_share, eta2,
    eta2_share, n`` (``n`` = unit-months pooled).
    """
    months = _months(first, last)
    table, _ = _table(months[-1], method, data_dir, months[0], panel)
    return effective_weights_from_table(table, months)


def effective_weights_from_table(table, months: list[str]) -> pd.DataFrame:
    m = table.method
    rows = [table.months.index(mo) for mo in months]
    cats = table.scores.category_scores()[rows].reshape(-1, len(m.categories))
    index = table.scores.index[rows].reshape(-1)
    codes = [g.code for g in m.categories]
    X = pd.DataFrame(cats, columns=codes)
    out = coherence.effective_weights(X, index, category_weights(m))
    out = out.rename(columns={"child": "category"})
    out.insert(1, "category_name", [g.name for g in m.categories])
    out["n"] = len(X)
    return out


# ---------------------------------------------------------------- 4. weighting schemes
def scheme_weights(category_scores: pd.DataFrame, schemes=("equal", "entropy", "critic", "pca")) -> pd.DataFrame:
    """Category weights under data-driven schemes, computed on the **category scores** (units × categories).

    Design choice: the schemes weight the nine categories (the level whose
    weights the spec publishes) from the month's category scores, which are
    already benefit-oriented 0–100 (higher = safer), so no direction
    handling is needed; indicator weights within a category are kept. Each
    scheme is :func:`qyb.weights.apply_scheme` (equal, entropy 熵权法, CRITIC,
    std, PCA). Returns tidy ``scheme, category, weight`` (weights sum to 1).
    """
    frames = []
    for scheme in schemes:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown weighting scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # sparse/constant columns: documented in qyb.review.weights
            w = apply_scheme(category_scores, scheme)
        frames.append(pd.DataFrame({"scheme": scheme, "category": w.index, "weight": w.to_numpy(dtype=float)}))
    return pd.concat(frames, ignore_index=True)


def scheme_method(method: Method, weights: pd.Series | dict, scheme: str) -> Method:
    """``method`` with its category weights replaced (``Method.with_weights``), named ``<method>+<scheme>``.

    Weights are stored as points summing to 100; a zero weight (a constant
    category under entropy/CRITIC) is raised to ``MIN_SCHEME_WEIGHT`` × 100
    because a spec weight must be positive.
    """
    w = pd.Series(weights, dtype=float)
    w = np.maximum(w / w.sum(), MIN_SCHEME_WEIGHT) * 100.0
    return method.with_weights(w.to_dict(), name=f"{method.name}+{scheme}")


def scheme_ranks(month: str, method: str | Method | None = None, data_dir: Path | str | None = None,
                 schemes=("equal", "entropy", "critic", "pca"),
                 panel: Panel | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score ``month`` under derived methods whose category weights come from each scheme.

    Returns ``(weights, ranks)``: the tidy scheme weights and a frame
    ``unit_id, unit_name, scheme, index, rank, stars, rank_shift`` (shift =
    nominal rank − scheme rank, positive = rose), ``scheme = "nominal"`` first.
    """
    table, panel = _table(month, method, data_dir, panel=panel)
    m = table.method
    t = table.months.index(month)
    codes = [g.code for g in m.categories]
    cats = pd.DataFrame(table.scores.category_scores()[t], columns=codes)
    weights = scheme_weights(cats, schemes)
    model = UncertaintyModel.from_table(table, panel, month, Choices.none())
    W = np.vstack([category_weights(m).reindex(codes).to_numpy()]
                  + [weights.loc[weights.scheme == s].set_index("category")["weight"].reindex(codes).to_numpy()
                     for s in schemes])
    ranks, stars = model.ranks_for_weights(W)
    names = ["nominal", *schemes]
    out = pd.DataFrame({
        "unit_id": np.tile(model.unit_ids, len(names)),
        "unit_name": np.tile(model.unit_names, len(names)),
        "scheme": np.repeat(names, len(model.unit_ids)),
        "rank": ranks.ravel().astype(int),
        "stars": stars.ravel().astype(int),
    })
    out["rank_shift"] = np.tile(model.rank_nominal, len(names)).astype(int) - out["rank"]
    return weights, out


def weights_table(method: Method, effective: pd.DataFrame, schemes: pd.DataFrame | None = None) -> pd.DataFrame:
    """``weights.csv``: ``scheme, category, weight`` for nominal, effective (r² and η² shares) and every scheme."""
    nominal = category_weights(method)
    frames = [pd.DataFrame({"scheme": "nominal", "category": nominal.index, "weight": nominal.to_numpy()}),
              pd.DataFrame({"scheme": "effective_r2", "category": effective["category"],
                            "weight": effective["r2_share"]}),
              pd.DataFrame({"scheme": "effective_eta2", "category": effective["category"],
                            "weight": effective["eta2_share"]})]
    if schemes is not None:
        frames.append(schemes[["scheme", "category", "weight"]])
    return pd.concat(frames, ignore_index=True)[TABLE_COLUMNS["weights"]]


# ---------------------------------------------------------------- 3. method comparison
@dataclass
class MethodComparison:
    """Two methods scored on the same months.

    ``units``: one row per (month, unit): ``rank_a, rank_b, rank_shift`` (= rank_a −
    rank_b, positive = the unit ranks better under b), ``abs_shift``, ``stars_a,
    stars_b, star_change`` (= stars_b − stars_a); ``summary``: one row per month:
    Kendall's τ_b between the two rankings (``scipy.stats.kendalltau``) and its
    p-value, mean and max absolute rank shift, number of star changes.
    """

    method_a: str
    method_b: str
    units: pd.DataFrame
    summary: pd.DataFrame

    def most_affected(self, n: int = 5, month: str | None = None) -> pd.DataFrame:
        """The ``n`` units with the largest absolute rank shift (per month, or in ``month``)."""
        u = self.units if month is None else self.units[self.units["month"] == month]
        return (u.sort_values(["month", "abs_shift", "rank_b"], ascending=[True, False, True])
                .groupby("month", sort=True).head(n).reset_index(drop=True))


def compare_methods(method_a: str | Method, method_b: str | Method, first: str, last: str | None = None,
                    data_dir: Path | str | None = None, panel: Panel | None = None) -> MethodComparison:
    """Score ``first..last`` under both methods and compare the rankings (see :class:`MethodComparison`)."""
    months = _months(first, last)
    ma, mb = _method(method_a), _method(method_b)
    ta, _ = _table(months[-1], ma, data_dir, months[0], panel)
    tb, _ = _table(months[-1], mb, data_dir, months[0], panel)
    ia = [ta.months.index(m) for m in months]
    ib = [tb.months.index(m) for m in months]
    ra, rb = ta.scores.rank[ia], tb.scores.rank[ib]  # (T, U)
    sa, sb = ta.scores.stars[ia], tb.scores.stars[ib]
    n_units = ra.shape[1]
    units = pd.DataFrame({
        "month": np.repeat(months, n_units),
        "unit_id": np.tile(ta.units.index.to_numpy(), len(months)),
        "unit_name": np.tile(ta.units["unit_name"].to_numpy(), len(months)),
        "rank_a": ra.ravel().astype(int),
        "rank_b": rb.ravel().astype(int),
        "stars_a": sa.ravel().astype(int),
        "stars_b": sb.ravel().astype(int),
    })
    units["rank_shift"] = units["rank_a"] - units["rank_b"]
    units["abs_shift"] = units["rank_shift"].abs()
    units["star_change"] = units["stars_b"] - units["stars_a"]
    rows = []
    for k, month in enumerate(months):  # one scipy call per month (months are few)
        res = stats.kendalltau(ra[k], rb[k])
        shift = np.abs(ra[k] - rb[k])
        rows.append({"month": month, "method_a": ma.name, "method_b": mb.name,
                     "kendall_tau": float(res.statistic), "kendall_pvalue": float(res.pvalue),
                     "mean_abs_rank_shift": float(shift.mean()), "max_abs_rank_shift": int(shift.max()),
                     "n_star_changes": int((sa[k] != sb[k]).sum()), "n_units": n_units})
    return MethodComparison(ma.name, mb.name, units, pd.DataFrame(rows))


# ---------------------------------------------------------------- 3b. method/data decomposition
def decompose_rank_change(month_from: str, method_from: str | Method, month_to: str, method_to: str | Method,
                          data_dir: Path | str | None = None, panel: Panel | None = None) -> pd.DataFrame:
    """Split each unit's rank change between two (month, method) pairs into a method and a data effect.

    With ``r(month, method)`` the rank and a change counted as ``r_from − r_to``
    (positive = rose)::

        total         = r(m0, A) − r(m1, B)
        method_effect = r(m0, A) − r(m0, B)     # same data, method A -> B
        data_effect   = r(m0, B) − r(m1, B)     # same method B, data m0 -> m1
        total         = method_effect + data_effect          (exactly, by telescoping)

    The order (method first, then data) is the one of the brief: 永宁 Feb-v1 →
    Mar-v2 = (Feb-v1 → Feb-v2) + (Feb-v2 → Mar-v2). The other order
    (data under A first, then the method in m1) is given as
    ``method_effect_alt, data_effect_alt``; ``method_effect_shapley`` is the
    mean of the two orders (the Shapley value of the two-factor decomposition,
    Shorrocks 2013, *J. Econ. Inequal.* 11:99), which does not depend on the order.

    Returns the columns of ``method_decomposition.csv`` (:data:`TABLE_COLUMNS`)
    then ``unit_name, rank_mid, total_change, rank_alt_mid, method_effect_alt,
    data_effect_alt, method_effect_shapley, data_effect_shapley``.
    """
    month_from, month_to = parse_month(month_from), parse_month(month_to)
    ma, mb = _method(method_from), _method(method_to)

    def ranks(month, method):
        table, _ = _table(month, method, data_dir, panel=panel)
        return table.scores.rank[table.months.index(month)].astype(int), table

    r_from, table = ranks(month_from, ma)
    r_mid, _ = ranks(month_from, mb)
    r_to, _ = ranks(month_to, mb)
    r_alt, _ = ranks(month_to, ma)
    out = pd.DataFrame({
        "unit_id": table.units.index.to_numpy(),
        "month_from": month_from, "method_from": ma.name, "rank_from": r_from,
        "month_to": month_to, "method_to": mb.name, "rank_to": r_to,
        "method_effect": r_from - r_mid, "data_effect": r_mid - r_to,
        "unit_name": table.units["unit_name"].to_numpy(),
        "rank_mid": r_mid, "total_change": r_from - r_to, "rank_alt_mid": r_alt,
        "method_effect_alt": r_alt - r_to, "data_effect_alt": r_from - r_alt,
    })
    out["method_effect_shapley"] = (out["method_effect"] + out["method_effect_alt"]) / 2.0
    out["data_effect_shapley"] = (out["data_effect"] + out["data_effect_alt"]) / 2.0
    return out


def default_decomposition_pair(month: str, methods: list[str]) -> tuple[str, str, str, str]:
    """(month_from, method_from, month_to, method_to): last month under the method then in force
    (else the first listed) -> ``month`` under the method in force (else the last listed)."""
    prev = add_months(month, -1)
    try:
        m_from = method_for_month(prev).name
    except Exception:  # no method in force before the mechanism started
        m_from = methods[0]
    try:
        m_to = method_for_month(month).name
    except Exception:
        m_to = methods[-1]
    return prev, m_from, month, m_to


# ---------------------------------------------------------------- 3c. leave one category out
def leave_one_out(month: str, method: str | Method | None = None, data_dir: Path | str | None = None,
                  model: UncertaintyModel | None = None) -> pd.DataFrame:
    """Rank of every unit when each category in turn is dropped (its weight set to 0, the others renormalised).

    ``index_{-c} = Σ_{k≠c} w_k x_k / Σ_{k≠c} w_k`` (arithmetic; geometric likewise),
    index deductions and scale as in the spec (OECD/JRC Handbook 2008, Step 7,
    "exclusion of one indicator at a time"; COINr ``remove_elements``). All
    categories are done at once on the nominal category scores. Returns tidy
    ``category, category_name, unit_id, unit_name, rank_nominal, rank_without,
    rank_shift`` (= nominal − without, positive = rose) and ``attrs['summary']``:
    per category the mean and max absolute shift.
    """
    if model is None:
        model = UncertaintyModel.from_month(month, method, data_dir, Choices.none())
    m = model.method
    C = len(model.categories)
    W = np.tile(model.nominal_weights, (C, 1))
    W[np.arange(C), np.arange(C)] = 0.0
    ranks, _ = model.ranks_for_weights(W)  # (C, U)
    U = len(model.unit_ids)
    out = pd.DataFrame({
        "category": np.repeat(model.categories, U),
        "category_name": np.repeat([g.name for g in m.categories], U),
        "unit_id": np.tile(model.unit_ids, C),
        "unit_name": np.tile(model.unit_names, C),
        "rank_nominal": np.tile(model.rank_nominal, C).astype(int),
        "rank_without": ranks.ravel().astype(int),
    })
    out["rank_shift"] = out["rank_nominal"] - out["rank_without"]
    shift = np.abs(ranks - model.rank_nominal[None, :])
    out.attrs["summary"] = pd.DataFrame({"category": model.categories,
                                         "category_name": [g.name for g in m.categories],
                                         "mean_abs_rank_shift": shift.mean(axis=1),
                                         "max_abs_rank_shift": shift.max(axis=1).astype(int)})
    return out


# ---------------------------------------------------------------- 3d. coherence
@dataclass
class Coherence:
    """Indicator correlation matrix (scores, Pearson), Cronbach's α per category, PCA variance explained."""

    correlation: pd.DataFrame
    alpha: pd.DataFrame
    pca: pd.DataFrame


def coherence_tables(table, month: str) -> Coherence:
    """Statistical coherence of one month's indicator scores (OECD/JRC Handbook 2008, Step 4; COINr).

    Uses the normalised indicator scores (higher = better for every
    indicator, so positive correlations mean the indicators agree). Constant
    indicators (all units equal that month) are left out of the PCA.
    """
    m = table.method
    t = table.months.index(month)
    codes = [i.code for i in m.indicators]
    X = pd.DataFrame(table.scores.indicator_scores[t], columns=codes)
    corr = coherence.correlation_matrix(X, long=False)
    groups = {i.code: table._category_of(i.parent) for i in m.indicators}
    alpha = coherence.cronbach_alpha_by_group(X, groups)
    names = {g.code: g.name for g in m.groups}
    alpha.insert(1, "category_name", alpha["group"].map(names))
    alpha = alpha.rename(columns={"group": "category"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pca = coherence.pca_variance_explained(X.dropna(axis=1))
    return Coherence(corr, alpha, pca)


# ---------------------------------------------------------------- the whole review
@dataclass
class MethodReview:
    """Everything notebook 03 shows, for one month (see :func:`run_review`)."""

    month: str
    method: Method
    methods: list[str]
    effective: pd.DataFrame
    weights: pd.DataFrame
    scheme_ranks: pd.DataFrame
    monte_carlo: MonteCarloResult
    uncertainty: pd.DataFrame
    town: pd.DataFrame
    sensitivity: pd.DataFrame
    comparison: MethodComparison
    decomposition: pd.DataFrame
    leave_one_out: pd.DataFrame
    coherence: Coherence
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four machine-readable tables, with exactly the contract's columns."""
        return {
            "weights": self.weights[TABLE_COLUMNS["weights"]],
            "method_uncertainty": self.uncertainty[TABLE_COLUMNS["method_uncertainty"]],
            "sensitivity": self.sensitivity[TABLE_COLUMNS["sensitivity"]],
            "method_decomposition": self.decomposition[TABLE_COLUMNS["method_decomposition"]],
        }


def _split(text: str | list | tuple) -> list[str]:
    if isinstance(text, (list, tuple)):
        return [str(t).strip() for t in text if str(t).strip()]
    return [t.strip() for t in str(text).split(",") if t.strip()]


def run_review(month: str, methods: str | list[str] = "v1,v2", schemes: str | list[str] = "equal,entropy,critic,pca",
               n_draws: int = 10_000, seed: int = 0, data_dir: Path | str | None = None,
               sobol_n: int = 1024, choices: Choices | None = None, method: str | Method | None = None) -> MethodReview:
    """Run the whole method review of ``month``.

    The method reviewed is ``method`` or, when empty, the one in force that month.

    ``methods``: comma-separated method names; the comparison is first vs last.
    ``schemes``: comma-separated weighting schemes for the category weights.
    ``n_draws``/``seed``: the Monte Carlo; Sobol' uses ``sobol_n`` rows
    (rounded to a power of two, at most ``n_draws`` rounded up) with the same seed.
    """
    month = parse_month(month)
    names = _split(methods)
    if not names:
        raise ValueError("give at least one method name, e.g. 'v1,v2'")
    scheme_list = _split(schemes)
    n_draws, seed = int(n_draws), int(seed)
    method = resolve_method(month, method or None)
    data_dir = Path(data_dir) if data_dir else None
    pair = default_decomposition_pair(month, names)
    panel = load_review_panel(month, [method, *names, pair[1], pair[3]], data_dir)
    table, _ = _table(month, method, data_dir, panel=panel)
    # effective weights over the months the method has been in force (at most 12)
    first = max(method.effective_from, add_months(month, -11))
    eff = effective_weights(method, first, month, data_dir, panel) if first != month else \
        effective_weights_from_table(table, [month])
    sw, sranks = scheme_ranks(month, method, data_dir, scheme_list, panel=panel)
    weights = weights_table(method, eff, sw)
    model = UncertaintyModel.from_table(table, panel, month, choices)
    mc = model.run(n_draws, seed)
    n_sobol = 1 << int(np.ceil(np.log2(max(2, min(int(sobol_n), max(n_draws, 2))))))
    sens = sobol_rank_shift(model, n_sobol, seed, n_boot=500) if model.n_factors else \
        pd.DataFrame(columns=TABLE_COLUMNS["sensitivity"])
    comparison = compare_methods(names[0], names[-1], month, month, data_dir, panel)
    decomposition = decompose_rank_change(*pair, data_dir, panel)
    loo = leave_one_out(month, model=UncertaintyModel.from_table(table, panel, month, Choices.none()))
    coh = coherence_tables(table, month)
    notes = [SYNTHETIC_BANNER] if panel.synthetic else []
    if method.spec.get("illustrative"):
        notes.append("示例权重：方法规格中的权重为演示用途而设 (illustrative weights).")
    return MethodReview(month, method, names, eff, weights, sranks, mc, mc.summary(), mc.town(), sens,
                        comparison, decomposition, loo, coh, notes)


def write_review_tables(review: MethodReview, output_dir: Path | str) -> dict[str, Path]:
    """Write ``output_dir/tables/{weights,method_uncertainty,sensitivity,method_decomposition}.csv``.

    UTF-8 with BOM (:func:`qyb.io.csv_bytes`), each written atomically
    (:func:`qyb.io.write_bytes_atomic`). Returns name -> path.
    """
    folder = Path(output_dir) / "tables"
    paths = {}
    for name, frame in review.tables().items():
        path = folder / f"{name}.csv"
        write_bytes_atomic(csv_bytes(frame), path)
        paths[name] = path
    return paths


# ---------------------------------------------------------------- plain-Chinese readings
def _fmt_rank(x) -> str:
    return f"第 {int(x)} 名"


def readings(review: MethodReview, focus: str | None = None) -> dict[str, str]:
    """Short plain-Chinese readings of each section (keys: weights, uncertainty, sensitivity, schemes,
    comparison, decomposition, leave_one_out, coherence). ``focus``: a unit_id to single out
    (default: the unit with the largest rank change in the decomposition)."""
    out = {}
    eff = review.effective
    gap = eff.assign(gap=eff["r2_share"] - eff["nominal"])
    over = gap.sort_values("gap", ascending=False).iloc[0]
    under = gap.sort_values("gap").iloc[0]
    out["weights"] = (
        f"名义权重是评分办法写明的权重；有效权重是各类别得分与平安形势指数的相关程度（r² 份额）和一阶方差贡献（η² 份额），"
        f"反映本月各类别实际对排名的影响。{over['category_name']}的实际影响（r² 份额 {over['r2_share']:.0%}）"
        f"高于其名义权重（{over['nominal']:.0%}），因为各单位在这一类别上差距大；"
        f"{under['category_name']}的实际影响（{under['r2_share']:.0%}）低于名义权重（{under['nominal']:.0%}）。"
        f"权重大并不等于影响大：影响还取决于各单位在该类别上的差距。"
        f"（基于 {int(eff['n'].iloc[0])} 个单位·月；单位少时 η² 偏高，宜看排序而非小数。）")
    u = review.uncertainty
    town = review.town.iloc[0]
    width = (u["rank_p95"] - u["rank_p05"])
    wide = u.assign(width=width).sort_values(["width", "rank_nominal"], ascending=[False, True]).iloc[0]
    stable = u[(u["rank_p95"] - u["rank_p05"]) <= 2]
    out["uncertainty"] = (
        f"在 {int(town['n_draws'])} 次随机组合（类别权重、标准化方法、汇总方式、星级规则同时变动）下，"
        f"各单位排名平均变动 {town['mean_abs_rank_shift']:.1f} 个名次（90% 的组合在 "
        f"{town['mean_abs_rank_shift_p05']:.1f}–{town['mean_abs_rank_shift_p95']:.1f} 之间）。"
        f"区间最宽的是{wide['unit_name']}（名义{_fmt_rank(wide['rank_nominal'])}，5%–95% 区间 "
        f"{int(wide['rank_p05'])}–{int(wide['rank_p95'])} 名），其排名在很大程度上取决于方法选择；"
        f"{len(stable)} 个单位的区间不超过 2 个名次，排名稳健。星级概率 p_star_k 表示该单位得 k 星的组合所占比例。")
    sens = review.sensitivity
    if len(sens):
        top = sens.sort_values("ST", ascending=False).iloc[0]
        names = {"weights": "类别权重", "normalisation": "标准化方法", "aggregation": "汇总方式（算术/几何）",
                 "star_rule": "星级规则"}
        w = sens.set_index("factor")
        wtxt = (f"类别权重变动（默认在名义值 ±25% 内）的一阶指数为 {w.loc['weights', 'S1']:.2f}，"
                if "weights" in w.index else "")
        out["sensitivity"] = (
            f"Sobol 指数衡量各项方法选择对“平均名次变动”的贡献：一阶指数 S1 是单独一项的贡献，总效应 ST 还包括它与其他选择的交互。"
            f"影响最大的是{names.get(top['factor'], top['factor'])}（ST = {top['ST']:.2f}，95% 区间 "
            f"{top['ST_lower']:.2f}–{top['ST_upper']:.2f}）。{wtxt}"
            f"星级规则只改变星级、不改变名次，所以它的指数为 0。ST 明显大于 S1 说明各选择之间存在交互。")
    else:
        out["sensitivity"] = "没有设定任何不确定的方法选择，无敏感性指数。"
    sr = review.scheme_ranks
    moved = sr[sr["scheme"] != "nominal"].groupby("scheme")["rank_shift"].apply(lambda s: s.abs().mean())
    if len(moved):
        out["schemes"] = (
            "按数据驱动的权重方案（在各类别得分上计算）重新赋权后，各单位平均名次变动："
            + "；".join(f"{k} {v:.1f}" for k, v in moved.items())
            + "。数据驱动权重奖励单位之间差异大的类别，并不代表该类别更重要，仅作对照。")
    else:
        out["schemes"] = ""
    cmp = review.comparison.summary.iloc[0]
    most = review.comparison.most_affected(1).iloc[0]
    out["comparison"] = (
        f"同一个月（{cmp['month']}）的数据分别按 {cmp['method_a']} 和 {cmp['method_b']} 评分："
        f"两种排名的 Kendall τ = {cmp['kendall_tau']:.2f}（1 表示完全一致），平均名次差 {cmp['mean_abs_rank_shift']:.1f}，"
        f"{int(cmp['n_star_changes'])} 个单位星级不同。受影响最大的是{most['unit_name']}"
        f"（{cmp['method_a']} {_fmt_rank(most['rank_a'])}，{cmp['method_b']} {_fmt_rank(most['rank_b'])}）。")
    d = review.decomposition
    if focus is None or focus not in set(d["unit_id"]):
        focus = d.assign(a=d["total_change"].abs()).sort_values("a", ascending=False)["unit_id"].iloc[0]
    r = d.set_index("unit_id").loc[focus]
    out["decomposition"] = (
        f"{r['unit_name']}从 {r['month_from']}（{r['method_from']}）{_fmt_rank(r['rank_from'])}到 "
        f"{r['month_to']}（{r['method_to']}）{_fmt_rank(r['rank_to'])}，共变动 {int(r['total_change']):+d} 名。"
        f"先换方法、数据不变（{r['month_from']} 按 {r['method_to']} 评分为{_fmt_rank(r['rank_mid'])}）："
        f"方法效应 {int(r['method_effect']):+d} 名；再换数据、方法不变：数据效应 {int(r['data_effect']):+d} 名；"
        f"两者相加恰为总变动。若先换数据后换方法，方法效应为 {int(r['method_effect_alt']):+d}、数据效应为 "
        f"{int(r['data_effect_alt']):+d}（两种顺序的平均：方法 {r['method_effect_shapley']:+.1f}，数据 "
        f"{r['data_effect_shapley']:+.1f}）。正数表示名次上升。")
    loo = review.leave_one_out.attrs["summary"].sort_values("mean_abs_rank_shift", ascending=False)
    out["leave_one_out"] = (
        f"逐一去掉一个类别（其余类别权重按比例放大）后重新排名：去掉{loo.iloc[0]['category_name']}时名次变动最大"
        f"（平均 {loo.iloc[0]['mean_abs_rank_shift']:.1f} 名，最多 {int(loo.iloc[0]['max_abs_rank_shift'])} 名），"
        f"去掉{loo.iloc[-1]['category_name']}时最小（平均 {loo.iloc[-1]['mean_abs_rank_shift']:.1f} 名）。")
    a = review.coherence.alpha.dropna(subset=["alpha"])
    pca = review.coherence.pca
    low = a[a["alpha"] < 0.5]
    lowtxt = ("、".join(low["category_name"]) + "的 α 低于 0.5，类别内指标方向不一致（例如发案率与压降率衡量的是不同的事）"
              if len(low) else "多指标类别的 α 都不低于 0.5")
    out["coherence"] = (
        f"Cronbach's α 衡量同一类别内各指标是否一致（只对含两项以上指标的类别计算）：{lowtxt}。"
        f"主成分分析中第一主成分解释了 {pca['proportion'].iloc[0]:.0%} 的方差，前三个共 "
        f"{pca['cumulative'].iloc[min(2, len(pca) - 1)]:.0%}：各指标衡量的是不同方面，指数不是单一维度，"
        f"这也是权重选择会影响排名的原因。")
    return out
