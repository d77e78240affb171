"""Tests for qyb.review.weights: worked examples, peer agreement (pymcdm), COINr, properties."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qyb import weights as W
from tests.helpers import strict_warnings

pymcdm_weights = pytest.importorskip("pymcdm.weights")


# ---------------------------------------------------------------------------
# Entropy: worked example computed by hand
# ---------------------------------------------------------------------------
def test_entropy_hand_worked_example():
    # 3 units, 4 indicators.  Step by step (natural logs, n = 3, ln 3 = 1.0986123):
    #   a = (1, 1, 2): p = (1/4, 1/4, 1/2)
    #       H = 2·(1/4)·ln 4 + (1/2)·ln 2 = (3/2)·ln 2 = 1.0397208
    #       e = H / ln 3 = 0.9463946,  d = 0.0536054
    #   b = (1, 2, 3): p = (1/6, 1/3, 1/2)
    #       H = (1/6)ln 6 + (1/3)ln 3 + (1/2)ln 2 = 0.2986266 + 0.3662041 + 0.3465736 = 1.0114043
    #       e = 0.9206198,  d = 0.0793802
    #   c = (2, 2, 2): constant, p = 1/3 each, e = 1, d = 0 -> weight 0
    #   k = (0, 5, 5): p = (0, 1/2, 1/2), 0·ln 0 := 0, H = ln 2 = 0.6931472
    #       e = ln 2 / ln 3 = 0.6309298,  d = 0.3690702
    #   Σd = 0.5020558;  w = d / Σd = (0.1067717, 0.1581102, 0, 0.7351180)
    X = pd.DataFrame({"a": [1, 1, 2], "b": [1, 2, 3], "c": [2, 2, 2], "k": [0, 5, 5]})
    d = np.array([
        1 - 1.5 * math.log(2) / math.log(3),
        1 - (math.log(6) / 6 + math.log(3) / 3 + math.log(2) / 2) / math.log(3),
        0.0,
        1 - math.log(2) / math.log(3),
    ])
    np.testing.assert_allclose(d, [0.0536054, 0.0793802, 0.0, 0.3690702], atol=1e-7)
    w = W.entropy(X)
    assert isinstance(w, pd.Series) and list(w.index) == ["a", "b", "c", "k"]
    np.testing.assert_allclose(w.to_numpy(), [0.1067717, 0.1581102, 0.0, 0.7351180], atol=1e-7)
    np.testing.assert_allclose(w.to_numpy(), d / d.sum(), rtol=1e-12)


def test_entropy_matches_pymcdm_on_positive_matrices():
    # pymcdm.weights.entropy_weights: sum normalisation, -Σ p ln p / ln m — the same
    # formula on strictly positive data (it differs on zeros, see next test).
    for seed in range(25):
        rng = np.random.default_rng(seed)
        X = rng.uniform(0.1, 10.0, size=(rng.integers(3, 40), rng.integers(2, 9)))
        np.testing.assert_allclose(W.entropy(X), pymcdm_weights.entropy_weights(X), rtol=1e-10)


def test_entropy_zero_convention_differs_from_pymcdm():
    # Ours: 0·ln 0 = 0.  With k = (0, 5, 5) the entropy is ln2/ln3, not 0.
    # (pymcdm sets e=0 for any column with a zero, or rejects zeros outright.)
    X = np.array([[1.0, 0.0], [2.0, 5.0], [3.0, 5.0]])
    w = W.entropy(X)
    d_b = 1 - math.log(2) / math.log(3)
    d_a = 1 - (math.log(6) / 6 + math.log(3) / 3 + math.log(2) / 2) / math.log(3)
    np.testing.assert_allclose(w, np.array([d_a, d_b]) / (d_a + d_b), rtol=1e-12)


def test_entropy_negative_values_raise_or_shift():
    X = pd.DataFrame({"a": [-1.0, 0.0, 1.0], "b": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="'a'"):
        W.entropy(X)
    shifted = W.entropy(X, negative="shift")
    # shift by min: a -> (0, 1, 2), identical to entropy of the shifted table
    expected = W.entropy(pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [1.0, 2.0, 3.0]}))
    pd.testing.assert_series_equal(shifted, expected)


def test_entropy_sparse_column_warns_and_gets_large_weight():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"dense": rng.uniform(5, 10, 20), "sparse": np.r_[np.zeros(15), rng.uniform(1, 3, 5)]})
    with pytest.warns(UserWarning, match="'sparse'.*75%"):
        w = W.entropy(X)
    assert w["sparse"] > 0.9


def test_entropy_constant_and_all_constant():
    X = pd.DataFrame({"a": [1.0, 2.0, 4.0], "c": [3.0, 3.0, 3.0], "z": [0.0, 0.0, 0.0]})
    with strict_warnings():  # constant/all-zero columns do not trigger the sparse warning
        w = W.entropy(X)
    np.testing.assert_allclose(w.to_numpy(), [1.0, 0.0, 0.0])
    with pytest.warns(UserWarning, match="equal weights"):
        w_all = W.entropy(np.ones((4, 3)))
    np.testing.assert_allclose(w_all, [1 / 3] * 3)


# ---------------------------------------------------------------------------
# CRITIC: worked example computed by hand (closed form)
# ---------------------------------------------------------------------------
def test_critic_hand_worked_example():
    # 4 units, 3 indicators on different scales:
    #   a = (10, 20, 30, 40)  -> z = (0, 1/3, 2/3, 1)
    #   b = (115, 110, 105, 100) -> z = (1, 2/3, 1/3, 0)     r_ab = -1
    #   c = (7, 9, 9, 7)      -> z = (0, 1, 1, 0)           r_ac = r_bc = 0
    #       (deviations of a: -1.5,-0.5,0.5,1.5; of c: -.5,.5,.5,-.5; Σ products = 0)
    #   σ (ddof 1): σ_a = σ_b = sqrt((1/4+1/36+1/36+1/4)/3) = sqrt(5/27) = 0.4303315
    #               σ_c = sqrt(1/3) = 0.5773503
    #   C_a = σ_a·[(1-1) + (1+1) + (1-0)] = 3σ_a = sqrt(5/3) = 1.2909944 = C_b
    #   C_c = σ_c·[(1-0) + (1-0) + 0] = 2/sqrt(3) = 1.1547005
    #   w_c = 1/(1+sqrt 5) = 0.3090170,  w_a = w_b = sqrt5/(2(1+sqrt5)) = 0.3454915
    X = pd.DataFrame({"a": [10, 20, 30, 40], "b": [115, 110, 105, 100], "c": [7, 9, 9, 7]})
    w = W.critic(X)
    s5 = math.sqrt(5)
    np.testing.assert_allclose(w.to_numpy(), [s5 / (2 * (1 + s5))] * 2 + [1 / (1 + s5)], rtol=1e-12)
    np.testing.assert_allclose(w.to_numpy(), [0.3454915, 0.3454915, 0.3090170], atol=1e-7)


def test_critic_and_std_match_pymcdm():
    # pymcdm critic_weights: min-max normalisation, std ddof=1, Pearson r — same as ours.
    # pymcdm standard_deviation_weights works on the *raw* matrix; ours on min-max
    # normalised columns, so we feed pymcdm the normalised matrix.
    for seed in range(25):
        rng = np.random.default_rng(100 + seed)
        X = rng.lognormal(1.0, 0.7, size=(rng.integers(4, 40), rng.integers(2, 9)))
        np.testing.assert_allclose(W.critic(X), pymcdm_weights.critic_weights(X), rtol=1e-10)
        Z = (X - X.min(0)) / (X.max(0) - X.min(0))
        np.testing.assert_allclose(W.std(X), pymcdm_weights.standard_deviation_weights(Z), rtol=1e-10)
        np.testing.assert_allclose(
            W.std(X, normalise=False), pymcdm_weights.standard_deviation_weights(X), rtol=1e-10
        )


def test_critic_constant_column_gets_zero_and_leaves_others_unchanged():
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.uniform(size=(12, 3)), columns=["a", "b", "c"])
    base = W.critic(X)
    w = W.critic(X.assign(k=4.2))
    assert w["k"] == 0.0
    pd.testing.assert_series_equal(w[["a", "b", "c"]], base, check_names=False)
    with pytest.warns(UserWarning, match="equal weights"):
        np.testing.assert_allclose(W.critic(np.full((5, 4), 2.0)), [0.25] * 4)
    assert W.std(X.assign(k=1.0))["k"] == 0.0


# ---------------------------------------------------------------------------
# PCA
# ---------------------------------------------------------------------------
def test_pca_first_pc_against_numpy_svd():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(60, 1))
    X = latent @ rng.uniform(0.5, 2.0, size=(1, 5)) + rng.normal(scale=0.8, size=(60, 5)) + 10
    # Direct: standardise (ddof 1), SVD, first right singular vector squared
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    np.testing.assert_allclose(W.pca(X), Vt[0] ** 2, rtol=1e-10)
    # and the eigen-decomposition of the correlation matrix agrees
    evals, evecs = np.linalg.eigh(np.corrcoef(X, rowvar=False))
    np.testing.assert_allclose(W.pca(X), evecs[:, -1] ** 2, rtol=1e-8)
    np.testing.assert_allclose(s[0] ** 2 / (len(X) - 1), evals[-1], rtol=1e-10)


def test_pca_handbook_variant():
    rng = np.random.default_rng(11)
    # one strong factor -> only one eigenvalue > 1 -> equals first_pc variant
    f = rng.normal(size=(80, 1))
    X1 = f @ np.ones((1, 4)) + rng.normal(scale=0.5, size=(80, 4))
    np.testing.assert_allclose(W.pca(X1, variant="handbook"), W.pca(X1), rtol=1e-12)
    # two blocks -> two factors; each indicator loads on its block's factor
    g = rng.normal(size=(200, 2))
    X2 = np.c_[g[:, [0]] + 0.3 * rng.normal(size=(200, 3)), g[:, [1]] + 0.3 * rng.normal(size=(200, 3))]
    w = W.pca(X2, variant="handbook")
    assert w.sum() == pytest.approx(1.0) and (w > 0).all()
    # two equally strong, well separated blocks -> weights close to 1/6 each
    np.testing.assert_allclose(w, 1 / 6, atol=0.02)


def test_varimax_matches_statsmodels():
    rotate_factors = pytest.importorskip("statsmodels.multivariate.factor_rotation").rotate_factors
    rng = np.random.default_rng(5)
    A = rng.normal(size=(8, 3))
    ours = W.varimax(A, normalize=False, eps=1e-12)
    ref, _ = rotate_factors(A, "varimax")
    # the rotation is unique up to column order and sign
    key = lambda L: np.sort(np.sort(np.abs(L), axis=0), axis=1)  # noqa: E731
    np.testing.assert_allclose(np.sort(np.abs(ours).sum(0)), np.sort(np.abs(ref).sum(0)), rtol=1e-5)
    np.testing.assert_allclose(key(ours), key(ref), atol=1e-5)


def test_pca_loadings_reproduce_coinr_get_pca(asem_oracles):
    # COINr 1.1.14 analysis article, chunk `analysis_pca_sust_str` (published_results.md):
    #   get_PCA(coin, dset = "Raw", iCodes = "Sust", out2 = "list") -> first-PC loadings
    #   Environ : -0.581  0.214 -0.543 -0.313  0.473   (CO2, Forest, MatCon, PrimEner, Renew)
    #   SusEcFin:  0.472  0.451 -0.492 -0.227 -0.530   (GDPGrow, NEET, PrivDebt, PubDebt, RDExp)
    #   Social  : -0.417 -0.324  0.401 -0.191  0.302 ... (CPI, FemLab, FreePress, NGOs, Palma, ...)
    # COINr drops incomplete rows (na.omit) and the sign is arbitrary.
    data = pd.read_csv(asem_oracles / "ASEM_iData.csv")
    cases = {
        ("CO2", "Forest", "MatCon", "PrimEner", "Renew"): [-0.581, 0.214, -0.543, -0.313, 0.473],
        ("GDPGrow", "NEET", "PrivDebt", "PubDebt", "RDExp"): [0.472, 0.451, -0.492, -0.227, -0.53],
        ("CPI", "FemLab", "FreePress", "NGOs", "Palma", "Poverty", "TertGrad", "TolMin", "WomParl"):
            [-0.417, -0.324, 0.401, -0.191, 0.302],
    }
    for cols, published in cases.items():
        v = W.pca_loadings(data[list(cols)].dropna()).to_numpy()[: len(published)]
        sign = np.sign(v[0]) * np.sign(published[0])
        np.testing.assert_allclose(sign * v, published, atol=6e-4)
        np.testing.assert_allclose(W.pca(data[list(cols)].dropna()).to_numpy()[: len(published)],
                                   np.square(published), atol=1e-3)


# ---------------------------------------------------------------------------
# properties of every scheme
# ---------------------------------------------------------------------------
SCALE_INVARIANT = {"equal", "entropy", "critic", "std", "pca"}  # positive scaling
SHIFT_INVARIANT = {"equal", "critic", "std", "pca"}  # adding a constant


@pytest.mark.parametrize("scheme", W.SCHEMES)
def test_scheme_properties(scheme):
    for seed in range(10):
        rng = np.random.default_rng(1000 + seed)
        n, m = rng.integers(5, 30), rng.integers(2, 7)
        X = pd.DataFrame(rng.gamma(2.0, 3.0, size=(n, m)) + 0.1, columns=[f"i{j}" for j in range(m)])
        w = W.apply_scheme(X, scheme)
        assert isinstance(w, pd.Series) and list(w.index) == list(X.columns)
        assert w.sum() == pytest.approx(1.0, abs=1e-12)
        assert (w >= 0).all()
        # array in -> array out, same numbers
        np.testing.assert_allclose(W.apply_scheme(X.to_numpy(), scheme), w.to_numpy(), rtol=1e-12)
        # permuting columns permutes weights
        perm = list(rng.permutation(m))
        pd.testing.assert_series_equal(W.apply_scheme(X.iloc[:, perm], scheme), w.iloc[perm], rtol=1e-9)
        scale = rng.uniform(0.01, 100.0, size=m)
        if scheme in SCALE_INVARIANT:
            np.testing.assert_allclose(W.apply_scheme(X * scale, scheme), w, rtol=1e-9)
        if scheme in SHIFT_INVARIANT:
            np.testing.assert_allclose(W.apply_scheme(X + scale, scheme), w, rtol=1e-9)


def test_apply_scheme_and_input_errors():
    assert W.SCHEMES == ("equal", "entropy", "critic", "std", "pca")
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 1.0, 5.0]})
    np.testing.assert_allclose(W.apply_scheme(X, "equal"), [0.5, 0.5])
    pd.testing.assert_series_equal(W.apply_scheme(X, "pca", variant="handbook"), W.pca(X, variant="handbook"))
    with pytest.raises(ValueError, match="unknown weighting scheme"):
        W.apply_scheme(X, "ahp")
    with pytest.raises(ValueError, match="'b'"):
        W.critic(X.assign(b=[1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="at least 2 units"):
        W.entropy(X.iloc[:1])


def test_coinr_level2_pca_weights_are_unit_norm_loadings(asem_oracles):
    # COINr's published PCA weights for the ASEM level-2 pillars (weights article,
    # results_weights_pca_lev2.csv) are the signed first-PC loadings of each parent group
    # (prcomp rotation[,1]): unit norm within a group, so their squares — which is what
    # qyb.weights.pca(variant="first_pc") returns — sum to 1 per group. (Reproducing the
    # values themselves needs COINr's whole Aggregated data set, which is not published.)
    pub = pd.read_csv(asem_oracles / "published" / "results_weights_pca_lev2.csv").set_index("iCode")["Weight"]
    groups = {"Conn": ["Physical", "ConEcFin", "Political", "Instit", "P2P"], "Sust": ["Environ", "Social", "SusEcFin"]}
    for members in groups.values():
        assert (pub[members] ** 2).sum() == pytest.approx(1.0, abs=1e-6)


def test_pca_constant_columns():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(20, 3)), columns=list("abc"))
    w = W.pca(X.assign(k=7.0))
    assert w["k"] == 0.0
    pd.testing.assert_series_equal(w[list("abc")], W.pca(X))
    with pytest.warns(UserWarning, match="equal weights"):
        np.testing.assert_allclose(W.pca(np.ones((5, 2))), [0.5, 0.5])


def test_critic_one_varying_column_gets_all_the_weight():
    # review: with one non-constant column CRITIC fell back to equal weights with the
    # "every indicator is constant" warning; it must give [1, 0, 0] like std / entropy / pca
    X = np.c_[np.arange(5.0), np.ones(5), 2 * np.ones(5)]
    with strict_warnings():
        w = W.critic(X)
        others = [W.std(X), W.entropy(X), W.pca(X)]
    np.testing.assert_allclose(w, [1.0, 0.0, 0.0])
    for o in others:
        np.testing.assert_allclose(o, [1.0, 0.0, 0.0])
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    assert W.critic(df).to_dict() == {"a": 1.0, "b": 0.0, "c": 0.0}
