"""Tests for qyb.review.sobol: Ishigami and linear known answers, scipy agreement, bootstrap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from qyb.review.sobol import saltelli_design, sobol_analyse, sobol_indices

# Ishigami & Homma (1990), a = 7, b = 0.1, X_i ~ U(-π, π).  Analytic indices
# (Homma & Saltelli 1996, Reliab. Eng. Syst. Saf. 52:1-17; the values SALib's and
# scipy's documentation quote; the next test recomputes them from the formulas):
#   V = a²/8 + b π⁴/5 + b² π⁸/18 + 1/2 = 13.8446
#   V1 = (1 + b π⁴/5)²/2, V2 = a²/8, V13 = b² π⁸ (1/18 - 1/50)
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(u: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    x = -np.pi + 2 * np.pi * u
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_analytic_values_are_right():
    a, b = 7.0, 0.1
    V = a**2 / 8 + b * np.pi**4 / 5 + b**2 * np.pi**8 / 18 + 0.5
    V1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    V2 = a**2 / 8
    V13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    np.testing.assert_allclose([V1 / V, V2 / V, 0.0], ISHIGAMI_S1, atol=5e-5)
    np.testing.assert_allclose([(V1 + V13) / V, V2 / V, V13 / V], ISHIGAMI_ST, atol=5e-5)


def test_design_shapes_and_structure():
    A, B, AB = saltelli_design(64, 3, seed=1)
    assert A.shape == B.shape == (64, 3) and AB.shape == (3, 64, 3)
    assert ((A >= 0) & (A < 1)).all() and ((B >= 0) & (B < 1)).all()
    for i in range(3):
        np.testing.assert_array_equal(AB[i, :, i], B[:, i])
        others = [j for j in range(3) if j != i]
        np.testing.assert_array_equal(AB[i][:, others], A[:, others])
    A2, B2, AB2 = saltelli_design(64, 3, seed=1)
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(AB, AB2)
    Ar, _, _ = saltelli_design(50, 2, seed=3, method="random")
    assert Ar.shape == (50, 2)


def test_ishigami_against_analytic_values():
    # N = 2^14 scrambled Sobol' rows (5 N runs): estimator error is ~0.01
    result = sobol_analyse(ishigami, d=3, n=2**14, factor_names=["x1", "x2", "x3"], seed=20230301, n_boot=500)
    assert (result.n, result.n_boot, result.level) == (2**14, 500, 0.95)
    res = result.table
    assert list(res.columns) == ["factor", "S1", "S1_lower", "S1_upper", "ST", "ST_lower", "ST_upper"]
    assert list(res["factor"]) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(res["S1"], ISHIGAMI_S1, atol=0.03)
    np.testing.assert_allclose(res["ST"], ISHIGAMI_ST, atol=0.03)
    # the 95% bootstrap intervals cover the analytic values
    assert ((res["S1_lower"] <= ISHIGAMI_S1) & (ISHIGAMI_S1 <= res["S1_upper"])).all()
    assert ((res["ST_lower"] <= ISHIGAMI_ST) & (ISHIGAMI_ST <= res["ST_upper"])).all()
    assert ((res["S1_lower"] <= res["S1"]) & (res["S1"] <= res["S1_upper"])).all()
    assert (res["ST_upper"] - res["ST_lower"] < 0.1).all()


def test_agrees_with_scipy_sobol_indices_on_same_runs():
    n, d = 2**12, 3
    A, B, AB = saltelli_design(n, d, seed=7)
    f_A, f_B = ishigami(A), ishigami(B)
    f_AB = np.stack([ishigami(AB[i]) for i in range(d)])  # d model runs, not per draw
    ours = sobol_indices(f_A, f_B, f_AB, n_boot=0).table
    # scipy's dict interface: f_A, f_B of shape (s, n), f_AB of shape (d, s, n)
    ref = stats.sobol_indices(
        func={"f_A": f_A[None, :], "f_B": f_B[None, :], "f_AB": f_AB[:, None, :]}, n=n
    )
    np.testing.assert_allclose(ours["S1"], ref.first_order, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours["ST"], ref.total_order, rtol=1e-10, atol=1e-12)
    assert ours[["S1_lower", "ST_upper"]].isna().all().all()


def test_agrees_with_scipy_on_its_own_design():
    # scipy draws its own Saltelli design; both estimates must be near the truth
    ref = stats.sobol_indices(
        func=lambda x: ishigami(x.T), n=2**13, dists=[stats.uniform()] * 3, rng=np.random.default_rng(5)
    )
    ours = sobol_analyse(ishigami, 3, 2**13, seed=5, n_boot=0).table
    np.testing.assert_allclose(ours["S1"], ref.first_order, atol=0.04)
    np.testing.assert_allclose(ours["ST"], ref.total_order, atol=0.04)


def test_linear_additive_model():
    # Y = Σ a_i U_i, U_i ~ U(0,1) independent: V_i = a_i²/12, no interactions,
    # so S1_i = ST_i = a_i² / Σ a_k²  =  (1, 4, 9, 0) / 14
    a = np.array([1.0, 2.0, 3.0, 0.0])
    truth = a**2 / (a**2).sum()
    res = sobol_analyse(lambda u: u @ a, d=4, n=2**12, seed=3, n_boot=300).table
    np.testing.assert_allclose(res["S1"], truth, atol=0.02)
    np.testing.assert_allclose(res["ST"], truth, atol=0.01)
    assert res.loc[3, "ST"] == 0.0  # a factor that is not in the model: exactly zero total effect
    assert ((res["ST_lower"] <= truth + 1e-12) & (truth <= res["ST_upper"] + 1e-12)).all()


def test_reproducible_with_seed_and_seed_matters():
    r1 = sobol_analyse(ishigami, 3, 2**10, seed=42, n_boot=200).table
    r2 = sobol_analyse(ishigami, 3, 2**10, seed=42, n_boot=200).table
    pd.testing.assert_frame_equal(r1, r2)
    r3 = sobol_analyse(ishigami, 3, 2**10, seed=43, n_boot=200).table
    assert not np.allclose(r1["S1"], r3["S1"])


def test_bootstrap_equals_explicit_row_resampling():
    # the count-matrix bootstrap is the same as resampling rows explicitly
    rng = np.random.default_rng(0)
    n, d = 40, 2
    f_A, f_B, f_AB = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(d, n))
    res = sobol_indices(f_A, f_B, f_AB, n_boot=50, seed=9, level=0.5).table
    counts = np.random.default_rng(9).multinomial(n, np.full(n, 1 / n), size=50)
    draws = []
    for c in counts:  # reference: explicit resampling (slow path, test only)
        idx = np.repeat(np.arange(n), c)
        r = sobol_indices(f_A[idx], f_B[idx], f_AB[:, idx], n_boot=0).table
        draws.append(r["S1"].to_numpy())
    lo, hi = np.quantile(np.array(draws), [0.25, 0.75], axis=0)
    np.testing.assert_allclose(res["S1_lower"], lo, rtol=1e-10)
    np.testing.assert_allclose(res["S1_upper"], hi, rtol=1e-10)


def test_input_errors_and_constant_output():
    with pytest.raises(ValueError, match="shapes"):
        sobol_indices(np.zeros(5), np.zeros(4), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="factor names"):
        sobol_indices(np.arange(5.0), np.arange(5.0), np.ones((2, 5)), factor_names=["a"])
    res = sobol_indices(np.ones(8), np.ones(8), np.ones((2, 8)), n_boot=10, seed=1)
    assert res.table[["S1", "ST"]].isna().all().all() and res.variance == 0
