"""Tests for qyb.review.coherence: hand-computed α, scipy/numpy references, COINr's ASEM outputs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.review.coherence import (
    correlation_matrix,
    correlation_weights,
    cronbach_alpha,
    cronbach_alpha_by_group,
    pca_variance_explained,
)


# ---------------------------------------------------------------------------
# correlation_matrix
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("method, ref", [("pearson", stats.pearsonr), ("spearman", stats.spearmanr)])
def test_correlation_matrix_matches_scipy(method, ref):
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(29, 4)), columns=list("abcd"))
    X["b"] += X["a"]
    tidy = correlation_matrix(X, method=method)
    assert list(tidy.columns) == ["var1", "var2", "r", "n", "pvalue"]
    assert len(tidy) == 16 and (tidy["n"] == 29).all()
    for row in tidy.itertuples():
        if row.var1 == row.var2:
            assert row.r == pytest.approx(1.0) and row.pvalue == 0.0
            continue
        res = ref(X[row.var1], X[row.var2])
        assert row.r == pytest.approx(res.statistic, abs=1e-12)
        assert row.pvalue == pytest.approx(res.pvalue, rel=1e-8)
    wide = correlation_matrix(X, method=method, long=False)
    assert wide.shape == (4, 4) and wide.loc["a", "b"] == pytest.approx(tidy.query("var1=='a' and var2=='b'").r.item())


def test_correlation_pairwise_complete():
    X = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [2.0, 1, 4, 3, np.nan, 7], "c": [np.nan, 1, 2, 2, 3, 5]})
    tidy = correlation_matrix(X).set_index(["var1", "var2"])
    keep = X[["a", "b"]].dropna()
    assert tidy.loc[("a", "b"), "n"] == 5
    assert tidy.loc[("a", "b"), "r"] == pytest.approx(stats.pearsonr(keep.a, keep.b).statistic)
    assert tidy.loc[("b", "c"), "n"] == 4


def test_correlation_reproduces_coinr_environ(asem_oracles):
    # COINr get_corr(coin, dset="Raw", iCodes=list("Environ"), Levels=1): pairwise-complete
    # Pearson, correlations with p > 0.05 printed as NA.
    data = pd.read_csv(asem_oracles / "ASEM_iData.csv")
    env = data[["CO2", "Forest", "MatCon", "PrimEner", "Renew"]]
    tidy = correlation_matrix(env)
    pub = pd.read_csv(asem_oracles / "published" / "results_analysis_corr_environ_long.csv")
    got = tidy.set_index(["var1", "var2"])
    for row in pub.itertuples():
        mine = got.loc[(row.Var1, row.Var2)]
        if pd.isna(row.Correlation):
            assert mine.pvalue > 0.05
        else:
            assert mine.r == pytest.approx(row.Correlation, abs=1e-7)
            assert mine.pvalue <= 0.05
    wide = pd.read_csv(asem_oracles / "published" / "results_analysis_corr_environ_wide.csv")
    mat = correlation_matrix(env, long=False)
    pmat = tidy.pivot(index="var1", columns="var2", values="pvalue").loc[mat.index, mat.columns]
    masked = mat.where(pmat <= 0.05)  # COINr's pval = 0.05 masking
    pub_mat = wide[["CO2", "Forest", "MatCon", "PrimEner", "Renew"]].to_numpy()
    np.testing.assert_allclose(masked.round(2).to_numpy(), pub_mat, atol=1e-9)


# ---------------------------------------------------------------------------
# Cronbach's alpha
# ---------------------------------------------------------------------------
def test_cronbach_alpha_hand_example():
    # 4 units × 3 items:  i1 = (1,2,3,4), i2 = (2,3,3,4), i3 = (1,3,2,4)
    #   var(i1) = 5/3, var(i2) = 2/3, var(i3) = 5/3   -> Σ var_i = 4
    #   totals = (4, 8, 8, 12), var(total) = (16+0+0+16)/3 = 32/3
    #   α = 3/2 · (1 - 4 / (32/3)) = 3/2 · 5/8 = 15/16 = 0.9375
    X = pd.DataFrame({"i1": [1, 2, 3, 4], "i2": [2, 3, 3, 4], "i3": [1, 3, 2, 4]})
    assert cronbach_alpha(X) == pytest.approx(0.9375, abs=1e-14)
    # perfectly parallel items -> α = 1; two independent items -> α near 0
    assert cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [1, 2, 3]})) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least 2 items"):
        cronbach_alpha(X[["i1"]])


def test_cronbach_alpha_reproduces_coinr_p2p(asem_oracles):
    # COINr analysis article: get_cronbach(coin, dset="Raw", iCodes="P2P", Level=1) = 0.05126659
    # (pairwise-complete covariance; the raw P2P block has 17 missing values)
    data = pd.read_csv(asem_oracles / "ASEM_iData.csv")
    p2p = data[["StMob", "Research", "Pat", "CultServ", "CultGood", "Tourist", "MigStock", "Lang"]]
    assert p2p.isna().sum().sum() > 0
    assert cronbach_alpha(p2p) == pytest.approx(0.05126659, abs=5e-9)


def test_cronbach_by_group():
    X = pd.DataFrame({"i1": [1, 2, 3, 4], "i2": [2, 3, 3, 4], "i3": [1, 3, 2, 4], "j": [5, 1, 2, 0]})
    res = cronbach_alpha_by_group(X, {"i1": "A", "i2": "A", "i3": "A", "j": "B"})
    assert list(res.columns) == ["group", "k", "n", "alpha"]
    assert res.set_index("group").loc["A", "alpha"] == pytest.approx(0.9375)
    assert res.set_index("group").loc["B", "k"] == 1 and np.isnan(res.set_index("group").loc["B", "alpha"])


# ---------------------------------------------------------------------------
# PCA variance explained
# ---------------------------------------------------------------------------
def test_pca_variance_explained_against_numpy():
    rng = np.random.default_rng(8)
    f = rng.normal(size=(40, 1))
    X = pd.DataFrame(f @ rng.uniform(0.5, 1.5, (1, 5)) + rng.normal(size=(40, 5)) * [1, 2, 3, 4, 5])
    res = pca_variance_explained(X)
    assert list(res.columns) == ["component", "eigenvalue", "proportion", "cumulative"]
    # eigenvalues of the correlation matrix
    evals = np.sort(np.linalg.eigvalsh(np.corrcoef(X.to_numpy(), rowvar=False)))[::-1]
    np.testing.assert_allclose(res["eigenvalue"], evals, rtol=1e-10, atol=1e-12)
    # and numpy's SVD of the z-scores
    Z = (X - X.mean()) / X.std(ddof=1)
    s = np.linalg.svd(Z.to_numpy(), compute_uv=False)
    np.testing.assert_allclose(res["proportion"], s**2 / (s**2).sum(), rtol=1e-10)
    assert res["eigenvalue"].sum() == pytest.approx(5.0)
    assert res["cumulative"].iloc[-1] == pytest.approx(1.0)
    with pytest.warns(UserWarning, match="constant"):
        assert len(pca_variance_explained(X.assign(k=1.0))) == 5
    with pytest.raises(ValueError, match="complete data"):
        pca_variance_explained(X.assign(k=np.r_[np.nan, np.ones(39)]))


# ---------------------------------------------------------------------------
# effective weights
# ---------------------------------------------------------------------------
def test_effective_weights_linear_index():
    # Y = Σ w_i X_i with independent X_i: r_i² = w_i² σ_i² / Σ_k w_k² σ_k²
    rng = np.random.default_rng(4)
    n = 20000
    sd = np.array([1.0, 1.0, 2.0])
    w = np.array([0.5, 0.3, 0.2])
    X = pd.DataFrame(rng.normal(size=(n, 3)) * sd, columns=["order", "fraud", "traffic"])
    y = X.to_numpy() @ w
    res = correlation_weights(X, y, nominal={"order": 5, "fraud": 3, "traffic": 2}, n_bins=50)
    assert list(res.columns) == ["child", "nominal", "r", "r2", "r2_share", "eta2", "eta2_share"]
    truth = w**2 * sd**2 / (w**2 * sd**2).sum()
    np.testing.assert_allclose(res["nominal"], w)
    np.testing.assert_allclose(res["r2"], truth, atol=0.01)
    np.testing.assert_allclose(res["r2_share"], truth, atol=0.01)
    np.testing.assert_allclose(res["eta2"], truth, atol=0.02)
    assert res["r2_share"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(res["r"], [np.corrcoef(X[c], y)[0, 1] for c in X], rtol=1e-12)


def test_effective_weights_eta2_hand_example_and_nonlinear():
    # 4 units, 2 bins; child x = (1,2,3,4) -> bins {1,2}, {3,4}; y = (0, 2, 4, 6)
    #   ȳ = 3, bin means 1 and 5 -> between SS = 2·4 + 2·4 = 16; total SS = 9+1+1+9 = 20
    #   η² = 16/20 = 0.8;  r = 1 so r² = 1
    res = correlation_weights(pd.DataFrame({"x": [1, 2, 3, 4]}), [0, 2, 4, 6], n_bins=2)
    assert res.loc[0, "eta2"] == pytest.approx(0.8) and res.loc[0, "r2"] == pytest.approx(1.0)
    # a U-shaped dependence: r² ≈ 0 but η² large
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 5000)
    res2 = correlation_weights(pd.DataFrame({"u": x, "noise": rng.uniform(size=5000)}), x**2, n_bins=20)
    assert res2.loc[0, "r2"] < 0.01 and res2.loc[0, "eta2"] > 0.95
    assert res2.loc[1, "eta2"] < 0.02
