"""Internal coherence of a composite indicator: correlations, Cronbach's α, PCA, effective weights.

The statistical-coherence checks of the OECD/JRC *Handbook on Constructing
Composite Indicators* (2008), §§4–5 and the COINr package's ``get_corr``,
``get_cronbach`` and ``get_PCA``: do the indicators of a category point the
same way, is a category one dimension, and how much does each category
actually drive the index compared with its nominal weight.

All functions take a units × variables ``DataFrame`` (numeric columns) and
return tidy DataFrames or floats; no I/O.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "correlation_matrix",
    "cronbach_alpha",
    "cronbach_alpha_by_group",
    "correlation_weights",
    "Coherence",
    "coherence_tables",
    "pca_variance_explained",
]


def _numeric_frame(df) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(np.asarray(df, dtype=float))
    try:
        return df.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"coherence statistics need numeric columns: {exc}") from exc


def correlation_matrix(
    df: pd.DataFrame,
    method: Literal["pearson", "spearman"] = "pearson",
    *,
    long: bool = True,
) -> pd.DataFrame:
    """Correlation between every pair of columns, on pairwise-complete observations.

    Pearson's ``r`` or Spearman's ``ρ`` (Pearson's r of the ranks). Missing
    values are handled pairwise, as COINr's ``get_corr`` (R's
    ``cor(use = "pairwise.complete.obs")``) and ``pandas.DataFrame.corr`` do.
    The p-value is the two-sided t test of zero correlation,
    ``t = r·sqrt((n-2)/(1-r²))`` on ``n-2`` degrees of freedom (R ``cor.test``;
    ``scipy.stats.pearsonr``; for Spearman the t approximation of
    ``scipy.stats.spearmanr``), ``n`` the number of complete pairs.

    Returns (``long=True``) a tidy frame with columns ``var1, var2, r, n,
    pvalue``, one row per ordered pair (the diagonal included, ``var1`` varying
    fastest as in COINr's long output), or (``long=False``) the square matrix
    of ``r``.
    """
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', got {method!r}")
    X = _numeric_frame(df)
    R = X.corr(method=method)
    if not long:
        return R
    ok = X.notna().to_numpy(dtype=float)
    N = ok.T @ ok  # complete pairs per (i, j)
    r = R.to_numpy()
    dof = N - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(dof / np.clip(1.0 - r**2, 0.0, None))
        p = 2.0 * stats.t.sf(np.abs(t), dof)
    p = np.where(np.isclose(np.abs(r), 1.0), 0.0, p)
    p = np.where((dof > 0) & np.isfinite(r), p, np.nan)
    cols = X.columns
    k = len(cols)
    # column-major flattening: var1 varies fastest within each var2
    return pd.DataFrame(
        {
            "var1": np.tile(cols.to_numpy(), k),
            "var2": np.repeat(cols.to_numpy(), k),
            "r": r.T.ravel(),
            "n": N.T.ravel().astype(int),
            "pvalue": p.T.ravel(),
        }
    )


def cronbach_alpha(df: pd.DataFrame) -> float:
    """Cronbach's α of the columns of ``df`` (items) over its rows (units).

    ``α = k/(k-1) · (1 - Σ_i var_i / var_total)`` (Cronbach 1951,
    *Psychometrika* 16:297), with sample variances (ddof 1) and ``var_total``
    the variance of the row sums. It is computed from the covariance matrix
    ``C`` as ``k/(k-1) · (1 - tr C / ΣC)``, since ``var(Σ_i x_i) = Σ_ij C_ij``;
    with missing values ``C`` uses pairwise-complete observations, which is
    exactly COINr's ``get_cronbach`` (``cov(use = "pairwise.complete.obs")``,
    ``α = k² · mean off-diagonal C / ΣC``). Needs at least two items.
    """
    X = _numeric_frame(df)
    k = X.shape[1]
    if k < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 items (columns), got {k}")
    C = X.cov(ddof=1).to_numpy()
    total = np.nansum(C)
    if not np.isfinite(total) or total == 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.nansum(np.diag(C)) / total))


def cronbach_alpha_by_group(df: pd.DataFrame, groups: Mapping | pd.Series) -> pd.DataFrame:
    """Cronbach's α per group of columns (e.g. the indicators of each category).

    ``groups`` maps column -> group (a dict or Series); columns not mapped are
    ignored. Returns columns ``group, k, n, alpha`` (``n`` = units with all
    the group's items present; α is NaN for a group of one item).
    """
    g = pd.Series(groups)
    X = _numeric_frame(df)
    missing = [c for c in g.index if c not in X.columns]
    if missing:
        raise ValueError(f"groups name columns not in the table: {missing}")
    rows = []
    for name, members in g.groupby(g, sort=False).groups.items():  # one pass per category
        sub = X[list(members)]
        alpha = cronbach_alpha(sub) if sub.shape[1] >= 2 else float("nan")
        rows.append({"group": name, "k": sub.shape[1], "n": int(sub.notna().all(axis=1).sum()), "alpha": alpha})
    return pd.DataFrame(rows, columns=["group", "k", "n", "alpha"])


def pca_variance_explained(df: pd.DataFrame) -> pd.DataFrame:
    """Variance explained by each principal component of the standardised columns.

    PCA of the correlation matrix (R ``prcomp(scale. = TRUE)``; OECD/JRC
    Handbook 2008 §4.1): the eigenvalues ``λ_k`` are ``s_k² / (n-1)`` for the
    singular values ``s_k`` of the standardised data; ``proportion = λ_k / Σλ``
    (``Σλ`` = number of columns) and ``cumulative`` its running sum.

    Missing values are an error (drop or impute first). Constant columns
    cannot be standardised: they are left out with a ``UserWarning``.
    Returns columns ``component`` (1, 2, …), ``eigenvalue``, ``proportion``,
    ``cumulative``.
    """
    X = _numeric_frame(df)
    if X.isna().any().any():
        bad = list(X.columns[X.isna().any()])
        raise ValueError(f"PCA needs complete data; missing values in {bad}: drop or impute first")
    const = X.columns[X.nunique() <= 1]
    if len(const):
        warnings.warn(f"PCA: constant column(s) {list(const)} left out", UserWarning, stacklevel=2)
        X = X.drop(columns=const)
    n, m = X.shape
    if n < 2 or m < 1:
        raise ValueError(f"PCA needs at least 2 units and 1 non-constant column, got {n} x {m}")
    A = X.to_numpy()
    Z = (A - A.mean(axis=0)) / A.std(axis=0, ddof=1)
    s = np.linalg.svd(Z, compute_uv=False)
    eig = np.zeros(m)
    eig[: s.size] = s**2 / (n - 1)
    prop = eig / eig.sum()
    return pd.DataFrame(
        {
            "component": np.arange(1, m + 1),
            "eigenvalue": eig,
            "proportion": prop,
            "cumulative": np.cumsum(prop),
        }
    )


def correlation_weights(
    children_scores: pd.DataFrame,
    index,
    nominal=None,
    *,
    n_bins: int | None = None,
) -> pd.DataFrame:
    """How much each child (category/indicator) actually drives an aggregate index.

    Two measures, each also as a share normalised to sum to 1:

    * ``r2``: squared Pearson correlation of the child with the index — the
      JRC/COINr reading of "effective weight" by correlation (COINr
      ``get_corr`` of a level with the index; Saisana, Saltelli & Tarantola
      2005, *JRSS A* 168:307).
    * ``eta2``: a first-order variance-based index, the correlation ratio
      ``η_i² = Var(E[Y | X_i]) / Var(Y)`` (Pearson 1903; used as the main
      effect ``S_i`` of a child on the index by Paruolo, Saisana & Saltelli
      2013, *JRSS A* 176:609). ``E[Y | X_i]`` is estimated by the mean of the
      index within ``n_bins`` quantile bins of ``X_i`` (ties share a bin;
      default ``round(sqrt(n))``, at least 2): ``η² = Σ_b n_b (ȳ_b - ȳ)² /
      Σ_j (y_j - ȳ)²``. With few units this estimator is biased upwards (by
      about ``(n_bins-1)/(n-1)`` for an unrelated child), so read it as a
      ranking of importance, not to two decimals. For a linear index of
      independent children both measures tend to ``w_i² σ_i² / σ_Y²``.

    Parameters
    ----------
    children_scores : DataFrame, units × children.
    index : the aggregate (Series aligned on the same rows, or array).
    nominal : optional nominal weights (Series indexed by child, mapping or
        array) to show alongside, normalised to sum to 1.

    Returns columns ``child, [nominal,] r, r2, r2_share, eta2, eta2_share``.
    Missing values are an error; a constant child has ``r = r2 = eta2 = 0``.
    """
    X = _numeric_frame(children_scores)
    y = np.asarray(index, dtype=float).ravel()
    if y.size != len(X):
        raise ValueError(f"index has {y.size} values for {len(X)} units")
    if X.isna().any().any() or not np.isfinite(y).all():
        raise ValueError("effective weights need complete data: drop or impute first")
    n, m = X.shape
    if n < 3:
        raise ValueError(f"need at least 3 units, got {n}")
    A = X.to_numpy()
    yc = y - y.mean()
    ss_y = (yc**2).sum()
    Ac = A - A.mean(axis=0)
    norms = np.sqrt((Ac**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (Ac * yc[:, None]).sum(axis=0) / (norms * np.sqrt(ss_y))
    r = np.where(norms > 0, r, 0.0)

    # correlation ratio from binned conditional means, all children at once
    nb = max(2, int(round(np.sqrt(n)))) if n_bins is None else int(n_bins)
    ranks = X.rank(method="min").to_numpy() - 1.0  # 0-based, ties share the lowest rank
    codes = np.minimum((ranks * nb / n).astype(int), nb - 1)
    flat = codes + nb * np.arange(m)[None, :]  # unique bin id per (child, bin)
    cnt = np.bincount(flat.ravel(), minlength=nb * m).reshape(m, nb)
    tot = np.bincount(flat.ravel(), weights=np.repeat(yc[:, None], m, axis=1).ravel(), minlength=nb * m).reshape(m, nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where(cnt > 0, tot**2 / cnt, 0.0).sum(axis=1)
    eta2 = between / ss_y if ss_y > 0 else np.full(m, np.nan)
    eta2 = np.where(norms > 0, eta2, 0.0)

    def _share(v):
        s = np.nansum(v)
        return v / s if s > 0 else np.full_like(v, np.nan)

    out = {"child": X.columns.to_numpy()}
    if nominal is not None:
        if isinstance(nominal, (pd.Series, Mapping)):
            nom = pd.Series(nominal, dtype=float).reindex(X.columns).to_numpy()
        else:
            nom = np.asarray(nominal, dtype=float).ravel()
        if nom.size != m or np.isnan(nom).any():
            raise ValueError("nominal weights must give one weight for every child")
        out["nominal"] = nom / nom.sum()
    r2 = r**2
    out.update(r=r, r2=r2, r2_share=_share(r2), eta2=eta2, eta2_share=_share(eta2))
    return pd.DataFrame(out)


# ---------------------------------------------------------------- one month of a scored table
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
    corr = correlation_matrix(X, long=False)
    groups = {i.code: table.category_of(i.parent) for i in m.indicators}
    alpha = cronbach_alpha_by_group(X, groups)
    names = {g.code: g.name for g in m.groups}
    alpha.insert(1, "category_name", alpha["group"].map(names))
    alpha = alpha.rename(columns={"group": "category"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pca = pca_variance_explained(X.dropna(axis=1))
    return Coherence(corr, alpha, pca)
