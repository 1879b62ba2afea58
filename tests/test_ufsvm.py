"""The structured solver of the relaxation (5): optimum, minimizer, certificate, projection."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from seli_exact import SeliInputError, from_counts, sel_matrix, step
from seli_exact.solvers import dual_value, nuclear_norm_weighted, solve_ufsvm
from proofs_check import tolerances
from seli_exact.solvers.ufsvm import _dual_feasible, _project_K
from tests.strategies import any_counts, step_counts

# Tolerances (proofs_check.tolerances): float64(k), a result of O(k) float64 operations on O(1)
# data, 2^-43 (k + 1) (the k x k SVDs and products here, and LAPACK's dense singular values);
# ADMM_STOP, solve_ufsvm's stopping rule (certified relative gap <= tol = 1e-11, so the
# objective is within ADMM_STOP |p*| of the optimum); admm(), the accuracy of its minimizer.


def dense_nuclear_norm(counts):
    """||Zhat||_* from numpy's SVD of the dense (k, n) SEL matrix (independent of the solver)."""
    return float(np.linalg.svd(sel_matrix(counts), compute_uv=False).sum())


def test_fig1_known_answer():
    # Sec. A's printed STEP singular values for (4, 10, 1/2, 5): 5 sqrt 2, sqrt(110)/2, sqrt 5
    r = solve_ufsvm(step(4, 10, "1/2", 5))
    p_star = 5 * math.sqrt(2) + math.sqrt(110) / 2 + math.sqrt(5)
    assert r.converged
    rounding = tolerances.float64(4) * p_star
    assert r.lower_bound - rounding <= p_star <= r.objective + rounding
    assert abs(r.objective - p_star) <= tolerances.ADMM_STOP * p_star + rounding
    assert np.abs(r.Z_class - (np.eye(4) - 0.25)).max() <= tolerances.admm()


def test_balanced_known_answer():
    # R = 1: P D P = n0 P, so ||Zhat||_* = (k - 1) sqrt(n0)
    r = solve_ufsvm(from_counts([7] * 5))
    p_star = 4 * math.sqrt(7)
    assert abs(r.objective - p_star) <= (tolerances.ADMM_STOP + tolerances.float64(5)) * p_star


@given(any_counts(max_k=8, max_count=500))
@example(step(4, 10, "1/2", 5))
def test_optimum_and_minimizer_any_counts(counts):
    r = solve_ufsvm(counts)
    k = counts.k
    ref = dense_nuclear_norm(counts)
    # ref: LAPACK's singular values are accurate to O(k) roundings of sigma_max each, so their
    # sum to float64(k) relative; the solver's values are k x k SVDs and sums, likewise
    rounding = tolerances.float64(k)
    assert r.converged
    assert r.duality_gap >= -rounding * ref
    assert r.lower_bound <= ref * (1 + rounding) and ref <= r.objective * (1 + rounding)
    assert abs(r.objective - ref) <= (tolerances.ADMM_STOP + rounding) * ref
    assert np.abs(r.Z_class - (np.eye(k) - 1 / k)).max() <= tolerances.admm()
    # every margin of (5) holds (to rounding) at the returned point: the projection onto K is
    # exact up to a few roundings of entries of size <= 1
    m = r.margins()[~np.eye(k, dtype=bool)]
    assert m.min() >= 1 - rounding


@given(step_counts(max_k=8))
@example(step(4, 10, "1/2", 5))
def test_dual_is_a_certificate(counts):
    """The dual B_class is feasible for (6) and its value is the returned lower bound."""
    r = solve_ufsvm(counts)
    B, k = r.dual, counts.k
    n = np.asarray(counts.counts, float)
    BtB = (B.T * n) @ B  # B^T B for B = B_class[y]
    # B's entries are at most 1 in size, its sums and products O(k) float64 operations
    rounding = tolerances.float64(k)
    assert np.linalg.eigvalsh(BtB).max() <= 1 + rounding
    assert np.abs(B.sum(axis=1)).max() <= rounding
    assert (B[~np.eye(k, dtype=bool)] <= 0).all() and (np.diag(B) >= 0).all()
    assert abs(dual_value(B, counts) - r.lower_bound) <= rounding * r.lower_bound


def test_weighted_nuclear_norm_matches_dense():
    c = from_counts([3, 1, 4, 1, 5])
    Z = np.random.default_rng(0).standard_normal((5, 5))
    dense = np.linalg.svd(Z[:, c.labels()], compute_uv=False).sum()
    assert abs(nuclear_norm_weighted(Z, c) - dense) <= tolerances.float64(c.k) * dense


@given(st.integers(2, 7), st.integers(0, 2**31 - 1))
def test_projection_onto_K(k, seed):
    """_project_K returns a point of K satisfying the projection inequality <z - y, x - y> <= 0."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 3, size=k)
    Z = rng.standard_normal((k, k)) * 3
    Y = _project_K(Z, w)
    off = ~np.eye(k, dtype=bool)
    margins = (np.diagonal(Y)[None, :] - Y)[off] - np.broadcast_to(w, (k, k))[off]
    # Y's entries are sums of O(k) entries of Z and w: O(k) roundings of max|Z| + max w each
    size = np.abs(Z).max() + w.max()
    assert margins.min() >= -tolerances.float64(k) * size
    for _ in range(20):  # random points of K: project random matrices, then move inside
        X = _project_K(rng.standard_normal((k, k)) * 3, w)
        # k^2 products of entries of size O(size), each off by O(k) roundings
        bound = tolerances.float64(k) * k * k * size * max(size, np.abs(X).max() + w.max())
        assert np.sum((Z - Y) * (X - Y)) <= bound


def test_projection_is_identity_on_K():
    w = np.array([1.0, 2.0, 3.0])
    Y = (np.eye(3) * 5) * w[None, :]
    assert np.allclose(_project_K(Y, w), Y)


def test_dual_feasible_repair():
    L = np.random.default_rng(1).standard_normal((4, 4)) * 5
    D = _dual_feasible(L)
    assert np.linalg.norm(D, 2) <= 1 + tolerances.float64(4)
    assert np.abs(D.sum(axis=0)).max() <= tolerances.float64(4)
    assert (D[~np.eye(4, dtype=bool)] <= 0).all()


def test_unconverged_run_still_brackets_the_optimum():
    c = step(10, 100, "3/10", 2)
    r = solve_ufsvm(c, max_iter=30)
    p_star = dense_nuclear_norm(c)
    assert not r.converged and r.iterations == 30 and r.stopped == "max_iter"
    rounding = tolerances.float64(c.k)
    assert r.lower_bound <= p_star * (1 + rounding) and p_star <= r.objective * (1 + rounding)


def test_stalled_run_stops_early_and_says_so(monkeypatch):
    """An ADMM whose X-step thresholds by rho instead of 1/rho (its dual collapses once residual
    balancing moves rho) stalls: it stops within STALL_WINDOW iterations of its last progress,
    not after max_iter, reports itself not converged, and its certificate still brackets p*."""
    from seli_exact.solvers import ufsvm

    svt = ufsvm._svt
    monkeypatch.setattr(ufsvm, "_svt", lambda A, tau: svt(A, 1.0 / tau))
    c = step(4, 10, "1/2", 5)
    r = solve_ufsvm(c)
    p_star = dense_nuclear_norm(c)
    assert not r.converged and r.stopped == "stalled"
    # converging runs halve their distance to the stopping test within 275 iterations (module
    # doc); this one stops one window after its last halving, far below max_iter = 200000
    assert ufsvm.STALL_WINDOW <= r.iterations <= 2 * ufsvm.STALL_WINDOW
    rounding = tolerances.float64(c.k)
    assert r.lower_bound <= p_star * (1 + rounding) and p_star <= r.objective * (1 + rounding)


def test_time_budget_stops_with_not_converged():
    c = step(10, 100, "3/10", 2)  # 175 iterations to converge; the budget ends at the first check
    r = solve_ufsvm(c, max_seconds=1e-9)
    assert not r.converged and r.stopped == "time" and r.iterations == 25
    p_star = dense_nuclear_norm(c)
    rounding = tolerances.float64(c.k)
    assert r.lower_bound <= p_star * (1 + rounding) and p_star <= r.objective * (1 + rounding)


def test_bad_inputs():
    with pytest.raises(SeliInputError, match=r"`counts` must be a ClassCounts; got list"):
        solve_ufsvm([50, 50, 5, 5])
    with pytest.raises(SeliInputError, match=r"`tol` must be a float in \(0, 1\); got tol=0"):
        solve_ufsvm(step(4, 10, "1/2", 5), tol=0)
    with pytest.raises(SeliInputError, match=r"`tol` must be at least 1.1e-13 .*; got tol=1e-15"):
        solve_ufsvm(step(4, 10, "1/2", 5), tol=1e-15)
    with pytest.raises(SeliInputError, match=r"`max_iter` must be at least 1; got max_iter=0"):
        solve_ufsvm(step(4, 10, "1/2", 5), max_iter=0)
    with pytest.raises(
        SeliInputError, match=r"`rho` \(the ADMM step\) must be positive; got rho=-1"
    ):
        solve_ufsvm(step(4, 10, "1/2", 5), rho=-1.0)
    with pytest.raises(SeliInputError, match=r"`max_seconds` must be a positive number; got "
                                             r"max_seconds=0"):
        solve_ufsvm(step(4, 10, "1/2", 5), max_seconds=0)


@pytest.mark.cvxpy
def test_cvxpy_full_problem_agrees():
    pytest.importorskip("cvxpy")
    from seli_exact.solvers import solve_ufsvm_cvxpy

    for counts in (step(4, 4, "1/2", 2), from_counts([5, 3, 2, 1, 1])):
        full = solve_ufsvm_cvxpy(counts)
        k = counts.k
        Zhat = (np.eye(k) - 1 / k)[:, counts.labels()]
        assert full.status == "optimal"
        # SCS at its default accuracy: about 1e-6 relative (tolerances.SCS allows 1e-5); the
        # optimum is sharp, so the minimizer is within a modest factor of that: 10x here
        assert abs(full.objective - dense_nuclear_norm(counts)) <= tolerances.SCS * full.objective
        assert np.abs(full.Z - Zhat).max() <= 10 * tolerances.SCS
        assert abs(full.objective - solve_ufsvm(counts).objective) <= tolerances.SCS * full.objective


@pytest.mark.cvxpy
def test_cvxpy_refuses_large_n():
    pytest.importorskip("cvxpy")
    from seli_exact.solvers import solve_ufsvm_cvxpy

    with pytest.raises(SeliInputError, match=r"`counts` has n=110 examples, more than max_n=60"):
        solve_ufsvm_cvxpy(step(4, 10, "1/2", 5))
