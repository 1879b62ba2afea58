"""seli_exact.regpath: the reduction of (7), the Newton solver, its certificate, path metrics.

Known answers come from independent routes: dense SVDs of the full k x n matrices, optimality
conditions of the full problem checked densely, cvxpy on the full problem, closed forms.
"""

import math

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from proofs_check import tolerances
from seli_exact import SeliInputError, from_counts, sel_matrix, sel_svd, step
from seli_exact.regpath import (
    GAP_TARGET,
    certify,
    class_sel,
    direction_error,
    full_objective,
    kkt_residual,
    min_margin,
    one_hot,
    parse_lambdas,
    path_metrics,
    reduced_objective,
    solve_regpath,
    solve_regpath_point,
)
from seli_exact.regpath.reduction import class_ce, dual_value
from tests.strategies import step_params

PAPER = step(4, 10, "1/2", 5)


@st.composite
def small_counts(draw):
    k = draw(st.integers(2, 5))
    return from_counts(draw(st.lists(st.integers(1, 6), min_size=k, max_size=k)))


# --- the reduction (reduction.py, steps (a)-(c)) ------------------------------------------

@given(small_counts(), st.integers(0, 2**32 - 1), st.floats(1e-6, 3.0))
def test_reduced_objective_equals_full_objective_of_MY(counts, seed, lam):
    M = 5 * np.random.default_rng(seed).standard_normal((counts.k, counts.k))
    full = full_objective(M @ one_hot(counts), counts, lam)  # dense SVD of the k x n matrix
    # the full objective sums n per-example losses and LAPACK's singular values of Z
    assert reduced_objective(M, counts, lam) == pytest.approx(full, rel=tolerances.float64(counts.n))


@given(small_counts(), st.integers(0, 2**32 - 1))
def test_averaging_within_classes_never_increases_the_objective(counts, seed):
    """Step (b): the class-mean matrix of any Z is at least as good as Z."""
    rng = np.random.default_rng(seed)
    Z = 3 * rng.standard_normal((counts.k, counts.n))
    Y = one_hot(counts)
    M = Z @ Y.T / np.asarray(counts.counts, float)
    for lam in (1e-3, 0.5):
        full = full_objective(Z, counts, lam)
        assert reduced_objective(M, counts, lam) <= full + tolerances.float64(counts.n) * full


def test_class_ce_keeps_relative_accuracy_for_tiny_losses():
    M = 40.0 * class_sel(3)  # margins 40: CE = log(1 + 2 e^{-40})
    ce, S, q = class_ce(M)
    assert ce == pytest.approx(np.full(3, math.log1p(2 * math.exp(-40))), rel=1e-15)
    assert q == pytest.approx(np.full(3, 2 * math.exp(-40) / (1 + 2 * math.exp(-40))), rel=1e-15)


# --- optimality, checked on the full n-column problem ------------------------------------

def full_kkt(point):
    """Dense optimality of Z = M Y for (7): -grad L(Z)/lam = U V^T on the range, ||.||_2 <= 1."""
    counts, lam = point.counts, point.lam
    Z = point.Z()
    E = np.exp(Z - Z.max(axis=0))
    G = E / E.sum(axis=0) - one_hot(counts)  # (k, n)
    R = -G / lam
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r = int(np.sum(s > 1e-9 * s[0]))
    U, Vt = U[:, :r], Vt[:r]
    on_range = np.linalg.norm(U.T @ R @ Vt.T - np.eye(r))
    return on_range, np.linalg.norm(R, 2)


@pytest.mark.parametrize("lam", [1.0, 1e-1, 1e-2, 1e-4])
@pytest.mark.parametrize("counts", [PAPER, from_counts([7, 3, 3, 1]), step(3, 4, "1/3", 2)])
def test_solution_satisfies_dense_optimality_of_the_full_problem(counts, lam):
    p = solve_regpath_point(counts, lam)
    on_range, spec = full_kkt(p)
    tol = tolerances.kkt7(counts)  # the claims' tolerance for the first-order conditions of (7)
    assert on_range < tol and spec < 1 + tol


@pytest.mark.parametrize("lam", [1.0, 1e-2, 1e-5, 1e-8])
def test_certified_gap_is_tiny_along_the_whole_path(lam):
    p = solve_regpath_point(PAPER, lam)
    assert p.method == "newton" and p.rank == 3
    # certified (a 40-digit gap is >= 0 to that precision), and first-order optimal
    assert -tolerances.mp(40) <= p.relative_gap <= GAP_TARGET
    assert p.kkt_residual <= tolerances.kkt7(PAPER)


@given(small_counts(), st.integers(0, 2**32 - 1), st.floats(1e-4, 2.0))
def test_weak_duality_at_arbitrary_points(counts, seed, lam):
    """The dual derivation: the certificate's gap is >= 0 at any M, optimal or not."""
    M = 4 * np.random.default_rng(seed).standard_normal((counts.k, counts.k))
    assert certify(M, counts, lam, 30)["duality_gap"] >= -1e-25


def dense_ce_grad(Z, counts):
    E = np.exp(Z - Z.max(axis=0))
    return E / E.sum(axis=0) - one_hot(counts)  # (k, n)


@given(small_counts(), st.integers(0, 2**32 - 1))
def test_dual_is_minus_the_ce_conjugate_by_fenchel_young(counts, seed):
    """Independent route for the entropy formula: at Gam = grad L(Z) Fenchel-Young is an
    equality, L*(Gam) = <Gam, Z> - L(Z), so Dual(Gam) = L(Z) - <grad L(Z), Z> on the full k x n
    problem. A lam above ||grad L(Z)||_2 keeps the certificate's scaling t at 1."""
    M = 3 * np.random.default_rng(seed).standard_normal((counts.k, counts.k))
    Z = M @ one_hot(counts)
    G = dense_ce_grad(Z, counts)
    lam = 2 * np.linalg.norm(G, 2) + 1e-3
    cert = certify(M, counts, lam, 40)
    assert cert["dual_scaling"] == 1.0
    loss = full_objective(Z, counts, lam) - lam * np.linalg.svd(Z, compute_uv=False).sum()
    expected = loss - float(np.sum(G * Z))
    assert cert["dual_objective"] == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("lam", [1.0, 1e-2, 1e-6])
def test_scaled_dual_point_is_on_the_spectral_norm_ball(lam):
    """The dual point t grad L(Z) of the full problem has ||.||_2 = lam exactly when t < 1
    (dense SVD of the k x n gradient, not the D^{1/2}-weighted k x k one)."""
    M = 0.5 * solve_regpath_point(PAPER, lam).M  # a suboptimal point: t < 1 there
    cert = certify(M, PAPER, lam)
    spec = np.linalg.norm(dense_ce_grad(M @ one_hot(PAPER), PAPER), 2)
    assert cert["dual_scaling"] < 1
    # spec: LAPACK's largest singular value of the (k, n) gradient, O(n) roundings
    assert cert["dual_scaling"] * spec == pytest.approx(lam, rel=tolerances.float64(PAPER.n))


@pytest.mark.parametrize("lam", [1e-1, 1e-2, 1e-4])
def test_certificate_is_large_at_planted_wrong_points(lam):
    """The gap bounds F(M) - F(M*) from above and is far from 0 away from the optimum: at the
    optimum scaled by 1.01, nudged by 1e-3, and at the best multiple of the SEL matrix
    (Prop. 1: not optimal under imbalance)."""
    from seli_exact.regpath.solver import _sel_start

    p = solve_regpath_point(PAPER, lam)
    assert p.certified
    nuc_hat = np.linalg.svd(sel_matrix(PAPER), compute_uv=False).sum()
    planted = [1.01 * p.M, p.M + 1e-3 * np.eye(4),
               _sel_start(PAPER, lam, nuc_hat) * class_sel(4)]
    for M in planted:
        cert = certify(M, PAPER, lam)
        excess = full_objective(M @ one_hot(PAPER), PAPER, lam) - p.objective
        assert excess > 0
        assert cert["duality_gap"] >= excess * (1 - 1e-9)
        assert cert["relative_gap"] > 1e-4


def test_certificate_is_evaluated_at_the_returned_point():
    """The point's objective is P(M Y) on the full problem, and its certificate is that of M."""
    for lam in (1.0, 1e-3):
        p = solve_regpath_point(from_counts([7, 3, 3, 1]), lam)
        assert p.objective == pytest.approx(full_objective(p.Z(), p.counts, lam),
                                            rel=tolerances.float64(p.counts.n))
        again = certify(p.M, p.counts, lam)
        assert again["duality_gap"] == p.duality_gap and again["objective"] == p.objective


def test_dual_value_float_matches_mpmath():
    p = solve_regpath_point(PAPER, 1e-3)
    G = class_ce(p.M)[1] - np.eye(4)
    t = p.certificate["dual_scaling"]
    assert dual_value(t * G, PAPER) == pytest.approx(p.dual_objective, rel=1e-12)


def test_zero_solution_at_and_above_sigma_max():
    c = from_counts([3, 3, 3])  # Zhat's singular values: sqrt(3) twice
    p = solve_regpath_point(c, 2.0)
    assert p.method == "zero" and p.rank == 0 and not p.M.any()
    assert abs(p.duality_gap) < 1e-30
    assert solve_regpath_point(c, 1.5).rank == 2


def test_rank_deficient_solution_is_certified():
    """lam between the singular values of Zhat: the smallest direction is switched off."""
    p = solve_regpath_point(from_counts([2, 1, 1]), 1.0)
    assert p.rank == 1 and p.certified
    assert 0 <= p.relative_gap <= GAP_TARGET
    on_range, spec = full_kkt(p)
    assert on_range < 1e-6 and spec < 1 + 1e-6


def test_gap_target_is_at_least_1e_12():
    assert 0 < GAP_TARGET <= 1e-12


@given(step_params(max_k=6, max_R=100, max_n_min=20), st.floats(-8.0, -0.35))
@example((4, 10, 0.5, 5), -2.0)
def test_newton_certifies_step_models(params, log_lam):
    """Below lam = 1/2 <= sigma_min(Zhat)/2 the solution has full rank k-1: Newton certifies it."""
    k, R, rho, n_min = params
    counts = step(k, R, rho, n_min)
    p = solve_regpath_point(counts, 10.0**log_lam)
    assert p.method == "newton" and p.rank == k - 1
    assert p.certified and abs(p.relative_gap) <= GAP_TARGET


# The cases of issue 15: three sit exactly at lam = sqrt(n_min), where the directions separating
# two minority classes switch off with zero dual slack (solver.py, "Rank-deficient solutions").
RANK_DEFICIENT = [(step(4, 10, "1/2", 1), 1.0, 2), (step(4, 10, "1/2", 1), 3.0, 1),
                  (step(6, 100, "1/2", 1), 3.0, 3), (from_counts([1, 1, 1, 20]), 1.0, 1),
                  (step(4, 1000, "1/2", 1), 1.0, 2)]


@pytest.mark.parametrize("counts,lam,rank", RANK_DEFICIENT)
def test_rank_deficient_cases_are_certified(counts, lam, rank):
    """The polish on the factored problem certifies each to GAP_TARGET (<= 1e-12); the rank and
    optimality are confirmed densely on the full k x n problem."""
    p = solve_regpath_point(counts, lam)
    assert p.method == "factored-newton" and p.rank == rank < counts.k - 1
    assert p.certified and 0 <= p.relative_gap <= GAP_TARGET
    on_range, spec = full_kkt(p)
    assert on_range < 1e-6 and spec < 1 + 1e-6


@pytest.mark.parametrize("counts", [PAPER, step(4, 10, "1/2", 1), step(6, 100, "1/2", 2),
                                    from_counts([20, 20, 3, 3, 3])])
def test_minority_directions_switch_off_at_sqrt_n_min(counts):
    """For two minority classes a, b with m_a = m_b, v = e_a - e_b gives G D^{1/2} v =
    -sqrt(n_min) v whatever the rest of M, so the direction is off iff lam >= sqrt(n_min): the
    s - 1 directions separating the s minority classes switch off there together (rank k-1 ->
    k-s), and at lam = sqrt(n_min) itself (zero dual slack) the solver still certifies."""
    k, n_min = counts.k, min(counts.counts)
    s = counts.counts.count(n_min)
    a, b = [c for c in range(k) if counts.counts[c] == n_min][:2]
    for f, rank in ((7 / 8, k - 1), (1.0, k - s), (9 / 8, k - s)):
        p = solve_regpath_point(counts, math.sqrt(n_min) * f)
        split = np.linalg.norm(p.M[:, a] - p.M[:, b]) / np.linalg.norm(p.M)
        assert p.rank == rank and p.certified
        assert (split > 1e-2) if f < 1 else (split < 1e-12)
        on_range, spec = full_kkt(p)
        assert on_range < 1e-6 and spec < 1 + 1e-6


@st.composite
def counts_and_lam(draw):
    """Any small counts and lam up to 1.2 sigma_max(Zhat): all ranks, degenerate points included
    (lam drawn as sqrt of a count hits the minority thresholds exactly)."""
    counts = draw(small_counts())
    root = np.sqrt(np.asarray(counts.counts, float))
    smax = np.linalg.svd(class_sel(counts.k) * root, compute_uv=False)[0]
    lam = draw(st.one_of(st.floats(1e-3, 1.2).map(lambda u: u * smax),
                         st.sampled_from(sorted(set(counts.counts))).map(math.sqrt)))
    return counts, lam


@given(counts_and_lam())
def test_every_point_is_certified(case):
    counts, lam = case
    p = solve_regpath_point(counts, lam)
    assert p.certified and p.relative_gap <= GAP_TARGET
    on_range, spec = full_kkt(p)
    assert on_range < 1e-6 and spec < 1 + 1e-6


def test_a_point_that_cannot_be_certified_says_so(monkeypatch):
    """Break the polish (it returns 0) and starve the fallback: the point comes back with its true
    certificate and certified=False, not an exception and not a silent pass."""
    from seli_exact.regpath import solver

    monkeypatch.setattr(solver, "_factored_newton", lambda c, lam, *a: (np.zeros((c.k, c.k)), 0))
    monkeypatch.setattr(solver, "_FALLBACK_STEPS", 3)
    monkeypatch.setattr(solver, "_LOCATE_STEPS", 3)
    counts, lam, _ = RANK_DEFICIENT[2]
    p = solve_regpath_point(counts, lam)
    assert not p.certified and p.relative_gap > GAP_TARGET
    assert p.relative_gap == certify(p.M, counts, lam)["relative_gap"]


def test_certificate_keeps_relative_accuracy_at_tiny_lam():
    """At lam = 1e-40 every loss is ~1e-39, below 10^-digits: the certificate forms log1p of the
    off-label mass (as the float64 routine does), so the gap stays ~1e-15 relative, and the
    float64 value matches the 40-digit one."""
    p = solve_regpath_point(PAPER, 1e-40)
    assert p.certified
    assert p.objective == pytest.approx(reduced_objective(p.M, PAPER, 1e-40),
                                        rel=tolerances.float64(PAPER.k))


def test_newton_derivatives_match_finite_differences():
    """The analytic polar-factor Hessian and the loss Hessian against central differences."""
    from seli_exact.regpath.solver import _Reduced

    f = _Reduced(from_counts([6, 3, 2, 1]), 0.05)
    X = 3 * np.random.default_rng(1).standard_normal((3, 4))
    _, g, H, _ = f.derivatives(X)
    eps = 1e-5
    for i in range(12):
        E = np.zeros(12)
        E[i] = eps
        E = E.reshape(3, 4)
        fd_g = (f.value(X + E) - f.value(X - E)) / (2 * eps)
        fd_H = (f.derivatives(X + E)[1] - f.derivatives(X - E)[1]).ravel() / (2 * eps)
        assert fd_g == pytest.approx(g.ravel()[i], rel=1e-7, abs=1e-9)
        assert fd_H == pytest.approx(H[:, i], rel=1e-5, abs=1e-8)


def test_factored_derivatives_match_finite_differences():
    from seli_exact.regpath.solver import _factored_derivatives

    counts = from_counts([5, 2, 1])
    rng = np.random.default_rng(2)
    W, Hb = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    _, g, H = _factored_derivatives(W, Hb, counts, 0.3)
    x = np.concatenate([W.ravel(), Hb.ravel()])
    split = lambda v: (v[:6].reshape(2, 3), v[6:].reshape(2, 3))  # noqa: E731
    eps = 1e-6
    for i in range(12):
        e = np.zeros(12)
        e[i] = eps
        fp, gp, _ = _factored_derivatives(*split(x + e), counts, 0.3)
        fm, gm, _ = _factored_derivatives(*split(x - e), counts, 0.3)
        assert (fp - fm) / (2 * eps) == pytest.approx(g[i], rel=1e-6, abs=1e-8)
        assert (gp - gm) / (2 * eps) == pytest.approx(H[:, i], rel=1e-5, abs=1e-7)


# --- independent solvers ----------------------------------------------------------------

@pytest.mark.cvxpy
@pytest.mark.parametrize("counts,lam", [(from_counts([3, 2, 1, 1]), 0.1),
                                        (from_counts([4, 1, 1]), 1e-2),
                                        (step(4, 2, "1/2", 2), 0.3)])
def test_reduction_matches_cvxpy_on_the_full_problem(counts, lam):
    pytest.importorskip("cvxpy")
    from seli_exact.regpath.cvx import solve_full_cvxpy

    Z_cvx, _ = solve_full_cvxpy(counts, lam, solver="CLARABEL")
    p = solve_regpath_point(counts, lam)
    Z = p.Z()
    assert np.linalg.norm(Z_cvx - Z) / np.linalg.norm(Z) < 1e-3
    # ours is at least as good as the conic solver's point (up to its feasibility error)
    assert p.objective <= full_objective(Z_cvx, counts, lam) + 1e-9


def test_high_precision_reference_agrees_with_float_solution():
    from seli_exact.regpath.reference import reference_solution

    Mr = reference_solution(PAPER, 1e-2, digits=40)
    assert certify(Mr, PAPER, 1e-2, 50)["relative_gap"] < 1e-35
    M_ref = np.array(Mr.tolist(), dtype=float)
    M = solve_regpath_point(PAPER, 1e-2).M
    root = np.sqrt(np.asarray(PAPER.counts, float))
    # Newton ends where the gradient is at rounding: the first-order tolerance of (7)
    assert np.linalg.norm((M - M_ref) * root) / np.linalg.norm(M_ref * root) <= tolerances.kkt7(PAPER)


# --- (8): Gram matrices and path metrics ---------------------------------------------------

def test_grams_from_8_match_a_dense_svd():
    """(8) read off a dense compact SVD of the full Z_lam = V Lam U^T."""
    counts = from_counts([5, 3, 2, 1])
    p = solve_regpath_point(counts, 0.05)
    G_W, G_M, logits = p.grams()
    V, s, Ut = np.linalg.svd(p.Z(), full_matrices=False)
    r = int(np.sum(s > 1e-9 * s[0]))
    V, s, Ut = V[:, :r], s[:r], Ut[:r]
    tol = tolerances.lapack(counts)  # numpy's dense SVD of Z: the dense route's accuracy
    assert G_W == pytest.approx((V * s) @ V.T, abs=tol)
    G_H = (Ut.T * s) @ Ut  # (n, n) = U Lam U^T
    first = np.cumsum((0,) + counts.counts[:-1])  # the first example of each class
    assert G_M == pytest.approx(G_H[np.ix_(first, first)], abs=tol)
    assert logits == pytest.approx(p.M, abs=tol * np.abs(p.M).max())


def test_metrics_of_the_sel_direction():
    assert min_margin(class_sel(4)) == pytest.approx(1.0)
    assert direction_error(7.0 * class_sel(4), PAPER) == pytest.approx(0.0, abs=tolerances.float64(4))
    flipped = class_sel(4).copy()
    flipped[:, [2, 3]] = flipped[:, [3, 2]]
    assert min_margin(flipped) == pytest.approx(-1.0)


@pytest.mark.parametrize("lam", [1e-1, 1e-4])
def test_direction_error_matches_a_dense_computation(lam):
    """Prop. 2's quantity on the full k x n matrices (dense SVDs), against the D^{1/2} shortcut."""
    p = solve_regpath_point(PAPER, lam)
    Z, Zhat = p.Z(), sel_matrix(PAPER)
    nuc = lambda A: np.linalg.svd(A, compute_uv=False).sum()  # noqa: E731
    dense = np.linalg.norm(Z / nuc(Z) - Zhat / nuc(Zhat))
    assert direction_error(p.M, PAPER) == pytest.approx(dense, abs=tolerances.lapack(PAPER))


def test_ce_gradient_matches_finite_differences_of_the_loss():
    """sec4.4's residual uses ce_gradient; check it against central differences of L."""
    from seli_exact.regpath import ce_gradient

    c = from_counts([3, 2, 1])
    Z = np.random.default_rng(3).standard_normal((3, c.n))
    G = ce_gradient(Z, c)
    loss = lambda A: full_objective(A, c, 0.0)  # noqa: E731 - lam = 0: the CE loss alone
    eps = 1e-6
    for i in range(3):
        for j in range(c.n):
            E = np.zeros_like(Z)
            E[i, j] = eps
            assert (loss(Z + E) - loss(Z - E)) / (2 * eps) == pytest.approx(G[i, j], abs=1e-8)


def test_balanced_path_is_etf_at_every_lambda():
    """Sec. 4.2: for balanced data the solution is the ETF (= SELI) for every lam > 0."""
    for p in solve_regpath(step(4, 1, "1/2", 5), [1.0, 1e-3, 1e-8]):
        m = path_metrics(p)
        for d in (m.dist_seli, m.dist_etf):
            # a point within the first-order tolerance of (7) of the ETF solution
            assert max(d.classifiers, d.embeddings, d.logits) < tolerances.kkt7(p.counts)
        assert m.direction_error < tolerances.kkt7(p.counts)


def test_imbalanced_path_approaches_seli_not_etf():
    ms = [path_metrics(p) for p in solve_regpath(PAPER, [1.0, 1e-4, 1e-8])]
    seli = [m.dist_seli.classifiers for m in ms]
    assert seli[0] > seli[1] > seli[2] > 0
    assert all(m.dist_etf.classifiers > 0.3 for m in ms)
    assert ms[-1].normalized_margin == pytest.approx(1.0, abs=0.1)


def test_path_metrics_undefined_at_zero_solution():
    m = path_metrics(solve_regpath_point(from_counts([3, 3, 3]), 5.0))
    assert math.isnan(m.direction_error) and m.rank == 0


def test_seli_distance_uses_the_sel_svd_references():
    """At lam -> 0 the classifier Gram tends to V Lam V^T (times a scale) from sel_svd."""
    p = solve_regpath_point(PAPER, 1e-8)
    G_W = p.grams()[0]
    ref = sel_svd(PAPER).matrix_function(lambda s: s)
    cos = np.sum(G_W * ref) / (np.linalg.norm(G_W) * np.linalg.norm(ref))
    assert 0.99 < cos < 1.0


# --- the lambda grid and input errors ------------------------------------------------------

def test_parse_lambdas():
    assert parse_lambdas("1e-1,1e-2") == [0.1, 0.01]
    grid = parse_lambdas("logspace:-8:0:17")
    assert len(grid) == 17 and grid[0] == 1.0 and grid[-1] == pytest.approx(1e-8)
    assert parse_lambdas("logspace:0:-2:3") == [1.0, 0.1, 0.01]


@pytest.mark.parametrize("text,match", [
    ("logspace:-8:0", "logspace:A:B:N"),
    ("logspace:-8:0:3:1", "logspace:A:B:N"),
    ("logspace:a:0:3", "exponent A` must be a number"),
    ("logspace:-200:0:3", r"exponent A` must be in \[-100.0, 100.0\]"),
    ("logspace:-8:0:0", r"count N` must be in \[1, 1000\]"),
    ("1e-1,abc", "must be a number; got the text 'abc'"),
    ("0,1", r"must be in \[1e-100, 1e\+100\]; got lambda=0"),
    ("1e300", r"must be in \[1e-100, 1e\+100\]; got lambda=1e\+300"),
    ("1e-300", "underflows float64"),
    ("1e400", "exponent of at most 300"),
    ("nan", "must be a number"),
    ("inf", "must be a number"),
    ("", "at least one value"),
    (",", "at least one value"),
    ("1e-1,,1e-2", "empty item"),
    ("1e-1,1e-2,", "empty item"),
    ("1 0", "space inside"),
])
def test_parse_lambdas_errors(text, match):
    with pytest.raises(SeliInputError, match=match):
        parse_lambdas(text)


def test_parse_lambdas_range_ends_are_solved():
    """The ends of the accepted range: 1e-100 certifies (the loss curvature ~lam^2 still fits in
    float64), 1e100 is the zero solution."""
    lo, hi = parse_lambdas("logspace:-100:100:2")[::-1]
    assert lo == 1e-100 and hi == 1e100
    assert solve_regpath_point(PAPER, lo).certified
    assert solve_regpath_point(PAPER, hi).method == "zero"
    with pytest.raises(SeliInputError, match="underflows float64"):
        solve_regpath_point(PAPER, 1e-101)


@pytest.mark.parametrize("lam", [0, -1e-2, float("nan"), "abc"])
def test_bad_lambda(lam):
    with pytest.raises(SeliInputError, match="`lam` must be a positive"):
        solve_regpath_point(PAPER, lam)


def test_bad_start_and_too_many_classes():
    with pytest.raises(SeliInputError, match=r"`start` must be a finite \(4, 4\) matrix M"):
        solve_regpath_point(PAPER, 0.1, start=np.zeros((3, 3)))
    with pytest.raises(SeliInputError, match=r"`start` must be a finite"):
        solve_regpath_point(PAPER, 0.1, start=np.full((4, 4), np.nan))
    with pytest.raises(SeliInputError, match=r"at most 40 classes .* got k=41"):
        solve_regpath_point(from_counts([2] * 41), 0.1)


def test_reference_refuses_rank_deficient_points():
    from seli_exact.regpath.reference import reference_solution

    with pytest.raises(SeliInputError, match="polishes certified full-rank solutions"):
        reference_solution(step(4, 10, "1/2", 1), 3.0)


def test_gd_ufm_needs_d_above_k_minus_1():
    """Theorem 2 assumes d > k - 1: d = k - 1 is refused with the fix in the message."""
    from seli_exact.regpath import gd_ufm

    with pytest.raises(SeliInputError, match="Theorem 2 needs d > k - 1 = 2; try d=3"):
        gd_ufm(from_counts([2, 1, 1]), 0.2, d=2)


def test_bad_counts():
    with pytest.raises(SeliInputError, match="`counts` must be a ClassCounts"):
        solve_regpath_point([50, 50, 5, 5], 0.1)


def test_sel_matrix_is_class_sel_times_Y():
    assert sel_matrix(PAPER) == pytest.approx(class_sel(4) @ one_hot(PAPER), abs=0)


def test_minority_cosine_is_undefined_when_minority_classifiers_vanish():
    """[1, 1, 10, 10] at lam = 3 > sqrt(n_min): only the majority-difference direction is on
    (rank 1), so both minority rows of M vanish and their classifiers are 0: the cosine is
    NaN (JSON null), computed without a 0/0 warning (pytest turns warnings into errors)."""
    p = solve_regpath_point(from_counts([1, 1, 10, 10]), 3.0)
    assert p.rank == 1 and np.abs(p.M[:2]).max() < tolerances.kkt7(p.counts) * np.abs(p.M).max()
    assert math.isnan(path_metrics(p).minority_cosine)
    assert path_metrics(solve_regpath_point(from_counts([1, 1, 10, 10]), 0.1)).minority_cosine < 1


# --- each branch on its own (solver.METHODS) ----------------------------------------------

@pytest.mark.parametrize("counts, lam", [(PAPER, 1e-2), (from_counts([10, 10, 1, 1]), 1.0)])
def test_forced_branches_report_themselves_and_are_certified_honestly(counts, lam):
    """Each branch run alone labels its point and is certified like any other: the fallback
    from the auto route's point certifies; Newton alone at a rank-deficient point does not (and
    says so); zero is certified only at or above sigma_max."""
    from seli_exact.regpath.solver import METHODS

    auto = solve_regpath_point(counts, lam)
    sigma_max = np.linalg.svd(sel_matrix(counts), compute_uv=False)[0]
    for method in METHODS[1:]:
        start = auto.M if method == "prox-gradient" else None
        p = solve_regpath_point(counts, lam, method=method, start=start)
        assert p.method == method or (method == "factored-newton" and p.method in METHODS)
        assert p.certified == bool(p.relative_gap <= GAP_TARGET)
        expected = {"newton": auto.rank == counts.k - 1, "factored-newton": True,
                    "prox-gradient": True, "zero": lam >= sigma_max}[method]
        assert p.certified == expected, (method, p.relative_gap)
        if method == "zero":
            assert not p.M.any()
    with pytest.raises(SeliInputError, match=r"`method` must be one of auto, newton, "
                                             r"factored-newton, prox-gradient, zero; got 'fast'"):
        solve_regpath_point(counts, lam, method="fast")


@pytest.mark.parametrize("counts, lam", [(PAPER, 1e-2), (from_counts([10, 10, 1, 1]), 1.0),
                                         (PAPER, 8.0)])
def test_kkt_residual_is_the_full_problems_where_the_point_is_not_optimal(counts, lam):
    """kkt_residual on the reduction equals proofs_check.kkt7's on the dense (k, n) problem
    times sqrt(rank) (kkt7 divides by ||U_r V_r^T||_F): at lam / 2, where every term is O(1)."""
    from proofs_check import kkt7

    p = solve_regpath_point(counts, lam)
    r = max(p.rank, 1)
    for at in (lam / 2, 2 * lam):
        dense = kkt7.residual(p.M, counts, at) * math.sqrt(r)
        assert kkt_residual(p.M, counts, at) == pytest.approx(
            dense, rel=tolerances.kkt7(counts), abs=tolerances.kkt7(counts))
