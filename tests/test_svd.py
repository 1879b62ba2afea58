"""The structured SVD of the SEL matrix against independent routes: dense SVDs, exact algebra."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import example, given
from hypothesis import strategies as st

from seli_exact import arithmetic, from_counts, sel_matrix, sel_svd, step
from seli_exact.precision import close

from .strategies import any_counts, step_counts

FIG1 = step(4, 10, "1/2", 5)


def _dense(counts):
    return sel_matrix(counts)  # (k, n)


@given(any_counts(max_k=30, max_count=60))
@example(FIG1)
def test_structured_svd_matches_dense_numpy(c):
    Z = _dense(c)
    s = sel_svd(c)
    dense_sigma = np.linalg.svd(Z, compute_uv=False)
    scale = dense_sigma[0]
    # the k-1 singular values, and one zero (rank k - 1)
    np.testing.assert_allclose(s.sigma, dense_sigma[: c.k - 1], rtol=0, atol=1e-12 * scale)
    assert dense_sigma[c.k - 1] <= 1e-12 * scale
    U = s.U()
    # Zhat^T = U Lam V^T with orthonormal U and V
    np.testing.assert_allclose(U @ np.diag(s.sigma) @ s.V.T, Z.T, atol=1e-12 * scale)
    np.testing.assert_allclose(U.T @ U, np.eye(c.k - 1), atol=1e-12)
    np.testing.assert_allclose(s.V.T @ s.V, np.eye(c.k - 1), atol=1e-12)
    # Zhat^T 1_k = 0 and V orthogonal to 1_k
    np.testing.assert_allclose(Z.T @ np.ones(c.k), 0, atol=1e-14)
    np.testing.assert_allclose(np.ones(c.k) @ s.V, 0, atol=1e-12)
    assert np.linalg.matrix_rank(Z) == c.k - 1


def test_fig1_pinned_instance():
    s = sel_svd(FIG1, "exact")
    # eigenvalues of P D P for STEP: R n_min, n_min (m + s R)/k, n_min (Sec. A)
    assert list(s.sigma) == [sympy.sqrt(50), sympy.sqrt(sympy.Rational(110, 4)), sympy.sqrt(5)]
    assert FIG1.n == 110 and sel_matrix(FIG1).shape == (4, 110)


@given(any_counts(max_k=10, max_count=40))
@example(FIG1)
def test_mpmath_agrees_with_float64_and_along_precision_ladder(c):
    f = sel_svd(c)
    ladder = [sel_svd(c, "mpmath", dps) for dps in (30, 60, 120)]
    m30 = ladder[0]
    assert np.max(np.abs(m30.arithmetic.to_float(m30.sigma) - f.sigma) / f.sigma) <= 1e-13
    G = lambda s: s.matrix_function(lambda x: x)  # noqa: E731
    assert np.max(np.abs(m30.arithmetic.to_float(G(m30)) - G(f))) <= 1e-13 * f.sigma[0]
    for lo, hi in zip(ladder, ladder[1:]):
        # consecutive levels agree to the lower level's promised digits
        assert close(lo.sigma, hi.sigma, lo.arithmetic)
        assert close(G(lo), G(hi), lo.arithmetic, atol=lo.arithmetic.eps * 10 ** 10)


@pytest.mark.parametrize(
    "counts", [[50, 50, 5, 5], [3, 1], [5, 3, 3, 1], [2, 7, 4], [1, 1, 1], [9, 4, 4, 4, 2]]
)
def test_exact_agrees_with_mpmath_at_50_digits(counts):
    c = from_counts(counts)
    e = sel_svd(c, "exact")
    m = sel_svd(c, "mpmath", 50)
    with mpmath.workdps(60):
        for x, y in zip(e.sigma, m.sigma):
            assert abs(mpmath.mpf(str(sympy.N(x, 60))) - y) <= mpmath.mpf(10) ** -50 * abs(y)
        Ge = e.matrix_function(lambda x: x)
        Gm = m.matrix_function(lambda x: x)
        for x, y in zip(Ge.ravel(), Gm.ravel()):
            assert abs(mpmath.mpf(str(sympy.N(x, 60))) - y) <= mpmath.mpf(10) ** -50


def test_exact_eigenvectors_satisfy_eigen_equation():
    c = from_counts([5, 3, 3, 1])
    s = sel_svd(c, "exact")
    Z = sympy.Matrix(sel_matrix(c, "exact"))
    S = Z * Z.T
    for j in range(c.k - 1):
        v = sympy.Matrix(s.V[:, j])
        residual = sympy.simplify(S * v - s.sigma[j] ** 2 * v)
        assert residual == sympy.zeros(c.k, 1)


@given(step_counts(max_k=20))
def test_mpmath_against_dense_mpmath_eigensolver_on_small_instances(c):
    # an independent arbitrary-precision route: mpmath's own symmetric eigensolver on the dense
    # k x k matrix Zhat Zhat^T = P D P (mpmath's svd_r can fail to converge on such matrices
    # with many repeated singular values; eigsy does not)
    with mpmath.workdps(40):
        k = c.k
        S = mpmath.matrix(k, k)
        for i in range(k):
            for j in range(k):
                S[i, j] = mpmath.fsum(
                    ((1 if i == l else 0) - mpmath.mpf(1) / k) * c.counts[l]
                    * ((1 if l == j else 0) - mpmath.mpf(1) / k)
                    for l in range(k)
                )
        mu = mpmath.eigsy(S, eigvals_only=True)
        sv = sorted((mpmath.sqrt(max(x, 0)) for x in mu), reverse=True)[: k - 1]
        s = sel_svd(c, "mpmath", 35)
        for x, y in zip(sv, s.sigma):
            assert abs(x - y) <= mpmath.mpf(10) ** -33 * abs(x)


def test_cost_does_not_grow_with_n():
    # same number of distinct counts, n from 1e2 to 1e12: the same work, exact to float precision
    for n_min in (1, 10**10):
        s = sel_svd(step(100, 10, "1/2", n_min))
        np.testing.assert_allclose(s.sigma[0], np.sqrt(10 * n_min), rtol=1e-15)


def test_arithmetic_name_errors():
    from seli_exact import SeliInputError

    with pytest.raises(SeliInputError, match=r"`arithmetic` must be one of float64, mpmath, exact; got 'quad'"):
        arithmetic("quad")
    with pytest.raises(SeliInputError, match=r"`digits` must be a whole number >= 1; got 0"):
        arithmetic("mpmath", 0)


@given(st.integers(2, 40), st.integers(1, 30))
def test_balanced_has_one_singular_value(k, n_min):
    s = sel_svd(from_counts([n_min] * k))
    np.testing.assert_allclose(s.sigma, np.sqrt(n_min), rtol=1e-15)


def _dense_secular_eigenvalues(c, dps):
    """The eigenvalues of P D P that are not counts shared by several classes nor 0: mpmath's
    eigsy on the dense k x k matrix, sorted ascending."""
    with mpmath.workdps(dps):
        k = c.k
        D = mpmath.diag([mpmath.mpf(x) for x in c.counts])
        P = mpmath.eye(k) - mpmath.ones(k, k) / k
        mu = sorted(mpmath.eigsy(P * D * P, eigvals_only=True))
        shared = {x for x in c.counts if c.counts.count(x) > 1}
        tol = mpmath.mpf(10) ** (-dps // 2) * max(c.counts)
        return [m for m in mu if abs(m) > tol and all(abs(m - s) > tol for s in shared)]


@pytest.mark.parametrize("counts", [[50, 50, 5, 5], [1, 2, 3, 50, 7, 1000], [9, 4, 4, 4, 2],
                                    [1000, 1, 1], [7, 3]])
def test_secular_roots_alone_against_a_dense_eigensolver(counts):
    """secular_roots (the certificate's candidates) is the J - 1 secular eigenvalues of P D P,
    ascending, in float64 and at 50 digits."""
    from seli_exact.svd import secular_roots

    c = from_counts(counts)
    want = _dense_secular_eigenvalues(c, 70)
    got = secular_roots(c)
    assert got.dtype == np.float64 and len(got) == len(set(counts)) - 1 == len(want)
    np.testing.assert_allclose(got, [float(w) for w in want], rtol=1e-13)
    assert list(got) == sorted(got)
    hi = secular_roots(c, "mpmath", 50)
    with mpmath.workdps(70):
        for x, w in zip(hi, want):
            assert type(x).__name__ == "mpf" and abs(mpmath.mpf(x) - w) <= mpmath.mpf(10) ** -48 * abs(w)
    # and they are sel_svd's eigenvalues that are not shared counts
    sq = sorted(float(s) ** 2 for s in sel_svd(c).sigma)
    shared = {x for x in counts if counts.count(x) > 1}
    np.testing.assert_allclose([s for s in sq if all(abs(s - x) > 1e-9 for x in shared)], got,
                               rtol=1e-13)


def test_float64_secular_roots_are_accurate_to_two_units_of_roundoff():
    """The safeguarded Newton iteration and its final polishing step leave each float64 root
    within 2 eps (relative) of the root at 40 digits: measured worst 1.0 eps over random count
    vectors of up to 30 classes. The mpmath route is the reference (it is polished to 40 digits
    and checked against a dense eigensolver above)."""
    from seli_exact.svd import secular_roots

    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(60):
        counts = rng.integers(1, 2000, size=int(rng.integers(3, 30))).tolist()
        c = from_counts(counts)
        hi = secular_roots(c, "mpmath", 40)
        for x, y in zip(secular_roots(c), hi):
            worst = max(worst, float(abs(mpmath.mpf(float(x)) - y) / y))
    assert worst <= 2 * np.finfo(float).eps, worst / np.finfo(float).eps


def test_shared_count_vectors_are_exact_in_exact_and_mp_arithmetic():
    """The Helmert block of a shared count is built in the SVD's own arithmetic: exact SymPy
    numbers (V^T V = I exactly), and 50-digit numbers at 50 digits."""
    c = from_counts([5, 3, 3, 3, 1])
    e = sel_svd(c, "exact")
    V = sympy.Matrix(e.V)
    assert all(isinstance(x, sympy.Basic) for x in V)
    assert sympy.simplify(V.T * V - sympy.eye(c.k - 1)) == sympy.zeros(c.k - 1, c.k - 1)
    m = sel_svd(c, "mpmath", 50)
    with mpmath.workdps(60):
        G = mpmath.matrix(m.V.tolist()).T * mpmath.matrix(m.V.tolist())
        assert mpmath.mnorm(G - mpmath.eye(c.k - 1), 1) < mpmath.mpf(10) ** -48


def test_svd_refuses_parts_of_the_wrong_shape():
    from dataclasses import replace

    s = sel_svd(FIG1)
    with pytest.raises(ValueError):
        replace(s, sigma=s.sigma[:-1])
    with pytest.raises(ValueError):
        replace(s, V=s.V[:, :-1])
