"""Methods side by side: rank shifts between two methods or editions, the method/data decomposition of a
rank change, and leaving one category out."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from qyb.data.months import add_months, month_range, parse_month
from qyb.data.panel import Panel
from qyb.errors import InputError
from qyb.method import Method, method_for_month
from qyb.review.common import as_method, scored
from qyb.review.montecarlo import UncertaintyModel

__all__ = ["MethodComparison", "compare_methods", "compare_scorecards", "decompose_rank_change",
           "default_decomposition_pair", "LeaveOneOut", "leave_one_out", "DECOMPOSITION_COLUMNS"]

#: columns of ``tables/method_decomposition.csv``
DECOMPOSITION_COLUMNS = ["unit_id", "month_from", "method_from", "rank_from", "month_to", "method_to",
                         "rank_to", "method_effect", "data_effect"]


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

    def __repr__(self) -> str:
        s = self.summary
        return (f"MethodComparison({self.method_a} -> {self.method_b}, {len(s)} month(s), "
                f"Kendall tau {s['kendall_tau'].mean():.3f}, mean |rank shift| {s['mean_abs_rank_shift'].mean():.2f})")

    def most_affected(self, n: int = 5, month: str | None = None) -> pd.DataFrame:
        """The ``n`` units with the largest absolute rank shift (per month, or in ``month``)."""
        u = self.units if month is None else self.units[self.units["month"] == month]
        return (u.sort_values(["month", "abs_shift", "rank_b"], ascending=[True, False, True])
                .groupby("month", sort=True).head(n).reset_index(drop=True))


def compare_methods(panel: Panel, method_a: str | Method, method_b: str | Method, first: str,
                    last: str | None = None) -> MethodComparison:
    """Score ``first..last`` under both methods and compare the rankings (see :class:`MethodComparison`)."""
    months = month_range(first, last or first)
    ma, mb = as_method(method_a), as_method(method_b)
    ta = scored(panel, ma, months[0], months[-1])
    tb = scored(panel, mb, months[0], months[-1])
    cards = [(ta.scorecard(m), tb.scorecard(m)) for m in months]
    parts = [compare_scorecards(a, b, ma.name, mb.name) for a, b in cards]
    return MethodComparison(ma.name, mb.name, pd.concat([p.units for p in parts], ignore_index=True),
                            pd.concat([p.summary for p in parts], ignore_index=True))


def compare_scorecards(card_a: pd.DataFrame, card_b: pd.DataFrame, name_a: str = "a",
                       name_b: str = "b") -> MethodComparison:
    """Two scorecards of the same units compared: rank shifts, star changes, Kendall's τ_b.

    Units are matched by ``unit_id``; ``month`` is the month of ``card_b``. Kendall's τ_b and its
    p-value are ``scipy.stats.kendalltau`` of the two rank vectors.
    """
    b = card_b.set_index("unit_id")
    a = card_a.set_index("unit_id").reindex(b.index)
    month = str(b["month"].iat[0])
    ra, rb = a["rank"].to_numpy(dtype=float), b["rank"].to_numpy(dtype=float)
    sa, sb = a["stars"].to_numpy(dtype=float), b["stars"].to_numpy(dtype=float)
    units = pd.DataFrame({"month": month, "unit_id": b.index.to_numpy(), "unit_name": b["unit_name"].to_numpy(),
                          "rank_a": ra.astype(int), "rank_b": rb.astype(int),
                          "stars_a": sa.astype(int), "stars_b": sb.astype(int)})
    units["rank_shift"] = units["rank_a"] - units["rank_b"]
    units["abs_shift"] = units["rank_shift"].abs()
    units["star_change"] = units["stars_b"] - units["stars_a"]
    res = stats.kendalltau(ra, rb)
    shift = np.abs(ra - rb)
    summary = pd.DataFrame([{"month": month, "method_a": name_a, "method_b": name_b,
                             "kendall_tau": float(res.statistic), "kendall_pvalue": float(res.pvalue),
                             "mean_abs_rank_shift": float(shift.mean()), "max_abs_rank_shift": int(shift.max()),
                             "n_star_changes": int((sa != sb).sum()), "n_units": len(units)}])
    return MethodComparison(name_a, name_b, units, summary)



# ---------------------------------------------------------------- 3b. method/data decomposition
def decompose_rank_change(panel: Panel, month_from: str, method_from: str | Method, month_to: str,
                          method_to: str | Method) -> pd.DataFrame:
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

    Returns the columns of ``method_decomposition.csv`` (:data:`DECOMPOSITION_COLUMNS`)
    then ``unit_name, rank_mid, total_change, rank_alt_mid, method_effect_alt,
    data_effect_alt, method_effect_shapley, data_effect_shapley``.
    """
    month_from, month_to = parse_month(month_from), parse_month(month_to)
    ma, mb = as_method(method_from), as_method(method_to)

    def ranks(month, method):
        table = scored(panel, method, month)
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
    except InputError:  # no method in force before the mechanism started
        m_from = methods[0]
    try:
        m_to = method_for_month(month).name
    except InputError:
        m_to = methods[-1]
    return prev, m_from, month, m_to


# ---------------------------------------------------------------- 3c. leave one category out
@dataclass
class LeaveOneOut:
    """Ranks with each category left out: ``ranks`` (one row per category x unit) and ``summary``
    (per category: mean and max absolute rank shift)."""

    ranks: pd.DataFrame
    summary: pd.DataFrame

    def __repr__(self) -> str:
        top = self.summary.sort_values("mean_abs_rank_shift", ascending=False).iloc[0]
        return (f"LeaveOneOut({len(self.summary)} categories; largest mean shift "
                f"{top['mean_abs_rank_shift']:.2f} without {top['category']})")


def leave_one_out(model: UncertaintyModel) -> LeaveOneOut:
    """Rank of every unit when each category in turn is dropped (its weight set to 0, the others renormalised).

    ``index_{-c} = Σ_{k≠c} w_k x_k / Σ_{k≠c} w_k`` (arithmetic; geometric likewise),
    index deductions and scale as in the spec (OECD/JRC Handbook 2008, Step 7,
    "exclusion of one indicator at a time"; COINr ``remove_elements``). All
    categories are done at once on the nominal category scores. Returns tidy
    ``category, category_name, unit_id, unit_name, rank_nominal, rank_without,
    rank_shift`` (= nominal − without, positive = rose) and the summary per category:
    mean and max absolute shift. ``model``: the nominal :class:`UncertaintyModel` of the month
    (``Choices.none()``).
    """
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
    summary = pd.DataFrame({"category": model.categories, "category_name": [g.name for g in m.categories],
                            "mean_abs_rank_shift": shift.mean(axis=1),
                            "max_abs_rank_shift": shift.max(axis=1).astype(int)})
    return LeaveOneOut(out, summary)
