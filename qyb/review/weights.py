"""Weighting schemes for composite indicators (权重方案).

Every scheme takes a *units × indicators* table of **benefit-oriented** values
(higher = better; reverse cost indicators before calling) as a
``pandas.DataFrame`` or a 2-D array, and returns non-negative weights that sum
to 1: a ``pandas.Series`` indexed by the columns (``name`` = scheme) for a
DataFrame, an ``ndarray`` for an array.

Schemes (``SCHEMES``): ``equal``, ``entropy`` (熵权法), ``critic``, ``std`` and
``pca``; :func:`apply_scheme` dispatches by name.

Conventions shared by all schemes (the peer libraries disagree on these, so
they are decided here once and tested):

* Missing values are an error (``ValueError``): impute or drop first.
  At least two units are required (entropy divides by ``ln n``; a standard
  deviation needs two values).
* A **constant column** carries no information and gets weight 0 under the
  data-driven schemes (entropy: ``d_j = 0``; CRITIC and std: ``σ_j = 0``;
  PCA: its correlations are undefined and it is excluded).
* If **every** column is constant the data-driven schemes fall back to equal
  weights and emit a ``UserWarning``.
* Invariances (tested): CRITIC, std and PCA are invariant to positive affine
  transformations of a column (they work on min-max normalised or
  standardised columns); entropy is invariant to positive *scaling* of a
  column but not to shifts (it works on shares ``x / Σx``).

Peer references (tests only): ``pymcdm.weights`` — see each function for the
differences in convention.
"""
from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "SCHEMES",
    "apply_scheme",
    "critic",
    "entropy",
    "equal",
    "pca",
    "pca_loadings",
    "std",
    "varimax",
]

SCHEMES: tuple[str, ...] = ("equal", "entropy", "critic", "std", "pca")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def _as_matrix(values, *, min_rows: int = 2) -> tuple[np.ndarray, pd.Index | None]:
    """Return ``(X, columns)``: a float matrix and the column labels (or None)."""
    if isinstance(values, pd.DataFrame):
        columns = values.columns
        try:
            X = values.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"weights need numeric indicator columns: {exc}") from exc
    else:
        columns = None
        X = np.asarray(values, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D units x indicators table, got shape {X.shape}")
    if X.shape[1] == 0:
        raise ValueError("the table has no indicator columns")
    if X.shape[0] < min_rows:
        raise ValueError(f"need at least {min_rows} units (rows), got {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        bad = np.flatnonzero(~np.isfinite(X).all(axis=0))
        names = [_label(columns, j) for j in bad]
        raise ValueError(
            "weights need complete, finite data; missing or infinite values in "
            f"column(s) {', '.join(names)}: impute or drop those units first"
        )
    return X, columns


def _wrap(w: np.ndarray, columns: pd.Index | None, name: str):
    if columns is None:
        return w
    return pd.Series(w, index=columns, name=name)


def _label(columns: pd.Index | None, j: int) -> str:
    return repr(columns[j]) if columns is not None else f"column {j}"


def _normalise_or_equal(score: np.ndarray, scheme: str) -> np.ndarray:
    """``w = score / Σ score``; equal weights with a warning when Σ score = 0."""
    total = score.sum()
    if not np.isfinite(total) or total <= 0:
        warnings.warn(
            f"{scheme} weights: every indicator is constant (no information); "
            "falling back to equal weights",
            UserWarning,
            stacklevel=3,
        )
        return np.full(score.shape, 1.0 / score.size)
    return score / total


def _constant_columns(X: np.ndarray) -> np.ndarray:
    return np.ptp(X, axis=0) == 0


def _minmax(X: np.ndarray) -> np.ndarray:
    """Column-wise min-max normalisation ``(x - min) / (max - min)``; constant columns -> 0."""
    rng = np.ptp(X, axis=0)
    safe = np.where(rng > 0, rng, 1.0)
    return (X - X.min(axis=0)) / safe


# --------------------------------------------------------------------------
# schemes
# --------------------------------------------------------------------------
def equal(values):
    """Equal weights ``w_j = 1/m`` for ``m`` indicators (OECD/JRC Handbook 2008, §6.1)."""
    if isinstance(values, pd.DataFrame):
        m = values.shape[1]
        columns = values.columns
    else:
        arr = np.asarray(values)
        if arr.ndim != 2:
            raise ValueError(f"expected a 2-D units x indicators table, got shape {arr.shape}")
        m = arr.shape[1]
        columns = None
    if m == 0:
        raise ValueError("the table has no indicator columns")
    return _wrap(np.full(m, 1.0 / m), columns, "equal")


def entropy(
    values,
    *,
    negative: Literal["raise", "shift"] = "raise",
    sparse_threshold: float = 0.5,
):
    """Entropy weights (熵权法, Shannon entropy method).

    Formula (Shannon 1948; Zeleny 1982 *Multiple Criteria Decision Making*;
    Hwang & Yoon 1981 *MADM*, §4.1.1; identical to ``pymcdm.weights.entropy_weights``
    on strictly positive data)::

        p_ij = x_ij / Σ_i x_ij
        e_j  = -1/ln(n) · Σ_i p_ij ln p_ij        (0 · ln 0 := 0)
        d_j  = 1 - e_j
        w_j  = d_j / Σ_k d_k

    Edge cases (decided here; peers differ):

    * **zeros**: ``0 · ln 0 = 0`` (the limit). ``pymcdm`` instead sets the
      entropy of any column containing a zero to 0 (``d_j = 1``, maximal
      weight) and newer versions reject zeros outright.
    * **constant columns** (including all-zero columns): ``e_j = 1``,
      ``d_j = 0``, weight 0. All columns constant -> equal weights + warning.
    * **negative values**: the shares need ``x >= 0``. ``negative="raise"``
      (default) raises ``ValueError``; ``negative="shift"`` translates each
      column that has a negative value by its minimum (``x - min_j``), so its
      smallest value becomes 0. The shift changes the weights (entropy is
      not shift-invariant), which is why it is opt-in.
    * **mostly-zero columns**: a column with more than ``sparse_threshold``
      (default one half) of its entries equal to zero has low entropy and
      therefore a *large* weight — sparse counts are rewarded for being
      sparse. A ``UserWarning`` names each such column (non-constant ones).

    Invariant to positive scaling of a column; not to shifts.
    """
    X, columns = _as_matrix(values)
    n = X.shape[0]
    if negative not in ("raise", "shift"):
        raise ValueError(f"negative must be 'raise' or 'shift', got {negative!r}")
    neg_cols = np.flatnonzero((X < 0).any(axis=0))
    if neg_cols.size:
        if negative == "raise":
            names = ", ".join(_label(columns, j) for j in neg_cols)
            raise ValueError(
                f"entropy weights need non-negative values; negative values in {names}. "
                "Pass negative='shift' to translate those columns by their minimum, "
                "or normalise the indicators first"
            )
        X = X.copy()
        X[:, neg_cols] -= X[:, neg_cols].min(axis=0)

    constant = _constant_columns(X)
    zero_frac = (X == 0).mean(axis=0)
    for j in np.flatnonzero((zero_frac > sparse_threshold) & ~constant):
        warnings.warn(
            f"entropy weights: indicator {_label(columns, j)} is zero in "
            f"{zero_frac[j]:.0%} of units; entropy gives sparse columns a large weight",
            UserWarning,
            stacklevel=2,
        )

    col_sum = X.sum(axis=0)
    p = X / np.where(col_sum > 0, col_sum, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    d = np.where(constant, 0.0, 1.0 - e)
    d = np.clip(d, 0.0, None)  # guard -1e-17 rounding
    return _wrap(_normalise_or_equal(d, "entropy"), columns, "entropy")


def critic(values, *, ddof: int = 1):
    """CRITIC weights (CRiteria Importance Through Intercriteria Correlation).

    Formula (Diakoulaki, Mavrotas & Papayannakis 1995, *Computers & Operations
    Research* 22(7):763–770; as in ``pymcdm.weights.critic_weights``)::

        z_ij = (x_ij - min_i x_ij) / (max_i x_ij - min_i x_ij)
        σ_j  = sample standard deviation of z_·j   (ddof=1; the weights do not depend on ddof)
        r_jk = Pearson correlation of z_·j and z_·k
        C_j  = σ_j · Σ_k (1 - r_jk)
        w_j  = C_j / Σ_k C_k

    Edge cases: a constant column has ``σ_j = 0`` and weight 0, and it is left
    out of the other columns' conflict sums (its correlations are undefined;
    ``pymcdm`` returns NaN weights for every column in that case), so adding
    a constant column leaves the other weights unchanged. Exactly one
    non-constant column -> weight 1 for it, 0 for the rest (as std, entropy
    and pca). All columns constant -> equal weights + warning. Invariant to positive affine transformations
    of a column.
    """
    X, columns = _as_matrix(values)
    Z = _minmax(X)
    constant = _constant_columns(X)
    sigma = Z.std(axis=0, ddof=ddof)
    sigma[constant] = 0.0
    live = ~constant
    C = np.zeros(X.shape[1])
    if live.sum() == 1:
        # one varying indicator: it carries all the information (no conflict sum to form;
        # 1 - r_jj = 0 would otherwise zero it and fall back to equal weights)
        C[live] = 1.0
    elif live.sum() > 1:
        R = np.atleast_2d(np.corrcoef(Z[:, live], rowvar=False))
        C[live] = sigma[live] * (1.0 - R).sum(axis=0)
    return _wrap(_normalise_or_equal(C, "critic"), columns, "critic")


def std(values, *, normalise: bool = True):
    """Standard-deviation weights.

    Formula (Diakoulaki et al. 1995, the "SD" method they compare CRITIC with;
    Jahan et al. 2012 *Materials & Design* 37:345)::

        z_ij = (x_ij - min_i x_ij) / (max_i x_ij - min_i x_ij)
        w_j  = σ(z_·j) / Σ_k σ(z_·k)

    With ``normalise=False`` the raw columns are used, which is what
    ``pymcdm.weights.standard_deviation_weights`` does — that version depends
    on the units of measurement, so it is not the default. Constant columns
    get weight 0; all constant -> equal weights + warning. With the default
    normalisation the weights are invariant to positive affine transformations
    of a column.
    """
    X, columns = _as_matrix(values)
    Z = _minmax(X) if normalise else X
    sigma = Z.std(axis=0, ddof=1)
    sigma[_constant_columns(X)] = 0.0
    return _wrap(_normalise_or_equal(sigma, "std"), columns, "std")


def _correlation_eig(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of the correlation matrix of ``X``.

    Computed through the SVD of the standardised data (as R's ``prcomp(scale.=TRUE)``):
    ``Z = U S Vᵀ``, eigenvalues ``S² / (n-1)``, eigenvectors the columns of ``V``.
    """
    n = X.shape[0]
    Zs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    _, s, Vt = np.linalg.svd(Zs, full_matrices=False)
    eigval = s**2 / (n - 1)
    return eigval, Vt.T


def pca_loadings(values):
    """Signed first-principal-component loadings (COINr ``get_PCA`` weights).

    COINr 1.1 ``get_PCA`` runs ``prcomp(x, center=TRUE, scale=TRUE)`` and
    returns ``rotation[, 1]``: the unit-norm first eigenvector ``v_1`` of the
    correlation matrix. Its sign is arbitrary (LAPACK); here it is fixed so
    that ``Σ_j v_1j >= 0``. Constant columns are excluded (loading 0).
    """
    X, columns = _as_matrix(values, min_rows=3)
    v = np.zeros(X.shape[1])
    live = ~_constant_columns(X)
    if live.any():
        _, V = _correlation_eig(X[:, live])
        v1 = V[:, 0]
        v[live] = v1 if v1.sum() >= 0 else -v1
    return _wrap(v, columns, "pca_loading")


def varimax(loadings: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
            max_iter: int = 1000) -> np.ndarray:
    """Varimax rotation of a loadings matrix (p indicators × k factors).

    Kaiser (1958) *Psychometrika* 23:187; the algorithm and defaults of R's
    ``stats::varimax`` (Kaiser row normalisation, SVD update, stop when the
    criterion grows by less than ``eps`` relatively). Returns the rotated
    loadings.
    """
    L = np.asarray(loadings, dtype=float)
    p, k = L.shape
    if k < 2:
        return L.copy()
    if normalize:
        sc = np.sqrt((L**2).sum(axis=1))
        sc = np.where(sc > 0, sc, 1.0)
        L = L / sc[:, None]
    T = np.eye(k)
    d = 0.0
    for _ in range(max_iter):  # iterations of the rotation, not a loop over units
        Z = L @ T
        B = L.T @ (Z**3 - Z * (Z**2).sum(axis=0) / p)
        U, s, Vt = np.linalg.svd(B)
        T = U @ Vt
        d_past, d = d, s.sum()
        if d < d_past * (1 + eps):
            break
    Z = L @ T
    if normalize:
        Z = Z * sc[:, None]
    return Z


def pca(
    values,
    *,
    variant: Literal["first_pc", "handbook"] = "first_pc",
    min_eigenvalue: float = 1.0,
):
    """Weights from principal component analysis (on standardised columns).

    ``variant="first_pc"`` (default): the squared loadings of the first
    principal component, ``w_j = v_1j²``, where ``v_1`` is the unit-norm
    first eigenvector of the correlation matrix. These are the squares of the
    weights COINr's ``get_PCA`` returns (``prcomp(scale=TRUE)$rotation[,1]``,
    see :func:`pca_loadings`); squaring removes the arbitrary sign and makes
    them sum to 1 (``‖v_1‖ = 1``). ``w_j`` is indicator j's share of the
    first component's variance.

    ``variant="handbook"``: OECD/JRC *Handbook on Constructing Composite
    Indicators* (2008), §6.1 and Table 16, after Nicoletti, Scarpetta &
    Boylaud (2000):

    1. retain the components with eigenvalue ``λ_k > min_eigenvalue``
       (Kaiser criterion; at least one);
    2. factor loadings ``L = V_k · sqrt(λ_k)``, rotated by varimax
       (:func:`varimax`, Kaiser normalisation);
    3. squared loadings scaled to unity sum within each factor:
       ``s_jk = L_jk² / Σ_j L_jk²``; the factor's weight is its share of
       explained variance, ``φ_k = Σ_j L_jk² / Σ_k Σ_j L_jk²``;
    4. each indicator is assigned to the factor where ``s_jk`` is largest;
       its weight is ``s_jk · φ_k``, and the weights are rescaled to sum to 1.

    With a single retained factor the handbook variant equals ``first_pc``.
    Constant columns get weight 0. At least 3 units are required.
    """
    X, columns = _as_matrix(values, min_rows=3)
    if variant not in ("first_pc", "handbook"):
        raise ValueError(f"variant must be 'first_pc' or 'handbook', got {variant!r}")
    m = X.shape[1]
    live = ~_constant_columns(X)
    w = np.zeros(m)
    if live.sum() == 0:
        return _wrap(_normalise_or_equal(w, "pca"), columns, "pca")
    if live.sum() == 1:
        w[live] = 1.0
        return _wrap(w, columns, "pca")
    eigval, V = _correlation_eig(X[:, live])
    if variant == "first_pc":
        w[live] = V[:, 0] ** 2
    else:
        k = max(1, int((eigval > min_eigenvalue).sum()))
        L = V[:, :k] * np.sqrt(eigval[:k])
        L = varimax(L) if k > 1 else L
        L2 = L**2
        expl = L2.sum(axis=0)
        scaled = L2 / expl
        phi = expl / expl.sum()
        best = scaled.argmax(axis=1)
        rows = np.arange(scaled.shape[0])
        w[live] = scaled[rows, best] * phi[best]
    return _wrap(_normalise_or_equal(w, "pca"), columns, "pca")


_DISPATCH = {
    "equal": equal,
    "entropy": entropy,
    "critic": critic,
    "std": std,
    "pca": pca,
}


def apply_scheme(values, scheme: str, **kwargs):
    """Weights of ``values`` under the scheme named ``scheme`` (one of :data:`SCHEMES`).

    Extra keyword arguments go to the scheme function (e.g.
    ``apply_scheme(df, "pca", variant="handbook")``).
    """
    try:
        func = _DISPATCH[scheme]
    except KeyError:
        raise ValueError(
            f"unknown weighting scheme {scheme!r}; choose one of {', '.join(SCHEMES)}"
        ) from None
    return func(values, **kwargs)
