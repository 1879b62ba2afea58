"""seli_exact.metrics: NC1 against Papyan et al.'s definition, plain counts, centring, NC2/NC3 helpers.

Known answers come from routes independent of the code under test: explicit loops over examples
and classes written from the published definitions, a dense numpy SVD of the SEL matrix built
here from Definition 2, and hand-computed small cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from seli_exact import ClassCounts, SeliInputError, from_counts, step
from seli_exact.arithmetic import arithmetic
from seli_exact.metrics import (
    angle_error,
    as_counts,
    centre,
    centred_means,
    class_means,
    cosines,
    cosines_from_gram,
    distances,
    feature_distances,
    fitted_norms,
    gram,
    nc1,
    nc1_basis,
    nc1_from_covariance,
    normalized_distance,
    reference_grams,
    reference_self_duality,
    self_duality,
)
from seli_exact.precision import default_rtol

TOL = 1e3 * default_rtol(arithmetic("float64"))  # ~1e-10: float64 with room for k, d up to ~100


def papyan_nc1(H, y, k, mu_G=None):
    """(1/k) tr(Sigma_W Sigma_B^+) by loops, H (d, n): Papyan et al.; mu_G defaults to the
    balanced mean of class means; the common NC code passes the sample mean of all features."""
    d, n = H.shape
    mu = [H[:, y == c].mean(axis=1) for c in range(k)]
    if mu_G is None:
        mu_G = sum(mu) / k
    sw = np.zeros((d, d))
    for i in range(n):
        v = H[:, i] - mu[y[i]]
        sw += np.outer(v, v)
    sw /= n
    sb = sum(np.outer(m - mu_G, m - mu_G) for m in mu) / k
    return np.trace(sw @ np.linalg.pinv(sb)) / k


def sel_svd_dense(counts):
    """Definition 2 built here: Zhat[c, i] = 1 - 1/k if y_i = c else -1/k; its thin SVD by numpy.

    Returns (sigma (k-1,), V (k, k-1), U_class (k, k-1)) with Zhat^T = U Lam V^T (Theorem 1)."""
    k, y = len(counts), np.repeat(np.arange(len(counts)), counts)
    Z = np.full((k, len(y)), -1.0 / k)
    Z[y, np.arange(len(y))] += 1.0
    U, s, Vt = np.linalg.svd(Z.T, full_matrices=False)  # Zhat^T = U diag(s) Vt
    U, s, V = U[:, : k - 1], s[: k - 1], Vt[: k - 1].T
    first = np.searchsorted(y, np.arange(k))  # first example of each class
    return s, V, U[first]


# --------------------------------------------------------------------------- NC1


@pytest.mark.parametrize("counts, d", [((3, 3, 3), 5), ((40, 7, 3, 1), 6), ((2, 9), 3), ((5, 4, 2), 2)])
def test_nc1_is_papyans_definition_with_the_1_over_k(counts, d):
    rng = np.random.default_rng(sum(counts) + d)
    y = np.repeat(np.arange(len(counts)), counts)
    rng.shuffle(y)
    H = rng.standard_normal((d, len(y))) + 3.0 * rng.standard_normal((d, 1))
    k = len(counts)
    assert nc1(H, y, k) == pytest.approx(papyan_nc1(H, y, k), rel=TOL)
    # "weighted": the global mean of all features, as Zhu et al.'s validate_NC.py uses
    assert nc1(H, y, k, center="weighted") == pytest.approx(
        papyan_nc1(H, y, k, mu_G=H.mean(axis=1)), rel=TOL)


def test_nc1_centerings_agree_on_balanced_data_and_differ_on_imbalanced():
    rng = np.random.default_rng(3)
    y_bal = np.repeat(np.arange(3), 4)
    H = rng.standard_normal((4, 12))
    assert nc1(H, y_bal, 3, center="weighted") == pytest.approx(nc1(H, y_bal, 3), rel=TOL)
    y_imb = np.repeat(np.arange(3), (8, 3, 1))
    a, b = nc1(H, y_imb, 3), nc1(H, y_imb, 3, center="weighted")
    assert abs(a - b) > 1e-3 * abs(a)


def test_nc1_zero_under_collapse_and_batched():
    c = step(4, 10, "1/2", 2)
    y = c.labels()
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 4))
    assert abs(nc1(M[:, y], y, 4)) <= TOL
    Hs = rng.standard_normal((3, 6, c.n))
    batch = nc1(Hs, y, 4)
    for b in range(3):
        assert batch[b] == pytest.approx(papyan_nc1(Hs[b], y, 4), rel=TOL)


def test_nc1_from_covariance_by_hand():
    # Mc = diag(2, 1) in R^2 (k = 2 columns), Sigma_W = diag(4, 9): Sigma_B = diag(2, 0.5),
    # (1/2) tr(Sigma_W Sigma_B^+) = (1/2)(4/2 + 9/0.5) = 10
    assert nc1_from_covariance(np.diag([4.0, 9.0]), np.diag([2.0, 1.0])) == pytest.approx(10.0, rel=TOL)
    # a rank-1 Mc in R^2: only the direction (1, 0) counts; Sigma_B = diag(9/2, 0)
    Mc = np.array([[3.0, 0.0], [0.0, 0.0]])
    assert nc1_from_covariance(np.diag([4.0, 9.0]), Mc) == pytest.approx(0.5 * 4.0 / 4.5, rel=TOL)


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize("plain", [[50, 50, 5, 5], (50, 50, 5, 5), np.array([50, 50, 5, 5]), "50,50,5,5"])
def test_plain_counts_give_the_classcounts_answer(plain):
    c = step(4, 10, "1/2", 5)
    rng = np.random.default_rng(1)
    W, M = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    ref = distances(W, M, c).as_dict()
    assert distances(W, M, plain).as_dict() == ref
    assert all(np.array_equal(a, b) for a, b in zip(reference_grams(plain), reference_grams(c)))
    H = rng.standard_normal((5, c.n))
    assert feature_distances(W, H, c.labels(), plain).as_dict() == \
        feature_distances(W, H, c.labels(), c).as_dict()
    assert as_counts(plain) == ClassCounts((50, 50, 5, 5))


@pytest.mark.parametrize("bad, match", [
    ([5], r"`counts` must name at least 2 classes"),
    ([3, 0, 2], r"every class count must be a whole number >= 1; got '?0'? for class 1"),
    (7, r"`counts` must be a ClassCounts or a list of class sizes; got 7"),
    (None, r"`counts` must be a ClassCounts or a list of class sizes; got None"),
])
def test_bad_plain_counts_are_one_sentence(bad, match):
    with pytest.raises(SeliInputError, match=match):
        distances(np.ones((3, 3)), np.ones((3, 3)), bad)


# --------------------------------------------------------------------------- centring


def test_centring_balanced_weighted_none():
    rng = np.random.default_rng(2)
    M = rng.standard_normal((3, 4))
    n = np.array([5.0, 1.0, 1.0, 3.0])
    assert np.allclose(centre(M).sum(axis=1), 0.0, atol=TOL)
    Mw = centred_means(M, "weighted", [5, 1, 1, 3])
    assert np.allclose(Mw @ n, 0.0, atol=TOL)  # the sample mean sum_c n_c mu_c / n is removed
    assert np.allclose(M - Mw, (M @ n / n.sum())[:, None], atol=TOL)
    assert np.array_equal(centred_means(M, "none", [5, 1, 1, 3]), M)
    with pytest.raises(SeliInputError, match=r"`center` must be one of balanced, weighted, none; got 'global'"):
        centred_means(M, "global", [5, 1, 1, 3])


# --------------------------------------------------------------------------- NC2, NC3, norms


def test_angle_error_by_hand():
    # three unit vectors in the plane at 120 degrees: the k = 3 ETF
    A = np.array([[1.0, -0.5, -0.5], [0.0, math.sqrt(3) / 2, -math.sqrt(3) / 2]])
    etf = np.full((3, 3), -0.5)
    assert angle_error(A, etf) == pytest.approx(0.0, abs=TOL)
    # orthonormal vectors: every off-diagonal cosine is 0, 1/2 away from the ETF's -1/2
    assert angle_error(np.eye(3), etf) == pytest.approx(0.5, rel=TOL)
    np.testing.assert_allclose(cosines(3.0 * A), np.where(np.eye(3, dtype=bool), 1.0, -0.5), atol=TOL)


def test_self_duality_by_hand():
    rng = np.random.default_rng(4)
    M = rng.standard_normal((5, 3))
    assert self_duality(7.0 * M, M) == pytest.approx(0.0, abs=TOL)
    assert self_duality(M, -M) == pytest.approx(2.0, rel=TOL)  # opposite unit matrices
    # orthogonal W and M: sqrt(1 + 1)
    W = np.zeros((5, 3))
    W[3, 0] = 1.0
    Mo = np.zeros((5, 3))
    Mo[0, 0] = 2.0
    assert self_duality(W, Mo) == pytest.approx(math.sqrt(2.0), rel=TOL)


@pytest.mark.parametrize("counts", [(50, 50, 5, 5), (500, 299, 179, 107, 64, 38, 23, 13, 8, 5), (4, 4, 4)])
def test_reference_self_duality_against_a_dense_svd_factorization(counts):
    s, V, U_class = sel_svd_dense(counts)
    # closed form from the singular values: tr V Lam V^T = sum s, tr V Lam^-1 V^T = sum 1/s
    k = len(counts)
    closed = math.sqrt(max(0.0, 2 - 2 * (k - 1) / math.sqrt(s.sum() * (1 / s).sum())))
    assert reference_self_duality(list(counts)) == pytest.approx(closed, rel=1e-9, abs=1e-7)
    # and a Theorem 1 (iii) factorization built from the dense SVD
    R = np.linalg.qr(np.random.default_rng(0).standard_normal((k + 2, k - 1)))[0].T  # (k-1, d)
    W = R.T @ (np.sqrt(s)[:, None] * V.T)
    M = R.T @ (np.sqrt(s)[:, None] * U_class.T)
    assert self_duality(W, M) == pytest.approx(closed, rel=1e-9, abs=1e-7)


def test_fitted_norms_by_hand():
    s, r = fitted_norms([2.0, 4.0], [1.0, 2.0])
    assert (s, r) == (pytest.approx(2.0), pytest.approx(0.0, abs=TOL))
    # m = (1, 3) against equal norms: s = 2, residual ||(-1, 1)|| / ||(1, 3)|| = sqrt(2/10)
    s, r = fitted_norms([1.0, 3.0], [1.0, 1.0])
    assert s == pytest.approx(2.0) and r == pytest.approx(math.sqrt(0.2), rel=TOL)


def test_class_means_layout_is_columns():
    H = np.array([[1.0, 3.0, 10.0], [0.0, 2.0, -4.0]])  # (d=2, n=3)
    np.testing.assert_allclose(class_means(H, np.array([0, 0, 1]), 2), [[2.0, 10.0], [1.0, -4.0]])
    assert from_counts([2, 1]).counts == (2, 1)


def test_class_means_refuses_labels_that_are_not_one_per_column():
    H = np.arange(6.0).reshape(2, 3)
    for y in (np.array([[0], [1], [1]]), np.array([[0, 1, 1]]), np.array(0), np.array([0, 1])):
        with pytest.raises(SeliInputError, match="one label per column of H"):
            class_means(H, y, 2)
    with pytest.raises(SeliInputError, match=r"classes \[2\] have none"):
        class_means(H, np.array([0, 1, 1]), 3)


# ---------------------------------------------------------------- inputs of any numeric type
def _objects(A):
    """The same numbers as an object array of Fractions (what exact geometries hold)."""
    from fractions import Fraction

    return np.vectorize(lambda x: Fraction(float(x)), otypes=[object])(np.asarray(A))


def test_metrics_read_object_and_integer_arrays_as_float64():
    """Exact geometries hold Fractions or SymPy numbers; every metric reads its inputs as float64,
    so an exact input gives the float answer, not an error or an object array."""
    rng = np.random.default_rng(3)
    c = from_counts([5, 3, 3, 1])
    W, M, G = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((4, 4))
    G = G @ G.T
    calls = [
        (normalized_distance, (W.T @ W, G)),
        (gram, (W,)),
        (lambda A, w: centre(A, w), (M, np.array([5.0, 3.0, 3.0, 1.0]))),
        (lambda A: centred_means(A, "none", c), (M,)),
        (cosines_from_gram, (G,)),
        (lambda A, T: angle_error(A, T), (W, cosines_from_gram(G))),
        (self_duality, (W, M)),
        (lambda m, p: fitted_norms(m, p)[0], (np.array([1.0, 3.0]), np.array([1.0, 2.0]))),
        (lambda A, B: distances(A, B, c).seli.classifiers, (W, M)),
        (lambda A: nc1_basis(A)[1], (M - M.mean(axis=1, keepdims=True),)),
    ]
    for f, args in calls:
        want = np.asarray(f(*args), dtype=float)
        got = f(*(_objects(a) for a in args))
        assert np.asarray(got).dtype == np.float64, f
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


def test_batched_metrics_are_per_matrix():
    """Batch axes are independent runs: a stacked call equals one call per matrix (every norm
    is over the last two axes only)."""
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 5, 4))
    A[1] *= 7.0  # different scales per run
    G, T = gram(A), gram(B)
    stacked = {"normalized_distance": normalized_distance(G, T), "self_duality": self_duality(A, B),
               "cosines_from_gram": cosines_from_gram(G), "angle_error": angle_error(A, cosines_from_gram(T))}
    for idx in np.ndindex(2, 3):
        one = {"normalized_distance": normalized_distance(G[idx], T[idx]),
               "self_duality": self_duality(A[idx], B[idx]),
               "cosines_from_gram": cosines_from_gram(G[idx]),
               "angle_error": angle_error(A[idx], cosines_from_gram(T[idx]))}
        for key, value in one.items():
            np.testing.assert_allclose(stacked[key][idx], value, rtol=1e-13, err_msg=key)


def test_distances_refuse_mismatched_feature_dimensions():
    c = from_counts([5, 3, 3, 1])
    with pytest.raises(SeliInputError):
        distances(np.ones((5, 4)), np.ones((6, 4)), c)


def test_nc1_basis_of_zero_means_keeps_no_direction():
    """Class means all exactly equal: Sigma_B = 0 and Sigma_B^+ = 0, so no direction is kept
    (weights 0, not 1/0)."""
    U, w = nc1_basis(np.zeros((3, 3)))
    assert U.shape == (3, 3) and np.all(w == 0)
    y = np.array([0, 0, 1, 1, 2, 2])
    H = np.array([[1.0, -1.0, 2.0, -2.0, 0.5, -0.5]])  # every class mean exactly 0
    assert nc1(H, y, 3) == 0.0


@pytest.mark.parametrize("bad", [b"\x05\x05", {5: 1, 3: 2}, {5, 3}, None, 5])
def test_as_counts_refuses_what_is_not_a_list_of_sizes(bad):
    with pytest.raises(SeliInputError, match="`counts` must be a ClassCounts or a list"):
        as_counts(bad)


def test_distances_as_dict_is_plain_numbers_by_geometry():
    c = from_counts([5, 3, 3, 1])
    rng = np.random.default_rng(6)
    got = distances(rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), c)
    d = got.as_dict()
    assert set(d) == {"seli", "etf"}
    for g in ("seli", "etf"):
        for o in ("classifiers", "embeddings", "logits"):
            assert d[g][o] == float(getattr(getattr(got, g), o))
