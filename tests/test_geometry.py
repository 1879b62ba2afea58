"""SELI / ETF geometry and the metric library."""

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from seli_exact import (
    SeliInputError, class_means, distances, etf_geometry, factorize, feature_distances, from_counts,
    nc1, normalized_distance, sel_matrix, sel_svd, seli_geometry, step,
)

from .strategies import any_counts, step_counts

FIG1 = step(4, 10, "1/2", 5)


@given(any_counts(max_k=15, max_count=80), st.integers(0, 3), st.integers(0, 2**32 - 1))
@example(FIG1, 0, 1)
def test_factorization_realizes_theorem1(c, extra_d, seed):
    """Theorem 1 (i)-(iii) on the factorization, checked against the dense SEL matrix."""
    s = sel_svd(c)
    g = seli_geometry(c, svd=s)
    W, M = factorize(s, c.k - 1 + extra_d, seed)
    H = M[:, c.labels()]
    Z = sel_matrix(c)
    scale = s.sigma[0]
    np.testing.assert_allclose(W.T @ H, Z, atol=1e-12 * scale)  # (i) logits = SEL matrix
    np.testing.assert_allclose(W.T @ W, g.W_gram, atol=1e-12 * scale)  # (ii)
    np.testing.assert_allclose(M.T @ M, g.M_gram, atol=1e-12)
    # p* = ||Zhat||_* = ||W||_F^2 = ||H||_F^2
    nuc = np.linalg.svd(Z, compute_uv=False).sum()
    np.testing.assert_allclose([np.sum(W**2), np.sum(H**2), g.nuclear_norm], nuc, rtol=1e-12)
    # margins all equal to 1
    margins = (Z[c.labels(), np.arange(c.n)][None, :] - Z)
    off = np.ones_like(Z, dtype=bool)
    off[c.labels(), np.arange(c.n)] = False
    np.testing.assert_allclose(margins[off], 1.0, atol=1e-12)


def test_fig1_against_paper_eq4_and_lemma31():
    """Eq. (4) and Lemma 3.1 as printed in the paper, at the Fig 1 case."""
    g = seli_geometry(FIG1)
    k, R = 4, 10.0
    q = math.sqrt((R + 1) / 2)
    cos_maj = (-2 * math.sqrt(R) + q) / ((k - 2) * math.sqrt(R) + q)
    cos_min = (-2 + q) / (k - 2 + q)
    assert g.classifier_cosines[0, 1] == pytest.approx(cos_maj, rel=1e-14)
    assert g.classifier_cosines[2, 3] == pytest.approx(cos_min, rel=1e-14)
    w_ratio = ((1 - 2 / k) * math.sqrt(R) + q / k) / ((1 - 2 / k) + q / k)
    h_ratio = ((1 - 2 / k) / math.sqrt(R) + 1 / (k * q)) / ((1 - 2 / k) + 1 / (k * q))
    assert g.W_gram[0, 0] / g.W_gram[2, 2] == pytest.approx(w_ratio, rel=1e-14)
    assert g.M_gram[0, 0] / g.M_gram[2, 2] == pytest.approx(h_ratio, rel=1e-14)


@given(st.integers(2, 12), st.integers(1, 20))
def test_seli_equals_etf_when_balanced(k, n_min):
    g = seli_geometry(from_counts([n_min] * k))
    e = etf_geometry(k)
    # Corollary 1.3: up to the scale alpha, SELI is ETF
    np.testing.assert_allclose(g.W_gram / math.sqrt(n_min), e.W_gram, atol=1e-14)
    np.testing.assert_allclose(g.M_gram * math.sqrt(n_min), e.M_gram, atol=1e-14)
    np.testing.assert_allclose(g.logits, e.logits, atol=1e-14)


@given(st.integers(1, 50), st.integers(1, 50))
def test_seli_equals_etf_for_two_classes(a, b):
    g = seli_geometry(from_counts([a, b]))
    e = etf_geometry(2)
    assert normalized_distance(g.W_gram, e.W_gram) <= 1e-14
    assert normalized_distance(g.M_gram, e.M_gram) <= 1e-14


def test_exact_seli_equals_etf_exactly():
    import sympy

    for counts in ([3, 3, 3], [7, 2]):
        g = seli_geometry(from_counts(counts), "exact")
        e = etf_geometry(len(counts), "exact")
        ratio = g.W_gram[0, 0] / e.W_gram[0, 0]
        for x, y in zip(g.W_gram.ravel(), e.W_gram.ravel()):
            assert sympy.simplify(x - ratio * y) == 0


@given(step_counts(max_k=12))
def test_metrics_zero_on_seli_positive_on_etf(c):
    s = sel_svd(c)
    W, M = factorize(s, c.k + 1, seed=3)
    d = distances(W, M, c)
    assert d.seli.classifiers <= 1e-12 and d.seli.embeddings <= 1e-12 and d.seli.logits <= 1e-12
    imbalanced = not c.is_balanced and c.k > 2
    if imbalanced:
        assert d.etf.classifiers > 1e-6 and d.etf.embeddings > 1e-6
    else:
        assert d.etf.classifiers <= 1e-12 and d.etf.embeddings <= 1e-12


def test_metrics_on_etf_configuration_and_batches():
    c = FIG1
    rng = np.random.default_rng(0)
    e = etf_geometry(4)
    # an exact ETF: W = M = columns of P embedded in R^4
    P = np.eye(4) - 1 / 4
    d_etf = distances(P * 3.0, P * 0.5, c)
    assert d_etf.etf.classifiers <= 1e-15 and d_etf.etf.embeddings <= 1e-15
    assert d_etf.seli.classifiers > 0.05 and d_etf.seli.embeddings > 0.05
    # batch axes: the same numbers as one call each
    Ws = rng.standard_normal((3, 5, 4))
    Ms = rng.standard_normal((3, 5, 4))
    batch = distances(Ws, Ms, c)
    for b in range(3):
        one = distances(Ws[b], Ms[b], c)
        assert batch.seli.classifiers[b] == pytest.approx(one.seli.classifiers, rel=1e-14)
        assert batch.etf.embeddings[b] == pytest.approx(one.etf.embeddings, rel=1e-14)


def test_normalized_distance_by_hand():
    A = np.array([[2.0, 0.0], [0.0, 0.0]])
    B = np.array([[0.0, 0.0], [0.0, 5.0]])
    assert normalized_distance(A, B) == pytest.approx(math.sqrt(2))
    assert normalized_distance(A, 7 * A) == 0.0


def test_centring_and_nc1():
    c = FIG1
    s = sel_svd(c)
    W, M = factorize(s, 6, seed=0)
    H = M[:, c.labels()]
    # SELI class means already sum to zero (U^T 1 = 0), so centring changes nothing
    d0 = feature_distances(W, H, c.labels(), c)
    d1 = feature_distances(W, H + 0.0, c.labels(), c, centred=True)
    assert d0.seli.embeddings == pytest.approx(d1.seli.embeddings, abs=1e-12)
    assert nc1(H, c.labels(), 4) == pytest.approx(0.0, abs=1e-20)
    # a shifted copy: centring removes the common offset, the uncentred metric sees it
    shifted = H + 5.0 * np.ones((6, 1))
    assert feature_distances(W, shifted, c.labels(), c, centred=True).seli.embeddings <= 1e-12
    assert feature_distances(W, shifted, c.labels(), c).seli.embeddings > 0.1
    noisy = H + 0.1 * np.random.default_rng(1).standard_normal(H.shape)
    assert nc1(noisy, c.labels(), 4) > 1e-4


def test_nc1_against_definition():
    rng = np.random.default_rng(2)
    y = np.array([0, 0, 1, 1, 1, 2])
    H = rng.standard_normal((3, 6))
    mu = np.stack([H[:, y == c].mean(axis=1) for c in range(3)], axis=1)
    sw = sum(np.outer(H[:, i] - mu[:, y[i]], H[:, i] - mu[:, y[i]]) for i in range(6)) / 6
    g = mu.mean(axis=1)
    sb = sum(np.outer(mu[:, c] - g, mu[:, c] - g) for c in range(3)) / 3
    expected = np.trace(sw @ np.linalg.pinv(sb)) / 3  # Papyan et al.: (1/k) tr(Sigma_W Sigma_B^+)
    assert nc1(H, y, 3) == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(class_means(H, y, 3), mu)


def test_metric_input_errors():
    with pytest.raises(SeliInputError, match=r"`W` and `M` must both be \(d, 4\)"):
        distances(np.ones((3, 3)), np.ones((3, 4)), FIG1)
    with pytest.raises(SeliInputError, match=r"classes \[2\] have none"):
        class_means(np.ones((2, 3)), np.array([0, 1, 1]), 3)
    with pytest.raises(SeliInputError, match=r"`d` must be at least 3"):
        factorize(sel_svd(FIG1), 2)


def test_H_gram_is_U_Lam_U():
    c = from_counts([3, 1, 2])
    s = sel_svd(c)
    U = s.U()
    g = seli_geometry(c, svd=s)
    np.testing.assert_allclose(g.H_gram(), U @ np.diag(s.sigma) @ U.T, atol=1e-14)


def test_alignment_fig1():
    g = seli_geometry(FIG1)
    # Fig 1a: classifiers are not aligned with class means under imbalance; ETF: aligned
    assert np.all(g.alignment < 1 - 1e-3)
    np.testing.assert_allclose(etf_geometry(4).alignment, 1.0, rtol=1e-15)


@pytest.mark.parametrize("arith", ["float64", "exact"])
def test_etf_geometry_from_k_and_from_counts(arith):
    """Corollary 1.3's ETF written out: name, singular values all 1 (k - 1 of them), G_W = G_M =
    W^T M = I - 11^T/k, with the counts it was given (or k classes of count 1)."""
    c = from_counts([5, 3, 3, 1])
    for arg, counts in ((4, (1, 1, 1, 1)), (c, c.counts)):
        e = etf_geometry(arg, arith)
        assert e.name == "ETF" and e.counts.counts == counts and e.k == 4
        assert list(e.singular_values) == [1, 1, 1]
        P = np.eye(4) - np.ones((4, 4)) / 4
        for G in (e.W_gram, e.M_gram, e.logits):
            assert np.max(np.abs(np.asarray(G, dtype=float) - P)) <= 1e-15
        assert e.W_gram is not e.M_gram and e.M_gram is not e.logits  # independent copies
        assert e.nuclear_norm == 3
    assert etf_geometry(4, "mpmath", 40).arithmetic.digits == 40
    with pytest.raises(SeliInputError, match="`k`"):
        etf_geometry(1)


def test_factorize_is_reproducible_by_seed():
    """The rotation R is drawn from `seed` (default 0): same seed, same W and M; another seed, a
    rotation of them (same Grams); d is checked against Theorem 1's d >= k - 1."""
    s = sel_svd(FIG1)
    W0, M0 = factorize(s, 5)
    W1, M1 = factorize(s, 5, seed=0)
    np.testing.assert_array_equal(W0, W1)
    np.testing.assert_array_equal(M0, M1)
    W2, M2 = factorize(s, 5, seed=1)
    assert np.max(np.abs(W2 - W0)) > 1e-3
    np.testing.assert_allclose(W2.T @ W2, W0.T @ W0, atol=1e-12)
    np.testing.assert_allclose(M2.T @ M2, M0.T @ M0, atol=1e-12)
    with pytest.raises(SeliInputError, match=r"d >= k - 1 = 3"):
        factorize(s, 2)


def test_seli_geometry_names_routes_and_precision():
    c = from_counts([5, 3, 3, 1])
    g = seli_geometry(c, "mpmath", 40)
    assert g.name == "SELI" and g.route == "secular" and g.arithmetic.digits == 40
    for route in ("dense", "integral"):
        h = seli_geometry(c, "mpmath", 45, route=route)  # not mpmath's default of 30 digits
        assert h.name == "SELI" and h.route == route and h.arithmetic.digits == 45
        assert type(h.logits[0, 0]).__name__ == "mpf"  # W^T M = P in the route's arithmetic
        np.testing.assert_allclose(h.to_float().M_gram, g.to_float().M_gram, atol=1e-12)
    with pytest.raises(SeliInputError, match=r"`route` must be one of secular, dense, integral; got 'qr'"):
        seli_geometry(c, route="qr")
    with pytest.raises(SeliInputError, match="`svd` is the secular route's input"):
        seli_geometry(c, svd=sel_svd(c), route="dense")
    s = sel_svd(c, "mpmath", 35)  # a given svd is used as it is
    assert seli_geometry(c, svd=s).arithmetic.digits == 35


def test_to_float_keeps_everything_but_the_arithmetic():
    c = from_counts([5, 3, 3, 1])
    g = seli_geometry(c, "mpmath", 30, route="integral")
    f = g.to_float()
    assert {"target_rel", "G_M_rel", "nodes"} <= set(g.error)  # the integral route's error control
    assert (f.name, f.counts, f.route, f.error) == (g.name, g.counts, g.route, g.error)
    assert f.error is not g.error and f.arithmetic.name == "float64"
    for a, b in ((f.singular_values, g.singular_values), (f.W_gram, g.W_gram),
                 (f.M_gram, g.M_gram), (f.logits, g.logits)):
        assert np.asarray(a).dtype == np.float64
        np.testing.assert_allclose(a, np.asarray(b, dtype=float), rtol=1e-15)


def test_geometry_refuses_matrices_of_the_wrong_shape():
    from seli_exact.geometry import Geometry

    g = seli_geometry(FIG1)
    for label in ("W_gram", "M_gram", "logits"):
        parts = {"W_gram": g.W_gram, "M_gram": g.M_gram, "logits": g.logits, label: np.eye(3)}
        with pytest.raises(ValueError, match=rf"Geometry.{label} has shape \(3, 3\), expected \(4, 4\)"):
            Geometry("SELI", g.counts, g.arithmetic, g.singular_values, parts["W_gram"],
                     parts["M_gram"], parts["logits"])
